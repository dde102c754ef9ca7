//! The page's JSON API (`src/web/API.md`): the model of a type, a form's
//! state built and checked, JSON read back into a form, send, decode.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde::Deserialize;
use serde_json::{Value as Jv, json};

use super::{App, shell_quote};
use crate::cmd::request::{self, Answer, Matcher, Wanted};
use crate::codec::{decode_base64, decode_hex, looks_like_hex};
use crate::model;
use crate::render::{Format, Renderer, ViewOptions};
use crate::wire;

/// Replies and decodings are drawn as tables this wide at most.
const TABLE_WIDTH: usize = 160;

fn fail(status: StatusCode, why: impl Into<String>) -> Response {
    (status, Json(json!({ "error": why.into() }))).into_response()
}

/// A request refused: its status and why.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        fail(self.0, self.1)
    }
}

impl App {
    fn message(&self, name: &str) -> Result<MessageDescriptor, Refusal> {
        self.schema
            .message(name)
            .map_err(|e| Refusal(StatusCode::NOT_FOUND, format!("{e:#}")))
    }
}

pub async fn info(State(app): State<Arc<App>>) -> Json<Jv> {
    let mut messages: Vec<String> = app
        .schema
        .pool
        .all_messages()
        .filter(|m| !m.is_map_entry())
        .map(|m| m.full_name().to_owned())
        .collect();
    messages.sort();
    let p = &app.profile;
    let topic_fields: Vec<&str> = p
        .mqtt
        .command_topic
        .as_deref()
        .map(crate::profile::field_refs)
        .unwrap_or_default();
    // The header the profile fills in (ids, vehicle, time): the live view's
    // rows leave it out of their one-line summary.
    let mut header_fields: Vec<&str> = Vec::new();
    for d in &p.defaults {
        let first = d.path.split(['.', '[']).next().unwrap_or_default();
        if !header_fields.contains(&first) {
            header_fields.push(first);
        }
    }
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "header_fields": header_fields,
        "profile": p.describe(),
        "command": app.command.full_name(),
        "response": app.response.as_ref().map(|r| r.full_name().to_owned()),
        "command_topic": p.mqtt.command_topic,
        "response_topic": p.mqtt.response_topic,
        "topic_fields": topic_fields,
        "broker": {
            "url": app.broker.as_ref().map(|b| b.display_url()),
            "embedded": app.embedded,
            "simulated": app.simulated,
            "note": app.note,
        },
        "types": app.routes.iter().map(|(f, d)| json!({"filter": f, "type": d.full_name()})).collect::<Vec<_>>(),
        "messages": messages,
        "timeout_ms": app.timeout.as_millis() as u64,
    }))
}

#[derive(Deserialize)]
pub struct TypeQuery {
    #[serde(rename = "type")]
    type_name: String,
}

pub async fn model(State(app): State<Arc<App>>, Query(q): Query<TypeQuery>) -> Response {
    let desc = match app.message(&q.type_name) {
        Ok(d) => d,
        Err(r) => return r.into_response(),
    };
    let link = if desc == app.command {
        app.link.clone()
    } else {
        crate::prompt::link::find(&desc).one()
    };
    let mut start = DynamicMessage::new(desc.clone());
    // A default that does not fit this type is left out (the terminal says
    // so when it starts; here the field is simply not prefilled).
    let _ = app.profile.apply_defaults(&mut start);
    Json(model::describe(
        &desc,
        link.as_ref(),
        Some(&app.profile),
        &start,
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct BuildRequest {
    #[serde(rename = "type")]
    type_name: String,
    state: Jv,
    #[serde(default)]
    start: Option<Jv>,
    /// Publish here instead of the profile's command topic.
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

/// A form's state made into a message, with what the page shows beside it.
struct Made {
    desc: MessageDescriptor,
    msg: DynamicMessage,
    bytes: Vec<u8>,
    problems: Vec<model::Problem>,
    topic: Result<Option<String>, String>,
}

fn make(app: &App, req: &BuildRequest) -> Result<Made, Refusal> {
    let desc = app.message(&req.type_name)?;
    let (mut msg, problems) = model::build(&desc, &req.state);
    if let Some(start) = &req.start {
        // Defaults that copy another field follow it, unless changed.
        let (start, _) = model::build(&desc, start);
        app.profile.refresh_copies(&start, &mut msg);
    }
    let bytes = wire::encode_to_vec(&msg);
    let topic = match (&req.topic, &app.profile.mqtt.command_topic) {
        (Some(t), _) if !t.trim().is_empty() => request::check_publish_topic(t)
            .map(|()| Some(t.clone()))
            .map_err(|e| format!("{e:#}")),
        (_, Some(template)) if desc != app.command => {
            // The profile's topic is made for its command type; another
            // type goes where it says when it has the fields, else the user
            // names the topic.
            request::render_topic(template, &msg, true)
                .map(Some)
                .map_err(|e| {
                    format!(
                        "{e:#}; the profile's command topic is made for {}: give the topic to publish a {} to",
                        app.command.full_name(),
                        desc.full_name()
                    )
                })
        }
        (_, Some(template)) => request::render_topic(template, &msg, true)
            .map(Some)
            .map_err(|e| format!("{e:#}")),
        (_, None) => Err(
            "no command topic in the profile ([mqtt] command_topic): give the topic to publish to"
                .to_owned(),
        ),
    };
    Ok(Made {
        desc,
        msg,
        bytes,
        problems,
        topic,
    })
}

fn render(
    desc: Option<&MessageDescriptor>,
    format: Format,
    bytes: &[u8],
) -> Result<String, String> {
    let renderer = match desc {
        Some(d) => {
            let view = ViewOptions {
                width: Some(TABLE_WIDTH),
                ..ViewOptions::default()
            };
            Renderer::typed_with(d.clone(), format, view)
        }
        None => Renderer::raw(format).with_width(Some(TABLE_WIDTH)),
    };
    let mut out = Vec::new();
    renderer
        .render(bytes, &mut out)
        .map_err(|e| format!("{e:#}"))?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    while text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

pub async fn build(State(app): State<Arc<App>>, Json(req): Json<BuildRequest>) -> Response {
    let made = match make(&app, &req) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    Json(describe_made(&app, &made, req.topic.as_deref())).into_response()
}

fn describe_made(app: &App, made: &Made, topic_flag: Option<&str>) -> Jv {
    let json_text = render(Some(&made.desc), Format::Json, &made.bytes).unwrap_or_default();
    let compact = render(Some(&made.desc), Format::Jsonl, &made.bytes).unwrap_or_default();
    let mut flags = app.schema_flags.join(" ");
    if made.desc != app.command {
        flags.push_str(&format!(" -m {}", made.desc.full_name()));
    }
    let mut send_flags = flags.clone();
    if let Some(b) = &app.broker_flag {
        send_flags.push_str(&format!(" --broker {}", shell_quote(b)));
    }
    if let Some(t) = topic_flag.filter(|t| !t.trim().is_empty()) {
        send_flags.push_str(&format!(" --topic {}", shell_quote(t)));
    }
    let quoted = shell_quote(&compact);
    let encode_type = if made.desc == app.command {
        format!(" -m {}", made.desc.full_name())
    } else {
        String::new()
    };
    let (topic, topic_error) = match &made.topic {
        Ok(t) => (t.clone(), None),
        Err(e) => (None, Some(e.clone())),
    };
    json!({
        "ok": made.problems.is_empty(),
        "errors": made.problems,
        "missing_required": crate::value::missing_required(&made.msg),
        "json": json_text,
        "hex": hex::encode(&made.bytes),
        "base64": base64_of(&made.bytes),
        "size": made.bytes.len(),
        "topic": topic,
        "topic_error": topic_error,
        "cli": {
            "send": format!("commander send{send_flags} --json {quoted}").replace("  ", " "),
            "encode": format!("commander encode{flags}{encode_type} --json {quoted}").replace("  ", " "),
        },
    })
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[derive(Deserialize)]
pub struct ParseRequest {
    #[serde(rename = "type")]
    type_name: String,
    json: String,
}

pub async fn parse(State(app): State<Arc<App>>, Json(req): Json<ParseRequest>) -> Response {
    let desc = match app.message(&req.type_name) {
        Ok(d) => d,
        Err(r) => return r.into_response(),
    };
    match crate::value::message_from_json(&desc, &req.json) {
        Ok(msg) => Json(json!({ "state": model::state_of(&msg) })).into_response(),
        Err(e) => Json(json!({ "error": format!("{e:#}") })).into_response(),
    }
}

pub async fn send(State(app): State<Arc<App>>, Json(req): Json<BuildRequest>) -> Response {
    let made = match make(&app, &req) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let refused = |error: Option<String>| {
        Json(json!({
            "sent": false,
            "errors": made.problems,
            "error": error,
            "size": made.bytes.len(),
            "hex": hex::encode(&made.bytes),
            "reply": null,
            "timeout": false,
        }))
        .into_response()
    };
    if !made.problems.is_empty() {
        return refused(Some(format!(
            "not sent: {} value(s) to fix first",
            made.problems.len()
        )));
    }
    let topic = match &made.topic {
        Ok(Some(t)) => t.clone(),
        Ok(None) => return refused(Some("no topic to publish to".into())),
        Err(e) => return refused(Some(format!("not sent: {e}"))),
    };
    let Some(cfg) = app.broker.clone() else {
        return refused(Some(
            "no broker: start commander web with --broker mqtt://host:port".into(),
        ));
    };
    let response = if made.desc == app.command {
        app.response.clone()
    } else {
        app.schema.infer_reply(&made.desc)
    };
    let mut notes = Vec::new();
    // Where the reply comes, when one is wanted.
    let wanted = match (&response, &app.profile.mqtt.response_topic) {
        (Some(r), Some(template)) => match request::render_topic(template, &made.msg, false) {
            Ok(t) => {
                let matcher = match Matcher::for_command(&made.msg, r) {
                    Ok(m) => m,
                    Err(why) => {
                        notes.push(format!(
                            "{why}: the first message on {t} is taken as the reply"
                        ));
                        Matcher::Any
                    }
                };
                Some((t, r.clone(), matcher))
            }
            Err(e) => {
                notes.push(format!("not waiting for a reply: {e:#}"));
                None
            }
        },
        (None, _) => {
            notes.push(format!(
                "no reply type for {}: published without waiting",
                made.desc.full_name()
            ));
            None
        }
        (Some(_), None) => {
            notes.push("no response topic in the profile: published without waiting".into());
            None
        }
    };
    let timeout = req
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(app.timeout)
        .clamp(Duration::from_millis(100), Duration::from_secs(300));
    let bytes = made.bytes.clone();
    let qos = app.qos;
    let topic_c = topic.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut published_at = None;
        let result = request::exchange(
            &cfg,
            &topic_c,
            bytes,
            qos,
            wanted.as_ref().map(|(t, r, m)| Wanted {
                topic: t,
                response: r,
                matcher: m,
            }),
            timeout,
            || published_at = Some(Instant::now()),
        );
        let latency = published_at.map(|t| t.elapsed());
        (result, latency, wanted)
    })
    .await;
    let (result, latency, wanted) = match joined {
        Ok(r) => r,
        Err(e) => {
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("send failed: {e}"),
            );
        }
    };
    let response_topic = wanted.as_ref().map(|(t, _, _)| t.clone());
    let (answer, skipped) = match result {
        Ok(r) => r,
        Err(e) => return refused(Some(format!("{e:#}"))),
    };
    notes.extend(skipped.lines());
    let (reply, timed_out) = match answer {
        Answer::Reply { bytes } => {
            let desc = wanted.as_ref().map(|(_, r, _)| r.clone());
            let table = render(desc.as_ref(), Format::Table, &bytes);
            let json_text = render(desc.as_ref(), Format::Json, &bytes);
            (
                json!({
                    "type": desc.as_ref().map(|d| d.full_name().to_owned()),
                    "size": bytes.len(),
                    "hex": hex::encode(&bytes),
                    "table": table.clone().unwrap_or_else(|e| e),
                    "json": json_text.unwrap_or_default(),
                    "latency_ms": latency.map(|l| (l.as_secs_f64() * 1e4).round() / 10.0),
                }),
                false,
            )
        }
        Answer::Timeout => (Jv::Null, true),
        Answer::Published => (Jv::Null, false),
    };
    Json(json!({
        "sent": true,
        "errors": [],
        "error": null,
        "topic": topic,
        "response_topic": response_topic,
        "size": made.bytes.len(),
        "hex": hex::encode(&made.bytes),
        "reply": reply,
        "timeout": timed_out,
        "timeout_ms": timeout.as_millis() as u64,
        "notes": notes,
    }))
    .into_response()
}

#[derive(Deserialize)]
pub struct DecodeRequest {
    #[serde(rename = "type", default)]
    type_name: Option<String>,
    input: String,
}

pub async fn decode(State(app): State<Arc<App>>, Json(req): Json<DecodeRequest>) -> Response {
    let desc = match req.type_name.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => match app.message(t) {
            Ok(d) => Some(d),
            Err(r) => return r.into_response(),
        },
        None => None,
    };
    let text = req.input.trim();
    let bytes = if text == "-" || text.is_empty() {
        Ok(Vec::new())
    } else if looks_like_hex(text) {
        decode_hex(text).map_err(|e| format!("not hex: {e}"))
    } else {
        decode_base64(text).map_err(|e| format!("neither hex nor base64: {e}"))
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return Json(json!({ "error": e })).into_response(),
    };
    let table = render(desc.as_ref(), Format::Table, &bytes);
    let json_text = render(desc.as_ref(), Format::Json, &bytes);
    match (table, json_text) {
        (Ok(table), Ok(json_text)) => Json(json!({
            "size": bytes.len(),
            "table": table,
            "json": json_text,
        }))
        .into_response(),
        (Err(e), _) | (_, Err(e)) => Json(json!({
            "error": match &desc {
                Some(d) => format!("cannot decode it as {}: {e}", d.full_name()),
                None => format!("cannot decode it: {e}"),
            }
        }))
        .into_response(),
    }
}
