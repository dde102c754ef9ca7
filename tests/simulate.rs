//! `commander simulate` (SPEC 11) run as a user runs it, against a real
//! broker, with `send` and `listen` as the other side: replies linked to the
//! command's subtype by name and correlated as `send` matches them, for the
//! sample protocol and for `examples/acme`; `--fail-rate`, `--drop-rate`,
//! `--delay`, `--seed`, `--fill empty`, `-q`, `-o jsonl`; a command that does
//! not decode; the telemetry and events of a fleet, from the built-in
//! profile and from `[[simulate.publish]]` templates of a profile written
//! here; a broker restart; usage errors; `--broker embedded`.
//!
//! Each test starts its own broker on a free loopback port
//! (tests/support/broker.rs: Debian's mosquitto when it is on PATH, else an
//! embedded rumqttd in the test process, as in tests/mqtt_send.rs), except
//! the one about `--broker embedded`, whose broker is the simulator's own
//! (on 127.0.0.1:1883, or a free port when that is taken: the test reads
//! the URL it prints).
//!
//! Every wait is bounded and generous (a loaded 2-core machine must not make
//! them fail); no time is asserted but the lower bound of a `--delay`. A
//! child still running when a test fails is killed. `COMMANDER_BIN=PATH`
//! runs another build.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::time::Duration;

use commander::schema::Schema;
use prost_reflect::{DynamicMessage, SerializeOptions};
use serde_json::Value;
use support::TempDir;
use support::broker::{Broker, BrokerOpts, RawClient};
use support::proc::{Done, Proc, tail};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

/// How long `simulate` may take to say it is subscribed.
const READY: Duration = Duration::from_secs(30);
/// How long a `send` or a bounded `listen` may run before the test kills it.
const LIMIT: Duration = Duration::from_secs(60);
/// `send --timeout`: far above a reply's real latency.
const REPLY_TIMEOUT: &str = "20s";
/// How long to wait for messages a fleet publishes on its periods.
const STREAM: Duration = Duration::from_secs(60);

/// Runs `commander ARGS` to its end (at most [`LIMIT`]).
#[track_caller]
fn exec(args: &[&str]) -> Done {
    Proc::spawn(args).finish(LIMIT)
}

// ---------------------------------------------------------------------------
// The simulator.

/// A running `commander simulate`, subscribed (it has said "simulating").
struct Sim {
    proc: Proc,
    /// The broker it is connected to.
    url: String,
}

impl Sim {
    /// `commander simulate --broker BROKER ARGS`; `broker` is a URL or
    /// `embedded` (then [`Sim::url`] is the one it prints).
    #[track_caller]
    fn start(broker: &str, args: &[&str]) -> Sim {
        let mut all = vec!["simulate", "--broker", broker];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn(&all);
        // Said once the subscription is confirmed (SUBACK).
        proc.expect(READY, "the line 'simulating ...'", |p| {
            p.stderr().lines().any(|l| l.starts_with("simulating "))
        });
        let url = if broker == "embedded" {
            embedded_url(&proc.stderr())
        } else {
            broker.to_owned()
        };
        Sim { proc, url }
    }

    fn log(&self) -> String {
        self.proc.stderr()
    }

    /// Waits until its log has a line containing `text`.
    #[track_caller]
    fn expect_log(&mut self, text: &str) {
        self.proc
            .expect(READY, &format!("a log line with {text:?}"), |p| {
                p.stderr().contains(text)
            });
    }

    /// Stops it with `sig`: it ends with exit 130 and a `done:` line, which
    /// is returned.
    #[track_caller]
    fn stop(self, sig: libc::c_int) -> String {
        let done = self.proc.stop(sig);
        assert_eq!(
            done.code,
            Some(130),
            "simulate exits 130 at SIGINT/SIGTERM\nstderr:\n{}",
            tail(&done.stderr, 40)
        );
        assert!(
            !done.stderr.contains("panicked"),
            "simulate panicked:\n{}",
            done.stderr
        );
        done.stderr
            .lines()
            .find(|l| l.starts_with("done: "))
            .unwrap_or_else(|| panic!("no 'done:' line at the end:\n{}", done.stderr))
            .to_owned()
    }
}

/// The URL in "embedded MQTT broker (...) on mqtt://127.0.0.1:PORT, ...".
#[track_caller]
fn embedded_url(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.starts_with("embedded MQTT broker"))
        .unwrap_or_else(|| panic!("no 'embedded MQTT broker' line:\n{log}"));
    let at = line
        .find("mqtt://")
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let url: String = line[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',')
        .collect();
    let port: u16 = url
        .strip_prefix("mqtt://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a loopback URL with a port: {url:?} in {line:?}"));
    assert_ne!(port, 0, "{line}");
    url
}

// ---------------------------------------------------------------------------
// send and listen.

/// `commander send --broker URL -o json --timeout TIMEOUT MORE --json JSON`.
fn send(url: &str, timeout: &str, more: &[&str], json: &str) -> Done {
    let mut args = vec!["send", "--broker", url, "-o", "json", "--timeout", timeout];
    args.extend_from_slice(more);
    args.extend_from_slice(&["--json", json]);
    exec(&args)
}

/// [`send`], which must succeed: the reply, parsed.
#[track_caller]
fn reply_to(url: &str, more: &[&str], json: &str) -> Value {
    let done = send(url, REPLY_TIMEOUT, more, json);
    assert_eq!(
        done.code,
        Some(0),
        "send {json} got no reply\nstdout:\n{}\nstderr:\n{}",
        done.stdout,
        done.stderr
    );
    serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("send -o json printed no JSON ({e}):\n{}", done.stdout))
}

/// A `commander listen -o jsonl` started before the messages it must see.
struct Listen(Proc);

impl Listen {
    #[track_caller]
    fn start(url: &str, more: &[&str]) -> Listen {
        let mut args = vec!["listen", "--broker", url, "-o", "jsonl"];
        args.extend_from_slice(more);
        let mut proc = Proc::spawn(&args);
        // Said once the subscriptions are confirmed.
        proc.expect(READY, "the line 'listening on ...'", |p| {
            p.stderr().contains("listening on")
        });
        Listen(proc)
    }

    /// The complete records printed so far.
    fn records(p: &Proc) -> Vec<Value> {
        let out = p.stdout();
        let complete = &out[..out.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }

    /// Waits until the records satisfy `enough`, then stops the listener:
    /// every record.
    #[track_caller]
    fn until(mut self, what: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.0.expect(STREAM, what, |p| enough(&Listen::records(p)));
        let done = self.0.stop(libc::SIGINT);
        assert!(
            !done.stderr.contains("panicked"),
            "listen panicked:\n{}",
            done.stderr
        );
        let out = &done.stdout[..done.stdout.rfind('\n').map_or(0, |i| i + 1)];
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// What replies look like.

/// The members of the oneof `response` of cvp.CommandResponseMessage.
static RESPONSE_MEMBERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let desc = SCHEMA.message("cvp.CommandResponseMessage").unwrap();
    let oneof = desc
        .oneofs()
        .find(|o| o.name() == "response")
        .expect("oneof response");
    oneof.fields().map(|f| f.name().to_owned()).collect()
});

/// The members of the reply's oneof that are set.
fn members_set(reply: &Value) -> Vec<String> {
    RESPONSE_MEMBERS
        .iter()
        .filter(|m| reply.get(m.as_str()).is_some())
        .cloned()
        .collect()
}

/// A command of the sample protocol to device `vin`, with its own ids.
fn command(vin: &str, corr: &str, subtype: &str, member: &str) -> String {
    format!(
        r#"{{"message_id":"msg-{corr}","correlation_id":"{corr}","vehicle_id":"{vin}","subtype":"{subtype}","{member}":{{}}}}"#
    )
}

/// The reply is the one to that command: linked, correlated, from `vin`.
#[track_caller]
fn assert_answers(reply: &Value, vin: &str, corr: &str, subtype: &str, member: &str, code: &str) {
    assert_eq!(reply["correlation_id"], corr, "correlation_id: {reply:#}");
    assert_eq!(reply["subtype"], subtype, "subtype: {reply:#}");
    assert_eq!(reply["vehicle_id"], vin, "vehicle_id: {reply:#}");
    assert_eq!(reply["type"], "COMMAND_RESPONSE", "type: {reply:#}");
    assert_eq!(reply["return_code"], code, "return_code: {reply:#}");
    assert_eq!(
        members_set(reply),
        [member],
        "the oneof member linked to {subtype}: {reply:#}"
    );
    let id = reply["message_id"].as_str().unwrap_or_default();
    assert!(
        !id.is_empty() && id != format!("msg-{corr}"),
        "a message_id of its own: {reply:#}"
    );
    assert!(
        reply["time_stamp"].is_string(),
        "a time_stamp of its own: {reply:#}"
    );
}

/// A number in a JSON record: proto3 JSON writes 64-bit integers as
/// strings, and leaves zero out.
#[track_caller]
fn num(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {v}")),
        _ => panic!("not a number: {v}"),
    }
}

/// `x` within `low..=high` (with room for float32 rounding).
#[track_caller]
fn assert_within(what: &str, x: f64, low: f64, high: f64) {
    assert!(
        x >= low - 1e-3 && x <= high + 1e-3,
        "{what} = {x}, not within {low}..{high}"
    );
}

/// A broker of the test's own on a free loopback port.
fn broker() -> Broker {
    Broker::start(BrokerOpts::default())
}

// ---------------------------------------------------------------------------
// 1. Linked, correlated replies.

#[test]
fn send_gets_the_linked_correlated_reply_for_each_subtype() {
    let broker = broker();
    let mut sim = Sim::start(&broker.url(), &["--vehicles", "3", "--no-publish"]);
    // (device, subtype, the command's member, the reply's member): the
    // members are named differently for HORN_AND_LIGHTS and SET_GEOFENCE,
    // and DOOR_LOCK/DOOR_UNLOCK share one reply type: linked by name.
    let cases = [
        ("SIM0001", "ENGINE_START", "engine_start", "engine_start"),
        ("SIM0002", "DOOR_LOCK", "door_lock", "door_lock"),
        (
            "SIM0003",
            "CLIMATE_CONTROL",
            "climate_control",
            "climate_control",
        ),
        (
            "SIM0001",
            "HORN_AND_LIGHTS",
            "horn_lights",
            "horn_and_lights",
        ),
        ("SIM0002", "SET_GEOFENCE", "geofence", "set_geofence"),
        ("SIM0003", "DOOR_UNLOCK", "door_unlock", "door_unlock"),
        (
            "SIM0001",
            "DIAGNOSTICS_REQUEST",
            "diagnostics_request",
            "diagnostics_request",
        ),
    ];
    // First a command for a device the fleet does not have: not answered,
    // counted (the replies to the commands after it show it was read).
    let done = exec(&[
        "send",
        "--broker",
        &sim.url,
        "--no-reply",
        "--json",
        &command("SIM0099", "corr-nobody", "ENGINE_STOP", "engine_stop"),
    ]);
    assert_eq!(done.code, Some(0), "send --no-reply: {}", done.stderr);
    for (i, (vin, subtype, member, reply_member)) in cases.iter().enumerate() {
        let corr = format!("corr-{i}-{}", subtype.to_lowercase());
        let reply = reply_to(&sim.url, &[], &command(vin, &corr, subtype, member));
        assert_answers(&reply, vin, &corr, subtype, reply_member, "SUCCESS");
        // The header the command and the reply share, copied.
        assert_eq!(reply["priority"], "NORMAL", "{reply:#}");
        assert_eq!(reply["version"], 3, "{reply:#}");
        if *subtype == "ENGINE_START" {
            // The built-in profile's [simulate.replies] template.
            let p = &reply["engine_start"];
            assert_eq!(p["auto_stop_in"], "600s", "{reply:#}");
            assert_within("cabin_temp_c", num(&p["cabin_temp_c"]), -10.0, 35.0);
            assert!(p["started_at"].is_string(), "{reply:#}");
        }
        // One line per reply in the log.
        sim.expect_log(&format!("{vin} {subtype} {corr}: SUCCESS"));
    }
    let log_before = sim.log();
    let done = sim.stop(libc::SIGINT);
    assert!(
        !log_before.contains("SIM0099"),
        "a command for another device is not answered:\n{log_before}"
    );
    assert!(
        done.contains("8 commands, 7 answered (0 with the error code), 0 dropped, 0 did not decode, 1 for other devices"),
        "{done}"
    );
}

// ---------------------------------------------------------------------------
// 2. The embedded broker.

#[test]
fn the_embedded_broker_serves_send_and_listen_with_nothing_installed() {
    // Its own broker, in the simulator's process: no Broker here.
    let sim = Sim::start("embedded", &["--vehicles", "2"]);
    assert!(
        sim.url.starts_with("mqtt://127.0.0.1:"),
        "a loopback URL: {}",
        sim.url
    );
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0002", "corr-embedded", "DOOR_UNLOCK", "door_unlock"),
    );
    assert_answers(
        &reply,
        "SIM0002",
        "corr-embedded",
        "DOOR_UNLOCK",
        "door_unlock",
        "SUCCESS",
    );
    // What the fleet publishes unasked comes through the same broker.
    let done = exec(&[
        "listen", "--broker", &sim.url, "-o", "jsonl", "--count", "4",
    ]);
    assert_eq!(done.code, Some(0), "listen --count 4:\n{}", done.stderr);
    let records: Vec<Value> = done
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(records.len(), 4, "{}", done.stdout);
    for r in &records {
        let (vin, kind) = device_topic(r);
        assert!(["SIM0001", "SIM0002"].contains(&vin.as_str()), "{r}");
        assert_eq!(r["type"], type_for(&kind), "{r}");
        assert_eq!(r["message"]["vehicle_id"], vin.as_str(), "{r}");
    }
    let done = sim.stop(libc::SIGTERM);
    assert!(
        done.contains("1 commands, 1 answered (0 with the error code)"),
        "{done}"
    );
}

/// A record's topic `/device/VIN/MQTTPROTOBUF/KIND`: VIN and KIND.
#[track_caller]
fn device_topic(record: &Value) -> (String, String) {
    let topic = record["topic"].as_str().unwrap_or_default();
    match topic.split('/').collect::<Vec<_>>()[..] {
        ["", "device", vin, "MQTTPROTOBUF", kind] => (vin.to_owned(), kind.to_owned()),
        _ => panic!("not a device topic: {record}"),
    }
}

/// The type the built-in profile maps a topic kind to.
#[track_caller]
fn type_for(kind: &str) -> &'static str {
    match kind {
        "telemetry" => "cvp.VehicleTelemetryMessage",
        "vehicleevents" => "cvp.VehicleEventMessage",
        "commandresponse" => "cvp.CommandResponseMessage",
        _ => panic!("a topic nobody publishes on: {kind}"),
    }
}

// ---------------------------------------------------------------------------
// 3. Another schema: examples/acme (header and body, no correlation id).

fn acme_profile() -> String {
    support::repo()
        .join("examples/acme/commander.toml")
        .to_str()
        .unwrap()
        .to_owned()
}

/// An acme command: the whole header but the device (the profile's default,
/// unit-7), and a body.
fn acme_command(i: usize, op: &str, member: &str, payload: &str) -> (String, Value) {
    let header = serde_json::json!({
        "id": format!("acme-{i}"),
        "reply_to": format!("inbox-{i}"),
        "op": op,
        "sent_at": format!("2024-05-01T10:00:0{i}Z"),
    });
    let json = format!(r#"{{"header":{header},"body":{{"{member}":{payload}}}}}"#);
    let mut expected = header;
    expected["device"] = "unit-7".into();
    (json, expected)
}

#[test]
fn acme_devices_answer_with_the_commands_header_and_ok() {
    let broker = broker();
    let profile = acme_profile();
    let mut sim = Sim::start(
        &broker.url(),
        &["--profile", &profile, "--vehicle", "unit-7"],
    );
    let cases = [
        ("SET_LEVEL", "set_level", r#"{"level":-3}"#),
        (
            "READ_SENSOR",
            "probe",
            r#"{"sensor":"t1","channels":[1,2]}"#,
        ),
        ("REBOOT_DEVICE", "reboot_device", r#"{"delay_s":5}"#),
    ];
    for (i, (op, member, payload)) in cases.iter().enumerate() {
        let (json, header) = acme_command(i, op, member, payload);
        let reply = reply_to(&sim.url, &["--profile", &profile, "--any-reply"], &json);
        assert_eq!(reply["header"], header, "the command's header: {reply:#}");
        assert_eq!(reply["ok"], true, "{reply:#}");
        sim.expect_log(&format!("unit-7 {op} (no correlation id): reply"));
    }
    let done = sim.stop(libc::SIGINT);
    assert!(
        done.contains("3 commands, 3 answered (0 with the error code)"),
        "{done}"
    );
}

// ---------------------------------------------------------------------------
// 4. --fail-rate and --drop-rate.

#[test]
fn fail_rate_1_answers_every_command_with_the_error_code() {
    let broker = broker();
    let mut sim = Sim::start(
        &broker.url(),
        &["--vehicles", "2", "--no-publish", "--fail-rate", "1"],
    );
    for (vin, corr, subtype, member) in [
        ("SIM0001", "corr-fail-1", "ENGINE_START", "engine_start"),
        ("SIM0002", "corr-fail-2", "DOOR_LOCK", "door_lock"),
    ] {
        let reply = reply_to(&sim.url, &[], &command(vin, corr, subtype, member));
        assert_eq!(reply["return_code"], "INTERNAL_ERROR", "{reply:#}");
        assert_eq!(reply["correlation_id"], corr, "{reply:#}");
        assert_eq!(reply["subtype"], subtype, "{reply:#}");
        assert_eq!(reply["vehicle_id"], vin, "{reply:#}");
        assert_eq!(reply["type"], "COMMAND_RESPONSE", "{reply:#}");
        sim.expect_log(&format!("{vin} {subtype} {corr}: INTERNAL_ERROR"));
    }
    let done = sim.stop(libc::SIGINT);
    assert!(
        done.contains("2 commands, 2 answered (2 with the error code)"),
        "{done}"
    );

    // A response without a return code (acme.Reply): ok is false.
    let profile = acme_profile();
    let sim = Sim::start(
        &broker.url(),
        &[
            "--profile",
            &profile,
            "--vehicle",
            "unit-7",
            "--fail-rate",
            "1",
        ],
    );
    let (json, header) = acme_command(0, "SET_LEVEL", "set_level", r#"{"level":1}"#);
    let reply = reply_to(&sim.url, &["--profile", &profile, "--any-reply"], &json);
    assert_eq!(reply["header"], header, "{reply:#}");
    // proto3 JSON leaves a false bool out.
    assert!(
        reply.get("ok").is_none_or(|ok| *ok == false),
        "ok is false: {reply:#}"
    );
    sim.stop(libc::SIGTERM);

    // The profile's [simulate] error_code names the value.
    let dir = TempDir::new("sim-fail");
    let profile = write_fleet_profile(&dir);
    let sim = Sim::start(
        &broker.url(),
        &[
            "--profile",
            &profile,
            "--vehicles",
            "1",
            "--no-publish",
            "--fail-rate",
            "1",
        ],
    );
    let reply = reply_to(
        &sim.url,
        &["--profile", &profile],
        &command("truck-01", "corr-busy", "ENGINE_STOP", "engine_stop"),
    );
    assert_eq!(reply["return_code"], "VEHICLE_BUSY", "{reply:#}");
    assert_eq!(reply["correlation_id"], "corr-busy", "{reply:#}");
    sim.stop(libc::SIGINT);
}

#[test]
fn drop_rate_1_answers_nothing_and_send_times_out() {
    let broker = broker();
    let mut sim = Sim::start(
        &broker.url(),
        &["--vehicles", "1", "--no-publish", "--drop-rate", "1"],
    );
    let done = send(
        &sim.url,
        "2s",
        &[],
        &command("SIM0001", "corr-dropped", "ENGINE_START", "engine_start"),
    );
    assert_eq!(
        done.code,
        Some(1),
        "send --timeout 2s to a device that drops everything\nstdout:\n{}\nstderr:\n{}",
        done.stdout,
        done.stderr
    );
    assert!(done.stdout.is_empty(), "no reply printed: {}", done.stdout);
    assert!(
        done.stderr.contains("no reply") && done.stderr.contains("corr-dropped"),
        "the error says no reply came: {}",
        done.stderr
    );
    sim.expect_log("SIM0001 ENGINE_START corr-dropped: dropped (--drop-rate)");
    let done = sim.stop(libc::SIGINT);
    assert!(
        done.contains("1 commands, 0 answered (0 with the error code), 1 dropped"),
        "{done}"
    );
}

// ---------------------------------------------------------------------------
// 5. A command that does not decode.

/// `bytes` decoded as `ty` of the sample protocol, as JSON with the
/// fields' proto names.
#[track_caller]
fn decoded(ty: &str, bytes: &[u8]) -> Value {
    let msg = DynamicMessage::decode(SCHEMA.message(ty).unwrap(), bytes)
        .unwrap_or_else(|e| panic!("not a {ty}: {e}"));
    let opts = SerializeOptions::new().use_proto_field_name(true);
    let mut out = serde_json::Serializer::new(Vec::new());
    msg.serialize_with_options(&mut out, &opts).unwrap();
    serde_json::from_slice(&out.into_inner()).unwrap()
}

#[test]
fn a_command_that_does_not_decode_gets_invalid_payload_and_the_device_goes_on() {
    let broker = broker();
    let mut sim = Sim::start(&broker.url(), &["--vehicles", "2", "--no-publish"]);
    let client = RawClient::start(&broker, "/device/SIM0001/MQTTPROTOBUF/commandresponse");
    // 'g' is field 12 with wire type 7, which does not exist.
    client.publish(
        "/device/SIM0001/MQTTPROTOBUF/command",
        b"garbage\xff\xfe\x00",
    );
    let (topic, payload) = client.next("a reply to the garbage");
    assert_eq!(topic, "/device/SIM0001/MQTTPROTOBUF/commandresponse");
    let reply = decoded("cvp.CommandResponseMessage", &payload);
    assert_eq!(reply["return_code"], "INVALID_PAYLOAD", "{reply:#}");
    assert_eq!(reply["vehicle_id"], "SIM0001", "{reply:#}");
    assert_eq!(reply["type"], "COMMAND_RESPONSE", "{reply:#}");
    sim.expect_log("SIM0001: a command that does not decode as cvp.CommandMessage");
    assert!(
        sim.log().contains("answered INVALID_PAYLOAD"),
        "{}",
        sim.log()
    );

    // The device goes on.
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0001", "corr-after", "ENGINE_STOP", "engine_stop"),
    );
    assert_answers(
        &reply,
        "SIM0001",
        "corr-after",
        "ENGINE_STOP",
        "engine_stop",
        "SUCCESS",
    );
    // The reply the test client saw too.
    let (_, payload) = client.next("the reply to the good command");
    assert_eq!(
        decoded("cvp.CommandResponseMessage", &payload)["correlation_id"],
        "corr-after"
    );
    let done = sim.stop(libc::SIGINT);
    assert!(done.contains("2 commands, "), "{done}");
    assert!(done.contains("1 did not decode"), "{done}");
}

// ---------------------------------------------------------------------------
// 6. What a fleet publishes unasked.

#[test]
fn listen_decodes_the_telemetry_and_events_of_five_vehicles() {
    let broker = broker();
    // First the listener (the built-in profile's [mqtt.types]), so it sees
    // every device's first messages.
    let listen = Listen::start(&broker.url(), &[]);
    let sim = Sim::start(&broker.url(), &["--vehicles", "5"]);
    let want: BTreeSet<String> = (1..=5).map(|n| format!("SIM{n:04}")).collect();
    let seen = |records: &[Value], kind: &str| -> BTreeSet<String> {
        records
            .iter()
            .filter(|r| r["topic"].as_str().is_some_and(|t| t.ends_with(kind)))
            .filter_map(|r| r["message"]["vehicle_id"].as_str().map(str::to_owned))
            .collect()
    };
    // Events come every 10 s, the devices' first ones spread over the first
    // 10 s: this takes about that long.
    let records = listen.until(
        "telemetry and an event from each of SIM0001..SIM0005",
        |r| seen(r, "/telemetry") == want && seen(r, "/vehicleevents") == want,
    );
    let mut sequences: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in &records {
        let (vin, kind) = device_topic(r);
        assert!(want.contains(&vin), "a device of the fleet: {r}");
        assert_eq!(r["type"], type_for(&kind), "decoded with its type: {r}");
        let m = &r["message"];
        assert!(m.is_object() && r.get("error").is_none(), "decoded: {r}");
        assert_eq!(m["vehicle_id"], vin.as_str(), "{r}");
        assert!(
            m.get("correlation_id").is_none(),
            "nothing to correlate: {r}"
        );
        assert!(m["time_stamp"].is_string(), "{r}");
        match kind.as_str() {
            "telemetry" => {
                assert_eq!(m["type"], "TELEMETRY", "{r}");
                // The built-in profile's template.
                assert_eq!(m["ignition"], "ON", "{r}");
                assert_within("speed_kph", num(&m["speed_kph"]), 0.0, 130.0);
                assert_within("fuel_level_pct", num(&m["fuel_level_pct"]), 5.0, 100.0);
                assert_within("engine_rpm", num(&m["engine_rpm"]), 700.0, 4000.0);
                sequences
                    .entry(vin)
                    .or_default()
                    .push(num(&m["sequence"]) as u64);
            }
            "vehicleevents" => assert_eq!(m["type"], "VEHICLE_EVENT", "{r}"),
            _ => panic!("nothing else is published: {r}"),
        }
    }
    for (vin, seq) in &sequences {
        let expected: Vec<u64> = (1..=seq.len() as u64).collect();
        assert_eq!(seq, &expected, "{vin}'s telemetry sequence");
    }
    let done = sim.stop(libc::SIGTERM);
    assert!(done.contains("0 commands, "), "{done}");
}

/// A profile of the sample protocol with topics, ids, a reply template,
/// an error code and publish templates of its own.
const FLEET_PROFILE: &str = r#"
command  = "cvp.CommandMessage"
response = "cvp.CommandResponseMessage"

[defaults]
message_id     = "{uuid}"
correlation_id = "{uuid}"
vehicle_id     = "truck-01"
type           = "COMMAND"

[mqtt]
command_topic  = "/fleet/{vehicle_id}/cmd"
response_topic = "/fleet/{vehicle_id}/reply"

[mqtt.types]
"/fleet/+/reply"  = "cvp.CommandResponseMessage"
"/fleet/+/gauges" = "cvp.VehicleTelemetryMessage"
"/fleet/+/alerts" = "cvp.VehicleEventMessage"

[simulate]
ids        = "truck-{n:02}"
error_code = "VEHICLE_BUSY"

[simulate.replies]
CLIMATE_CONTROL = '{"return_code":"ACCEPTED","climate_control":{"cabin_temp_c":{walk:18..24},"target_temp_c":{random:19..23}}}'

[[simulate.publish]]
topic  = "/fleet/{vehicle_id}/gauges"
type   = "cvp.VehicleTelemetryMessage"
period = "100ms"
json   = '{"sequence":{seq},"speed_kph":{walk:0..130},"engine_rpm":{walk:700..4000},"fuel_level_pct":{random:10..20},"battery_voltage":{random:11.5..14.5},"ambient_temp_c":{random:-5..5},"ignition":"ON"}'

[[simulate.publish]]
topic  = "/fleet/{vehicle_id}/alerts"
type   = "cvp.VehicleEventMessage"
period = "250ms"
json   = '{"event_type":"LOW_BATTERY","severity":"WARNING","sequence":{seq},"low_battery":{"voltage":{random:10.5..11.5},"soc_pct":{walk:5..15}}}'
"#;

/// Writes [`FLEET_PROFILE`] into `dir`: its path.
fn write_fleet_profile(dir: &TempDir) -> String {
    let path = dir.path("commander.toml");
    std::fs::write(&path, FLEET_PROFILE).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The device level of `/fleet/ID/KIND`: ID and KIND.
#[track_caller]
fn fleet_topic(record: &Value) -> (String, String) {
    let topic = record["topic"].as_str().unwrap_or_default();
    match topic.split('/').collect::<Vec<_>>()[..] {
        ["", "fleet", id, kind] => (id.to_owned(), kind.to_owned()),
        _ => panic!("not a fleet topic: {record}"),
    }
}

#[test]
fn publish_and_reply_templates_give_per_device_sequences_and_values_in_range() {
    let broker = broker();
    let dir = TempDir::new("sim-templates");
    let profile = write_fleet_profile(&dir);
    let listen = Listen::start(&broker.url(), &["--profile", &profile]);
    let mut sim = Sim::start(&broker.url(), &["--profile", &profile, "--vehicles", "3"]);
    let ids = ["truck-01", "truck-02", "truck-03"];
    sim.expect_log("3 devices (truck-01 .. truck-03)");

    // A reply from the profile's template.
    let reply = reply_to(
        &sim.url,
        &["--profile", &profile],
        &command(
            "truck-02",
            "corr-climate",
            "CLIMATE_CONTROL",
            "climate_control",
        ),
    );
    assert_eq!(
        reply["return_code"], "ACCEPTED",
        "the template's: {reply:#}"
    );
    assert_eq!(reply["correlation_id"], "corr-climate", "{reply:#}");
    assert_eq!(reply["vehicle_id"], "truck-02", "{reply:#}");
    assert_eq!(reply["subtype"], "CLIMATE_CONTROL", "{reply:#}");
    assert_eq!(members_set(&reply), ["climate_control"], "{reply:#}");
    let cc = &reply["climate_control"];
    assert_within("cabin_temp_c", num(&cc["cabin_temp_c"]), 18.0, 24.0);
    let target = num(&cc["target_temp_c"]);
    assert_within("target_temp_c", target, 19.0, 23.0);
    assert_eq!(target.fract(), 0.0, "whole: {reply:#}");

    let count = |records: &[Value], id: &str, kind: &str| {
        records
            .iter()
            .filter(|r| {
                r["topic"]
                    .as_str()
                    .is_some_and(|t| t == format!("/fleet/{id}/{kind}"))
            })
            .count()
    };
    let records = listen.until("10 gauges and 4 alerts from each of truck-01..03", |r| {
        ids.iter()
            .all(|id| count(r, id, "gauges") >= 10 && count(r, id, "alerts") >= 4)
    });
    sim.stop(libc::SIGINT);

    // Per device and entry: (sequence, the record) in the order received.
    let mut by: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for r in &records {
        let (id, kind) = fleet_topic(r);
        if kind == "reply" {
            continue;
        }
        assert!(ids.contains(&id.as_str()), "{r}");
        assert_eq!(r["message"]["vehicle_id"], id.as_str(), "{r}");
        by.entry((id, kind)).or_default().push(&r["message"]);
    }
    for ((id, kind), msgs) in &by {
        let seq: Vec<u64> = msgs.iter().map(|m| num(&m["sequence"]) as u64).collect();
        let expected: Vec<u64> = (1..=seq.len() as u64).collect();
        assert_eq!(
            seq, expected,
            "{id} {kind}: {{seq}} counts from 1 per device"
        );
        let mut fuel = BTreeSet::new();
        let mut last: Option<(f64, f64)> = None;
        for m in msgs {
            match kind.as_str() {
                "gauges" => {
                    assert_eq!(m["type"], "TELEMETRY", "{m}");
                    assert_eq!(m["ignition"], "ON", "{m}");
                    let speed = num(&m["speed_kph"]);
                    let rpm = num(&m["engine_rpm"]);
                    assert_within("speed_kph", speed, 0.0, 130.0);
                    assert_within("engine_rpm", rpm, 700.0, 4000.0);
                    let f = num(&m["fuel_level_pct"]);
                    assert_within("fuel_level_pct", f, 10.0, 20.0);
                    fuel.insert(f as u64);
                    assert_within("battery_voltage", num(&m["battery_voltage"]), 11.5, 14.5);
                    assert_within("ambient_temp_c", num(&m["ambient_temp_c"]), -5.0, 5.0);
                    // A walk moves by at most 5 % of its range a step (and
                    // a whole walk rounds).
                    if let Some((s0, r0)) = last {
                        assert!(
                            (speed - s0).abs() <= 0.05 * 130.0 + 1.0,
                            "{id}: speed_kph walked from {s0} to {speed}"
                        );
                        assert!(
                            (rpm - r0).abs() <= 0.05 * 3300.0 + 1.0,
                            "{id}: engine_rpm walked from {r0} to {rpm}"
                        );
                    }
                    last = Some((speed, rpm));
                }
                "alerts" => {
                    assert_eq!(m["type"], "VEHICLE_EVENT", "{m}");
                    assert_eq!(m["event_type"], "LOW_BATTERY", "{m}");
                    assert_eq!(m["severity"], "WARNING", "{m}");
                    let lb = &m["low_battery"];
                    assert_within("voltage", num(&lb["voltage"]), 10.5, 11.5);
                    assert_within("soc_pct", num(&lb["soc_pct"]), 5.0, 15.0);
                }
                _ => panic!("{kind}"),
            }
        }
        if kind == "gauges" {
            assert!(
                fuel.len() > 1,
                "{id}: {{random:10..20}} gave {fuel:?} in {} messages",
                msgs.len()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 7. --seed.

/// Replies to the same three commands from a fresh simulator with `seed`,
/// with what is new each time (message ids, times) left out.
fn replies_with_seed(broker: &Broker, seed: &str) -> Vec<Value> {
    let sim = Sim::start(
        &broker.url(),
        &["--vehicles", "1", "--no-publish", "--seed", seed],
    );
    let replies = [
        ("ENGINE_START", "engine_start"),
        ("DOOR_LOCK", "door_lock"),
        ("CLIMATE_CONTROL", "climate_control"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (subtype, member))| {
        let mut reply = reply_to(
            &sim.url,
            &[],
            &command("SIM0001", &format!("corr-seed-{i}"), subtype, member),
        );
        reply.as_object_mut().unwrap().remove("message_id");
        without_times(&mut reply);
        reply
    })
    .collect();
    sim.stop(libc::SIGINT);
    replies
}

/// Replaces every RFC 3339 time (Timestamps are now) with "<time>".
fn without_times(v: &mut Value) {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            if b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && s.ends_with('Z') {
                *s = "<time>".into();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(without_times),
        Value::Object(o) => o.values_mut().for_each(without_times),
        _ => {}
    }
}

#[test]
fn the_same_seed_gives_the_same_replies_to_the_same_commands() {
    let broker = broker();
    let first = replies_with_seed(&broker, "7");
    let again = replies_with_seed(&broker, "7");
    assert_eq!(first, again, "--seed 7 twice");
    // The values are random: another seed gives others.
    let other = replies_with_seed(&broker, "8");
    assert_ne!(first, other, "--seed 7 and --seed 8");
}

// ---------------------------------------------------------------------------
// 8. --delay, a broker restart, bad arguments.

/// The latencies (ms) the log gives for its replies ("... in 1000.7 ms").
fn latencies(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(" → "))
        .filter_map(|l| l.rsplit_once(" in ")?.1.strip_suffix(" ms")?.parse().ok())
        .collect()
}

#[test]
fn delayed_replies_come_after_the_delay_and_at_a_stop_at_once() {
    let broker = broker();
    // A reply waits its delay (the simulator's own account: a lower bound,
    // whatever the machine's load).
    let sim = Sim::start(
        &broker.url(),
        &["--vehicles", "1", "--no-publish", "--delay", "1s..2s"],
    );
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0001", "corr-delayed", "ENGINE_STOP", "engine_stop"),
    );
    assert_answers(
        &reply,
        "SIM0001",
        "corr-delayed",
        "ENGINE_STOP",
        "engine_stop",
        "SUCCESS",
    );
    let log = sim.log();
    let waited = latencies(&log);
    assert!(
        waited.len() == 1 && waited[0] >= 999.0,
        "one reply after at least 1 s: {waited:?}\n{log}"
    );
    sim.stop(libc::SIGINT);

    // A reply still waiting when the simulator stops goes out then.
    let client = RawClient::start(&broker, "/device/SIM0001/MQTTPROTOBUF/commandresponse");
    let mut sim = Sim::start(
        &broker.url(),
        &["--vehicles", "1", "--no-publish", "--delay", "10m"],
    );
    let done = exec(&[
        "send",
        "--broker",
        &sim.url,
        "--no-reply",
        "--json",
        &command("SIM0001", "corr-held", "DOOR_LOCK", "door_lock"),
    ]);
    assert_eq!(done.code, Some(0), "send --no-reply: {}", done.stderr);
    // The summary (every 5 s) says when the command is in.
    sim.expect_log("summary: 1 commands, 0 answered");
    let done = sim.stop(libc::SIGTERM);
    assert!(done.contains("1 commands, 1 answered"), "{done}");
    let (_, payload) = client.next("the held reply, sent at the stop");
    let reply = decoded("cvp.CommandResponseMessage", &payload);
    assert_eq!(reply["correlation_id"], "corr-held", "{reply:#}");
    assert_eq!(reply["return_code"], "SUCCESS", "{reply:#}");
}

#[test]
fn a_device_answers_again_after_the_broker_restarts() {
    if !support::broker::mosquitto_or_skip("a broker restart under the simulator") {
        return;
    }
    let mut broker = broker();
    let mut sim = Sim::start(&broker.url(), &["--vehicles", "2"]);
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0002", "corr-before", "LOCATE_VEHICLE", "locate_vehicle"),
    );
    assert_answers(
        &reply,
        "SIM0002",
        "corr-before",
        "LOCATE_VEHICLE",
        "locate_vehicle",
        "SUCCESS",
    );
    broker.restart();
    sim.expect_log("reconnected to");
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0002", "corr-after", "LOCATE_VEHICLE", "locate_vehicle"),
    );
    assert_answers(
        &reply,
        "SIM0002",
        "corr-after",
        "LOCATE_VEHICLE",
        "locate_vehicle",
        "SUCCESS",
    );
    // Telemetry flows again too.
    let listen = Listen::start(&sim.url, &[]);
    listen.until("telemetry after the restart", |r| {
        r.iter().any(|r| r["type"] == "cvp.VehicleTelemetryMessage")
    });
    let done = sim.stop(libc::SIGINT);
    assert!(done.contains("2 commands, 2 answered"), "{done}");
}

#[test]
fn bad_arguments_are_usage_errors_before_connecting() {
    // Nothing listens on port 1: a usage error must come first.
    let nowhere = "mqtt://127.0.0.1:1";
    for (args, says) in [
        (vec!["--fail-rate", "1.5"], "--fail-rate"),
        (vec!["--drop-rate=-0.1"], "--drop-rate"),
        (vec!["--delay", "2s..1s"], "--delay"),
        (vec!["--delay", "soon"], "--delay"),
        (vec!["--vehicle", "a/b"], "--vehicle"),
        (vec!["--vehicle", "x+"], "--vehicle"),
        (vec!["--vehicles", "0"], "--vehicles"),
        (vec!["--vehicles", "2", "--vehicle", "A"], "--vehicle"),
    ] {
        let mut all = vec!["simulate", "--broker", nowhere];
        all.extend_from_slice(&args);
        let done = exec(&all);
        assert_eq!(
            done.code,
            Some(2),
            "simulate {args:?} is a usage error\nstderr:\n{}",
            done.stderr
        );
        assert!(
            done.stderr.contains(says) && !done.stderr.contains("cannot reach"),
            "simulate {args:?}: {}",
            done.stderr
        );
        assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    }
}

// ---------------------------------------------------------------------------
// 9. What the log and --fill say.

#[test]
fn the_log_as_json_lines_has_a_record_per_event() {
    let broker = broker();
    let url = broker.url();
    let mut proc = Proc::spawn(&[
        "simulate",
        "--broker",
        &url,
        "--vehicles",
        "1",
        "--no-publish",
        "-o",
        "jsonl",
    ]);
    proc.expect(READY, "the start record", |p| {
        p.stderr().contains("\"event\":\"start\"")
    });
    let reply = reply_to(
        &url,
        &[],
        &command("SIM0001", "corr-jsonl", "SPEED_LIMIT", "speed_limit"),
    );
    assert_answers(
        &reply,
        "SIM0001",
        "corr-jsonl",
        "SPEED_LIMIT",
        "speed_limit",
        "SUCCESS",
    );
    proc.expect(READY, "the reply record", |p| {
        p.stderr().contains("\"event\":\"reply\"")
    });
    let done = proc.stop(libc::SIGINT);
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    let records: Vec<Value> = done
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for r in &records {
        assert!(r["event"].is_string() && r["time"].is_string(), "{r}");
    }
    let reply = records
        .iter()
        .find(|r| r["event"] == "reply")
        .expect("a reply record");
    assert_eq!(
        reply["topic"], "/device/SIM0001/MQTTPROTOBUF/commandresponse",
        "{reply}"
    );
    assert_eq!(reply["device"], "SIM0001", "{reply}");
    assert_eq!(reply["command"], "SPEED_LIMIT", "{reply}");
    assert_eq!(reply["correlation_id"], "corr-jsonl", "{reply}");
    assert_eq!(reply["return_code"], "SUCCESS", "{reply}");
    assert!(
        reply["bytes"].is_u64() && reply["latency_ms"].is_number(),
        "{reply}"
    );
    let last = records.last().unwrap();
    assert_eq!(last["event"], "done", "{last}");
    assert_eq!(last["commands"], 1, "{last}");
    assert_eq!(last["answered"], 1, "{last}");
}

#[test]
fn quiet_logs_no_replies_and_fill_empty_leaves_unset_what_nothing_gives() {
    let broker = broker();
    let sim = Sim::start(
        &broker.url(),
        &["--vehicles", "1", "--no-publish", "--fill", "empty", "-q"],
    );
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0001", "corr-empty", "DOOR_LOCK", "door_lock"),
    );
    assert_answers(
        &reply,
        "SIM0001",
        "corr-empty",
        "DOOR_LOCK",
        "door_lock",
        "SUCCESS",
    );
    // Nothing random: the linked member is there, empty.
    assert_eq!(reply["door_lock"], serde_json::json!({}), "{reply:#}");
    // A template still applies.
    let reply = reply_to(
        &sim.url,
        &[],
        &command("SIM0001", "corr-template", "ENGINE_START", "engine_start"),
    );
    assert_eq!(reply["engine_start"]["auto_stop_in"], "600s", "{reply:#}");
    let log = sim.log();
    let done = sim.stop(libc::SIGINT);
    assert!(
        !log.contains("corr-empty") && !log.contains("corr-template"),
        "-q: no line per reply:\n{log}"
    );
    assert!(done.contains("2 commands, 2 answered"), "{done}");
}

// ---------------------------------------------------------------------------
// 10. Defects found.

#[test]
fn simulators_started_at_once_with_embedded_brokers_each_run_their_own() {
    // The race is lost in one round of five or so here: ten rounds.
    const N: usize = 6;
    for round in 1..=10 {
        let sims: Vec<Proc> = (0..N)
            .map(|_| Proc::spawn(&["simulate", "--broker", "embedded", "--no-publish"]))
            .collect();
        let mut urls = BTreeSet::new();
        for mut p in sims {
            p.expect(READY, "the line 'simulating ...'", |p| {
                p.stderr().lines().any(|l| l.starts_with("simulating "))
            });
            urls.insert(embedded_url(&p.stderr()));
            p.stop(libc::SIGINT);
        }
        assert_eq!(
            urls.len(),
            N,
            "round {round}: each its own broker: {urls:?}"
        );
    }
}
