//! Canonical serialization of a [`DynamicMessage`]: the bytes protoc writes.

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value};

use super::{WireType, write_key, write_varint};

/// Encodes `msg` canonically into a new buffer.
pub fn encode_to_vec(msg: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::new();
    encode(msg, &mut out);
    out
}

/// Appends the canonical encoding of `msg` to `out`: known fields and
/// extensions in number order, map entries sorted by key (key and value both
/// written), packed where the field is packed, unknown fields last.
pub fn encode(msg: &DynamicMessage, out: &mut Vec<u8>) {
    let desc = msg.descriptor();
    if desc.full_name() == "google.protobuf.Any" {
        if let Some(canonical) = canonical_any(msg) {
            canonical.encode_raw_into(out);
            return;
        }
    }
    let mut exts: Vec<_> = msg.extensions().collect();
    exts.sort_by_key(|(e, _)| e.number());
    let mut exts = exts.into_iter().peekable();

    for field in desc.fields() {
        while let Some((ext, value)) = exts.next_if(|(e, _)| e.number() < field.number()) {
            encode_field(
                ext.number(),
                &ext.kind(),
                ext.is_packed(),
                ext.is_group(),
                value,
                out,
            );
        }
        let value = if field.supports_presence() {
            if !msg.has_field(&field) {
                continue;
            }
            msg.get_field(&field)
        } else {
            let v = msg.get_field(&field);
            if is_implicit_default(&v) {
                continue;
            }
            v
        };
        encode_known(&field, &value, out);
    }
    for (ext, value) in exts {
        encode_field(
            ext.number(),
            &ext.kind(),
            ext.is_packed(),
            ext.is_group(),
            value,
            out,
        );
    }
    for unknown in msg.unknown_fields() {
        unknown.encode(out);
    }
}

fn encode_known(field: &FieldDescriptor, value: &Value, out: &mut Vec<u8>) {
    if let (true, Value::Map(map), Kind::Message(entry)) = (field.is_map(), value, field.kind()) {
        let key_field = entry.map_entry_key_field();
        let value_field = entry.map_entry_value_field();
        let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut body = Vec::new();
        for (k, v) in entries {
            body.clear();
            encode_single(1, &key_field.kind(), false, &map_key_value(k), &mut body);
            encode_single(2, &value_field.kind(), false, v, &mut body);
            write_key(out, field.number(), WireType::Len);
            write_varint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
        return;
    }
    encode_field(
        field.number(),
        &field.kind(),
        field.is_packed(),
        field.is_group(),
        value,
        out,
    );
}

fn encode_field(
    number: u32,
    kind: &Kind,
    packed: bool,
    group: bool,
    value: &Value,
    out: &mut Vec<u8>,
) {
    match value {
        Value::List(items) if packed => {
            if items.is_empty() {
                return;
            }
            let mut body = Vec::new();
            for item in items {
                encode_scalar(kind, item, &mut body);
            }
            write_key(out, number, WireType::Len);
            write_varint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
        Value::List(items) => {
            for item in items {
                encode_single(number, kind, group, item, out);
            }
        }
        other => encode_single(number, kind, group, other, out),
    }
}

fn encode_single(number: u32, kind: &Kind, group: bool, value: &Value, out: &mut Vec<u8>) {
    match (kind, value) {
        (Kind::Message(_), Value::Message(m)) if group => {
            write_key(out, number, WireType::StartGroup);
            encode(m, out);
            write_key(out, number, WireType::EndGroup);
        }
        (Kind::Message(_), Value::Message(m)) => {
            let body = encode_to_vec(m);
            write_key(out, number, WireType::Len);
            write_varint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
        (Kind::String, Value::String(s)) => {
            write_key(out, number, WireType::Len);
            write_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        (Kind::Bytes, Value::Bytes(b)) => {
            write_key(out, number, WireType::Len);
            write_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        _ => {
            write_key(out, number, scalar_wire_type(kind));
            encode_scalar(kind, value, out);
        }
    }
}

/// The wire type of a packable scalar kind.
pub(crate) fn scalar_wire_type(kind: &Kind) -> WireType {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => WireType::I64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => WireType::I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => WireType::Len,
        _ => WireType::Varint,
    }
}

/// Writes a scalar's payload (no key).
fn encode_scalar(kind: &Kind, value: &Value, out: &mut Vec<u8>) {
    match (kind, value) {
        (Kind::Double, Value::F64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Float, Value::F32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Int32, Value::I32(v)) => write_varint(out, i64::from(*v) as u64),
        (Kind::Int64, Value::I64(v)) => write_varint(out, *v as u64),
        (Kind::Uint32, Value::U32(v)) => write_varint(out, u64::from(*v)),
        (Kind::Uint64, Value::U64(v)) => write_varint(out, *v),
        (Kind::Sint32, Value::I32(v)) => {
            write_varint(out, u64::from(((v << 1) ^ (v >> 31)) as u32))
        }
        (Kind::Sint64, Value::I64(v)) => write_varint(out, ((v << 1) ^ (v >> 63)) as u64),
        (Kind::Fixed32, Value::U32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Fixed64, Value::U64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Sfixed32, Value::I32(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Sfixed64, Value::I64(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Kind::Bool, Value::Bool(v)) => out.push(u8::from(*v)),
        (Kind::Enum(_), Value::EnumNumber(v)) => write_varint(out, i64::from(*v) as u64),
        // prost-reflect checks values against their field's kind when they are
        // set, so a mismatch cannot reach here.
        (kind, value) => unreachable!("value {value:?} does not fit field kind {kind:?}"),
    }
}

/// A proto3 field without presence is written unless it holds its default.
/// Floating-point zero counts by bit pattern, so `-0.0` is written, as the
/// C++ runtime does.
pub(crate) fn is_implicit_default(value: &Value) -> bool {
    match value {
        Value::Bool(v) => !v,
        Value::I32(v) => *v == 0,
        Value::I64(v) => *v == 0,
        Value::U32(v) => *v == 0,
        Value::U64(v) => *v == 0,
        Value::F32(v) => v.to_bits() == 0,
        Value::F64(v) => v.to_bits() == 0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::EnumNumber(v) => *v == 0,
        Value::Message(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
    }
}

pub(crate) fn map_key_value(key: &MapKey) -> Value {
    match key {
        MapKey::Bool(v) => Value::Bool(*v),
        MapKey::I32(v) => Value::I32(*v),
        MapKey::I64(v) => Value::I64(*v),
        MapKey::U32(v) => Value::U32(*v),
        MapKey::U64(v) => Value::U64(*v),
        MapKey::String(v) => Value::String(v.clone()),
    }
}

/// The message packed in an Any, when its type is in the Any's pool and its
/// bytes decode.
pub(crate) fn unpack_any(msg: &DynamicMessage) -> Option<DynamicMessage> {
    let url = msg.get_field_by_name("type_url")?;
    let name = url.as_str()?.rsplit('/').next()?;
    let desc = msg.descriptor().parent_pool().get_message_by_name(name)?;
    let value = msg.get_field_by_name("value")?.as_bytes()?.clone();
    DynamicMessage::decode(desc, value).ok()
}

thread_local! {
    /// How many Any payloads deep the canonical encoder is.
    static ANY_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// An Any whose packed bytes are re-encoded canonically (they were written by
/// whoever built the Any, perhaps with map entries in random order), when
/// its type is known and the bytes decode; past [`super::MAX_DEPTH`] Anys
/// deep, the bytes are kept as they are.
fn canonical_any(msg: &DynamicMessage) -> Option<CanonicalAny> {
    if msg.unknown_fields().next().is_some() || ANY_DEPTH.get() >= super::MAX_DEPTH {
        return None;
    }
    let url = msg.get_field_by_name("type_url")?.as_str()?.to_owned();
    let inner = unpack_any(msg)?;
    ANY_DEPTH.set(ANY_DEPTH.get() + 1);
    let value = encode_to_vec(&inner);
    ANY_DEPTH.set(ANY_DEPTH.get() - 1);
    Some(CanonicalAny { url, value })
}

struct CanonicalAny {
    url: String,
    value: Vec<u8>,
}

impl CanonicalAny {
    fn encode_raw_into(&self, out: &mut Vec<u8>) {
        if !self.url.is_empty() {
            write_key(out, 1, WireType::Len);
            write_varint(out, self.url.len() as u64);
            out.extend_from_slice(self.url.as_bytes());
        }
        if !self.value.is_empty() {
            write_key(out, 2, WireType::Len);
            write_varint(out, self.value.len() as u64);
            out.extend_from_slice(&self.value);
        }
    }
}
