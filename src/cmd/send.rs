//! `commander send`: publish a command over MQTT and show the decoded reply
//! (SPEC 9).

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use super::Context;
use super::request::{self, Answer, Matcher};
use crate::UsageError;
use crate::cli::{OutputFormat, SendArgs};
use crate::mqtt;
use crate::render::{Format, Renderer, ViewOptions};
use crate::value::{apply_set, given_paths, message_from_json_with, message_from_text};
use crate::wire;
use rumqttc::v5::mqttbytes::QoS;

pub fn run(context: &Context, args: SendArgs) -> Result<ExitCode> {
    let desc = context.command_type(args.message.as_deref())?;
    // The reply's type: --response-type, the profile's, or one the schema
    // names after the command (FooRequest → FooResponse).
    let response = if args.no_reply {
        None
    } else {
        Some(match (&args.response_type, &context.profile.response) {
            (Some(_), _) | (None, Some(_)) => {
                context.response_type(args.response_type.as_deref())?
            }
            (None, None) => context.schema.infer_reply(&desc).ok_or_else(|| {
                UsageError(format!(
                    "no reply type for {}: pass --response-type TYPE, or --no-reply to publish without waiting for one",
                    desc.full_name()
                ))
            })?,
        })
    };
    let view = ViewOptions {
        enum_numbers: args.view.enum_numbers,
        width: super::table_width(args.view.width),
        bytes_as: match &response {
            Some(r) => super::bytes_as(
                &context.schema,
                &context.profile,
                &args.view.bytes_as,
                Some(r),
            )?,
            None => None,
        },
        ..ViewOptions::default()
    };
    let timeout =
        parse_duration(&args.timeout).map_err(|e| UsageError(format!("--timeout: {e}")))?;
    let qos = mqtt::qos(args.broker.qos)?;

    let (input, given) = read_input(&desc, &args)?;
    let mut msg = DynamicMessage::new(desc.clone());
    if !args.no_defaults {
        // What the user gave, even empty, wins over a profile default.
        context.profile.apply_defaults_except(&mut msg, &given)?;
    }
    let prefilled = msg.clone();
    super::encode::merge_set_fields(&mut msg, input);
    for s in &args.set {
        apply_set(&mut msg, s).map_err(|e| UsageError(format!("--set {s}: {e}")))?;
    }
    if !args.no_defaults {
        // `correlation_id = "{message_id}"` follows the message_id sent.
        context.profile.refresh_copies(&prefilled, &mut msg);
    }

    let topic = match (&args.topic, &context.profile.mqtt.command_topic) {
        (Some(t), _) => {
            request::check_publish_topic(t).map_err(|e| UsageError(format!("--topic: {e:#}")))?;
            t.clone()
        }
        (None, Some(template)) => request::render_topic(template, &msg, true)?,
        (None, None) => {
            return Err(UsageError(
                "no topic: pass --topic, or set command_topic in the [mqtt] section of commander.toml".into(),
            )
            .into());
        }
    };
    let cfg = super::broker_config(&args.broker, &context.profile, None)?;
    let bytes = wire::encode_to_vec(&msg);

    let Some(response) = response else {
        let (_, _) = request::exchange(&cfg, &topic, bytes.clone(), qos, None, timeout, || ())?;
        eprintln!("{}", published_note(bytes.len(), &topic, qos));
        return Ok(ExitCode::SUCCESS);
    };
    let response_topic = match (&args.response_topic, &context.profile.mqtt.response_topic) {
        (Some(t), _) => t.clone(),
        (None, Some(template)) => request::render_topic(template, &msg, false)?,
        (None, None) => {
            return Err(UsageError(
                "no response topic: pass --response-topic, or set response_topic in the [mqtt] section of commander.toml (or --no-reply to publish only)"
                    .into(),
            )
            .into());
        }
    };
    let matcher = match (Matcher::for_command(&msg, &response), args.any_reply) {
        (_, true) => Matcher::Any,
        (Ok(m), false) => m,
        (Err(why), false) => {
            return Err(UsageError(format!(
                "nothing to match the reply on: {why}; pass --any-reply to take the first message on {response_topic}, or --no-reply to publish only"
            ))
            .into());
        }
    };
    let note = format!(
        "{}; waiting up to {}s for the reply on {response_topic}{}",
        published_note(bytes.len(), &topic, qos),
        timeout.as_secs_f64(),
        match &matcher {
            Matcher::Id(id) => format!(" with correlation_id {id}"),
            Matcher::Any => " (the first message: --any-reply)".to_owned(),
        }
    );
    let (answer, skipped) = request::exchange(
        &cfg,
        &topic,
        bytes,
        qos,
        Some(request::Wanted {
            topic: &response_topic,
            response: &response,
            matcher: &matcher,
        }),
        timeout,
        || eprintln!("{note}"),
    )?;
    for line in skipped.lines() {
        eprintln!("{line}");
    }
    match answer {
        Answer::Reply { bytes, .. } => {
            print_reply(&response, &bytes, args.output, view, &response_topic)?;
            Ok(ExitCode::SUCCESS)
        }
        Answer::Published => unreachable!("a reply was asked for"),
        Answer::Timeout => bail!(
            "no reply on {response_topic} within {}s{}",
            timeout.as_secs_f64(),
            match &matcher {
                Matcher::Id(id) => format!(" (waiting for correlation_id {id})"),
                Matcher::Any => String::new(),
            }
        ),
    }
}

/// "published N bytes to T", and what the broker did: at QoS 1/2 it has
/// acknowledged the message; at QoS 0 nothing is known.
fn published_note(len: usize, topic: &str, qos: QoS) -> String {
    match qos {
        QoS::AtMostOnce => {
            format!("sent {len} bytes to {topic} (QoS 0: the broker does not confirm)")
        }
        QoS::AtLeastOnce => {
            format!("published {len} bytes to {topic} (acknowledged by the broker)")
        }
        QoS::ExactlyOnce => format!("published {len} bytes to {topic} (QoS 2, completed)"),
    }
}

fn print_reply(
    response: &MessageDescriptor,
    bytes: &[u8],
    output: OutputFormat,
    view: ViewOptions,
    topic: &str,
) -> Result<()> {
    let format: Format = output.into();
    let renderer = Renderer::typed_with(response.clone(), format, view);
    let mut out = Vec::new();
    if format == Format::Table {
        out.extend_from_slice(renderer.title(Some(topic), bytes.len()).as_bytes());
        out.push(b'\n');
    }
    renderer.render(bytes, &mut out).with_context(|| {
        format!(
            "the reply on {topic} is not a valid {}",
            response.full_name()
        )
    })?;
    io::stdout()
        .lock()
        .write_all(&out)
        .map_err(super::output_error)?;
    Ok(())
}

/// The command as given (--json, --text, a file or stdin: one message), and
/// the field paths it gives (even empty).
fn read_input(desc: &MessageDescriptor, args: &SendArgs) -> Result<(DynamicMessage, Vec<String>)> {
    if let Some(json) = &args.source.json {
        let msg = message_from_json_with(desc, json, args.source.ignore_unknown)
            .context("cannot read --json")?;
        return Ok((msg, given_paths(desc, json)));
    }
    if let Some(text) = &args.source.text {
        super::encode::text_takes_no_ignore(args.source.ignore_unknown)?;
        let msg = message_from_text(desc, text).context("cannot read --text")?;
        return Ok((msg, given_paths(desc, text)));
    }
    let text = match args.source.file() {
        None => return Ok((DynamicMessage::new(desc.clone()), Vec::new())),
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            super::stdin_reader("one JSON or text-format message")
                .read_to_string(&mut s)
                .context("cannot read stdin")?;
            s
        }
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read '{}'", p.display()))?
        }
    };
    let msg = if text.trim_start().starts_with('{') {
        message_from_json_with(desc, &text, args.source.ignore_unknown)
            .context("cannot read the command as JSON")?
    } else {
        super::encode::text_takes_no_ignore(args.source.ignore_unknown)?;
        message_from_text(desc, &text).context("cannot read the command as text format")?
    };
    Ok((msg, given_paths(desc, &text)))
}

/// The longest timeout accepted: a year.
const MAX_DURATION_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// `10s`, `1.5s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| anyhow!("'{text}' is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("'{text}': the unit is ms, s, m or h"),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        bail!("'{text}' is not a duration like 10s or 500ms");
    }
    // A deadline is now + the duration: keep it far from the clock's limits.
    if seconds > MAX_DURATION_SECS {
        bail!("'{text}' is too long: at most a year ({MAX_DURATION_SECS}s)");
    }
    Ok(Duration::from_secs_f64(seconds))
}
