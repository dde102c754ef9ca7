//! A real MQTT broker for the tests, on a free 127.0.0.1 port.
//!
//! Debian's `mosquitto` when it is on PATH (`.ci/run` installs it), else an
//! embedded rumqttd broker in a thread, so `cargo test` stays self-contained
//! on a machine without mosquitto. `COMMANDER_TEST_BROKER=embedded` forces
//! the embedded one (to check that path where mosquitto is installed).
//!
//! What only mosquitto does here (a restart with persistence, TLS: rumqttd is
//! a dev-dependency without its TLS feature and cannot be stopped) is asked
//! for with [`mosquitto_or_skip`], which follows [`super::peer`]: without
//! mosquitto the test skips with a notice, or fails when
//! `COMMANDER_REQUIRE_PEERS=1` (CI).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode};
use rumqttc::v5::{Client, Event};

use super::TempDir;

/// What the broker must offer.
#[derive(Debug, Clone, Default)]
pub struct BrokerOpts {
    /// Only this username and password are let in (no anonymous clients).
    pub credentials: Option<(String, String)>,
    /// Keep sessions and queued messages on disk across [`Broker::restart`]
    /// (mosquitto only).
    pub persistence: bool,
    /// A TLS listener with a certificate for 127.0.0.1 signed by a CA made
    /// here (mosquitto and openssl only); the CA is [`Broker::ca`].
    pub tls: bool,
    /// The TLS listener requires a client certificate signed by the test CA
    /// (`require_certificate`; implies `tls`): one is made here,
    /// [`Broker::client_cert`] and [`Broker::client_key`]. mosquitto and
    /// openssl only.
    pub client_certs: bool,
    /// Also a plain listener on [`Broker::plain_port`], for test clients
    /// that do not speak TLS ([`Broker::client_options`] connects there).
    /// mosquitto only.
    pub plain_listener: bool,
    /// mosquitto's `acl_file`, with this content (anonymous clients stay
    /// allowed; lines before any `user` line apply to them). mosquitto only.
    pub acl: Option<String>,
}

/// Which broker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mosquitto,
    Embedded,
}

/// A running broker; mosquitto is stopped on drop.
pub struct Broker {
    pub kind: Kind,
    pub port: u16,
    /// The second, plain listener's port ([`BrokerOpts::plain_listener`]).
    plain_port: Option<u16>,
    opts: BrokerOpts,
    dir: TempDir,
    mosquitto: Option<PathBuf>,
    child: Option<Child>,
}

/// mosquitto's path, unless the embedded broker is asked for.
pub fn mosquitto() -> Option<PathBuf> {
    if std::env::var("COMMANDER_TEST_BROKER").is_ok_and(|v| v == "embedded") {
        return None;
    }
    which("mosquitto")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// For a test that needs mosquitto (`what` says for what): true when it is
/// there; else a notice and false (skip), or a panic under
/// `COMMANDER_REQUIRE_PEERS=1`.
pub fn mosquitto_or_skip(what: &str) -> bool {
    if mosquitto().is_some() {
        return true;
    }
    if std::env::var_os("COMMANDER_REQUIRE_PEERS").is_some_and(|v| v == "1") {
        panic!(
            "mosquitto is required (COMMANDER_REQUIRE_PEERS=1) for {what} but not on PATH \
             (or COMMANDER_TEST_BROKER=embedded); scripts/test installs it"
        );
    }
    eprintln!(
        "note: mosquitto not found; skipping {what}, which the embedded broker cannot do \
         (scripts/test installs mosquitto)"
    );
    false
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until `port` accepts TCP connections.
fn wait_listening(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

impl Broker {
    /// Starts a broker with `opts`: mosquitto when it is there, else the
    /// embedded one (which cannot do TLS: ask with [`mosquitto_or_skip`]).
    pub fn start(mut opts: BrokerOpts) -> Broker {
        opts.tls |= opts.client_certs;
        let dir = TempDir::new("broker");
        match mosquitto() {
            Some(path) => Broker::start_mosquitto(path, opts, dir),
            None => {
                assert!(
                    !opts.tls && !opts.persistence,
                    "TLS and persistence need mosquitto: check mosquitto_or_skip first"
                );
                assert!(
                    !opts.plain_listener && opts.acl.is_none(),
                    "a second listener and an ACL need mosquitto: check mosquitto_or_skip first"
                );
                Broker::start_embedded(opts, dir)
            }
        }
    }

    /// `mqtt://127.0.0.1:PORT` (or `mqtts://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.opts.tls { "mqtts" } else { "mqtt" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA certificate (PEM) that signed the TLS listener's certificate.
    pub fn ca(&self) -> PathBuf {
        assert!(self.opts.tls, "no TLS listener");
        self.dir.path("ca.pem")
    }

    /// The client certificate (PEM) the TLS listener accepts
    /// ([`BrokerOpts::client_certs`]), signed by [`Broker::ca`].
    pub fn client_cert(&self) -> PathBuf {
        assert!(self.opts.client_certs, "no client certificates");
        self.dir.path("client.pem")
    }

    /// The private key (PEM) of [`Broker::client_cert`].
    pub fn client_key(&self) -> PathBuf {
        assert!(self.opts.client_certs, "no client certificates");
        self.dir.path("client.key")
    }

    /// The plain listener's port ([`BrokerOpts::plain_listener`]).
    pub fn plain_port(&self) -> u16 {
        self.plain_port
            .expect("no plain listener (BrokerOpts::plain_listener)")
    }

    /// The broker's directory (config, log, certificates, persistence).
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// mosquitto's log so far (empty for the embedded broker).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("mosquitto.log")).unwrap_or_default()
    }

    /// rumqttc options for a test client (publisher, responder) of this
    /// broker, with the broker's credentials (on the plain listener when
    /// there is one).
    pub fn client_options(&self, id: &str) -> rumqttc::v5::MqttOptions {
        let port = self.plain_port.unwrap_or(self.port);
        let mut o = rumqttc::v5::MqttOptions::new(id, "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(30));
        if let Some((u, p)) = &self.opts.credentials {
            o.set_credentials(u.clone(), p.clone());
        }
        o
    }

    fn start_mosquitto(path: PathBuf, opts: BrokerOpts, dir: TempDir) -> Broker {
        let mut broker = Broker {
            kind: Kind::Mosquitto,
            port: 0,
            plain_port: None,
            opts,
            dir,
            mosquitto: Some(path),
            child: None,
        };
        broker.write_files();
        // The free port may be taken between the check and mosquitto's bind:
        // try a few.
        for _ in 0..5 {
            broker.port = free_port();
            if broker.opts.plain_listener {
                broker.plain_port = Some(loop {
                    let p = free_port();
                    if p != broker.port {
                        break p;
                    }
                });
            }
            broker.write_config();
            if broker.spawn_mosquitto() {
                return broker;
            }
        }
        panic!("mosquitto did not start; its log:\n{}", broker.log());
    }

    /// The password file, certificates and persistence directory.
    fn write_files(&self) {
        let dir = &self.dir.0;
        if let Some((user, password)) = &self.opts.credentials {
            let file = self.dir.path("passwords");
            let passwd = which("mosquitto_passwd").expect("mosquitto_passwd (package mosquitto)");
            let out = Command::new(passwd)
                .args(["-b", "-c"])
                .arg(&file)
                .args([user, password])
                .output()
                .expect("mosquitto_passwd runs");
            assert!(
                out.status.success(),
                "mosquitto_passwd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if self.opts.tls {
            make_certificates(dir);
        }
        if self.opts.client_certs {
            make_client_certificate(dir);
        }
        if let Some(acl) = &self.opts.acl {
            std::fs::write(self.dir.path("acl"), acl).unwrap();
        }
        if self.opts.persistence {
            // Started as root, mosquitto drops to the user `mosquitto` unless
            // told `user root`: make the directory writable either way, or
            // nothing is saved and sessions do not survive a restart.
            let p = self.dir.path("persist");
            std::fs::create_dir_all(&p).unwrap();
            set_mode(&p, 0o777);
            set_mode(dir, 0o777);
        }
    }

    fn write_config(&self) {
        let mut conf = String::new();
        conf.push_str(&format!("listener {} 127.0.0.1\n", self.port));
        if self.opts.tls {
            for (key, file) in [
                ("cafile", "ca.pem"),
                ("certfile", "server.pem"),
                ("keyfile", "server.key"),
            ] {
                conf.push_str(&format!("{key} {}\n", self.dir.path(file).display()));
            }
            if self.opts.client_certs {
                conf.push_str("require_certificate true\n");
            }
        }
        if let Some(plain) = self.plain_port {
            // After the TLS listener's settings, which apply to it alone.
            conf.push_str(&format!("listener {plain} 127.0.0.1\n"));
        }
        if self.opts.acl.is_some() {
            conf.push_str(&format!("acl_file {}\n", self.dir.path("acl").display()));
        }
        match &self.opts.credentials {
            Some(_) => {
                conf.push_str("allow_anonymous false\n");
                conf.push_str(&format!(
                    "password_file {}\n",
                    self.dir.path("passwords").display()
                ));
            }
            None => conf.push_str("allow_anonymous true\n"),
        }
        if self.opts.persistence {
            conf.push_str("persistence true\n");
            conf.push_str(&format!(
                "persistence_location {}/\n",
                self.dir.path("persist").display()
            ));
        }
        // Only applies when started as root: stay root, so the files above
        // stay readable and the persistence directory writable.
        conf.push_str("user root\n");
        // Tests publish thousands of QoS 1 messages at full speed: do not let
        // the per-client queue (1000 by default) drop any.
        conf.push_str("max_queued_messages 1000000\n");
        conf.push_str(&format!(
            "log_dest file {}\n",
            self.dir.path("mosquitto.log").display()
        ));
        conf.push_str("log_type error\nlog_type warning\nlog_type notice\nlog_type information\n");
        std::fs::write(self.dir.path("mosquitto.conf"), conf).unwrap();
    }

    /// Starts mosquitto on `self.port`; false when it exits (port taken).
    fn spawn_mosquitto(&mut self) -> bool {
        let path = self.mosquitto.clone().expect("mosquitto");
        let mut child = Command::new(path)
            .arg("-c")
            .arg(self.dir.path("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Stops mosquitto the way a service manager does (SIGTERM, so it writes
    /// its persistence file) and waits until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on the pid of our own child, not yet reaped.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    _ if Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }

    /// Kills mosquitto (SIGKILL: a crash, nothing saved since its last
    /// autosave) and starts it again on the same port. mosquitto only.
    pub fn crash_and_restart(&mut self) {
        assert_eq!(self.kind, Kind::Mosquitto, "only mosquitto restarts");
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.start_again();
    }

    /// Stops mosquitto and starts it again on the same port with the same
    /// configuration (and persistence directory). mosquitto only.
    pub fn restart(&mut self) {
        assert_eq!(self.kind, Kind::Mosquitto, "only mosquitto restarts");
        self.stop();
        self.start_again();
    }

    fn start_again(&mut self) {
        // The port was ours a moment ago; give the kernel a few tries.
        for _ in 0..50 {
            if self.spawn_mosquitto() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "mosquitto did not start again on port {}; its log:\n{}",
            self.port,
            self.log()
        );
    }

    /// rumqttd in a thread: an MQTT 5 listener on the port, with the
    /// credentials checked by its auth handler. It cannot be stopped; it
    /// ends with the test process.
    fn start_embedded(opts: BrokerOpts, dir: TempDir) -> Broker {
        for _ in 0..5 {
            let port = free_port();
            let config = embedded_config(port, &opts);
            std::thread::Builder::new()
                .name(format!("rumqttd-{port}"))
                .spawn(move || {
                    let mut broker = rumqttd::Broker::new(config);
                    // Returns only when the server thread ends (bind failed).
                    let _ = broker.start();
                })
                .expect("a thread for rumqttd");
            if wait_listening(port, Duration::from_secs(10)) {
                return Broker {
                    kind: Kind::Embedded,
                    port,
                    plain_port: None,
                    opts,
                    dir,
                    mosquitto: None,
                    child: None,
                };
            }
        }
        panic!("the embedded broker (rumqttd) did not start");
    }
}

fn embedded_config(port: u16, opts: &BrokerOpts) -> rumqttd::Config {
    use std::collections::HashMap;
    let mut connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 1 << 20,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    if let Some((user, password)) = opts.credentials.clone() {
        connections.set_auth_handler(move |_client: String, u: String, p: String| {
            let ok = u == user && p == password;
            async move { ok }
        });
    }
    let server = rumqttd::ServerSettings {
        name: format!("v5-{port}"),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v5: Some(HashMap::from([("1".to_owned(), server)])),
        ..Default::default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 signed by it
/// (`server.pem`, `server.key`), made with the openssl CLI.
fn make_certificates(dir: &Path) {
    let openssl = which("openssl").expect("openssl (for the test certificates)");
    let run = |args: &[&str]| {
        let out = Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=commander test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req", "-new", "-nodes"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
}

/// A client key and certificate (`client.key`, `client.pem`) signed by the
/// CA [`make_certificates`] made, for TLS client authentication.
fn make_client_certificate(dir: &Path) {
    let openssl = which("openssl").expect("openssl (for the test certificates)");
    let run = |args: &[&str]| {
        let out = Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        "/CN=commander test device",
    ]);
    std::fs::write(
        dir.join("client.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "client.ext",
        "-out",
        "client.pem",
    ]);
}

/// Ids of the test clients of one process, so several can share a broker.
static RAW_CLIENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A rumqttc client of the test's broker: subscribed to one filter, it
/// hands on every message it gets; publishes what the test gives it.
pub struct RawClient {
    client: Client,
    got: mpsc::Receiver<(String, Vec<u8>)>,
    thread: Option<JoinHandle<()>>,
}

impl RawClient {
    #[track_caller]
    pub fn start(broker: &Broker, filter: &str) -> RawClient {
        let (client, mut conn) = Client::new(
            broker.client_options(&format!(
                "test-raw-client-{}",
                RAW_CLIENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )),
            100,
        );
        client.subscribe(filter, QoS::AtLeastOnce).unwrap();
        let (tx, got) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for event in conn.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(a))) => {
                        let ok = a
                            .return_codes
                            .iter()
                            .all(|c| matches!(c, SubscribeReasonCode::Success(_)));
                        let _ = ready_tx.send(ok);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let topic = String::from_utf8_lossy(&p.topic).into_owned();
                        if tx.send((topic, p.payload.to_vec())).is_err() {
                            break;
                        }
                    }
                    Ok(Event::Incoming(Packet::Disconnect(_))) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        });
        assert_eq!(
            ready_rx.recv_timeout(Duration::from_secs(30)),
            Ok(true),
            "the test client cannot subscribe to {filter}"
        );
        RawClient {
            client,
            got,
            thread: Some(thread),
        }
    }

    pub fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .expect("publish");
    }

    #[track_caller]
    pub fn next(&self, what: &str) -> (String, Vec<u8>) {
        self.got
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{what} did not come within 60 s"))
    }
}

impl Drop for RawClient {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl RawClient {
    /// What came within `wait`, without failing when nothing did.
    pub fn try_next(&self, wait: Duration) -> Option<(String, Vec<u8>)> {
        self.got.recv_timeout(wait).ok()
    }
}
