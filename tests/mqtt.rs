//! `commander send` and `commander listen` against a real broker (SPEC 9),
//! run as a user runs them: `--broker mqtt://127.0.0.1:PORT`.
//!
//! Each test starts its own broker on a free loopback port
//! (tests/support/broker.rs): Debian's mosquitto when it is on PATH, else an
//! embedded rumqttd. A broker restart with a persistent session and TLS need
//! mosquitto: without it those tests skip with a notice (or fail under
//! `COMMANDER_REQUIRE_PEERS=1`). Publishers and responders are rumqttc
//! clients in test threads; payloads are encoded with the crate's own
//! encoder from JSON. `COMMANDER_TEST_BROKER=embedded` runs them on rumqttd
//! where mosquitto is installed.
//!
//! Every wait is bounded; a child still running when a test fails is killed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use commander::schema::Schema;
use commander::value::message_from_json;
use commander::wire;
use prost_reflect::DynamicMessage;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{Client, Event};
use serde_json::Value;
use support::broker::{Broker, BrokerOpts, Kind, mosquitto_or_skip};
use support::{Run, commander};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

/// `listen` prints "listening on" when the broker accepts the connection;
/// its SUBSCRIBE goes out right after. Messages published before the broker
/// has it are not for this listener, so publishers wait this much more.
const SUBSCRIBE_SETTLE: Duration = Duration::from_millis(250);

/// How long a `send` (its --timeout is shorter) may run before the test
/// kills it and fails.
const SEND_LIMIT: Duration = Duration::from_secs(10);

/// The sample protocol's message `ty` from proto3 JSON, encoded.
fn encode(ty: &str, json: &str) -> Vec<u8> {
    let desc = SCHEMA.message(ty).unwrap();
    let msg = message_from_json(&desc, json).unwrap_or_else(|e| panic!("{json}: {e:#}"));
    wire::encode_to_vec(&msg)
}

fn decode(ty: &str, bytes: &[u8]) -> DynamicMessage {
    DynamicMessage::decode(SCHEMA.message(ty).unwrap(), bytes).unwrap()
}

fn str_field(msg: &DynamicMessage, name: &str) -> String {
    msg.get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn jsonl(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

// ---------------------------------------------------------------------------
// A commander child whose output is read as it comes.

/// A running `commander` (listen, usually): stdout lines and stderr are
/// collected by threads; killed on drop if still running.
struct Proc {
    child: Option<Child>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    raw_stdout: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    args: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        Proc::spawn_env(args, &[])
    }

    fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = commander();
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the commander binary runs");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let raw_stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (lines, raw) = (stdout.clone(), raw_stdout.clone());
        let t1 = std::thread::spawn(move || {
            let mut line = Vec::new();
            while out.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                raw.lock().unwrap().extend_from_slice(&line);
                let text = String::from_utf8_lossy(&line);
                lines
                    .lock()
                    .unwrap()
                    .push(text.trim_end_matches('\n').to_owned());
                line.clear();
            }
        });
        let mut err = child.stderr.take().unwrap();
        let text = stderr.clone();
        let t2 = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Proc {
            child: Some(child),
            stdout,
            stderr,
            raw_stdout,
            readers: vec![t1, t2],
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// Waits until `cond` holds (true) or `timeout` passes or the process
    /// ends (false).
    fn wait_until(&mut self, timeout: Duration, cond: impl Fn(&Proc) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() > deadline || self.exited() {
                // One last look: the output may have come with the exit.
                std::thread::sleep(Duration::from_millis(50));
                return cond(self);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for `listen` to say it is listening, then for its
    /// subscriptions to reach the broker.
    #[track_caller]
    fn ready(&mut self) {
        let ok = self.wait_until(Duration::from_secs(10), |p| {
            p.stderr().contains("listening on")
        });
        assert!(
            ok,
            "commander {:?} did not start listening\nstderr:\n{}",
            self.args,
            self.stderr()
        );
        std::thread::sleep(SUBSCRIBE_SETTLE);
    }

    /// Waits for the process to end by itself within `timeout` (else kills
    /// it and fails the test).
    #[track_caller]
    fn finish(mut self, timeout: Duration) -> Run {
        self.wait_until(timeout, |_| false);
        if !self.exited() {
            let _ = self.child.as_mut().unwrap().kill();
            let run = self.collect();
            panic!(
                "commander {:?} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                run.0, run.1.stdout, run.1.stderr
            );
        }
        self.collect().1
    }

    /// Ctrl-C, then what it printed.
    fn interrupt(mut self) -> Run {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGINT);
            }
        }
        if !self.wait_until(Duration::from_secs(5), |_| false) && !self.exited() {
            let _ = self.child.as_mut().unwrap().kill();
        }
        self.collect().1
    }

    fn collect(&mut self) -> (Vec<String>, Run) {
        let status = self.child.take().unwrap().wait().expect("wait");
        for t in self.readers.drain(..) {
            let _ = t.join();
        }
        let raw = self.raw_stdout.lock().unwrap().clone();
        (
            self.args.clone(),
            Run {
                code: status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&raw).into_owned(),
                stderr: self.stderr(),
                raw_stdout: raw,
            },
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Test clients.

/// A QoS 1 publisher; `flush` waits for the broker's PUBACKs.
struct Publisher {
    client: Client,
    acked: Arc<AtomicUsize>,
    sent: usize,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    #[track_caller]
    fn connect(broker: &Broker, id: &str) -> Publisher {
        let mut opts = broker.client_options(id);
        opts.set_max_packet_size(Some(1 << 20));
        let (client, mut conn) = Client::new(opts, 1000);
        let acked = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = mpsc::channel();
        let counter = acked.clone();
        let thread = std::thread::spawn(move || {
            for event in conn.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = ready_tx.send(Ok(()));
                    }
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Event::Incoming(Packet::Disconnect(_))) => break,
                    Ok(_) => {}
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        break;
                    }
                }
            }
        });
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            other => panic!("test publisher cannot connect: {other:?}"),
        }
        Publisher {
            client,
            acked,
            sent: 0,
            thread: Some(thread),
        }
    }

    fn publish(&mut self, topic: &str, payload: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .expect("publish");
        self.sent += 1;
    }

    /// Waits until the broker has acknowledged everything published.
    #[track_caller]
    fn flush(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.acked.load(Ordering::SeqCst) < self.sent {
            assert!(
                Instant::now() < deadline,
                "the broker acknowledged {} of {} messages",
                self.acked.load(Ordering::SeqCst),
                self.sent
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
        if let Some(t) = self.thread.take() {
            // The loop ends on the disconnect (or its error).
            let _ = t.join();
        }
    }
}

/// How the test vehicle answers a command.
#[derive(Clone, Copy)]
enum Answer {
    /// With the command's correlation_id.
    Matching,
    /// First a reply for some other command, then the right one.
    WrongThenMatching,
}

/// A vehicle in a thread: subscribed to every vehicle's command topic, it
/// answers each command on `/device/VIN/MQTTPROTOBUF/commandresponse` and
/// hands the commands it got to the test.
struct Responder {
    stop: Arc<AtomicBool>,
    commands: mpsc::Receiver<DynamicMessage>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    #[track_caller]
    fn start(broker: &Broker, answer: Answer) -> Responder {
        let (client, mut conn) = Client::new(broker.client_options("test-vehicle"), 100);
        client
            .subscribe("/device/+/MQTTPROTOBUF/command", QoS::AtLeastOnce)
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let (cmd_tx, commands) = mpsc::channel();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let event = match conn.recv_timeout(Duration::from_millis(50)) {
                    Ok(e) => e,
                    Err(rumqttc::v5::RecvTimeoutError::Timeout) => continue,
                    Err(_) => break,
                };
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let command = decode("cvp.CommandMessage", &p.payload);
                        let vin = str_field(&command, "vehicle_id");
                        let correlation = str_field(&command, "correlation_id");
                        let topic = format!("/device/{vin}/MQTTPROTOBUF/commandresponse");
                        let reply = |correlation: &str, code: &str, temp: i32| {
                            encode(
                                "cvp.CommandResponseMessage",
                                &format!(
                                    r#"{{"messageId":"reply-{temp}","correlationId":"{correlation}",
                                    "vehicleId":"{vin}","type":"COMMAND_RESPONSE",
                                    "subtype":"ENGINE_START","returnCode":"{code}",
                                    "engineStart":{{"cabinTempC":{temp},"autoStopIn":"600s"}}}}"#
                                ),
                            )
                        };
                        if let Answer::WrongThenMatching = answer {
                            let wrong = reply("someone-elses-command", "REJECTED", -7);
                            client
                                .publish(topic.clone(), QoS::AtLeastOnce, false, wrong)
                                .unwrap();
                        }
                        let right = reply(&correlation, "SUCCESS", 21);
                        client
                            .publish(topic, QoS::AtLeastOnce, false, right)
                            .unwrap();
                        let _ = cmd_tx.send(command);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = client.disconnect();
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the test vehicle subscribes");
        Responder {
            stop,
            commands,
            thread: Some(thread),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------
// 1. One listener for a fleet: each topic decoded with its own type.

#[test]
fn one_listener_decodes_a_fleets_responses_telemetry_and_events_each_with_its_type() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    // The built-in profile maps commandresponse, telemetry and vehicleevents;
    // --type comes first (HS1 sends high-speed telemetry) and -m takes the
    // topics nobody mapped.
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &url,
        "--topic",
        "/device/+/MQTTPROTOBUF/#",
        "--type",
        "/device/HS1/MQTTPROTOBUF/telemetry=cvp.HighSpeedTelemetryMessage",
        "-m",
        "cvp.GenericError",
        "-o",
        "jsonl",
        "--count",
        "7",
    ]);
    listener.ready();

    let mut p = Publisher::connect(&broker, "fleet");
    let messages: Vec<(&str, &str, String)> = vec![
        (
            "/device/VIN1/MQTTPROTOBUF/telemetry",
            "cvp.VehicleTelemetryMessage",
            r#"{"vehicleId":"VIN1","type":"TELEMETRY","sequence":"1","speedKph":42.5,
                "ignition":"ON","signals":{"coolant_c":88.5}}"#
                .into(),
        ),
        (
            "/device/VIN2/MQTTPROTOBUF/vehicleevents",
            "cvp.VehicleEventMessage",
            r#"{"vehicleId":"VIN2","type":"VEHICLE_EVENT","eventType":"CRASH",
                "severity":"EMERGENCY","crash":{"peakG":7.5,"airbagsDeployed":true}}"#
                .into(),
        ),
        (
            "/device/VIN3/MQTTPROTOBUF/commandresponse",
            "cvp.CommandResponseMessage",
            r#"{"vehicleId":"VIN3","correlationId":"c-3","type":"COMMAND_RESPONSE",
                "subtype":"DOOR_LOCK","returnCode":"SUCCESS","doorLock":{}}"#
                .into(),
        ),
        (
            "/device/VIN2/MQTTPROTOBUF/telemetry",
            "cvp.VehicleTelemetryMessage",
            r#"{"vehicleId":"VIN2","sequence":"2","fuelLevelPct":40,
                "tires":[{"position":"FL","kpa":230.5}]}"#
                .into(),
        ),
        (
            "/device/HS1/MQTTPROTOBUF/telemetry",
            "cvp.HighSpeedTelemetryMessage",
            r#"{"vehicleId":"HS1","type":"HIGH_SPEED_TELEMETRY","accelXMg":[1,-2,3],
                "sampleIds":["10","11","12"]}"#
                .into(),
        ),
        (
            "/device/VIN1/MQTTPROTOBUF/vehicleevents",
            "cvp.VehicleEventMessage",
            r#"{"vehicleId":"VIN1","eventType":"LOW_BATTERY","sequence":"9",
                "attributes":{"soc":"11"}}"#
                .into(),
        ),
        (
            "/device/VIN1/MQTTPROTOBUF/status",
            "cvp.GenericError",
            r#"{"code":"-42","message":"modem reset"}"#.into(),
        ),
    ];
    for (topic, ty, json) in &messages {
        p.publish(topic, encode(ty, json));
    }
    p.flush();

    let run = listener.finish(Duration::from_secs(10));
    let out = run.ok();
    let records = jsonl(out);
    assert_eq!(records.len(), messages.len(), "{out}");
    // One publisher, QoS 1: the broker keeps the order.
    for (record, (topic, ty, json)) in records.iter().zip(&messages) {
        assert_eq!(record["topic"], *topic, "{record}");
        assert_eq!(record["type"], *ty, "{record}");
        assert!(record["time"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(record.get("error").is_none(), "{record}");
        // The decoded message is the one sent, field for field.
        let desc = SCHEMA.message(ty).unwrap();
        let sent = message_from_json(&desc, json).unwrap();
        let got = message_from_json(&desc, &record["message"].to_string()).unwrap();
        assert_eq!(got, sent, "{topic}: {record}");
    }
    // Spot checks of the decoded fields as printed.
    assert_eq!(records[0]["message"]["speed_kph"], 42.5);
    assert_eq!(records[0]["message"]["ignition"], "ON");
    assert_eq!(records[1]["message"]["crash"]["airbags_deployed"], true);
    assert_eq!(records[1]["message"]["severity"], "EMERGENCY");
    assert_eq!(records[2]["message"]["correlation_id"], "c-3");
    assert_eq!(records[2]["message"]["return_code"], "SUCCESS");
    assert_eq!(records[3]["message"]["tires"][0]["position"], "FL");
    assert_eq!(
        records[4]["message"]["accel_x_mg"],
        serde_json::json!([1, -2, 3])
    );
    assert_eq!(records[5]["message"]["attributes"]["soc"], "11");
    assert_eq!(records[6]["message"]["message"], "modem reset");
}

// ---------------------------------------------------------------------------
// 2. Shared subscriptions: two listeners split the traffic.

#[test]
fn two_shared_listeners_split_10000_messages_none_lost_or_doubled() {
    const N: u64 = 10_000;
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    let args = [
        "listen", "--broker", &url, "--share", "G", "--qos", "1", "-o", "jsonl",
    ];
    let mut a = Proc::spawn(&args);
    let mut b = Proc::spawn(&args);
    a.ready();
    b.ready();
    assert!(
        a.stderr().contains("$share/G/"),
        "it says it listens through the shared subscription: {}",
        a.stderr()
    );

    let started = Instant::now();
    let mut p = Publisher::connect(&broker, "fleet");
    for i in 1..=N {
        let vin = format!("VIN{}", i % 50);
        p.publish(
            &format!("/device/{vin}/MQTTPROTOBUF/telemetry"),
            encode(
                "cvp.VehicleTelemetryMessage",
                &format!(
                    r#"{{"vehicleId":"{vin}","sequence":"{i}","speedKph":{}}}"#,
                    i % 130
                ),
            ),
        );
    }
    p.flush();
    let published = started.elapsed();

    // Until both together have printed N lines, then a little longer for
    // any duplicate.
    let total =
        |a: &Proc, b: &Proc| a.stdout.lock().unwrap().len() + b.stdout.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while total(&a, &b) < N as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let received = started.elapsed();
    let (ra, rb) = (a.interrupt(), b.interrupt());

    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    let mut per_listener = Vec::new();
    for run in [&ra, &rb] {
        let records = jsonl(&run.stdout);
        per_listener.push(records.len());
        for r in records {
            assert_eq!(r["type"], "cvp.VehicleTelemetryMessage", "{r}");
            let seq: u64 = r["message"]["sequence"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no sequence: {r}"));
            *seen.entry(seq).or_default() += 1;
        }
    }
    let missing: Vec<u64> = (1..=N).filter(|i| !seen.contains_key(i)).collect();
    let doubled: Vec<(&u64, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "{:?} broker: published {N} in {published:?}, all printed after {received:?}; split {per_listener:?}",
        broker.kind
    );
    assert!(
        missing.is_empty(),
        "{} lost, e.g. {:?}; split {per_listener:?}\nstderr A:\n{}\nstderr B:\n{}",
        missing.len(),
        &missing[..missing.len().min(10)],
        ra.stderr,
        rb.stderr
    );
    assert!(doubled.is_empty(), "decoded twice: {doubled:?}");
    assert_eq!(seen.len(), N as usize);
    assert!(
        per_listener.iter().all(|&n| n > 0),
        "both listeners get a share: {per_listener:?}"
    );
}

// ---------------------------------------------------------------------------
// 3. send: the matching reply, decoded.

#[test]
fn send_publishes_the_command_and_prints_the_matching_reply() {
    let broker = Broker::start(BrokerOpts::default());
    let vehicle = Responder::start(&broker, Answer::Matching);
    let run = Proc::spawn(&[
        "send",
        "--broker",
        &broker.url(),
        "--json",
        r#"{"vehicleId":"VIN42","subtype":"ENGINE_START","engineStart":{"runMinutes":5}}"#,
        "--timeout",
        "5s",
    ])
    .finish(SEND_LIMIT);
    let out = run.ok();
    // The vehicle got the command on its topic, with the profile's header.
    let command = vehicle
        .commands
        .recv_timeout(Duration::from_secs(1))
        .unwrap();
    assert_eq!(str_field(&command, "vehicle_id"), "VIN42");
    let correlation = str_field(&command, "correlation_id");
    assert_eq!(
        correlation.len(),
        36,
        "a uuid from the profile: {correlation}"
    );
    assert!(run.stderr.contains(&correlation), "{}", run.stderr);
    // The reply, as a table.
    assert!(
        out.contains("cvp.CommandResponseMessage")
            && out.contains("VIN42/MQTTPROTOBUF/commandresponse"),
        "{out}"
    );
    for want in [
        correlation.as_str(),
        "SUCCESS",
        "engine_start",
        "cabin_temp_c",
        "21",
        "600s",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
}

#[test]
fn send_skips_a_reply_for_another_command_and_prints_the_matching_one() {
    let broker = Broker::start(BrokerOpts::default());
    let vehicle = Responder::start(&broker, Answer::WrongThenMatching);
    let run = Proc::spawn(&[
        "send",
        "--broker",
        &broker.url(),
        "--json",
        r#"{"vehicleId":"VIN43","subtype":"ENGINE_START","engineStart":{"runMinutes":5}}"#,
        "--timeout",
        "5s",
        "-o",
        "json",
    ])
    .finish(SEND_LIMIT);
    let out = run.ok();
    let command = vehicle
        .commands
        .recv_timeout(Duration::from_secs(1))
        .unwrap();
    let reply: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        reply["correlation_id"],
        str_field(&command, "correlation_id")
    );
    assert_eq!(reply["return_code"], "SUCCESS");
    assert_eq!(reply["engine_start"]["cabin_temp_c"], 21);
    assert!(
        run.stderr
            .contains("note: skipped 1 reply to other commands")
            && run.stderr.contains("someone-elses-command"),
        "a note about the reply for another command:\n{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------
// 4. send: nobody answers.

#[test]
fn send_without_a_reply_times_out_with_exit_1() {
    let broker = Broker::start(BrokerOpts::default());
    let started = Instant::now();
    let run = Proc::spawn(&[
        "send",
        "--broker",
        &broker.url(),
        "--json",
        r#"{"vehicleId":"NOBODY","subtype":"DOOR_LOCK","doorLock":{}}"#,
        "--timeout",
        "1s",
    ])
    .finish(SEND_LIMIT);
    let took = started.elapsed();
    let err = run.fails_with(1);
    assert!(
        err.contains("no reply on /device/NOBODY/MQTTPROTOBUF/commandresponse within 1s"),
        "{err}"
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

// ---------------------------------------------------------------------------
// 5. Several filters and --count.

#[test]
fn listen_on_several_topics_stops_after_count() {
    const COUNT: usize = 5;
    let broker = Broker::start(BrokerOpts::default());
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &broker.url(),
        "--topic",
        "/device/+/MQTTPROTOBUF/telemetry",
        "--topic",
        "/device/VIN7/MQTTPROTOBUF/vehicleevents",
        "--topic",
        "fleet/#",
        "-o",
        "jsonl",
        "--count",
        &COUNT.to_string(),
    ]);
    listener.ready();
    let mut p = Publisher::connect(&broker, "fleet");
    let telemetry = |seq: u32| {
        encode(
            "cvp.VehicleTelemetryMessage",
            &format!(r#"{{"vehicleId":"VIN7","sequence":"{seq}"}}"#),
        )
    };
    let event = |seq: u32| {
        encode(
            "cvp.VehicleEventMessage",
            &format!(r#"{{"vehicleId":"VIN7","eventType":"DOOR_AJAR","sequence":"{seq}"}}"#),
        )
    };
    // (topic, sequence, on a filter?); more on the filters than --count.
    let messages: Vec<(String, u32, bool)> = vec![
        ("/device/VIN8/MQTTPROTOBUF/vehicleevents".into(), 1, false),
        ("elsewhere/x".into(), 2, false),
        ("/device/VIN7/MQTTPROTOBUF/telemetry".into(), 3, true),
        ("/device/VIN7/MQTTPROTOBUF/vehicleevents".into(), 4, true),
        ("fleet/depot/5".into(), 5, true),
        ("/device/VIN9/MQTTPROTOBUF/telemetry".into(), 6, true),
        ("fleet/depot/7".into(), 7, true),
        ("/device/VIN7/MQTTPROTOBUF/vehicleevents".into(), 8, true),
        ("fleet/depot/9".into(), 9, true),
        ("/device/VIN7/MQTTPROTOBUF/telemetry".into(), 10, true),
        ("/device/VIN8/MQTTPROTOBUF/status".into(), 11, false),
    ];
    for (topic, seq, _) in &messages {
        let payload = if topic.ends_with("vehicleevents") {
            event(*seq)
        } else {
            telemetry(*seq)
        };
        p.publish(topic, payload);
    }
    p.flush();
    let run = listener.finish(Duration::from_secs(10));
    let out = run.ok();
    let records = jsonl(out);
    assert_eq!(records.len(), COUNT, "{out}");
    let mut got = BTreeSet::new();
    for r in &records {
        let topic = r["topic"].as_str().unwrap();
        // The profile's types where it maps the topic, raw elsewhere.
        let seq: u32 = if let Some(n) = topic.strip_prefix("fleet/depot/") {
            assert_eq!(r["type"], "(no schema)", "{r}");
            n.parse().unwrap()
        } else {
            let want = if topic.ends_with("vehicleevents") {
                "cvp.VehicleEventMessage"
            } else {
                "cvp.VehicleTelemetryMessage"
            };
            assert_eq!(r["type"], want, "{r}");
            r["message"]["sequence"].as_str().unwrap().parse().unwrap()
        };
        assert!(
            messages.contains(&(topic.to_owned(), seq, true)),
            "not on the filters, or not sent: {r}"
        );
        assert!(got.insert(seq), "printed twice: {r}");
    }
    // mosquitto keeps one publisher's order across the filters: the first
    // five on them. (rumqttd keeps it per filter only.)
    if broker.kind == Kind::Mosquitto {
        assert_eq!(got, BTreeSet::from([3, 4, 5, 6, 7]), "{out}");
    }
}

// ---------------------------------------------------------------------------
// 6. A payload that does not decode, among good ones.

#[test]
fn a_corrupt_payload_is_shown_as_hex_and_listening_goes_on() {
    let broker = Broker::start(BrokerOpts::default());
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &broker.url(),
        "--topic",
        "/device/+/MQTTPROTOBUF/telemetry",
        "-o",
        "jsonl",
        "--count",
        "4",
    ]);
    listener.ready();
    let mut p = Publisher::connect(&broker, "fleet");
    let good = |seq: u32| {
        encode(
            "cvp.VehicleTelemetryMessage",
            &format!(r#"{{"vehicleId":"VIN1","sequence":"{seq}","speedKph":12.5}}"#),
        )
    };
    let topic = "/device/VIN1/MQTTPROTOBUF/telemetry";
    p.publish(topic, good(1));
    // Field 11 (sequence, a varint) cut off in the middle of its value.
    let corrupt = vec![0x58, 0xff, 0xff];
    p.publish(topic, corrupt.clone());
    p.publish(topic, good(3));
    p.publish(topic, good(4));
    p.flush();
    let run = listener.finish(Duration::from_secs(10));
    let err = run.fails_with(1);
    let records = jsonl(&run.stdout);
    assert_eq!(records.len(), 4, "{}", run.stdout);
    let seqs: Vec<&Value> = records.iter().map(|r| &r["message"]["sequence"]).collect();
    assert_eq!(seqs[0], "1");
    assert_eq!(seqs[2], "3");
    assert_eq!(seqs[3], "4");
    let bad = &records[1];
    assert_eq!(bad["topic"], topic);
    assert_eq!(bad["hex"], hex::encode(&corrupt), "{bad}");
    assert!(bad.get("message").is_none(), "{bad}");
    assert!(
        bad["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{bad}"
    );
    assert!(
        err.contains("cannot decode the message on /device/VIN1/MQTTPROTOBUF/telemetry"),
        "{err}"
    );
    assert!(err.contains("58ffff"), "{err}");
    assert!(err.contains("1 message(s) did not decode"), "{err}");
}

// ---------------------------------------------------------------------------
// 7. A broker restart under a persistent session.

#[test]
fn a_persistent_listener_gets_every_message_across_a_broker_restart() {
    if !mosquitto_or_skip("the broker restart with a persistent session") {
        return;
    }
    const BEFORE: u64 = 50;
    const DURING: u64 = 50;
    let mut broker = Broker::start(BrokerOpts {
        persistence: true,
        ..Default::default()
    });
    let session = format!("commander-test-{}", std::process::id());
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &broker.url(),
        "--topic",
        "/device/+/MQTTPROTOBUF/telemetry",
        "--session",
        &session,
        "--qos",
        "1",
        "-o",
        "jsonl",
    ]);
    listener.ready();
    let payload = |seq: u64| {
        encode(
            "cvp.VehicleTelemetryMessage",
            &format!(r#"{{"vehicleId":"VIN1","sequence":"{seq}"}}"#),
        )
    };
    {
        let mut p = Publisher::connect(&broker, "before");
        for seq in 1..=BEFORE {
            p.publish("/device/VIN1/MQTTPROTOBUF/telemetry", payload(seq));
        }
        p.flush();
    }
    assert!(
        listener.wait_until(Duration::from_secs(10), |l| l.lines().len()
            >= BEFORE as usize),
        "before the restart: {} lines\n{}",
        listener.lines().len(),
        listener.stderr()
    );

    broker.restart();
    // Published at once, while the listener is still reconnecting (it
    // retries every second): the broker keeps them in its session.
    {
        let mut p = Publisher::connect(&broker, "during");
        for seq in BEFORE + 1..=BEFORE + DURING {
            p.publish("/device/VIN1/MQTTPROTOBUF/telemetry", payload(seq));
        }
        p.flush();
    }
    let reconnected_before_publishing = listener.stderr().contains("reconnected");
    let all = |l: &Proc| {
        let seqs: BTreeSet<u64> = l
            .lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|r| r["message"]["sequence"].as_str()?.parse().ok())
            .collect();
        seqs.len() as u64 >= BEFORE + DURING
    };
    listener.wait_until(Duration::from_secs(15), all);
    std::thread::sleep(Duration::from_millis(300));
    let run = listener.interrupt();

    // QoS 1 is at least once: duplicates are allowed, a loss is not.
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for r in jsonl(&run.stdout) {
        let seq: u64 = r["message"]["sequence"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no sequence: {r}"));
        *seen.entry(seq).or_default() += 1;
    }
    let missing: Vec<u64> = (1..=BEFORE + DURING)
        .filter(|s| !seen.contains_key(s))
        .collect();
    let doubled = seen.values().filter(|n| **n > 1).count();
    eprintln!(
        "restart: {} distinct, {doubled} delivered more than once; listener reconnected before the \
         second batch was published: {reconnected_before_publishing}",
        seen.len()
    );
    assert!(
        missing.is_empty(),
        "lost across the restart: {missing:?}\nlistener stderr:\n{}\nbroker log:\n{}",
        run.stderr,
        broker.log()
    );
    assert!(run.stderr.contains("reconnected"), "{}", run.stderr);
}

#[test]
fn a_listener_without_a_session_resubscribes_after_a_broker_restart() {
    if !mosquitto_or_skip("the broker restart") {
        return;
    }
    let mut broker = Broker::start(BrokerOpts::default());
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &broker.url(),
        "--topic",
        "/device/+/MQTTPROTOBUF/telemetry",
        "-o",
        "jsonl",
        "--count",
        "2",
    ]);
    listener.ready();
    let payload = |seq: u64| {
        encode(
            "cvp.VehicleTelemetryMessage",
            &format!(r#"{{"vehicleId":"VIN1","sequence":"{seq}"}}"#),
        )
    };
    {
        let mut p = Publisher::connect(&broker, "before");
        p.publish("/device/VIN1/MQTTPROTOBUF/telemetry", payload(1));
        p.flush();
    }
    assert!(listener.wait_until(Duration::from_secs(10), |l| l.lines().len() == 1));
    // The new broker knows nothing of the listener: it must subscribe again.
    broker.restart();
    assert!(
        listener.wait_until(Duration::from_secs(10), |l| l
            .stderr()
            .contains("reconnected")),
        "{}",
        listener.stderr()
    );
    std::thread::sleep(SUBSCRIBE_SETTLE);
    {
        let mut p = Publisher::connect(&broker, "after");
        p.publish("/device/VIN1/MQTTPROTOBUF/telemetry", payload(2));
        p.flush();
    }
    let run = listener.finish(Duration::from_secs(10));
    let records = jsonl(run.ok());
    assert_eq!(records[1]["message"]["sequence"], "2", "{}", run.stdout);
}

/// Ctrl-C in the middle of a stream, then the same session again: QoS 1
/// with a persistent session loses nothing, so every message the first run
/// took from the broker (and acknowledged) must have been printed.
#[test]
fn ctrl_c_then_the_same_session_again_loses_nothing() {
    const N: u64 = 10_000;
    let broker = Broker::start(BrokerOpts::default());
    let session = format!("commander-ctrl-c-{}", std::process::id());
    let args = [
        "listen",
        "--broker",
        &broker.url(),
        "--topic",
        "/device/+/MQTTPROTOBUF/telemetry",
        "--session",
        &session,
        "--qos",
        "1",
        "-o",
        "jsonl",
    ];
    let mut first = Proc::spawn(&args);
    first.ready();
    let mut p = Publisher::connect(&broker, "fleet");
    for seq in 1..=N {
        p.publish(
            "/device/VIN1/MQTTPROTOBUF/telemetry",
            encode(
                "cvp.VehicleTelemetryMessage",
                &format!(r#"{{"vehicleId":"VIN1","sequence":"{seq}"}}"#),
            ),
        );
    }
    // Stop it while the stream flows.
    first.wait_until(Duration::from_secs(20), |l| l.lines().len() >= 1_000);
    let first = first.interrupt();
    p.flush();
    drop(p);

    let mut second = Proc::spawn(&args);
    second.ready();
    let seqs = |stdout: &str| -> Vec<u64> {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|r| r["message"]["sequence"].as_str()?.parse().ok())
            .collect()
    };
    let first_seqs = seqs(&first.stdout);
    let have = |l: &Proc| {
        let mut all: BTreeSet<u64> = first_seqs.iter().copied().collect();
        all.extend(seqs(&l.lines().join("\n")));
        all.len() as u64 >= N
    };
    second.wait_until(Duration::from_secs(10), have);
    std::thread::sleep(Duration::from_millis(300));
    let second = second.interrupt();
    let mut all: BTreeSet<u64> = first_seqs.iter().copied().collect();
    all.extend(seqs(&second.stdout));
    let missing: Vec<u64> = (1..=N).filter(|s| !all.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "{} lost between the Ctrl-C and the second run (first printed {}, up to {:?}; second from {:?}): {:?}...",
        missing.len(),
        first_seqs.len(),
        first_seqs.last(),
        seqs(&second.stdout).first(),
        &missing[..missing.len().min(10)]
    );
}

// ---------------------------------------------------------------------------
// 8. TLS with a CA made here.

#[test]
fn tls_with_the_test_ca_works_and_without_it_fails_clearly() {
    if !mosquitto_or_skip("TLS") {
        return;
    }
    if support::peer("openssl").is_none() {
        return;
    }
    let broker = Broker::start(BrokerOpts {
        tls: true,
        ..Default::default()
    });
    let url = broker.url();
    assert!(url.starts_with("mqtts://127.0.0.1:"));
    let ca = broker.ca().display().to_string();

    // listen over TLS, fed over TLS by commander send (no vehicle answers).
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &url,
        "--ca",
        &ca,
        "--topic",
        "/device/+/MQTTPROTOBUF/command",
        "-m",
        "cvp.CommandMessage",
        "-o",
        "jsonl",
        "--count",
        "1",
    ]);
    listener.ready();
    let send = Proc::spawn(&[
        "send",
        "--broker",
        &url,
        "--ca",
        &ca,
        "--json",
        r#"{"vehicleId":"TLS1","subtype":"DOOR_LOCK","doorLock":{}}"#,
        "--timeout",
        "500ms",
    ])
    .finish(SEND_LIMIT);
    // It connected, subscribed and published; only the reply is missing.
    assert!(
        send.fails_with(1)
            .contains("no reply on /device/TLS1/MQTTPROTOBUF/commandresponse"),
        "{}",
        send.stderr
    );
    let run = listener.finish(Duration::from_secs(10));
    let records = jsonl(run.ok());
    assert_eq!(records[0]["topic"], "/device/TLS1/MQTTPROTOBUF/command");
    assert_eq!(records[0]["message"]["vehicle_id"], "TLS1");

    // Without --ca the system's roots do not know the test CA.
    for args in [
        vec!["send", "--broker", &url, "--json", "{}", "--timeout", "3s"],
        vec!["listen", "--broker", &url, "--topic", "x/#", "--count", "1"],
    ] {
        let started = Instant::now();
        let run = Proc::spawn(&args).finish(Duration::from_secs(8));
        let err = run.fails_with(1);
        eprintln!("without --ca, {}: {err}", args[0]);
        assert!(
            err.contains("TLS") && err.contains(&url),
            "{:?}: a TLS error naming the broker:\n{err}",
            args[0]
        );
        assert!(
            err.to_lowercase().contains("certificate") || err.contains("UnknownIssuer"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    }
}

// ---------------------------------------------------------------------------
// 9. Username and password.

const USER: &str = "fleet-operator";
const PASSWORD: &str = "Corr3ct-Horse-9f2b";
const WRONG: &str = "Wr0ng-Battery-71ce";

fn broker_with_password() -> Broker {
    Broker::start(BrokerOpts {
        credentials: Some((USER.into(), PASSWORD.into())),
        ..Default::default()
    })
}

#[test]
fn a_wrong_password_is_refused_clearly_and_never_printed() {
    let broker = broker_with_password();
    let url = broker.url();
    // (arguments, environment)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            vec![
                "send",
                "--broker",
                &url,
                "--username",
                USER,
                "--password",
                WRONG,
                "--json",
                "{}",
                "--timeout",
                "3s",
            ],
            vec![],
        ),
        (
            vec![
                "listen",
                "--broker",
                &url,
                "--username",
                USER,
                "--topic",
                "a/#",
                "--count",
                "1",
            ],
            vec![("COMMANDER_MQTT_PASSWORD", WRONG)],
        ),
        (
            vec!["listen", "--broker", &url, "--topic", "a/#", "--count", "1"],
            vec![],
        ),
    ];
    for (args, env) in cases {
        let run = Proc::spawn_env(&args, &env).finish(Duration::from_secs(8));
        let err = run.fails_with(1);
        eprintln!("{:?} broker, {}: {err}", broker.kind, args[0]);
        for secret in [PASSWORD, WRONG] {
            assert!(
                !run.stdout.contains(secret) && !err.contains(secret),
                "{args:?}: the password is printed:\n{}{err}",
                run.stdout
            );
        }
        assert!(err.contains(&url), "{args:?}: {err}");
        match broker.kind {
            Kind::Mosquitto => assert!(
                err.contains("bad username or password") || err.contains("not authorized"),
                "{args:?}: {err}"
            ),
            // rumqttd closes the connection without a CONNACK saying why.
            Kind::Embedded => assert!(err.contains("broker"), "{args:?}: {err}"),
        }
    }
}

#[test]
fn the_right_password_works_on_the_command_line_and_from_the_environment() {
    let broker = broker_with_password();
    let url = broker.url();
    // From the environment, for listen.
    let mut listener = Proc::spawn_env(
        &[
            "listen",
            "--broker",
            &url,
            "--username",
            USER,
            "--topic",
            "a/#",
            "-o",
            "jsonl",
            "--count",
            "1",
        ],
        &[("COMMANDER_MQTT_PASSWORD", PASSWORD)],
    );
    listener.ready();
    // On the command line, for send: it connects and publishes; nobody
    // answers.
    let send = Proc::spawn(&[
        "send",
        "--broker",
        &url,
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--topic",
        "a/command",
        "--response-topic",
        "a/response",
        "--json",
        r#"{"vehicleId":"PW1"}"#,
        "--timeout",
        "500ms",
    ])
    .finish(SEND_LIMIT);
    let err = send.fails_with(1);
    assert!(err.contains("no reply on a/response"), "{err}");
    let run = listener.finish(Duration::from_secs(10));
    let out = run.ok();
    let records = jsonl(out);
    assert_eq!(records[0]["topic"], "a/command");
    for text in [out, &run.stderr, &send.stdout, &send.stderr] {
        assert!(!text.contains(PASSWORD), "the password is printed:\n{text}");
    }
}

/// Answers the builder's questions without a person: the subtype picked by
/// name, Enter everywhere else; after building, `send` and `next` pick the
/// given items.
struct Autopilot {
    subtype: &'static str,
    send: usize,
    said: Vec<String>,
    warned: Vec<String>,
}

impl commander::prompt::Prompter for Autopilot {
    fn text(
        &mut self,
        _: &commander::prompt::Question,
    ) -> anyhow::Result<commander::prompt::Reply<String>> {
        Ok(commander::prompt::Reply::Skip)
    }

    fn select(
        &mut self,
        q: &commander::prompt::Question,
        items: &[String],
        default: usize,
    ) -> anyhow::Result<commander::prompt::Reply<usize>> {
        use commander::prompt::Reply;
        Ok(match q.path.as_str() {
            "subtype" => Reply::Value(
                items
                    .iter()
                    .position(|i| i.starts_with(self.subtype))
                    .unwrap(),
            ),
            "send" => Reply::Value(self.send),
            "next" => Reply::Value(items.iter().position(|i| i == "quit").unwrap()),
            _ => Reply::Value(default),
        })
    }

    fn confirm(
        &mut self,
        _: &commander::prompt::Question,
        _: bool,
    ) -> anyhow::Result<commander::prompt::Reply<bool>> {
        Ok(commander::prompt::Reply::Value(false))
    }

    fn warn(&mut self, why: &str) {
        self.warned.push(why.to_owned());
    }

    fn say(&mut self, what: &str) {
        self.said.push(what.to_owned());
    }
}

/// SPEC 6.5 and 9: the interactive mode publishes through the same code as
/// `send` and shows the decoded reply.
#[test]
fn the_interactive_session_publishes_and_shows_the_reply() {
    let broker = Broker::start(BrokerOpts::default());
    let vehicle = Responder::start(&broker, Answer::Matching);
    let schema = Schema::builtin().unwrap();
    let profile = commander::profile::Profile::builtin().unwrap();
    let session = commander::cmd::Session {
        desc: schema.message("cvp.CommandMessage").unwrap(),
        response: Some(schema.message("cvp.CommandResponseMessage").unwrap()),
        mqtt: Some(commander::cmd::Mqtt {
            cfg: commander::mqtt::BrokerConfig {
                url: broker.url(),
                ..Default::default()
            },
            command_topic: profile.mqtt.command_topic.clone().unwrap(),
            response_topic: profile.mqtt.response_topic.clone().unwrap(),
            qos: QoS::AtLeastOnce,
            timeout: Duration::from_secs(5),
        }),
        profile,
        link: commander::prompt::LinkChoice::Auto,
        bytes_as: None,
    };
    let mut pilot = Autopilot {
        subtype: "ENGINE_START",
        send: 0,
        said: Vec::new(),
        warned: Vec::new(),
    };
    let mut out = Vec::new();
    session.run(&mut pilot, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(pilot.warned.is_empty(), "{:?}", pilot.warned);
    // The vehicle got the command the builder made, with the profile's header.
    let command = vehicle
        .commands
        .recv_timeout(Duration::from_secs(1))
        .unwrap();
    assert_eq!(str_field(&command, "vehicle_id"), "MH12VF1121");
    let correlation = str_field(&command, "correlation_id");
    assert!(
        pilot
            .said
            .iter()
            .any(|s| s.starts_with("published to /device/MH12VF1121/MQTTPROTOBUF/command")),
        "{:?}",
        pilot.said
    );
    // Then the reply, decoded as a table after the command's table and hex.
    assert!(
        out.contains(
            "cvp.CommandResponseMessage · /device/MH12VF1121/MQTTPROTOBUF/commandresponse"
        ),
        "{out}"
    );
    assert!(
        out.contains(&correlation) && out.contains("SUCCESS (1)"),
        "{out}"
    );
}
