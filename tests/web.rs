//! `commander web` (SPEC 12, issue 12) in a real browser: headless Chromium
//! driven through chromedriver (tests/support/webdriver.rs), against
//! `commander web` run as a user runs it, a real broker and `commander
//! simulate` answering as the vehicles.
//!
//! What a user would check, one test per scenario of the issue:
//! 1. ENGINE_START built in the form with a nested message (`schedule`) and
//!    a repeated field inside it (`schedule.days`), sent; the vehicle's reply
//!    shown as a table with its latency; what went on the wire is checked too;
//! 2. a uint32 out of range: the message beside the field, Send disabled,
//!    and nothing published (a raw MQTT subscriber sees only the command
//!    sent once the value is fixed);
//! 3. switching the subtype swaps the payload and the JSON pane follows;
//!    editing the JSON pane updates the form;
//! 4. telemetry of 3 simulated vehicles in the live view, decoded with its
//!    type; a corrupt payload shown as a row with its hex and the error;
//! 5. two tabs with different subscriptions see only their own messages,
//!    and one tab changing its subscription does not stop the other's;
//! 6. off loopback a token is required (401 without it, the page loads and
//!    works with the printed URL, the page's token banner when it goes
//!    stale); a WebSocket from a foreign Origin and a foreign Host header
//!    are refused;
//! 7. the decode pane;
//!
//! and screenshots of the form with a reply, the live view and the decode
//! pane (1280x900) in `target/web-shots/`, also written to `docs/` with
//! `SNAPSHOTS=overwrite`.
//!
//! Without Chromium and chromedriver each test prints why it is skipped and
//! passes (test 6 still makes its HTTP checks, which need no browser); with
//! `COMMANDER_REQUIRE_PEERS=1` (scripts/test) a missing browser, driver or
//! mosquitto fails instead. The broker is mosquitto when it is installed,
//! else the embedded one (tests/support/broker.rs). Each test has its own
//! broker, `commander web` (on a free port) and chromedriver, so the tests
//! run in parallel without sharing anything.
//!
//! The page is driven as a user drives it (typing, clicking, picking in
//! lists); scripts only read what it shows, and the hooks it offers for
//! tests: `body[data-ready]`, `body[data-building]` and
//! `window.commander.lastBuild()` (src/web/API.md).
//!
//! Every wait polls a condition with a generous deadline (a loaded 2-core
//! machine must not fail them); every process started here (chromedriver
//! and its Chromium, `commander web`, `commander simulate`, mosquitto) is
//! stopped by a drop guard, also when a test fails. `COMMANDER_BIN=PATH`
//! runs another build.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::LazyLock;
use std::time::Duration;

use commander::schema::Schema;
use prost::Message as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, SerializeOptions};
use serde_json::{Value, json};
use support::broker::{Broker, BrokerOpts, RawClient};
use support::proc::Proc;
use support::webdriver::{self, Driver, Page, Tools, attr_sel, js_str, png_size};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

/// The window every test browses in (and the screenshots' size).
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
/// How long a child may take to say it is ready.
const READY: Duration = Duration::from_secs(30);
/// How long to wait for messages published once a second.
const STREAM: Duration = Duration::from_secs(40);
/// The vehicle the profile's defaults address, and two more.
const VEHICLES: [&str; 3] = ["MH12VF1121", "SIM0002", "SIM0003"];

// ---------------------------------------------------------------------------
// Peers.

/// Chromium and chromedriver, and mosquitto under COMMANDER_REQUIRE_PEERS=1
/// (a bare `cargo test` uses the embedded broker without it); `None`: skip.
fn peers_or_skip(test: &str) -> Option<Tools> {
    let tools = webdriver::tools_or_skip(test)?;
    if webdriver::peers_required()
        && support::broker::mosquitto().is_none()
        && !std::env::var("COMMANDER_TEST_BROKER").is_ok_and(|v| v == "embedded")
    {
        panic!(
            "{test}: mosquitto is required (COMMANDER_REQUIRE_PEERS=1) but not on PATH; \
             scripts/test installs it"
        );
    }
    Some(tools)
}

fn broker() -> Broker {
    Broker::start(BrokerOpts::default())
}

/// Runs the browser part of a test.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

// ---------------------------------------------------------------------------
// commander children.

/// A running `commander web`.
struct Web {
    proc: Proc,
    /// The URL it printed (with `?token=` when it has one).
    url: String,
    port: u16,
    token: Option<String>,
}

impl Web {
    /// `commander web ARGS` (give `--listen`); waits for its URL line.
    #[track_caller]
    fn start(args: &[&str]) -> Web {
        let mut all = vec!["web"];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn(&all);
        proc.expect(READY, "the line 'commander web on http://...'", |p| {
            printed_url(&p.stderr()).is_some()
        });
        let url = printed_url(&proc.stderr()).unwrap();
        let port = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("not a loopback URL with a port: {url}"));
        assert_ne!(port, 0, "{url}");
        let token = url.split_once("?token=").map(|(_, t)| t.to_owned());
        Web {
            proc,
            url,
            port,
            token,
        }
    }

    /// `commander web --listen 127.0.0.1:0 --broker URL --timeout 20s`.
    #[track_caller]
    fn loopback(broker: &Broker) -> Web {
        Web::start(&[
            "--listen",
            "127.0.0.1:0",
            "--broker",
            &broker.url(),
            "--timeout",
            "20s",
        ])
    }
}

/// The URL in "commander web on http://127.0.0.1:PORT/ (loopback only)".
fn printed_url(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        let at = l.find("commander web on http://")?;
        let rest = &l[at + "commander web on ".len()..];
        Some(rest.split_whitespace().next()?.to_owned())
    })
}

/// `commander simulate --broker URL --vehicle ... MORE`, subscribed.
#[track_caller]
fn simulate(broker: &Broker, more: &[&str]) -> Proc {
    let url = broker.url();
    let mut args = vec!["simulate", "--broker", url.as_str()];
    for v in VEHICLES {
        args.extend(["--vehicle", v]);
    }
    args.extend_from_slice(more);
    let mut proc = Proc::spawn(&args);
    // Said once its subscription is confirmed (SUBACK).
    proc.expect(READY, "the line 'simulating ...'", |p| {
        p.stderr().lines().any(|l| l.starts_with("simulating "))
    });
    proc
}

/// Every message `client` gets within `quiet` of the one before: waits
/// up to a minute for the first.
#[track_caller]
fn received(client: &RawClient, what: &str, quiet: Duration) -> Vec<(String, Vec<u8>)> {
    let mut all = vec![client.next(what)];
    while let Some(m) = client.try_next(quiet) {
        all.push(m);
    }
    all
}

/// `bytes` decoded as `ty`, as JSON with the fields' proto names.
#[track_caller]
fn decoded(ty: &str, bytes: &[u8]) -> Value {
    let msg = DynamicMessage::decode(SCHEMA.message(ty).unwrap(), bytes)
        .unwrap_or_else(|e| panic!("not a {ty}: {e}"));
    let opts = SerializeOptions::new().use_proto_field_name(true);
    let mut out = serde_json::Serializer::new(Vec::new());
    msg.serialize_with_options(&mut out, &opts).unwrap();
    serde_json::from_slice(&out.into_inner()).unwrap()
}

// ---------------------------------------------------------------------------
// The page.

/// A browser on `url`, loaded (`body[data-ready="1"]`).
async fn open(driver: &Driver, url: &str, name: &str) -> Page {
    let page = Page::new(driver.session(WIDTH, HEIGHT).await, name);
    page.client
        .goto(url)
        .await
        .unwrap_or_else(|e| panic!("{name}: cannot load {url}: {e}"));
    wait_ready(&page).await;
    page
}

async fn wait_ready(page: &Page) {
    page.wait(
        "the page loaded (body[data-ready=\"1\"])",
        "return document.body && document.body.dataset.ready === '1';",
    )
    .await;
}

/// The selector of the control whose `data-path` is `path`.
fn at(path: &str) -> String {
    attr_sel("data-path", path)
}

/// The element showing the errors of `path`.
fn error_for(path: &str) -> String {
    attr_sel("data-error-for", path)
}

/// Picks the subtype `name` the way a user does: types part of it into the
/// selector's filter, then picks it in the list.
async fn choose_subtype(page: &Page, name: &str) {
    // The list ignores case and underscores.
    let words = name.to_lowercase();
    page.type_into("#selector-filter", &words).await;
    page.wait(
        &format!("{name} still listed after filtering by {words:?}"),
        &format!(
            "const o = [...document.querySelectorAll('#selector option')].find(o => o.value === {});
             return !!o && !o.hidden;",
            js_str(name)
        ),
    )
    .await;
    page.select("#selector", name).await;
}

/// The last /api/build answer once no build is pending and `cond` (a JS
/// expression over `b`, the answer) holds.
async fn built(page: &Page, what: &str, cond: &str) -> Value {
    page.wait(
        what,
        &format!(
            "const b = window.commander.lastBuild();
             if (document.body.dataset.building !== '0' || !b) return null;
             return ({cond}) ? b : null;"
        ),
    )
    .await
}

/// Sets the nested message at `path` (its set/unset box in the summary).
async fn set_message(page: &Page, path: &str) {
    let checkbox = format!("details{} > summary input.msg-set", at(path));
    page.click(&checkbox).await;
    page.wait(
        &format!("{path} set and open"),
        &format!(
            "const d = document.querySelector('details' + {});
             return !!d && d.open && d.querySelector('summary input.msg-set').checked;",
            js_str(&at(path))
        ),
    )
    .await;
}

/// Adds a row to the list at `path` and picks `value` in it.
async fn add_row(page: &Page, path: &str, index: usize, value: &str) {
    page.click(&format!("{} button.add", at(path))).await;
    let row = format!("{path}[{index}]");
    page.select(&at(&row), value).await;
}

/// Saves a screenshot of the window as `name.png` (target/web-shots/, and
/// docs/ with SNAPSHOTS=overwrite); it must be a WIDTHxHEIGHT image.
async fn shot(page: &Page, name: &str) {
    let png = page
        .client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("{}: screenshot failed: {e}", page.name));
    assert_eq!(
        png_size(&png),
        Some((WIDTH, HEIGHT)),
        "{name}: a {WIDTH}x{HEIGHT} PNG of the window ({} bytes)",
        png.len()
    );
    webdriver::save_screenshot(&png, name, true);
}

/// Clicks the tab `name` (build, live, decode) and waits until it shows.
async fn show_tab(page: &Page, name: &str) {
    page.click(&format!("#tab-{name}")).await;
    page.wait(
        &format!("the {name} view shown"),
        &format!("return !document.getElementById({}).hidden;", js_str(name)),
    )
    .await;
}

/// The rows of the live table: `{type, topic, seq, error, text}`.
async fn live_rows(page: &Page) -> Vec<Value> {
    let v = page
        .js(
            "return [...document.querySelectorAll('#live-table tbody tr')]
               .filter(tr => !tr.classList.contains('detail'))
               .map(tr => ({type: tr.dataset.type, topic: tr.dataset.topic, seq: Number(tr.dataset.seq),
                            error: tr.classList.contains('error'), text: tr.textContent}));",
            vec![],
        )
        .await;
    v.as_array().cloned().unwrap_or_default()
}

fn telemetry_topic(vehicle: &str) -> String {
    format!("/device/{vehicle}/MQTTPROTOBUF/telemetry")
}

/// Subscribes the live view of `page` to one vehicle (the first `+` of each
/// of the profile's filters), lets what the previous subscription had on
/// its way arrive, then clears the table: from then on every row is of the
/// new subscription.
async fn live_subscribe_to(page: &Page, vehicle: &str) {
    page.type_into("#live-vehicle", vehicle).await;
    page.click("#live-subscribe").await;
    page.wait(
        &format!("the live view's subscription to {vehicle} confirmed"),
        "return /subscribed to \\d+ filter/.test(document.getElementById('live-status').textContent);",
    )
    .await;
    // The server replaces the tab's MQTT client; a message the old one had
    // already passed on may still be in the socket's queue for a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Empties the tab's store at once; the table is redrawn from it.
    page.click("#live-clear").await;
}

// ---------------------------------------------------------------------------
// 1. Build ENGINE_START with a nested and a repeated field, send, see the reply.

#[test]
fn form_builds_engine_start_with_nested_and_repeated_fields_and_shows_the_reply() {
    let name = "form-send";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let _sim = simulate(&broker, &["--no-publish"]);
    let commands = RawClient::start(&broker, "/device/+/MQTTPROTOBUF/command");
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);
    let corr = format!("web-test-{}-{}", std::process::id(), unique());

    block_on(async {
        let page = open(&driver, &web.url, name).await;
        assert_eq!(
            page.js("return document.getElementById('type').value;", vec![])
                .await,
            "cvp.CommandMessage",
            "the form starts on the profile's command type"
        );
        // The vehicle first: the profile's default, the topic shown.
        page.wait(
            "the topic for the default vehicle",
            "return document.getElementById('topic').textContent === '/device/MH12VF1121/MQTTPROTOBUF/command';",
        )
        .await;

        choose_subtype(&page, "ENGINE_START").await;
        page.type_into(&at("correlation_id"), &corr).await;
        page.type_into(&at("engine_start.run_minutes"), "15").await;
        // EngineStart's nested message `schedule` (cvp.Schedule), and the
        // repeated enum `days` inside it: the issue's "nested and repeated".
        set_message(&page, "engine_start.schedule").await;
        page.type_into(&at("engine_start.schedule.repeat_every"), "86400s")
            .await;
        add_row(&page, "engine_start.schedule.days", 0, "MONDAY").await;
        add_row(&page, "engine_start.schedule.days", 1, "FRIDAY").await;

        let b = built(
            &page,
            "a build without errors with the schedule's two days",
            &format!(
                "b.ok && b.json.includes({}) && b.json.includes('FRIDAY') && b.json.includes('MONDAY') && b.json.includes('86400s')",
                js_str(&corr)
            ),
        )
        .await;
        // The JSON pane, hex, size and command line follow the form.
        let json_pane = page.text("#json").await;
        let shown: Value = serde_json::from_str(&json_pane)
            .unwrap_or_else(|e| panic!("the JSON pane is not JSON ({e}):\n{json_pane}"));
        let es = &shown["engine_start"];
        assert_eq!(es["run_minutes"], 15, "JSON pane: {json_pane}");
        assert_eq!(
            es["schedule"]["days"],
            json!(["MONDAY", "FRIDAY"]),
            "JSON pane: {json_pane}"
        );
        assert_eq!(
            es["schedule"]["repeat_every"], "86400s",
            "JSON pane: {json_pane}"
        );
        let hex = page.text("#hex").await;
        assert_eq!(
            hex.trim(),
            b["hex"].as_str().unwrap(),
            "#hex shows the build"
        );
        let bytes = hex::decode(hex.trim()).expect("#hex is hex");
        assert!(
            page.text("#size")
                .await
                .contains(&format!("{} bytes", bytes.len())),
            "#size says {} bytes: {:?}",
            bytes.len(),
            page.text("#size").await
        );
        let cli = page.text("#cli-send").await;
        assert!(
            cli.starts_with("commander send") && cli.contains(&corr),
            "#cli-send: {cli}"
        );

        // Send: the reply as a table, with its latency.
        page.wait(
            "Send enabled",
            "return !document.getElementById('send').disabled;",
        )
        .await;
        page.click("#send").await;
        let table = page
            .wait(
                "the reply table with ENGINE_START and the correlation id",
                &format!(
                    "const t = document.getElementById('reply-table').textContent;
                     return t.includes('ENGINE_START') && t.includes({}) ? t : null;",
                    js_str(&corr)
                ),
            )
            .await;
        let table = table.as_str().unwrap();
        assert!(
            table.contains("SUCCESS") && table.contains('┌'),
            "the reply is a table of the vehicle's answer (return_code SUCCESS):\n{table}"
        );
        let status = page.text("#reply-status").await;
        let latency = status
            .split("reply in ")
            .nth(1)
            .and_then(|r| r.split(" ms").next())
            .and_then(|n| n.trim().parse::<f64>().ok());
        assert!(
            latency.is_some_and(|ms| (0.0..20_000.0).contains(&ms)),
            "#reply-status gives the latency ('reply in N ms'): {status:?}"
        );
        page.wait(
            "the history entry of the command sent",
            "const li = document.querySelector('#history li.h-reply'); return !!li && li.textContent.includes('ENGINE_START');",
        )
        .await;

        shot(&page, "web-form").await;
        let _ = page.client.close().await;
    });

    // What went on the wire is what the form showed: one command, with the
    // nested schedule and its repeated days.
    let sent = received(&commands, "the command", Duration::from_secs(1));
    assert_eq!(sent.len(), 1, "one command published: {sent:?}");
    assert_eq!(sent[0].0, "/device/MH12VF1121/MQTTPROTOBUF/command");
    let cmd = decoded("cvp.CommandMessage", &sent[0].1);
    assert_eq!(cmd["correlation_id"], corr.as_str(), "{cmd:#}");
    assert_eq!(cmd["subtype"], "ENGINE_START", "{cmd:#}");
    assert_eq!(cmd["engine_start"]["run_minutes"], 15, "{cmd:#}");
    assert_eq!(
        cmd["engine_start"]["schedule"]["days"],
        json!(["MONDAY", "FRIDAY"]),
        "{cmd:#}"
    );
    assert_eq!(
        cmd["engine_start"]["schedule"]["repeat_every"], "86400s",
        "{cmd:#}"
    );
}

/// A number that differs between calls in this process.
fn unique() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    t * 100 + N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100
}

// ---------------------------------------------------------------------------
// 2. A bad value: its message beside the field, nothing sent.

#[test]
fn out_of_range_value_is_shown_beside_the_field_and_nothing_is_sent() {
    let name = "bad-value";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let _sim = simulate(&broker, &["--no-publish"]);
    let commands = RawClient::start(&broker, "/device/+/MQTTPROTOBUF/command");
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);
    let path = "engine_start.run_minutes";

    block_on(async {
        let page = open(&driver, &web.url, name).await;
        choose_subtype(&page, "ENGINE_START").await;
        page.type_into(&at(path), "70000000000").await;
        let b = built(
            &page,
            "a build with the error of run_minutes",
            &format!("(b.errors || []).some(e => e.path === {})", js_str(path)),
        )
        .await;
        assert_eq!(b["ok"], false, "{b:#}");
        let beside = page
            .wait(
                "the message beside run_minutes",
                &format!(
                    "const e = document.querySelector({}); return e && !e.hidden ? e.textContent : null;",
                    js_str(&error_for(path))
                ),
            )
            .await;
        let beside = beside.as_str().unwrap();
        assert!(
            beside.contains("out of range for uint32") && beside.contains(path),
            "the error beside the field names its path and says why: {beside:?}"
        );
        // Beside: visible, in the same field row as the input.
        let err_el = page.find(&error_for(path)).await;
        assert!(err_el.is_displayed().await.unwrap(), "the error is visible");
        let same_row = page
            .js(
                "const i = document.querySelector(arguments[0]); const e = document.querySelector(arguments[1]);
                 return !!i && !!e && i.closest('.field') === e.closest('.field');",
                vec![json!(at(path)), json!(error_for(path))],
            )
            .await;
        assert_eq!(same_row, true, "the error is in the field's own row");
        assert_eq!(
            page.js(
                "return document.querySelector(arguments[0]).getAttribute('aria-invalid');",
                vec![json!(at(path))]
            )
            .await,
            "true",
            "the input is marked invalid"
        );
        assert!(
            page.text("#errors")
                .await
                .contains("out of range for uint32"),
            "the error list says it too: {:?}",
            page.text("#errors").await
        );
        // Nothing can be sent: the button is disabled and says why; a
        // click does nothing.
        let send = page.find("#send").await;
        assert!(
            !send.is_enabled().await.unwrap(),
            "#send is disabled while a field is bad"
        );
        assert!(
            page.text("#send-to").await.contains("error"),
            "beside Send, why not: {:?}",
            page.text("#send-to").await
        );
        let _ = send.click().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            page.text("#reply-status").await,
            "",
            "a click on the disabled Send does nothing"
        );

        // Fixed, it goes: the one command the raw subscriber sees is this
        // one (the check above could have seen one).
        page.type_into(&at(path), "15").await;
        built(&page, "a build without errors", "b.ok").await;
        page.wait(
            "Send enabled once the value is fixed",
            "return !document.getElementById('send').disabled;",
        )
        .await;
        page.click("#send").await;
        page.wait(
            "the reply to the fixed command",
            "return document.getElementById('reply-table').textContent.includes('ENGINE_START');",
        )
        .await;
        let _ = page.client.close().await;
    });

    // Anything sent before the fix would have come first, or within a
    // second of the fixed one.
    let sent = received(&commands, "the fixed command", Duration::from_secs(1));
    let runs: Vec<Value> = sent
        .iter()
        .map(|(_, p)| decoded("cvp.CommandMessage", p)["engine_start"]["run_minutes"].clone())
        .collect();
    assert_eq!(
        runs,
        [json!(15)],
        "only the fixed command was published (run_minutes of each command seen)"
    );
}

// ---------------------------------------------------------------------------
// 3. Switching the subtype swaps the payload; the JSON pane both ways.

#[test]
fn switching_subtype_swaps_payload_and_json_pane_edits_update_the_form() {
    let name = "subtype-json";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);

    block_on(async {
        let page = open(&driver, &web.url, name).await;
        choose_subtype(&page, "ENGINE_START").await;
        page.find(&at("engine_start.run_minutes")).await;
        page.type_into(&at("engine_start.run_minutes"), "7").await;
        built(
            &page,
            "the JSON of ENGINE_START",
            "b.json.includes('\"engine_start\"') && b.json.includes('\"ENGINE_START\"')",
        )
        .await;

        choose_subtype(&page, "DOOR_LOCK").await;
        page.wait(
            "the DOOR_LOCK payload in place of ENGINE_START's",
            &format!(
                "return !!document.querySelector({}) && !document.querySelector('[data-path^=\"engine_start\"]');",
                js_str(&at("door_lock.doors"))
            ),
        )
        .await;
        built(
            &page,
            "the JSON of DOOR_LOCK",
            "b.json.includes('\"DOOR_LOCK\"') && b.json.includes('\"door_lock\"') && !b.json.includes('engine_start')",
        )
        .await;
        let pane = page.text("#json").await;
        assert!(
            pane.contains("\"door_lock\"")
                && pane.contains("\"DOOR_LOCK\"")
                && !pane.contains("engine_start"),
            "the JSON pane follows the subtype:\n{pane}"
        );

        // Edit the JSON pane: a new correlation id, two doors and the alarm.
        let mut v: Value = serde_json::from_str(&pane)
            .unwrap_or_else(|e| panic!("the JSON pane is not JSON ({e}):\n{pane}"));
        v["correlation_id"] = json!("edited-in-the-json-pane");
        v["door_lock"] = json!({"doors": ["FRONT_LEFT", "TAILGATE"], "arm_alarm": true});
        let text = serde_json::to_string(&v).unwrap();
        page.type_into("#json", &text).await;
        // Leaving the pane parses it at once (typing parses after a pause).
        page.click("#hex").await;
        page.wait(
            "the form shows the values typed in the JSON pane",
            "const v = (p) => { const e = document.querySelector('[data-path=\"' + p + '\"]'); return e ? e.value : null; };
             return v('correlation_id') === 'edited-in-the-json-pane'
                 && v('door_lock.doors[0]') === 'FRONT_LEFT' && v('door_lock.doors[1]') === 'TAILGATE'
                 && v('door_lock.arm_alarm') === 'true';",
        )
        .await;
        assert_eq!(
            page.text("#json-error").await,
            "",
            "no error for valid JSON"
        );
        let b = built(
            &page,
            "the build of the edited message",
            "b.ok && b.json.includes('TAILGATE') && b.json.includes('edited-in-the-json-pane')",
        )
        .await;
        let msg = decoded(
            "cvp.CommandMessage",
            &hex::decode(b["hex"].as_str().unwrap()).unwrap(),
        );
        assert_eq!(
            msg["door_lock"]["doors"],
            json!(["FRONT_LEFT", "TAILGATE"]),
            "{msg:#}"
        );
        assert_eq!(msg["door_lock"]["arm_alarm"], true, "{msg:#}");

        // Bad JSON: said under the pane, the form keeps its values.
        page.type_into("#json", "{\"door_lock\": ").await;
        page.click("#hex").await;
        page.wait(
            "the JSON pane's error",
            "const e = document.getElementById('json-error'); return !e.hidden && e.textContent.length > 0;",
        )
        .await;
        assert_eq!(
            page.js(
                "return document.querySelector(arguments[0]).value;",
                vec![json!(at("correlation_id"))]
            )
            .await,
            "edited-in-the-json-pane",
            "bad JSON leaves the form as it was"
        );
        let _ = page.client.close().await;
    });
}

// ---------------------------------------------------------------------------
// 4. The live view: 3 vehicles' telemetry decoded, a corrupt payload.

#[test]
fn live_view_decodes_telemetry_of_three_vehicles_and_shows_corrupt_payloads() {
    let name = "live";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let _sim = simulate(&broker, &[]);
    // Publishes the garbage (subscribed to a topic nobody uses).
    let publisher = RawClient::start(&broker, "/commander-web-test/unused");
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);

    block_on(async {
        let mut page = open(&driver, &web.url, name).await;
        show_tab(&page, "live").await;
        // The profile's [mqtt.types] filters are offered, all on.
        let filters = page
            .js(
                "return [...document.querySelectorAll('#live-filters .lf-row')].map(r => [r.querySelector('.live-filter').value, r.querySelector('.live-filter-on').checked]);",
                vec![],
            )
            .await;
        assert!(
            filters
                .as_array()
                .unwrap()
                .contains(&json!(["/device/+/MQTTPROTOBUF/telemetry", true])),
            "the telemetry filter is offered and on: {filters}"
        );
        // Showing the tab subscribes with them.
        page.wait(
            "the live view subscribed",
            "return /subscribed to 3 filters/.test(document.getElementById('live-status').textContent);",
        )
        .await;
        page.patience = STREAM;
        let conds: Vec<String> = VEHICLES
            .iter()
            .map(|v| {
                format!(
                    "rows.some(r => r.dataset.topic === {} && r.dataset.type === 'cvp.VehicleTelemetryMessage' && !r.classList.contains('error'))",
                    js_str(&telemetry_topic(v))
                )
            })
            .collect();
        page.wait(
            "decoded telemetry rows of the 3 vehicles",
            &format!(
                "const rows = [...document.querySelectorAll('#live-table tbody tr')]; return {};",
                conds.join(" && ")
            ),
        )
        .await;
        for row in live_rows(&page).await {
            let topic = row["topic"].as_str().unwrap();
            if topic.ends_with("/telemetry") {
                assert_eq!(row["type"], "cvp.VehicleTelemetryMessage", "{row}");
                assert_eq!(row["error"], false, "{row}");
                let text = row["text"].as_str().unwrap();
                assert!(
                    text.contains("VehicleTelemetryMessage")
                        && text.contains("ignition")
                        && text.contains("ON"),
                    "a telemetry row shows its type and decoded fields: {text}"
                );
            }
        }

        // Garbage on a telemetry topic: a row with the hex and the error.
        let corrupt = telemetry_topic("SIM0002");
        publisher.publish(&corrupt, &[0xff, 0xff, 0xff]);
        let row = page
            .wait(
                "the corrupt payload's row",
                &format!(
                    "const r = [...document.querySelectorAll('#live-table tbody tr.error')].find(r => r.dataset.topic === {});
                     return r ? {{type: r.dataset.type, text: r.textContent}} : null;",
                    js_str(&corrupt)
                ),
            )
            .await;
        let text = row["text"].as_str().unwrap();
        assert!(
            text.contains("ffffff"),
            "the corrupt payload's row shows its hex (ff ff ff): {text}"
        );
        assert!(
            text.contains("cannot decode as cvp.VehicleTelemetryMessage"),
            "the corrupt payload's row shows the decoding error: {text}"
        );
        assert_eq!(row["type"], "cvp.VehicleTelemetryMessage", "{row}");
        // The good rows keep coming after it.
        let count = |s: &str| -> u64 { s.parse().unwrap_or(0) };
        let before = count(
            page.js(
                "return document.getElementById('live-count').dataset.received;",
                vec![],
            )
            .await
            .as_str()
            .unwrap_or("0"),
        );
        page.wait(
            "more telemetry after the corrupt payload",
            &format!(
                "return Number(document.getElementById('live-count').dataset.received) > {before};"
            ),
        )
        .await;

        // A fuller table for the picture.
        page.wait(
            "a dozen rows",
            "return document.querySelectorAll('#live-table tbody tr').length >= 12;",
        )
        .await;
        shot(&page, "web-live").await;
        let _ = page.client.close().await;
    });
}

// ---------------------------------------------------------------------------
// 5. Two tabs, two subscriptions.

#[test]
fn two_tabs_with_different_subscriptions_do_not_see_each_others_messages() {
    let name = "two-tabs";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let _sim = simulate(&broker, &[]);
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);

    block_on(async {
        // Two tabs of one browser: each page has its own WebSocket.
        let mut a = open(&driver, &web.url, "tab-a").await;
        let first = a.client.window().await.unwrap();
        let tab = a.client.new_window(true).await.unwrap();
        a.client.switch_to_window(tab.handle.clone()).await.unwrap();
        a.client.goto(&web.url).await.unwrap();
        wait_ready(&a).await;
        let second = a.client.window().await.unwrap();
        a.client.switch_to_window(first.clone()).await.unwrap();
        a.patience = STREAM;

        // Tab A: MH12VF1121; tab B: SIM0003.
        let wants = [(first.clone(), "MH12VF1121"), (second.clone(), "SIM0003")];
        for (w, vehicle) in &wants {
            a.client.switch_to_window(w.clone()).await.unwrap();
            show_tab(&a, "live").await;
            live_subscribe_to(&a, vehicle).await;
        }
        // Each sees several seconds of its own vehicle's messages and
        // nothing of the other's.
        for (w, vehicle) in &wants {
            a.client.switch_to_window(w.clone()).await.unwrap();
            a.wait(
                &format!("4 telemetry rows of {vehicle}"),
                &format!(
                    "return [...document.querySelectorAll('#live-table tbody tr')].filter(r => r.dataset.topic === {}).length >= 4;",
                    js_str(&telemetry_topic(vehicle))
                ),
            )
            .await;
        }
        for (w, vehicle) in &wants {
            a.client.switch_to_window(w.clone()).await.unwrap();
            let rows = live_rows(&a).await;
            let foreign: Vec<&Value> = rows
                .iter()
                .filter(|r| {
                    !r["topic"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("/device/{vehicle}/"))
                })
                .collect();
            assert!(
                foreign.is_empty(),
                "the tab subscribed to {vehicle} got another's messages: {foreign:#?}"
            );
        }

        // Tab B changes its subscription (to SIM0002): tab A keeps getting
        // its own, and still nothing else.
        a.client.switch_to_window(second.clone()).await.unwrap();
        live_subscribe_to(&a, "SIM0002").await;
        a.client.switch_to_window(first.clone()).await.unwrap();
        let received = |v: Value| -> u64 { v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0) };
        let before = received(
            a.js(
                "return document.getElementById('live-count').dataset.received;",
                vec![],
            )
            .await,
        );
        a.wait(
            "tab A still receiving after tab B changed its subscription",
            &format!(
                "return Number(document.getElementById('live-count').dataset.received) >= {} && !document.hidden;",
                before + 2
            ),
        )
        .await;
        a.client.switch_to_window(second.clone()).await.unwrap();
        a.wait(
            "2 telemetry rows of SIM0002 in tab B",
            &format!(
                "return [...document.querySelectorAll('#live-table tbody tr')].filter(r => r.dataset.topic === {}).length >= 2;",
                js_str(&telemetry_topic("SIM0002"))
            ),
        )
        .await;
        for (w, vehicle) in [(first.clone(), "MH12VF1121"), (second.clone(), "SIM0002")] {
            a.client.switch_to_window(w).await.unwrap();
            let rows = live_rows(&a).await;
            let foreign: Vec<&Value> = rows
                .iter()
                .filter(|r| {
                    !r["topic"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("/device/{vehicle}/"))
                })
                .collect();
            assert!(
                foreign.is_empty(),
                "after the change, the tab subscribed to {vehicle} got another's messages: {foreign:#?}"
            );
        }
        let _ = a.client.close().await;
    });
}

// ---------------------------------------------------------------------------
// 6. The token off loopback; Origin and Host.

/// Sends `request` (a whole HTTP/1.1 request head) to 127.0.0.1:`port`;
/// returns the status code and the response head (and the body when the
/// server closes).
fn http(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to commander web");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if complete(&got) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    (code, text)
}

/// A whole answer: a WebSocket upgrade's head (the connection stays open),
/// or a head and as much body as its Content-Length says (a refused upgrade
/// keeps the connection open too).
fn complete(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    if text.starts_with("HTTP/1.1 101") {
        return true;
    }
    let length = text[..end].lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|n| got.len() >= end + 4 + n)
}

fn get(port: u16, path: &str, host: &str, extra: &str) -> (u16, String) {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"),
    )
}

fn ws_upgrade(port: u16, path: &str, origin: Option<&str>) -> (u16, String) {
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    http(
        port,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
        ),
    )
}

#[test]
fn token_is_required_off_loopback_and_foreign_origins_and_hosts_are_refused() {
    let name = "token";
    // The HTTP checks need no browser: they run everywhere.
    let broker = broker();
    let port = support::broker::free_port();
    let listen = format!("0.0.0.0:{port}");
    let mut web = Web::start(&["--listen", &listen, "--broker", &broker.url()]);
    assert_eq!(web.port, port, "{}", web.url);
    let token = web
        .token
        .clone()
        .unwrap_or_else(|| panic!("off loopback the printed URL carries a token: {}", web.url));
    assert!(token.len() >= 16, "a long random token: {token}");
    let host = format!("127.0.0.1:{port}");

    // Without the token: 401 for the page and the API; with it: 200.
    for path in [
        "/",
        "/api/info",
        "/app.js",
        &format!("/api/info?token=not-{token}"),
    ] {
        let (code, text) = get(port, path, &host, "");
        assert_eq!(code, 401, "GET {path} without the token:\n{text}");
        assert!(
            !text.contains("cvp.CommandMessage"),
            "nothing leaks: {text}"
        );
    }
    let (code, text) = get(
        port,
        "/api/info",
        &host,
        &format!("Authorization: Bearer {token}\r\n"),
    );
    assert_eq!(code, 200, "GET /api/info with the token:\n{text}");
    assert!(text.contains("cvp.CommandMessage"), "{text}");
    let (code, text) = get(port, &format!("/?token={token}"), &host, "");
    assert_eq!(code, 200, "GET /?token=...:\n{text}");
    // A WebSocket needs the token and the page's Origin.
    let live = format!("/api/live?token={token}");
    let page_origin = format!("http://127.0.0.1:{port}");
    let (code, text) = ws_upgrade(port, &live, Some(&page_origin));
    assert_eq!(
        code, 101,
        "a WebSocket from the page's origin, with the token:\n{text}"
    );
    let (code, text) = ws_upgrade(port, &live, Some("http://evil.example"));
    assert_eq!(code, 403, "a WebSocket from a foreign Origin:\n{text}");
    let (code, text) = ws_upgrade(port, &live, None);
    assert_eq!(code, 403, "a WebSocket without an Origin:\n{text}");
    let (code, text) = ws_upgrade(port, "/api/live", Some(&page_origin));
    assert_eq!(code, 401, "a WebSocket without the token:\n{text}");

    // A loopback server (no token) answers only to loopback Host names.
    let lo = Web::loopback(&broker);
    assert!(lo.token.is_none(), "no token on loopback: {}", lo.url);
    for h in [
        format!("127.0.0.1:{}", lo.port),
        format!("localhost:{}", lo.port),
    ] {
        let (code, text) = get(lo.port, "/api/info", &h, "");
        assert_eq!(code, 200, "Host {h}:\n{text}");
    }
    for h in [
        format!("evil.example:{}", lo.port),
        "evil.example".to_owned(),
    ] {
        let (code, text) = get(lo.port, "/api/info", &h, "");
        assert_eq!(code, 403, "Host {h} (DNS rebinding) is refused:\n{text}");
    }
    let (code, text) = ws_upgrade(lo.port, "/api/live", Some("http://evil.example"));
    assert_eq!(
        code, 403,
        "loopback: a WebSocket from a foreign Origin:\n{text}"
    );
    drop(lo);

    // The browser's part.
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let driver = Driver::start(&tools);
    block_on(async {
        let page = Page::new(driver.session(WIDTH, HEIGHT).await, name);
        // The bare address: refused, and the browser says why.
        let bare = format!("http://127.0.0.1:{port}/");
        page.client.goto(&bare).await.unwrap();
        page.wait(
            "the refusal shown in the browser",
            "return document.body && document.body.innerText.includes('a token is needed');",
        )
        .await;
        assert_ne!(
            page.js("return document.body.dataset.ready || '';", vec![])
                .await,
            "1",
            "the page does not run without the token"
        );

        // The printed URL: the page loads and works.
        page.client.goto(&web.url).await.unwrap();
        wait_ready(&page).await;
        let here = page.client.current_url().await.unwrap();
        assert!(
            here.query().is_none_or(|q| !q.contains("token")),
            "the page takes the token out of the address bar: {here}"
        );
        assert!(
            page.js("return [...document.getElementById('type').options].some(o => o.value === 'cvp.CommandMessage');", vec![]).await == true,
            "the page got the schema's types"
        );
        choose_subtype(&page, "ENGINE_STOP").await;
        built(
            &page,
            "a build of ENGINE_STOP",
            "b.ok && b.json.includes('ENGINE_STOP')",
        )
        .await;
        show_tab(&page, "live").await;
        page.wait(
            "the live view subscribed over the WebSocket (token on its URL)",
            "return /subscribed to \\d+ filter/.test(document.getElementById('live-status').textContent);",
        )
        .await;
        assert_eq!(
            page.js(
                "return document.getElementById('auth-banner').hidden;",
                vec![]
            )
            .await,
            true,
            "no token banner while the token is right"
        );
        show_tab(&page, "build").await;

        // The server restarts with another token: the open page's next
        // request is refused and it shows its token banner.
        web.proc.end_now();
        let restarted = Web::start(&[
            "--listen",
            &listen,
            "--broker",
            &broker.url(),
            "--token",
            "another-token-0123456789",
        ]);
        assert_eq!(restarted.port, port);
        page.type_into(&at("correlation_id"), "after-the-restart")
            .await;
        page.wait(
            "the token banner",
            "const b = document.getElementById('auth-banner'); return !b.hidden && b.textContent.includes('token');",
        )
        .await;
        let _ = page.client.close().await;
        drop(restarted);
    });
}

// ---------------------------------------------------------------------------
// 7. The decode pane.

#[test]
fn decode_pane_shows_table_and_json_of_pasted_bytes() {
    let name = "decode";
    let Some(tools) = peers_or_skip(name) else {
        return;
    };
    let broker = broker();
    let web = Web::loopback(&broker);
    let driver = Driver::start(&tools);
    let msg = DynamicMessage::deserialize_with_options(
        SCHEMA.message("cvp.CommandMessage").unwrap(),
        &mut serde_json::Deserializer::from_str(
            r#"{"message_id":"m-1","correlation_id":"decode-me","vehicle_id":"SIM0002","subtype":"DOOR_LOCK","door_lock":{"doors":["REAR_LEFT"],"arm_alarm":true}}"#,
        ),
        &DeserializeOptions::new(),
    )
    .unwrap();
    let hex = hex::encode(msg.encode_to_vec());

    block_on(async {
        let page = open(&driver, &web.url, name).await;
        show_tab(&page, "decode").await;
        page.type_into("#decode-input", &hex).await;
        page.select("#decode-type", "cvp.CommandMessage").await;
        page.click("#decode-run").await;
        let table = page
            .wait(
                "the decoded table",
                "const t = document.getElementById('decode-table').textContent; return t.includes('decode-me') ? t : null;",
            )
            .await;
        let table = table.as_str().unwrap();
        for want in ["DOOR_LOCK", "REAR_LEFT", "SIM0002", "arm_alarm"] {
            assert!(table.contains(want), "the table shows {want}:\n{table}");
        }
        let json_text = page.text("#decode-json").await;
        let v: Value = serde_json::from_str(&json_text)
            .unwrap_or_else(|e| panic!("#decode-json is not JSON ({e}):\n{json_text}"));
        assert_eq!(v["door_lock"]["doors"], json!(["REAR_LEFT"]), "{v:#}");
        assert!(
            page.text("#decode-size")
                .await
                .contains(&format!("{} bytes", hex.len() / 2)),
            "{:?}",
            page.text("#decode-size").await
        );
        shot(&page, "web-decode").await;

        // Not hex nor base64: the error is said.
        page.type_into("#decode-input", "zz not bytes").await;
        page.click("#decode-run").await;
        page.wait(
            "the decode error",
            "const e = document.getElementById('decode-error'); return !e.hidden && e.textContent.length > 0;",
        )
        .await;
        let _ = page.client.close().await;
    });
}
