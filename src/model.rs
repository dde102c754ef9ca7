//! One model of a message for both front ends (SPEC 6 and 12): the terminal
//! prompts ([`crate::prompt`]) walk it a question at a time, the web page
//! (`commander web`) gets it as data and sends back what the user typed.
//!
//! What it holds: a message type's fields in declaration order with their
//! kinds, labels (`optional sint32`, `map<string, int32>`), hints, ranges,
//! `.proto` comments and oneofs; the envelope link ([`crate::prompt::link`]);
//! the profile's defaults. Validation is one function for both: every value
//! the user typed goes through [`crate::value::parse_value`], so a bad value
//! gets the same words at a prompt and beside a form field.
//!
//! The web form's state is a tree of the texts typed ([`build`] reads it,
//! [`state_of`] writes it): a message is a JSON object keyed by the names of
//! its set fields (absent = unset); a scalar, enum, bytes or inline
//! well-known type is the string typed; a nested message is an object; a
//! list is an array; a map an array of `[key, value]` pairs; an Any either
//! JSON text or `{"@type": NAME, "@value": STATE}`.

use std::collections::{HashMap, HashSet, VecDeque};

use prost_reflect::{
    DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value,
};
use serde_json::{Map, Value as Json, json};

use crate::profile::{Profile, field_refs};
use crate::prompt::link::Link;
use crate::value::parse_value;

/// Nested messages are offered this deep at most (self-referencing types).
pub const MAX_DEPTH: usize = 8;

/// Well-known types asked for as one value (Timestamp, Duration, wrappers,
/// Struct and friends as JSON).
pub fn is_inline(m: &MessageDescriptor) -> bool {
    m.full_name().starts_with("google.protobuf.")
}

pub fn is_wrapper(m: &MessageDescriptor) -> bool {
    m.full_name().starts_with("google.protobuf.")
        && m.full_name().ends_with("Value")
        && m.fields().len() == 1
}

/// Which well-known type a message is, as the page names it.
pub fn wkt(m: &MessageDescriptor) -> Option<&'static str> {
    Some(match m.full_name() {
        "google.protobuf.Timestamp" => "timestamp",
        "google.protobuf.Duration" => "duration",
        "google.protobuf.Struct" => "struct",
        "google.protobuf.Value" => "value",
        "google.protobuf.ListValue" => "list",
        "google.protobuf.FieldMask" => "fieldmask",
        "google.protobuf.Empty" => "empty",
        "google.protobuf.Any" => "any",
        _ if is_wrapper(m) => "wrapper",
        _ if is_inline(m) => "json",
        _ => return None,
    })
}

pub fn join(prefix: &str, name: &str) -> String {
    match (prefix.is_empty(), name.is_empty()) {
        (true, _) => name.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}.{name}"),
    }
}

/// Fields in the order the .proto declares them (what its author grouped).
pub fn declaration_order(desc: &MessageDescriptor) -> Vec<FieldDescriptor> {
    desc.descriptor_proto()
        .field
        .iter()
        .filter_map(|f| desc.get_field(f.number() as u32))
        .collect()
}

/// A field's type as prompts show it: `uint32`, `optional sint32`, `Door`.
pub fn kind_label(field: &FieldDescriptor) -> String {
    if let (true, Kind::Message(entry)) = (field.is_map(), field.kind()) {
        return format!(
            "map<{}, {}>",
            crate::render::table::kind_name(&entry.map_entry_key_field().kind()),
            crate::render::table::kind_name(&entry.map_entry_value_field().kind())
        );
    }
    let name = crate::render::table::kind_name(&field.kind());
    if field.containing_oneof().is_some_and(|o| o.is_synthetic()) {
        format!("optional {name}")
    } else {
        name
    }
}

/// How to answer, by kind.
pub fn hint_for(kind: &Kind) -> String {
    // Kept short: a prompt wider than the terminal wraps, and the terminal
    // library clears only its last row.
    match kind {
        Kind::Bool => "true/false",
        Kind::Bytes => "hex or utf8:text",
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => "RFC 3339 or now",
            "google.protobuf.Duration" => "like 1.5s",
            n if n.ends_with("Value") && m.fields().len() == 1 => "",
            _ => "JSON",
        },
        _ => "",
    }
    .to_owned()
}

/// A value as the user would type it back (a prompt's default, a form
/// field's text).
pub fn show(kind: &Kind, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bytes(b) => hex::encode(b),
        // A wrapper is typed as its inner value: show that, as typed (an
        // empty string shows as nothing, not `""`).
        Value::Message(m) if is_wrapper(&m.descriptor()) => {
            let inner = m
                .descriptor()
                .fields()
                .next()
                .expect("wrappers have one field");
            show(&inner.kind(), &m.get_field(&inner))
        }
        Value::Message(m) => {
            crate::render::table::display_value(kind, &Value::Message(m.clone()), false, 0)
        }
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
            _ => n.to_string(),
        },
        other => crate::render::text::scalar(kind, other),
    }
}

/// The smallest and largest value of an integer kind, as text (64-bit
/// values do not fit a JavaScript number).
pub fn int_range(kind: &Kind) -> Option<(String, String)> {
    let (min, max): (i128, i128) = match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => (i32::MIN.into(), i32::MAX.into()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => (i64::MIN.into(), i64::MAX.into()),
        Kind::Uint32 | Kind::Fixed32 => (0, u32::MAX.into()),
        Kind::Uint64 | Kind::Fixed64 => (0, u64::MAX.into()),
        _ => return None,
    };
    Some((min.to_string(), max.to_string()))
}

/// A value refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// `.proto` comments of a schema's elements, by file and source path.
#[derive(Default)]
struct Comments {
    by_file: HashMap<String, HashMap<Vec<i32>, String>>,
}

impl Comments {
    fn of(&mut self, file: &prost_reflect::FileDescriptor, path: &[i32]) -> String {
        let table = self
            .by_file
            .entry(file.name().to_owned())
            .or_insert_with(|| {
                let mut t = HashMap::new();
                if let Some(info) = &file.file_descriptor_proto().source_code_info {
                    for loc in &info.location {
                        let text = [loc.leading_comments(), loc.trailing_comments()]
                            .iter()
                            .map(|c| c.trim())
                            .filter(|c| !c.is_empty())
                            .collect::<Vec<_>>()
                            .join("\n");
                        if !text.is_empty() {
                            t.insert(loc.path.clone(), text);
                        }
                    }
                }
                t
            });
        table.get(path).cloned().unwrap_or_default()
    }
}

/// The model of `root` and every message and enum reachable from it, with
/// its envelope link, the profile's defaults for it and the message those
/// defaults start it as (`start`).
pub fn describe(
    root: &MessageDescriptor,
    link: Option<&Link>,
    profile: Option<&Profile>,
    start: &DynamicMessage,
) -> Json {
    let mut comments = Comments::default();
    let mut messages = Map::new();
    let mut enums = Map::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<MessageDescriptor> = VecDeque::from([root.clone()]);
    let mut enum_queue: Vec<EnumDescriptor> = Vec::new();
    while let Some(m) = queue.pop_front() {
        if !seen.insert(m.full_name().to_owned()) {
            continue;
        }
        let mut fields = Vec::new();
        for f in declaration_order(&m) {
            let kind = f.kind();
            let mut reach = |k: &Kind| match k {
                Kind::Message(sub) => queue.push_back(sub.clone()),
                Kind::Enum(e) => enum_queue.push(e.clone()),
                _ => {}
            };
            reach(&kind);
            let map = match (&kind, f.is_map()) {
                (Kind::Message(entry), true) => {
                    let key = entry.map_entry_key_field().kind();
                    let value = entry.map_entry_value_field().kind();
                    reach(&value);
                    json!({
                        "key_kind": kind_word(&key),
                        "value_kind": kind_word(&value),
                        "value_type": type_name(&value),
                        "value_label": crate::render::table::kind_name(&value),
                        "value_hint": hint_for(&value),
                    })
                }
                _ => Json::Null,
            };
            let cardinality = if f.is_map() {
                "map"
            } else if f.is_list() {
                "repeated"
            } else if f.cardinality() == prost_reflect::Cardinality::Required {
                "required"
            } else if f.containing_oneof().is_some_and(|o| o.is_synthetic())
                || (f.supports_presence()
                    && f.containing_oneof().is_none()
                    && !matches!(kind, Kind::Message(_)))
            {
                "optional"
            } else {
                "singular"
            };
            let (min, max) = match int_range(&kind) {
                Some((a, b)) => (Json::String(a), Json::String(b)),
                None => (Json::Null, Json::Null),
            };
            let proto_default = f
                .field_descriptor_proto()
                .default_value
                .clone()
                .map_or(Json::Null, Json::String);
            fields.push(json!({
                "name": f.name(),
                "json_name": f.json_name(),
                "number": f.number(),
                "label": kind_label(&f),
                "kind": if f.is_map() { "message" } else { kind_word(&kind) },
                "type": if f.is_map() { Json::Null } else { type_name(&kind) },
                "cardinality": cardinality,
                "oneof": f.containing_oneof().filter(|o| !o.is_synthetic()).map(|o| o.name().to_owned()),
                "map": map,
                "min": min,
                "max": max,
                "hint": match &kind {
                    Kind::Message(m) if !is_inline(m) => String::new(),
                    k => hint_for(k),
                },
                "comment": comments.of(&f.parent_file(), f.path()),
                "proto_default": proto_default,
            }));
        }
        let oneofs: Vec<Json> = m
            .oneofs()
            .filter(|o| !o.is_synthetic())
            .map(|o| {
                json!({
                    "name": o.name(),
                    "fields": o.fields().map(|f| f.name().to_owned()).collect::<Vec<_>>(),
                    "comment": comments.of(&o.parent_file(), o.path()),
                })
            })
            .collect();
        messages.insert(
            m.full_name().to_owned(),
            json!({
                "full_name": m.full_name(),
                "name": m.name(),
                "comment": comments.of(&m.parent_file(), m.path()),
                "wkt": wkt(&m),
                "map_entry": m.is_map_entry(),
                "fields": fields,
                "oneofs": oneofs,
            }),
        );
    }
    for e in enum_queue {
        if enums.contains_key(e.full_name()) {
            continue;
        }
        let values: Vec<Json> = e
            .values()
            .map(|v| {
                json!({
                    "name": v.name(),
                    "number": v.number(),
                    "comment": comments.of(&v.parent_file(), v.path()),
                })
            })
            .collect();
        enums.insert(
            e.full_name().to_owned(),
            json!({
                "full_name": e.full_name(),
                "comment": comments.of(&e.parent_file(), e.path()),
                "closed": e.parent_file().syntax() == prost_reflect::Syntax::Proto2,
                "values": values,
            }),
        );
    }
    let link = link.map_or(Json::Null, |l| {
        let members: Map<String, Json> = l
            .pairs
            .iter()
            .map(|(n, f)| (n.to_string(), Json::String(f.name().to_owned())))
            .collect();
        json!({
            "selector": l.selector_path(),
            "selector_owner": l.selector_owner.as_ref().map(|f| f.name().to_owned()),
            "selector_field": l.selector.name(),
            "enum": l.enum_type().full_name(),
            "oneof": l.oneof.name(),
            "oneof_owner": l.oneof_owner.as_ref().map(|f| f.name().to_owned()),
            "members": members,
            "describe": l.describe(),
        })
    });
    let defaults: Map<String, Json> = profile
        .map(|p| p.defaults_for(root))
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let path = crate::value::canonical_path(root, &d.path);
            (
                path,
                json!({
                    "template": d.template,
                    "follows": field_refs(&d.template),
                }),
            )
        })
        .collect();
    json!({
        "root": root.full_name(),
        "messages": messages,
        "enums": enums,
        "link": link,
        "defaults": defaults,
        "start": state_of(start),
    })
}

/// The kind's word in the model: `uint32`, `enum`, `message`...
fn kind_word(kind: &Kind) -> &'static str {
    match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Enum(_) => "enum",
        Kind::Message(_) => "message",
    }
}

fn type_name(kind: &Kind) -> Json {
    match kind {
        Kind::Enum(e) => Json::String(e.full_name().to_owned()),
        Kind::Message(m) => Json::String(m.full_name().to_owned()),
        _ => Json::Null,
    }
}

/// The message a form's state describes, and every value refused (those
/// fields are left out of the message).
pub fn build(desc: &MessageDescriptor, state: &Json) -> (DynamicMessage, Vec<Problem>) {
    let mut problems = Vec::new();
    let msg = build_message(desc, state, "", 0, &mut problems);
    (msg, problems)
}

fn problem(problems: &mut Vec<Problem>, path: &str, message: impl Into<String>) {
    problems.push(Problem {
        path: path.to_owned(),
        message: message.into(),
    });
}

fn build_message(
    desc: &MessageDescriptor,
    state: &Json,
    path: &str,
    depth: usize,
    problems: &mut Vec<Problem>,
) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    let Some(fields) = state.as_object() else {
        problem(
            problems,
            path,
            format!("expected the fields of {} (an object)", desc.name()),
        );
        return msg;
    };
    if depth > 100 {
        problem(problems, path, "nested more than 100 levels deep");
        return msg;
    }
    let mut oneofs: HashMap<String, String> = HashMap::new();
    for (name, value) in fields {
        let at = join(path, name);
        let Some(field) = desc.get_field_by_name(name) else {
            problem(
                problems,
                &at,
                format!("{} has no field '{name}'", desc.full_name()),
            );
            continue;
        };
        if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
            if let Some(other) = oneofs.insert(oneof.name().to_owned(), name.clone()) {
                problem(
                    problems,
                    &at,
                    format!(
                        "{other} and {name} are both members of the oneof {}: set one of them",
                        oneof.name()
                    ),
                );
                continue;
            }
        }
        if let Some(v) = build_field(&field, value, &at, depth, problems) {
            msg.set_field(&field, v);
        }
    }
    msg
}

fn build_field(
    field: &FieldDescriptor,
    state: &Json,
    path: &str,
    depth: usize,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("maps are messages")
        };
        let key_kind = entry.map_entry_key_field().kind();
        let value_kind = entry.map_entry_value_field().kind();
        let Some(rows) = state.as_array() else {
            problem(
                problems,
                path,
                "expected the map's rows (a list of [key, value])",
            );
            return None;
        };
        let mut map: HashMap<MapKey, Value> = HashMap::new();
        let mut first_row: HashMap<MapKey, usize> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let key_path = format!("{path}[{i}].key");
            let value_path = format!("{path}[{i}].value");
            let (Some(key_text), Some(value)) = (
                row.get(0).and_then(Json::as_str),
                row.get(1)
                    .filter(|_| row.as_array().is_some_and(|r| r.len() == 2)),
            ) else {
                problem(problems, &format!("{path}[{i}]"), "expected [key, value]");
                continue;
            };
            let key = match parse_value(&key_kind, key_text) {
                Ok(k) => crate::value::to_map_key(k),
                Err(why) => {
                    problem(problems, &key_path, why);
                    continue;
                }
            };
            if let Some(before) = first_row.get(&key) {
                problem(
                    problems,
                    &key_path,
                    format!(
                        "the key {key_text} is in row {before} already; a map holds a key once"
                    ),
                );
                continue;
            }
            first_row.insert(key.clone(), i);
            if let Some(v) = build_single(&value_kind, value, &value_path, depth, problems) {
                map.insert(key, v);
            }
        }
        return Some(Value::Map(map));
    }
    let kind = field.kind();
    if field.is_list() {
        let Some(items) = state.as_array() else {
            problem(problems, path, "expected the list's elements (an array)");
            return None;
        };
        let list = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                build_single(&kind, item, &format!("{path}[{i}]"), depth, problems)
            })
            .collect();
        return Some(Value::List(list));
    }
    build_single(&kind, state, path, depth, problems)
}

fn build_single(
    kind: &Kind,
    state: &Json,
    path: &str,
    depth: usize,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    match (kind, state) {
        (Kind::Message(m), Json::Object(fields)) if m.full_name() == "google.protobuf.Any" => {
            let (Some(name), Some(inner)) = (
                fields.get("@type").and_then(Json::as_str),
                fields.get("@value"),
            ) else {
                problem(
                    problems,
                    path,
                    "an Any is {\"@type\": TYPE, \"@value\": fields} or its JSON",
                );
                return None;
            };
            let name = name.rsplit('/').next().unwrap_or(name);
            let Some(inner_desc) = m.parent_pool().get_message_by_name(name) else {
                problem(
                    problems,
                    path,
                    format!("no message type '{name}' in the schema"),
                );
                return None;
            };
            let inner = build_message(&inner_desc, inner, path, depth + 1, problems);
            let mut any = DynamicMessage::new(m.clone());
            any.set_field_by_name(
                "type_url",
                Value::String(format!("type.googleapis.com/{name}")),
            );
            any.set_field_by_name(
                "value",
                Value::Bytes(crate::wire::encode_to_vec(&inner).into()),
            );
            Some(Value::Message(any))
        }
        (Kind::Message(m), _) if !is_inline(m) => match state {
            Json::Object(_) => Some(Value::Message(build_message(
                m,
                state,
                path,
                depth + 1,
                problems,
            ))),
            _ => {
                problem(
                    problems,
                    path,
                    format!("expected the fields of {} (an object)", m.name()),
                );
                None
            }
        },
        (_, Json::String(text)) => match parse_value(kind, text) {
            Ok(v) => Some(v),
            Err(why) => {
                problem(problems, path, why);
                None
            }
        },
        _ => {
            problem(
                problems,
                path,
                format!(
                    "expected text for a {}",
                    crate::render::table::kind_name(kind)
                ),
            );
            None
        }
    }
}

/// A message as a form's state: what [`build`] turns back into it.
pub fn state_of(msg: &DynamicMessage) -> Json {
    let mut out = Map::new();
    for (field, value) in msg.fields() {
        out.insert(field.name().to_owned(), field_state(&field, value));
    }
    // A -0.0 in a field without presence equals the default 0.0, so
    // `fields()` passes over it; the wire carries it, and so does the form.
    for field in msg.descriptor().fields() {
        if field.is_list() || field.is_map() || out.contains_key(field.name()) {
            continue;
        }
        let negative_zero = match msg.get_field(&field).as_ref() {
            Value::F64(v) => *v == 0.0 && v.is_sign_negative(),
            Value::F32(v) => *v == 0.0 && v.is_sign_negative(),
            _ => false,
        };
        if negative_zero {
            out.insert(field.name().to_owned(), Json::String("-0".into()));
        }
    }
    Json::Object(out)
}

fn field_state(field: &FieldDescriptor, value: &Value) -> Json {
    let kind = field.kind();
    match value {
        Value::Map(map) => {
            let Kind::Message(entry) = &kind else {
                unreachable!("maps are messages")
            };
            let value_kind = entry.map_entry_value_field().kind();
            let mut rows: Vec<(String, Json)> = map
                .iter()
                .map(|(k, v)| (map_key_text(k), single_state(&value_kind, v)))
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Array(rows.into_iter().map(|(k, v)| json!([k, v])).collect())
        }
        Value::List(items) => Json::Array(items.iter().map(|v| single_state(&kind, v)).collect()),
        v => single_state(&kind, v),
    }
}

fn single_state(kind: &Kind, value: &Value) -> Json {
    match (kind, value) {
        (Kind::Message(m), Value::Message(any)) if m.full_name() == "google.protobuf.Any" => {
            let url = any
                .get_field_by_name("type_url")
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let name = url.rsplit('/').next().unwrap_or_default();
            let bytes = any
                .get_field_by_name("value")
                .and_then(|v| v.as_bytes().cloned())
                .unwrap_or_default();
            match m.parent_pool().get_message_by_name(name) {
                Some(inner) => match DynamicMessage::decode(inner, bytes) {
                    Ok(inner) => json!({"@type": name, "@value": state_of(&inner)}),
                    Err(_) => Json::String(show(kind, value)),
                },
                None => Json::String(show(kind, value)),
            }
        }
        (Kind::Message(m), Value::Message(sub)) if !is_inline(m) => state_of(sub),
        _ => Json::String(show(kind, value)),
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> crate::schema::Schema {
        crate::schema::Schema::builtin().unwrap()
    }

    #[test]
    fn a_state_builds_the_message_and_reads_back() {
        let s = schema();
        let desc = s.message("cvp.CommandMessage").unwrap();
        let state = json!({
            "subtype": "ENGINE_START",
            "vehicle_id": "MH12VF1121",
            "engine_start": {"run_minutes": "15"},
        });
        let (msg, problems) = build(&desc, &state);
        assert_eq!(problems, vec![]);
        assert_eq!(state_of(&msg), state);
    }

    #[test]
    fn bad_values_are_named_by_path_with_the_terminals_words() {
        let s = schema();
        let desc = s.message("cvp.CommandMessage").unwrap();
        let state = json!({
            "engine_start": {"run_minutes": "70000000000"},
            "vehicle_id": "V1",
        });
        let (msg, problems) = build(&desc, &state);
        assert_eq!(
            problems,
            vec![Problem {
                path: "engine_start.run_minutes".into(),
                message: parse_value(&Kind::Uint32, "70000000000").unwrap_err(),
            }]
        );
        // The rest is kept; the refused value is not sent.
        assert_eq!(
            msg.get_field_by_name("vehicle_id").unwrap().as_str(),
            Some("V1")
        );
    }
}
