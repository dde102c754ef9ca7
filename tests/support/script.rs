//! A scripted [`Prompter`] for the builder's tests: the questions a user
//! expects, in order, each with the kind of prompt and the answer. It panics
//! on a question it did not expect (another path, another kind of prompt) or
//! when it runs out, records warnings and notes, and [`Script::finish`]
//! checks every step was used.

#![allow(dead_code)]

use std::collections::VecDeque;

use commander::prompt::{Prompter, Question, Reply};

pub use Answer::{Enter, No, Pick, Quit, Text, Yes};

// ---------------------------------------------------------------------------
// the scripted prompter
// ---------------------------------------------------------------------------

/// The kind of prompt a step expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Text,
    Select,
    Confirm,
}

/// What the user answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// Types this and presses Enter (text prompts).
    Text(&'a str),
    /// Enter on an empty line: [`Reply::Skip`].
    Enter,
    /// Picks the item that is this or starts with it (selects).
    Pick(&'a str),
    Yes,
    No,
    /// Esc or Ctrl-C.
    Quit,
}

#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub ask: Ask,
    pub path: String,
    pub answer: Answer<'a>,
}

pub fn text<'a>(path: impl Into<String>, answer: Answer<'a>) -> Step<'a> {
    Step {
        ask: Ask::Text,
        path: path.into(),
        answer,
    }
}

pub fn select<'a>(path: impl Into<String>, answer: Answer<'a>) -> Step<'a> {
    Step {
        ask: Ask::Select,
        path: path.into(),
        answer,
    }
}

pub fn confirm<'a>(path: impl Into<String>, answer: Answer<'a>) -> Step<'a> {
    Step {
        ask: Ask::Confirm,
        path: path.into(),
        answer,
    }
}

/// One question the builder asked, as the user saw it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub q: Question,
    /// The items of a select.
    pub items: Vec<String>,
    /// The preselected item of a select.
    pub preselected: Option<usize>,
    /// The default of a confirm.
    pub default_yes: Option<bool>,
}

pub struct Script<'a> {
    pub steps: VecDeque<Step<'a>>,
    pub used: usize,
    pub asked: Vec<Asked>,
    /// (path of the question just answered, why it was refused)
    pub warnings: Vec<(String, String)>,
    pub said: Vec<String>,
    pub finished: bool,
}

impl<'a> Script<'a> {
    pub fn new(steps: Vec<Step<'a>>) -> Self {
        Script {
            steps: steps.into(),
            used: 0,
            asked: Vec::new(),
            warnings: Vec::new(),
            said: Vec::new(),
            finished: false,
        }
    }

    /// Checks every step was used.
    #[track_caller]
    pub fn finish(&mut self) {
        self.finished = true;
        assert!(
            self.steps.is_empty(),
            "the builder stopped asking after {} step(s); never asked:\n{}",
            self.used,
            self.steps
                .iter()
                .map(|s| format!("  {:?} {} -> {:?}", s.ask, s.path, s.answer))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// The last question asked at `path`.
    #[track_caller]
    pub fn asked(&self, path: &str) -> &Asked {
        self.asked
            .iter()
            .rev()
            .find(|a| a.q.path == path)
            .unwrap_or_else(|| panic!("'{path}' was never asked"))
    }

    /// How many times `path` was asked.
    pub fn times_asked(&self, path: &str) -> usize {
        self.asked.iter().filter(|a| a.q.path == path).count()
    }

    /// The warnings shown after answers at `path`.
    pub fn warnings_at(&self, path: &str) -> Vec<&str> {
        self.warnings
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, w)| w.as_str())
            .collect()
    }

    pub fn next(&mut self, ask: Ask, q: &Question, items: &[String]) -> Answer<'a> {
        let what = format!(
            "{ask:?} prompt '{}' ({}; {}){}",
            q.path,
            q.kind,
            q.hint,
            if items.is_empty() {
                String::new()
            } else {
                format!(" with items {items:?}")
            }
        );
        let Some(step) = self.steps.pop_front() else {
            panic!(
                "the script ran out after {} step(s), but the builder asked a {what}",
                self.used
            );
        };
        assert!(
            step.ask == ask && step.path == q.path,
            "script step {} expected a {:?} prompt for '{}', but the builder asked a {what}",
            self.used + 1,
            step.ask,
            step.path
        );
        self.used += 1;
        step.answer
    }

    #[track_caller]
    pub fn misfit(&self, answer: Answer<'_>, ask: Ask, q: &Question) -> ! {
        panic!(
            "script step {}: {answer:?} does not answer a {ask:?} prompt ('{}')",
            self.used, q.path
        )
    }
}

/// The item `pick` names: equal to it, or `pick` then a space (`ON` is
/// `ON (3)`, not `OFF (1)`), else the one item starting with it.
pub fn find_item(pick: &str, items: &[String], path: &str) -> usize {
    if let Some(i) = items
        .iter()
        .position(|it| it == pick || it.starts_with(&format!("{pick} ")))
    {
        return i;
    }
    let starting: Vec<usize> = (0..items.len())
        .filter(|i| items[*i].starts_with(pick))
        .collect();
    match starting.as_slice() {
        [one] => *one,
        [] => panic!("'{path}' has no item starting with '{pick}': {items:?}"),
        _ => panic!("'{pick}' is ambiguous at '{path}': {items:?}"),
    }
}

impl Prompter for Script<'_> {
    fn text(&mut self, q: &Question) -> anyhow::Result<Reply<String>> {
        let answer = self.next(Ask::Text, q, &[]);
        self.asked.push(Asked {
            q: q.clone(),
            items: Vec::new(),
            preselected: None,
            default_yes: None,
        });
        Ok(match answer {
            Text(t) => Reply::Value(t.to_owned()),
            Enter => Reply::Skip,
            Quit => Reply::Quit,
            other => self.misfit(other, Ask::Text, q),
        })
    }

    fn select(
        &mut self,
        q: &Question,
        items: &[String],
        default: usize,
    ) -> anyhow::Result<Reply<usize>> {
        let answer = self.next(Ask::Select, q, items);
        assert!(
            default < items.len(),
            "'{}' preselects item {default} of {}",
            q.path,
            items.len()
        );
        self.asked.push(Asked {
            q: q.clone(),
            items: items.to_vec(),
            preselected: Some(default),
            default_yes: None,
        });
        Ok(match answer {
            Pick(p) => Reply::Value(find_item(p, items, &q.path)),
            Enter => Reply::Skip,
            Quit => Reply::Quit,
            other => self.misfit(other, Ask::Select, q),
        })
    }

    fn confirm(&mut self, q: &Question, default: bool) -> anyhow::Result<Reply<bool>> {
        let answer = self.next(Ask::Confirm, q, &[]);
        self.asked.push(Asked {
            q: q.clone(),
            items: Vec::new(),
            preselected: None,
            default_yes: Some(default),
        });
        Ok(match answer {
            Yes => Reply::Value(true),
            No => Reply::Value(false),
            Enter => Reply::Skip,
            Quit => Reply::Quit,
            other => self.misfit(other, Ask::Confirm, q),
        })
    }

    fn warn(&mut self, why: &str) {
        let path = self
            .asked
            .last()
            .map(|a| a.q.path.clone())
            .unwrap_or_default();
        self.warnings.push((path, why.to_owned()));
    }

    fn say(&mut self, what: &str) {
        self.said.push(what.to_owned());
    }
}

impl Drop for Script<'_> {
    fn drop(&mut self) {
        if !self.finished && !std::thread::panicking() {
            panic!("a test forgot Script::finish()");
        }
    }
}
