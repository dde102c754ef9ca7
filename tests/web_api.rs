//! `commander web` (SPEC 12) through its HTTP API and WebSocket, as the page
//! uses them, without a browser (tests/web.rs drives the page itself in
//! Chromium): build and validate, send to a real broker with a simulated
//! vehicle answering, decode; each WebSocket its own subscriptions, a bad
//! payload shown as hex with the error; and the guard: a token off
//! loopback, loopback Host names only, the page's own Origin, size limits,
//! no password on the page. With no broker given, the embedded broker and a
//! simulated vehicle.
//!
//! Brokers: tests/support/broker.rs (mosquitto when installed, else an
//! embedded rumqttd). Every wait is bounded and generous.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::broker::{Broker, BrokerOpts, RawClient};
use support::proc::Proc;

const READY: Duration = Duration::from_secs(30);

/// A running `commander web`, and the address it serves.
struct Web {
    proc: Proc,
    /// `127.0.0.1:PORT`
    addr: String,
    token: Option<String>,
}

impl Web {
    #[track_caller]
    fn start(args: &[&str]) -> Web {
        let mut all = vec!["web"];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn(&all);
        proc.expect(READY, "the line 'commander web on http://...'", |p| {
            p.stderr().contains("commander web on http://")
        });
        let log = proc.stderr();
        let url = log
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("a URL")
            .to_owned();
        let rest = url.trim_start_matches("http://");
        let (addr, query) = rest.split_once('/').expect("host/path");
        let token = query
            .strip_prefix("?token=")
            .map(|t| t.trim_end_matches(',').to_owned());
        Web {
            proc,
            addr: addr.to_owned(),
            token,
        }
    }

    fn log(&self) -> String {
        self.proc.stderr()
    }

    /// A request as the page makes it (Host as served, the token when
    /// there is one), with `extra` headers.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut headers: Vec<(String, String)> = vec![("Host".into(), self.addr.clone())];
        if let Some(t) = &self.token {
            headers.push(("Authorization".into(), format!("Bearer {t}")));
        }
        for (k, v) in extra {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
            headers.push(((*k).to_owned(), (*v).to_owned()));
        }
        let body = body.map(|b| b.to_string().into_bytes());
        http(&self.addr, method, path, &headers, body.as_deref())
    }

    #[track_caller]
    fn post(&self, path: &str, body: Value) -> Value {
        let r = self.call("POST", path, Some(&body), &[]);
        assert_eq!(r.status, 200, "POST {path}: {}", r.body);
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
    }

    #[track_caller]
    fn get(&self, path: &str) -> Value {
        let r = self.call("GET", path, None, &[]);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request on its own connection.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect to commander web");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    // A refused request may be answered before its body is read.
    let _ = s.write_all(&bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers: head.to_owned(),
        body,
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A WebSocket to `/api/live` as a tab opens it.
struct Tab {
    ws: tungstenite::WebSocket<TcpStream>,
    /// Every message the server passed on.
    seen: Vec<Value>,
    notices: Vec<Value>,
}

impl Tab {
    /// The tab, or the HTTP status the server refused it with.
    fn open(web: &Web, origin: &str) -> Result<Tab, u16> {
        Tab::open_at(&web.addr, web.token.as_deref(), origin)
    }

    fn open_at(addr: &str, token: Option<&str>, origin: &str) -> Result<Tab, u16> {
        let path = match token {
            Some(t) => format!("/api/live?token={t}"),
            None => "/api/live".to_owned(),
        };
        let req = tungstenite::handshake::client::Request::builder()
            .uri(format!("ws://{addr}{path}"))
            .header("Host", addr)
            .header("Origin", origin)
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header(
                "Sec-WebSocket-Key",
                tungstenite::handshake::client::generate_key(),
            )
            .body(())
            .unwrap();
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let (ws, _) = tungstenite::client(req, stream).map_err(|e| match e {
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r)) => {
                r.status().as_u16()
            }
            other => panic!("the WebSocket handshake failed: {other}"),
        })?;
        Ok(Tab {
            ws,
            seen: Vec::new(),
            notices: Vec::new(),
        })
    }

    #[track_caller]
    fn subscribe(&mut self, filters: &[&str]) {
        self.ws
            .send(tungstenite::Message::Text(
                json!({ "subscribe": filters }).to_string(),
            ))
            .unwrap();
        self.until(READY, "the subscription's status", |t| {
            t.notices
                .iter()
                .any(|n| n["kind"] == "status" && n["subscribed"] == json!(filters))
        });
    }

    /// Reads what comes for up to `wait`.
    fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["kind"] == "batch" {
                        self.seen
                            .extend(v["messages"].as_array().unwrap().iter().cloned());
                    } else {
                        self.notices.push(v);
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("the WebSocket failed: {e}"),
            }
        }
    }

    #[track_caller]
    fn until(&mut self, limit: Duration, what: &str, cond: impl Fn(&Tab) -> bool) {
        let deadline = Instant::now() + limit;
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "{what} did not come within {limit:?}; seen {} messages, notices {:?}",
                self.seen.len(),
                self.notices
            );
            self.pump(Duration::from_millis(200));
        }
    }

    fn topics(&self) -> std::collections::BTreeSet<String> {
        self.seen
            .iter()
            .map(|m| m["topic"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// `commander simulate --broker URL --vehicle ...`, subscribed.
#[track_caller]
fn simulate(url: &str, vehicles: &[&str]) -> Proc {
    let mut args = vec!["simulate", "--broker", url];
    for v in vehicles {
        args.extend(["--vehicle", v]);
    }
    let mut p = Proc::spawn(&args);
    p.expect(READY, "the line 'simulating ...'", |p| {
        p.stderr().lines().any(|l| l.starts_with("simulating "))
    });
    p
}

fn engine_start(run_minutes: &str, corr: &str) -> Value {
    json!({
        "type": "cvp.CommandMessage",
        "state": {
            "message_id": format!("m-{corr}"),
            "correlation_id": corr,
            "vehicle_id": "MH12VF1121",
            "subtype": "ENGINE_START",
            "engine_start": {
                "run_minutes": run_minutes,
                "schedule": {"days": ["MONDAY", "FRIDAY"]},
            },
        },
        "start": null,
    })
}

#[test]
fn a_command_is_built_checked_sent_and_its_reply_decoded() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    let _sim = simulate(&url, &["MH12VF1121"]);
    let web = Web::start(&[
        "--listen",
        "127.0.0.1:0",
        "--broker",
        &url,
        "--timeout",
        "20s",
    ]);
    let commands = RawClient::start(&broker, "/device/+/MQTTPROTOBUF/command");

    // A bad value: its message, by path, with the terminal's words; not sent.
    let built = web.post("/api/build", engine_start("70000000000", "corr-bad"));
    assert_eq!(built["ok"], false);
    assert_eq!(
        built["errors"],
        json!([{"path": "engine_start.run_minutes", "message": "70000000000 is out of range for uint32 (max 4294967295)"}])
    );
    let sent = web.post("/api/send", engine_start("70000000000", "corr-bad"));
    assert_eq!(sent["sent"], false, "{sent}");
    assert!(
        commands.try_next(Duration::from_secs(2)).is_none(),
        "a command with a bad value reached the broker"
    );

    // A good one: JSON, hex, topic and command lines beside it.
    let built = web.post("/api/build", engine_start("15", "corr-web-1"));
    assert_eq!(built["ok"], true, "{built}");
    assert_eq!(built["topic"], "/device/MH12VF1121/MQTTPROTOBUF/command");
    let json_pane: Value = serde_json::from_str(built["json"].as_str().unwrap()).unwrap();
    assert_eq!(json_pane["engine_start"]["run_minutes"], 15);
    assert_eq!(
        json_pane["engine_start"]["schedule"]["days"],
        json!(["MONDAY", "FRIDAY"])
    );
    let cli = built["cli"]["encode"].as_str().unwrap();
    assert!(
        cli.starts_with("commander encode -m cvp.CommandMessage --json '"),
        "{cli}"
    );
    // The command line the page offers makes the same bytes.
    let compact = cli.split_once("--json '").unwrap().1.trim_end_matches('\'');
    let encoded = support::run(&["encode", "-m", "cvp.CommandMessage", "--json", compact]);
    assert_eq!(encoded.ok().trim(), built["hex"].as_str().unwrap());

    let sent = web.post("/api/send", engine_start("15", "corr-web-1"));
    assert_eq!(sent["sent"], true, "{sent}");
    let (topic, payload) = commands.next("the command");
    assert_eq!(topic, "/device/MH12VF1121/MQTTPROTOBUF/command");
    assert_eq!(hex::encode(payload), built["hex"].as_str().unwrap());
    let reply = &sent["reply"];
    assert_eq!(reply["type"], "cvp.CommandResponseMessage", "{sent}");
    let table = reply["table"].as_str().unwrap();
    assert!(table.contains("corr-web-1"), "{table}");
    assert!(table.contains("ENGINE_START"), "{table}");
    assert!(reply["latency_ms"].as_f64().unwrap() >= 0.0);

    // The decode pane reads the reply back.
    let decoded = web.post(
        "/api/decode",
        json!({"type": "cvp.CommandResponseMessage", "input": reply["hex"]}),
    );
    assert!(
        decoded["table"].as_str().unwrap().contains("corr-web-1"),
        "{decoded}"
    );
    let raw = web.post("/api/decode", json!({"type": null, "input": reply["hex"]}));
    assert!(
        raw["table"].as_str().unwrap().contains("corr-web-1"),
        "{raw}"
    );
    let bad = web.post(
        "/api/decode",
        json!({"type": "cvp.CommandResponseMessage", "input": "ffffff"}),
    );
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("cannot decode it as cvp.CommandResponseMessage"),
        "{bad}"
    );

    // A vehicle nobody simulates: published, and the timeout said.
    let mut nobody = engine_start("15", "corr-nobody");
    nobody["state"]["vehicle_id"] = json!("NOBODY");
    nobody["timeout_ms"] = json!(500);
    let sent = web.post("/api/send", nobody);
    assert_eq!(sent["sent"], true, "{sent}");
    assert_eq!(sent["timeout"], true, "{sent}");
    assert!(sent["reply"].is_null());
    assert_eq!(sent["timeout_ms"], 500);
    let _ = commands.next("the command to NOBODY");

    // An empty vehicle makes no topic: said, and not sent.
    let mut empty = engine_start("15", "corr-empty");
    empty["state"]["vehicle_id"] = json!("");
    let built = web.post("/api/build", empty.clone());
    assert!(
        built["topic_error"]
            .as_str()
            .unwrap()
            .contains("vehicle_id is empty"),
        "{built}"
    );
    assert_eq!(web.post("/api/send", empty)["sent"], false);
    assert!(commands.try_next(Duration::from_secs(1)).is_none());

    // Editing the JSON pane gives the form's state back.
    let parsed = web.post(
        "/api/parse",
        json!({"type": "cvp.CommandMessage", "json": r#"{"subtype": "DOOR_LOCK", "door_lock": {"doors": ["FRONT_LEFT"]}, "vehicle_id": "V9"}"#}),
    );
    assert_eq!(
        parsed["state"],
        json!({"vehicle_id": "V9", "subtype": "DOOR_LOCK", "door_lock": {"doors": ["FRONT_LEFT"]}})
    );
    let bad = web.post(
        "/api/parse",
        json!({"type": "cvp.CommandMessage", "json": "{\"nope\": 1}"}),
    );
    assert!(bad["error"].as_str().unwrap().contains("nope"), "{bad}");

    // The model the form is made from: the link, the defaults, comments.
    let model = web.get("/api/model?type=cvp.CommandMessage");
    assert_eq!(model["link"]["selector"], "subtype");
    assert_eq!(model["link"]["members"]["1"], "engine_start");
    assert_eq!(model["defaults"]["message_id"]["template"], "{uuid}");
    assert_eq!(model["start"]["vehicle_id"], "MH12VF1121");
    let fields = model["messages"]["cvp.CommandMessage"]["fields"]
        .as_array()
        .unwrap();
    let vin = fields.iter().find(|f| f["name"] == "vehicle_id").unwrap();
    assert_eq!(vin["comment"], "VIN, as in the topic");
}

#[test]
fn each_tab_has_its_own_subscriptions_and_bad_payloads_come_as_hex() {
    let broker = Broker::start(BrokerOpts::default());
    let url = broker.url();
    let _sim = simulate(&url, &["MH12VF1121", "SIM0002"]);
    let web = Web::start(&["--listen", "127.0.0.1:0", "--broker", &url]);
    let origin = format!("http://{}", web.addr);
    let mut a = Tab::open(&web, &origin).expect("a tab's WebSocket opens");
    let mut b = Tab::open(&web, &origin).expect("a tab's WebSocket opens");
    a.subscribe(&["/device/MH12VF1121/MQTTPROTOBUF/telemetry"]);
    b.subscribe(&["/device/SIM0002/MQTTPROTOBUF/telemetry"]);
    let raw = RawClient::start(&broker, "/nothing");
    raw.publish(
        "/device/SIM0002/MQTTPROTOBUF/telemetry",
        &[0xff, 0xff, 0xff],
    );
    b.until(READY, "the corrupt payload in tab B", |t| {
        t.seen.iter().any(|m| m["hex"] == "ffffff")
    });
    a.until(READY, "telemetry in tab A", |t| !t.seen.is_empty());
    let bad = b.seen.iter().find(|m| m["hex"] == "ffffff").unwrap();
    assert_eq!(bad["type"], "cvp.VehicleTelemetryMessage");
    assert!(bad["json"].is_null());
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot decode as cvp.VehicleTelemetryMessage"),
        "{bad}"
    );
    b.until(READY, "good telemetry in tab B", |t| {
        t.seen.iter().any(|m| m["error"].is_null())
    });
    let good = b.seen.iter().find(|m| m["error"].is_null()).unwrap();
    let decoded: Value = serde_json::from_str(good["json"].as_str().unwrap()).unwrap();
    assert_eq!(decoded["vehicle_id"], "SIM0002");

    // Tab A unsubscribes: tab B goes on receiving.
    a.subscribe(&[]);
    let before = b.seen.len();
    b.until(READY, "more telemetry in tab B after A left", |t| {
        t.seen.len() > before + 1
    });
    assert_eq!(
        a.topics(),
        ["/device/MH12VF1121/MQTTPROTOBUF/telemetry".to_owned()].into()
    );
    assert_eq!(
        b.topics(),
        ["/device/SIM0002/MQTTPROTOBUF/telemetry".to_owned()].into()
    );
}

#[test]
fn off_loopback_every_request_needs_the_token() {
    let web = Web::start(&["--listen", "0.0.0.0:0", "--no-simulate"]);
    let token = web.token.clone().expect("the printed URL carries a token");
    assert!(token.len() >= 32, "{token}");
    let port = web.addr.rsplit_once(':').unwrap().1;
    let host = vec![("Host".to_owned(), format!("127.0.0.1:{port}"))];
    for path in [
        "/",
        "/app.js",
        "/api/info",
        "/api/model?type=cvp.CommandMessage",
    ] {
        let r = http(&web.addr, "GET", path, &host, None);
        assert_eq!(r.status, 401, "GET {path} without the token: {}", r.body);
        assert!(r.body.contains("token"), "{}", r.body);
    }
    let wrong = [
        host[0].clone(),
        ("Authorization".into(), "Bearer nottheone".into()),
    ];
    assert_eq!(
        http(&web.addr, "GET", "/api/info", &wrong, None).status,
        401
    );
    // The printed link: the page, and a cookie for its files.
    let r = http(&web.addr, "GET", &format!("/?token={token}"), &host, None);
    assert_eq!(r.status, 200);
    let cookie = r
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a cookie with the token");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let with_cookie = [
        host[0].clone(),
        (
            "Cookie".into(),
            cookie.split(';').next().unwrap().to_owned(),
        ),
    ];
    assert_eq!(
        http(&web.addr, "GET", "/app.js", &with_cookie, None).status,
        200
    );
    assert_eq!(web.call("GET", "/api/info", None, &[]).status, 200);
    // The WebSocket: the token and the page's Origin.
    let origin = format!("http://127.0.0.1:{port}");
    assert!(Tab::open(&web, &origin).is_ok());
    assert_eq!(Tab::open_at(&web.addr, None, &origin).err(), Some(401));
    assert_eq!(Tab::open(&web, "http://evil.example").err(), Some(403));
}

#[test]
fn a_loopback_server_answers_loopback_names_and_its_own_page_only() {
    let broker = Broker::start(BrokerOpts {
        credentials: Some(("web-user".into(), "s3cret-pass".into())),
        ..BrokerOpts::default()
    });
    let port = broker.url().rsplit_once(':').unwrap().1.to_owned();
    let with_password = format!("mqtt://web-user:s3cret-pass@127.0.0.1:{port}");
    let web = Web::start(&["--listen", "127.0.0.1:0", "--broker", &with_password]);
    assert!(web.token.is_none(), "loopback needs no token");
    // DNS rebinding: another name for this address is refused.
    let r = web.call("GET", "/api/info", None, &[("Host", "evil.example:80")]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        web.call(
            "GET",
            "/",
            None,
            &[(
                "Host",
                &format!("localhost:{}", web.addr.rsplit_once(':').unwrap().1)
            )]
        )
        .status,
        200
    );
    // Another site's page cannot post.
    let r = web.call(
        "POST",
        "/api/send",
        Some(&engine_start("1", "x")),
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // Only the page's own files.
    assert_eq!(web.call("GET", "/Cargo.toml", None, &[]).status, 404);
    assert_eq!(web.call("GET", "/../Cargo.toml", None, &[]).status, 404);
    // Bodies are bounded.
    let huge = json!({"type": "cvp.CommandMessage", "state": {"vehicle_id": "x".repeat(5 << 20)}});
    assert_eq!(web.call("POST", "/api/build", Some(&huge), &[]).status, 413);
    // A WebSocket without an Origin (not a browser page) is refused.
    let mut s = TcpStream::connect(&web.addr).unwrap();
    write!(
        s,
        "GET /api/live HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        web.addr
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 403");
    // The password reaches no page: not in the info, not in the command
    // lines offered, not on the page's files.
    for text in [
        web.call("GET", "/api/info", None, &[]).body,
        web.call("POST", "/api/build", Some(&engine_start("1", "x")), &[])
            .body,
        web.call("GET", "/", None, &[]).body,
        web.call("GET", "/app.js", None, &[]).body,
    ] {
        assert!(
            !text.contains("s3cret-pass"),
            "the password is on the page: {text}"
        );
    }
    let info = web.get("/api/info");
    assert_eq!(info["broker"]["url"], format!("mqtt://127.0.0.1:{port}"));
    assert!(!web.log().contains("s3cret-pass"));
}

#[test]
fn with_no_broker_given_the_embedded_one_and_a_vehicle_answer() {
    let web = Web::start(&["--listen", "127.0.0.1:0"]);
    let info = web.get("/api/info");
    assert_eq!(info["broker"]["embedded"], true, "{info}");
    assert_eq!(info["broker"]["simulated"], json!(["MH12VF1121"]));
    assert!(
        info["broker"]["note"]
            .as_str()
            .unwrap()
            .contains("simulated vehicle MH12VF1121"),
        "{info}"
    );
    // The simulated vehicle may take a moment to subscribe.
    let deadline = Instant::now() + READY;
    loop {
        let sent = web.post("/api/send", {
            let mut c = engine_start("5", "corr-embedded");
            c["timeout_ms"] = json!(3000);
            c
        });
        assert_eq!(sent["sent"], true, "{sent}");
        if !sent["reply"].is_null() {
            assert!(
                sent["reply"]["table"]
                    .as_str()
                    .unwrap()
                    .contains("corr-embedded")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no reply from the simulated vehicle: {sent}"
        );
    }
}
