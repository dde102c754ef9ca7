//! Nested tables: field number, name, type, value (the original tool's
//! columns). Enums as `NAME (n)`, Timestamps as RFC 3339, Durations as
//! `1.5s`, bytes as hex, sub-messages as tables inside the value cell,
//! unknown fields listed with their wire type and a raw reading.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, SerializeOptions, Value,
};

use crate::codec::raw::{self, RawField, RawValue};
use crate::render::text::{c_escape, format_double, format_float, present_value};

/// Hex of long byte strings is broken into lines of this many bytes.
const HEX_LINE_BYTES: usize = 32;
/// Repeated scalars are shown this many to a line.
const ITEMS_PER_LINE: usize = 8;
/// Tables nest this deep; deeper sub-messages are shown as text format
/// inside the cell (a table around a table re-pads every line of it, so
/// deep nesting would grow the output with the square of the depth).
const MAX_TABLE_DEPTH: usize = 8;
/// Lines of text inside a cell are broken at this many characters.
const CELL_LINE: usize = 100;
/// Without a schema, a byte string that is neither text nor a message is
/// shown up to this many bytes in a table (`-o text` and `-o json` show all).
const RAW_CELL_BYTES: usize = 1024;

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    if let Some(c) = t.column_mut(0) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

/// The table of a decoded message.
pub fn message_table(msg: &DynamicMessage, emit_defaults: bool) -> String {
    build(msg, emit_defaults, 0).to_string()
}

fn build(msg: &DynamicMessage, emit_defaults: bool, depth: usize) -> Table {
    let mut t = new_table(&["#", "field", "type", "value"]);
    let desc = msg.descriptor();
    let mut rows = 0;
    for field in desc.fields() {
        let value = match present_value(msg, &field) {
            Some(v) => v,
            None if emit_defaults && !field.supports_presence() => msg.get_field(&field),
            None => continue,
        };
        rows += add_field_rows(&mut t, &field, &value, emit_defaults, depth);
    }
    let mut exts: Vec<_> = msg.extensions().collect();
    exts.sort_by_key(|(e, _)| e.number());
    for (ext, value) in exts {
        t.add_row(vec![
            Cell::new(ext.number()),
            Cell::new(format!("[{}]", ext.full_name())),
            Cell::new(kind_name(&ext.kind())),
            Cell::new(display_value(&ext.kind(), value, emit_defaults, depth)),
        ]);
        rows += 1;
    }
    let mut unknown = Vec::new();
    for f in msg.unknown_fields() {
        f.encode(&mut unknown);
    }
    if let Ok(fields) = raw::parse(&unknown) {
        for f in &fields {
            t.add_row(vec![
                Cell::new(f.number),
                Cell::new("(unknown)"),
                Cell::new(raw_wire_name(&f.value)),
                Cell::new(raw_display(&f.value, depth)),
            ]);
            rows += 1;
        }
    }
    if rows == 0 {
        t.add_row(vec!["", "", "", "(no fields set)"]);
    }
    t
}

fn add_field_rows(
    t: &mut Table,
    field: &FieldDescriptor,
    value: &Value,
    emit_defaults: bool,
    depth: usize,
) -> usize {
    let kind = field.kind();
    match value {
        Value::Map(map) => {
            let Kind::Message(entry) = &kind else {
                return 0;
            };
            let key_kind = entry.map_entry_key_field().kind();
            let value_kind = entry.map_entry_value_field().kind();
            let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let ty = format!("map<{}, {}>", kind_name(&key_kind), kind_name(&value_kind));
            if entries.is_empty() {
                t.add_row(vec![
                    Cell::new(field.number()),
                    Cell::new(field.name()),
                    Cell::new(&ty),
                    Cell::new("{}"),
                ]);
                return 1;
            }
            for (k, v) in &entries {
                let key = match k {
                    MapKey::String(s) => format!("{:?}", s),
                    other => display_value(
                        &key_kind,
                        &crate::wire::encode::map_key_value(other),
                        false,
                        depth,
                    ),
                };
                t.add_row(vec![
                    Cell::new(field.number()),
                    Cell::new(format!("{}[{key}]", field.name())),
                    Cell::new(&ty),
                    Cell::new(display_value(&value_kind, v, emit_defaults, depth)),
                ]);
            }
            entries.len()
        }
        Value::List(items) if matches!(kind, Kind::Message(_)) && !is_inline_message(&kind) => {
            if items.is_empty() {
                t.add_row(vec![
                    Cell::new(field.number()),
                    Cell::new(field.name()),
                    Cell::new(format!("repeated {}", kind_name(&kind))),
                    Cell::new("[]"),
                ]);
                return 1;
            }
            for (i, item) in items.iter().enumerate() {
                t.add_row(vec![
                    Cell::new(field.number()),
                    Cell::new(format!("{}[{i}]", field.name())),
                    Cell::new(kind_name(&kind)),
                    Cell::new(display_value(&kind, item, emit_defaults, depth)),
                ]);
            }
            items.len()
        }
        Value::List(items) => {
            let shown: Vec<String> = items
                .iter()
                .map(|v| display_value(&kind, v, emit_defaults, depth))
                .collect();
            let mut text = String::from("[");
            for (i, s) in shown.iter().enumerate() {
                if i > 0 {
                    text.push_str(if i % ITEMS_PER_LINE == 0 {
                        ",\n "
                    } else {
                        ", "
                    });
                }
                text.push_str(s);
            }
            text.push(']');
            t.add_row(vec![
                Cell::new(field.number()),
                Cell::new(field.name()),
                Cell::new(format!("repeated {}", kind_name(&kind))),
                Cell::new(text),
            ]);
            1
        }
        single => {
            let ty = if field.supports_presence()
                && field.containing_oneof().is_some_and(|o| o.is_synthetic())
            {
                format!("optional {}", kind_name(&kind))
            } else {
                kind_name(&kind)
            };
            t.add_row(vec![
                Cell::new(field.number()),
                Cell::new(field.name()),
                Cell::new(ty),
                Cell::new(display_value(&kind, single, emit_defaults, depth)),
            ]);
            1
        }
    }
}

/// Well-known types shown as one value rather than a table.
fn is_inline_message(kind: &Kind) -> bool {
    matches!(kind, Kind::Message(m) if m.full_name().starts_with("google.protobuf."))
}

/// A type as a user reads it: scalar names, or the short name of a message or enum.
pub fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => m.name().into(),
        Kind::Enum(e) => e.name().into(),
    }
}

/// One value as a table cell shows it.
pub fn display_value(kind: &Kind, value: &Value, emit_defaults: bool, depth: usize) -> String {
    match value {
        Value::Bool(v) => v.to_string(),
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::U32(v) => v.to_string(),
        Value::U64(v) => v.to_string(),
        Value::F32(v) => format_float(*v),
        Value::F64(v) => format_double(*v),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => display_string(s),
        Value::Bytes(b) => display_bytes(b),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => match e.get_value(*n) {
                Some(v) => format!("{} ({n})", v.name()),
                None => format!("{n} (not in {})", e.name()),
            },
            _ => n.to_string(),
        },
        Value::Message(m) => display_message(m, emit_defaults, depth),
        Value::List(items) => {
            let shown: Vec<String> = items
                .iter()
                .map(|v| display_value(kind, v, emit_defaults, depth))
                .collect();
            format!("[{}]", shown.join(", "))
        }
        Value::Map(_) => String::new(),
    }
}

/// Breaks lines longer than [`CELL_LINE`] characters.
fn wrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / CELL_LINE);
    for line in text.trim_end_matches('\n').split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        let mut count = 0;
        for c in line.chars() {
            if count == CELL_LINE {
                out.push('\n');
                count = 0;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

/// Strings as they are, with control characters escaped so rows stay rows.
fn display_string(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        s.to_owned()
    }
}

fn display_bytes(b: &[u8]) -> String {
    if b.is_empty() {
        return "(empty)".into();
    }
    b.chunks(HEX_LINE_BYTES)
        .map(hex::encode)
        .collect::<Vec<_>>()
        .join("\n")
}

fn display_message(m: &DynamicMessage, emit_defaults: bool, depth: usize) -> String {
    let name = m.descriptor().full_name().to_owned();
    let field = |n: &str| m.get_field_by_name(n).map(|v| v.into_owned());
    match name.as_str() {
        "google.protobuf.Timestamp" => {
            let ts = prost_types::Timestamp {
                seconds: field("seconds").and_then(|v| v.as_i64()).unwrap_or(0),
                nanos: field("nanos").and_then(|v| v.as_i32()).unwrap_or(0),
            };
            if (0..1_000_000_000).contains(&ts.nanos)
                && (-62_135_596_800..=253_402_300_799).contains(&ts.seconds)
            {
                ts.to_string()
            } else {
                format!(
                    "(invalid Timestamp: seconds {}, nanos {})",
                    ts.seconds, ts.nanos
                )
            }
        }
        "google.protobuf.Duration" => {
            let d = prost_types::Duration {
                seconds: field("seconds").and_then(|v| v.as_i64()).unwrap_or(0),
                nanos: field("nanos").and_then(|v| v.as_i32()).unwrap_or(0),
            };
            d.to_string()
        }
        n if n.starts_with("google.protobuf.")
            && n.ends_with("Value")
            && m.descriptor().fields().len() == 1 =>
        {
            let f = m.descriptor().fields().next().expect("one field");
            display_value(&f.kind(), &m.get_field(&f), emit_defaults, depth)
        }
        n if n.starts_with("google.protobuf.") => {
            let opts = SerializeOptions::new().use_proto_field_name(true);
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::new(&mut buf);
            match m.serialize_with_options(&mut ser, &opts) {
                Ok(()) => String::from_utf8(buf).unwrap_or_default(),
                Err(e) => format!("(cannot show: {e})"),
            }
        }
        _ if depth + 1 >= MAX_TABLE_DEPTH => wrap_lines(&crate::render::text::to_text(m)),
        _ => build(m, emit_defaults, depth + 1).to_string(),
    }
}

/// The table of a message decoded without a schema.
pub fn raw_table(fields: &[RawField]) -> String {
    raw_build(fields, 0).to_string()
}

fn raw_build(fields: &[RawField], depth: usize) -> Table {
    let mut t = new_table(&["#", "wire", "value"]);
    for f in fields {
        t.add_row(vec![
            Cell::new(f.number),
            Cell::new(raw_wire_name(&f.value)),
            Cell::new(raw_display(&f.value, depth)),
        ]);
    }
    if fields.is_empty() {
        t.add_row(vec!["", "", "(no fields)"]);
    }
    t
}

fn raw_wire_name(v: &RawValue) -> &'static str {
    match v {
        RawValue::Varint(_) => "varint",
        RawValue::I64(_) => "i64",
        RawValue::I32(_) => "i32",
        RawValue::String(_) => "len (text)",
        RawValue::Message(_) => "len (message)",
        RawValue::Bytes { .. } => "len (bytes)",
        RawValue::Group(_) => "group",
    }
}

fn raw_display(v: &RawValue, depth: usize) -> String {
    match v {
        RawValue::Varint(n) if *n > i64::MAX as u64 => format!("{n}  (int64 {})", *n as i64),
        RawValue::Varint(n) => n.to_string(),
        RawValue::I32(bits) => match raw::f32_reading(*bits) {
            Some(f) => format!(
                "0x{bits:08x}  (float {}, int {})",
                format_float(f as f32),
                *bits as i32
            ),
            None => format!("0x{bits:08x}  (int {})", *bits as i32),
        },
        RawValue::I64(bits) => match raw::f64_reading(*bits) {
            Some(f) => format!(
                "0x{bits:016x}  (double {}, int {})",
                format_double(f),
                *bits as i64
            ),
            None => format!("0x{bits:016x}  (int {})", *bits as i64),
        },
        RawValue::String(s) => wrap_lines(&format!("\"{}\"", c_escape_utf8(s))),
        RawValue::Bytes { data, packed } => {
            let mut s = display_bytes(&data[..data.len().min(RAW_CELL_BYTES)]);
            if data.len() > RAW_CELL_BYTES {
                s.push_str(&format!(
                    "\n… {} more bytes (-o text or -o json shows them all)",
                    data.len() - RAW_CELL_BYTES
                ));
            }
            if let Some(p) = packed {
                s.push_str(&format!("\n({p})"));
            }
            s
        }
        RawValue::Message(m) | RawValue::Group(m) if depth + 1 >= MAX_TABLE_DEPTH => {
            wrap_lines(&raw::to_text_capped(m, RAW_CELL_BYTES))
        }
        RawValue::Message(m) | RawValue::Group(m) => raw_build(m, depth + 1).to_string(),
    }
}

/// Escapes quotes, backslashes and control characters, keeping UTF-8 text.
fn c_escape_utf8(s: &str) -> String {
    if s.is_ascii() {
        return c_escape(s.as_bytes());
    }
    s.chars()
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}
