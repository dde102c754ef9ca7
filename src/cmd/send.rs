//! `commander send`: publish a command over MQTT and show the decoded reply
//! (SPEC 9).

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use super::Context;
use crate::UsageError;
use crate::cli::{OutputFormat, SendArgs};
use crate::mqtt::{self, Matcher, Outcome};
use crate::render::{Format, Renderer, ViewOptions};
use crate::value::{apply_set, message_from_json, message_from_text};
use crate::wire;

pub fn run(context: &Context, args: SendArgs) -> Result<ExitCode> {
    let desc = context.command_type(args.message.as_deref())?;
    let response = context.response_type(args.response_type.as_deref())?;
    let view = ViewOptions {
        enum_numbers: args.view.enum_numbers,
        width: super::table_width(args.view.width),
        bytes_as: super::bytes_as(
            &context.schema,
            &context.profile,
            &args.view.bytes_as,
            Some(&response),
        )?,
        ..ViewOptions::default()
    };
    let timeout =
        parse_duration(&args.timeout).map_err(|e| UsageError(format!("--timeout: {e}")))?;
    let qos = mqtt::qos(args.broker.qos)?;

    let input = read_input(&desc, &args)?;
    let mut msg = DynamicMessage::new(desc.clone());
    if !args.no_defaults {
        context.profile.apply_defaults(&mut msg)?;
    }
    super::encode::merge_set_fields(&mut msg, input);
    for s in &args.set {
        apply_set(&mut msg, s).map_err(|e| UsageError(format!("--set {s}: {e}")))?;
    }

    let topic = match (&args.topic, &context.profile.mqtt.command_topic) {
        (Some(t), _) => t.clone(),
        (None, Some(template)) => mqtt::render_topic(template, &msg)?,
        (None, None) => {
            return Err(UsageError(
                "no topic: pass --topic, or set command_topic in the [mqtt] section of commander.toml".into(),
            )
            .into());
        }
    };
    let response_topic = match (&args.response_topic, &context.profile.mqtt.response_topic) {
        (Some(t), _) => t.clone(),
        (None, Some(template)) => crate::profile::render_template(template, &msg)
            .map_err(|e| anyhow!("response topic '{template}': {e}"))?,
        (None, None) => {
            return Err(UsageError(
                "no response topic: pass --response-topic, or set response_topic in the [mqtt] section of commander.toml"
                    .into(),
            )
            .into());
        }
    };
    let cfg = super::broker_config(&args.broker, &context.profile, None)?;
    let matcher = Matcher::for_command(&msg, &response);
    let bytes = wire::encode_to_vec(&msg);
    let note = format!(
        "published {} bytes to {topic}; waiting up to {}s for the reply on {response_topic}{}",
        bytes.len(),
        timeout.as_secs_f64(),
        match &matcher {
            Matcher::Id(id) => format!(" with correlation_id {id}"),
            Matcher::First => String::new(),
        }
    );
    let outcome = mqtt::request(
        &cfg,
        &topic,
        &response_topic,
        bytes,
        qos,
        &response,
        &matcher,
        timeout,
        || eprintln!("{note}"),
    )?;
    match outcome {
        Outcome::Reply { bytes, skipped, .. } => {
            for note in skipped {
                eprintln!("note: {note}");
            }
            print_reply(&response, &bytes, args.output, view, &response_topic)?;
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Timeout { skipped } => {
            for note in skipped {
                eprintln!("note: {note}");
            }
            bail!(
                "no reply on {response_topic} within {}s{}",
                timeout.as_secs_f64(),
                match &matcher {
                    Matcher::Id(id) => format!(" (waiting for correlation_id {id})"),
                    Matcher::First => String::new(),
                }
            )
        }
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
    io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// The command as given: --json, --text, a file or stdin (one message).
fn read_input(desc: &MessageDescriptor, args: &SendArgs) -> Result<DynamicMessage> {
    if let Some(json) = &args.source.json {
        return message_from_json(desc, json).context("cannot read --json");
    }
    if let Some(text) = &args.source.text {
        return message_from_text(desc, text).context("cannot read --text");
    }
    let text = match args.source.file() {
        None => return Ok(DynamicMessage::new(desc.clone())),
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
    if text.trim_start().starts_with('{') {
        message_from_json(desc, &text).context("cannot read the command as JSON")
    } else {
        message_from_text(desc, &text).context("cannot read the command as text format")
    }
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
