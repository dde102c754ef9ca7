//! `commander simulate` (SPEC 11): a fleet of devices on one MQTT
//! connection. One wildcard subscription takes every device's commands; a
//! command for a device of the fleet is answered on its response topic
//! (linked, correlated, filled: `crate::sim`), now or after `--delay`; each
//! device publishes the profile's `[[simulate.publish]]` messages on their
//! periods, spread over the first period so a large fleet does not burst.
//! Everything runs on one thread: a queue of timed jobs and the listener's
//! poll with the next job's deadline.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use prost_reflect::{DynamicMessage, ReflectMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rumqttc::v5::mqttbytes::QoS;

use super::Context;
use super::send::parse_duration;
use crate::UsageError;
use crate::cli::{FillArg, SimulateArgs, SimulateLog};
use crate::mqtt;
use crate::profile::field_refs;
use crate::sim::template::{Ctx, Template};
use crate::sim::{Fill, Publication, Responder};
use crate::transport::mqtt_listener::{Event, Listener};
use crate::transport::poll;

/// The summary line comes this often.
const SUMMARY_EVERY: Duration = Duration::from_secs(5);
/// Replies that may wait for their `--delay` at once.
const MAX_HELD_REPLIES: usize = 100_000;
/// Jobs done in one pass between reads of the connection.
const PASS_JOBS: usize = 2000;
/// The longest single wait, so signals and summaries are timely.
const TICK: Duration = Duration::from_millis(200);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// One simulated device.
struct Device {
    id: String,
    n: u64,
    /// Per publication: its counter and walk states.
    seq: Vec<u64>,
    walks: Vec<Vec<Option<f64>>>,
    reply_walks: Vec<Option<f64>>,
}

/// A timed job.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// Publish entry `entry` for device `device`.
    Publish { device: usize, entry: usize },
    /// A delayed reply.
    Reply { slot: u64 },
}

/// A reply waiting for its delay.
struct Held {
    topic: String,
    payload: Vec<u8>,
    line: String,
    /// The same for `-o jsonl`: device, command, correlation id, code.
    fields: serde_json::Value,
    received: Instant,
}

#[derive(Default)]
struct Counts {
    commands: u64,
    answered: u64,
    failed: u64,
    dropped: u64,
    bad: u64,
    ignored: u64,
    published: u64,
    not_published: u64,
    /// Every QoS 1/2 message sent (replies and unasked), and how many of
    /// them the broker acknowledged.
    sent: u64,
    acked: u64,
    /// Commands not answered because the reply could not be made.
    unanswered: u64,
    /// Publish periods skipped because the fleet fell behind.
    late: u64,
    /// Commands not answered because too many replies were waiting.
    overloaded: u64,
}

pub fn run(ctx: &Context, args: SimulateArgs) -> Result<ExitCode> {
    let Context { schema, profile } = ctx;
    for (name, rate) in [
        ("--fail-rate", args.fail_rate),
        ("--drop-rate", args.drop_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(UsageError(format!("{name} {rate}: a share between 0 and 1")).into());
        }
    }
    let delay = match &args.delay {
        None => None,
        Some(d) => Some(parse_delay(d).map_err(|e| UsageError(format!("--delay {d}: {e}")))?),
    };
    let fill = match args.fill {
        FillArg::Random => Fill::Random,
        FillArg::Empty => Fill::Empty,
    };
    let command = schema.message_or_default(None, profile.command.as_deref())?;
    let response = match profile.response.as_deref() {
        Some(r) => schema.message(r)?,
        None => schema.infer_reply(&command).ok_or_else(|| {
            UsageError(format!(
                "no response type: set response = \"...\" in the profile (no message of the schema looks like the reply to {})",
                command.full_name()
            ))
        })?,
    };
    let sim = &profile.simulate;
    let responder = Responder::new(
        command.clone(),
        response.clone(),
        &sim.replies,
        sim.error_code.as_deref(),
        fill,
    )?;
    let command_topic = profile.mqtt.command_topic.clone().ok_or_else(|| {
        UsageError(
            "no command topic: set command_topic in the [mqtt] section of the profile".into(),
        )
    })?;
    let response_topic = profile.mqtt.response_topic.clone().ok_or_else(|| {
        UsageError(
            "no response topic: set response_topic in the [mqtt] section of the profile".into(),
        )
    })?;
    // The field that names a device in the topics (vehicle_id): set in every
    // message a device sends.
    let id_field = field_refs(&command_topic).first().map(|s| (*s).to_owned());
    let (filter, id_level) = command_filter(&command_topic)?;

    // The fleet.
    let devices = fleet(&args, sim.ids.as_deref(), id_field.is_some())?;
    let index: HashMap<String, usize> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i))
        .collect();
    let mut devices = devices;

    // What they publish unasked.
    let mut publications = Vec::new();
    if !args.no_publish {
        for (i, p) in sim.publish.iter().enumerate() {
            let what = format!("[[simulate.publish]] entry {} ({})", i + 1, p.topic);
            let desc = schema
                .message(&p.type_name)
                .map_err(|e| anyhow!("{what}: {e:#}"))?;
            let period = parse_duration(&p.period).map_err(|e| anyhow!("{what}: period: {e:#}"))?;
            if period < Duration::from_millis(10) {
                return Err(anyhow!("{what}: period {}: at least 10ms", p.period));
            }
            let body = p
                .json
                .as_deref()
                .map(Template::parse)
                .transpose()
                .map_err(|e| anyhow!("{what}: {e}"))?;
            publications.push(Publication {
                desc,
                topic: p.topic.clone(),
                period,
                body,
                fill,
            });
        }
    }
    for d in &mut devices {
        d.seq = vec![0; publications.len()];
        d.walks = vec![Vec::new(); publications.len()];
    }
    // Each entry made once now, for the first device: a template or topic
    // that cannot work is refused before anything runs.
    for (i, p) in publications.iter().enumerate() {
        let what = format!("[[simulate.publish]] entry {} ({})", i + 1, p.topic);
        let mut scratch = StdRng::seed_from_u64(0);
        let msg = p
            .make(
                id_field.as_deref(),
                &mut Ctx {
                    id: &devices[0].id,
                    n: devices[0].n,
                    seq: 1,
                    rng: &mut scratch,
                    walks: &mut Vec::new(),
                },
            )
            .map_err(|e| anyhow!("{what}: {e:#}"))?;
        crate::cmd::request::render_topic(&p.topic, &msg, true)
            .map_err(|e| anyhow!("{what}: {e:#}"))?;
    }

    let log = Log {
        jsonl: args.output == SimulateLog::Jsonl,
        quiet: args.quiet,
    };
    poll::on_stop_signals(on_stop_signal);

    // The broker.
    let mut _embedded = None;
    let mut broker_args = args.broker.clone();
    let url = match broker_args.broker.as_deref() {
        Some("embedded") => {
            let (broker, url) = start_embedded()?;
            _embedded = Some(broker);
            log.always(&format!(
                "embedded MQTT broker (rumqttd, MQTT 5) on {url}, loopback only; for production use mosquitto, EMQX or HiveMQ"
            ));
            Some(url)
        }
        other => other.map(str::to_owned),
    };
    broker_args.broker = url;
    let mut cfg = super::broker_config(&broker_args, profile, None)?;
    if cfg.client_id.is_none() {
        cfg.client_id = Some(format!(
            "commander-sim-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
    }
    let qos = mqtt::qos(broker_args.qos)?;
    let mut listener = match Listener::start(cfg, vec![filter.clone()], qos) {
        Ok(l) => l,
        Err(_) if STOP.load(Ordering::Relaxed) => return Ok(ExitCode::from(130)),
        Err(e) => return Err(e),
    };
    let names = match devices.len() {
        1 => devices[0].id.clone(),
        n => format!("{n} devices ({} .. {})", devices[0].id, devices[n - 1].id),
    };
    log.always(&format!(
        "simulating {names} at {}: commands on {filter}, replies on {response_topic}{}",
        listener.url,
        publications
            .iter()
            .map(|p| format!("; {} every {}", p.desc.name(), humantime(p.period)))
            .collect::<String>()
    ));

    let seed = args.seed.unwrap_or_else(|| {
        let b = uuid::Uuid::new_v4();
        u64::from_le_bytes(b.as_bytes()[..8].try_into().expect("16 bytes"))
    });
    let mut rng = StdRng::seed_from_u64(seed);
    // Unasked messages draw from their own generator: replies repeat for the
    // same commands whatever the timing of the telemetry.
    let mut pub_rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut jobs: BinaryHeap<Reverse<(Instant, u64, Job)>> = BinaryHeap::new();
    let mut order = 0u64;
    let start = Instant::now();
    // Each device's first message somewhere in the first period.
    for (e, p) in publications.iter().enumerate() {
        for d in 0..devices.len() {
            let offset = p.period.mul_f64(d as f64 / devices.len() as f64);
            order += 1;
            jobs.push(Reverse((
                start + offset,
                order,
                Job::Publish {
                    device: d,
                    entry: e,
                },
            )));
        }
    }
    // Replies waiting for their delay, by slot; a slot is freed when sent.
    let mut held: HashMap<u64, Held> = HashMap::new();
    let mut next_slot = 0u64;
    let mut in_flight: HashMap<u16, ()> = HashMap::new();
    let mut counts = Counts::default();
    let mut last_summary = Instant::now();
    let pub_qos = qos;

    loop {
        if STOP.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        // Jobs due (publishes wait while the broker's window is full).
        // A pass does at most this many jobs, so commands are read and a
        // stop is noticed even when the devices fall behind.
        let mut budget = PASS_JOBS;
        while let Some(Reverse((due, _, _))) = jobs.peek() {
            if *due > now || budget == 0 {
                break;
            }
            budget -= 1;
            if pub_qos != QoS::AtMostOnce
                && in_flight.len() >= usize::from(listener.broker_receive_max())
            {
                break;
            }
            let Some(Reverse((due, _, job))) = jobs.pop() else {
                break;
            };
            match job {
                Job::Publish { device, entry } => {
                    let p = &publications[entry];
                    let d = &mut devices[device];
                    d.seq[entry] += 1;
                    let made = p.make(
                        id_field.as_deref(),
                        &mut Ctx {
                            id: &d.id,
                            n: d.n,
                            seq: d.seq[entry],
                            rng: &mut pub_rng,
                            walks: &mut d.walks[entry],
                        },
                    );
                    order += 1;
                    // A period missed (the fleet fell behind) is skipped, not
                    // made up for in a burst.
                    let mut next = due + p.period;
                    if next < now {
                        counts.late += 1;
                        next = now + p.period;
                    }
                    jobs.push(Reverse((next, order, Job::Publish { device, entry })));
                    let msg = match made {
                        Ok(m) => m,
                        Err(e) => {
                            log.error(&format!(
                                "{}: cannot make {} for {}: {e:#}",
                                p.topic,
                                p.desc.full_name(),
                                d.id
                            ));
                            continue;
                        }
                    };
                    let topic = match crate::cmd::request::render_topic(&p.topic, &msg, true) {
                        Ok(t) => t,
                        Err(e) => {
                            log.error(&format!("{e:#}"));
                            continue;
                        }
                    };
                    match listener.publish(&topic, pub_qos, crate::wire::encode_to_vec(&msg)) {
                        Ok(Some(pkid)) => {
                            counts.published += 1;
                            if pub_qos != QoS::AtMostOnce {
                                counts.sent += 1;
                                in_flight.insert(pkid, ());
                            }
                        }
                        Ok(None) => counts.not_published += 1,
                        Err(e) => {
                            counts.not_published += 1;
                            log.note(&format!("{e:#}; reconnecting"));
                        }
                    }
                }
                Job::Reply { slot } => {
                    if let Some(h) = held.remove(&slot) {
                        if send_reply(&mut listener, pub_qos, &mut in_flight, &log, h) {
                            counts.answered += 1;
                            counts.sent += u64::from(pub_qos != QoS::AtMostOnce);
                        }
                    }
                }
            }
        }
        if last_summary.elapsed() >= SUMMARY_EVERY {
            log.summary(&counts, false);
            last_summary = Instant::now();
        }
        // Wait for the broker, at most until the next job; with the
        // broker's window full, until it acknowledges something (not a
        // spin on jobs that cannot go yet).
        let window_full = pub_qos != QoS::AtMostOnce
            && in_flight.len() >= usize::from(listener.broker_receive_max());
        let wait = match jobs.peek() {
            Some(Reverse((due, _, _))) if !window_full => {
                due.saturating_duration_since(Instant::now())
            }
            _ => TICK,
        }
        .min(TICK);
        let event = listener.next(wait)?;
        match event {
            Event::Message(d) => {
                listener.written(d.token);
                counts.commands += 1;
                let received = Instant::now();
                let Some(id) = d.topic.split('/').nth(id_level).map(str::to_owned) else {
                    continue;
                };
                let Some(&device) = index.get(&id) else {
                    counts.ignored += 1;
                    continue;
                };
                let dev = &mut devices[device];
                let topic_for = |reply: &DynamicMessage| {
                    crate::cmd::request::render_topic(&response_topic, reply, true)
                };
                let cmd = match DynamicMessage::decode(command.clone(), d.payload.as_ref()) {
                    Ok(c) => c,
                    Err(e) => {
                        counts.bad += 1;
                        let e = crate::wire::diagnose(&command, &d.payload)
                            .unwrap_or_else(|| e.to_string());
                        let what = format!(
                            "{id}: a command that does not decode as {}: {e} ({} bytes: {})",
                            command.full_name(),
                            d.payload.len(),
                            hex_head(&d.payload)
                        );
                        match responder.bad_command(id_field.as_deref(), &id) {
                            Some(reply) => match topic_for(&reply) {
                                Ok(topic) => {
                                    let code = return_code_of(&reply)
                                        .or_else(|| responder.error_name())
                                        .unwrap_or_default();
                                    let line = format!("{what}; answered {code}");
                                    let fields = serde_json::json!({"device": id,
                                        "error": what, "return_code": code});
                                    let sent = send_reply(
                                        &mut listener,
                                        pub_qos,
                                        &mut in_flight,
                                        &log,
                                        Held {
                                            topic,
                                            payload: crate::wire::encode_to_vec(&reply),
                                            line,
                                            fields,
                                            received,
                                        },
                                    );
                                    counts.sent += u64::from(sent && pub_qos != QoS::AtMostOnce);
                                }
                                Err(e) => log.error(&format!("{what}; no reply: {e:#}")),
                            },
                            None => log.error(&format!(
                                "{what}; not answered (the response has no return code)"
                            )),
                        }
                        continue;
                    }
                };
                let corr = correlation_of(&cmd);
                if args.drop_rate > 0.0 && rng.random_bool(args.drop_rate) {
                    counts.dropped += 1;
                    let selected = selected_name(&responder, &cmd, &id, &mut rng, dev);
                    log.event(
                        &format!("{id} {selected} {corr}: dropped (--drop-rate)"),
                        &serde_json::json!({"event":"dropped","device":id,"command":selected,"correlation_id":corr}),
                    );
                    continue;
                }
                let fail = args.fail_rate > 0.0 && rng.random_bool(args.fail_rate);
                let answer = responder.answer(
                    &cmd,
                    fail,
                    id_field.as_deref(),
                    &mut Ctx {
                        id: &dev.id,
                        n: dev.n,
                        seq: counts.commands,
                        rng: &mut rng,
                        walks: &mut dev.reply_walks,
                    },
                );
                let answer = match answer {
                    Ok(a) => a,
                    Err(e) => {
                        counts.unanswered += 1;
                        log.error(&format!("{id}: cannot make the reply: {e:#}"));
                        continue;
                    }
                };
                let topic = match topic_for(&answer.reply) {
                    Ok(t) => t,
                    Err(e) => {
                        counts.unanswered += 1;
                        log.error(&format!("{id}: no reply topic: {e:#}"));
                        continue;
                    }
                };
                if answer.failed {
                    counts.failed += 1;
                }
                let code = return_code_of(&answer.reply).unwrap_or_else(|| "reply".to_owned());
                let selected = answer
                    .selected
                    .clone()
                    .unwrap_or_else(|| "command".to_owned());
                let line = format!("{id} {selected} {corr}: {code}");
                let fields = serde_json::json!({"device": id, "command": selected,
                    "correlation_id": corr, "return_code": code});
                let h = Held {
                    topic,
                    payload: crate::wire::encode_to_vec(&answer.reply),
                    line,
                    fields,
                    received,
                };
                match delay {
                    // Held replies are bounded: beyond this, a command that
                    // would wait is not answered (counted), so a flood cannot
                    // grow memory without end.
                    Some(_) if held.len() >= MAX_HELD_REPLIES => {
                        counts.overloaded += 1;
                        log.event(
                            &format!(
                                "{}: not answered, {MAX_HELD_REPLIES} replies already wait for their --delay",
                                h.line
                            ),
                            &serde_json::json!({"event":"overloaded","held":MAX_HELD_REPLIES}),
                        );
                    }
                    Some((low, high)) => {
                        let wait = if high > low {
                            low + (high - low).mul_f64(rng.random_range(0.0..=1.0))
                        } else {
                            low
                        };
                        next_slot += 1;
                        held.insert(next_slot, h);
                        order += 1;
                        jobs.push(Reverse((
                            received + wait,
                            order,
                            Job::Reply { slot: next_slot },
                        )));
                    }
                    None => {
                        if send_reply(&mut listener, pub_qos, &mut in_flight, &log, h) {
                            counts.answered += 1;
                            counts.sent += u64::from(pub_qos != QoS::AtMostOnce);
                        }
                    }
                }
            }
            Event::Published(pkid) => {
                if in_flight.remove(&pkid).is_some() {
                    counts.acked += 1;
                }
            }
            Event::Reconnected { note, .. } => {
                // Packet ids of the old connection mean nothing now.
                in_flight.clear();
                log.note(&note);
            }
            Event::Note(n) => {
                in_flight.clear();
                log.note(&n);
            }
            Event::Idle | Event::Handled => {}
            Event::Interrupted => {}
        }
        if listener.pending() > 0 {
            if let Err(e) = listener.flush() {
                log.note(&format!("{e:#}; reconnecting"));
            }
        }
    }
    // Replies still waiting for their delay go now; then goodbye.
    let mut waiting: Vec<(u64, Held)> = held.into_iter().collect();
    waiting.sort_by_key(|(slot, _)| *slot);
    for (_, h) in waiting {
        if send_reply(&mut listener, pub_qos, &mut in_flight, &log, h) {
            counts.answered += 1;
            counts.sent += u64::from(pub_qos != QoS::AtMostOnce);
        }
    }
    let until = Instant::now() + Duration::from_millis(500);
    while !in_flight.is_empty() && Instant::now() < until {
        match listener.next(Duration::from_millis(50))? {
            Event::Published(pkid) if in_flight.remove(&pkid).is_some() => counts.acked += 1,
            Event::Interrupted => break,
            _ => {}
        }
    }
    listener.close();
    log.summary(&counts, true);
    Ok(ExitCode::from(130))
}

/// Publishes a reply and logs it; false when it could not be sent.
fn send_reply(
    listener: &mut Listener,
    qos: QoS,
    in_flight: &mut HashMap<u16, ()>,
    log: &Log,
    h: Held,
) -> bool {
    let bytes = h.payload.len();
    match listener.publish(&h.topic, qos, h.payload) {
        Ok(Some(pkid)) => {
            if qos != QoS::AtMostOnce {
                in_flight.insert(pkid, ());
            }
            let ms = h.received.elapsed().as_secs_f64() * 1000.0;
            log.event(
                &format!("{} → {} ({bytes} bytes) in {ms:.1} ms", h.line, h.topic),
                &{
                    let mut j = h.fields.clone();
                    if let Some(m) = j.as_object_mut() {
                        m.insert("event".into(), "reply".into());
                        m.insert("topic".into(), h.topic.clone().into());
                        m.insert("bytes".into(), bytes.into());
                        m.insert("latency_ms".into(), ((ms * 1000.0).round() / 1000.0).into());
                    }
                    j
                },
            );
            true
        }
        Ok(None) => {
            log.note(&format!("{}: not answered: not connected", h.line));
            false
        }
        Err(e) => {
            log.note(&format!("{}: not answered: {e:#}", h.line));
            false
        }
    }
}

/// The command topic as a subscription (`{field}` levels as `+`), and the
/// level that holds the device id.
fn command_filter(template: &str) -> Result<(String, usize)> {
    let mut id_level = None;
    let levels: Vec<String> = template
        .split('/')
        .enumerate()
        .map(|(i, level)| {
            if level.contains('{') {
                if id_level.is_none() {
                    id_level = Some(i);
                }
                "+".to_owned()
            } else {
                level.to_owned()
            }
        })
        .collect();
    let id_level = id_level.ok_or_else(|| {
        UsageError(format!(
            "command_topic '{template}' has no {{field}} level to tell the devices apart (as /device/{{vehicle_id}}/command)"
        ))
    })?;
    Ok((levels.join("/"), id_level))
}

/// The devices: `--vehicle` ids, or `--vehicles N` from the ids template.
fn fleet(args: &SimulateArgs, ids: Option<&str>, _has_id_field: bool) -> Result<Vec<Device>> {
    let make = |id: String, n: u64| Device {
        id,
        n,
        seq: Vec::new(),
        walks: Vec::new(),
        reply_walks: Vec::new(),
    };
    if !args.vehicle.is_empty() {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (i, id) in args.vehicle.iter().enumerate() {
            if id.is_empty() || id.contains(['/', '+', '#']) {
                return Err(UsageError(format!(
                    "--vehicle {id:?}: an id is a topic level: not empty, no '/', '+' or '#'"
                ))
                .into());
            }
            if seen.insert(id.clone()) {
                out.push(make(id.clone(), i as u64 + 1));
            }
        }
        return Ok(out);
    }
    let n = args.vehicles.unwrap_or(1);
    let template =
        Template::parse(ids.unwrap_or("SIM{n:04}")).map_err(|e| anyhow!("[simulate] ids: {e}"))?;
    if n > 1 && !template.names_devices() {
        return Err(anyhow!(
            "[simulate] ids has no {{n}}: every one of the {n} devices would have the same id"
        ));
    }
    let mut rng = StdRng::seed_from_u64(0);
    let mut walks = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for i in 1..=n {
        let id = template.render(&mut Ctx {
            id: "",
            n: i,
            seq: 0,
            rng: &mut rng,
            walks: &mut walks,
        });
        if id.is_empty() || id.contains(['/', '+', '#']) {
            return Err(anyhow!(
                "[simulate] ids gives {id:?} for device {i}: an id is a topic level: not empty, no '/', '+' or '#'"
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(anyhow!(
                "[simulate] ids gives {id:?} twice (device {i}): use {{n}} so that every id differs"
            ));
        }
        out.push(make(id, i));
    }
    Ok(out)
}

/// `200ms` or `100ms..2s`.
fn parse_delay(text: &str) -> Result<(Duration, Duration)> {
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (parse_duration(a)?, parse_duration(b)?);
            if a > b {
                return Err(anyhow!("the range runs from the shorter to the longer"));
            }
            Ok((a, b))
        }
        None => {
            let d = parse_duration(text)?;
            Ok((d, d))
        }
    }
}

/// An embedded broker on 127.0.0.1:1883, or a free port when that is taken.
///
/// A port that looked free can be taken by another process before the
/// broker binds it (two simulators started at once): the broker's thread
/// then fails without a word, and the port answers with someone else's
/// broker. So the broker is asked whether it is ours: a message published to
/// the port on a topic of our own must reach a subscriber inside this
/// process. If not, another free port is tried.
pub(crate) fn start_embedded() -> Result<(std::thread::JoinHandle<()>, String)> {
    let free_port =
        || -> Result<u16> { Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()) };
    let mut port = match TcpListener::bind("127.0.0.1:1883") {
        Ok(l) => {
            drop(l);
            1883
        }
        Err(_) => free_port()?,
    };
    for _ in 0..5 {
        let mut broker = rumqttd::Broker::new(embedded_config(port));
        let probe = format!("commander/probe/{}", uuid::Uuid::new_v4().simple());
        let (mut probe_tx, mut probe_rx) = broker
            .link("commander-probe")
            .map_err(|e| anyhow!("the embedded broker: {e}"))?;
        probe_tx
            .subscribe(probe.clone())
            .map_err(|e| anyhow!("the embedded broker: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("embedded-broker".into())
            .spawn(move || {
                let _ = broker.start();
            })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > until {
                return Err(anyhow!("the embedded broker did not start on {addr}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let url = format!("mqtt://127.0.0.1:{port}");
        let cfg = mqtt::BrokerConfig {
            url: url.clone(),
            keep_alive: Duration::from_secs(30),
            ..Default::default()
        };
        let mut ours = false;
        if let Ok(mut conn) = crate::transport::mqtt_conn::Conn::open(&cfg, Duration::from_secs(2))
        {
            if conn
                .publish(&probe, QoS::AtMostOnce, b"probe".to_vec())
                .is_ok()
            {
                let until = std::time::Instant::now() + Duration::from_secs(2);
                while std::time::Instant::now() < until {
                    match probe_rx.recv_deadline(until) {
                        Ok(Some(rumqttd::Notification::Forward(_))) => {
                            ours = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
            conn.disconnect();
        }
        if ours {
            return Ok((thread, url));
        }
        port = free_port()?;
    }
    Err(anyhow!(
        "the embedded broker could not get a port of its own (every port it tried was taken by another broker)"
    ))
}

fn embedded_config(port: u16) -> rumqttd::Config {
    let server = rumqttd::ServerSettings {
        name: format!("v5-{port}"),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: rumqttd::ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 1 << 20,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 10_000,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v5: Some(HashMap::from([("1".to_owned(), server)])),
        ..Default::default()
    }
}

fn correlation_of(cmd: &DynamicMessage) -> String {
    ["correlation_id", "message_id"]
        .iter()
        .find_map(|n| {
            cmd.get_field_by_name(n)
                .and_then(|v| v.as_str().map(str::to_owned))
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "(no correlation id)".to_owned())
}

fn return_code_of(reply: &DynamicMessage) -> Option<String> {
    let f = reply.descriptor().fields().find(|f| {
        matches!(f.kind(), prost_reflect::Kind::Enum(_))
            && [
                "return_code",
                "result_code",
                "status",
                "result",
                "code",
                "status_code",
            ]
            .contains(&f.name())
    })?;
    let n = reply.get_field(&f).as_enum_number()?;
    match f.kind() {
        prost_reflect::Kind::Enum(e) => e.get_value(n).map(|v| v.name().to_owned()),
        _ => None,
    }
}

/// The command's selected value name (for a dropped command's log line).
fn selected_name(
    responder: &Responder,
    cmd: &DynamicMessage,
    id: &str,
    rng: &mut StdRng,
    dev: &mut Device,
) -> String {
    let mut ctx = Ctx {
        id,
        n: dev.n,
        seq: 0,
        rng,
        walks: &mut dev.reply_walks,
    };
    responder
        .answer(cmd, false, None, &mut ctx)
        .ok()
        .and_then(|a| a.selected)
        .unwrap_or_else(|| "command".to_owned())
}

fn hex_head(b: &[u8]) -> String {
    let shown = hex::encode(&b[..b.len().min(16)]);
    if b.len() > 16 {
        format!("{shown}…")
    } else {
        shown
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// stderr: events, notes, errors, summaries.
struct Log {
    jsonl: bool,
    quiet: bool,
}

impl Log {
    fn now() -> String {
        prost_types::Timestamp::from(std::time::SystemTime::now()).to_string()
    }

    fn emit(&self, text: &str, json: serde_json::Value) {
        let mut err = std::io::stderr().lock();
        if self.jsonl {
            let mut obj = json;
            if let Some(m) = obj.as_object_mut() {
                m.insert("time".into(), Log::now().into());
            }
            let _ = writeln!(err, "{obj}");
        } else {
            let _ = writeln!(err, "{text}");
        }
    }

    fn always(&self, text: &str) {
        self.emit(text, serde_json::json!({"event":"start","message":text}));
    }

    fn event(&self, text: &str, json: &serde_json::Value) {
        if !self.quiet {
            self.emit(text, json.clone());
        }
    }

    fn note(&self, text: &str) {
        self.emit(text, serde_json::json!({"event":"note","message":text}));
    }

    fn error(&self, text: &str) {
        self.emit(
            &format!("error: {text}"),
            serde_json::json!({"event":"error","message":text}),
        );
    }

    fn summary(&self, c: &Counts, last: bool) {
        if self.quiet && !last {
            return;
        }
        let text = format!(
            "{}: {} commands, {} answered ({} with the error code), {} dropped, {} did not decode, {} for other devices{}; {} published unasked{}; {} of {} sent acknowledged by the broker{}",
            if last { "done" } else { "summary" },
            c.commands,
            c.answered,
            c.failed,
            c.dropped,
            c.bad,
            c.ignored,
            match (c.unanswered, c.overloaded) {
                (0, 0) => String::new(),
                (u, 0) => format!(", {u} not answered (the reply could not be made)"),
                (0, o) => format!(", {o} not answered (too many replies waiting for --delay)"),
                (u, o) => format!(
                    ", {u} not answered (the reply could not be made), {o} not answered (too many replies waiting for --delay)"
                ),
            },
            c.published,
            if c.late > 0 {
                format!(" ({} periods skipped: the fleet fell behind)", c.late)
            } else {
                String::new()
            },
            c.acked,
            c.sent,
            if c.not_published > 0 {
                format!(", {} not sent while disconnected", c.not_published)
            } else {
                String::new()
            }
        );
        self.emit(
            &text,
            serde_json::json!({"event": if last {"done"} else {"summary"},
                "commands":c.commands,"answered":c.answered,"failed":c.failed,"dropped":c.dropped,
                "bad":c.bad,"ignored":c.ignored,"unanswered":c.unanswered,"overloaded":c.overloaded,
                "published":c.published,
                "late":c.late,"sent":c.sent,"acknowledged":c.acked,
                "not_published":c.not_published}),
        );
    }
}
