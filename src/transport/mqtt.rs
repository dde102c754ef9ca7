//! MQTT (SPEC 9): connecting to a broker, topic filters, and the
//! request/reply exchange `send` and the interactive mode share.
//!
//! MQTT 5 throughout (rumqttc's v5 client): shared subscriptions
//! (`$share/GROUP/FILTER`) and persistent sessions with an expiry need it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet, Publish};
use rumqttc::v5::{Client, Connection, ConnectionError, Event, MqttOptions};
use rumqttc::{TlsConfiguration, Transport};

/// The environment variable a password may come from (never printed).
pub const PASSWORD_ENV: &str = "COMMANDER_MQTT_PASSWORD";

/// Where and how to connect.
#[derive(Clone, Default)]
pub struct BrokerConfig {
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A CA certificate (PEM) for `mqtts://`; default: the system's roots.
    pub ca: Option<PathBuf>,
    pub client_id: Option<String>,
    pub keep_alive: Duration,
    /// A persistent session: the broker keeps the subscriptions and queues
    /// QoS 1/2 messages while the client is away.
    pub persistent: bool,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is never printed, not even in debug output.
        f.debug_struct("BrokerConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ca", &self.ca)
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
}

/// Parses `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883).
pub fn parse_url(url: &str) -> Result<Endpoint> {
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
    Ok(Endpoint { host, port, tls })
}

/// Builds the client options.
pub fn options(cfg: &BrokerConfig) -> Result<MqttOptions> {
    let ep = parse_url(&cfg.url)?;
    let client_id = cfg.client_id.clone().unwrap_or_else(|| {
        format!(
            "commander-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    });
    let mut opts = MqttOptions::new(client_id, ep.host.clone(), ep.port);
    // rumqttc panics below 5 s; MQTT carries the interval in 16 bits.
    opts.set_keep_alive(if cfg.keep_alive.is_zero() {
        Duration::from_secs(30)
    } else {
        cfg.keep_alive
            .clamp(Duration::from_secs(5), Duration::from_secs(65535))
    });
    opts.set_max_packet_size(Some(64 * 1024 * 1024));
    if cfg.persistent {
        opts.set_clean_start(false);
        // A week: long enough for a listener that is restarted or offline.
        opts.set_session_expiry_interval(Some(7 * 24 * 3600));
    }
    match (&cfg.username, &cfg.password) {
        (Some(u), p) => {
            opts.set_credentials(u.clone(), p.clone().unwrap_or_default());
        }
        (None, Some(_)) => bail!("a password was given without a username (--username)"),
        (None, None) => {}
    }
    if ep.tls {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = match &cfg.ca {
            Some(path) => TlsConfiguration::Simple {
                ca: std::fs::read(path).with_context(|| {
                    format!("cannot read the CA certificate '{}'", path.display())
                })?,
                alpn: None,
                client_auth: None,
            },
            None => TlsConfiguration::default(),
        };
        opts.set_transport(Transport::Tls(tls));
    }
    Ok(opts)
}

/// Connects and waits for the broker's answer, so that a wrong address, a
/// refused password or a TLS failure is an error now, in words.
pub fn connect(cfg: &BrokerConfig, timeout: Duration) -> Result<(Client, Connection)> {
    let opts = options(cfg)?;
    let (client, mut conn) = Client::new(opts, 1024);
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.recv_timeout(left) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => return Ok((client, conn)),
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => return Err(describe(&e, &cfg.url)),
            Err(_) => bail!(
                "no answer from the broker at {} within {}s",
                cfg.url,
                timeout.as_secs()
            ),
        }
    }
}

/// A connection error in words a user can act on.
pub fn describe(e: &ConnectionError, url: &str) -> anyhow::Error {
    match e {
        ConnectionError::ConnectionRefused(code) => {
            let why = match code {
                ConnectReturnCode::BadUserNamePassword => "bad username or password",
                ConnectReturnCode::NotAuthorized => "not authorized",
                ConnectReturnCode::ClientIdentifierNotValid => "the client id was refused",
                ConnectReturnCode::ServerUnavailable => "the server is unavailable",
                ConnectReturnCode::Banned => "this client is banned",
                _ => "refused",
            };
            anyhow!("the broker at {url} refused the connection: {why} ({code:?})")
        }
        ConnectionError::Io(io) => anyhow!("cannot reach the broker at {url}: {io}"),
        ConnectionError::Tls(t) => anyhow!("TLS with the broker at {url} failed: {t}"),
        other => anyhow!("connection to the broker at {url} failed: {other}"),
    }
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

/// How a reply is recognised as the answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// The reply's `correlation_id` (or `message_id`) equals this.
    Id(String),
    /// The schema has no such fields: the first message on the topic.
    First,
}

impl Matcher {
    /// From the command: its `correlation_id`, else its `message_id`; when
    /// the response type has neither field, the first reply.
    pub fn for_command(command: &DynamicMessage, response: &MessageDescriptor) -> Matcher {
        let has = |name: &str| response.get_field_by_name(name).is_some();
        if !has("correlation_id") && !has("message_id") {
            return Matcher::First;
        }
        for name in ["correlation_id", "message_id"] {
            if let Some(v) = command.get_field_by_name(name) {
                if let Some(s) = v.as_str() {
                    if !s.is_empty() {
                        return Matcher::Id(s.to_owned());
                    }
                }
            }
        }
        Matcher::First
    }

    /// Does this decoded reply answer the command?
    pub fn accepts(&self, reply: &DynamicMessage) -> bool {
        match self {
            Matcher::First => true,
            Matcher::Id(id) => ["correlation_id", "message_id"].iter().any(|name| {
                reply
                    .get_field_by_name(name)
                    .and_then(|v| v.as_str().map(|s| s == id))
                    .unwrap_or(false)
            }),
        }
    }
}

/// What happened to a request.
pub enum Outcome {
    /// The reply that matched, and the ones skipped before it (as notes).
    Reply {
        message: DynamicMessage,
        bytes: Vec<u8>,
        skipped: Vec<String>,
    },
    /// Nothing matched in time.
    Timeout { skipped: Vec<String> },
}

/// One request: subscribe to the response topic (and wait for the broker to
/// confirm, so a fast reply is not missed), publish, and wait for the reply
/// the matcher accepts.
#[allow(clippy::too_many_arguments)]
pub fn request(
    cfg: &BrokerConfig,
    topic: &str,
    response_topic: &str,
    payload: Vec<u8>,
    qos: QoS,
    response: &MessageDescriptor,
    matcher: &Matcher,
    timeout: Duration,
    on_published: impl FnOnce(),
) -> Result<Outcome> {
    let (client, mut conn) = connect(cfg, timeout)?;
    let deadline = Instant::now() + timeout;
    client
        .subscribe(response_topic, qos)
        .map_err(|e| anyhow!("cannot subscribe to '{response_topic}': {e}"))?;
    wait_for(&mut conn, deadline, &cfg.url, |p| {
        matches!(p, Packet::SubAck(_))
    })?
    .ok_or_else(|| {
        anyhow!("the broker did not confirm the subscription to '{response_topic}' in time")
    })?;
    client
        .publish(topic, qos, false, payload)
        .map_err(|e| anyhow!("cannot publish to '{topic}': {e}"))?;
    on_published();
    let mut skipped = Vec::new();
    loop {
        let Some(publish) = next_publish(&mut conn, deadline, &cfg.url)? else {
            close(&client, &mut conn);
            return Ok(Outcome::Timeout { skipped });
        };
        let topic_got = String::from_utf8_lossy(&publish.topic).into_owned();
        if !matches(response_topic, &topic_got) {
            continue;
        }
        match DynamicMessage::decode(response.clone(), publish.payload.as_ref()) {
            Ok(reply) if matcher.accepts(&reply) => {
                close(&client, &mut conn);
                return Ok(Outcome::Reply {
                    message: reply,
                    bytes: publish.payload.to_vec(),
                    skipped,
                });
            }
            Ok(reply) => skipped.push(format!(
                "skipped a reply on {topic_got} for another command (correlation_id {:?})",
                reply
                    .get_field_by_name("correlation_id")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )),
            Err(e) => skipped.push(format!(
                "skipped a message on {topic_got} that is not a {}: {e} (hex {})",
                response.full_name(),
                hex::encode(&publish.payload)
            )),
        }
    }
}

/// Says goodbye: queues a DISCONNECT and polls the connection until it is
/// sent (for up to a second), so the broker sees a clean end rather than a
/// dropped connection.
pub fn close(client: &Client, conn: &mut Connection) {
    if client.disconnect().is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match conn.recv_timeout(left) {
            Ok(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// Polls until a packet `want` accepts arrives; `None` at the deadline.
fn wait_for(
    conn: &mut Connection,
    deadline: Instant,
    url: &str,
    want: impl Fn(&Packet) -> bool,
) -> Result<Option<Packet>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        match conn.recv_timeout(left) {
            Ok(Ok(Event::Incoming(p))) if want(&p) => return Ok(Some(p)),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(describe(&e, url)),
            Err(_) => return Ok(None),
        }
    }
}

fn next_publish(conn: &mut Connection, deadline: Instant, url: &str) -> Result<Option<Publish>> {
    match wait_for(conn, deadline, url, |p| matches!(p, Packet::Publish(_)))? {
        Some(Packet::Publish(p)) => Ok(Some(p)),
        _ => Ok(None),
    }
}

/// Renders a topic template (`/device/{vehicle_id}/command`) with the values
/// of `msg`.
pub fn render_topic(template: &str, msg: &DynamicMessage) -> Result<String> {
    let topic = crate::profile::render_template(template, msg)
        .map_err(|e| anyhow!("topic '{template}': {e}"))?;
    if topic.contains(['+', '#']) {
        bail!(
            "topic '{topic}' (from '{template}') has wildcards; a message is published to one topic"
        );
    }
    if topic.contains("//") || topic.ends_with('/') && topic.len() > 1 {
        bail!(
            "topic '{topic}' (from '{template}') has an empty level: is a field it uses unset? (e.g. {})",
            template
                .split('{')
                .nth(1)
                .and_then(|s| s.split('}').next())
                .unwrap_or("the field")
        );
    }
    let _ = msg.descriptor();
    Ok(topic)
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
                tls: false
            }
        );
        assert_eq!(parse_url("mqtts://broker.example").unwrap().port, 8883);
        assert_eq!(parse_url("mqtt://broker").unwrap().port, 1883);
        assert_eq!(parse_url("mqtt://[::1]:1885").unwrap().host, "::1");
        assert!(parse_url("http://x").is_err());
        assert!(parse_url("mqtt://x:port").is_err());
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
