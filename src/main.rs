use std::process::ExitCode;

use clap::Parser;
use commander::cli::Cli;

fn main() -> ExitCode {
    commander::install_panic_hook();
    // A seam for the test that a panic is reported as an error, not a backtrace.
    if std::env::var_os("COMMANDER_TEST_PANIC").is_some() {
        panic!("COMMANDER_TEST_PANIC is set");
    }
    let cli = Cli::parse(); // usage errors: clap prints them and exits 2
    match commander::run(cli) {
        Ok(code) => code,
        Err(err) => commander::report(&err),
    }
}
