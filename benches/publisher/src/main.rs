//! Publishes pre-encoded messages to an MQTT broker as fast as it can and
//! reports the rate, for benches/mqtt_listen.sh.
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
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 7 {
        eprintln!("usage: {} HOST PORT QOS INFLIGHT TOPICS.txt PAYLOADS.hex", a[0]);
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
    assert_eq!(msgs.len(), topics.lines().count(), "TOPICS and PAYLOADS differ in length");
    assert_eq!(msgs.len(), payloads.lines().count(), "TOPICS and PAYLOADS differ in length");
    let n = msgs.len();
    let bytes: usize = msgs.iter().map(|(_, p)| p.len()).sum();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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
