//! What `commander listen` delivers over MQTT (issue 10): nothing the broker
//! handed over and commander acknowledged is ever lost, a QoS 2 session
//! resumes after a crash, `--count N` and `| head -1` advance a session
//! exactly, a stop signal ends a listener whose stdout is blocked, a broker
//! that never answers is given up on in time, and a clean stop leaves no
//! duplicates.
//!
//! Each test starts its own mosquitto on a free loopback port (sessions,
//! QoS 2 and in-flight limits as a real broker keeps them): without
//! mosquitto they skip with a notice, or fail under
//! `COMMANDER_REQUIRE_PEERS=1`. The connect-deadline test needs no broker.
//! Messages are `cvp.VehicleTelemetryMessage`s numbered by `sequence`,
//! printed with `-o jsonl`; every commander gets the test's own
//! `XDG_STATE_HOME`. Every wait has a deadline, and a child (with its
//! process group) still running when a test fails is killed.
//!
//! `COMMANDER_BIN=PATH` runs another build (an older one, to see these fail).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use commander::value::message_from_json;
use commander::wire;
use prost_reflect::MessageDescriptor;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{Client, Event};
use serde_json::Value;
use support::TempDir;
use support::broker::{Broker, BrokerOpts, mosquitto_or_skip};

const FILTER: &str = "/device/+/MQTTPROTOBUF/telemetry";
const TOPIC: &str = "/device/VIN1/MQTTPROTOBUF/telemetry";

/// After "listening on", before publishing: the SUBSCRIBE has gone out just
/// before; give the broker a moment to have it.
const SETTLE: Duration = Duration::from_millis(250);
/// How long a stop signal may take to end a listener (issue 10: "within a
/// second or two"; generous for a loaded machine).
const STOP_LIMIT: Duration = Duration::from_secs(3);
/// How long a listener may take to say it is listening.
const READY_LIMIT: Duration = Duration::from_secs(10);
/// How long a run that should end by itself (`--count`, `| head -1`) may take.
const RUN_LIMIT: Duration = Duration::from_secs(15);
/// How long a final run may take to drain a session.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

static TELEMETRY: LazyLock<MessageDescriptor> = LazyLock::new(|| {
    commander::schema::Schema::builtin()
        .unwrap()
        .message("cvp.VehicleTelemetryMessage")
        .unwrap()
});

/// Message number `seq`, encoded.
fn payload(seq: u64) -> Vec<u8> {
    let json = format!(r#"{{"vehicleId":"VIN1","sequence":"{seq}"}}"#);
    wire::encode_to_vec(&message_from_json(&TELEMETRY, &json).unwrap())
}

/// The sequence numbers of the jsonl records in `out`, in order. A last
/// line without its newline (cut short by a kill) is not a record.
#[track_caller]
fn seqs(out: &str) -> Vec<u64> {
    let complete = out.rfind('\n').map_or("", |i| &out[..i]);
    complete
        .lines()
        .map(|line| {
            let r: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a jsonl record ({e}): {line}"));
            r["message"]["sequence"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("a record without a sequence: {line}"))
        })
        .collect()
}

/// `1-20, 22, 25-30`: sequence numbers, short (in the order given).
fn ranges<'a>(seqs: impl IntoIterator<Item = &'a u64>) -> String {
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for &s in seqs {
        match spans.last_mut() {
            Some((_, b)) if s == *b + 1 => *b = s,
            _ => spans.push((s, s)),
        }
    }
    let text: Vec<String> = spans
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    format!("[{}]", text.join(", "))
}

/// How often each sequence number was printed, over all `outputs`.
fn tally<'a>(outputs: impl IntoIterator<Item = &'a Vec<u64>>) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for s in outputs.into_iter().flatten() {
        *seen.entry(*s).or_default() += 1;
    }
    seen
}

/// Of 1..=n, those never printed; and those printed more than once.
fn lost_and_doubled(seen: &BTreeMap<u64, usize>, n: u64) -> (Vec<u64>, Vec<u64>) {
    let lost = (1..=n).filter(|s| !seen.contains_key(s)).collect();
    let doubled = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(s, _)| *s)
        .collect();
    (lost, doubled)
}

/// `commander listen` on the telemetry topics with persistent session
/// `session` at `qos`, jsonl, and `more`; its state under `state`.
fn listen(state: &TempDir, url: &str, session: &str, qos: u8, more: &[&str]) -> Command {
    let mut cmd = support::commander();
    cmd.args(["listen", "--broker", url, "--topic", FILTER])
        .args(["--session", session, "--qos", &qos.to_string()])
        .args(["-o", "jsonl"])
        .args(more)
        .env("XDG_STATE_HOME", &state.0);
    cmd
}

// ---------------------------------------------------------------------------
// A child process, its output read as it comes (or written to a file, or
// left unread).

enum Out {
    /// A pipe read by a thread as fast as it fills.
    Read,
    /// Redirected to this file.
    File(PathBuf),
    /// A pipe nobody reads (`| sleep 1000`).
    Stall,
}

struct Proc {
    child: Option<Child>,
    what: String,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    file: Option<PathBuf>,
    stalled: Option<ChildStdout>,
    readers: Vec<JoinHandle<()>>,
}

/// How a child ended and what it printed.
#[derive(Debug)]
struct Done {
    /// None: ended by a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn read_into(mut from: impl Read + Send + 'static, to: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            to.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Proc {
    /// Starts `cmd` (a pipeline is best given a process group of its own:
    /// a failing test kills the group).
    fn spawn(mut cmd: Command, out: Out) -> Proc {
        let what = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        let file = match &out {
            Out::File(path) => {
                cmd.stdout(File::create(path).expect("an output file"));
                Some(path.clone())
            }
            Out::Read | Out::Stall => {
                cmd.stdout(Stdio::piped());
                None
            }
        };
        let mut child = cmd.spawn().expect("the program runs");
        let (out_buf, err_buf) = Default::default();
        let mut readers = vec![read_into(
            child.stderr.take().unwrap(),
            Arc::clone(&err_buf),
        )];
        let mut stalled = None;
        if let Some(stdout) = child.stdout.take() {
            match out {
                Out::Stall => stalled = Some(stdout),
                _ => readers.push(read_into(stdout, Arc::clone(&out_buf))),
            }
        }
        Proc {
            child: Some(child),
            what,
            out: out_buf,
            err: err_buf,
            file,
            stalled,
            readers,
        }
    }

    fn stdout(&self) -> String {
        match &self.file {
            Some(path) => std::fs::read_to_string(path).unwrap_or_default(),
            None => String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned(),
        }
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    fn pid(&self) -> libc::pid_t {
        self.child.as_ref().expect("running").id() as libc::pid_t
    }

    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// Waits until `cond` holds (true), or `limit` passes or the process
    /// ends (false, unless `cond` then holds).
    fn wait_until(&mut self, limit: Duration, mut cond: impl FnMut(&Proc) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() > deadline || self.exited() {
                // The output may have come with the exit.
                std::thread::sleep(Duration::from_millis(50));
                return cond(self);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for "listening on", then for the subscription to settle.
    #[track_caller]
    fn ready(&mut self) {
        if !self.wait_until(READY_LIMIT, |p| p.stderr().contains("listening on")) {
            let done = self.end_now();
            panic!(
                "`{}` did not say it was listening within {READY_LIMIT:?}\nstderr:\n{}",
                self.what,
                tail(&done.stderr, 30)
            );
        }
        std::thread::sleep(SETTLE);
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    /// Waits up to `limit` for the process to end by itself; if it does
    /// not, kills it and fails the test.
    #[track_caller]
    fn finish(mut self, limit: Duration) -> Done {
        self.wait_until(limit, |_| false);
        if !self.exited() {
            let done = self.end_now();
            panic!(
                "`{}` did not end within {limit:?}\nstdout (end):\n{}\nstderr:\n{}",
                self.what,
                tail(&done.stdout, 10),
                tail(&done.stderr, 30)
            );
        }
        self.end_now()
    }

    /// Sends `sig`; the process must end within `limit`.
    #[track_caller]
    fn stop(self, sig: libc::c_int, limit: Duration) -> Done {
        self.signal(sig);
        self.finish(limit)
    }

    /// SIGKILL: a crash.
    fn kill(mut self) -> Done {
        self.signal(libc::SIGKILL);
        self.end_now()
    }

    /// Kills the process (and the group it leads, if it does) if still
    /// running, reaps it, collects its output.
    fn end_now(&mut self) -> Done {
        let mut child = self.child.take().expect("not yet ended");
        if !matches!(child.try_wait(), Ok(Some(_))) {
            let pid = child.id() as libc::pid_t;
            // SAFETY: kill(2) on our own child (not yet reaped) and its group.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let status = child.wait().expect("wait");
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Done {
            code: status.code(),
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }

    /// Bytes in the unread pipe (`Out::Stall`) right now.
    fn unread(&self) -> usize {
        let fd = self.stalled.as_ref().expect("Out::Stall").as_raw_fd();
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD stores an int.
        unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
        n.max(0) as usize
    }

    /// What is left in the unread pipe, without waiting (after the end).
    fn take_unread(&mut self) -> String {
        let Some(mut pipe) = self.stalled.take() else {
            return String::new();
        };
        // SAFETY: fcntl on our own descriptor.
        unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.end_now();
        }
    }
}

// ---------------------------------------------------------------------------
// Test clients and servers.

/// A publisher at QoS 1 or 2; `flush` waits until the broker has every
/// message (PUBACK, or PUBCOMP).
struct Publisher {
    client: Client,
    qos: QoS,
    acked: Arc<AtomicUsize>,
    sent: usize,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    #[track_caller]
    fn connect(broker: &Broker, id: &str, qos: u8) -> Publisher {
        let qos = match qos {
            1 => QoS::AtLeastOnce,
            2 => QoS::ExactlyOnce,
            _ => unreachable!("QoS 1 or 2"),
        };
        let (client, mut conn) = Client::new(broker.client_options(id), 1000);
        let acked = Arc::new(AtomicUsize::new(0));
        let (ready_tx, ready_rx) = mpsc::channel();
        let counter = Arc::clone(&acked);
        let thread = std::thread::spawn(move || {
            for event in conn.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = ready_tx.send(Ok(()));
                    }
                    Ok(Event::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
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
            other => panic!("the test publisher cannot connect: {other:?}"),
        }
        Publisher {
            client,
            qos,
            acked,
            sent: 0,
            thread: Some(thread),
        }
    }

    fn publish(&mut self, seq: u64) {
        self.client
            .publish(TOPIC, self.qos, false, payload(seq))
            .expect("publish");
        self.sent += 1;
    }

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
            let _ = t.join();
        }
    }
}

/// Publishes `seqs` at `qos` and waits for the broker to have them all.
fn publish_all(broker: &Broker, qos: u8, seqs: std::ops::RangeInclusive<u64>) {
    let mut p = Publisher::connect(broker, "fleet", qos);
    for seq in seqs {
        p.publish(seq);
    }
    p.flush();
}

/// Makes the persistent session `session` with its subscription (a listener
/// that starts and is stopped), so the broker queues what comes next.
#[track_caller]
fn make_session(state: &TempDir, url: &str, session: &str, qos: u8) {
    let mut first = Proc::spawn(listen(state, url, session, qos, &[]), Out::Read);
    first.ready();
    let done = first.stop(libc::SIGTERM, STOP_LIMIT);
    assert!(
        done.stdout.is_empty(),
        "nothing was published yet: {done:?}"
    );
}

/// Where a [`Proxy`] packet went.
const TO_CLIENT: usize = 0;
const TO_BROKER: usize = 1;
/// MQTT control packet types (the first byte's high nibble).
const PUBREL: u8 = 6;
const PUBCOMP: u8 = 7;

#[derive(Default)]
struct ProxyState {
    stop: AtomicBool,
    /// Keep PUBRELs from the broker instead of passing them on.
    hold: AtomicBool,
    held: Mutex<Vec<Vec<u8>>>,
    /// Per connection, in the order accepted: packets by direction and type.
    counts: Mutex<Vec<[[usize; 16]; 2]>>,
}

/// A TCP proxy between commander and the broker that reads MQTT packets on
/// the way (to count them) and, when told to, holds back the broker's
/// PUBRELs: the listener is then stopped between PUBREC and PUBCOMP.
struct Proxy {
    port: u16,
    state: Arc<ProxyState>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(broker_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState::default());
        let st = Arc::clone(&state);
        let accept = std::thread::spawn(move || {
            while !st.stop.load(Ordering::SeqCst) {
                let client = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                let Ok(broker) = TcpStream::connect(("127.0.0.1", broker_port)) else {
                    continue;
                };
                let conn = {
                    let mut counts = st.counts.lock().unwrap();
                    counts.push([[0; 16]; 2]);
                    counts.len() - 1
                };
                for (from, to, dir) in
                    [(&broker, &client, TO_CLIENT), (&client, &broker, TO_BROKER)]
                {
                    let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    let st = Arc::clone(&st);
                    std::thread::spawn(move || relay(from, to, conn, dir, &st));
                }
            }
        });
        Proxy {
            port,
            state,
            accept: Some(accept),
        }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    fn hold_pubrels(&self, hold: bool) {
        self.state.hold.store(hold, Ordering::SeqCst);
    }

    fn held(&self) -> usize {
        self.state.held.lock().unwrap().len()
    }

    fn connections(&self) -> usize {
        self.state.counts.lock().unwrap().len()
    }

    /// Packets of type `ty` that went `dir` on connection `conn`.
    fn count(&self, conn: usize, dir: usize, ty: u8) -> usize {
        self.state.counts.lock().unwrap()[conn][dir][ty as usize]
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Passes packets from `from` to `to` until either side closes; then closes
/// both (so the broker sees a crashed client go).
fn relay(from: TcpStream, mut to: TcpStream, conn: usize, dir: usize, st: &ProxyState) {
    let mut reader = BufReader::new(&from);
    while let Some(packet) = read_packet(&mut reader) {
        let ty = packet[0] >> 4;
        st.counts.lock().unwrap()[conn][dir][ty as usize] += 1;
        if dir == TO_CLIENT && ty == PUBREL && st.hold.load(Ordering::SeqCst) {
            st.held.lock().unwrap().push(packet);
            continue;
        }
        if to.write_all(&packet).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// One whole MQTT packet: the fixed header's first byte, the remaining
/// length (a variable byte integer), the rest. None at the end or on garbage.
fn read_packet(r: &mut impl Read) -> Option<Vec<u8>> {
    let mut packet = vec![0u8];
    r.read_exact(&mut packet).ok()?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let mut b = [0u8];
        r.read_exact(&mut b).ok()?;
        packet.push(b[0]);
        len |= usize::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return None;
        }
    }
    let start = packet.len();
    packet.resize(start + len, 0);
    r.read_exact(&mut packet[start..]).ok()?;
    Some(packet)
}

/// A server that accepts TCP connections and never says a word (a
/// port-forward to a dead broker).
struct Silent {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (accepted, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (count, stopping) = (Arc::clone(&accepted), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((c, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        held.push(c);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Silent {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------
// 1. A QoS 2 session resumed after a crash between PUBREC and PUBCOMP.

/// The broker sends PUBREL again for every id whose PUBCOMP it never got;
/// the resumed listener must complete them and go on with what was queued
/// meanwhile, writing nothing twice.
#[test]
fn a_qos2_session_resumes_after_the_listener_is_killed_between_pubrec_and_pubcomp() {
    if !mosquitto_or_skip("the QoS 2 session killed between PUBREC and PUBCOMP") {
        return;
    }
    // Queued before the first run, and while no listener runs after it.
    const FIRST: u64 = 20;
    const N: u64 = 60;
    let broker = Broker::start(BrokerOpts::default());
    let state = TempDir::new("state");
    let proxy = Proxy::start(broker.port);
    let url = proxy.url();
    let session = "qos2-killed";
    make_session(&state, &url, session, 2);
    publish_all(&broker, 2, 1..=FIRST);

    // A listener whose PUBRELs never arrive: each message it writes stays
    // between PUBREC and PUBCOMP. Killed when it has settled there.
    proxy.hold_pubrels(true);
    let mut first = Proc::spawn(listen(&state, &url, session, 2, &[]), Out::Read);
    let lines = |p: &Proc| seqs(&p.stdout()).len();
    let held = first.wait_until(READY_LIMIT, |p| lines(p) >= 1 && proxy.held() >= 1);
    assert!(
        held,
        "no record written and PUBREL held back: {} records, {} held\nstderr:\n{}",
        lines(&first),
        proxy.held(),
        first.stderr()
    );
    // Settled: every message queued is written, and its PUBREL held (so
    // its PUBREC went).
    let settled = first.wait_until(Duration::from_secs(10), |p| {
        lines(p) as u64 == FIRST && proxy.held() as u64 >= FIRST
    });
    assert!(
        settled,
        "the listener did not settle: {} of {FIRST} records, {} PUBRELs held\nstderr:\n{}",
        lines(&first),
        proxy.held(),
        first.stderr()
    );
    let first = first.kill();
    let written = seqs(&first.stdout);
    let held = proxy.held();
    let (_, doubled) = lost_and_doubled(&tally([&written]), N);
    assert!(doubled.is_empty(), "the first run wrote {doubled:?} twice");
    eprintln!(
        "first run: wrote {}, {held} PUBRELs held back, then SIGKILL",
        ranges(&written)
    );

    publish_all(&broker, 2, FIRST + 1..=N);

    // The same session again, PUBRELs passed on: what is left, exactly.
    proxy.hold_pubrels(false);
    let conn = proxy.connections();
    let rest = N - written.len() as u64;
    let mut second = Proc::spawn(
        listen(&state, &url, session, 2, &["--count", &rest.to_string()]),
        Out::Read,
    );
    second.ready();
    let second = second.finish(RUN_LIMIT);
    assert_eq!(second.code, Some(0), "{second:?}");
    let got = seqs(&second.stdout);
    let again: Vec<u64> = got
        .iter()
        .copied()
        .filter(|s| written.contains(s))
        .collect();
    assert!(
        again.is_empty(),
        "written again after the resume: {}",
        ranges(&again)
    );
    let (lost, doubled) = lost_and_doubled(&tally([&written, &got]), N);
    assert!(
        lost.is_empty() && doubled.is_empty(),
        "first run {}, second run {}: lost {}, doubled {}\nstderr:\n{}",
        ranges(&written),
        ranges(&got),
        ranges(&lost),
        ranges(&doubled),
        second.stderr
    );
    // The broker did resend the PUBRELs it had no PUBCOMP for, and they
    // were completed.
    assert!(
        proxy.count(conn, TO_CLIENT, PUBREL) >= held
            && proxy.count(conn, TO_BROKER, PUBCOMP) >= held,
        "on resuming: {} PUBRELs from the broker, {} PUBCOMPs back, {held} were pending",
        proxy.count(conn, TO_CLIENT, PUBREL),
        proxy.count(conn, TO_BROKER, PUBCOMP)
    );
}

// ---------------------------------------------------------------------------
// 2. `--count N` three times on a backlog.

/// Three runs of `--count N` print 1..N, N+1..2N, 2N+1..3N: exactly N
/// each, in order, no gap, no repeat. Runs write to a pipe read as it
/// comes, to a file, to a pipe again.
fn count_three_times(qos: u8) {
    const N: u64 = 10;
    const BACKLOG: u64 = 35;
    let broker = Broker::start(BrokerOpts::default());
    let state = TempDir::new("state");
    let files = TempDir::new("out");
    let url = broker.url();
    let session = format!("count-q{qos}");
    make_session(&state, &url, &session, qos);
    publish_all(&broker, qos, 1..=BACKLOG);
    for run in 0..3u64 {
        let out = match run {
            1 => Out::File(files.path("batch.jsonl")),
            _ => Out::Read,
        };
        let done = Proc::spawn(
            listen(&state, &url, &session, qos, &["--count", &N.to_string()]),
            out,
        )
        .finish(RUN_LIMIT);
        assert_eq!(done.code, Some(0), "run {}: {done:?}", run + 1);
        let got = seqs(&done.stdout);
        let want: Vec<u64> = (run * N + 1..=(run + 1) * N).collect();
        assert_eq!(
            got,
            want,
            "run {} of --count {N} at QoS {qos} printed {}, not {}\nstderr:\n{}",
            run + 1,
            ranges(&got),
            ranges(&want),
            done.stderr
        );
    }
}

#[test]
fn count_n_three_times_takes_the_next_n_each_time_at_qos1() {
    if !mosquitto_or_skip("--count on a persistent session") {
        return;
    }
    count_three_times(1);
}

#[test]
fn count_n_three_times_takes_the_next_n_each_time_at_qos2() {
    if !mosquitto_or_skip("--count on a persistent QoS 2 session") {
        return;
    }
    count_three_times(2);
}

// ---------------------------------------------------------------------------
// 3. `| head -1` three times.

#[test]
fn head_1_three_times_prints_three_consecutive_messages_and_loses_none() {
    if !mosquitto_or_skip("listen | head -1 on a persistent session") {
        return;
    }
    const N: u64 = 30;
    let broker = Broker::start(BrokerOpts::default());
    let state = TempDir::new("state");
    let url = broker.url();
    let session = "head";
    make_session(&state, &url, session, 1);
    publish_all(&broker, 1, 1..=N);

    let mut heads = Vec::new();
    for run in 1..=3u64 {
        // sh -c '{ commander listen ...; echo ...; } | head -1'
        let listener = listen(&state, &url, session, 1, &[]);
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(r#"{ "$0" "$@"; echo "commander exit $?" >&2; } | head -1"#)
            .arg(listener.get_program())
            .args(listener.get_args())
            .current_dir(support::repo())
            .process_group(0);
        for (k, v) in listener.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        let done = Proc::spawn(sh, Out::Read).finish(RUN_LIMIT);
        assert_eq!(done.code, Some(0), "{done:?}");
        assert!(done.stderr.contains("listening on"), "{}", done.stderr);
        let got = seqs(&done.stdout);
        assert_eq!(
            got,
            vec![run],
            "run {run} of `listen | head -1` printed {}\nstderr:\n{}",
            ranges(&got),
            done.stderr
        );
        heads.push(got);
    }

    // The rest, with nothing lost and nothing shown twice.
    let mut drain = Proc::spawn(listen(&state, &url, session, 1, &[]), Out::Read);
    drain.ready();
    let before: BTreeSet<u64> = heads.iter().flatten().copied().collect();
    let all = |p: &Proc| {
        let mut s = before.clone();
        s.extend(seqs(&p.stdout()));
        s.len() as u64 >= N
    };
    drain.wait_until(DRAIN_LIMIT, all);
    std::thread::sleep(Duration::from_millis(300));
    let drain = drain.stop(libc::SIGTERM, STOP_LIMIT);
    let rest = seqs(&drain.stdout);
    let mut outputs = heads.clone();
    outputs.push(rest.clone());
    let (lost, doubled) = lost_and_doubled(&tally(&outputs), N);
    assert!(
        lost.is_empty() && doubled.is_empty(),
        "head -1 printed {heads:?}, then the drain {}: lost {}, shown twice {}",
        ranges(&rest),
        ranges(&lost),
        ranges(&doubled)
    );
}

// ---------------------------------------------------------------------------
// 4. A stop signal while stdout is blocked.

#[test]
fn a_stop_signal_ends_a_listener_blocked_on_stdout_and_loses_nothing() {
    if !mosquitto_or_skip("the stalled output on a persistent session") {
        return;
    }
    // Far more than a 64 KiB pipe holds.
    const N: u64 = 2000;
    let broker = Broker::start(BrokerOpts::default());
    let state = TempDir::new("state");
    let url = broker.url();
    let session = "stalled";
    make_session(&state, &url, session, 1);
    publish_all(&broker, 1, 1..=N);

    // `listen | sleep 1000`, stopped with SIGTERM, then again with SIGINT.
    // What is left whole in the pipe is the stalled reader's: it takes it
    // when it goes on (here, once the listener has ended).
    let mut handed = Vec::new();
    for (sig, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let mut stalled = Proc::spawn(listen(&state, &url, session, 1, &[]), Out::Stall);
        stalled.ready();
        let blocked = stalled.wait_until(READY_LIMIT, |p| p.unread() > 0);
        assert!(blocked, "nothing written to the pipe: {}", stalled.stderr());
        // Now it has more to write than the pipe takes.
        std::thread::sleep(Duration::from_millis(300));
        let unread_before = stalled.unread();
        let started = Instant::now();
        stalled.signal(sig);
        stalled.wait_until(STOP_LIMIT, |_| false);
        let ended = stalled.exited();
        let took = started.elapsed();
        let left_in_pipe = stalled.take_unread();
        let done = stalled.end_now();
        assert!(
            ended,
            "{name} with stdout blocked ({unread_before} bytes unread): still running after {took:?}\nstderr:\n{}",
            done.stderr
        );
        assert_eq!(
            done.code,
            Some(130),
            "{name} with stdout blocked: {:?}",
            done.stderr
        );
        let left = seqs(&left_in_pipe);
        eprintln!(
            "{name}: ended in {took:?}; {} records were left unread in the pipe",
            left.len()
        );
        handed.extend(left);
    }

    // The session still has every message the stalled readers did not get,
    // and none of those they did.
    let mut drain = Proc::spawn(listen(&state, &url, session, 1, &[]), Out::Read);
    drain.ready();
    let all = |p: &Proc| {
        let s: BTreeSet<u64> = seqs(&p.stdout()).into_iter().collect();
        s.len() as u64 + handed.len() as u64 >= N
    };
    drain.wait_until(DRAIN_LIMIT, all);
    let drain = drain.stop(libc::SIGTERM, STOP_LIMIT);
    let got = seqs(&drain.stdout);
    let (lost, doubled) = lost_and_doubled(&tally([&handed, &got]), N);
    assert!(
        lost.is_empty(),
        "{} of {N} messages lost after the stops with a stalled reader: {}\nstderr:\n{}",
        lost.len(),
        ranges(&lost),
        drain.stderr
    );
    assert!(
        doubled.is_empty(),
        "after clean stops, {} messages in the stalled reader's pipe came again: {}",
        doubled.len(),
        ranges(&doubled)
    );
}

// ---------------------------------------------------------------------------
// 5. A broker that accepts TCP and never answers.

#[test]
fn a_broker_that_never_answers_fails_within_the_connect_timeout() {
    let silent = Silent::start();
    let url = format!("mqtt://127.0.0.1:{}", silent.port);
    let state = TempDir::new("state");
    let listen = ["listen", "--broker", &url, "--topic", FILTER];
    let send = [
        "send",
        "--broker",
        &url,
        "--no-reply",
        "--json",
        r#"{"vehicleId":"VIN1","subtype":"DOOR_LOCK","doorLock":{}}"#,
    ];
    for args in [&listen[..], &send[..]] {
        let before = silent.accepted.load(Ordering::SeqCst);
        let mut cmd = support::commander();
        cmd.args(args)
            .args(["--connect-timeout", "1s"])
            .env("XDG_STATE_HOME", &state.0);
        let started = Instant::now();
        let done = Proc::spawn(cmd, Out::Read).finish(Duration::from_secs(3));
        eprintln!(
            "{}: {:?} after {:?}",
            args[0],
            done.stderr,
            started.elapsed()
        );
        assert_eq!(done.code, Some(1), "{}: {done:?}", args[0]);
        assert!(
            done.stderr.contains("no answer") && done.stderr.contains(&url),
            "{}: the error says the broker at {url} did not answer:\n{}",
            args[0],
            done.stderr
        );
        assert!(
            silent.accepted.load(Ordering::SeqCst) > before,
            "{}: it never connected",
            args[0]
        );
    }
}

// ---------------------------------------------------------------------------
// 6. Clean stops under a live stream: nothing lost, nothing twice.

/// A publisher sends N numbered messages at about 2,000 a second while the
/// listener (stdout to a file, or to a pipe read as it fills) is stopped
/// with SIGTERM and started again with its session, again and again; after
/// the publisher is done a last run drains. Every message exactly once over
/// all the runs.
fn clean_stops_under_a_live_stream(qos: u8, to_file: bool) {
    const N: u64 = 4000;
    let broker = Broker::start(BrokerOpts::default());
    let state = TempDir::new("state");
    let dir = TempDir::new("runs");
    let url = broker.url();
    let session = format!("clean-q{qos}");
    let how = if to_file { "to a file" } else { "to a pipe" };
    let mut outputs: Vec<Vec<u64>> = Vec::new();
    let start = |i: usize| {
        let file = dir.path(&format!("run-{i}.jsonl"));
        let out = if to_file { Out::File(file) } else { Out::Read };
        let mut p = Proc::spawn(listen(&state, &url, &session, qos, &[]), out);
        p.ready();
        p
    };
    let mut run = start(0);
    let mut publisher = Publisher::connect(&broker, "fleet", qos);
    let publishing = std::thread::spawn(move || {
        for seq in 1..=N {
            publisher.publish(seq);
            if seq % 40 == 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        publisher.flush();
    });
    // Stop and start while the stream flows; the last start comes after
    // the publisher is done, and drains.
    let mut stops = 0;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let published = publishing.is_finished();
        let done = run.stop(libc::SIGTERM, STOP_LIMIT);
        assert_eq!(done.code, Some(130), "stop {}: {}", stops + 1, done.stderr);
        outputs.push(seqs(&done.stdout));
        stops += 1;
        run = start(stops);
        if (published && stops >= 3) || stops >= 20 {
            break;
        }
    }
    publishing
        .join()
        .expect("the publisher got every message to the broker");
    let before: BTreeSet<u64> = outputs.iter().flatten().copied().collect();
    run.wait_until(DRAIN_LIMIT, |p| {
        let mut s = before.clone();
        s.extend(seqs(&p.stdout()));
        s.len() as u64 >= N
    });
    // Time for a late duplicate to show.
    std::thread::sleep(Duration::from_millis(500));
    let last = run.stop(libc::SIGTERM, STOP_LIMIT);
    outputs.push(seqs(&last.stdout));

    let per_run: Vec<usize> = outputs.iter().map(Vec::len).collect();
    let (lost, doubled) = lost_and_doubled(&tally(&outputs), N);
    eprintln!(
        "QoS {qos}, {how}: {stops} clean stops, records per run {per_run:?}; lost {}, doubled {}",
        lost.len(),
        doubled.len()
    );
    assert!(
        lost.is_empty(),
        "QoS {qos}, {how}: {} of {N} lost across {stops} clean stops: {}\nlast run's stderr:\n{}",
        lost.len(),
        ranges(&lost),
        last.stderr
    );
    assert!(
        doubled.is_empty(),
        "QoS {qos}, {how}: {} printed twice after clean stops (records per run {per_run:?}): {}",
        doubled.len(),
        ranges(&doubled)
    );
}

#[test]
fn clean_stops_under_a_live_stream_lose_and_double_nothing_at_qos1_to_a_file() {
    if !mosquitto_or_skip("clean stops of a persistent session") {
        return;
    }
    clean_stops_under_a_live_stream(1, true);
}

#[test]
fn clean_stops_under_a_live_stream_lose_and_double_nothing_at_qos1_to_a_pipe() {
    if !mosquitto_or_skip("clean stops of a persistent session") {
        return;
    }
    clean_stops_under_a_live_stream(1, false);
}

#[test]
fn clean_stops_under_a_live_stream_lose_and_double_nothing_at_qos2_to_a_file() {
    if !mosquitto_or_skip("clean stops of a persistent QoS 2 session") {
        return;
    }
    clean_stops_under_a_live_stream(2, true);
}

#[test]
fn clean_stops_under_a_live_stream_lose_and_double_nothing_at_qos2_to_a_pipe() {
    if !mosquitto_or_skip("clean stops of a persistent QoS 2 session") {
        return;
    }
    clean_stops_under_a_live_stream(2, false);
}

// ---------------------------------------------------------------------------
// 6. A broker that crashed and came back from an older save reuses a QoS 2
// packet id the listener still holds (written, PUBREC sent, no PUBREL yet)
// for a new message: that message is new, and must be written. And it
// sends again a message whose exchange the listener completed: written
// once already, it must not be written again.

/// The body of a packet read by [`read_packet`] (after the fixed header).
fn body(packet: &[u8]) -> &[u8] {
    let len_bytes = packet[1..].iter().take_while(|b| **b & 0x80 != 0).count() + 1;
    &packet[1 + len_bytes..]
}

/// An MQTT 5 QoS 2 PUBLISH.
fn publish_qos2(pkid: u16, dup: bool, topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut rest = Vec::new();
    rest.extend((topic.len() as u16).to_be_bytes());
    rest.extend(topic.as_bytes());
    rest.extend(pkid.to_be_bytes());
    rest.push(0); // no properties
    rest.extend(payload);
    let mut packet = vec![0x34 | if dup { 0x08 } else { 0 }];
    let mut len = rest.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        packet.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    packet.extend(rest);
    packet
}

/// Reads packets until one of `kind` (the fixed header's high nibble).
fn expect(conn: &mut TcpStream, kind: u8) -> Vec<u8> {
    loop {
        let p = read_packet(conn).unwrap_or_else(|| panic!("connection ended before {kind:x}0"));
        if p[0] >> 4 == kind {
            return p;
        }
    }
}

#[test]
fn a_broker_back_from_an_older_save_neither_loses_nor_doubles_qos2_messages() {
    let server = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = server.local_addr().unwrap().port();
    let broker = std::thread::spawn(move || {
        server.set_nonblocking(false).expect("a blocking listener");
        let accept = || {
            let (mut c, _) = server.accept().expect("a connection");
            c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            expect(&mut c, 1); // CONNECT
            c.write_all(&[0x20, 3, 0x01, 0x00, 0x00]).unwrap(); // CONNACK, session present
            c
        };
        // The first incarnation: a subscription, message 1 with id 7, its
        // PUBREC; then the crash (no PUBREL ever comes for it).
        let mut c = accept();
        let sub = expect(&mut c, 8);
        let id = &body(&sub)[..2];
        c.write_all(&[0x90, 4, id[0], id[1], 0x00, 0x02]).unwrap();
        c.write_all(&publish_qos2(7, false, TOPIC, &payload(1)))
            .unwrap();
        expect(&mut c, 5);
        drop(c);
        // Back from an older save, with the session: message 2 goes out
        // with id 7 again; then sent again (DUP, after a lost PUBREC), then
        // released.
        let mut c = accept();
        c.write_all(&publish_qos2(7, false, TOPIC, &payload(2)))
            .unwrap();
        expect(&mut c, 5);
        c.write_all(&publish_qos2(7, true, TOPIC, &payload(2)))
            .unwrap();
        expect(&mut c, 5);
        c.write_all(&[0x62, 2, 0, 7]).unwrap(); // PUBREL 7
        expect(&mut c, 7); // PUBCOMP
        drop(c);
        // Crashed again, back from a save made before that PUBCOMP: message
        // 2 is sent again (DUP, id 7). Written already: only acknowledged.
        let mut c = accept();
        c.write_all(&publish_qos2(7, true, TOPIC, &payload(2)))
            .unwrap();
        expect(&mut c, 5);
        c.write_all(&[0x62, 2, 0, 7]).unwrap();
        expect(&mut c, 7);
        // Then a third message, so the listener has more to take if it
        // were to print message 2 twice.
        c.write_all(&publish_qos2(8, false, TOPIC, &payload(3)))
            .unwrap();
        expect(&mut c, 5);
        // Written and acknowledged: the third is the last (`--count 3`).
        c
    });
    let state = TempDir::new("state");
    let url = format!("mqtt://127.0.0.1:{port}");
    let run = Proc::spawn(
        listen(&state, &url, "reused-id", 2, &["--count", "3"]),
        Out::Read,
    )
    .finish(RUN_LIMIT);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(
        seqs(&run.stdout),
        vec![1, 2, 3],
        "message 2 came with the id of message 1 (never released), then again after its \
         release\nstderr:\n{}",
        run.stderr
    );
    drop(broker.join().expect("the fake broker ran to its end"));
}
