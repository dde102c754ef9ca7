//! Text to field values: `--set`, and (later) prompts and profile defaults.
//!
//! One parser for every place a person types a value, so the rules and the
//! error messages are the same everywhere: integers with range checks (and
//! `0x` hex), floats including `nan`/`inf`, bools as true/false/yes/no/1/0,
//! enums by name or number, bytes as hex (any shape), `utf8:TEXT` or
//! `base64:DATA`, Timestamps as RFC 3339 or `now`, Durations as `1.5s`,
//! wrappers as their inner value, other messages as JSON.

use std::str::FromStr;

use anyhow::{Context, Result, anyhow};

use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value,
};

/// Why a value was refused, in words for the person who typed it.
pub type Reason = String;

/// Parses `text` as one value of `kind`.
pub fn parse_value(kind: &Kind, text: &str) -> Result<Value, Reason> {
    let t = text.trim();
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Ok(Value::I32(
                int_in_range(t, kind, i64::from(i32::MIN), i64::from(i32::MAX))? as i32,
            ))
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Ok(Value::I64(int_in_range(t, kind, i64::MIN, i64::MAX)?))
        }
        Kind::Uint32 | Kind::Fixed32 => Ok(Value::U32(
            uint_in_range(t, kind, u64::from(u32::MAX))? as u32,
        )),
        Kind::Uint64 | Kind::Fixed64 => Ok(Value::U64(uint_in_range(t, kind, u64::MAX)?)),
        Kind::Double => Ok(Value::F64(parse_float(t)?)),
        Kind::Float => {
            let v = parse_float(t)?;
            // A decimal that rounds to the largest float (its shortest
            // form, 3.4028235e38, is a little above it) is that float.
            if v.is_finite() && (v as f32).is_infinite() {
                return Err(format!(
                    "{t} is out of range for float (max {:e})",
                    f32::MAX
                ));
            }
            Ok(Value::F32(v as f32))
        }
        Kind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "f" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("'{t}' is not a bool (true or false)")),
        },
        // Strings are taken as typed, spaces included.
        Kind::String => Ok(Value::String(text.to_owned())),
        Kind::Bytes => parse_bytes(text).map(|b| Value::Bytes(b.into())),
        Kind::Enum(e) => {
            if let Some(v) = e.get_value_by_name(t) {
                return Ok(Value::EnumNumber(v.number()));
            }
            if let Some(v) = e.values().find(|v| v.name().eq_ignore_ascii_case(t)) {
                return Ok(Value::EnumNumber(v.number()));
            }
            if let Ok(n) = t.parse::<i32>() {
                return Ok(Value::EnumNumber(n));
            }
            let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
            Err(format!(
                "'{t}' is not a value of {}; one of: {}",
                e.name(),
                names.join(", ")
            ))
        }
        Kind::Message(m) => parse_message(m, text).map(Value::Message),
    }
}

fn int_in_range(t: &str, kind: &Kind, min: i64, max: i64) -> Result<i64, Reason> {
    let parsed = parse_i128(t).ok_or_else(|| format!("'{t}' is not an integer"))?;
    if parsed < i128::from(min) || parsed > i128::from(max) {
        return Err(format!(
            "{t} is out of range for {} (min {min}, max {max})",
            crate::render::table::kind_name(kind)
        ));
    }
    Ok(parsed as i64)
}

fn uint_in_range(t: &str, kind: &Kind, max: u64) -> Result<u64, Reason> {
    let parsed = parse_i128(t).ok_or_else(|| format!("'{t}' is not an integer"))?;
    let name = crate::render::table::kind_name(kind);
    if parsed < 0 {
        return Err(format!("{t} is negative; {name} takes 0 to {max}"));
    }
    if parsed > i128::from(max) {
        return Err(format!("{t} is out of range for {name} (max {max})"));
    }
    Ok(parsed as u64)
}

fn parse_i128(t: &str) -> Option<i128> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let body = body.replace('_', "");
    let v = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        body.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_float(t: &str) -> Result<f64, Reason> {
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Ok(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    t.parse::<f64>()
        .map_err(|_| format!("'{t}' is not a number"))
}

/// Bytes as hex (any common shape), `utf8:TEXT` or `base64:DATA`.
pub fn parse_bytes(text: &str) -> Result<Vec<u8>, Reason> {
    if let Some(s) = text.strip_prefix("utf8:") {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(s) = text.strip_prefix("base64:") {
        return crate::codec::decode_base64(s).map_err(|e| e.to_string());
    }
    let t = text.trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    crate::codec::decode_hex(t)
        .map_err(|e| format!("bytes are hex (or utf8:TEXT, base64:DATA): {e}"))
}

fn parse_message(m: &MessageDescriptor, text: &str) -> Result<DynamicMessage, Reason> {
    let t = text.trim();
    let mut msg = DynamicMessage::new(m.clone());
    match m.full_name() {
        "google.protobuf.Timestamp" => {
            let ts = if t.eq_ignore_ascii_case("now") {
                prost_types::Timestamp::from(std::time::SystemTime::now())
            } else {
                prost_types::Timestamp::from_str(t).map_err(|_| {
                    format!("'{t}' is not a time: use RFC 3339 (2024-05-01T10:00:00Z) or 'now'")
                })?
            };
            msg.set_field_by_name("seconds", Value::I64(ts.seconds));
            msg.set_field_by_name("nanos", Value::I32(ts.nanos));
        }
        "google.protobuf.Duration" => {
            let d = prost_types::Duration::from_str(t).map_err(|_| {
                format!("'{t}' is not a duration: use seconds with an 's', like 1.5s or 90s")
            })?;
            msg.set_field_by_name("seconds", Value::I64(d.seconds));
            msg.set_field_by_name("nanos", Value::I32(d.nanos));
        }
        // As tables show it (`a.b, c`), or as JSON (`"a.b,c"`).
        "google.protobuf.FieldMask" if !t.starts_with(['"', '{']) => {
            let paths: Vec<Value> = t
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_owned()))
                .collect();
            if let Some(bad) = paths.iter().filter_map(Value::as_str).find(|p| {
                !p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            }) {
                return Err(format!(
                    "'{bad}' is not a field path: use names and dots, like a.b, c"
                ));
            }
            msg.set_field_by_name("paths", Value::List(paths));
        }
        name if name.starts_with("google.protobuf.")
            && name.ends_with("Value")
            && m.fields().len() == 1 =>
        {
            let f = m.fields().next().expect("wrappers have one field");
            msg.set_field(&f, parse_value(&f.kind(), text)?);
        }
        _ => {
            let mut de = serde_json::Deserializer::from_str(t);
            msg = DynamicMessage::deserialize(m.clone(), &mut de)
                .map_err(|e| format!("{} is set as JSON: {e}", m.name()))?;
            de.end()
                .map_err(|e| format!("{} is set as JSON: {e}", m.name()))?;
        }
    }
    Ok(msg)
}

/// The paths of the proto2 `required` fields `msg` lacks, in it and in the
/// messages it holds (`header.id`, `items[2].name`, `by_key["k"].id`), as
/// protoc lists them.
pub fn missing_required(msg: &DynamicMessage) -> Vec<String> {
    fn walk(msg: &DynamicMessage, prefix: &str, out: &mut Vec<String>) {
        let at = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            }
        };
        for field in msg.descriptor().fields() {
            if field.cardinality() == prost_reflect::Cardinality::Required && !msg.has_field(&field)
            {
                out.push(at(field.name()));
                continue;
            }
            if !matches!(field.kind(), Kind::Message(_)) || !msg.has_field(&field) {
                continue;
            }
            match &*msg.get_field(&field) {
                Value::Message(m) => walk(m, &at(field.name()), out),
                Value::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Message(m) = item {
                            walk(m, &format!("{}[{i}]", at(field.name())), out);
                        }
                    }
                }
                Value::Map(map) => {
                    let mut entries: Vec<_> = map.iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    for (k, v) in entries {
                        if let Value::Message(m) = v {
                            let key = match k {
                                MapKey::String(s) => format!("{s:?}"),
                                MapKey::Bool(b) => b.to_string(),
                                MapKey::I32(n) => n.to_string(),
                                MapKey::I64(n) => n.to_string(),
                                MapKey::U32(n) => n.to_string(),
                                MapKey::U64(n) => n.to_string(),
                            };
                            walk(m, &format!("{}[{key}]", at(field.name())), out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(msg, "", &mut out);
    out
}

/// Can a message of this type (or one it holds) lack a required field?
/// False for every proto3 schema: the check is then skipped.
pub fn may_lack_required(desc: &MessageDescriptor) -> bool {
    let mut seen: Vec<String> = Vec::new();
    let mut stack = vec![desc.clone()];
    while let Some(m) = stack.pop() {
        if seen.iter().any(|s| s == m.full_name()) {
            continue;
        }
        seen.push(m.full_name().to_owned());
        for f in m.fields() {
            if f.cardinality() == prost_reflect::Cardinality::Required {
                return true;
            }
            if let Kind::Message(inner) = f.kind() {
                stack.push(inner);
            }
        }
    }
    false
}

/// Finds a field by proto name or JSON name.
pub fn find_field(m: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    m.get_field_by_name(name)
        .or_else(|| m.get_field_by_json_name(name))
        .or_else(|| m.fields().find(|f| f.name().eq_ignore_ascii_case(name)))
}

/// `path` (names or JSON names, dotted) in proto names, as far as `desc`
/// knows them: what [`given_paths`] gives, for comparing.
pub fn canonical_path(desc: &MessageDescriptor, path: &str) -> String {
    let mut current = Some(desc.clone());
    path.split('.')
        .map(|part| {
            let field = current.as_ref().and_then(|d| find_field(d, part));
            current = field.as_ref().and_then(|f| match f.kind() {
                Kind::Message(m) if !f.is_map() => Some(m),
                _ => None,
            });
            field.map_or_else(|| part.to_owned(), |f| f.name().to_owned())
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The field paths (proto names, dotted) a JSON or text-format document
/// gives a value, empty values and sub-messages included: the fields the
/// user set, which profile defaults leave alone.
pub fn given_paths(desc: &MessageDescriptor, input: &str) -> Vec<String> {
    let mut out = Vec::new();
    if input.trim_start().starts_with('{') {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(input) {
            json_paths(desc, &map, "", &mut out);
        }
    } else {
        text_paths(desc, input, &mut out);
    }
    out
}

fn json_paths(
    desc: &MessageDescriptor,
    map: &serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in map {
        let Some(field) = find_field(desc, key) else {
            continue;
        };
        let path = format!("{prefix}{}", field.name());
        if let (Kind::Message(inner), serde_json::Value::Object(sub)) = (field.kind(), value) {
            if !field.is_map() && !field.is_list() {
                json_paths(&inner, sub, &format!("{path}."), out);
            }
        }
        out.push(path);
    }
}

/// The field names of a text-format document, with the messages they sit
/// in (a light scan: strings, comments, lists and `[extension]` names are
/// stepped over).
fn text_paths(desc: &MessageDescriptor, text: &str, out: &mut Vec<String>) {
    let tokens = text_tokens(text);
    let mut stack: Vec<(String, Option<MessageDescriptor>)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i] {
            Tok::Punct('}' | '>') => {
                stack.pop();
                i += 1;
            }
            Tok::Word(name) => {
                let parent = match stack.last() {
                    Some((_, d)) => d.clone(),
                    None => Some(desc.clone()),
                };
                let field = parent.as_ref().and_then(|d| find_field(d, name));
                let name = field.as_ref().map_or(name, |f| f.name());
                let path = match stack.last() {
                    Some((p, _)) => format!("{p}.{name}"),
                    None => name.to_owned(),
                };
                out.push(path.clone());
                i += 1;
                if tokens.get(i) == Some(&Tok::Punct(':')) {
                    i += 1;
                }
                match tokens.get(i) {
                    Some(Tok::Punct('{' | '<')) => {
                        let inner = field.and_then(|f| match f.kind() {
                            Kind::Message(m) if !f.is_map() => Some(m),
                            _ => None,
                        });
                        stack.push((path, inner));
                        i += 1;
                    }
                    Some(Tok::Punct('[')) => i = skip_brackets(&tokens, i),
                    Some(Tok::Word(w)) => {
                        i += 1;
                        // `- 5`: the sign is a token of its own.
                        if *w == "-" {
                            i += 1;
                        }
                        while tokens.get(i) == Some(&Tok::Str) {
                            i += 1;
                        }
                    }
                    Some(Tok::Str) => {
                        while tokens.get(i) == Some(&Tok::Str) {
                            i += 1;
                        }
                    }
                    _ => {}
                }
            }
            // `[ext.name]` or `[type.googleapis.com/T]`: not a field path.
            Tok::Punct('[') => {
                i = skip_brackets(&tokens, i);
                match tokens.get(i) {
                    Some(Tok::Punct(':')) => {
                        i += 1;
                        if matches!(tokens.get(i), Some(Tok::Punct('{' | '<'))) {
                            stack.push(("[]".into(), None));
                            i += 1;
                        } else {
                            i += 1;
                        }
                    }
                    Some(Tok::Punct('{' | '<')) => {
                        stack.push(("[]".into(), None));
                        i += 1;
                    }
                    _ => {}
                }
            }
            _ => i += 1,
        }
    }
}

/// Past the `]` that closes the `[` at `i` (nesting counted).
fn skip_brackets(tokens: &[Tok<'_>], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < tokens.len() {
        match tokens[i] {
            Tok::Punct('[' | '{' | '<') => depth += 1,
            Tok::Punct(']' | '}' | '>') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Str,
    Punct(char),
}

fn text_tokens(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push(Tok::Str);
            }
            b':' | b'{' | b'}' | b'<' | b'>' | b'[' | b']' | b',' | b';' => {
                out.push(Tok::Punct(c as char));
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t'
                            | b'\n'
                            | b'\r'
                            | b'#'
                            | b'"'
                            | b'\''
                            | b':'
                            | b'{'
                            | b'}'
                            | b'<'
                            | b'>'
                            | b'['
                            | b']'
                            | b','
                            | b';'
                    )
                {
                    i += 1;
                }
                // Byte boundaries of ASCII delimiters are char boundaries.
                out.push(Tok::Word(&text[start..i]));
            }
        }
    }
    out
}

/// One step of a field path: `name`, `name[key]` or `name[index]`.
#[derive(Debug, PartialEq)]
struct Step {
    name: String,
    key: Option<String>,
}

fn split_path(path: &str) -> Result<Vec<Step>, Reason> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if name.is_empty() {
            return Err(format!("empty field name in '{path}'"));
        }
        rest = &rest[end..];
        let mut key = None;
        if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .find(']')
                .ok_or_else(|| format!("missing ']' in '{path}'"))?;
            key = Some(after[..close].trim_matches('"').to_owned());
            rest = &after[close + 1..];
        }
        steps.push(Step {
            name: name.to_owned(),
            key,
        });
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            if rest.is_empty() {
                return Err(format!("'{path}' ends with '.'"));
            }
        } else if !rest.is_empty() {
            let ch = rest.chars().next().unwrap_or_default();
            return Err(format!("unexpected '{ch}' in '{path}'"));
        }
    }
    if steps.is_empty() {
        return Err("empty field path".into());
    }
    Ok(steps)
}

/// Applies `FIELD.PATH=VALUE` to `msg`: sub-messages are created as needed, a
/// repeated field gets the value appended (or element `[i]` replaced), a map
/// entry is `MAP.KEY` or `MAP[KEY]`, setting a oneof member clears the others.
pub fn apply_set(msg: &mut DynamicMessage, assignment: &str) -> Result<(), Reason> {
    let (path, value) = assignment
        .split_once('=')
        .ok_or_else(|| format!("'{assignment}' is not FIELD.PATH=VALUE"))?;
    let steps = split_path(path.trim())?;
    set_steps(msg, &steps, value, path.trim())
}

fn set_steps(
    msg: &mut DynamicMessage,
    steps: &[Step],
    text: &str,
    path: &str,
) -> Result<(), Reason> {
    let desc = msg.descriptor();
    let step = &steps[0];
    let field = find_field(&desc, &step.name).ok_or_else(|| {
        let names: Vec<String> = desc.fields().map(|f| f.name().to_owned()).collect();
        let hint = crate::schema::closest(&step.name, names.iter().map(String::as_str));
        let mut m = format!("{} has no field '{}'", desc.full_name(), step.name);
        if !hint.is_empty() {
            m.push_str(&format!(" (did you mean '{}'?)", hint[0]));
        }
        m
    })?;
    let mut rest = &steps[1..];

    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("maps are messages")
        };
        let key_text = match &step.key {
            Some(k) => k.clone(),
            None => {
                let k = rest.first().ok_or_else(|| {
                    format!(
                        "'{path}': name a map entry, like {0}.KEY or {0}[KEY]",
                        field.name()
                    )
                })?;
                rest = &rest[1..];
                k.name.clone()
            }
        };
        let key_kind = entry.map_entry_key_field().kind();
        let value_kind = entry.map_entry_value_field().kind();
        let key =
            to_map_key(parse_value(&key_kind, &key_text).map_err(|e| format!("map key: {e}"))?);
        let map = msg
            .get_field_mut(&field)
            .as_map_mut()
            .expect("a map field holds a map");
        if rest.is_empty() {
            map.insert(key, parse_value(&value_kind, text)?);
            return Ok(());
        }
        let Kind::Message(vm) = value_kind else {
            return Err(format!(
                "'{path}': the values of {} are not messages",
                field.name()
            ));
        };
        let entry_value = map
            .entry(key)
            .or_insert_with(|| Value::Message(DynamicMessage::new(vm)));
        let inner = entry_value
            .as_message_mut()
            .expect("message map values are messages");
        return set_steps(inner, rest, text, path);
    }

    if field.is_list() {
        let kind = field.kind();
        let list = msg
            .get_field_mut(&field)
            .as_list_mut()
            .expect("a repeated field holds a list");
        let index = match &step.key {
            Some(k) => {
                let i: usize = k
                    .parse()
                    .map_err(|_| format!("'{k}' is not a list index"))?;
                if i > list.len() {
                    return Err(format!(
                        "{} has {} elements; index {i} would leave a gap",
                        field.name(),
                        list.len()
                    ));
                }
                Some(i)
            }
            None => None,
        };
        if rest.is_empty() {
            let v = parse_value(&kind, text)?;
            match index {
                Some(i) if i < list.len() => list[i] = v,
                _ => list.push(v),
            }
            return Ok(());
        }
        let Kind::Message(m) = kind else {
            return Err(format!("'{path}': {} holds no messages", field.name()));
        };
        let i = match index {
            Some(i) if i < list.len() => i,
            _ => {
                list.push(Value::Message(DynamicMessage::new(m)));
                list.len() - 1
            }
        };
        let inner = list[i]
            .as_message_mut()
            .expect("message lists hold messages");
        return set_steps(inner, rest, text, path);
    }

    if step.key.is_some() {
        return Err(format!(
            "'{path}': {} is neither a list nor a map",
            field.name()
        ));
    }
    if rest.is_empty() {
        let v = parse_value(&field.kind(), text)?;
        msg.set_field(&field, v);
        return Ok(());
    }
    if !matches!(field.kind(), Kind::Message(_)) {
        return Err(format!("'{path}': {} is not a message", field.name()));
    }
    // Setting a member of a oneof through its sub-message also selects it.
    if !msg.has_field(&field) {
        let Kind::Message(m) = field.kind() else {
            unreachable!()
        };
        msg.set_field(&field, Value::Message(DynamicMessage::new(m)));
    }
    let inner = msg
        .get_field_mut(&field)
        .as_message_mut()
        .expect("message fields hold messages");
    set_steps(inner, rest, text, path)
}

pub(crate) fn to_map_key(v: Value) -> MapKey {
    v.into_map_key().expect("map keys are scalar kinds")
}

/// Text-format input nested deeper than this is refused before parsing (the
/// parser recurses).
const MAX_TEXT_DEPTH: usize = 100;

fn deserialize_options(ignore_unknown: bool) -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(!ignore_unknown)
}

/// One JSON value as a message of `desc`.
pub fn message_from_json(desc: &MessageDescriptor, json: &str) -> Result<DynamicMessage> {
    message_from_json_with(desc, json, false)
}

/// [`message_from_json`]; `ignore_unknown`: keys that name no field (and
/// enum names the type lacks) are skipped, as `--ignore-unknown` asks.
pub fn message_from_json_with(
    desc: &MessageDescriptor,
    json: &str,
    ignore_unknown: bool,
) -> Result<DynamicMessage> {
    let mut de = serde_json::Deserializer::from_str(json);
    let first = DynamicMessage::deserialize_with_options(
        desc.clone(),
        &mut de,
        &deserialize_options(ignore_unknown),
    )
    .and_then(|msg| de.end().map(|()| msg));
    match first {
        Ok(msg) => Ok(msg),
        // prost-reflect refuses some JSON the other runtimes read; put it in
        // the form it takes and read again.
        Err(e) => {
            let mut empty_anys = Vec::new();
            let retry = serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|mut value| {
                    let anys = take_empty_anys(&mut value, desc, &mut Vec::new(), &mut empty_anys);
                    (normalize_json(&mut value, desc) | anys).then_some(value)
                });
            match retry {
                Some(value) => DynamicMessage::deserialize_with_options(
                    desc.clone(),
                    value,
                    &deserialize_options(ignore_unknown),
                )
                .map(|mut msg| {
                    for path in &empty_anys {
                        set_empty_message(&mut msg, path);
                    }
                    msg
                })
                .with_context(|| format!("not a valid {} in JSON", desc.full_name())),
                None => {
                    let mut what = format!("not a valid {} in JSON", desc.full_name());
                    if let Some(key) = key_at(json, e.line(), e.column()) {
                        what.push_str(&format!(" (the value of \"{key}\")"));
                    }
                    Err(anyhow::Error::from(e).context(what))
                }
            }
        }
    }
}

/// An Any written `{}` (the empty Any, which the runtimes read) is refused
/// by prost-reflect, which wants `@type`: such values of singular fields
/// (in singular sub-messages) are taken out, their paths noted in `found`,
/// and set empty once the rest is read. `true` when there was one.
fn take_empty_anys(
    value: &mut serde_json::Value,
    desc: &MessageDescriptor,
    path: &mut Vec<FieldDescriptor>,
    found: &mut Vec<Vec<FieldDescriptor>>,
) -> bool {
    let serde_json::Value::Object(map) = value else {
        return false;
    };
    let mut took = false;
    let mut remove = Vec::new();
    for (key, v) in map.iter_mut() {
        let Some(field) = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
        else {
            continue;
        };
        let Kind::Message(m) = field.kind() else {
            continue;
        };
        if field.is_list() || field.is_map() {
            continue;
        }
        path.push(field.clone());
        if m.full_name() == "google.protobuf.Any" {
            if v.as_object().is_some_and(serde_json::Map::is_empty) {
                found.push(path.clone());
                remove.push(key.clone());
                took = true;
            }
        } else if !m.full_name().starts_with("google.protobuf.") {
            took |= take_empty_anys(v, &m, path, found);
        }
        path.pop();
    }
    for key in remove {
        map.remove(&key);
    }
    took
}

/// Sets the message field at `path` (singular fields from `msg` down) to
/// its empty message, creating the messages on the way.
fn set_empty_message(msg: &mut DynamicMessage, path: &[FieldDescriptor]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Kind::Message(m) = first.kind() else {
        return;
    };
    let mut sub = msg
        .get_field(first)
        .as_message()
        .cloned()
        .unwrap_or_else(|| DynamicMessage::new(m));
    set_empty_message(&mut sub, rest);
    msg.set_field(first, Value::Message(sub));
}

/// The object key whose value holds position `line`:`column` (1-based, as
/// serde_json reports errors) of `json`: prost-reflect's messages say what is
/// wrong but not in which field.
fn key_at(json: &str, line: usize, column: usize) -> Option<String> {
    if line == 0 {
        return None;
    }
    let line_start: usize = json
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let offset = (line_start + column).min(json.len());
    let bytes = json.as_bytes();
    // Walk back to the ':' that opened this value, stepping over nested
    // arrays and objects that closed before the error.
    let mut depth = 0i32;
    let mut i = offset;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b']' | b'}' => depth += 1,
            b'[' | b'{' if depth > 0 => depth -= 1,
            b'{' => return None,
            b':' if depth == 0 => {
                let before = json[..i].trim_end();
                let body = before.strip_suffix('"')?;
                let start = body.rfind('"')?;
                return Some(body[start + 1..].to_owned());
            }
            _ => {}
        }
    }
    None
}

/// Rewrites, along `desc`, the JSON prost-reflect refuses but protobuf's
/// JSON mapping allows; returns whether anything changed:
/// - numbers in `float` fields beyond f32::MAX that round to it (such as
///   3.4028235e38, the shortest form of FLT_MAX, which JSON printers write);
/// - an Any holding `google.protobuf.Empty` written as just its `@type`
///   (prost-reflect wants `"value": {}`).
fn normalize_json(value: &mut serde_json::Value, desc: &MessageDescriptor) -> bool {
    fn fix(v: &mut serde_json::Value, kind: &Kind) -> bool {
        match (kind, v) {
            (Kind::Float, serde_json::Value::Number(n)) => {
                let Some(x) = n.as_f64() else { return false };
                let rounded = x as f32;
                if x.abs() > f64::from(f32::MAX) && rounded.is_finite() {
                    if let Some(r) = serde_json::Number::from_f64(f64::from(rounded)) {
                        *n = r;
                        return true;
                    }
                }
                false
            }
            // An integer quoted with an exponent or a fraction ("1e5",
            // "3.0"): the runtimes take it when it is a whole number.
            (
                Kind::Int32
                | Kind::Sint32
                | Kind::Sfixed32
                | Kind::Int64
                | Kind::Sint64
                | Kind::Sfixed64
                | Kind::Uint32
                | Kind::Fixed32
                | Kind::Uint64
                | Kind::Fixed64,
                serde_json::Value::String(s),
            ) if s.contains(['e', 'E', '.']) => {
                let Ok(x) = s.parse::<f64>() else {
                    return false;
                };
                // Exact below 2^53 only: larger ones are left to be refused.
                if x.fract() != 0.0 || x.abs() >= 9_007_199_254_740_992.0 {
                    return false;
                }
                *s = format!("{}", x as i64);
                true
            }
            (Kind::Message(m), v) if m.full_name() == "google.protobuf.FloatValue" => {
                fix(v, &Kind::Float)
            }
            (Kind::Message(m), serde_json::Value::Object(obj))
                if m.full_name() == "google.protobuf.Any" =>
            {
                let Some(name) = obj
                    .get("@type")
                    .and_then(|t| t.as_str())
                    .and_then(|t| t.rsplit('/').next())
                else {
                    return false;
                };
                let Some(inner) = m.parent_pool().get_message_by_name(name) else {
                    return false;
                };
                match inner.full_name() {
                    "google.protobuf.Empty" if !obj.contains_key("value") => {
                        obj.insert(
                            "value".into(),
                            serde_json::Value::Object(Default::default()),
                        );
                        true
                    }
                    n if n.starts_with("google.protobuf.") => obj
                        .get_mut("value")
                        .is_some_and(|v| fix(v, &Kind::Message(inner.clone()))),
                    _ => {
                        let mut inner_value = serde_json::Value::Object(std::mem::take(obj));
                        let changed = normalize_json(&mut inner_value, &inner);
                        if let serde_json::Value::Object(o) = inner_value {
                            *obj = o;
                        }
                        changed
                    }
                }
            }
            (Kind::Message(m), v @ serde_json::Value::Object(_)) => normalize_json(v, m),
            _ => false,
        }
    }
    let serde_json::Value::Object(map) = value else {
        return false;
    };
    let mut changed = false;
    for (key, v) in map.iter_mut() {
        let Some(field) = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))
        else {
            continue;
        };
        let kind = match field.kind() {
            Kind::Message(entry) if field.is_map() => entry.map_entry_value_field().kind(),
            k => k,
        };
        changed |= match v {
            serde_json::Value::Array(items) if field.is_list() => {
                items.iter_mut().fold(false, |c, i| fix(i, &kind) | c)
            }
            serde_json::Value::Object(entries) if field.is_map() => {
                entries.values_mut().fold(false, |c, i| fix(i, &kind) | c)
            }
            other => fix(other, &kind),
        };
    }
    changed
}

/// One message in text format.
pub fn message_from_text(desc: &MessageDescriptor, text: &str) -> Result<DynamicMessage> {
    let text = &*prepare_text(text)?;
    let msg = match DynamicMessage::parse_text_format(desc.clone(), text) {
        Ok(m) => m,
        Err(e) => {
            // A group named by its field's name (`data {` for `group Data`),
            // which protoc takes and prost-reflect does not: named by its
            // type and read again.
            let what = || format!("not a valid {} in text format", desc.full_name());
            let grouped = group_fields_by_type_name(desc, text);
            // A field the message reserves by name is skipped with its
            // value, as protoc does (prost-reflect refuses it).
            let base = grouped.as_deref().unwrap_or(text);
            let pruned = drop_reserved_fields(desc, base);
            match (grouped.is_some(), pruned) {
                (_, Some(t)) => {
                    if let Ok(m) = DynamicMessage::parse_text_format(desc.clone(), &t) {
                        m
                    } else {
                        // Its errors' positions would not match the input.
                        return Err(anyhow!("{}", describe_text_error(text, &e)))
                            .with_context(what);
                    }
                }
                (false, None) => {
                    return Err(anyhow!("{}", describe_text_error(text, &e))).with_context(what);
                }
                // Then the error is of the text as read then (a name that
                // changed only its case keeps its position).
                (true, None) => DynamicMessage::parse_text_format(desc.clone(), base)
                    .map_err(|e| anyhow!("{}", describe_text_error(base, &e)))
                    .with_context(what)?,
            }
        }
    };
    // A closed enum takes only its own values (protoc refuses others in
    // text; on the wire they are kept as unknown fields).
    if let Some(why) = unknown_closed_enum(&msg, "") {
        return Err(anyhow!("{why}"))
            .with_context(|| format!("not a valid {} in text format", desc.full_name()));
    }
    Ok(msg)
}

/// `text` with each group field written by its field name (`data {`)
/// written by its type's name (`Data {`), as prost-reflect reads groups;
/// `None` when there is none. Follows the message types through the braces;
/// where it cannot tell (extensions, Any), it leaves the text alone.
fn group_fields_by_type_name(desc: &MessageDescriptor, text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<Option<MessageDescriptor>> = vec![Some(desc.clone())];
    // The last field name seen (and where it is in `out`), for the `{` after it.
    let mut pending: Option<(String, usize)> = None;
    let mut after_colon = false;
    // The field of a list of messages being read, and where its name is.
    let mut in_list: Option<(String, usize)> = None;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' | b'\'' => {
                let start = i;
                i = skip_string(bytes, i);
                out.push_str(&text[start..i]);
                pending = None;
                after_colon = false;
                continue;
            }
            b'#' => {
                let start = i;
                i = skip_comment(bytes, i);
                out.push_str(&text[start..i]);
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                pending = Some((text[start..i].to_owned(), out.len()));
                out.push_str(&text[start..i]);
                after_colon = false;
                continue;
            }
            b'{' | b'<' => {
                let top = stack.last().cloned().flatten();
                // In a list (`f: [{...}, {...}]`) the name serves each element.
                let pending_or_list = pending.clone().or_else(|| {
                    // The name is rewritten at the first element only.
                    let first = in_list.clone();
                    if let Some((_, at)) = &mut in_list {
                        *at = usize::MAX;
                    }
                    first
                });
                let field = match (&top, &pending_or_list) {
                    (Some(m), Some((name, at))) => {
                        let f = m.get_field_by_name(name);
                        // A type that two group fields share names neither.
                        let unique = |g: &MessageDescriptor| {
                            m.fields()
                                .filter(|o| o.is_group() && o.kind().as_message() == Some(g))
                                .count()
                                == 1
                        };
                        if let Some(Kind::Message(g)) =
                            f.as_ref().filter(|f| f.is_group()).map(|f| f.kind())
                        {
                            if g.name() != name && *at != usize::MAX && unique(&g) {
                                out.replace_range(*at..*at + name.len(), g.name());
                                changed = true;
                            }
                        }
                        f
                    }
                    _ => None,
                };
                stack.push(field.and_then(|f| match f.kind() {
                    Kind::Message(m) => Some(m),
                    _ => None,
                }));
                pending = None;
            }
            b'}' | b'>' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                pending = None;
            }
            b'[' if !after_colon => {
                // An extension or Any type name: not followed.
                let start = i;
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push_str(&text[start..i]);
                pending = Some((String::new(), out.len()));
                continue;
            }
            b':' => after_colon = true,
            b'[' => in_list = pending.take(),
            b']' => in_list = None,
            b',' => {}
            c if c.is_ascii_whitespace() => {}
            _ => {
                pending = None;
                after_colon = false;
            }
        }
        // The character whole (multi-byte ones too).
        let ch = text[i..].chars().next().expect("at a character boundary");
        out.push(ch);
        i += ch.len_utf8();
    }
    changed.then_some(out)
}

/// `text` without the fields the messages reserve by name (`reserved
/// "old_name";`), each with its value; `None` when there is none.
fn drop_reserved_fields(desc: &MessageDescriptor, text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<Option<MessageDescriptor>> = vec![Some(desc.clone())];
    let mut pending: Option<String> = None;
    // After a ':' (a value comes, not a field name) or inside a list.
    let mut value_next = false;
    let mut lists = 0usize;
    let mut dropped = false;
    let reserved = |m: &MessageDescriptor, name: &str| {
        m.descriptor_proto().reserved_name.iter().any(|r| r == name)
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' | b'\'' => {
                let start = i;
                i = skip_string(bytes, i);
                out.push_str(&text[start..i]);
                value_next = false;
                continue;
            }
            b'#' => {
                let start = i;
                i = skip_comment(bytes, i);
                out.push_str(&text[start..i]);
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let name = &text[start..i];
                let field_position = !value_next && lists == 0;
                let top = stack.last().cloned().flatten();
                if field_position && top.as_ref().is_some_and(|m| reserved(m, name)) {
                    i = skip_field_value(bytes, i);
                    dropped = true;
                    continue;
                }
                out.push_str(name);
                pending = field_position.then(|| name.to_owned());
                value_next = false;
                continue;
            }
            b'{' | b'<' => {
                let top = stack.last().cloned().flatten();
                let next = match (&top, &pending) {
                    (Some(m), Some(name)) => m
                        .get_field_by_name(name)
                        .or_else(|| {
                            m.fields().find(|f| {
                                f.is_group()
                                    && f.kind().as_message().is_some_and(|g| g.name() == name)
                            })
                        })
                        .and_then(|f| f.kind().as_message().cloned()),
                    _ => None,
                };
                stack.push(next);
                pending = None;
                value_next = false;
                // Elements of a list of messages: the list ends at ']'.
            }
            b'}' | b'>' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                value_next = false;
            }
            b'[' if !value_next && lists == 0 => {
                // An extension or Any type name: copied, not followed.
                let start = i;
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push_str(&text[start..i]);
                pending = None;
                continue;
            }
            b'[' => lists += 1,
            b']' => lists = lists.saturating_sub(1),
            b':' => value_next = true,
            c if c.is_ascii_whitespace() || c == b',' || c == b';' => {}
            _ => value_next = false,
        }
        let ch = text[i..].chars().next().expect("at a character boundary");
        out.push(ch);
        i += ch.len_utf8();
    }
    dropped.then_some(out)
}

/// The index of the end of the line of the comment starting at `i`.
fn skip_comment(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

/// The index after the string literal starting at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    let quote = bytes[i];
    i += 1;
    while i < bytes.len() && bytes[i] != quote {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(bytes.len())
}

/// The index after a field's value (from just after its name): an optional
/// `:`, then a message in braces, a list in brackets, strings, or a token;
/// and a `,` or `;` after it.
fn skip_field_value(bytes: &[u8], mut i: usize) -> usize {
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    i = skip_space(i);
    if i < bytes.len() && bytes[i] == b':' {
        i = skip_space(i + 1);
    }
    if i < bytes.len() && matches!(bytes[i], b'{' | b'<' | b'[') {
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'"' | b'\'' => {
                    i = skip_string(bytes, i);
                    continue;
                }
                b'{' | b'<' | b'[' => depth += 1,
                b'}' | b'>' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    } else if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
        // Adjacent strings are one value.
        while i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
            i = skip_space(skip_string(bytes, i));
        }
    } else {
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
        {
            i += 1;
        }
    }
    let j = skip_space(i);
    if j < bytes.len() && matches!(bytes[j], b',' | b';') {
        return j + 1;
    }
    i
}

/// The first field of a closed (proto2) enum holding a number the enum does
/// not name, said with its path.
fn unknown_closed_enum(msg: &DynamicMessage, path: &str) -> Option<String> {
    let check = |kind: &Kind, v: &Value, at: &str| -> Option<String> {
        match (kind, v) {
            (Kind::Enum(e), Value::EnumNumber(n))
                if e.parent_file().syntax() == prost_reflect::Syntax::Proto2
                    && e.get_value(*n).is_none() =>
            {
                Some(format!(
                    "{at}: {n} is not a value of {}, a closed enum",
                    e.name()
                ))
            }
            (_, Value::Message(m)) => unknown_closed_enum(m, at),
            _ => None,
        }
    };
    for (field, value) in msg.fields() {
        let at = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        let kind = match field.kind() {
            Kind::Message(entry) if field.is_map() => entry.map_entry_value_field().kind(),
            k => k,
        };
        let found = match value {
            Value::List(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| check(&kind, v, &format!("{at}[{i}]"))),
            Value::Map(map) => map.values().find_map(|v| check(&kind, v, &at)),
            v => check(&kind, v, &at),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// prost-reflect's text errors carry a byte span; say line:column.
fn describe_text_error(text: &str, err: &prost_reflect::text_format::ParseError) -> String {
    use miette::Diagnostic;
    let offset = err.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    match offset {
        Some(o) if o <= text.len() => {
            let before = &text[..o];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{line}:{col}: {err}")
        }
        _ => err.to_string(),
    }
}

/// Readies text-format input for prost-reflect's parser:
/// - refuses nesting deeper than [`MAX_TEXT_DEPTH`] (the parser recurses, so
///   hostile input would overflow the stack);
/// - writes the optional `:` in `field [{...}, {...}]` (a list of messages
///   without a colon, which protoc accepts and prost-reflect does not).
fn prepare_text(text: &str) -> Result<std::borrow::Cow<'_, str>> {
    #[derive(PartialEq)]
    enum Prev {
        Colon,
        Other,
    }
    let bytes = text.as_bytes();
    let mut inserts: Vec<usize> = Vec::new();
    let (mut depth, mut line, mut i) = (0usize, 1usize, 0usize);
    let mut prev = Prev::Other;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i < bytes.len() && bytes[i] == b {
                    i += 1;
                }
                prev = Prev::Other;
            }
            b'{' | b'<' | b'[' => {
                depth += 1;
                if depth > MAX_TEXT_DEPTH {
                    return Err(anyhow!(
                        "line {line}: text format nested deeper than {MAX_TEXT_DEPTH} levels"
                    ));
                }
                i += 1;
                prev = Prev::Other;
            }
            b'}' | b'>' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
                prev = Prev::Other;
            }
            b':' => {
                i += 1;
                prev = Prev::Colon;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // A name (not a value after ':') followed by '[' opens a
                // list of messages.
                if prev != Prev::Colon && next_significant(bytes, i) == Some(b'[') {
                    inserts.push(i);
                }
                prev = Prev::Other;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                prev = Prev::Other;
            }
        }
    }
    if inserts.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len() + inserts.len());
    let mut last = 0;
    for at in inserts {
        out.push_str(&text[last..at]);
        out.push(':');
        last = at;
    }
    out.push_str(&text[last..]);
    Ok(std::borrow::Cow::Owned(out))
}

/// The next byte that is not whitespace or inside a `#` comment.
fn next_significant(bytes: &[u8], mut i: usize) -> Option<u8> {
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b if b.is_ascii_whitespace() => i += 1,
            b => return Some(b),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn cmd() -> DynamicMessage {
        DynamicMessage::new(
            Schema::builtin()
                .unwrap()
                .message("cvp.CommandMessage")
                .unwrap(),
        )
    }

    #[test]
    fn json_floats_that_round_to_flt_max_are_accepted() {
        let schema = Schema::builtin().unwrap();
        let desc = schema.message("cvp.ClimateControlResult").unwrap();
        // The shortest form of FLT_MAX, as our own JSON output writes it.
        let msg = message_from_json(
            &desc,
            r#"{"cabin_temp_c": 3.4028235e38, "target_temp_c": -3.4028235e38}"#,
        )
        .unwrap();
        assert_eq!(
            msg.get_field_by_name("cabin_temp_c").unwrap().as_f32(),
            Some(f32::MAX)
        );
        assert_eq!(
            msg.get_field_by_name("target_temp_c").unwrap().as_f32(),
            Some(f32::MIN)
        );
        // Really out of range stays an error.
        assert!(message_from_json(&desc, r#"{"cabin_temp_c": 1e39}"#).is_err());
    }

    #[test]
    fn text_lists_of_messages_may_omit_the_colon() {
        let schema = Schema::builtin().unwrap();
        let desc = schema.message("cvp.VehicleTelemetryMessage").unwrap();
        for text in [
            r#"tires [{position: "FL"}, {position: "FR"}]"#,
            "tires # the list\n [{position: \"FL\"}, {position: \"FR\"}]",
            r#"tires: [{position: "FL"}, {position: "FR"}]"#,
        ] {
            let m = message_from_text(&desc, text).unwrap();
            assert_eq!(
                m.get_field_by_name("tires")
                    .unwrap()
                    .as_list()
                    .unwrap()
                    .len(),
                2,
                "{text}"
            );
        }
        // A value followed by an extension name is not a list.
        assert_eq!(
            prepare_text("type: COMMAND [x.y]: 1").unwrap(),
            "type: COMMAND [x.y]: 1"
        );
        assert!(
            prepare_text(&"a {".repeat(100_000))
                .unwrap_err()
                .to_string()
                .contains("deeper than")
        );
    }

    #[test]
    fn json_errors_name_the_field() {
        let desc = cmd().descriptor();
        for (json, key) in [
            (r#"{"version": -1}"#, "version"),
            (r#"{"engine_start": {"run_minutes": -1}}"#, "run_minutes"),
            (
                r#"{"door_lock": {"doors": ["FRONT_LEFT", "NOPE"]}}"#,
                "doors",
            ),
            (
                r#"{"type": "COMMAND", "subtype": 1, "priority": "URGENT"}"#,
                "priority",
            ),
        ] {
            let e = format!("{:#}", message_from_json(&desc, json).unwrap_err());
            assert!(
                e.contains(&format!("the value of \"{key}\"")),
                "{json}: {e}"
            );
        }
    }

    #[test]
    fn ranges_are_checked_with_the_reason() {
        assert_eq!(
            parse_value(&Kind::Int32, "2147483647").unwrap(),
            Value::I32(i32::MAX)
        );
        let e = parse_value(&Kind::Int32, "2147483648").unwrap_err();
        assert!(e.contains("out of range for int32"), "{e}");
        let e = parse_value(&Kind::Uint32, "-1").unwrap_err();
        assert!(e.contains("negative"), "{e}");
        assert_eq!(parse_value(&Kind::Uint64, "0xff").unwrap(), Value::U64(255));
        assert!(parse_value(&Kind::Float, "1e39").is_err());
        assert!(matches!(parse_value(&Kind::Float, "nan").unwrap(), Value::F32(v) if v.is_nan()));
        assert_eq!(
            parse_value(&Kind::Double, "-inf").unwrap(),
            Value::F64(f64::NEG_INFINITY)
        );
    }

    #[test]
    fn bytes_take_hex_or_prefixed_text() {
        assert_eq!(parse_bytes("0a 0B").unwrap(), vec![10, 11]);
        assert_eq!(parse_bytes("utf8:hi").unwrap(), b"hi".to_vec());
        assert_eq!(parse_bytes("base64:aGk=").unwrap(), b"hi".to_vec());
        assert!(parse_bytes("zz").is_err());
    }

    #[test]
    fn set_walks_paths_into_oneofs_lists_and_maps() {
        let mut m = cmd();
        apply_set(&mut m, "subtype=ENGINE_START").unwrap();
        apply_set(&mut m, "engine_start.run_minutes=15").unwrap();
        apply_set(&mut m, "engine_start.schedule.days=MONDAY").unwrap();
        apply_set(&mut m, "engine_start.schedule.days=friday").unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"subtype\":\"ENGINE_START\""), "{json}");
        assert!(json.contains("\"days\":[\"MONDAY\",\"FRIDAY\"]"), "{json}");

        apply_set(&mut m, "climate_control.seat_heaters.driver=true").unwrap();
        apply_set(&mut m, "climate_control.seat_heaters[rear left]=yes").unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            !json.contains("engineStart"),
            "setting another oneof member clears the first: {json}"
        );
        assert!(json.contains("\"rear left\":true"), "{json}");
    }

    #[test]
    fn set_refuses_unknown_fields_with_a_suggestion() {
        let e = apply_set(&mut cmd(), "subtyp=1").unwrap_err();
        assert!(e.contains("did you mean 'subtype'"), "{e}");
        assert!(apply_set(&mut cmd(), "version").is_err());
        assert!(
            apply_set(&mut cmd(), "version=-3")
                .unwrap_err()
                .contains("negative")
        );
    }

    #[test]
    fn a_field_mask_is_typed_as_tables_show_it_or_as_json() {
        let pool = prost_reflect::DescriptorPool::global();
        let m = pool
            .get_message_by_name("google.protobuf.FieldMask")
            .unwrap();
        let kind = Kind::Message(m);
        for text in ["a.b, c", "\"a.b,c\""] {
            let v = parse_value(&kind, text).unwrap();
            let paths = v.as_message().unwrap().get_field_by_name("paths").unwrap();
            let paths: Vec<&str> = paths
                .as_list()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            assert_eq!(paths, ["a.b", "c"], "{text}");
            // And what a table shows types back the same.
            let shown = crate::render::table::display_value(&kind, &v, false, 0);
            assert_eq!(parse_value(&kind, &shown).unwrap(), v);
        }
        assert!(
            parse_value(&kind, "a b")
                .unwrap_err()
                .contains("not a field path")
        );
    }

    #[test]
    fn timestamps_and_durations_take_their_usual_forms() {
        let mut m = cmd();
        apply_set(&mut m, "time_stamp=2024-05-01T10:00:00Z").unwrap();
        apply_set(&mut m, "expires_in=1.5s").unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains("\"timeStamp\":\"2024-05-01T10:00:00Z\""),
            "{json}"
        );
        assert!(json.contains("\"expiresIn\":\"1.500s\""), "{json}");
        assert!(
            apply_set(&mut m, "time_stamp=yesterday")
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
