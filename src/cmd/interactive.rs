//! `commander` / `commander interactive`: build a command at prompts, see it
//! as a table and hex, paste the reply and read it decoded (SPEC 6).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::UsageError;
use crate::cli::{InteractiveArgs, SchemaArgs};
use crate::codec::{decode_base64, decode_hex, looks_like_hex};
use crate::prompt::link::{self, Found};
use crate::prompt::terminal::TerminalPrompter;
use crate::prompt::{Builder, Built, LinkChoice, Prompter, Question, Reply};
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
    // The reply type: given, else the profile's, else inferred from the
    // command's name; without one, replies are decoded without a schema.
    let (response, reply_note) = match (&args.response_type, &context.profile.response) {
        (Some(t), _) => {
            let r = context.schema.message(t)?;
            let note = format!("replies as {}", r.full_name());
            (Some(r), note)
        }
        (None, Some(_)) => {
            let r = context.response_type(None)?;
            let note = format!("replies as {} (profile)", r.full_name());
            (Some(r), note)
        }
        (None, None) => match context.schema.infer_reply(&desc) {
            Some(r) => {
                let note = format!(
                    "replies as {} (inferred from the name; --response-type to choose)",
                    r.full_name()
                );
                (Some(r), note)
            }
            None => (
                None,
                "replies decoded without a schema (no reply type: --response-type TYPE)".to_owned(),
            ),
        },
    };
    let link_spec = args.link.clone().or_else(|| context.profile.link.clone());
    let link = match link_spec.as_deref().map(str::trim) {
        None | Some("auto") => Pending::Auto,
        Some("none") => Pending::Decided(LinkChoice::Off),
        Some(spec) => Pending::Decided(LinkChoice::Use(
            link::explicit(&desc, spec).map_err(|e| UsageError(format!("--link {spec}: {e}")))?,
        )),
    };
    let bytes_as = super::bytes_as(&context.schema, &context.profile, &args.bytes_as, None)?;
    let timeout = super::send::parse_duration(&args.timeout)
        .map_err(|e| UsageError(format!("--timeout: {e}")))?;
    // Publishing is offered when a broker is configured and answers; else
    // replies are pasted.
    let mut broker_note = String::new();
    let mqtt = match (
        super::broker_config(&args.broker, &context.profile, None),
        &context.profile.mqtt.command_topic,
        &context.profile.mqtt.response_topic,
    ) {
        (Ok(cfg), Some(command_topic), Some(response_topic)) if response.is_some() => {
            if reachable(&cfg.url) {
                Some(Mqtt {
                    cfg,
                    command_topic: command_topic.clone(),
                    response_topic: response_topic.clone(),
                    qos: crate::mqtt::qos(args.broker.qos)?,
                    timeout,
                })
            } else {
                broker_note = format!("\nno broker answers at {}: paste replies by hand", cfg.url);
                None
            }
        }
        _ => None,
    };
    restore_terminal_on_interrupt();

    let mut prompter = TerminalPrompter::new();
    prompter.say(&format!(
        "commander · {} · {} · {reply_note}{}{broker_note}\n\
         Enter skips a field or keeps the value shown, - clears it · lists filter as you type · \
         Ctrl-C leaves (Esc too, in a list)",
        desc.full_name(),
        context.profile.describe(),
        mqtt.as_ref()
            .map(|m| format!(" · → {} at {}", m.command_topic, m.cfg.url))
            .unwrap_or_default()
    ));
    let link = match link {
        Pending::Decided(l) => l,
        Pending::Auto => match choose_link(&mut prompter, &desc)? {
            Some(l) => l,
            None => return Ok(ExitCode::SUCCESS),
        },
    };
    let session = Session {
        desc,
        response,
        profile: context.profile.clone(),
        mqtt,
        link,
        bytes_as,
    };
    let result = session.run(&mut prompter, &mut io::stdout().lock());
    std::mem::forget(context);
    result.map(|()| ExitCode::SUCCESS)
}

/// A link given (or refused) explicitly, or to be found.
enum Pending {
    Auto,
    Decided(LinkChoice),
}

/// The envelope link found in `desc`, said in one line; when several fit,
/// the user picks one or none. `None` when the user quits.
pub fn choose_link<P: Prompter>(p: &mut P, desc: &MessageDescriptor) -> Result<Option<LinkChoice>> {
    match link::find(desc) {
        Found::None => Ok(Some(LinkChoice::Off)),
        Found::One(l) => {
            p.say(&format!(
                "link: {} (--link none to fill every field)",
                l.describe()
            ));
            Ok(Some(LinkChoice::Use(l)))
        }
        Found::Several(links) => {
            let mut items: Vec<String> = links.iter().map(link::Link::describe).collect();
            items.push(crate::prompt::NO_LINK.to_owned());
            let q = Question {
                path: "link".into(),
                kind: "envelope".into(),
                hint: "several enums pick a oneof member: which one?".into(),
                default: None,
            };
            match p.select(&q, &items, 0)? {
                Reply::Value(i) if i < links.len() => Ok(Some(LinkChoice::Use(links[i].clone()))),
                Reply::Value(_) | Reply::Skip => Ok(Some(LinkChoice::Off)),
                Reply::Quit => Ok(None),
            }
        }
    }
}

/// One interactive session, separate from the terminal so tests can drive it.
pub struct Session {
    pub desc: MessageDescriptor,
    /// The reply type; `None`: replies are decoded without a schema.
    pub response: Option<MessageDescriptor>,
    pub profile: crate::profile::Profile,
    /// Where to publish commands and wait for replies, if a broker answers.
    pub mqtt: Option<Mqtt>,
    /// The envelope link the builder follows.
    pub link: LinkChoice,
    /// Messages carried in bytes fields: built in place, shown decoded.
    pub bytes_as: Option<&'static crate::render::BytesAs>,
}

/// A broker to publish through, with the profile's topic templates.
pub struct Mqtt {
    pub cfg: crate::mqtt::BrokerConfig,
    pub command_topic: String,
    pub response_topic: String,
    pub qos: rumqttc::v5::mqttbytes::QoS,
    pub timeout: std::time::Duration,
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
                .linking(self.link.clone())
                .carrying(self.bytes_as)
                .build(start.clone())?
            {
                Built::Quit => return Ok(()),
                Built::Message(m) => m,
            };
            // `correlation_id = "{message_id}"` follows the message_id sent.
            self.profile.refresh_copies(&start, &mut msg);
            let bytes = wire::encode_to_vec(&msg);
            writeln!(out, "{} · {} bytes", self.desc.full_name(), bytes.len())?;
            let width = super::terminal_width();
            writeln!(out, "{}", table::message_table_fitted(&msg, false, width))?;
            writeln!(out, "{}", hex::encode(&bytes))?;
            out.flush()?;
            let carry_on = match (&self.response, &self.mqtt) {
                (Some(response), Some(mqtt)) => {
                    self.publish_or_paste(p, out, response, mqtt, &msg, &bytes)?
                }
                (response, _) => self.reply(p, out, response.as_ref())?,
            };
            if !carry_on {
                return Ok(());
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

    /// Publishes the command and shows the matching reply, or lets the
    /// user paste one; `false` when the user quits.
    fn publish_or_paste<P: Prompter, W: Write>(
        &self,
        p: &mut P,
        out: &mut W,
        response: &MessageDescriptor,
        mqtt: &Mqtt,
        msg: &DynamicMessage,
        bytes: &[u8],
    ) -> Result<bool> {
        let topics = super::request::render_topic(&mqtt.command_topic, msg, true).and_then(|t| {
            let r = super::request::render_topic(&mqtt.response_topic, msg, false)?;
            Ok((t, r))
        });
        let (topic, response_topic) = match topics {
            Ok(t) => t,
            Err(e) => {
                p.warn(&format!("cannot publish: {e:#}"));
                return self.reply(p, out, Some(response));
            }
        };
        let q = Question {
            path: "send".into(),
            kind: "action".into(),
            hint: String::new(),
            default: None,
        };
        let items = [
            format!("publish to {topic} and wait for the reply"),
            "paste a reply".to_owned(),
            "skip".to_owned(),
        ];
        match p.select(&q, &items, 0)? {
            Reply::Value(0) => {}
            Reply::Value(1) => return self.reply(p, out, Some(response)),
            Reply::Value(_) | Reply::Skip => return Ok(true),
            Reply::Quit => return Ok(false),
        }
        // At a prompt the user sees the reply: without an id to match on,
        // the first message on the topic is shown, and said to be that.
        let matcher = match super::request::Matcher::for_command(msg, response) {
            Ok(m) => m,
            Err(why) => {
                p.say(&format!(
                    "note: {why}: the first message on {response_topic} is taken as the reply"
                ));
                super::request::Matcher::Any
            }
        };
        let published = format!(
            "published to {topic}; waiting up to {}s for the reply on {response_topic}",
            mqtt.timeout.as_secs_f64()
        );
        let wanted = super::request::Wanted {
            topic: &response_topic,
            response,
            matcher: &matcher,
        };
        match super::request::exchange(
            &mqtt.cfg,
            &topic,
            bytes.to_vec(),
            mqtt.qos,
            Some(wanted),
            mqtt.timeout,
            || p.say(&published),
        ) {
            Ok((answer, skipped)) => {
                for line in skipped.lines() {
                    p.say(&line);
                }
                match answer {
                    super::request::Answer::Reply { bytes, .. } => {
                        let renderer = self.reply_renderer(Some(response));
                        let mut shown = Vec::new();
                        renderer.render(&bytes, &mut shown)?;
                        writeln!(
                            out,
                            "{}",
                            renderer.title(Some(&response_topic), bytes.len())
                        )?;
                        out.write_all(&shown)?;
                        out.flush()?;
                    }
                    _ => p.warn(&format!(
                        "no reply on {response_topic} within {}s",
                        mqtt.timeout.as_secs_f64()
                    )),
                }
            }
            Err(e) => p.warn(&format!("{e:#}")),
        }
        Ok(true)
    }

    /// Replies as tables fitted to the terminal, with carried messages
    /// decoded; without a type, as `--raw` shows them.
    fn reply_renderer(&self, response: Option<&MessageDescriptor>) -> Renderer {
        let width = super::terminal_width();
        match response {
            Some(r) => {
                let view = crate::render::ViewOptions {
                    width,
                    bytes_as: self.bytes_as,
                    ..Default::default()
                };
                Renderer::typed_with(r.clone(), Format::Table, view)
            }
            None => Renderer::raw(Format::Table).with_width(width),
        }
    }

    /// Asks for a reply until one decodes or the user skips; `false` when
    /// the user quits.
    fn reply<P: Prompter, W: Write>(
        &self,
        p: &mut P,
        out: &mut W,
        response: Option<&MessageDescriptor>,
    ) -> Result<bool> {
        let renderer = self.reply_renderer(response);
        let q = Question {
            path: "reply".into(),
            kind: response.map_or("no schema", |r| r.name()).to_owned(),
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
                    writeln!(out, "{}", renderer.title(None, bytes.len()))?;
                    out.write_all(&shown)?;
                    out.flush()?;
                    return Ok(true);
                }
                Err(e) => p.warn(&format!(
                    "cannot decode it as {}: {e:#}",
                    renderer.type_name()
                )),
            }
        }
    }
}

/// Does something accept connections at the broker's address (within a
/// moment)? Decides whether publishing is offered.
fn reachable(url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(ep) = crate::mqtt::parse_url(url) else {
        return false;
    };
    let Ok(mut addrs) = (ep.host.as_str(), ep.port).to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| {
        std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_millis(300)).is_ok()
    })
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
