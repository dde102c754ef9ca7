//! One MQTT 5 connection, driven by its caller, packet by packet.
//!
//! rumqttc's client acknowledges a message when it reads it (before it is
//! written anywhere), forgets its QoS 2 state at every reconnect, and
//! answers a PUBREL it does not know with an error instead of a PUBCOMP
//! (MQTT 5 §4.3.3), so a resumed QoS 2 session loops for ever. This
//! connection uses rumqttc's packet codec only: the caller decides when each
//! acknowledgement is sent (after the record is written) and keeps the
//! session's state, and PUBRELs are always completed. One thread: the socket
//! is non-blocking and every wait is a poll(2) with a deadline, which
//! SIGINT/SIGTERM interrupt.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::BytesMut;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, Connect, ConnectProperties, ConnectReturnCode, Disconnect, DisconnectReasonCode,
    Filter, Login, Packet, PingReq, Publish, Subscribe,
};
use rumqttc::v5::mqttbytes::{Error as CodecError, QoS};

use super::mqtt::{BrokerConfig, Endpoint, parse_url};
use super::poll;

/// The largest packet read or written (commander's message limit).
const MAX_PACKET: u32 = 64 * 1024 * 1024;

/// The socket, plain or TLS; non-blocking once connected (waits are
/// poll(2), which signals interrupt).
enum Stream {
    Plain(TcpStream),
    Tls(Box<(rustls::ClientConnection, TcpStream)>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(b) => &b.1,
        }
    }

    /// Reads what is there without waiting: `WouldBlock` when nothing is,
    /// `Ok(0)` at the end.
    fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(b) => {
                let (conn, sock) = (&mut b.0, &mut b.1);
                loop {
                    match conn.reader().read(buf) {
                        Ok(n) => return Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                    if conn.read_tls(sock)? == 0 {
                        return Ok(0);
                    }
                    conn.process_new_packets()
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    // Alerts, key updates: sent when they can be.
                    while conn.wants_write() {
                        match conn.write_tls(sock) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) => return Err(e),
                            Ok(_) => {}
                        }
                    }
                }
            }
        }
    }

    /// Writes all of `buf`, waiting (up to `until`) while the socket is full.
    fn write_all(&mut self, buf: &[u8], until: Instant) -> io::Result<()> {
        let fd = self.tcp().as_raw_fd();
        let wait = |e: io::Error| -> io::Result<()> {
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the broker has not taken what was sent for 30s",
                ));
            }
            // A signal here does not stop the write: half a packet would
            // break the connection.
            poll::wait_one(fd, false, true, left).map(|_| ())
        };
        match self {
            Stream::Plain(s) => {
                let mut rest = buf;
                while !rest.is_empty() {
                    match s.write(rest) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => wait(e)?,
                    }
                }
                Ok(())
            }
            Stream::Tls(b) => {
                let (conn, sock) = (&mut b.0, &mut b.1);
                let mut rest = buf;
                loop {
                    if !rest.is_empty() {
                        let n = conn.writer().write(rest)?;
                        rest = &rest[n..];
                    }
                    if !conn.wants_write() {
                        if rest.is_empty() {
                            return Ok(());
                        }
                        continue;
                    }
                    match conn.write_tls(sock) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => wait(e)?,
                    }
                }
            }
        }
    }
}

/// What a wait for the next packet ended with.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one at a time, moved at once
pub enum Recv {
    Packet(Packet),
    /// Nothing within the time given.
    Idle,
    /// A signal arrived (the caller looks at its stop flag).
    Interrupted,
}

/// A connected session with a broker.
pub struct Conn {
    stream: Stream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    keep_alive: Duration,
    last_write: Instant,
    /// When the PINGREQ not yet answered (by anything) was sent.
    ping_sent: Option<Instant>,
    next_pkid: u16,
    /// The broker had a session for this client id.
    pub session_present: bool,
    /// The broker's receive maximum: QoS 1/2 publishes in flight at once.
    pub broker_receive_max: u16,
    /// The broker URL with any password hidden, for messages.
    pub url: String,
}

/// The connect deadline when none is given (`--connect-timeout`'s default).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write may wait for the broker to take it.
const WRITE_DEADLINE: Duration = Duration::from_secs(30);

impl Conn {
    /// Connects (TCP, TLS, CONNECT and the broker's CONNACK) within
    /// `deadline`; a refusal says why, in words.
    pub fn open(cfg: &BrokerConfig, deadline: Duration) -> Result<Conn> {
        let url = cfg.display_url();
        // No deadline given (a default config): the command line's default.
        let deadline = if deadline.is_zero() {
            DEFAULT_CONNECT_TIMEOUT
        } else {
            deadline
        };
        let until = Instant::now() + deadline;
        let ep = parse_url(&cfg.url)?;
        let tcp = tcp_connect(&ep, until, &url)?;
        tcp.set_nodelay(true).ok();
        let stream = if ep.tls {
            Stream::Tls(Box::new(tls_connect(cfg, &ep, tcp, until, &url)?))
        } else {
            Stream::Plain(tcp)
        };
        stream
            .tcp()
            .set_nonblocking(true)
            .with_context(|| format!("connecting to {url}"))?;
        let keep_alive = if cfg.keep_alive.is_zero() {
            Duration::from_secs(30)
        } else {
            cfg.keep_alive
                .clamp(Duration::from_secs(5), Duration::from_secs(65535))
        };
        let mut conn = Conn {
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::with_capacity(4096),
            keep_alive,
            last_write: Instant::now(),
            ping_sent: None,
            next_pkid: 0,
            session_present: false,
            broker_receive_max: u16::MAX,
            url: url.clone(),
        };
        let client_id = cfg.client_id.clone().unwrap_or_else(|| {
            format!(
                "commander-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            )
        });
        let connect = Connect {
            keep_alive: keep_alive.as_secs() as u16,
            client_id,
            clean_start: !cfg.persistent,
            properties: Some(ConnectProperties {
                // A week: long enough for a listener restarted or offline.
                session_expiry_interval: cfg.persistent.then_some(7 * 24 * 3600),
                receive_maximum: Some(cfg.receive_maximum.max(1)),
                max_packet_size: Some(MAX_PACKET),
                topic_alias_max: None,
                request_response_info: None,
                request_problem_info: None,
                user_properties: Vec::new(),
                authentication_method: None,
                authentication_data: None,
            }),
        };
        let login = match (&cfg.username, &cfg.password) {
            (Some(u), p) => Some(Login {
                username: u.clone(),
                password: p.clone().unwrap_or_default(),
            }),
            (None, Some(_)) => bail!("a password was given without a username (--username)"),
            (None, None) => None,
        };
        conn.send(Packet::Connect(connect, None, login))
            .map_err(|e| anyhow!("cannot reach the broker at {url}: {e}"))?;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "no answer (CONNACK) from the broker at {url} within {}",
                    seconds(deadline)
                );
            }
            match conn.read_packet(left) {
                Ok(Recv::Packet(Packet::ConnAck(ack))) => {
                    conn.accept(&ack)?;
                    return Ok(conn);
                }
                Ok(Recv::Packet(Packet::Disconnect(d))) => {
                    bail!(
                        "the broker at {url} refused the connection: {}",
                        super::mqtt::reason(&d.reason_code)
                    )
                }
                Ok(Recv::Packet(_)) | Ok(Recv::Idle) => {}
                Ok(Recv::Interrupted) => bail!("interrupted while connecting to {url}"),
                Err(e) => return Err(e.context(format!("connecting to the broker at {url}"))),
            }
        }
    }

    fn accept(&mut self, ack: &ConnAck) -> Result<()> {
        if ack.code != ConnectReturnCode::Success {
            let why = match ack.code {
                ConnectReturnCode::BadUserNamePassword => "bad username or password",
                ConnectReturnCode::NotAuthorized => "not authorized",
                ConnectReturnCode::ClientIdentifierNotValid => "the client id was refused",
                ConnectReturnCode::ServerUnavailable => "the server is unavailable",
                ConnectReturnCode::Banned => "this client is banned",
                _ => "refused",
            };
            bail!(
                "the broker at {} refused the connection: {why} ({:?})",
                self.url,
                ack.code
            );
        }
        self.session_present = ack.session_present;
        if let Some(p) = &ack.properties {
            if let Some(max) = p.receive_max {
                self.broker_receive_max = max;
            }
            if let Some(ka) = p.server_keep_alive {
                if ka > 0 {
                    self.keep_alive = Duration::from_secs(u64::from(ka));
                }
            }
        }
        Ok(())
    }

    /// The socket, for waiting on it together with other descriptors.
    pub fn raw_fd(&self) -> RawFd {
        self.stream.tcp().as_raw_fd()
    }

    /// A packet identifier not in use (1..=65535, cycling).
    pub fn next_pkid(&mut self) -> u16 {
        self.next_pkid = self.next_pkid.wrapping_add(1).max(1);
        self.next_pkid
    }

    /// Sends one packet, whole.
    pub fn send(&mut self, packet: Packet) -> io::Result<()> {
        self.send_all(std::iter::once(packet))
    }

    /// Sends packets in one write (acknowledgements go out in batches).
    pub fn send_all(&mut self, packets: impl IntoIterator<Item = Packet>) -> io::Result<()> {
        self.wbuf.clear();
        for packet in packets {
            packet
                .write(&mut self.wbuf, Some(MAX_PACKET))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        }
        if self.wbuf.is_empty() {
            return Ok(());
        }
        self.stream
            .write_all(&self.wbuf, Instant::now() + WRITE_DEADLINE)?;
        self.last_write = Instant::now();
        Ok(())
    }

    /// Subscribes to `filters` (one SUBSCRIBE); returns its packet id.
    pub fn subscribe(&mut self, filters: &[String], qos: QoS) -> io::Result<u16> {
        let pkid = self.next_pkid();
        let filters = filters
            .iter()
            .map(|f| Filter::new(f.clone(), qos))
            .collect::<Vec<_>>();
        self.send(Packet::Subscribe(Subscribe {
            pkid,
            filters,
            properties: None,
        }))?;
        Ok(pkid)
    }

    /// Publishes; returns the packet id (0 at QoS 0).
    pub fn publish(&mut self, topic: &str, qos: QoS, payload: Vec<u8>) -> io::Result<u16> {
        let pkid = if qos == QoS::AtMostOnce {
            0
        } else {
            self.next_pkid()
        };
        let mut p = Publish::new(topic, qos, payload, None);
        p.pkid = pkid;
        self.send(Packet::Publish(p))?;
        Ok(pkid)
    }

    /// Sends a PINGREQ when nothing was sent for the keep-alive interval
    /// (also while the caller is not reading: the broker must not think
    /// the client gone).
    pub fn keep_alive(&mut self) -> Result<()> {
        if self.ping_sent.is_none() && self.last_write.elapsed() >= self.keep_alive {
            self.send(Packet::PingReq(PingReq))
                .map_err(|e| anyhow!("connection to {} lost: {e}", self.url))?;
            self.ping_sent = Some(Instant::now());
        }
        Ok(())
    }

    /// Waits up to `timeout` (zero: not at all) for the next packet,
    /// keeping the connection alive; a PINGREQ unanswered for the
    /// keep-alive interval is a lost connection.
    pub fn recv(&mut self, timeout: Duration) -> Result<Recv> {
        self.keep_alive()?;
        let until_ping = self.keep_alive.saturating_sub(self.last_write.elapsed());
        let got = match self.read_packet(timeout.min(until_ping))? {
            Recv::Packet(Packet::PingResp(_)) => Recv::Idle,
            other => other,
        };
        if let (Recv::Idle, Some(sent)) = (&got, self.ping_sent) {
            if sent.elapsed() > self.keep_alive {
                bail!(
                    "the broker at {} stopped answering (no PINGRESP within {})",
                    self.url,
                    seconds(self.keep_alive)
                );
            }
        }
        Ok(got)
    }

    /// Reads one packet, waiting up to `timeout` for its bytes.
    fn read_packet(&mut self, timeout: Duration) -> Result<Recv> {
        let until = Instant::now() + timeout;
        loop {
            match Packet::read(&mut self.rbuf, Some(MAX_PACKET)) {
                Ok(p) => return Ok(Recv::Packet(p)),
                Err(CodecError::InsufficientBytes(_)) => {}
                Err(e) => bail!("a malformed packet from the broker at {}: {e}", self.url),
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read_some(&mut chunk) {
                Ok(0) => bail!("the broker at {} closed the connection", self.url),
                Ok(n) => {
                    self.rbuf.extend_from_slice(&chunk[..n]);
                    // Anything from the broker shows it is there.
                    self.ping_sent = None;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Recv::Interrupted),
                Err(e) => bail!("connection to {} lost: {e}", self.url),
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Recv::Idle);
            }
            match poll::wait_one(self.raw_fd(), true, false, left) {
                Ok(poll::Waited::Interrupted) => return Ok(Recv::Interrupted),
                Ok(poll::Waited::TimedOut) => return Ok(Recv::Idle),
                Ok(poll::Waited::Ready(_)) => {}
                Err(e) => bail!("connection to {} lost: {e}", self.url),
            }
        }
    }

    /// Says goodbye: a DISCONNECT (normal), so the broker sees a clean end
    /// and the acknowledgements before it are all taken.
    pub fn disconnect(mut self) {
        let _ = self.send(Packet::Disconnect(Disconnect {
            reason_code: DisconnectReasonCode::NormalDisconnection,
            properties: None,
        }));
        if let Stream::Tls(b) = &mut self.stream {
            b.0.send_close_notify();
            let _ = self
                .stream
                .write_all(&[], Instant::now() + Duration::from_secs(1));
        }
        let _ = self.stream.tcp().shutdown(std::net::Shutdown::Write);
        // Wait (briefly) for the broker to close its side: everything sent
        // has then been read.
        let until = Instant::now() + Duration::from_secs(1);
        let mut sink = [0u8; 4096];
        loop {
            match self.stream.read_some(&mut sink) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if !matches!(
                poll::wait_one(self.raw_fd(), true, false, left),
                Ok(poll::Waited::Ready(_))
            ) {
                break;
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

fn tcp_connect(ep: &Endpoint, until: Instant, url: &str) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (ep.host.as_str(), ep.port)
        .to_socket_addrs()
        .map_err(|e| anyhow!("cannot reach the broker at {url}: {e}"))?
        .collect();
    let mut last = None;
    for addr in addrs {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                s.set_write_timeout(Some(Duration::from_secs(30))).ok();
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) if e.kind() == io::ErrorKind::TimedOut => {
            bail!("no answer from the broker at {url} (TCP connect timed out)")
        }
        Some(e) => bail!("cannot reach the broker at {url}: {e}"),
        None => bail!("cannot reach the broker at {url}: no address"),
    }
}

fn tls_connect(
    cfg: &BrokerConfig,
    ep: &Endpoint,
    tcp: TcpStream,
    until: Instant,
    url: &str,
) -> Result<(rustls::ClientConnection, TcpStream)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match &cfg.ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read the CA certificate '{}'", path.display()))?
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("cannot read the CA certificate '{}'", path.display()))?;
            if certs.is_empty() {
                bail!("'{}' holds no PEM certificate", path.display());
            }
            for c in certs {
                roots
                    .add(c)
                    .with_context(|| format!("bad CA certificate in '{}'", path.display()))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots);
    let config = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .with_context(|| {
                    format!("cannot read the client certificate '{}'", cert.display())
                })?
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| {
                    format!("cannot read the client certificate '{}'", cert.display())
                })?;
            let key = PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("cannot read the private key '{}'", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .context("the client certificate and key do not go together")?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => bail!("--cert and --key go together"),
    };
    let name = ServerName::try_from(ep.host.clone())
        .map_err(|_| anyhow!("'{}' is not a host name TLS can check", ep.host))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).context("TLS setup")?;
    let mut sock = tcp;
    while conn.is_handshaking() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("no answer from the broker at {url} (TLS handshake timed out)");
        }
        sock.set_read_timeout(Some(left)).ok();
        match conn.complete_io(&mut sock) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                bail!("no answer from the broker at {url} (TLS handshake timed out)")
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                bail!("interrupted while connecting to {url}")
            }
            Err(e) => bail!("TLS with the broker at {url} failed: {e}"),
        }
    }
    sock.set_read_timeout(None).ok();
    Ok((conn, sock))
}
