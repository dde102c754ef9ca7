//! The [`Prompter`] for a person at a terminal, with dialoguer.
//!
//! Every prompt shows the field path and type. Enter on an empty line skips
//! (or keeps the value shown); lists filter as you type; Esc in a list or
//! Ctrl-C anywhere leaves, with the cursor restored.

use std::io;

use anyhow::Result;
use dialoguer::console;
use dialoguer::theme::ColorfulTheme;
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
        let mut input = Input::<String>::with_theme(&self.theme)
            .with_prompt(label(q))
            .allow_empty(true)
            .report(true);
        // Enter keeps the value shown (and the line reports it).
        if let Some(d) = &q.default {
            input = input.default(d.clone()).show_default(true);
        }
        let answer = input.interact_text();
        Ok(match quit_or(answer)? {
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
