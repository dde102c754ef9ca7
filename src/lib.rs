//! commander: Protocol Buffers at run time for people who talk to devices.
//!
//! Schemas are loaded from descriptor sets or `.proto` files when the program
//! runs ([`schema`]); messages are encoded canonically ([`wire`]), decoded and
//! rendered as tables, JSON or text ([`render`]), or read without any schema
//! ([`codec::raw`]). The binary is a thin layer over [`run`].

pub mod cli;
pub mod cmd;
pub mod codec;
pub mod editions;
pub mod model;
pub mod profile;
pub mod prompt;
pub mod render;
pub mod schema;
pub mod sim;
pub mod transport;
pub mod value;
pub mod web;
pub mod wire;

/// MQTT, where it has always been reachable.
pub use transport::mqtt;

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
    QUIET.store(cli.schema.quiet, std::sync::atomic::Ordering::Relaxed);
    cmd::run(cli)
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-q`: leave out notes on stderr.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Makes a panic (a bug: every expected failure is an error value) print
/// `error: internal error: ...` and how to report it, and exit with status 1,
/// instead of Rust's message and backtrace.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected failure".to_owned());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error: {what}{at}\n  \
             this is a bug in commander {}: please report it with the command line \
             and the input that caused it",
            env!("CARGO_PKG_VERSION")
        );
        std::process::exit(1);
    }));
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
