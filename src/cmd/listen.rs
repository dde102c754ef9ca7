//! `commander listen`: decode every message on MQTT topics, each with the
//! type mapped to its topic (SPEC 9).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Result, anyhow};

use super::acked_out::AckedOut;
use crate::UsageError;
use crate::cli::{ListenArgs, ListenFormat, SchemaArgs};
use crate::mqtt;
use crate::profile::Profile;
use crate::render::{Format, Renderer, ViewOptions};
use crate::schema::Schema;
use crate::transport::mqtt_listener::{Event, Listener, Token};
use crate::transport::poll;

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
    // Before connecting: Ctrl-C while the broker keeps us waiting ends it.
    poll::on_stop_signals(on_stop_signal);
    let persistent = cfg.persistent;
    let mut listener = match Listener::start(cfg, subscriptions.clone(), qos) {
        Ok(l) => l,
        Err(_) if STOP.load(Ordering::Relaxed) => return Ok(ExitCode::from(130)),
        Err(e) => return Err(e),
    };
    eprintln!(
        "listening on {} at {}{}",
        subscriptions.join(", "),
        listener.url,
        if persistent {
            " (persistent session)"
        } else {
            ""
        }
    );

    // One received message, decoded with the type mapped to its topic.
    let renderer_for = |topic: &str| {
        routes
            .iter()
            .find(|(f, _)| mqtt::matches(f, topic))
            .map_or(&fallback, |(_, r)| r)
    };
    let mut out: AckedOut<Token> = AckedOut::stdout();
    // Records made (and not dropped), and delivered (written, and for a
    // pipe read): `--count N` ends when N are delivered and acknowledged.
    let mut taken: u64 = 0;
    let mut delivered: u64 = 0;
    let mut failures = 0usize;
    let mut last_ack = Instant::now();
    let end = loop {
        if STOP.load(Ordering::Relaxed) {
            break End::Signal;
        }
        // 1. Take what has arrived, as long as there is room for it.
        let mut busy = false;
        let held_before = out.unwritten();
        while args.count.is_none_or(|n| taken < n)
            && out.unwritten() < MAX_HELD
            && out.unwritten().saturating_sub(held_before) < PASS_BYTES
        {
            match listener.next(Duration::ZERO)? {
                Event::Message(d) => {
                    let renderer = renderer_for(&d.topic);
                    if !record(out.buf(), renderer, format, &d.topic, &d.payload) {
                        failures += 1;
                    }
                    out.end_record(d.token);
                    taken += 1;
                    busy = true;
                }
                Event::Handled | Event::Published(_) => busy = true,
                Event::Idle | Event::Interrupted => break,
                Event::Note(note) => {
                    eprintln!("{note}");
                    break;
                }
                Event::Reconnected { note, resumed } => {
                    eprintln!("{note}");
                    if resumed {
                        // The broker sends these again: not written twice.
                        let dropped = out.drop_unwritten(|t| listener.redelivered(*t));
                        taken -= dropped as u64;
                    }
                    busy = true;
                }
            }
        }
        // 2. Write; what was delivered may be acknowledged.
        match out.progress() {
            Ok(done) => {
                busy |= !done.is_empty();
                delivered += done.len() as u64;
                for token in done {
                    listener.written(token);
                }
            }
            Err(e) => {
                listener.close();
                return Err(anyhow!("cannot write the output: {e}"));
            }
        }
        if out.gone() {
            break End::ReaderGone;
        }
        // 3. Acknowledge in batches: often enough that the broker never
        // waits on its in-flight window, and at once when things are quiet.
        if listener.pending() >= ACK_BATCH
            || (listener.pending() > 0 && (!busy || last_ack.elapsed() >= ACK_EVERY))
        {
            if let Err(e) = listener.flush() {
                eprintln!("{e:#}; reconnecting");
            }
            last_ack = Instant::now();
        }
        if args.count.is_some_and(|n| delivered >= n) {
            break End::Count;
        }
        // 4. Nothing to do at once: wait for the broker or the output.
        if !busy {
            let reading = out.unwritten() < MAX_HELD && args.count.is_none_or(|n| taken < n);
            let mut interests = Vec::new();
            if let (true, Some(fd)) = (reading, listener.raw_fd()) {
                interests.push(poll::Interest {
                    fd,
                    read: true,
                    write: false,
                });
            }
            if out.wants_writable() {
                interests.push(poll::Interest {
                    fd: 1,
                    read: false,
                    write: true,
                });
            }
            if !reading {
                listener.keep_alive();
            }
            // With nothing to wait on (reconnecting), this is the backoff's tick.
            poll::wait(&interests, WAIT)?;
        }
    };
    // Leaving: deliver what can be (briefly, at a signal), acknowledge
    // exactly what was delivered, and say goodbye to the broker.
    if end == End::Signal {
        for token in out.finish(STOP_GRACE) {
            listener.written(token);
        }
    }
    listener.close();
    if failures > 0 {
        eprintln!("{failures} message(s) did not decode");
    }
    Ok(match end {
        End::Signal => ExitCode::from(130),
        _ if failures > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Why the listener stopped.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Signal,
    /// `--count N` records delivered.
    Count,
    /// The output's reader has gone (`| head -1`).
    ReaderGone,
}

/// Output held (not yet written) beyond which no more is read: the broker
/// waits, its in-flight window full.
const MAX_HELD: usize = 8 << 20;
/// Acknowledgements are sent when this many wait (well inside the receive
/// maximum of 1000 the listener announces) ...
const ACK_BATCH: usize = 200;
/// Records made in one pass before they are written: small enough to be
/// written while still in the CPU's cache.
const PASS_BYTES: usize = 64 << 10;
/// ... or this long after the last batch.
const ACK_EVERY: Duration = Duration::from_millis(50);
/// The longest wait in one turn of the loop.
const WAIT: Duration = Duration::from_millis(200);
/// At SIGINT/SIGTERM: how long held records may still be written.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// Set by SIGINT or SIGTERM: the loop delivers what it can and leaves.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
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
        // listen's own -o has neither.
        Format::Table | Format::Text | Format::Hex | Format::Base64 => {
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
