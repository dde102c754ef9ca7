//! MQTT (SPEC 9): broker addresses, topic filters, and the request/reply
//! exchange `send` and the interactive mode share (bytes and topics: what a
//! reply is, the caller decides).
//!
//! MQTT 5 throughout (rumqttc's v5 packet codec, our own connection in
//! [`super::mqtt_conn`]): shared subscriptions (`$share/GROUP/FILTER`) and
//! persistent sessions with an expiry need it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    Packet, PubAck, PubAckReason, PubComp, PubRec, PubRecReason, PubRel, Publish,
    SubscribeReasonCode,
};

pub use super::mqtt_conn::{Conn, Recv};

/// The environment variable a password may come from (never printed).
pub const PASSWORD_ENV: &str = "COMMANDER_MQTT_PASSWORD";

/// Where and how to connect.
#[derive(Clone, Default)]
pub struct BrokerConfig {
    /// `mqtt://host:port` or `mqtts://host:port` (user info taken out into
    /// `username` and `password`).
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A CA certificate (PEM) for `mqtts://`; default: the system's roots.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key (PEM), for brokers that require one.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub client_id: Option<String>,
    pub keep_alive: Duration,
    /// A persistent session: the broker keeps the subscriptions and queues
    /// QoS 1/2 messages while the client is away.
    pub persistent: bool,
    /// How many QoS 1/2 messages the broker may send before they are
    /// acknowledged (MQTT 5 receive maximum); 0 means the default.
    pub receive_maximum: u16,
    /// How long the first CONNACK (and each reconnect's) may take.
    pub connect_timeout: Duration,
}

impl BrokerConfig {
    /// The URL as messages show it: never a password.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is never printed, not even in debug output.
        f.debug_struct("BrokerConfig")
            .field("url", &redact(&self.url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// A parsed broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// `user[:password]@` before the host.
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The parts of what follows `scheme://`: user info, host (with port) and
/// path. The user info runs to the last `@`, so that a password holding an
/// unescaped `/` or `@` is still taken whole (and never shown as a host).
pub fn split_authority(rest: &str) -> (Option<&str>, &str, Option<&str>) {
    let (userinfo, after) = match rest.rsplit_once('@') {
        Some((info, after)) => (Some(info), after),
        None => (None, rest),
    };
    match after.split_once('/') {
        Some((host, path)) => (userinfo, host, Some(path)),
        None => (userinfo, after, None),
    }
}

/// `url` with the password of its user info (`user:password@`) replaced by
/// `***`: what every message shows.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (Some(userinfo), host, path) = split_authority(rest) else {
        return url.to_owned();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let shown = if userinfo.contains(':') {
        format!("{scheme}://{user}:***@{host}")
    } else {
        format!("{scheme}://{user}@{host}")
    };
    match path {
        Some(p) => format!("{shown}/{p}"),
        None => shown,
    }
}

/// `%XX` escapes in user info.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `mqtt://[user[:password]@]host[:port]` (1883) or `mqtts://...`
/// (8883). Errors never repeat the password.
pub fn parse_url(url: &str) -> Result<Endpoint> {
    let shown = redact(url);
    let (scheme, after) = url.split_once("://").unwrap_or(("", url));
    let (userinfo, hostport, _) = split_authority(after);
    let (username, password) = match userinfo {
        Some(info) => {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(percent_decode(p))),
                None => (info, None),
            };
            (Some(percent_decode(u)), p)
        }
        None => (None, None),
    };
    let url = &format!("{scheme}://{hostport}");
    let mut ep = parse_host_url(url)
        .map_err(|e| anyhow!("{}", e.to_string().replace(url.as_str(), &shown)))?;
    ep.username = username.filter(|u| !u.is_empty());
    ep.password = password;
    Ok(ep)
}

fn parse_host_url(url: &str) -> Result<Endpoint> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url
        .strip_prefix("ssl://")
        .or_else(|| url.strip_prefix("tls://"))
    {
        (true, r)
    } else if let Some(r) = url.strip_prefix("tcp://") {
        (false, r)
    } else {
        bail!("'{url}' is not a broker URL: use mqtt://host:port or mqtts://host:port");
    };
    let rest = rest.trim_end_matches('/');
    let default_port = if tls { 8883 } else { 1883 };
    // `[v6:addr]:port`, `host:port`, or just a host.
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| anyhow!("'{url}': an IPv6 address needs its closing ']'"))?;
        (h, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| anyhow!("'{p}' is not a port number in '{url}'"))?,
        None => default_port,
    };
    let host = host.to_owned();
    if host.is_empty() {
        bail!("no host in '{url}'");
    }
    Ok(Endpoint {
        host,
        port,
        tls,
        username: None,
        password: None,
    })
}

/// An MQTT reason code in words: `NotAuthorized` → "not authorized".
pub fn reason(code: &impl std::fmt::Debug) -> String {
    let name = format!("{code:?}");
    let mut words = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// Parses 0, 1 or 2.
pub fn qos(level: u8) -> Result<QoS> {
    match level {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        n => bail!("QoS {n} does not exist: use 0, 1 or 2"),
    }
}

/// Does `filter` (with `+` and `#`, and possibly `$share/GROUP/`) match
/// `topic`?
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = strip_share(filter);
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// `$share/GROUP/FILTER` → `FILTER`.
pub fn strip_share(filter: &str) -> &str {
    match filter.strip_prefix("$share/") {
        Some(rest) => rest.split_once('/').map_or(rest, |(_, f)| f),
        None => filter,
    }
}

/// What happened to a request.
pub enum Outcome {
    /// The message the caller accepted as the reply.
    Reply { topic: String, payload: Vec<u8> },
    /// Nothing accepted in time.
    Timeout,
    /// Published (acknowledged by the broker at QoS 1/2); no reply wanted.
    Published,
}

/// Where a request's reply comes from, and how it is recognised: `accept`
/// sees each message on the topic (topic, payload) and says whether it is
/// the reply.
pub struct ReplyWanted<'a> {
    pub topic: &'a str,
    pub accept: &'a mut dyn FnMut(&str, &[u8]) -> bool,
}

/// One request: subscribe to the response topic (and wait for the broker to
/// confirm, so a fast reply is not missed), publish and wait for the broker
/// to acknowledge it (a refusal is an error at once), then wait up to
/// `timeout` for the reply `accept` takes.
pub fn request(
    cfg: &BrokerConfig,
    topic: &str,
    payload: Vec<u8>,
    qos: QoS,
    reply: Option<ReplyWanted<'_>>,
    timeout: Duration,
    on_published: impl FnOnce(),
) -> Result<Outcome> {
    let mut conn = Conn::open(cfg, cfg.connect_timeout)?;
    let url = conn.url.clone();
    // Replies that arrive before the publish is acknowledged wait here.
    let mut early: Vec<Publish> = Vec::new();
    let ack_wait = timeout.max(Duration::from_secs(5));
    if let Some(r) = &reply {
        let pkid = conn
            .subscribe(&[r.topic.to_owned()], qos)
            .map_err(|e| anyhow!("cannot subscribe to '{}' at {url}: {e}", r.topic))?;
        let ack = wait_packet(
            &mut conn,
            ack_wait,
            &mut early,
            |p| matches!(p, Packet::SubAck(a) if a.pkid == pkid),
        )?
        .ok_or_else(|| {
            anyhow!(
                "the broker at {url} did not confirm the subscription to '{}' in time",
                r.topic
            )
        })?;
        if let Packet::SubAck(a) = ack {
            if let Some(code) = a
                .return_codes
                .iter()
                .find(|c| !matches!(c, SubscribeReasonCode::Success(_)))
            {
                bail!(
                    "the broker at {url} refused the subscription to '{}' ({code:?})",
                    r.topic
                );
            }
        }
    }
    let pkid = conn
        .publish(topic, qos, payload)
        .map_err(|e| anyhow!("cannot publish to '{topic}' at {url}: {e}"))?;
    match qos {
        QoS::AtMostOnce => {}
        QoS::AtLeastOnce => {
            let ack = wait_packet(
                &mut conn,
                ack_wait,
                &mut early,
                |p| matches!(p, Packet::PubAck(a) if a.pkid == pkid),
            )?
            .ok_or_else(|| {
                anyhow!("the broker at {url} did not acknowledge the publish to '{topic}' in time")
            })?;
            if let Packet::PubAck(a) = ack {
                if !matches!(
                    a.reason,
                    PubAckReason::Success | PubAckReason::NoMatchingSubscribers
                ) {
                    bail!(
                        "the broker at {url} refused the publish to '{topic}': {}",
                        reason(&a.reason)
                    );
                }
            }
        }
        QoS::ExactlyOnce => {
            let rec = wait_packet(
                &mut conn,
                ack_wait,
                &mut early,
                |p| matches!(p, Packet::PubRec(a) if a.pkid == pkid),
            )?
            .ok_or_else(|| {
                anyhow!("the broker at {url} did not acknowledge the publish to '{topic}' in time")
            })?;
            if let Packet::PubRec(a) = rec {
                if !matches!(
                    a.reason,
                    PubRecReason::Success | PubRecReason::NoMatchingSubscribers
                ) {
                    bail!(
                        "the broker at {url} refused the publish to '{topic}': {}",
                        reason(&a.reason)
                    );
                }
            }
            conn.send(Packet::PubRel(PubRel::new(pkid, None)))
                .map_err(|e| anyhow!("connection to {url} lost: {e}"))?;
            wait_packet(
                &mut conn,
                ack_wait,
                &mut early,
                |p| matches!(p, Packet::PubComp(a) if a.pkid == pkid),
            )?
            .ok_or_else(|| {
                anyhow!("the broker at {url} did not complete the publish to '{topic}' in time")
            })?;
        }
    }
    on_published();
    let Some(r) = reply else {
        conn.disconnect();
        return Ok(Outcome::Published);
    };
    let accept = r.accept;
    let deadline = Instant::now() + timeout;
    let mut early = early.into_iter();
    loop {
        let publish = match early.next() {
            Some(p) => p,
            None => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    conn.disconnect();
                    return Ok(Outcome::Timeout);
                }
                match conn.recv(left)? {
                    Recv::Packet(Packet::Publish(p)) => p,
                    Recv::Packet(Packet::PubRel(rel)) => {
                        conn.send(Packet::PubComp(PubComp::new(rel.pkid, None)))
                            .map_err(|e| anyhow!("connection to {url} lost: {e}"))?;
                        continue;
                    }
                    Recv::Packet(Packet::Disconnect(d)) => {
                        bail!(
                            "the broker at {url} closed the connection: {}",
                            reason(&d.reason_code)
                        )
                    }
                    Recv::Packet(_) | Recv::Idle => continue,
                    Recv::Interrupted => bail!("interrupted"),
                }
            }
        };
        acknowledge(&mut conn, &publish)?;
        let topic_got = String::from_utf8_lossy(&publish.topic).into_owned();
        if !matches(r.topic, &topic_got) {
            continue;
        }
        if accept(&topic_got, &publish.payload) {
            conn.disconnect();
            return Ok(Outcome::Reply {
                topic: topic_got,
                payload: publish.payload.to_vec(),
            });
        }
    }
}

/// Acknowledges a received publish at once (a reply is not a record that
/// must be written first).
fn acknowledge(conn: &mut Conn, p: &Publish) -> Result<()> {
    let packet = match p.qos {
        QoS::AtMostOnce => return Ok(()),
        QoS::AtLeastOnce => Packet::PubAck(PubAck::new(p.pkid, None)),
        QoS::ExactlyOnce => Packet::PubRec(PubRec::new(p.pkid, None)),
    };
    conn.send(packet)
        .map_err(|e| anyhow!("connection to {} lost: {e}", conn.url))
}

/// Reads packets until one `want` accepts (or `timeout`); publishes that
/// arrive meanwhile are kept in `early`, PUBRELs completed.
fn wait_packet(
    conn: &mut Conn,
    timeout: Duration,
    early: &mut Vec<Publish>,
    want: impl Fn(&Packet) -> bool,
) -> Result<Option<Packet>> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        match conn.recv(left)? {
            Recv::Packet(p) if want(&p) => return Ok(Some(p)),
            Recv::Packet(Packet::Publish(p)) => early.push(p),
            Recv::Packet(Packet::PubRel(rel)) => {
                conn.send(Packet::PubComp(PubComp::new(rel.pkid, None)))
                    .map_err(|e| anyhow!("connection to {} lost: {e}", conn.url))?;
            }
            Recv::Packet(Packet::Disconnect(d)) => {
                bail!(
                    "the broker at {} closed the connection: {}",
                    conn.url,
                    reason(&d.reason_code)
                )
            }
            Recv::Packet(_) | Recv::Idle => {}
            Recv::Interrupted => bail!("interrupted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_ports() {
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1884").unwrap(),
            Endpoint {
                host: "127.0.0.1".into(),
                port: 1884,
                tls: false,
                username: None,
                password: None,
            }
        );
        assert_eq!(parse_url("mqtts://broker.example").unwrap().port, 8883);
        assert_eq!(parse_url("mqtt://broker").unwrap().port, 1883);
        assert_eq!(parse_url("mqtt://[::1]:1885").unwrap().host, "::1");
        assert!(parse_url("http://x").is_err());
        assert!(parse_url("mqtt://x:port").is_err());
    }

    #[test]
    fn user_info_runs_to_the_last_at_and_its_password_is_never_shown() {
        let url = "mqtt://op:Corr3ct/Horse@9@127.0.0.1:1884";
        assert_eq!(redact(url), "mqtt://op:***@127.0.0.1:1884");
        let ep = parse_url(url).unwrap();
        assert_eq!((ep.host.as_str(), ep.port), ("127.0.0.1", 1884));
        assert_eq!(ep.username.as_deref(), Some("op"));
        assert_eq!(ep.password.as_deref(), Some("Corr3ct/Horse@9"));
        let url = "mqtt://op:p%2Fw@broker/x";
        assert_eq!(redact(url), "mqtt://op:***@broker/x");
        assert_eq!(parse_url(url).unwrap().password.as_deref(), Some("p/w"));
        assert_eq!(redact("mqtt://broker:1883"), "mqtt://broker:1883");
        let err = parse_url("mqtt://op:a/b@broker:port")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("a/b"), "{err}");
    }

    #[test]
    fn filters_match_like_a_broker() {
        assert!(matches(
            "/device/+/MQTTPROTOBUF/#",
            "/device/VIN1/MQTTPROTOBUF/telemetry"
        ));
        assert!(matches(
            "/device/+/MQTTPROTOBUF/commandresponse",
            "/device/A/MQTTPROTOBUF/commandresponse"
        ));
        assert!(!matches(
            "/device/+/MQTTPROTOBUF/commandresponse",
            "/device/A/MQTTPROTOBUF/telemetry"
        ));
        assert!(matches("$share/g1/a/#", "a/b/c"));
        assert!(matches("#", "anything/at/all"));
        assert!(!matches("a/+", "a/b/c"));
    }

    #[test]
    fn password_is_never_in_debug_output() {
        let cfg = BrokerConfig {
            url: "mqtt://x".into(),
            username: Some("u".into()),
            password: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }
}
