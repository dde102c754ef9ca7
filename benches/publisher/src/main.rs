//! Publishes pre-encoded messages to an MQTT broker as fast as it can and
//! reports the rate, for benches/mqtt_listen.sh; paced and reconnecting on
//! request, for benches/mqtt_faults.sh.
//!
//!   mqtt-bench-publisher HOST PORT QOS INFLIGHT TOPICS.txt PAYLOADS.hex
//!
//! TOPICS.txt and PAYLOADS.hex have one line per message (the topic, the
//! payload in hex). Everything is read and decoded before connecting; the
//! clock starts at the first publish and stops when the last one is
//! acknowledged (PUBACK at QoS 1, PUBCOMP at QoS 2) or, at QoS 0, written.
//! Prints one JSON object: messages, seconds, rate, and the wall-clock start
//! and end (Unix seconds) so they can be set against the listener's times.
//! MQTT 3.1.1 (rumqttc's v4 client), one connection, one thread.
//!
//! Optional environment (none set: the fast path above, unchanged):
//!   PUB_RATE=R        publish message i at start + i/R seconds (R msgs/s;
//!                     0 = as fast as the in-flight window allows)
//!   PUB_CLIENT_ID=ID  client id (default bench-pub-PID)
//!   PUB_RETRY=S       when the connection fails, reconnect (every 100 ms, for
//!                     up to S seconds without a connection) and publish again
//!                     every message not yet acknowledged; without it a failed
//!                     connection ends the run (exit 1)
//!   PUB_PROGRESS=MS   every MS milliseconds, a line `progress ACKED PUBLISHED
//!                     CONNECTIONS` on stderr
//! With any of them set, each connection is a clean session (a fresh rumqttc
//! client) with a client id of its own (ID, then ID-2, ID-3, ...: a broker that
//! restored an earlier connection's session from its persistence file after a
//! crash would otherwise take a new QoS 2 message for the unreleased one it
//! holds under the same packet id, and drop it), and a message counts as
//! acknowledged once its PUBACK (QoS 1) or PUBCOMP (QoS 2) arrives. What is guaranteed is at least once from the
//! publisher to the broker: a message is published again, as a new message,
//! on every connection until it is acknowledged, so one whose acknowledgement
//! was lost with the connection reaches the broker twice. (At QoS 2 a clean
//! session makes the broker drop what it had not yet released, so only a
//! message released before its PUBCOMP was lost is repeated.) The JSON has
//! also `published` (PUBLISH packets, resends included), `resent`,
//! `connections` and `connection_failures`; it is printed, and the exit
//! status 1, also when the publisher gives up.
//!
//! Round-trip mode, for benches/simulate.sh (PUB_RTT_KEYS set; the paced
//! mode's variables are then ignored but for PUB_RATE and PUB_CLIENT_ID):
//!   PUB_RTT_KEYS=FILE   one line per message: a string its reply carries
//!                       (its correlation id), looked for in the reply's bytes
//!   PUB_RTT_FILTER=F    where the replies come (default
//!                       /device/+/MQTTPROTOBUF/commandresponse), subscribed
//!                       at QOS before the first command
//!   PUB_RTT_SECONDS=S   stop sending new commands after S seconds (default:
//!                       when every message has been sent)
//!   PUB_RTT_TIMEOUT=S   how long to wait for each reply (default 5)
//! One connection; one command at a time: publish message i (at start + i/R
//! with PUB_RATE=R, else right after the previous reply), then wait for a
//! message on F whose payload holds key i. The round trip is from the
//! publish call to the reply read off the socket by rumqttc (the broker
//! twice, the device's handling, no process start). TCP_NODELAY is set, as
//! commander sets it on its connections. Prints one JSON line per
//! command, `{"i", "t" (Unix seconds at the publish), "rtt_ms" | "timeout"}`,
//! then `{"summary": true, ...}`; exit status 1 when a reply was missing or
//! the connection failed.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};

fn unhex(line: &str) -> Vec<u8> {
    let b = line.trim().as_bytes();
    assert!(b.len() % 2 == 0, "odd hex line");
    let nib = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not hex: {}", c as char),
    };
    b.chunks(2).map(|p| nib(p[0]) << 4 | nib(p[1])).collect()
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 7 {
        eprintln!(
            "usage: {} HOST PORT QOS INFLIGHT TOPICS.txt PAYLOADS.hex",
            a[0]
        );
        std::process::exit(2);
    }
    let host = a[1].clone();
    let port: u16 = a[2].parse().expect("PORT");
    let qos = match a[3].as_str() {
        "0" => QoS::AtMostOnce,
        "1" => QoS::AtLeastOnce,
        "2" => QoS::ExactlyOnce,
        q => panic!("QoS {q}?"),
    };
    let inflight: u16 = a[4].parse().expect("INFLIGHT");
    let topics = std::fs::read_to_string(&a[5]).expect("TOPICS");
    let payloads = std::fs::read_to_string(&a[6]).expect("PAYLOADS");
    let msgs: Vec<(String, Vec<u8>)> = topics
        .lines()
        .zip(payloads.lines())
        .map(|(t, p)| (t.to_owned(), unhex(p)))
        .collect();
    assert_eq!(
        msgs.len(),
        topics.lines().count(),
        "TOPICS and PAYLOADS differ in length"
    );
    assert_eq!(
        msgs.len(),
        payloads.lines().count(),
        "TOPICS and PAYLOADS differ in length"
    );
    let n = msgs.len();
    let bytes: usize = msgs.iter().map(|(_, p)| p.len()).sum();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
    if let Some(keys) = env("PUB_RTT_KEYS") {
        let keys: Vec<Vec<u8>> = std::fs::read_to_string(&keys)
            .expect("PUB_RTT_KEYS")
            .lines()
            .map(|l| l.as_bytes().to_vec())
            .collect();
        assert_eq!(keys.len(), n, "PUB_RTT_KEYS and PAYLOADS differ in length");
        let r = Rtt {
            host,
            port,
            qos,
            inflight,
            rate: env("PUB_RATE").map_or(0.0, |r| r.parse().expect("PUB_RATE")),
            client_id: env("PUB_CLIENT_ID")
                .unwrap_or_else(|| format!("bench-rtt-{}", std::process::id())),
            filter: env("PUB_RTT_FILTER")
                .unwrap_or_else(|| "/device/+/MQTTPROTOBUF/commandresponse".to_owned()),
            seconds: env("PUB_RTT_SECONDS")
                .map(|s| Duration::from_secs_f64(s.parse().expect("PUB_RTT_SECONDS"))),
            timeout: Duration::from_secs_f64(
                env("PUB_RTT_TIMEOUT").map_or(5.0, |s| s.parse().expect("PUB_RTT_TIMEOUT")),
            ),
        };
        let code = rt.block_on(r.run(msgs, keys));
        std::process::exit(code);
    }
    if ["PUB_RATE", "PUB_CLIENT_ID", "PUB_RETRY", "PUB_PROGRESS"]
        .iter()
        .any(|v| env(v).is_some())
    {
        let p = Paced {
            host,
            port,
            qos,
            inflight,
            rate: env("PUB_RATE").map_or(0.0, |r| r.parse().expect("PUB_RATE")),
            client_id: env("PUB_CLIENT_ID")
                .unwrap_or_else(|| format!("bench-pub-{}", std::process::id())),
            retry: env("PUB_RETRY").map(|s| Duration::from_secs_f64(s.parse().expect("PUB_RETRY"))),
            progress: env("PUB_PROGRESS")
                .map(|ms| Duration::from_millis(ms.parse().expect("PUB_PROGRESS"))),
        };
        let code = rt.block_on(p.run(Arc::new(msgs), bytes));
        std::process::exit(code);
    }
    rt.block_on(async move {
        let mut opts = MqttOptions::new(format!("bench-pub-{}", std::process::id()), host, port);
        opts.set_keep_alive(Duration::from_secs(30));
        opts.set_inflight(inflight);
        opts.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut el) = AsyncClient::new(opts, 4096);
        loop {
            match el.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => break,
                Ok(_) => {}
                Err(e) => {
                    eprintln!("publisher: cannot connect: {e}");
                    std::process::exit(1);
                }
            }
        }
        let start_unix = now_unix();
        let t0 = Instant::now();
        let pubc = client.clone();
        tokio::spawn(async move {
            for (topic, payload) in msgs {
                pubc.publish(topic, qos, false, payload).await.expect("publish");
            }
        });
        let (mut sent, mut acked) = (0usize, 0usize);
        let done = |sent: usize, acked: usize| match qos {
            QoS::AtMostOnce => sent == n,
            _ => acked == n,
        };
        while !done(sent, acked) {
            match el.poll().await {
                Ok(Event::Outgoing(Outgoing::Publish(_))) => sent += 1,
                Ok(Event::Incoming(Packet::PubAck(_))) if qos == QoS::AtLeastOnce => acked += 1,
                Ok(Event::Incoming(Packet::PubComp(_))) if qos == QoS::ExactlyOnce => acked += 1,
                Ok(_) => {}
                Err(e) => {
                    eprintln!("publisher: connection failed after {sent} sent, {acked} acked: {e}");
                    std::process::exit(1);
                }
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let end_unix = now_unix();
        let _ = client.disconnect().await;
        // Let the DISCONNECT go out.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match el.poll().await {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        println!(
            "{{\"messages\": {n}, \"payload_bytes\": {bytes}, \"sent\": {sent}, \"acked\": {acked}, \"seconds\": {secs:.6}, \"rate\": {:.1}, \"start_unix\": {start_unix:.6}, \"end_unix\": {end_unix:.6}}}",
            n as f64 / secs
        );
    });
}

/// The paced, reconnecting publisher (any PUB_* variable set).
struct Paced {
    host: String,
    port: u16,
    qos: QoS,
    inflight: u16,
    rate: f64,
    client_id: String,
    retry: Option<Duration>,
    progress: Option<Duration>,
}

impl Paced {
    /// Connection `nth` (1, 2, ...) has a client id of its own: ID, ID-2, ID-3, ...
    fn options(&self, nth: usize) -> MqttOptions {
        let id = match nth {
            1 => self.client_id.clone(),
            _ => format!("{}-{nth}", self.client_id),
        };
        let mut opts = MqttOptions::new(id, self.host.clone(), self.port);
        opts.set_keep_alive(Duration::from_secs(5));
        opts.set_inflight(self.inflight);
        opts.set_max_packet_size(1 << 20, 1 << 20);
        opts.set_clean_session(true);
        opts
    }

    /// Publishes every message until each one is acknowledged (or, without
    /// PUB_RETRY, until the first connection failure); prints the JSON
    /// summary; returns the exit status.
    async fn run(self, msgs: Arc<Vec<(String, Vec<u8>)>>, bytes: usize) -> i32 {
        let n = msgs.len();
        let qos = self.qos;
        let mut acked = vec![false; n];
        let mut acked_n = 0usize;
        // The first message never handed to a connection; those before it
        // that are not acknowledged are published again on the next one.
        let next_new = Arc::new(AtomicUsize::new(0));
        let (mut published, mut resent, mut connections, mut failures) =
            (0usize, 0usize, 0usize, 0usize);
        let start_unix = now_unix();
        let t0 = Instant::now();
        let start = tokio::time::Instant::now();
        let mut last_progress = Instant::now();
        let mut down_since: Option<Instant> = None;
        let mut error: Option<String> = None;
        let progress = |acked_n: usize,
                        published: usize,
                        connections: usize,
                        last: &mut Instant,
                        force: bool| {
            if let Some(every) = self.progress {
                if force || last.elapsed() >= every {
                    eprintln!("progress {acked_n} {published} {connections}");
                    *last = Instant::now();
                }
            }
        };
        'conn: while acked_n < n {
            if let Some(since) = down_since {
                match self.retry {
                    Some(limit) if since.elapsed() <= limit => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    _ => break 'conn,
                }
            }
            let (client, mut el) = AsyncClient::new(self.options(connections + 1), 4096);
            let connack = tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    match el.poll().await {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            })
            .await
            .unwrap_or_else(|_| Err("no CONNACK in 5 s".into()));
            if let Err(e) = connack {
                if connections == 0 && self.retry.is_none() {
                    eprintln!("publisher: cannot connect: {e}");
                }
                error = Some(format!("cannot connect: {e}"));
                down_since.get_or_insert_with(Instant::now);
                progress(acked_n, published, connections, &mut last_progress, false);
                continue;
            }
            down_since = None;
            connections += 1;
            if connections > 1 {
                eprintln!(
                    "publisher: connected again ({connections} connections, {acked_n} acknowledged)"
                );
            }
            let first_new = next_new.load(Ordering::SeqCst);
            let resend: Vec<usize> = (0..first_new).filter(|&i| !acked[i]).collect();
            resent += resend.len();
            // Sequence numbers in the order they were handed to rumqttc, which
            // sends them in that order: Outgoing::Publish(pkid) pairs them.
            let order = Arc::new(Mutex::new(VecDeque::<usize>::new()));
            let task = {
                let (order, next_new, msgs, client) = (
                    order.clone(),
                    next_new.clone(),
                    msgs.clone(),
                    client.clone(),
                );
                let rate = self.rate;
                tokio::spawn(async move {
                    for seq in resend {
                        order.lock().unwrap().push_back(seq);
                        let (t, p) = &msgs[seq];
                        if client
                            .publish(t.clone(), qos, false, p.clone())
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    loop {
                        let k = next_new.load(Ordering::SeqCst);
                        if k >= n {
                            return;
                        }
                        if rate > 0.0 {
                            tokio::time::sleep_until(
                                start + Duration::from_secs_f64(k as f64 / rate),
                            )
                            .await;
                        }
                        order.lock().unwrap().push_back(k);
                        let (t, p) = &msgs[k];
                        if client
                            .publish(t.clone(), qos, false, p.clone())
                            .await
                            .is_err()
                        {
                            return;
                        }
                        next_new.store(k + 1, Ordering::SeqCst);
                    }
                })
            };
            let mut pkids: HashMap<u16, usize> = HashMap::new();
            let mut ack = |seq: usize, acked_n: &mut usize| {
                if !acked[seq] {
                    acked[seq] = true;
                    *acked_n += 1;
                }
            };
            while acked_n < n {
                match el.poll().await {
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                        published += 1;
                        let seq = order
                            .lock()
                            .unwrap()
                            .pop_front()
                            .expect("a publish nobody asked for");
                        if qos == QoS::AtMostOnce {
                            ack(seq, &mut acked_n);
                        } else {
                            pkids.insert(pkid, seq);
                        }
                    }
                    Ok(Event::Incoming(Packet::PubAck(a))) if qos == QoS::AtLeastOnce => {
                        if let Some(seq) = pkids.remove(&a.pkid) {
                            ack(seq, &mut acked_n);
                        }
                    }
                    Ok(Event::Incoming(Packet::PubComp(c))) if qos == QoS::ExactlyOnce => {
                        if let Some(seq) = pkids.remove(&c.pkid) {
                            ack(seq, &mut acked_n);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        task.abort();
                        failures += 1;
                        eprintln!(
                            "publisher: connection failed after {published} published, {acked_n} acknowledged: {e}"
                        );
                        error = Some(format!("connection failed: {e}"));
                        down_since = Some(Instant::now());
                        continue 'conn;
                    }
                }
                progress(acked_n, published, connections, &mut last_progress, false);
            }
            task.abort();
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                loop {
                    match el.poll().await {
                        Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
        }
        let secs = t0.elapsed().as_secs_f64();
        let end_unix = now_unix();
        progress(acked_n, published, connections, &mut last_progress, true);
        let complete = acked_n == n;
        if !complete {
            eprintln!(
                "publisher: gave up with {acked_n} of {n} acknowledged: {}",
                error.as_deref().unwrap_or("?")
            );
        }
        println!(
            "{{\"messages\": {n}, \"payload_bytes\": {bytes}, \"sent\": {published}, \"acked\": {acked_n}, \"published\": {published}, \"resent\": {resent}, \"connections\": {connections}, \"connection_failures\": {failures}, \"rate_target\": {}, \"complete\": {complete}, \"seconds\": {secs:.6}, \"rate\": {:.1}, \"start_unix\": {start_unix:.6}, \"end_unix\": {end_unix:.6}}}",
            self.rate,
            acked_n as f64 / secs
        );
        if complete { 0 } else { 1 }
    }
}

/// The round-trip prober (PUB_RTT_KEYS set).
struct Rtt {
    host: String,
    port: u16,
    qos: QoS,
    inflight: u16,
    rate: f64,
    client_id: String,
    filter: String,
    seconds: Option<Duration>,
    timeout: Duration,
}

impl Rtt {
    async fn run(self, msgs: Vec<(String, Vec<u8>)>, keys: Vec<Vec<u8>>) -> i32 {
        let mut opts = MqttOptions::new(self.client_id.clone(), self.host.clone(), self.port);
        opts.set_keep_alive(Duration::from_secs(30));
        opts.set_inflight(self.inflight);
        opts.set_max_packet_size(1 << 20, 1 << 20);
        opts.set_clean_session(true);
        let (client, mut el) = AsyncClient::new(opts, 4096);
        // As commander's own connections: no Nagle delay on the commands.
        let mut net = el.network_options();
        net.set_tcp_nodelay(true);
        el.set_network_options(net);
        let fail = |what: String| -> i32 {
            eprintln!("rtt: {what}");
            1
        };
        // CONNACK, then the subscription acknowledged.
        let ready = tokio::time::timeout(Duration::from_secs(10), async {
            let mut subscribed = false;
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if !subscribed => {
                        client
                            .subscribe(self.filter.clone(), self.qos)
                            .await
                            .map_err(|e| e.to_string())?;
                        subscribed = true;
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await
        .unwrap_or_else(|_| Err("no CONNACK/SUBACK in 10 s".into()));
        if let Err(e) = ready {
            return fail(format!("cannot connect and subscribe: {e}"));
        }
        let start = tokio::time::Instant::now();
        let t0 = Instant::now();
        let (mut probes, mut answered, mut timeouts, mut other) = (0usize, 0usize, 0usize, 0usize);
        let mut error = None;
        'probes: for (i, ((topic, payload), key)) in msgs.into_iter().zip(&keys).enumerate() {
            if self.seconds.is_some_and(|limit| t0.elapsed() >= limit) {
                break;
            }
            if self.rate > 0.0 {
                tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / self.rate))
                    .await;
            }
            let t_unix = now_unix();
            let sent = Instant::now();
            if let Err(e) = client.publish(topic, self.qos, false, payload).await {
                error = Some(format!("publish: {e}"));
                break;
            }
            probes += 1;
            let deadline = tokio::time::Instant::now() + self.timeout;
            loop {
                match tokio::time::timeout_at(deadline, el.poll()).await {
                    Err(_) => {
                        timeouts += 1;
                        println!("{{\"i\": {i}, \"t\": {t_unix:.6}, \"timeout\": true}}");
                        break;
                    }
                    Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                        if p.payload.windows(key.len()).any(|w| w == key.as_slice()) {
                            let ms = sent.elapsed().as_secs_f64() * 1000.0;
                            answered += 1;
                            println!("{{\"i\": {i}, \"t\": {t_unix:.6}, \"rtt_ms\": {ms:.4}}}");
                            break;
                        }
                        other += 1;
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        error = Some(format!("connection failed: {e}"));
                        break 'probes;
                    }
                }
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match el.poll().await {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        println!(
            "{{\"summary\": true, \"probes\": {probes}, \"answered\": {answered}, \"timeouts\": {timeouts}, \"other_replies\": {other}, \"seconds\": {secs:.6}, \"rate_target\": {}, \"error\": {}}}",
            self.rate,
            error
                .as_ref()
                .map_or("null".to_owned(), |e| format!("{e:?}"))
        );
        if let Some(e) = error {
            return fail(e);
        }
        if timeouts > 0 { 1 } else { 0 }
    }
}
