//! Simulated devices (SPEC 11): what a device answers to a command, and
//! what it publishes unasked, worked out from the schema and the profile.
//! The MQTT loop is in `cmd::simulate`.

pub mod fill;
pub mod template;

use std::collections::BTreeMap;

use crate::prompt::link::{self, Link, normalize};
use anyhow::{Result, anyhow};
use prost_reflect::{
    DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};
use template::{Ctx, Template};

/// How fields without a template are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fill {
    /// Plausible values for every field.
    #[default]
    Random,
    /// Only what the command and the header rules give.
    Empty,
}

/// The fields a reply is correlated on, as `send` matches them.
const CORRELATION: &str = "correlation_id";
const MESSAGE_ID: &str = "message_id";

/// How a device answers commands.
pub struct Responder {
    pub command: MessageDescriptor,
    pub response: MessageDescriptor,
    command_link: Option<Link>,
    response_link: Option<Link>,
    /// Value name (as in the command's selector enum) → reply template.
    replies: BTreeMap<String, Template>,
    fill: Fill,
    /// The response's return-code field, its success and error values, and
    /// the value for a command that does not decode.
    code: Option<ReturnCode>,
    /// Without a return code: a bool field named `ok` or `success`, true
    /// on success and false on failure.
    ok_flag: Option<FieldDescriptor>,
}

#[derive(Debug, Clone)]
struct ReturnCode {
    field: FieldDescriptor,
    success: Option<i32>,
    error: i32,
    invalid: i32,
}

/// What became of one command.
pub struct Answer {
    pub reply: DynamicMessage,
    /// The command's selected value (e.g. `ENGINE_START`), if linked.
    pub selected: Option<String>,
    /// Answered with the error code (asked for, or a bad command).
    pub failed: bool,
}

impl Responder {
    /// `replies`: value name → JSON template (`[simulate.replies]`);
    /// `error_code`: the return code's value for failures, if the profile
    /// names one.
    pub fn new(
        command: MessageDescriptor,
        response: MessageDescriptor,
        replies: &[(String, String)],
        error_code: Option<&str>,
        fill: Fill,
    ) -> Result<Responder> {
        let command_link = link::find(&command).one();
        let response_link = link::find(&response).one();
        let mut parsed = BTreeMap::new();
        for (name, text) in replies {
            let t = Template::parse(text).map_err(|e| anyhow!("[simulate.replies] {name}: {e}"))?;
            if let Some(l) = &command_link {
                if l.enum_type().get_value_by_name(name).is_none() {
                    return Err(anyhow!(
                        "[simulate.replies] {name}: {} has no value {name} (its values: {})",
                        l.enum_type().full_name(),
                        l.enum_type()
                            .values()
                            .map(|v| v.name().to_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            // Rendered once now: a template that cannot fit the response
            // type is refused before any device runs.
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
            let json = t.render(&mut Ctx {
                id: "SIM0001",
                n: 1,
                seq: 1,
                rng: &mut rng,
                walks: &mut Vec::new(),
            });
            crate::value::message_from_json(&response, &json)
                .map_err(|e| anyhow!("[simulate.replies] {name}: {e:#}\n  rendered: {json}"))?;
            parsed.insert(name.clone(), t);
        }
        let code = return_code(&response, error_code)?;
        let ok_flag = response.fields().find(|f| {
            matches!(f.kind(), Kind::Bool)
                && !f.is_list()
                && ["ok", "success", "succeeded"].contains(&normalize(f.name()).as_str())
        });
        Ok(Responder {
            command,
            response,
            command_link,
            response_link,
            replies: parsed,
            fill,
            code,
            ok_flag,
        })
    }

    /// The error value's name, for messages.
    pub fn error_name(&self) -> Option<String> {
        let c = self.code.as_ref()?;
        enum_name(&c.field, c.error)
    }

    /// The reply to `command` from device `id`; `fail` asks for the error
    /// code. A template that does not fit the response type is an error.
    pub fn answer(
        &self,
        command: &DynamicMessage,
        fail: bool,
        id_field: Option<&str>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Answer> {
        let mut reply = DynamicMessage::new(self.response.clone());
        // The command's selected value, and the response's member for it.
        let selected = self.command_link.as_ref().and_then(|l| {
            let owner = owner_of(command, &l.selector_owner)?;
            let number = owner.get_field(&l.selector).as_enum_number()?;
            l.enum_type().get_value(number).map(|v| v.name().to_owned())
        });
        let template = selected.as_ref().and_then(|s| self.replies.get(s));
        if let Some(t) = template {
            let json = t.render(ctx);
            let from = crate::value::message_from_json(&self.response, &json).map_err(|e| {
                anyhow!(
                    "[simulate.replies] {}: {e:#}\n  rendered: {json}",
                    selected.as_deref().unwrap_or("")
                )
            })?;
            reply = from;
        }
        let member = match (&selected, &self.response_link) {
            (Some(name), Some(l)) => {
                let number = l.enum_type().get_value_by_name(name).map(|v| v.number());
                if let Some(n) = number {
                    set_in(
                        &mut reply,
                        &l.selector_owner,
                        &l.selector,
                        Value::EnumNumber(n),
                    );
                }
                number.and_then(|n| l.member_for(n).cloned())
            }
            _ => None,
        };
        // The linked payload, unless the template set one.
        if let (Some(m), Some(l)) = (&member, &self.response_link) {
            let set = owner_of(&reply, &l.oneof_owner)
                .is_some_and(|o| l.oneof.fields().any(|f| o.has_field(&f)));
            if !set && template.is_none() {
                if let Kind::Message(md) = m.kind() {
                    let mut payload = DynamicMessage::new(md);
                    if self.fill == Fill::Random {
                        fill::fill(&mut payload, ctx.rng, &[]);
                    }
                    // What the command asked for, where the result has a
                    // field of that name (target_temp_c asked, target_temp_c
                    // reported).
                    if let Some(asked) = self.command_payload(command) {
                        copy_header(&asked, &mut payload, false);
                    }
                    set_in(&mut reply, &l.oneof_owner, m, Value::Message(payload));
                }
            }
        }
        // A failure carries the response's error payload when it has one
        // (a oneof member no value selects, named like error or failure).
        if fail {
            if let Some((l, m)) = self.response_link.as_ref().and_then(|l| {
                l.oneof
                    .fields()
                    .find(|f| {
                        l.number_for(f).is_none() && {
                            let n = normalize(f.name());
                            n.contains("error") || n.contains("fail")
                        }
                    })
                    .map(|m| (l, m))
            }) {
                if let Kind::Message(md) = m.kind() {
                    let mut payload = DynamicMessage::new(md);
                    if self.fill == Fill::Random {
                        fill::fill(&mut payload, ctx.rng, &[]);
                    }
                    set_in(&mut reply, &l.oneof_owner, &m, Value::Message(payload));
                }
            }
        }
        if self.fill == Fill::Random && template.is_none() {
            let skip: Vec<&str> = self.response_link.iter().map(|l| l.oneof.name()).collect();
            let mut header = DynamicMessage::new(self.response.clone());
            fill::fill(&mut header, ctx.rng, &skip);
            for f in self.response.fields() {
                if f.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
                    continue;
                }
                if !reply.has_field(&f) && header.has_field(&f) {
                    reply.set_field(&f, header.get_field(&f).into_owned());
                }
            }
        }
        copy_header(command, &mut reply, template.is_some());
        header_rules(&mut reply);
        // Correlated as `send` matches: the command's correlation id (else
        // its message id); a fresh id of its own.
        let corr = [CORRELATION, MESSAGE_ID].iter().find_map(|n| {
            command
                .get_field_by_name(n)
                .and_then(|v| v.as_str().map(str::to_owned))
                .filter(|s| !s.is_empty())
        });
        if let (Some(c), Some(f)) = (corr, reply.descriptor().get_field_by_name(CORRELATION)) {
            if matches!(f.kind(), Kind::String) {
                reply.set_field(&f, Value::String(c));
            }
        }
        if let Some(f) = reply.descriptor().get_field_by_name(MESSAGE_ID) {
            if matches!(f.kind(), Kind::String) {
                reply.set_field(&f, Value::String(uuid::Uuid::new_v4().to_string()));
            }
        }
        if let Some(path) = id_field {
            let _ = crate::value::apply_set(&mut reply, &format!("{path}={}", ctx.id));
        }
        if let Some(c) = &self.code {
            if fail {
                reply.set_field(&c.field, Value::EnumNumber(c.error));
            } else if template.is_none() || !reply.has_field(&c.field) {
                if let Some(ok) = c.success {
                    reply.set_field(&c.field, Value::EnumNumber(ok));
                }
            }
        }
        if self.code.is_none() {
            if let Some(f) = &self.ok_flag {
                if fail || template.is_none() || !reply.has_field(f) {
                    reply.set_field(f, Value::Bool(!fail));
                }
            }
        }
        Ok(Answer {
            reply,
            selected,
            failed: fail && (self.code.is_some() || self.ok_flag.is_some()),
        })
    }

    /// The command's linked payload, when one is set.
    fn command_payload(&self, command: &DynamicMessage) -> Option<DynamicMessage> {
        let l = self.command_link.as_ref()?;
        let owner = owner_of(command, &l.oneof_owner)?;
        let member = l.oneof.fields().find(|f| owner.has_field(f))?;
        match owner.get_field(&member).into_owned() {
            Value::Message(m) => Some(m),
            _ => None,
        }
    }

    /// The reply to a command that does not decode: the "invalid" code (or
    /// the error code) and a fresh header; None without a return code.
    pub fn bad_command(&self, id_field: Option<&str>, id: &str) -> Option<DynamicMessage> {
        let c = self.code.as_ref()?;
        let mut reply = DynamicMessage::new(self.response.clone());
        reply.set_field(&c.field, Value::EnumNumber(c.invalid));
        header_rules(&mut reply);
        if let Some(f) = reply.descriptor().get_field_by_name(MESSAGE_ID) {
            if matches!(f.kind(), Kind::String) {
                reply.set_field(&f, Value::String(uuid::Uuid::new_v4().to_string()));
            }
        }
        if let Some(path) = id_field {
            let _ = crate::value::apply_set(&mut reply, &format!("{path}={id}"));
        }
        Some(reply)
    }
}

/// An unasked message: its type, topic template, period and body.
pub struct Publication {
    pub desc: MessageDescriptor,
    pub topic: String,
    pub period: std::time::Duration,
    pub body: Option<Template>,
    pub fill: Fill,
}

impl Publication {
    /// One message of device `ctx.id`.
    pub fn make(&self, id_field: Option<&str>, ctx: &mut Ctx<'_>) -> Result<DynamicMessage> {
        let mut msg = match &self.body {
            Some(t) => {
                let json = t.render(ctx);
                crate::value::message_from_json(&self.desc, &json)
                    .map_err(|e| anyhow!("{e:#}\n  rendered: {json}"))?
            }
            None => DynamicMessage::new(self.desc.clone()),
        };
        if self.body.is_none() && self.fill == Fill::Random {
            fill::fill(&mut msg, ctx.rng, &[]);
        }
        header_rules(&mut msg);
        // Its own id; nothing to correlate with (unless the template says).
        let templated = self.body.is_some();
        if let Some(f) = msg.descriptor().get_field_by_name(MESSAGE_ID) {
            if matches!(f.kind(), Kind::String) && !(templated && msg.has_field(&f)) {
                msg.set_field(&f, Value::String(uuid::Uuid::new_v4().to_string()));
            }
        }
        if let Some(f) = msg.descriptor().get_field_by_name(CORRELATION) {
            if !(templated && msg.has_field(&f)) {
                msg.clear_field(&f);
            }
        }
        if let Some(path) = id_field {
            let _ = crate::value::apply_set(&mut msg, &format!("{path}={}", ctx.id));
        }
        Ok(msg)
    }
}

/// Header fields the command and the reply share by name and kind: copied
/// (the id, the selector, version...). With a template, what it set stays.
fn copy_header(command: &DynamicMessage, reply: &mut DynamicMessage, keep_set: bool) {
    let desc = reply.descriptor();
    for f in desc.fields() {
        if f.containing_oneof().is_some_and(|o| !o.is_synthetic()) || f.is_list() || f.is_map() {
            continue;
        }
        if keep_set && reply.has_field(&f) {
            continue;
        }
        let Some(cf) = command.descriptor().get_field_by_name(f.name()) else {
            continue;
        };
        if !command.has_field(&cf) || cf.is_list() || cf.is_map() {
            continue;
        }
        let value = command.get_field(&cf).into_owned();
        match (f.kind(), cf.kind()) {
            (Kind::Enum(re), Kind::Enum(ce)) => {
                // By the value's name: the two enums may differ.
                if let Some(n) = value
                    .as_enum_number()
                    .and_then(|n| ce.get_value(n))
                    .and_then(|v| re.get_value_by_name(v.name()))
                {
                    reply.set_field(&f, Value::EnumNumber(n.number()));
                }
            }
            (Kind::Message(a), Kind::Message(b))
                if a.full_name() == b.full_name()
                    && a.full_name() != "google.protobuf.Timestamp" =>
            {
                reply.set_field(&f, value);
            }
            (Kind::Message(_), _) => {}
            (a, b) if a == b => reply.set_field(&f, value),
            _ => {}
        }
    }
}

/// What every message a device sends gets: top-level Timestamps now, and an
/// enum field whose type names message kinds set to this message's kind
/// (`type = COMMAND_RESPONSE` in a `CommandResponseMessage`).
fn header_rules(msg: &mut DynamicMessage) {
    let desc = msg.descriptor();
    let me = normalize(desc.name());
    for f in desc.fields() {
        if f.is_list() || f.is_map() || f.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
            continue;
        }
        match f.kind() {
            Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => {
                let mut ts = DynamicMessage::new(m);
                fill::now_into(&mut ts);
                msg.set_field(&f, Value::Message(ts));
            }
            Kind::Enum(e) => {
                if let Some(n) = kind_value(&e, &me) {
                    msg.set_field(&f, Value::EnumNumber(n));
                }
            }
            _ => {}
        }
    }
}

/// The value of `e` that names the message kind `me` (normalised): the
/// longest value name contained in it, when at least two values look like
/// message kinds (so that an ordinary enum is left alone).
fn kind_value(e: &EnumDescriptor, me: &str) -> Option<i32> {
    let names: Vec<(i32, String)> = e
        .values()
        .filter(|v| v.number() != 0)
        .map(|v| (v.number(), normalize(v.name())))
        .collect();
    let contained: Vec<&(i32, String)> = names
        .iter()
        .filter(|(_, n)| n.len() >= 4 && me.contains(n.as_str()))
        .collect();
    if !normalize(e.name()).contains("type") && !normalize(e.name()).contains("kind") {
        return None;
    }
    contained
        .into_iter()
        .max_by_key(|(_, n)| n.len())
        .map(|(v, _)| *v)
}

/// The response's return code: an enum field named like `return_code`,
/// `result_code`, `status` or `result`.
fn return_code(resp: &MessageDescriptor, error_code: Option<&str>) -> Result<Option<ReturnCode>> {
    let field = resp.fields().find(|f| {
        matches!(f.kind(), Kind::Enum(_))
            && !f.is_list()
            && [
                "returncode",
                "resultcode",
                "status",
                "statuscode",
                "result",
                "code",
            ]
            .contains(&normalize(f.name()).as_str())
    });
    let Some(field) = field else {
        if let Some(name) = error_code {
            return Err(anyhow!(
                "[simulate] error_code = {name:?}, but {} has no return code field (an enum named return_code, status or result)",
                resp.full_name()
            ));
        }
        return Ok(None);
    };
    let Kind::Enum(e) = field.kind() else {
        return Ok(None);
    };
    let find = |words: &[&str]| {
        e.values()
            .find(|v| {
                let n = v.name().to_ascii_uppercase();
                words
                    .iter()
                    .any(|w| n == *w || n.ends_with(&format!("_{w}")))
            })
            .map(|v| v.number())
    };
    let containing = |word: &str| {
        e.values()
            .find(|v| v.name().to_ascii_uppercase().contains(word))
            .map(|v| v.number())
    };
    let success = find(&["SUCCESS", "OK", "SUCCEEDED", "DONE"]);
    let error = match error_code {
        Some(name) => e
            .get_value_by_name(name)
            .map(|v| v.number())
            .ok_or_else(|| {
                anyhow!(
                    "[simulate] error_code = {name:?}: {} has no such value (its values: {})",
                    e.full_name(),
                    e.values()
                        .map(|v| v.name().to_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        None => match containing("FAIL").or_else(|| containing("ERROR")) {
            Some(n) => n,
            None => return Ok(None),
        },
    };
    let invalid = containing("INVALID").unwrap_or(error);
    Ok(Some(ReturnCode {
        field,
        success,
        error,
        invalid,
    }))
}

fn enum_name(field: &FieldDescriptor, n: i32) -> Option<String> {
    match field.kind() {
        Kind::Enum(e) => e.get_value(n).map(|v| v.name().to_owned()),
        _ => None,
    }
}

/// The message holding a link's field: the message itself or its header.
fn owner_of<'a>(
    msg: &'a DynamicMessage,
    owner: &Option<FieldDescriptor>,
) -> Option<std::borrow::Cow<'a, DynamicMessage>> {
    match owner {
        None => Some(std::borrow::Cow::Borrowed(msg)),
        Some(o) => match msg.get_field(o).into_owned() {
            Value::Message(m) if msg.has_field(o) => Some(std::borrow::Cow::Owned(m)),
            _ => None,
        },
    }
}

/// Sets `field` in the message itself or in its `owner` field.
fn set_in(
    msg: &mut DynamicMessage,
    owner: &Option<FieldDescriptor>,
    field: &FieldDescriptor,
    v: Value,
) {
    match owner {
        None => msg.set_field(field, v),
        Some(o) => {
            if let Value::Message(inner) = msg.get_field_mut(o) {
                inner.set_field(field, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn responder(replies: &[(&str, &str)], fill: Fill) -> Responder {
        let schema = crate::schema::Schema::builtin().unwrap();
        let replies: Vec<(String, String)> = replies
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        Responder::new(
            schema.message("cvp.CommandMessage").unwrap(),
            schema.message("cvp.CommandResponseMessage").unwrap(),
            &replies,
            None,
            fill,
        )
        .unwrap()
    }

    fn command(json: &str) -> DynamicMessage {
        let schema = crate::schema::Schema::builtin().unwrap();
        crate::value::message_from_json(&schema.message("cvp.CommandMessage").unwrap(), json)
            .unwrap()
    }

    fn answer(r: &Responder, cmd: &DynamicMessage, fail: bool) -> Answer {
        let mut rng = StdRng::seed_from_u64(1);
        let mut walks = Vec::new();
        let mut ctx = Ctx {
            id: "SIM0001",
            n: 1,
            seq: 1,
            rng: &mut rng,
            walks: &mut walks,
        };
        r.answer(cmd, fail, Some("vehicle_id"), &mut ctx).unwrap()
    }

    fn json(m: &DynamicMessage) -> serde_json::Value {
        let opts = prost_reflect::SerializeOptions::new().use_proto_field_name(true);
        let mut out = serde_json::Serializer::new(Vec::new());
        m.serialize_with_options(&mut out, &opts).unwrap();
        serde_json::from_slice(&out.into_inner()).unwrap()
    }

    #[test]
    fn a_reply_is_linked_correlated_and_of_its_own_kind() {
        let r = responder(&[], Fill::Random);
        let cmd = command(
            r#"{"message_id":"m-1","correlation_id":"c-1","vehicle_id":"SIM0001","type":"COMMAND",
                "subtype":"ENGINE_START","version":3,"engine_start":{}}"#,
        );
        let a = answer(&r, &cmd, false);
        let j = json(&a.reply);
        assert_eq!(a.selected.as_deref(), Some("ENGINE_START"));
        assert_eq!(j["correlation_id"], "c-1");
        assert_ne!(j["message_id"], "m-1");
        assert_eq!(j["vehicle_id"], "SIM0001");
        assert_eq!(j["subtype"], "ENGINE_START");
        assert_eq!(j["type"], "COMMAND_RESPONSE");
        assert_eq!(j["version"], 3);
        assert_eq!(j["return_code"], "SUCCESS");
        assert!(j["engine_start"].is_object(), "{j}");
        assert!(j.get("error").is_none(), "{j}");
    }

    #[test]
    fn what_the_command_asked_for_is_what_the_result_reports() {
        let r = responder(&[], Fill::Random);
        let cmd = command(
            r#"{"correlation_id":"c-3","subtype":"CLIMATE_CONTROL","climate_control":{"target_temp_c":21.5}}"#,
        );
        let j = json(&answer(&r, &cmd, false).reply);
        assert_eq!(j["climate_control"]["target_temp_c"], 21.5, "{j}");
    }

    #[test]
    fn a_template_fills_the_reply_and_failure_gives_the_error_code() {
        let r = responder(
            &[("DOOR_LOCK", r#"{"return_code":"ACCEPTED","door_lock":{}}"#)],
            Fill::Empty,
        );
        let cmd = command(r#"{"correlation_id":"c-2","subtype":"DOOR_LOCK"}"#);
        let j = json(&answer(&r, &cmd, false).reply);
        assert_eq!(j["return_code"], "ACCEPTED");
        assert_eq!(j["correlation_id"], "c-2");
        let a = answer(&r, &cmd, true);
        assert!(a.failed);
        let j = json(&a.reply);
        assert_eq!(j["return_code"], "INTERNAL_ERROR");
        // The response's error member, not the success payload.
        assert!(
            j.get("error").is_some() && j.get("door_lock").is_none(),
            "{j}"
        );
        assert_eq!(
            r.bad_command(Some("vehicle_id"), "X")
                .map(|m| json(&m)["return_code"].clone()),
            Some(serde_json::json!("INVALID_PAYLOAD"))
        );
    }

    #[test]
    fn a_template_naming_no_value_is_an_error() {
        let schema = crate::schema::Schema::builtin().unwrap();
        let err = Responder::new(
            schema.message("cvp.CommandMessage").unwrap(),
            schema.message("cvp.CommandResponseMessage").unwrap(),
            &[("ENGINE_STRAT".to_owned(), "{}".to_owned())],
            None,
            Fill::Random,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("has no value ENGINE_STRAT"), "{err}");
    }
}
