//! `commander completions` and `commander man`, rendered from the clap
//! definition (also checked in under `completions/` and `man/`).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::UsageError;
use crate::cli::Cli;

pub fn completions(shell: Shell) -> Result<ExitCode> {
    io::stdout()
        .lock()
        .write_all(&completion_script(shell))
        .map_err(super::output_error)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(command: Option<&str>) -> Result<ExitCode> {
    let page = man_page(command)?;
    io::stdout()
        .lock()
        .write_all(&page)
        .map_err(super::output_error)?;
    Ok(ExitCode::SUCCESS)
}

pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "commander", &mut out);
    out
}

/// The subcommands that get a page of their own (`commander-NAME.1`).
pub fn man_page_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_owned())
        .collect()
}

/// The main page, or a subcommand's page.
pub fn man_page(command: Option<&str>) -> Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page_cmd = match command {
        None => cmd,
        Some(name) => {
            let sub = cmd.find_subcommand(name).cloned().ok_or_else(|| {
                UsageError(format!(
                    "no subcommand '{name}'; pages exist for: {}",
                    man_page_names().join(", ")
                ))
            })?;
            sub.name(format!("commander-{name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page_cmd)
        .render(&mut out)
        .map_err(|e| anyhow!("cannot render the man page: {e}"))?;
    Ok(exit_status_section(out))
}

/// clap_mangen puts the text after the options (the exit statuses, see
/// `cli::EXIT_STATUS`) in a section titled EXTRA; man pages call it EXIT
/// STATUS, with one tagged paragraph per status.
fn exit_status_section(page: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&page);
    let Some(start) = text.find(".SH EXTRA\n") else {
        return page;
    };
    let end = text[start + 1..]
        .find("\n.SH ")
        .map_or(text.len(), |i| start + 1 + i + 1);
    let mut section = String::from(".SH \"EXIT STATUS\"\n");
    for line in crate::cli::EXIT_STATUS.lines().skip(1) {
        let line = line.trim_start();
        let escaped = line.replace('\\', "\\\\").replace('-', "\\-");
        match line.split_once("  ") {
            Some((code, what)) if code.chars().all(|c| c.is_ascii_digit()) => {
                let what = what.replace('-', "\\-");
                section.push_str(&format!(".TP\n\\fB{code}\\fR\n{what}\n"));
            }
            _ => {
                section.push_str(&escaped);
                section.push('\n');
            }
        }
    }
    format!("{}{section}{}", &text[..start], &text[end..]).into_bytes()
}
