//! commander: Protocol Buffers at run time for people who talk to devices.
//!
//! Schemas are loaded from descriptor sets or `.proto` files when the program
//! runs ([`schema`]); messages are encoded canonically ([`wire`]), decoded and
//! rendered as tables, JSON or text ([`render`]), or read without any schema
//! ([`codec::raw`]). The binary is a thin layer over [`run`].

pub mod cli;
pub mod cmd;
pub mod codec;
pub mod mqtt;
pub mod profile;
pub mod prompt;
pub mod render;
pub mod schema;
pub mod value;
pub mod wire;

use std::fmt;
use std::io;
use std::process::ExitCode;

/// An error in how commander was called (exit status 2), as opposed to a
/// failure while doing the work (exit status 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs one parsed command line; `Ok` carries the exit status (1 when a
/// stream had bad items that were reported and skipped).
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    cmd::run(cli)
}

/// Prints `error: ...` with the cause chain to stderr and picks the exit
/// status: 2 for usage errors, 0 for a closed output pipe, else 1.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    eprintln!("{}", format_error(err));
    if err
        .chain()
        .any(|e| e.downcast_ref::<UsageError>().is_some())
    {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// `error: WHAT` then one `caused by:` line per cause.
pub fn format_error(err: &anyhow::Error) -> String {
    let mut out = format!("error: {err}");
    for cause in err.chain().skip(1) {
        out.push_str(&format!("\n  caused by: {cause}"));
    }
    out
}

/// `commander ... | head` must end quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
