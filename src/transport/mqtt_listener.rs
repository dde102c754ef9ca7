//! A subscriber that acknowledges what was written, and only that.
//!
//! Each message is handed out with a [`Token`]; the caller writes its record
//! and then says so ([`Listener::written`]); acknowledgements go to the broker
//! with [`Listener::flush`], after the output they vouch for. At QoS 1 that is
//! a PUBACK; at QoS 2 a PUBREC, and the packet id is kept (on disk, for a
//! persistent session) until the broker's PUBREL, so a message the broker
//! sends again after a crash is recognised and not written twice. Every
//! PUBREL is completed (PUBCOMP, "identifier not found" for one not known,
//! as MQTT 5 §4.3.3 asks). A lost connection is reconnected, with backoff,
//! each attempt within the connect deadline; the caller is told.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use bytes::Bytes;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    Packet, PubAck, PubComp, PubCompReason, PubRec, Publish, SubscribeReasonCode,
};

use super::mqtt::BrokerConfig;
use super::mqtt_conn::{Conn, Recv};

/// Which delivery a record is for: acknowledged once it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// The connection it came on (acks for an older one are not sent: the
    /// broker sends the message again).
    epoch: u64,
    /// The broker session it came in (a new one starts when the broker
    /// kept none): packet ids mean something only within it.
    session: u64,
    pkid: u16,
    qos: QoS,
    /// Of the topic and payload: tells a QoS 2 message sent again from a
    /// new one that has the id of one not yet released.
    fingerprint: u64,
}

/// One message received.
#[derive(Debug)]
pub struct Delivery {
    pub topic: String,
    pub payload: Bytes,
    pub token: Token,
}

/// What [`Listener::next`] brings.
#[derive(Debug)]
pub enum Event {
    Message(Delivery),
    /// Nothing new within the time given.
    Idle,
    /// A packet was handled (nothing to show): there may be more at once.
    Handled,
    /// A signal arrived.
    Interrupted,
    /// Something to tell the user (connection lost, a reconnect failed).
    Note(String),
    /// Connected again; `resumed`: the broker kept the session, so it sends
    /// again every QoS 1/2 message not acknowledged (see
    /// [`Listener::redelivered`]).
    Reconnected {
        note: String,
        resumed: bool,
    },
    /// The broker acknowledged a message published with
    /// [`Listener::publish`] (PUBACK, or PUBCOMP at QoS 2).
    Published(u16),
}

pub struct Listener {
    cfg: BrokerConfig,
    subscriptions: Vec<String>,
    qos: QoS,
    conn: Option<Conn>,
    epoch: u64,
    session: u64,
    qos2: Qos2Ids,
    /// Acknowledgements ready to send (their records are written).
    pending: Vec<Packet>,
    /// Publishes read while waiting for something else.
    queued: VecDeque<Publish>,
    retry_at: Instant,
    backoff: Duration,
    /// The URL as messages show it.
    pub url: String,
}

/// Backoff between reconnect attempts: doubles from 1 s up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Listener {
    /// Connects (a failure here is an error: the address or credentials are
    /// wrong), subscribes and waits for the broker to confirm.
    pub fn start(mut cfg: BrokerConfig, subscriptions: Vec<String>, qos: QoS) -> Result<Listener> {
        if cfg.connect_timeout.is_zero() {
            cfg.connect_timeout = super::mqtt_conn::DEFAULT_CONNECT_TIMEOUT;
        }
        let url = cfg.display_url();
        let qos2 = Qos2Ids::load(&cfg);
        let mut l = Listener {
            cfg,
            subscriptions,
            qos,
            conn: None,
            epoch: 0,
            session: 0,
            qos2,
            pending: Vec::new(),
            queued: VecDeque::new(),
            retry_at: Instant::now(),
            backoff: Duration::from_secs(1),
            url,
        };
        let conn = Conn::open(&l.cfg, l.cfg.connect_timeout)?;
        l.attach(conn, true)?;
        Ok(l)
    }

    /// Takes a new connection: subscribes (always the first time, else when
    /// the broker kept no session) and waits for the SUBACKs.
    fn attach(&mut self, mut conn: Conn, first: bool) -> Result<()> {
        self.epoch += 1;
        // Acks for records of the last connection cannot go on this one.
        self.pending.clear();
        if !conn.session_present {
            // A new session: the packet ids of the old one mean nothing.
            self.session += 1;
            self.qos2.clear();
        }
        if first || !conn.session_present {
            let pkid = conn
                .subscribe(&self.subscriptions, self.qos)
                .map_err(|e| anyhow!("cannot subscribe at {}: {e}", self.url))?;
            let deadline = Instant::now() + self.cfg.connect_timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    bail!(
                        "the broker at {} did not confirm the subscriptions in time",
                        self.url
                    );
                }
                match conn.recv(left)? {
                    Recv::Packet(Packet::SubAck(ack)) if ack.pkid == pkid => {
                        if let Some(code) = ack
                            .return_codes
                            .iter()
                            .find(|c| !matches!(c, SubscribeReasonCode::Success(_)))
                        {
                            bail!(
                                "the broker at {} refused a subscription: {}; check the topic filters and permissions",
                                self.url,
                                super::mqtt::reason(code)
                            );
                        }
                        break;
                    }
                    Recv::Packet(Packet::Publish(p)) => self.queued.push_back(p),
                    Recv::Packet(Packet::PubRel(rel)) => self.released(rel.pkid),
                    Recv::Packet(Packet::Disconnect(d)) => {
                        bail!(
                            "the broker at {} closed the connection: {}",
                            self.url,
                            super::mqtt::reason(&d.reason_code)
                        )
                    }
                    Recv::Interrupted => bail!("interrupted while subscribing at {}", self.url),
                    Recv::Packet(_) | Recv::Idle => {}
                }
            }
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// The next message (or why there is none) within about `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Result<Event> {
        if let Some(p) = self.queued.pop_front() {
            return Ok(self.delivered(p));
        }
        let Some(conn) = &mut self.conn else {
            return Ok(self.reconnect(timeout));
        };
        match conn.recv(timeout) {
            Ok(Recv::Packet(Packet::Publish(p))) => Ok(self.delivered(p)),
            Ok(Recv::Packet(Packet::PubRel(rel))) => {
                self.released(rel.pkid);
                Ok(Event::Handled)
            }
            Ok(Recv::Packet(Packet::Disconnect(d))) => {
                self.lost();
                Ok(Event::Note(format!(
                    "the broker at {} closed the connection ({}); reconnecting",
                    self.url,
                    super::mqtt::reason(&d.reason_code)
                )))
            }
            Ok(Recv::Packet(Packet::PubAck(ack))) => Ok(Event::Published(ack.pkid)),
            Ok(Recv::Packet(Packet::PubRec(rec))) => {
                // Our QoS 2 publish: release it.
                self.pending
                    .push(Packet::PubRel(rumqttc::v5::mqttbytes::v5::PubRel::new(
                        rec.pkid, None,
                    )));
                Ok(Event::Handled)
            }
            Ok(Recv::Packet(Packet::PubComp(comp))) => Ok(Event::Published(comp.pkid)),
            Ok(Recv::Packet(_)) => Ok(Event::Handled),
            Ok(Recv::Idle) => Ok(Event::Idle),
            Ok(Recv::Interrupted) => Ok(Event::Interrupted),
            Err(e) => {
                self.lost();
                Ok(Event::Note(format!("{e:#}; reconnecting")))
            }
        }
    }

    fn lost(&mut self) {
        self.conn = None;
        self.pending.clear();
        self.retry_at = Instant::now();
    }

    /// One reconnect attempt when it is due (else a wait of up to `timeout`).
    fn reconnect(&mut self, timeout: Duration) -> Event {
        let now = Instant::now();
        if now < self.retry_at {
            return if super::poll::sleep(timeout.min(self.retry_at - now)) {
                Event::Idle
            } else {
                Event::Interrupted
            };
        }
        let attempt = Conn::open(&self.cfg, self.cfg.connect_timeout).and_then(|c| {
            let resumed = c.session_present;
            self.attach(c, false).map(|()| resumed)
        });
        match attempt {
            Ok(resumed) => {
                self.backoff = Duration::from_secs(1);
                Event::Reconnected {
                    note: format!(
                        "reconnected to {}{}",
                        self.url,
                        if resumed {
                            " (session resumed)"
                        } else {
                            " (new session: subscribed again)"
                        }
                    ),
                    resumed,
                }
            }
            Err(e) => {
                self.conn = None;
                self.retry_at = Instant::now() + self.backoff;
                let note = format!(
                    "cannot reconnect: {e:#}; trying again in {}s",
                    self.backoff.as_secs()
                );
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                Event::Note(note)
            }
        }
    }

    /// A publish from the broker: handed out, unless it is a QoS 2 message
    /// already written (sent again after a lost PUBREC): then only its
    /// PUBREC again.
    ///
    /// A QoS 2 message with the id of one written but not yet released, and
    /// another topic or payload, is a new message: a broker that crashed
    /// and came back from a save older than that exchange reuses the id.
    /// It is handed out (holding it back as a repeat would lose it).
    fn delivered(&mut self, p: Publish) -> Event {
        // Only QoS 2 needs it (a pass over the payload).
        let fingerprint = if p.qos == QoS::ExactlyOnce {
            fingerprint(&p.topic, &p.payload)
        } else {
            0
        };
        if p.qos == QoS::ExactlyOnce {
            match self.qos2.ids.get(&p.pkid) {
                Some(&seen) if seen.is_none_or(|f| f == fingerprint) => {
                    self.pending.push(Packet::PubRec(PubRec::new(p.pkid, None)));
                    return Event::Handled;
                }
                Some(_) => {
                    self.qos2.ids.remove(&p.pkid);
                    self.qos2.dirty = true;
                }
                // Sent again (DUP) after this connection already completed
                // it: a broker back from a save made before the exchange
                // ended. Written once; acknowledged again, then released.
                None if p.dup && self.qos2.released.contains(&(p.pkid, fingerprint)) => {
                    self.qos2.ids.insert(p.pkid, Some(fingerprint));
                    self.qos2.dirty = true;
                    self.pending.push(Packet::PubRec(PubRec::new(p.pkid, None)));
                    return Event::Handled;
                }
                None => {}
            }
        }
        Event::Message(Delivery {
            topic: String::from_utf8_lossy(&p.topic).into_owned(),
            payload: p.payload,
            token: Token {
                epoch: self.epoch,
                session: self.session,
                pkid: p.pkid,
                qos: p.qos,
                fingerprint,
            },
        })
    }

    /// The broker released a QoS 2 message: forget its id (on disk too,
    /// before the PUBCOMP goes) and complete it, known or not.
    fn released(&mut self, pkid: u16) {
        let removed = self.qos2.ids.remove(&pkid);
        let known = removed.is_some();
        if let Some(Some(fingerprint)) = removed {
            if self.qos2.released.len() == RELEASED_KEPT {
                self.qos2.released.pop_front();
            }
            self.qos2.released.push_back((pkid, fingerprint));
        }
        self.qos2.dirty |= known;
        let mut comp = PubComp::new(pkid, None);
        if !known {
            comp.reason = PubCompReason::PacketIdentifierNotFound;
        }
        self.pending.push(Packet::PubComp(comp));
    }

    /// The record for `token` is written: its acknowledgement may go.
    ///
    /// A QoS 2 id is remembered even when the connection it came on is gone
    /// (the session goes on: the broker sends the message again, and it is
    /// then only acknowledged); acknowledgements go on the connection the
    /// message came on only.
    pub fn written(&mut self, token: Token) {
        if token.qos == QoS::ExactlyOnce && token.session == self.session {
            self.qos2.ids.insert(token.pkid, Some(token.fingerprint));
            self.qos2.dirty = true;
        }
        if token.epoch != self.epoch || self.conn.is_none() {
            return;
        }
        match token.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self
                .pending
                .push(Packet::PubAck(PubAck::new(token.pkid, None))),
            QoS::ExactlyOnce => self
                .pending
                .push(Packet::PubRec(PubRec::new(token.pkid, None))),
        }
    }

    /// Will the broker send this message again (so a record not yet
    /// written for it is to be dropped)? Yes for QoS 1/2 messages of an
    /// earlier connection in the same session.
    pub fn redelivered(&self, token: Token) -> bool {
        token.qos != QoS::AtMostOnce && token.epoch != self.epoch && token.session == self.session
    }

    /// Publishes on the current connection (none while reconnecting: the
    /// message is not sent, `Ok(None)`); QoS 1/2 give the packet id that
    /// [`Event::Published`] confirms. Pending acknowledgements go first.
    pub fn publish(&mut self, topic: &str, qos: QoS, payload: Vec<u8>) -> Result<Option<u16>> {
        if self.conn.is_none() {
            return Ok(None);
        }
        self.flush()?;
        let Some(conn) = &mut self.conn else {
            return Ok(None);
        };
        match conn.publish(topic, qos, payload) {
            Ok(pkid) => Ok(Some(pkid)),
            Err(e) => {
                self.lost();
                Err(anyhow!("connection to {} lost: {e}", self.url))
            }
        }
    }

    /// How many unacknowledged QoS 1/2 publishes the broker takes at once.
    pub fn broker_receive_max(&self) -> u16 {
        self.conn.as_ref().map_or(1, |c| c.broker_receive_max)
    }

    /// The connection's socket (none while reconnecting).
    pub fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        self.conn.as_ref().map(Conn::raw_fd)
    }

    /// Keeps the connection alive while the caller is not reading (its
    /// output is blocked).
    pub fn keep_alive(&mut self) {
        if let Some(conn) = &mut self.conn {
            if conn.keep_alive().is_err() {
                self.lost();
            }
        }
    }

    /// How many acknowledgements wait for [`Listener::flush`].
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Sends the acknowledgements of what was written (the QoS 2 ids saved
    /// first).
    pub fn flush(&mut self) -> Result<()> {
        self.qos2.save();
        let Some(conn) = &mut self.conn else {
            self.pending.clear();
            return Ok(());
        };
        match conn.send_all(self.pending.drain(..)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.lost();
                Err(anyhow!("connection to {} lost: {e}", self.url))
            }
        }
    }

    /// Sends what is pending and says goodbye (DISCONNECT).
    pub fn close(mut self) {
        let _ = self.flush();
        if let Some(conn) = self.conn.take() {
            conn.disconnect();
        }
    }
}

/// The QoS 2 packet ids written and acknowledged (PUBREC) but not yet
/// released by the broker, each with its message's fingerprint; kept in a
/// file for a persistent session (a line `ID FINGERPRINT` each), so a
/// listener that crashed does not write a message the broker sends again.
struct Qos2Ids {
    path: Option<PathBuf>,
    /// None: a fingerprint not known (any message with the id is a repeat).
    ids: BTreeMap<u16, Option<u64>>,
    /// The last [`RELEASED_KEPT`] ids released (with fingerprints), in
    /// memory: a message sent again with one of them was written already.
    released: VecDeque<(u16, u64)>,
    dirty: bool,
}

/// How many released QoS 2 exchanges are remembered.
const RELEASED_KEPT: usize = 1024;

impl Qos2Ids {
    fn load(cfg: &BrokerConfig) -> Qos2Ids {
        let path = cfg.persistent.then(|| state_file(cfg)).flatten();
        let ids = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| {
                text.lines()
                    .filter_map(|line| {
                        let mut words = line.split_whitespace();
                        let id = words.next()?.parse().ok()?;
                        Some((id, words.next().and_then(|f| f.parse().ok())))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Qos2Ids {
            path,
            ids,
            released: VecDeque::new(),
            dirty: false,
        }
    }

    fn clear(&mut self) {
        self.dirty |= !self.ids.is_empty();
        self.ids.clear();
        self.released.clear();
    }

    /// Writes the ids out (a new file renamed over the old one).
    fn save(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let Some(path) = &self.path else {
            return;
        };
        let text: String = self
            .ids
            .iter()
            .map(|(id, f)| match f {
                Some(f) => format!("{id} {f}\n"),
                None => format!("{id}\n"),
            })
            .collect();
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

/// FNV-1a (64 bits) of the topic, a zero byte and the payload: the same in
/// every run and version, as it is kept in the state file.
fn fingerprint(topic: &[u8], payload: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in topic.iter().chain(&[0]).chain(payload) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `$XDG_STATE_HOME/commander/mqtt/CLIENT@HOST_PORT.qos2` (or under
/// `~/.local/state`).
fn state_file(cfg: &BrokerConfig) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    let dir = base.join("commander").join("mqtt");
    std::fs::create_dir_all(&dir).ok()?;
    let ep = super::mqtt::parse_url(&cfg.url).ok()?;
    let name: String = format!(
        "{}@{}_{}",
        cfg.client_id.as_deref().unwrap_or("commander"),
        ep.host,
        ep.port
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
            c
        } else {
            '_'
        }
    })
    .collect();
    Some(dir.join(format!("{name}.qos2")))
}
