//! The live views: each WebSocket (a browser tab) has its own MQTT client
//! and subscriptions, so one tab's unsubscribe never drops another's
//! messages. The client runs on its own thread (the listener of `listen`),
//! decodes each message with the type mapped to its topic and hands it to
//! the socket, which sends them in batches. A tab that cannot keep up gets a
//! count of what it missed, never silence.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use rumqttc::v5::mqttbytes::QoS;
use serde_json::{Value as Jv, json};
use tokio::sync::mpsc;

use super::App;
use crate::mqtt;
use crate::render::{Format, Renderer};
use crate::transport::mqtt_listener::{Event, Listener};

/// Messages waiting for a slow tab; beyond, they are counted as dropped.
const QUEUE: usize = 20_000;
/// A batch goes at most this often...
const BATCH_EVERY: Duration = Duration::from_millis(50);
/// ...with at most this many messages.
const BATCH_MAX: usize = 2_000;
/// Frames from the page are small (a list of filters).
const MAX_FRAME: usize = 64 << 10;

pub async fn upgrade(State(app): State<Arc<App>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_FRAME)
        .on_upgrade(move |socket| serve(socket, app))
}

/// What the MQTT thread hands the socket.
/// Each carries the number of the subscription it came from: after a
/// change, what the old client still hands on is not shown.
enum Item {
    Message(u64, Jv),
    Note(u64, Jv),
}

/// One tab's MQTT client, stopped when dropped.
struct Worker {
    stop: Arc<AtomicBool>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn serve(mut socket: WebSocket, app: Arc<App>) {
    let (tx, mut rx) = mpsc::channel::<Item>(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(0));
    let mut worker: Option<Worker> = None;
    let mut generation = 0u64;
    let mut batch: Vec<Jv> = Vec::new();
    let mut tick = tokio::time::interval(BATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let reply = match subscribe_request(&text) {
                    Ok(filters) => {
                        // The old client goes before the new one comes.
                        worker = None;
                        generation += 1;
                        match &app.broker {
                            None => json!({"kind": "error", "message": "no broker: start commander web with --broker"}),
                            Some(_) if filters.is_empty() => json!({"kind": "status", "subscribed": [], "url": app.broker.as_ref().map(|b| b.display_url())}),
                            Some(cfg) => {
                                let stop = Arc::new(AtomicBool::new(false));
                                let outlet = Outlet { tx: tx.clone(), dropped: dropped.clone(), seq: seq.clone(), generation };
                                start_worker(app.clone(), cfg.clone(), filters.clone(), outlet, stop.clone());
                                worker = Some(Worker { stop });
                                json!({"kind": "status", "subscribed": filters, "url": cfg.display_url()})
                            }
                        }
                    }
                    Err(why) => json!({"kind": "error", "message": why}),
                };
                if socket.send(Message::Text(reply.to_string())).await.is_err() {
                    break;
                }
            }
            item = rx.recv(), if batch.len() < BATCH_MAX => {
                let note = match item {
                    Some(Item::Message(g, m)) => {
                        if g == generation {
                            batch.push(m);
                        }
                        None
                    }
                    Some(Item::Note(g, n)) => (g == generation).then_some(n),
                    None => None,
                };
                if let Some(n) = note {
                    if socket.send(Message::Text(n.to_string())).await.is_err() {
                        break;
                    }
                }
            }
            _ = tick.tick() => {
                if !batch.is_empty() {
                    let frame = json!({"kind": "batch", "messages": std::mem::take(&mut batch)});
                    if socket.send(Message::Text(frame.to_string())).await.is_err() {
                        break;
                    }
                }
                let lost = dropped.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    let frame = json!({"kind": "dropped", "count": lost});
                    if socket.send(Message::Text(frame.to_string())).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    drop(worker);
}

/// `{"subscribe": [FILTER, ...]}`: the filters, checked.
fn subscribe_request(text: &str) -> Result<Vec<String>, String> {
    let v: Jv = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = v
        .get("subscribe")
        .and_then(Jv::as_array)
        .ok_or("expected {\"subscribe\": [topic filters]}")?;
    let mut filters = Vec::new();
    for f in list {
        let f = f.as_str().ok_or("a topic filter is a string")?.trim();
        if f.is_empty() {
            continue;
        }
        if !valid_filter(f) {
            return Err(format!("'{f}' is not a topic filter"));
        }
        if !filters.iter().any(|g| g == f) {
            filters.push(f.to_owned());
        }
    }
    if filters.len() > 100 {
        return Err("at most 100 topic filters per tab".into());
    }
    Ok(filters)
}

/// `+` only as a whole level, `#` only as the last one.
fn valid_filter(f: &str) -> bool {
    let levels: Vec<&str> = f.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| {
        (!l.contains(['+', '#'])) || *l == "+" || (*l == "#" && i == levels.len() - 1)
    })
}

/// Where a tab's MQTT client hands what it receives.
#[derive(Clone)]
struct Outlet {
    tx: mpsc::Sender<Item>,
    /// Messages the tab was too slow for.
    dropped: Arc<AtomicU64>,
    /// The tab's message counter.
    seq: Arc<AtomicU64>,
    /// Which of the tab's subscriptions this client serves.
    generation: u64,
}

fn start_worker(
    app: Arc<App>,
    mut cfg: mqtt::BrokerConfig,
    filters: Vec<String>,
    outlet: Outlet,
    stop: Arc<AtomicBool>,
) {
    let Outlet {
        tx,
        dropped,
        seq,
        generation,
    } = outlet;
    cfg.client_id = Some(format!(
        "commander-web-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    cfg.persistent = false;
    let note = move |tx: &mpsc::Sender<Item>, kind: &str, message: String| {
        let _ = tx.try_send(Item::Note(
            generation,
            json!({"kind": kind, "message": message}),
        ));
    };
    let tx_err = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("web-live".into())
        .spawn(move || {
            let mut listener = match Listener::start(cfg, filters, QoS::AtMostOnce) {
                Ok(l) => l,
                Err(e) => {
                    note(&tx, "error", format!("{e:#}"));
                    return;
                }
            };
            let routes: Vec<(String, Renderer)> = app
                .routes
                .iter()
                .map(|(f, d)| {
                    (
                        f.clone(),
                        Renderer::typed(d.clone(), Format::Jsonl, false, false),
                    )
                })
                .collect();
            let raw = Renderer::raw(Format::Jsonl);
            while !stop.load(Ordering::Relaxed) && !tx.is_closed() {
                match listener.next(Duration::from_millis(100)) {
                    Ok(Event::Message(d)) => {
                        let n = seq.fetch_add(1, Ordering::Relaxed) + 1;
                        let m = describe(n, &d.topic, &d.payload, &routes, &raw);
                        listener.written(d.token);
                        if tx.try_send(Item::Message(generation, m)).is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Event::Note(n)) => note(&tx, "note", n),
                    Ok(Event::Reconnected { note: n, .. }) => note(&tx, "note", n),
                    Ok(_) => {}
                    Err(e) => {
                        note(&tx, "error", format!("{e:#}"));
                        break;
                    }
                }
                let _ = listener.flush();
            }
            listener.close();
        });
    if let Err(e) = spawned {
        note(
            &tx_err,
            "error",
            format!("cannot start the MQTT client: {e}"),
        );
    }
}

/// One message as the page shows it.
fn describe(
    n: u64,
    topic: &str,
    payload: &[u8],
    routes: &[(String, Renderer)],
    raw: &Renderer,
) -> Jv {
    let route = routes.iter().find(|(f, _)| mqtt::matches(f, topic));
    let renderer = route.map_or(raw, |(_, r)| r);
    let mut out = Vec::new();
    let (json_text, error) = match renderer.render(payload, &mut out) {
        Ok(()) => (
            Some(String::from_utf8_lossy(&out).trim_end().to_owned()),
            None,
        ),
        Err(e) => (
            None,
            Some(match route {
                Some((_, r)) => format!("cannot decode as {}: {e:#}", r.type_name()),
                None => format!("cannot decode: {e:#}"),
            }),
        ),
    };
    json!({
        "seq": n,
        "time": prost_types::Timestamp::from(SystemTime::now()).to_string(),
        "topic": topic,
        "type": route.map(|(_, r)| r.type_name().to_owned()),
        "size": payload.len(),
        "json": json_text,
        "hex": hex::encode(payload),
        "error": error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_checked_filters() {
        assert_eq!(
            subscribe_request(r#"{"subscribe": ["/a/+/b", "/a/#", "/a/#"]}"#).unwrap(),
            vec!["/a/+/b", "/a/#"]
        );
        assert!(subscribe_request(r#"{"subscribe": ["/a/b#"]}"#).is_err());
        assert!(subscribe_request(r#"{"sub": []}"#).is_err());
    }
}
