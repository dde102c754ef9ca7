//! `commander send` telling the truth (issue 10, items 6-8), run as a user
//! runs it against a real broker: credentials in the URL and never printed,
//! TLS options refused on a plain URL, client certificates, a publish the
//! broker refuses, nothing to match a reply on, no reply type, topic fields
//! the user gave, bad topics and keep-alives, and skipped replies summarised.
//!
//! Each test starts its own broker on a free loopback port
//! (tests/support/broker.rs): Debian's mosquitto when it is on PATH, else an
//! embedded rumqttd. Client certificates, an ACL and a second listener need
//! mosquitto: without it those tests skip with a notice (or fail under
//! `COMMANDER_REQUIRE_PEERS=1`). Subscribers and vehicles are rumqttc clients
//! in test threads; what they received is what the tests check, with a
//! sentinel message of their own to know that nothing else is on its way.
//!
//! Every wait is bounded; a child still running when a test fails is killed.
//! `COMMANDER_BIN=PATH` runs another build (an older one, to see these fail).

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use commander::schema::Schema;
use commander::value::message_from_json;
use commander::wire;
use prost_reflect::DynamicMessage;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode};
use rumqttc::v5::{Client, Event};
use serde_json::Value;
use support::broker::{Broker, BrokerOpts, Kind, free_port, mosquitto_or_skip};
use support::{Run, TempDir, commander};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

/// How long a command may run before the test kills it and fails: well
/// above what any of them needs, below what a hang would take.
const LIMIT: Duration = Duration::from_secs(45);

/// "At once": a refusal, an error or a publish without a reply comes back
/// well within this, where the command's --timeout is far longer.
const AT_ONCE: Duration = Duration::from_secs(10);

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

// ---------------------------------------------------------------------------
// A commander child, its output read as it comes.

/// A running `commander`: stdout and stderr collected by threads; killed on
/// drop if still running.
struct Proc {
    child: Option<Child>,
    started: Instant,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    args: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = commander()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the commander binary runs");
        let started = Instant::now();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let raw = stdout.clone();
        let t1 = std::thread::spawn(move || {
            let mut line = Vec::new();
            while out.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                raw.lock().unwrap().extend_from_slice(&line);
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
            started,
            stdout,
            stderr,
            readers: vec![t1, t2],
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// Waits until `cond` holds (true), or `timeout` passes or the process
    /// ends (false).
    fn wait_until(&mut self, timeout: Duration, cond: impl Fn(&Proc) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() > deadline || self.exited() {
                std::thread::sleep(Duration::from_millis(50));
                return cond(self);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to end by itself within `limit` (else kills it
    /// and fails the test): what it printed, and how long it ran.
    #[track_caller]
    fn finish(mut self, limit: Duration) -> (Run, Duration) {
        self.wait_until(limit, |_| false);
        if !self.exited() {
            let _ = self.child.as_mut().unwrap().kill();
            let run = self.collect();
            panic!(
                "commander {:?} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                self.args, run.stdout, run.stderr
            );
        }
        let took = self.started.elapsed();
        (self.collect(), took)
    }

    /// Ends it (if still running): what it printed.
    fn stop(mut self) -> Run {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
        self.collect()
    }

    fn collect(&mut self) -> Run {
        let status = self.child.take().unwrap().wait().expect("wait");
        for t in self.readers.drain(..) {
            let _ = t.join();
        }
        let raw = self.stdout.lock().unwrap().clone();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&raw).into_owned(),
            stderr: self.stderr(),
            raw_stdout: raw,
        }
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

/// Runs `commander ARGS` to its end (at most [`LIMIT`]).
#[track_caller]
fn exec(args: &[&str]) -> (Run, Duration) {
    Proc::spawn(args).finish(LIMIT)
}

/// Neither secret appears anywhere in what the command printed.
#[track_caller]
fn assert_never_printed(run: &Run, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{what}: the password {secret:?} is printed\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// Test clients.

/// Connects a rumqttc client and drives it in a thread: the first
/// subscription confirmed, then `on_publish` for each message (with the
/// client, to answer). Stops on drop.
struct TestClient {
    client: Client,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestClient {
    #[track_caller]
    fn start(
        broker: &Broker,
        id: &str,
        filter: &str,
        mut on_publish: impl FnMut(&Client, String, Vec<u8>) + Send + 'static,
    ) -> TestClient {
        // Room for a burst of answers published from the event loop's own
        // thread (a full request channel would block it for good).
        let (client, mut conn) = Client::new(broker.client_options(id), 10_000);
        client.subscribe(filter, QoS::AtLeastOnce).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stopping = stop.clone();
        let answerer = client.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let event = match conn.recv_timeout(Duration::from_millis(50)) {
                    Ok(e) => e,
                    Err(rumqttc::v5::RecvTimeoutError::Timeout) => continue,
                    Err(_) => break,
                };
                match event {
                    Ok(Event::Incoming(Packet::SubAck(a))) => {
                        let ok = a
                            .return_codes
                            .iter()
                            .all(|c| matches!(c, SubscribeReasonCode::Success(_)));
                        let _ = ready_tx.send(if ok {
                            Ok(())
                        } else {
                            Err(format!("{:?}", a.return_codes))
                        });
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let topic = String::from_utf8_lossy(&p.topic).into_owned();
                        on_publish(&answerer, topic, p.payload.to_vec());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        break;
                    }
                }
            }
            let _ = answerer.disconnect();
        });
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            other => panic!("test client {id} cannot subscribe to {filter}: {other:?}"),
        }
        TestClient {
            client,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A message as a subscriber got it: topic and payload.
type Message = (String, Vec<u8>);

/// A subscriber that records every message on its filter, and can tell when
/// everything published before a moment has arrived: it publishes a
/// sentinel (on a topic its filter matches) and waits for it.
struct Subscriber {
    got: Arc<Mutex<Vec<Message>>>,
    sentinel: String,
    flushes: usize,
    inner: TestClient,
}

impl Subscriber {
    #[track_caller]
    fn start(broker: &Broker, filter: &str, sentinel: &str) -> Subscriber {
        let got = Arc::new(Mutex::new(Vec::new()));
        let into = got.clone();
        let inner = TestClient::start(
            broker,
            "test-subscriber",
            filter,
            move |_, topic, payload| {
                into.lock().unwrap().push((topic, payload));
            },
        );
        Subscriber {
            got,
            sentinel: sentinel.to_owned(),
            flushes: 0,
            inner,
        }
    }

    /// Waits until everything the broker took before now has arrived.
    #[track_caller]
    fn flush(&mut self) {
        self.flushes += 1;
        let mark = format!("sentinel {}", self.flushes).into_bytes();
        self.inner
            .client
            .publish(self.sentinel.clone(), QoS::AtLeastOnce, false, mark.clone())
            .expect("publish the sentinel");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .got
            .lock()
            .unwrap()
            .iter()
            .any(|(t, p)| *t == self.sentinel && *p == mark)
        {
            assert!(
                Instant::now() < deadline,
                "the sentinel on {} did not come back",
                self.sentinel
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Everything received but the sentinels (call [`Subscriber::flush`]
    /// first).
    fn received(&self) -> Vec<Message> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| *t != self.sentinel)
            .cloned()
            .collect()
    }
}

/// A vehicle: subscribed to every vehicle's command topic, it hands each
/// command to `answer`, publishes what that returns (topic, payload) in
/// order, and passes the command on to the test.
struct Responder {
    commands: mpsc::Receiver<DynamicMessage>,
    _client: TestClient,
}

impl Responder {
    #[track_caller]
    fn start(
        broker: &Broker,
        mut answer: impl FnMut(&DynamicMessage) -> Vec<(String, Vec<u8>)> + Send + 'static,
    ) -> Responder {
        let (tx, commands) = mpsc::channel();
        let client = TestClient::start(
            broker,
            "test-vehicle",
            "/device/+/MQTTPROTOBUF/command",
            move |client, _, payload| {
                let command = decode("cvp.CommandMessage", &payload);
                for (topic, reply) in answer(&command) {
                    client
                        .publish(topic, QoS::AtLeastOnce, false, reply)
                        .unwrap();
                }
                let _ = tx.send(command);
            },
        );
        Responder {
            commands,
            _client: client,
        }
    }

    /// The commands received so far.
    fn received(&self) -> Vec<DynamicMessage> {
        self.commands.try_iter().collect()
    }
}

/// A vehicle's reply (topic, payload) with this correlation_id.
fn reply(vin: &str, correlation: &str) -> (String, Vec<u8>) {
    (
        format!("/device/{vin}/MQTTPROTOBUF/commandresponse"),
        encode(
            "cvp.CommandResponseMessage",
            &format!(
                r#"{{"messageId":"reply-to-{correlation}","correlationId":"{correlation}",
                "vehicleId":"{vin}","type":"COMMAND_RESPONSE","subtype":"ENGINE_START",
                "returnCode":"SUCCESS","engineStart":{{"cabinTempC":21,"autoStopIn":"600s"}}}}"#
            ),
        ),
    )
}

/// A TCP port that accepts connections and never answers: it counts who
/// connected, so a test can show that nothing did.
struct Silent(TcpListener);

impl Silent {
    fn new() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
        l.set_nonblocking(true).unwrap();
        Silent(l)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    /// Connections made so far (accepted here and closed).
    fn connections(&self) -> usize {
        let mut n = 0;
        while self.0.accept().is_ok() {
            n += 1;
        }
        n
    }
}

// ---------------------------------------------------------------------------
// 1. Credentials in the URL, and never printed.

const USER: &str = "fleet-operator";
const PASSWORD: &str = "Corr3ct-Horse-9f2b";
const WRONG: &str = "Wr0ng-Battery-71ce";

fn broker_with_password(user: &str, password: &str) -> Broker {
    Broker::start(BrokerOpts {
        credentials: Some((user.into(), password.into())),
        ..Default::default()
    })
}

/// A vehicle that answers each command with its correlation_id.
fn matching_vehicle(broker: &Broker) -> Responder {
    Responder::start(broker, |command| {
        vec![reply(
            &str_field(command, "vehicle_id"),
            &str_field(command, "correlation_id"),
        )]
    })
}

/// `send` to the vehicle `vin` through `url`: the reply is the command's
/// (and the vehicle got the command).
#[track_caller]
fn round_trip(url: &str, vehicle: &Responder, vin: &str, secrets: &[&str]) {
    let (run, _) = exec(&[
        "send",
        "--broker",
        url,
        "--json",
        &format!(r#"{{"vehicleId":"{vin}"}}"#),
        "-o",
        "json",
        "--timeout",
        "30s",
    ]);
    let out = run.ok();
    assert_never_printed(&run, secrets, "a request and its reply");
    let got: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let commands = vehicle.received();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(str_field(&commands[0], "vehicle_id"), vin);
    assert_eq!(
        got["correlation_id"],
        str_field(&commands[0], "correlation_id"),
        "{got}"
    );
}

#[test]
fn a_password_in_the_broker_url_logs_in_and_the_message_arrives() {
    let broker = broker_with_password(USER, PASSWORD);
    let url = format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:{}", broker.port);
    // A command and its reply, logged in with the URL's user info.
    let vehicle = matching_vehicle(&broker);
    round_trip(&url, &vehicle, "PW1", &[PASSWORD]);

    // Publish only: back as soon as the broker has it.
    let mut sub = Subscriber::start(&broker, "fleet/#", "fleet/sentinel");
    let (run, took) = exec(&[
        "send",
        "--no-reply",
        "--broker",
        &url,
        "--topic",
        "fleet/cmd",
        "--json",
        r#"{"vehicleId":"PW2"}"#,
        "--timeout",
        "30s",
    ]);
    run.ok();
    assert_never_printed(&run, &[PASSWORD], "a successful send");
    sub.flush();
    let got = sub.received();
    assert_eq!(got.len(), 1, "one message arrives: {got:?}");
    assert_eq!(got[0].0, "fleet/cmd");
    assert_eq!(
        str_field(&decode("cvp.CommandMessage", &got[0].1), "vehicle_id"),
        "PW2"
    );
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "published {} bytes to fleet/cmd (acknowledged by the broker)",
            got[0].1.len()
        ),
        "what was published, once the broker has it"
    );
    assert!(took < AT_ONCE, "--no-reply waits for no reply: {took:?}");
}

#[test]
fn percent_encoded_user_info_in_the_url_is_decoded() {
    // '@' in both: a user and password as a broker's admin may well pick.
    let (user, password) = ("ops@depot", "p@ss-Quartz-41");
    let encoded = "p%40ss-Quartz-41";
    let broker = broker_with_password(user, password);
    let vehicle = matching_vehicle(&broker);
    let url = format!("mqtt://ops%40depot:{encoded}@127.0.0.1:{}", broker.port);
    round_trip(&url, &vehicle, "PCT1", &[password, encoded]);

    // Decoded once only: "%2540" is "%40", not "@", and so a wrong password.
    let url = format!(
        "mqtt://ops%40depot:p%2540ss-Quartz-41@127.0.0.1:{}",
        broker.port
    );
    let (run, _) = exec(&[
        "send",
        "--broker",
        &url,
        "--json",
        r#"{"vehicleId":"PCT2"}"#,
        "--timeout",
        "30s",
    ]);
    run.fails_with(1);
    assert_never_printed(&run, &[password, encoded, "p%2540ss"], "a refused login");
    assert!(vehicle.received().is_empty(), "nothing published");
}

#[test]
fn a_password_in_the_url_is_never_printed_whatever_fails() {
    let broker = broker_with_password(USER, PASSWORD);
    let port = broker.port;
    let wrong = format!("mqtt://{USER}:{WRONG}@127.0.0.1:{port}");
    let closed = free_port();
    let unreachable = format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:{closed}");
    let plain = format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:{port}");
    let bad_port = format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:88a3");
    let bad_scheme = format!("mqtx://{USER}:{PASSWORD}@127.0.0.1:{port}");
    let tls_to_plain = format!("mqtts://{USER}:{PASSWORD}@127.0.0.1:{port}");
    let ca = support::repo().join("Cargo.toml").display().to_string();
    let command = r#"{"vehicleId":"SECRET1"}"#;
    // (what, arguments, exit status, what stderr must say)
    let cases: Vec<(&str, Vec<&str>, i32, String)> = vec![
        (
            "a wrong password",
            vec![
                "send",
                "--broker",
                &wrong,
                "--json",
                command,
                "--timeout",
                "3s",
            ],
            1,
            format!("127.0.0.1:{port}"),
        ),
        (
            "a wrong password, listen",
            vec![
                "listen", "--broker", &wrong, "--topic", "a/#", "--count", "1",
            ],
            1,
            format!("127.0.0.1:{port}"),
        ),
        (
            "nobody on the port",
            vec![
                "send",
                "--broker",
                &unreachable,
                "--json",
                command,
                "--timeout",
                "3s",
            ],
            1,
            format!("127.0.0.1:{closed}"),
        ),
        (
            "--ca with mqtt://",
            vec!["send", "--broker", &plain, "--ca", &ca, "--json", command],
            2,
            format!(
                "--ca is for TLS, but mqtt://{USER}:***@127.0.0.1:{port} is a plain connection: \
                 use mqtts://"
            ),
        ),
        (
            "a malformed port",
            vec!["send", "--broker", &bad_port, "--json", command],
            2,
            format!("mqtt://{USER}:***@127.0.0.1:88a3"),
        ),
        (
            "an unknown scheme",
            vec!["send", "--broker", &bad_scheme, "--json", command],
            2,
            format!("mqtx://{USER}:***@127.0.0.1:{port}"),
        ),
        (
            "TLS to a plain listener",
            vec![
                "send",
                "--broker",
                &tls_to_plain,
                "--json",
                command,
                "--timeout",
                "3s",
            ],
            1,
            format!("127.0.0.1:{port}"),
        ),
    ];
    for (what, args, code, says) in cases {
        let (run, _) = exec(&args);
        let err = run.fails_with(code);
        eprintln!("{what}: {err}");
        assert_never_printed(&run, &[PASSWORD, WRONG], what);
        assert!(err.contains(&says), "{what}: {says:?} missing from\n{err}");
        // The URL, when shown with its user, shows *** for the password.
        if err.contains(&format!("{USER}:")) {
            assert!(err.contains(&format!("{USER}:***@")), "{what}: {err}");
        }
        if what.starts_with("a wrong password") && broker.kind == Kind::Mosquitto {
            assert!(
                err.contains("bad username or password") || err.contains("not authorized"),
                "{what}: the broker's reason: {err}"
            );
        }
    }
}

/// A password with a '/' (which a URL should carry as %2F) must not be
/// printed either.
#[test]
fn a_password_with_a_slash_in_the_url_is_never_printed_either() {
    let password = "Corr3ct/Horse-9f2b";
    let broker = broker_with_password(USER, password);
    let url = format!("mqtt://{USER}:{password}@127.0.0.1:{}", broker.port);
    for mut args in [
        vec!["send", "--no-reply", "--topic", "a/b", "--json", "{}"],
        vec!["listen", "--topic", "a/#", "--count", "1"],
    ] {
        args.extend(["--broker", &url, "--connect-timeout", "5s"]);
        // Accepted (the broker has this password) or refused: either way
        // the password is not shown, not even in part.
        let mut proc = Proc::spawn(&args);
        proc.wait_until(LIMIT, |p| p.stderr().contains("listening on"));
        let run = proc.stop();
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert_never_printed(
            &run,
            &[password, "Corr3ct", "Horse-9f2b"],
            "a '/' in the password",
        );
    }
}

// ---------------------------------------------------------------------------
// 2. TLS options with a plain URL: refused before connecting.

#[test]
fn ca_cert_or_key_with_a_plain_url_is_refused_and_nothing_connects() {
    let silent = Silent::new();
    let url = format!("mqtt://alice:Plain-Secret-77@127.0.0.1:{}", silent.port());
    let shown = format!("mqtt://alice:***@127.0.0.1:{}", silent.port());
    let pem = support::repo().join("Cargo.toml").display().to_string();
    let tls_args: [(&str, Vec<&str>); 3] = [
        ("--ca", vec!["--ca", &pem]),
        ("--cert", vec!["--cert", &pem, "--key", &pem]),
        ("--ca", vec!["--ca", &pem, "--cert", &pem, "--key", &pem]),
    ];
    for (flag, extra) in &tls_args {
        for verb in [
            vec![
                "send",
                "--json",
                r#"{"vehicleId":"CA1"}"#,
                "--timeout",
                "30s",
            ],
            vec!["listen", "--topic", "a/#", "--count", "1"],
        ] {
            let mut args = verb.clone();
            args.extend(["--broker", &url]);
            args.extend(extra.iter().copied());
            let (run, took) = exec(&args);
            let err = run.fails_with(2);
            assert!(
                err.contains(&format!(
                    "{flag} is for TLS, but {shown} is a plain connection: use mqtts://"
                )),
                "{args:?}:\n{err}"
            );
            assert_never_printed(&run, &["Plain-Secret-77"], "--ca with mqtt://");
            assert!(took < AT_ONCE, "{args:?}: {took:?}");
        }
    }
    assert_eq!(silent.connections(), 0, "nothing may connect in clear text");

    // Against a real broker: nothing published either.
    let broker = Broker::start(BrokerOpts::default());
    let mut sub = Subscriber::start(&broker, "#", "sentinel");
    let (run, _) = exec(&[
        "send",
        "--broker",
        &broker.url(),
        "--ca",
        &pem,
        "--json",
        r#"{"vehicleId":"CA2"}"#,
        "--timeout",
        "2s",
    ]);
    let err = run.fails_with(2);
    assert!(err.contains("--ca is for TLS"), "{err}");
    sub.flush();
    assert_eq!(sub.received(), vec![], "nothing is published");
}

// ---------------------------------------------------------------------------
// 3. Client certificates.

#[test]
fn a_broker_that_requires_a_client_certificate_takes_ours_and_refuses_none() {
    if !mosquitto_or_skip("client certificates") || support::peer("openssl").is_none() {
        return;
    }
    let broker = Broker::start(BrokerOpts {
        client_certs: true,
        plain_listener: true,
        ..Default::default()
    });
    let url = broker.url();
    assert!(url.starts_with("mqtts://"), "{url}");
    let ca = broker.ca().display().to_string();
    let cert = broker.client_cert().display().to_string();
    let key = broker.client_key().display().to_string();
    // On the plain listener, beside the TLS one.
    let mut sub = Subscriber::start(&broker, "#", "sentinel");

    // send with the certificate.
    let (run, _) = exec(&[
        "send",
        "--no-reply",
        "--broker",
        &url,
        "--ca",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--topic",
        "certs/send",
        "--json",
        r#"{"vehicleId":"CERT1"}"#,
    ]);
    let err = run.ok();
    assert!(run.stderr.contains("acknowledged by the broker"), "{err}");

    // listen with the certificate, fed by a send with it.
    let mut listener = Proc::spawn(&[
        "listen",
        "--broker",
        &url,
        "--ca",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--topic",
        "certs/listen",
        "-m",
        "cvp.CommandMessage",
        "-o",
        "jsonl",
        "--count",
        "1",
    ]);
    assert!(
        listener.wait_until(Duration::from_secs(10), |p| p
            .stderr()
            .contains("listening on")),
        "listen with a client certificate: {}",
        listener.stderr()
    );
    // Its SUBSCRIBE goes out right after it says so.
    std::thread::sleep(Duration::from_millis(300));
    let (run, _) = exec(&[
        "send",
        "--no-reply",
        "--broker",
        &url,
        "--ca",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--topic",
        "certs/listen",
        "--json",
        r#"{"vehicleId":"CERT2"}"#,
    ]);
    run.ok();
    let (heard, _) = listener.finish(Duration::from_secs(10));
    let record: Value = serde_json::from_str(heard.ok().trim()).unwrap();
    assert_eq!(record["message"]["vehicle_id"], "CERT2", "{record}");

    sub.flush();
    let topics: Vec<String> = sub.received().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["certs/send", "certs/listen"]);

    // Without a certificate: refused, said clearly, at once.
    for verb in [
        vec![
            "send",
            "--no-reply",
            "--topic",
            "certs/none",
            "--json",
            "{}",
        ],
        vec!["listen", "--topic", "certs/#", "--count", "1"],
    ] {
        let mut args = verb.clone();
        args.extend(["--broker", &url, "--ca", &ca]);
        let (run, took) = exec(&args);
        let err = run.fails_with(1);
        eprintln!("{}: without a client certificate: {err}", args[0]);
        assert!(err.contains(&url), "the broker is named: {err}");
        assert!(
            err.to_lowercase().contains("certificate"),
            "{}: the error says a certificate is wanted:\n{err}",
            args[0]
        );
        assert!(took < Duration::from_secs(12), "{took:?}");
    }
    sub.flush();
    assert_eq!(sub.received().len(), 2, "nothing more published");

    // One without the other: the argument parser says what is missing.
    for (given, missing) in [(["--cert", &cert], "--key"), (["--key", &key], "--cert")] {
        let mut args = vec![
            "send",
            "--no-reply",
            "--broker",
            &url,
            "--ca",
            &ca,
            "--json",
            "{}",
        ];
        args.extend(given);
        let (run, _) = exec(&args);
        let err = run.fails_with(2);
        assert!(
            err.contains("required") && err.contains(missing),
            "{given:?} without {missing}:\n{err}"
        );
    }
}

// ---------------------------------------------------------------------------
// 4. A publish the broker refuses.

#[test]
fn a_publish_the_broker_refuses_is_an_error_at_once() {
    if !mosquitto_or_skip("an ACL") {
        return;
    }
    let broker = Broker::start(BrokerOpts {
        acl: Some("topic read #\ntopic readwrite allowed/#\n".into()),
        ..Default::default()
    });
    let url = broker.url();
    let mut sub = Subscriber::start(&broker, "#", "allowed/sentinel");
    let refused =
        format!("error: the broker at {url} refused the publish to 'denied/x': not authorized");
    // Waiting for a reply first (the vehicle would answer on allowed/reply),
    // then publishing only; at QoS 1 and 2.
    for wait in [
        vec!["--response-topic", "allowed/reply"],
        vec!["--no-reply"],
    ] {
        for qos in ["1", "2"] {
            let mut args = vec![
                "send",
                "--broker",
                &url,
                "--qos",
                qos,
                "--topic",
                "denied/x",
                "--json",
                r#"{"vehicleId":"ACL1"}"#,
                "--timeout",
                "30s",
            ];
            args.extend(wait.iter().copied());
            let (run, took) = exec(&args);
            let err = run.fails_with(1);
            assert!(err.contains(&refused), "{args:?}:\n{err}");
            assert!(
                !err.contains("published") && !err.contains("waiting"),
                "{args:?}: nothing was published:\n{err}"
            );
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            assert!(
                took < AT_ONCE,
                "{args:?}: refused at once, not after --timeout: {took:?}"
            );
        }
    }

    // QoS 0: the broker says nothing, and commander says so.
    let (run, _) = exec(&[
        "send",
        "--broker",
        &url,
        "--qos",
        "0",
        "--no-reply",
        "--topic",
        "denied/x",
        "--json",
        "{}",
    ]);
    run.ok();
    assert!(
        run.stderr.contains("QoS 0") && run.stderr.contains("does not confirm"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("acknowledged"), "{}", run.stderr);

    // Where the ACL allows: acknowledged, completed, delivered.
    for (qos, says) in [
        ("1", "(acknowledged by the broker)"),
        ("2", "(QoS 2, completed)"),
    ] {
        let (run, _) = exec(&[
            "send",
            "--broker",
            &url,
            "--qos",
            qos,
            "--no-reply",
            "--topic",
            "allowed/x",
            "--json",
            r#"{"vehicleId":"ACL2"}"#,
        ]);
        run.ok();
        assert!(
            run.stderr.contains("bytes to allowed/x") && run.stderr.contains(says),
            "QoS {qos}: {}",
            run.stderr
        );
    }
    sub.flush();
    let topics: Vec<String> = sub.received().into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["allowed/x", "allowed/x"], "nothing on denied/x");
}

// ---------------------------------------------------------------------------
// 5. Nothing to match a reply on; --any-reply; --no-reply.

#[test]
fn without_a_correlation_id_send_asks_for_any_reply_or_no_reply() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    // A vehicle that answers every command with a reply to someone else's.
    let vehicle = Responder::start(&broker, |command| {
        vec![reply(
            &str_field(command, "vehicle_id"),
            "someone-elses-command",
        )]
    });

    let (run, took) = exec(&[
        "send",
        "--no-defaults",
        "--broker",
        &url,
        "--json",
        r#"{"vehicleId":"ND1"}"#,
        "--timeout",
        "30s",
    ]);
    let err = run.fails_with(2);
    assert!(
        err.contains("error: nothing to match the reply on: ")
            && err.contains("pass --any-reply")
            && err.contains("or --no-reply"),
        "{err}"
    );
    assert!(run.stdout.is_empty(), "no reply shown: {}", run.stdout);
    assert!(took < AT_ONCE, "{took:?}");

    // Asked for: the first message on the response topic.
    let (run, _) = exec(&[
        "send",
        "--no-defaults",
        "--any-reply",
        "--broker",
        &url,
        "--json",
        r#"{"vehicleId":"ND2"}"#,
        "--timeout",
        "10s",
        "-o",
        "json",
    ]);
    let out = run.ok();
    let got: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(got["correlation_id"], "someone-elses-command", "{got}");
    assert_eq!(got["vehicle_id"], "ND2", "{got}");
    assert!(run.stderr.contains("--any-reply"), "{}", run.stderr);

    // Publish only: back once the broker has it, not after --timeout.
    let (run, took) = exec(&[
        "send",
        "--no-defaults",
        "--no-reply",
        "--broker",
        &url,
        "--json",
        r#"{"vehicleId":"ND3"}"#,
        "--timeout",
        "30s",
    ]);
    run.ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(took < AT_ONCE, "{took:?}");
    assert!(
        run.stderr
            .contains("bytes to /device/ND3/MQTTPROTOBUF/command (acknowledged by the broker)"),
        "{}",
        run.stderr
    );

    // The vehicle got ND2 and ND3, never ND1; none with a correlation_id.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut commands = Vec::new();
    while commands.len() < 2 && Instant::now() < deadline {
        commands.extend(vehicle.received());
        std::thread::sleep(Duration::from_millis(10));
    }
    let vins: Vec<String> = commands
        .iter()
        .map(|c| str_field(c, "vehicle_id"))
        .collect();
    assert_eq!(vins, ["ND2", "ND3"]);
    for c in &commands {
        assert_eq!(str_field(c, "correlation_id"), "", "--no-defaults: {c:?}");
    }
}

// ---------------------------------------------------------------------------
// 6. No reply type known.

#[test]
fn a_schema_without_a_reply_type_needs_response_type_or_no_reply() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    let dir = TempDir::new("send-foo");
    std::fs::write(
        dir.path("foo.proto"),
        "syntax = \"proto3\";\npackage p;\nmessage Foo { string x = 1; }\n",
    )
    .unwrap();
    let proto = dir.path("foo.proto").display().to_string();
    let mut sub = Subscriber::start(&broker, "#", "sentinel");
    let base = [
        "send",
        "-s",
        &proto,
        "-m",
        "p.Foo",
        "--broker",
        &url,
        "--topic",
        "t",
        "--json",
        r#"{"x":"hi"}"#,
        "--timeout",
        "3s",
    ];

    let (run, _) = exec(&base);
    let err = run.fails_with(2);
    assert!(
        err.contains("error: no reply type for p.Foo: pass --response-type TYPE, or --no-reply"),
        "{err}"
    );
    sub.flush();
    assert_eq!(sub.received(), vec![], "nothing published");

    let mut args = base.to_vec();
    args.push("--no-reply");
    let (run, _) = exec(&args);
    run.ok();
    sub.flush();
    // Foo { x: "hi" }: field 1, length 2, "hi".
    assert_eq!(
        sub.received(),
        vec![("t".to_owned(), b"\x0a\x02hi".to_vec())]
    );
}

// ---------------------------------------------------------------------------
// 7. Topic fields the user gave win over the profile's defaults.

#[test]
fn a_topic_field_the_user_gave_wins_over_the_profile_default_and_is_checked() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    let mut sub = Subscriber::start(&broker, "#", "sentinel");
    const EMPTY: &str = "the field vehicle_id is empty";
    const LEVEL: &str = "a topic level cannot hold '/', '+' or '#'";
    let cases: [(&str, &str, &str); 9] = [
        ("--json", r#"{"vehicle_id":""}"#, EMPTY),
        ("--json", r#"{"vehicleId":""}"#, EMPTY),
        ("--text", r#"vehicle_id: """#, EMPTY),
        ("--set", "vehicle_id=", EMPTY),
        ("--json", r#"{"vehicle_id":"a/b"}"#, LEVEL),
        ("--json", r#"{"vehicle_id":"x+y"}"#, LEVEL),
        ("--json", r##"{"vehicle_id":"x#y"}"##, LEVEL),
        ("--text", r#"vehicle_id: "a/b""#, LEVEL),
        ("--set", "vehicle_id=+", LEVEL),
    ];
    for (flag, value, says) in cases {
        let (run, _) = exec(&["send", "--broker", &url, flag, value, "--timeout", "1s"]);
        let err = run.fails_with(1);
        assert!(err.contains(says), "{flag} {value}:\n{err}");
        assert!(run.stdout.is_empty(), "{flag} {value}: {}", run.stdout);
    }
    sub.flush();
    let got = sub.received();
    assert_eq!(
        got.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "nothing published (not to the profile's vehicle MH12VF1121 either)"
    );

    // A value given: its topic, not the default vehicle's.
    let (run, _) = exec(&[
        "send",
        "--no-reply",
        "--broker",
        &url,
        "--json",
        r#"{"vehicle_id":"VIN9"}"#,
    ]);
    run.ok();
    assert!(
        run.stderr
            .contains("bytes to /device/VIN9/MQTTPROTOBUF/command"),
        "{}",
        run.stderr
    );
    sub.flush();
    let got = sub.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "/device/VIN9/MQTTPROTOBUF/command");
    let command = decode("cvp.CommandMessage", &got[0].1);
    assert_eq!(str_field(&command, "vehicle_id"), "VIN9");
    // The profile's other defaults are still there.
    assert_eq!(
        str_field(&command, "correlation_id").len(),
        36,
        "{command:?}"
    );
}

// ---------------------------------------------------------------------------
// 8. Topics with wildcards, an empty one, keep-alives out of range.

#[test]
fn bad_topics_and_keep_alives_are_refused_before_connecting() {
    let silent = Silent::new();
    let url = format!("mqtt://127.0.0.1:{}", silent.port());
    for topic in ["a/+", "a/#", "#", "+", ""] {
        let (run, took) = exec(&[
            "send",
            "--broker",
            &url,
            "--topic",
            topic,
            "--json",
            "{}",
            "--timeout",
            "30s",
        ]);
        let err = run.fails_with(2);
        assert!(err.contains("--topic"), "--topic {topic:?}: {err}");
        let why = if topic.is_empty() {
            "the topic is empty"
        } else {
            "has wildcards"
        };
        assert!(err.contains(why), "--topic {topic:?}: {err}");
        assert!(took < AT_ONCE, "{took:?}");
    }
    for keep_alive in ["65536", "100000", "0", "4"] {
        for verb in [
            vec!["send", "--json", "{}", "--timeout", "1s"],
            vec!["listen", "--topic", "a/#", "--count", "1"],
        ] {
            let mut args = verb.clone();
            args.extend(["--broker", &url, "--keep-alive", keep_alive]);
            let (run, _) = exec(&args);
            let err = run.fails_with(2);
            assert!(
                err.contains("--keep-alive") && err.contains(keep_alive),
                "{args:?}:\n{err}"
            );
        }
    }
    assert_eq!(silent.connections(), 0, "nothing connects");

    // The ends of the range are accepted.
    let broker = Broker::start(BrokerOpts::default());
    let mut sub = Subscriber::start(&broker, "#", "sentinel");
    for keep_alive in ["5", "65535"] {
        let (run, _) = exec(&[
            "send",
            "--no-reply",
            "--broker",
            &broker.url(),
            "--keep-alive",
            keep_alive,
            "--topic",
            "ka/x",
            "--json",
            "{}",
        ]);
        run.ok();
    }
    sub.flush();
    assert_eq!(sub.received().len(), 2);
}

// ---------------------------------------------------------------------------
// 9. Skipped replies, summarised.

#[test]
fn a_hundred_replies_to_other_commands_are_one_note() {
    let broker = Broker::start(BrokerOpts::default());
    // 100 replies to other commands first; for SILENT1, 50 messages that
    // are no reply at all instead of its own.
    let _vehicle = Responder::start(&broker, |command| {
        let vin = str_field(command, "vehicle_id");
        let mut replies: Vec<_> = (0..100)
            .map(|i| reply(&vin, &format!("other-{i:03}")))
            .collect();
        if vin == "SILENT1" {
            let topic = format!("/device/{vin}/MQTTPROTOBUF/commandresponse");
            // Wire type 7 does not exist: not a protobuf message.
            replies.extend((0..50).map(|_| (topic.clone(), vec![0x0f])));
        } else {
            replies.push(reply(&vin, &str_field(command, "correlation_id")));
        }
        replies
    });
    let others = r#"note: skipped 100 replies to other commands (correlation_id "other-000", "other-001", "other-002", …)"#;
    let notes = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.contains("skipped"))
            .map(str::to_owned)
            .collect()
    };

    let (run, _) = exec(&[
        "send",
        "--broker",
        &broker.url(),
        "--json",
        r#"{"vehicleId":"BUSY1"}"#,
        "-o",
        "json",
        "--timeout",
        "15s",
    ]);
    let out = run.ok();
    let got: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let correlation = got["correlation_id"].as_str().unwrap();
    assert!(!correlation.starts_with("other-"), "{got}");
    assert!(
        run.stderr.contains(correlation),
        "the reply is the command's: {}",
        run.stderr
    );
    assert_eq!(
        notes(&run.stderr),
        [others],
        "one note for the 100 skipped:\n{}",
        run.stderr
    );

    // No reply in time: the same summary, and one line for what did not
    // decode, before the error.
    let (run, _) = exec(&[
        "send",
        "--broker",
        &broker.url(),
        "--json",
        r#"{"vehicleId":"SILENT1"}"#,
        "--timeout",
        "2s",
    ]);
    let err = run.fails_with(1);
    let notes = notes(err);
    assert_eq!(notes.len(), 2, "{err}");
    assert_eq!(notes[0], others, "{err}");
    assert!(
        notes[1].starts_with(
            "note: skipped 50 messages that did not decode; the first: not a cvp.CommandResponseMessage"
        ),
        "{err}"
    );
    assert!(
        err.trim_end().lines().last().is_some_and(|l| l.starts_with(
            "error: no reply on /device/SILENT1/MQTTPROTOBUF/commandresponse within 2s"
        )),
        "{err}"
    );
}

/// Twenty senders to one vehicle, which answers when all twenty have
/// asked: each sender sees the replies before its own (0 to 19), skips
/// them, and says so in at most one line.
#[test]
fn concurrent_senders_each_summarise_the_replies_they_skipped() {
    const N: usize = 20;
    let broker = Broker::start(BrokerOpts::default());
    let mut waiting = Vec::new();
    let _vehicle = Responder::start(&broker, move |command| {
        waiting.push(str_field(command, "correlation_id"));
        if waiting.len() < N {
            return Vec::new();
        }
        waiting.drain(..).map(|c| reply("FLEET1", &c)).collect()
    });
    let url = broker.url();
    let senders: Vec<Proc> = (0..N)
        .map(|_| {
            Proc::spawn(&[
                "send",
                "--broker",
                &url,
                "--json",
                r#"{"vehicleId":"FLEET1"}"#,
                "-o",
                "json",
                "--timeout",
                "60s",
            ])
        })
        .collect();
    let mut skipped = Vec::new();
    for sender in senders {
        let (run, _) = sender.finish(Duration::from_secs(90));
        let out = run.ok();
        let got: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert!(
            run.stderr.contains(got["correlation_id"].as_str().unwrap()),
            "its own reply: {}",
            run.stderr
        );
        let notes: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("skipped"))
            .collect();
        assert!(notes.len() <= 1, "one note at most:\n{}", run.stderr);
        let n: usize = match notes.first() {
            None => 0,
            Some(note) => note
                .strip_prefix("note: skipped ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{note}")),
        };
        skipped.push(n);
    }
    skipped.sort();
    assert_eq!(
        skipped,
        (0..N).collect::<Vec<_>>(),
        "the replies each skipped"
    );
}

/// A sub-message given in part (`{"header":{"op":...}}`) keeps the profile's
/// defaults for the fields it leaves out: the topic still gets its device.
/// (The first version of "what the user gives wins" replaced the whole
/// header, and the topic's level came out empty.) No broker needed: the
/// topic is worked out before connecting.
#[test]
fn a_header_given_in_part_keeps_the_profile_defaults_of_the_rest() {
    let profile = support::repo().join("examples/acme/commander.toml");
    let profile = profile.to_str().unwrap();
    let (run, _) = exec(&[
        "send",
        "--profile",
        profile,
        "--broker",
        "mqtt://127.0.0.1:1",
        "--connect-timeout",
        "2s",
        "--any-reply",
        "--json",
        r#"{"header":{"op":"READ_SENSOR"},"body":{"probe":{}}}"#,
    ]);
    assert!(
        !run.stderr.contains("is empty"),
        "the profile's header.device was dropped: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cannot reach the broker"),
        "expected a connection error (nothing listens on port 1): {}",
        run.stderr
    );
}
