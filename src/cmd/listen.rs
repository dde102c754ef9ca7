//! `commander listen`: decode every message on MQTT topics, each with the
//! type mapped to its topic (SPEC 9).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Result, anyhow};
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode};
use rumqttc::v5::{Client, ConnectionError, Event, RecvTimeoutError};

use crate::UsageError;
use crate::cli::{ListenArgs, ListenFormat, SchemaArgs};
use crate::mqtt;
use crate::profile::Profile;
use crate::render::{Format, Renderer, ViewOptions};
use crate::schema::Schema;

/// Output waiting this long for more messages is written out.
const IDLE_FLUSH: Duration = Duration::from_millis(100);

pub fn run(schema_args: &SchemaArgs, args: ListenArgs) -> Result<ExitCode> {
    let paths = schema_args.paths();
    let profile = Profile::find(schema_args.profile.as_deref(), || paths.is_empty())?;
    let format = match args.output {
        ListenFormat::Table => Format::Table,
        ListenFormat::Json => Format::Json,
        ListenFormat::Jsonl => Format::Jsonl,
    };

    // Topic filter → how to decode. --type first, then the profile's
    // [mqtt.types], then -m for the rest, then schemaless.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for t in &args.types {
        let (filter, ty) = t
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--type {t}: expected FILTER=TYPE")))?;
        pairs.push((filter.to_owned(), ty.to_owned()));
    }
    if !args.raw {
        pairs.extend(profile.mqtt.types.iter().cloned());
    }
    let schema = if args.raw {
        None
    } else {
        let paths = if paths.is_empty() {
            profile.schema.clone()
        } else {
            paths
        };
        Some(Schema::load(&paths, &schema_args.include)?)
    };
    let width = super::table_width(args.view.width);
    let bytes_as = match &schema {
        // Each topic has its own type: paths are not checked against one.
        Some(schema) => super::bytes_as(schema, &profile, &args.view.bytes_as, None)?,
        None if !args.view.bytes_as.is_empty() => {
            return Err(UsageError("--bytes-as needs a schema, not --raw".into()).into());
        }
        None => None,
    };
    let view = ViewOptions {
        enum_numbers: args.view.enum_numbers,
        width,
        guess: args.guess.into(),
        bytes_as,
        ..ViewOptions::default()
    };
    let mut routes: Vec<(String, Renderer)> = Vec::new();
    if let Some(schema) = &schema {
        for (filter, ty) in &pairs {
            let desc = schema
                .message(ty)
                .map_err(|e| anyhow!("{e:#}").context(format!("type for topics '{filter}'")))?;
            routes.push((filter.clone(), Renderer::typed_with(desc, format, view)));
        }
    }
    let fallback = match (&schema, &args.message) {
        (Some(schema), Some(m)) => Renderer::typed_with(schema.message(m)?, format, view),
        _ => Renderer::raw(format)
            .with_width(width)
            .with_guess(args.guess.into()),
    };

    let mut filters: Vec<String> = args.topics.clone();
    if filters.is_empty() {
        filters = pairs.iter().map(|(f, _)| f.clone()).collect();
    }
    if filters.is_empty() {
        return Err(UsageError(
            "no topics: pass --topic FILTER (repeatable), or map topics to types in [mqtt.types] of commander.toml"
                .into(),
        )
        .into());
    }
    for f in &filters {
        if !valid_filter(f) {
            return Err(UsageError(format!("'{f}' is not a topic filter")).into());
        }
    }
    if let Some(group) = &args.share {
        if group.is_empty() || group.contains(['/', '+', '#']) {
            return Err(UsageError(format!(
                "--share '{group}': a share group is a non-empty name without '/', '+' or '#'"
            ))
            .into());
        }
    }
    let subscriptions: Vec<String> = filters
        .iter()
        .map(|f| match &args.share {
            Some(group) => format!("$share/{group}/{f}"),
            None => f.clone(),
        })
        .collect();

    let cfg = super::broker_config(&args.broker, &profile, args.session.as_deref())?;
    let qos = mqtt::qos(args.broker.qos)?;
    let (client, mut conn) = Client::new(mqtt::options(&cfg)?, 4096);
    subscribe(&client, &subscriptions, qos)?;

    let mut out = super::StreamOut::new();
    let mut connected = false;
    let mut pending_subacks = subscriptions.len();
    let mut seen: u64 = 0;
    let mut failures = 0usize;
    stop_on_interrupt();
    let mut interrupted = false;
    // One received message, decoded with the type mapped to its topic.
    let show = |buf: &mut Vec<u8>, p: &rumqttc::v5::mqttbytes::v5::Publish| {
        let topic = String::from_utf8_lossy(&p.topic).into_owned();
        let renderer = routes
            .iter()
            .find(|(f, _)| mqtt::matches(f, &topic))
            .map_or(&fallback, |(_, r)| r);
        record(buf, renderer, format, &topic, &p.payload)
    };
    loop {
        if args.count.is_some_and(|n| seen >= n) {
            break;
        }
        if STOP.load(Ordering::Relaxed) {
            // Messages already received (and acknowledged to the broker)
            // are printed before leaving: nothing acknowledged is lost.
            interrupted = true;
            loop {
                let p = match conn.try_recv() {
                    Ok(Ok(Event::Incoming(Packet::Publish(p)))) => p,
                    Ok(Ok(_)) => continue,
                    _ => break,
                };
                if !show(&mut out.buf, &p) {
                    failures += 1;
                }
            }
            break;
        }
        match conn.recv_timeout(IDLE_FLUSH) {
            Err(RecvTimeoutError::Timeout) => out.finish()?,
            Err(RecvTimeoutError::Disconnected) => break,
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                if connected {
                    eprintln!("reconnected to {}", cfg.url);
                    if !ack.session_present {
                        subscribe(&client, &subscriptions, qos)?;
                    }
                }
                connected = true;
            }
            Ok(Ok(Event::Incoming(Packet::SubAck(ack)))) => {
                // A refused subscription is an error, not silence.
                if let Some(code) = ack
                    .return_codes
                    .iter()
                    .find(|c| !matches!(c, SubscribeReasonCode::Success(_)))
                {
                    out.finish()?;
                    return Err(anyhow!(
                        "the broker at {} refused a subscription ({code:?}); check the topic filters and permissions",
                        cfg.url
                    ));
                }
                if pending_subacks > 0 {
                    pending_subacks -= 1;
                    if pending_subacks == 0 {
                        eprintln!(
                            "listening on {} at {}{}",
                            subscriptions.join(", "),
                            cfg.url,
                            if cfg.persistent {
                                " (persistent session)"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                seen += 1;
                if !show(&mut out.buf, &p) {
                    failures += 1;
                }
                out.done_one()?;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let fatal = matches!(e, ConnectionError::ConnectionRefused(_)) || !connected;
                let err = mqtt::describe(&e, &cfg.url);
                if fatal {
                    out.finish()?;
                    return Err(err);
                }
                out.finish()?;
                eprintln!("{err:#}; reconnecting");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    out.finish()?;
    mqtt::close(&client, &mut conn);
    if failures > 0 {
        eprintln!("{failures} message(s) did not decode");
    }
    Ok(if interrupted {
        ExitCode::from(130)
    } else if failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Set by SIGINT or SIGTERM: the loop prints what it holds and leaves.
static STOP: AtomicBool = AtomicBool::new(false);

fn stop_on_interrupt() {
    #[cfg(unix)]
    {
        extern "C" fn on_signal(_: libc::c_int) {
            STOP.store(true, Ordering::Relaxed);
        }
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
    }
}

fn subscribe(client: &Client, filters: &[String], qos: rumqttc::v5::mqttbytes::QoS) -> Result<()> {
    for f in filters {
        client
            .subscribe(f.clone(), qos)
            .map_err(|e| anyhow!("cannot subscribe to '{f}': {e}"))?;
    }
    Ok(())
}

fn valid_filter(f: &str) -> bool {
    !f.is_empty()
        && f.split('/').enumerate().all(|(i, level)| {
            let last = i == f.split('/').count() - 1;
            match level {
                "#" => last,
                "+" => true,
                l => !l.contains(['+', '#']),
            }
        })
}

/// Appends one received message to `out`: its topic, receive time and type,
/// then the decoded message; a payload that does not decode is shown as hex
/// with the error (and reported on stderr). Returns whether it decoded.
fn record(
    out: &mut Vec<u8>,
    renderer: &Renderer,
    format: Format,
    topic: &str,
    payload: &[u8],
) -> bool {
    let time = prost_types::Timestamp::from(SystemTime::now()).to_string();
    let ty = renderer.type_name().to_owned();
    let mut body = Vec::new();
    let decoded = renderer.render(payload, &mut body);
    if let Err(e) = &decoded {
        eprintln!(
            "error: cannot decode the message on {topic} as {ty}\n  caused by: {e:#}\n  hex: {}",
            hex::encode(payload)
        );
    }
    let quote = |s: &str| serde_json::to_string(s).expect("a str serializes");
    match format {
        Format::Table | Format::Text => {
            out.extend_from_slice(
                format!("{topic} · {time} · {ty} · {} bytes\n", payload.len()).as_bytes(),
            );
            match &decoded {
                Ok(()) => out.extend_from_slice(&body),
                Err(e) => out.extend_from_slice(
                    format!("(does not decode: {e:#})\nhex: {}\n", hex::encode(payload)).as_bytes(),
                ),
            }
            out.push(b'\n');
        }
        Format::Jsonl | Format::Json => {
            let pretty = format == Format::Json;
            let (sep, indent) = if pretty {
                (",\n  ", "{\n  ")
            } else {
                (",", "{")
            };
            let colon = if pretty { ": " } else { ":" };
            out.extend_from_slice(indent.as_bytes());
            out.extend_from_slice(format!("\"topic\"{colon}{}", quote(topic)).as_bytes());
            out.extend_from_slice(format!("{sep}\"time\"{colon}{}", quote(&time)).as_bytes());
            out.extend_from_slice(format!("{sep}\"type\"{colon}{}", quote(&ty)).as_bytes());
            match &decoded {
                Ok(()) => {
                    let text = String::from_utf8_lossy(body.strip_suffix(b"\n").unwrap_or(&body))
                        .into_owned();
                    let text = if pretty {
                        text.replace('\n', "\n  ")
                    } else {
                        text
                    };
                    out.extend_from_slice(format!("{sep}\"message\"{colon}{text}").as_bytes());
                }
                Err(e) => {
                    out.extend_from_slice(
                        format!("{sep}\"error\"{colon}{}", quote(&format!("{e:#}"))).as_bytes(),
                    );
                    out.extend_from_slice(
                        format!("{sep}\"hex\"{colon}{}", quote(&hex::encode(payload))).as_bytes(),
                    );
                }
            }
            out.extend_from_slice(if pretty { b"\n}\n" } else { b"}\n" });
        }
    }
    decoded.is_ok()
}
