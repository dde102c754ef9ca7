//! A real browser for the tests: headless Chromium driven through
//! chromedriver's WebDriver protocol (the `fantoccini` crate, over plain HTTP
//! on loopback: no TLS stack).
//!
//! Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`), installed by `scripts/test`. Without them a test
//! skips with a printed reason, unless `COMMANDER_REQUIRE_PEERS=1` (set by
//! `scripts/test` and CI), where a missing browser fails the test.
//!
//! Each test starts its own chromedriver on a free loopback port, as the
//! leader of a new process group: the Chromium processes it starts are in
//! that group, and dropping the [`Driver`] kills the whole group, so nothing
//! is left running when a test fails half-way (a panic unwinds through the
//! drop). Each session has a fresh profile (`--user-data-dir`) in the
//! driver's temporary directory.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::TempDir;
use super::broker::free_port;

/// The browser and its driver.
#[derive(Debug, Clone)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// `true` when `COMMANDER_REQUIRE_PEERS=1`: a missing peer fails, never skips.
pub fn peers_required() -> bool {
    std::env::var_os("COMMANDER_REQUIRE_PEERS").is_some_and(|v| v == "1")
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    names
        .iter()
        .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()))
}

/// Chromium and chromedriver, or `None` after printing why the test is
/// skipped (a panic under `COMMANDER_REQUIRE_PEERS=1`). `test` names the
/// test in the notice.
pub fn tools_or_skip(test: &str) -> Option<Tools> {
    let chromium = which(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = which(&["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let missing = [
                ("chromium", chromium.is_none()),
                ("chromedriver", chromedriver.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" and ");
            if peers_required() {
                panic!(
                    "{test}: {missing} required (COMMANDER_REQUIRE_PEERS=1) but not found; \
                     scripts/test installs the Debian packages chromium and chromium-driver"
                );
            }
            eprintln!(
                "{test}: skipped: chromium/chromedriver not installed ({missing} missing); \
                 scripts/test installs them"
            );
            None
        }
    }
}

/// A running chromedriver (and every Chromium it started): killed on drop.
pub struct Driver {
    child: Option<Child>,
    pub port: u16,
    tools: Tools,
    dir: TempDir,
    sessions: AtomicUsize,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it
    /// answers.
    pub fn start(tools: &Tools) -> Driver {
        use std::os::unix::process::CommandExt;
        let dir = TempDir::new("webdriver");
        let mut last_log = String::new();
        // The free port may be taken between the check and the bind: retry.
        for _ in 0..5 {
            let port = free_port();
            let log = dir.path("chromedriver.log");
            let mut cmd = Command::new(&tools.chromedriver);
            cmd.arg(format!("--port={port}"))
                // Chromium's scratch files too go where drop removes them.
                .env("TMPDIR", &dir.0)
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group: the browsers it starts join it,
                // and drop kills the group.
                .process_group(0);
            let mut child = cmd.spawn().expect("chromedriver starts");
            let deadline = Instant::now() + Duration::from_secs(20);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut up = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                // Its own status page: not another program that took the
                // port first.
                if is_chromedriver(&addr) {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            if up {
                return Driver {
                    child: Some(child),
                    port,
                    tools: tools.clone(),
                    dir,
                    sessions: AtomicUsize::new(0),
                };
            }
            kill_group(&mut child);
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("chromedriver did not start; its log:\n{last_log}");
    }

    /// chromedriver's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("chromedriver.log")).unwrap_or_default()
    }

    /// A new browser (its own Chromium, fresh profile), `width`x`height`,
    /// headless.
    pub async fn session(&self, width: u32, height: u32) -> Client {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let profile = self.dir.path(&format!("profile-{n}"));
        let args = vec![
            "--headless=new".to_owned(),
            // Root in a container: Chromium's sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-extensions".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            // A page in a tab that is not in front must keep up with its
            // WebSocket like the one in front (two tabs at once).
            "--disable-background-timer-throttling".to_owned(),
            "--disable-renderer-backgrounding".to_owned(),
            "--disable-backgrounding-occluded-windows".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": self.tools.chromium, "args": args }),
        );
        // `commander web` has no TLS; nothing asks; keep defaults otherwise.
        caps.insert("pageLoadStrategy".into(), json!("normal"));
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut last = String::new();
        // A loaded machine can make Chromium slow to come up: a few tries.
        for _ in 0..3 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    fit_viewport(&client, width, height).await;
                    return client;
                }
                Err(e) => last = format!("{e}"),
            }
        }
        panic!(
            "cannot start a Chromium session through chromedriver: {last}\nchromedriver log (end):\n{}",
            crate::support::proc::tail(&self.log(), 40)
        );
    }
}

/// Sizes the window so that its viewport (what a screenshot shows) is
/// `width`x`height`: the window's size includes what the browser draws
/// around the page, even headless.
async fn fit_viewport(client: &Client, width: u32, height: u32) {
    for _ in 0..3 {
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .ok()
            .and_then(|v| Some((v[0].as_u64()? as u32, v[1].as_u64()? as u32)));
        let Some((iw, ih)) = inner else { return };
        if (iw, ih) == (width, height) {
            return;
        }
        let Ok((ow, oh)) = client.get_window_size().await else {
            return;
        };
        let (ow, oh) = (ow as u32, oh as u32);
        let _ = client
            .set_window_size(
                (ow + width).saturating_sub(iw),
                (oh + height).saturating_sub(ih),
            )
            .await;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

/// Does a chromedriver answer at `addr` (its `/status`)?
fn is_chromedriver(addr: &SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect_timeout(addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let ask = format!("GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(ask.as_bytes()).is_err() {
        return false;
    }
    // It may keep the connection open: read until the answer says enough.
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let text = String::from_utf8_lossy(&got);
        if text.starts_with("HTTP/1.1 200") && text.contains("ChromeDriver") {
            return true;
        }
        match s.read(&mut buf) {
            Ok(n @ 1..) => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
}

/// Kills the process group `child` leads (chromedriver and its browsers),
/// then reaps `child`.
fn kill_group(child: &mut Child) {
    let pgid = child.id() as libc::pid_t;
    // SAFETY: kill(2) of the process group our own child leads
    // (process_group(0) made its pid the group id).
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Whatever of the group is left (Chromium's helpers), and the driver if
    // it did not stop.
    // SAFETY: as above.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Where screenshots go: `target/web-shots/` always; `docs/` too when
/// `SNAPSHOTS=overwrite` (the convention for regenerating committed files).
pub fn save_screenshot(png: &[u8], name: &str, docs: bool) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::support::repo().join("target"));
    let shots = target.join("web-shots");
    std::fs::create_dir_all(&shots).expect("target/web-shots");
    let path = shots.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write a screenshot");
    if docs && std::env::var("SNAPSHOTS").is_ok_and(|v| v == "overwrite") {
        let docs = crate::support::repo().join("docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        std::fs::write(docs.join(format!("{name}.png")), png).expect("write docs/ screenshot");
    }
    path
}

/// Is `png` a PNG image of `width`x`height` pixels?
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

/// A short JS string literal for `s`.
pub fn js_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A CSS attribute selector `[attr="value"]`, quoted for CSS.
pub fn attr_sel(attr: &str, value: &str) -> String {
    format!(
        "[{attr}=\"{}\"]",
        value.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// Helpers over one browser window.
pub struct Page {
    pub client: Client,
    /// Names this page in messages and failure screenshots.
    pub name: String,
    /// What [`Page::wait`] waits at most.
    pub patience: Duration,
}

impl Page {
    pub fn new(client: Client, name: &str) -> Page {
        Page {
            client,
            name: name.to_owned(),
            patience: Duration::from_secs(20),
        }
    }

    /// Runs `script` (a function body: `return ...`) with `args`.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.name))
    }

    /// Polls `script` (a function body) until it returns something truthy
    /// (not null/false/0/""/undefined), then returns it. On timeout, fails
    /// saying `what` was awaited, what the page shows, and saves a
    /// screenshot.
    pub async fn wait(&self, what: &str, script: &str) -> Value {
        self.wait_for(what, self.patience, script).await
    }

    /// [`Page::wait`] with its own deadline.
    pub async fn wait_for(&self, what: &str, limit: Duration, script: &str) -> Value {
        let deadline = Instant::now() + limit;
        let mut last = Value::Null;
        let mut last_err = String::new();
        loop {
            match self.client.execute(script, vec![]).await {
                Ok(v) => {
                    if truthy(&v) {
                        return v;
                    }
                    last = v;
                }
                Err(e) => last_err = e.to_string(),
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let state = self.describe().await;
        let shot = self.failure_shot().await;
        panic!(
            "{}: {what}: not seen within {limit:?}\nlast value: {last}{}\n{state}\nscreenshot: {shot}",
            self.name,
            if last_err.is_empty() {
                String::new()
            } else {
                format!("\nlast script error: {last_err}")
            }
        );
    }

    /// What the page shows, for a failure message.
    pub async fn describe(&self) -> String {
        let script = r#"
            const t = (s) => { const e = document.querySelector(s); return e ? (e.value !== undefined && e.tagName !== 'BUTTON' && e.tagName !== 'LI' ? e.value : e.textContent) : '(none)'; };
            let build = null;
            try { build = window.commander && window.commander.lastBuild && window.commander.lastBuild(); } catch (e) { build = 'error: ' + e; }
            return {
              url: location.href,
              body: Object.assign({}, document.body ? document.body.dataset : {}),
              errors: t('#errors'), json_error: t('#json-error'), reply_status: t('#reply-status'),
              problem: t('#problem-banner'), auth_hidden: document.querySelector('#auth-banner') ? document.querySelector('#auth-banner').hidden : null,
              live_status: t('#live-status'), live_count: t('#live-count'),
              live_rows: document.querySelectorAll('#live-table tbody tr').length,
              last_build: build,
              text: (document.body ? document.body.innerText : '').slice(0, 3000),
            };"#;
        match self.client.execute(script, vec![]).await {
            Ok(v) => format!(
                "page state:\n{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ),
            Err(e) => format!("(cannot read the page: {e})"),
        }
    }

    /// Saves a screenshot for a failure; says where.
    pub async fn failure_shot(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        match self.client.screenshot().await {
            Ok(png) => {
                let n = N.fetch_add(1, Ordering::Relaxed);
                let name = format!("failure-{}-{}-{n}", self.name, std::process::id());
                save_screenshot(&png, &name, false).display().to_string()
            }
            Err(e) => format!("(none: {e})"),
        }
    }

    /// The element `css`, once it exists (waits).
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait(
            &format!("an element {css}"),
            &format!("return !!document.querySelector({});", js_str(css)),
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: {css}: {e}", self.name))
    }

    /// Clicks `css` (waits for it).
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot click {css}: {e}", self.name));
    }

    /// Types `text` into the input `css` as a user does: click into it,
    /// select all (Ctrl+A), type over the selection. (WebDriver's "clear"
    /// is not what a user does: it also blurs the input, and a page may
    /// rewrite a field it no longer has the focus of, before the typing.)
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot click into {css}: {e}", self.name));
        let ctrl: char = Key::Control.into();
        let null: char = Key::Null.into();
        let backspace: char = Key::Backspace.into();
        let keys = if text.is_empty() {
            format!("{ctrl}a{null}{backspace}")
        } else {
            format!("{ctrl}a{null}{text}")
        };
        el.send_keys(&keys)
            .await
            .unwrap_or_else(|e| panic!("{}: cannot type into {css}: {e}", self.name));
        let now = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
                vec![json!(css)],
            )
            .await;
        assert_eq!(
            now.as_str(),
            Some(text),
            "{}: typed {text:?} into {css}, which now holds {now}",
            self.name
        );
    }

    /// Picks the option of value `value` in the `<select>` `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait(
            &format!("an option {value:?} in {css}"),
            &format!(
                "const s = document.querySelector({}); return !!s && [...s.options].some(o => o.value === {});",
                js_str(css),
                js_str(value)
            ),
        )
        .await;
        let el = self.find(css).await;
        el.select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{}: cannot pick {value:?} in {css}: {e}", self.name));
    }

    /// The text (or value, for inputs) of `css`, "" when absent.
    pub async fn text(&self, css: &str) -> String {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); if (!e) return ''; \
                 return ('value' in e && !['BUTTON','LI','OL','UL','OPTION'].includes(e.tagName)) ? e.value : e.textContent;",
                vec![json!(css)],
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
