//! `commander` / `commander interactive`: build a command at prompts, see it
//! as a table and hex, paste the reply and read it decoded (SPEC 6).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::UsageError;
use crate::cli::{InteractiveArgs, SchemaArgs};
use crate::codec::{decode_base64, decode_hex, looks_like_hex};
use crate::prompt::terminal::TerminalPrompter;
use crate::prompt::{Builder, Built, Prompter, Question, Reply};
use crate::render::{Format, Renderer, table};
use crate::wire;

pub fn run(schema_args: &SchemaArgs, args: InteractiveArgs) -> Result<ExitCode> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Err(UsageError(
            "the interactive builder needs a terminal; from a script or pipe, encode with \
             `commander encode --json '{...}'` (or --text, or a file), see `commander encode --help`"
                .into(),
        )
        .into());
    }
    let context = super::Context::load(schema_args)?;
    let desc = context.command_type(args.message.as_deref())?;
    let response = context.response_type(args.response_type.as_deref()).ok();
    restore_terminal_on_interrupt();

    let mut prompter = TerminalPrompter::new();
    prompter.say(&format!(
        "commander · {} · {}{}\nEnter skips a field or keeps the value shown, - clears it · lists filter as you type · Esc or Ctrl-C leaves",
        desc.full_name(),
        context.profile.describe(),
        response
            .as_ref()
            .map(|r| format!(" · replies as {}", r.full_name()))
            .unwrap_or_default()
    ));
    let session = Session {
        desc,
        response,
        profile: context.profile.clone(),
    };
    let result = session.run(&mut prompter, &mut io::stdout().lock());
    std::mem::forget(context);
    result.map(|()| ExitCode::SUCCESS)
}

/// One interactive session, separate from the terminal so tests can drive it.
pub struct Session {
    pub desc: MessageDescriptor,
    pub response: Option<MessageDescriptor>,
    pub profile: crate::profile::Profile,
}

impl Session {
    /// Builds messages until the user quits: each is shown as a table and
    /// hex on `out`, then a pasted reply is decoded.
    pub fn run<P: Prompter, W: Write>(&self, p: &mut P, out: &mut W) -> Result<()> {
        let mut editing: Option<DynamicMessage> = None;
        loop {
            let start = match editing.take() {
                Some(m) => m,
                None => {
                    let mut m = DynamicMessage::new(self.desc.clone());
                    if let Err(e) = self.profile.apply_defaults(&mut m) {
                        p.warn(&format!("{e:#}"));
                    }
                    m
                }
            };
            let mut msg = match Builder::new(p)
                .following(&self.profile, &start)
                .build(start.clone())?
            {
                Built::Quit => return Ok(()),
                Built::Message(m) => m,
            };
            // `correlation_id = "{message_id}"` follows the message_id sent.
            self.profile.refresh_copies(&start, &mut msg);
            let bytes = wire::encode_to_vec(&msg);
            writeln!(out, "{} · {} bytes", self.desc.full_name(), bytes.len())?;
            writeln!(out, "{}", table::message_table(&msg, false))?;
            writeln!(out, "{}", hex::encode(&bytes))?;
            out.flush()?;
            if let Some(response) = &self.response {
                if !self.reply(p, out, response)? {
                    return Ok(());
                }
            }
            let q = Question {
                path: "next".into(),
                kind: "action".into(),
                hint: String::new(),
                default: None,
            };
            let items = [
                "build another".to_owned(),
                "edit this one".to_owned(),
                "quit".to_owned(),
            ];
            match p.select(&q, &items, 0)? {
                Reply::Value(0) => {}
                Reply::Value(1) => editing = Some(msg),
                _ => return Ok(()),
            }
        }
    }

    /// Asks for a reply until one decodes or the user skips; `false` when
    /// the user quits.
    fn reply<P: Prompter, W: Write>(
        &self,
        p: &mut P,
        out: &mut W,
        response: &MessageDescriptor,
    ) -> Result<bool> {
        let renderer = Renderer::typed(response.clone(), Format::Table, false, false);
        let q = Question {
            path: "reply".into(),
            kind: response.name().to_owned(),
            hint: "paste hex or base64, Enter skips".into(),
            default: None,
        };
        loop {
            let text = match p.text(&q)? {
                Reply::Value(t) => t,
                Reply::Skip => return Ok(true),
                Reply::Quit => return Ok(false),
            };
            let text = text.trim();
            let bytes = if looks_like_hex(text) {
                decode_hex(text).map_err(anyhow::Error::from)
            } else {
                decode_base64(text).map_err(anyhow::Error::from)
            };
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    p.warn(&format!("not hex or base64: {e}"));
                    continue;
                }
            };
            let mut shown = Vec::new();
            match renderer.render(&bytes, &mut shown) {
                Ok(()) => {
                    writeln!(out, "{} · {} bytes", response.full_name(), bytes.len())?;
                    out.write_all(&shown)?;
                    out.flush()?;
                    return Ok(true);
                }
                Err(e) => p.warn(&format!(
                    "cannot decode it as {}: {e:#}",
                    response.full_name()
                )),
            }
        }
    }
}

/// Ctrl-C raises SIGINT (the terminal library restores the line settings
/// first): show the cursor again, end the line and leave with status 130.
fn restore_terminal_on_interrupt() {
    #[cfg(unix)]
    {
        extern "C" fn on_sigint(_: libc::c_int) {
            // Only async-signal-safe calls here.
            const SHOW_CURSOR: &[u8] = b"\x1b[?25h\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe.
            unsafe {
                libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len());
                libc::_exit(130);
            }
        }
        // SAFETY: installing a handler that only calls async-signal-safe
        // functions.
        unsafe {
            libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
        }
    }
}
