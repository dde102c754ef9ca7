use std::process::ExitCode;

use clap::Parser;
use commander::cli::Cli;

fn main() -> ExitCode {
    commander::install_panic_hook();
    let cli = Cli::parse(); // usage errors: clap prints them and exits 2
    match commander::run(cli) {
        Ok(code) => code,
        Err(err) => commander::report(&err),
    }
}
