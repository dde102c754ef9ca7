//! `commander web` (SPEC 12): the command form and live views in a browser.
//!
//! One process: an axum server on the tokio runtime serving the page (its
//! files are compiled in, [`assets`]) and a small JSON API over the same
//! code as the CLI: the message model ([`crate::model`]) for the form, the
//! value parser for validation, `send`'s exchange for publishing, the
//! renderers for replies and the decode pane, the MQTT listener for the live
//! views (one client per WebSocket, so each tab has its own subscriptions).
//! The API is described in `src/web/API.md`.
//!
//! Safe by default: loopback only unless `--listen` says otherwise, and then
//! a token is required on every request; the Host of a tokenless server must
//! be a loopback name (no DNS rebinding); a WebSocket's Origin must be the
//! page's; bodies are size-limited; the broker's password never reaches the
//! page.

mod api;
mod assets;
mod live;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prost_reflect::MessageDescriptor;

use crate::UsageError;
use crate::cli::{SchemaArgs, WebArgs};
use crate::cmd::Context;
use crate::mqtt::BrokerConfig;
use crate::profile::Profile;
use crate::prompt::link::{self, Link};
use crate::schema::Schema;

/// Request bodies larger than this are refused (413).
pub const MAX_BODY: usize = 4 << 20;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// What every handler shares.
pub(crate) struct App {
    pub schema: Schema,
    pub profile: Profile,
    pub command: MessageDescriptor,
    pub response: Option<MessageDescriptor>,
    pub link: Option<Link>,
    /// Where commands go; `None`: no broker (sending is refused).
    pub broker: Option<BrokerConfig>,
    /// Embedded broker and simulated vehicles, for the page's banner.
    pub embedded: bool,
    pub simulated: Vec<String>,
    pub note: String,
    pub timeout: Duration,
    pub qos: rumqttc::v5::mqttbytes::QoS,
    /// `[mqtt.types]`: topic filter → type.
    pub routes: Vec<(String, MessageDescriptor)>,
    /// The flags that name the schema and profile, for the command lines
    /// the page shows.
    pub schema_flags: Vec<String>,
    /// `--broker` for the command lines, when it is not the profile's.
    pub broker_flag: Option<String>,
    pub token: Option<String>,
    /// The port served, for the Host check.
    pub port: u16,
}

pub fn run(ctx: &Context, schema_args: &SchemaArgs, args: WebArgs) -> Result<ExitCode> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        UsageError(format!(
            "--listen {}: an address and port, like 127.0.0.1:8080 or 0.0.0.0:8080",
            args.listen
        ))
    })?;
    let loopback = addr.ip().is_loopback();
    let token = match (&args.token, loopback) {
        (Some(t), _) if t.len() < 8 || t.contains(|c: char| !c.is_ascii_graphic()) => {
            return Err(UsageError(
                "--token: at least 8 printable characters without spaces".into(),
            )
            .into());
        }
        (Some(t), _) => Some(t.clone()),
        (None, true) => None,
        (None, false) => Some(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )),
    };
    let timeout = crate::cmd::send::parse_duration(&args.timeout)
        .map_err(|e| UsageError(format!("--timeout: {e}")))?;

    // The schema again with its `.proto` comments, shown as help.
    let schema = {
        let paths = schema_args.paths();
        let paths = if paths.is_empty() {
            ctx.profile.schema.clone()
        } else {
            paths
        };
        Schema::load_with_comments(&paths, &schema_args.include)?
    };
    let profile = ctx.profile.clone();
    // The type the form starts with: -m, the profile's command type, else
    // the first of the schema (any type can be picked on the page).
    let command = match (args.message.as_deref(), profile.command.as_deref()) {
        (None, None) => first_message(&schema)
            .ok_or_else(|| UsageError("the schema has no message types".into()))?,
        (m, c) => schema.message_or_default(m, c)?,
    };
    let response = match profile.response.as_deref() {
        Some(r) => Some(schema.message(r)?),
        None => schema.infer_reply(&command),
    };
    let link = match profile.link.as_deref().map(str::trim) {
        Some("none") => None,
        Some("auto") | None => link::find(&command).one(),
        Some(spec) => Some(
            link::explicit(&command, spec)
                .map_err(|e| anyhow!("{}: link = {spec:?}: {e}", profile.describe()))?,
        ),
    };
    let mut routes = Vec::new();
    for (filter, ty) in &profile.mqtt.types {
        let desc = schema
            .message(ty)
            .map_err(|e| anyhow!("{e:#}").context(format!("type for topics '{filter}'")))?;
        routes.push((filter.clone(), desc));
    }

    // Bound now: `--listen 127.0.0.1:0` takes a free port, which the Host
    // check must know.
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|e| anyhow!("cannot listen on {addr}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let bound = std_listener.local_addr()?;
    poll_stop_signals();

    // The broker: the user's, else an embedded one with a simulated vehicle.
    let given = args.broker.broker.is_some() || (!profile.builtin && profile.mqtt.broker.is_some());
    let mut embedded = None;
    let mut simulator = None;
    let mut simulated = Vec::new();
    let mut broker_args = args.broker.clone();
    let mut note = String::new();
    let mut broker_flag = args.broker.broker.as_deref().map(crate::mqtt::redact);
    if !given {
        let (broker, url) = crate::cmd::simulate::start_embedded()?;
        embedded = Some(broker);
        note = format!(
            "embedded MQTT broker (rumqttd, MQTT 5) on {url}, loopback only: no broker was given (--broker, or broker in commander.toml)"
        );
        let can_simulate = profile.mqtt.command_topic.is_some()
            && profile.mqtt.response_topic.is_some()
            && response.is_some();
        if !args.no_simulate && !can_simulate {
            note.push_str(
                "; no simulated vehicle: the profile has no command and response topics and types",
            );
        }
        if !args.no_simulate && can_simulate {
            let vehicle = default_device(&command, &profile);
            simulator = Some(Simulator::start(schema_args, &url, &vehicle)?);
            note.push_str(&format!(
                "; a simulated vehicle {vehicle} answers commands and publishes telemetry and events (commander simulate)"
            ));
            simulated.push(vehicle);
        }
        broker_flag = Some(url.clone());
        broker_args.broker = Some(url);
    }
    let broker = crate::cmd::broker_config(&broker_args, &profile, None).ok();
    let qos = crate::mqtt::qos(args.broker.qos)?;

    let mut schema_flags = Vec::new();
    for p in &schema_args.schemas {
        schema_flags.push(format!("-s {}", shell_quote(&p.display().to_string())));
    }
    for p in &schema_args.include {
        schema_flags.push(format!("-I {}", shell_quote(&p.display().to_string())));
    }
    if let Some(p) = &schema_args.profile {
        schema_flags.push(format!(
            "--profile {}",
            shell_quote(&p.display().to_string())
        ));
    }

    let app = Arc::new(App {
        schema,
        profile,
        command,
        response,
        link,
        broker,
        embedded: embedded.is_some(),
        simulated,
        note: note.clone(),
        timeout,
        qos,
        routes,
        schema_flags,
        broker_flag,
        token: token.clone(),
        port: bound.port(),
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the web server's runtime")?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let shown = match bound.ip() {
            ip if ip.is_unspecified() => format!("http://127.0.0.1:{}/", bound.port()),
            _ => format!("http://{bound}/"),
        };
        let url = match &token {
            Some(t) => format!("{shown}?token={t}"),
            None => shown,
        };
        if !crate::quiet() {
            if !note.is_empty() {
                eprintln!("{note}");
            }
            eprintln!(
                "commander web on {url}{} · Ctrl-C stops",
                if loopback {
                    " (loopback only)"
                } else {
                    " (token required: the link carries it)"
                }
            );
        } else {
            eprintln!("{url}");
        }
        if args.open {
            open_browser(&url);
        }
        let app_for_router = app.clone();
        let router = router(app_for_router);
        axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(async {
                while !STOP.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
            .map_err(|e| anyhow!("the web server stopped: {e}"))
    });
    drop(simulator);
    drop(embedded);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    Ok(ExitCode::from(130))
}

fn poll_stop_signals() {
    crate::transport::poll::on_stop_signals(on_stop_signal);
}

/// The routes, behind the guard.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/:file", get(assets::file))
        .route("/api/info", get(api::info))
        .route("/api/model", get(api::model))
        .route("/api/build", post(api::build))
        .route("/api/parse", post(api::parse))
        .route("/api/send", post(api::send))
        .route("/api/decode", post(api::decode))
        .route("/api/live", get(live::upgrade))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Every request: a loopback Host (without a token), the token (with one),
/// the page's own Origin; and headers that keep the page to itself.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if app.token.is_none() && !loopback_host(&host, app.port) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this server answers on loopback names only (127.0.0.1, localhost, [::1]); to serve others, pass --listen and use the token",
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let ours = [format!("http://{host}"), format!("https://{host}")];
        if !ours.iter().any(|o| o == origin) {
            return refuse(
                StatusCode::FORBIDDEN,
                "requests from another site's page are refused",
            );
        }
    } else if req.uri().path() == "/api/live" {
        return refuse(
            StatusCode::FORBIDDEN,
            "a WebSocket without an Origin is refused",
        );
    }
    let mut set_cookie = None;
    if let Some(token) = &app.token {
        let query_token = req.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(str::to_owned)
        });
        let given = bearer(headers)
            .or_else(|| cookie(headers, "commander_token"))
            .or(query_token.clone());
        if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
            let why =
                "a token is needed: open the URL that `commander web` printed (it has ?token=...)";
            if !req.uri().path().starts_with("/api/") {
                // A person at a browser: a page that says so.
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    format!(
                        "<!doctype html><meta charset=utf-8><title>commander web: token needed</title><p id=auth-needed>{}</p>",
                        why.replace('`', "")
                    ),
                )
                    .into_response();
            }
            return refuse(StatusCode::UNAUTHORIZED, why);
        }
        if query_token.is_some() && req.uri().path() == "/" {
            set_cookie = Some(format!(
                "commander_token={token}; HttpOnly; SameSite=Strict; Path=/"
            ));
        }
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    response
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": why }))).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// Compares in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080` (the port served).
fn loopback_host(host: &str, port: u16) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, p)) if !name.ends_with(':') && p.parse::<u16>().ok() == Some(port) => name,
        _ if host.starts_with('[') && host.ends_with(']') => host,
        Some(_) => return false,
        None => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// The first message type of the schema, by name (not a map entry, not one
/// of Google's).
fn first_message(schema: &Schema) -> Option<MessageDescriptor> {
    schema
        .pool
        .all_messages()
        .filter(|m| !m.is_map_entry() && !m.full_name().starts_with("google.protobuf."))
        .min_by(|a, b| a.full_name().cmp(b.full_name()))
}

/// The device the simulated vehicle is: the profile's default for the
/// field the command topic names (`vehicle_id = "MH12VF1121"`).
fn default_device(command: &MessageDescriptor, profile: &Profile) -> String {
    let mut msg = prost_reflect::DynamicMessage::new(command.clone());
    let _ = profile.apply_defaults(&mut msg);
    profile
        .mqtt
        .command_topic
        .as_deref()
        .and_then(|t| {
            crate::profile::field_refs(t)
                .first()
                .map(|f| (*f).to_owned())
        })
        .and_then(|f| crate::profile::field_text(&msg, &f).ok())
        .filter(|v| !v.is_empty() && !v.contains(['/', '+', '#']))
        .unwrap_or_else(|| "SIM0001".to_owned())
}

/// `commander simulate` for one vehicle, as a child process stopped with
/// this one.
struct Simulator(std::process::Child);

impl Simulator {
    fn start(schema_args: &SchemaArgs, url: &str, vehicle: &str) -> Result<Simulator> {
        let exe = std::env::current_exe().context("cannot find this program to run simulate")?;
        let mut cmd = std::process::Command::new(exe);
        for p in &schema_args.schemas {
            cmd.arg("-s").arg(p);
        }
        for p in &schema_args.include {
            cmd.arg("-I").arg(p);
        }
        if let Some(p) = &schema_args.profile {
            cmd.arg("--profile").arg(p);
        }
        cmd.args(["simulate", "--quiet", "--broker", url, "--vehicle", vehicle]);
        cmd.stdin(std::process::Stdio::null());
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; the child dies with us.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
        }
        let child = cmd
            .spawn()
            .context("cannot start the simulated vehicle (commander simulate)")?;
        Ok(Simulator(child))
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // SIGTERM: it says its summary and leaves.
        // SAFETY: a plain kill(2) of our own child.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("note: cannot open a browser ({opener}: {e}); open {url}");
    }
}

/// Single-quoted for a POSIX shell.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass_without_a_token() {
        assert!(loopback_host("127.0.0.1:8080", 8080));
        assert!(loopback_host("localhost:8080", 8080));
        assert!(loopback_host("[::1]:8080", 8080));
        assert!(!loopback_host("evil.example:8080", 8080));
        assert!(!loopback_host("127.0.0.1:9999", 8080));
        assert!(!loopback_host("", 8080));
    }

    #[test]
    fn shell_quoting_keeps_quotes_safe() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote("{\"a\":\"it's\"}"), r#"'{"a":"it'\''s"}'"#);
    }
}
