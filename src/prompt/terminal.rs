//! The [`Prompter`] for a person at a terminal, with dialoguer.
//!
//! Every prompt shows the field path and type. Enter on an empty line skips
//! (or keeps the value shown); lists filter as you type; Esc in a list or
//! Ctrl-C anywhere leaves, with the cursor restored.

use std::io;

use anyhow::Result;
use dialoguer::console;
use dialoguer::theme::{ColorfulTheme, Theme};
use dialoguer::{Confirm, FuzzySelect, Input};

use super::{Prompter, Question, Reply};

pub struct TerminalPrompter {
    theme: ColorfulTheme,
}

impl Default for TerminalPrompter {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalPrompter {
    pub fn new() -> Self {
        TerminalPrompter {
            theme: ColorfulTheme::default(),
        }
    }
}

/// `path (kind) hint`, without the hint when the line (with the default
/// shown after it) would not fit the terminal: a wrapped prompt leaves its
/// first rows behind.
fn label(q: &Question) -> String {
    let short = format!("{} ({})", q.path, q.kind);
    if q.hint.is_empty() {
        return short;
    }
    let long = format!("{short} {}", q.hint);
    let width = usize::from(console::Term::stderr().size().1);
    let default = q.default.as_ref().map_or(0, |d| d.chars().count() + 3);
    if long.chars().count() + default + 6 <= width {
        long
    } else {
        short
    }
}

/// Esc and Ctrl-C: leave. Other I/O errors are real errors.
fn quit_or<T>(r: std::result::Result<T, dialoguer::Error>) -> Result<Reply<T>> {
    match r {
        Ok(v) => Ok(Reply::Value(v)),
        Err(dialoguer::Error::IO(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(Reply::Quit),
        Err(e) => Err(e.into()),
    }
}

impl Prompter for TerminalPrompter {
    fn text(&mut self, q: &Question) -> Result<Reply<String>> {
        let term = console::Term::stderr();
        let label = label(q);
        // The answered line is written here, not by dialoguer: it clears
        // only the last row of a prompt, and a long answer in a narrow
        // terminal wraps the prompt over several.
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(&label)
            .allow_empty(true)
            .report(false);
        // Enter keeps the value shown.
        if let Some(d) = &q.default {
            input = input.default(d.clone()).show_default(true);
        }
        let answer = quit_or(input.interact_text_on(&term))?;
        if let Reply::Value(value) = &answer {
            let mut prompt = String::new();
            let _ = self
                .theme
                .format_input_prompt(&mut prompt, &label, q.default.as_deref());
            // Enter on a default leaves nothing typed.
            let typed = if q.default.as_ref() == Some(value) {
                ""
            } else {
                value.as_str()
            };
            let width = console::measure_text_width(&prompt) + console::measure_text_width(typed);
            let cols = usize::from(term.size().1).max(1);
            let rows = width.div_ceil(cols).max(1);
            if rows > 1 {
                term.clear_last_lines(rows - 1)?;
            }
            let mut done = String::new();
            let _ = self
                .theme
                .format_input_prompt_selection(&mut done, &label, value);
            term.write_line(&done)?;
        }
        Ok(match answer {
            Reply::Value(s) if s.is_empty() => Reply::Skip,
            other => other,
        })
    }

    fn select(&mut self, q: &Question, items: &[String], default: usize) -> Result<Reply<usize>> {
        // Every list filters as you type.
        let answer = FuzzySelect::with_theme(&self.theme)
            .with_prompt(label(q))
            .items(items)
            .default(default)
            .max_length(12)
            .interact_opt();
        Ok(match quit_or(answer)? {
            Reply::Value(Some(i)) => Reply::Value(i),
            Reply::Value(None) => Reply::Quit, // Esc
            Reply::Skip => Reply::Skip,
            Reply::Quit => Reply::Quit,
        })
    }

    fn confirm(&mut self, q: &Question, default: bool) -> Result<Reply<bool>> {
        let answer = Confirm::with_theme(&self.theme)
            .with_prompt(label(q))
            .default(default)
            .interact_opt();
        Ok(match quit_or(answer)? {
            Reply::Value(Some(b)) => Reply::Value(b),
            Reply::Value(None) => Reply::Quit,
            Reply::Skip => Reply::Skip,
            Reply::Quit => Reply::Quit,
        })
    }

    fn warn(&mut self, why: &str) {
        eprintln!("  ✗ {why}");
    }

    fn say(&mut self, what: &str) {
        eprintln!("{what}");
    }
}
