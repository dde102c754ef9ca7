//! Large JSON values encoded a field at a time.
//!
//! Parsing a JSON value into a [`DynamicMessage`] and encoding that takes 20
//! or more times the message's size (a 2 MB message of a 100,000-entry map
//! took 47 MB). The canonical encoding of a message is its fields' encodings
//! in number order, and a map's is its entries' in key order, so a large
//! value is instead encoded piece by piece: each top-level field (each map
//! entry, each element of a repeated message field, a large sub-message by
//! the same means) is parsed and encoded on its own, and the pieces are put
//! in order. The bytes are the same as the whole path's (the tests compare);
//! any input this path does not take plainly (an error, duplicate keys, two
//! members of a oneof, extensions) is parsed whole, which also gives the
//! error its position.

use std::fmt;

use prost_reflect::{Kind, MapKey, MessageDescriptor};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{WireType, write_key, write_varint};
use crate::value::message_from_json_with;

/// JSON values longer than this are encoded a field at a time.
pub const SPLIT_JSON: usize = 64 * 1024;

/// The canonical encoding of `json` as `desc`, a field at a time; `None`
/// when it has to be parsed whole (the caller does, for the result or the
/// error).
pub fn encode_large(desc: &MessageDescriptor, json: &str, ignore_unknown: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len() / 2);
    encode_message(desc, json, 0, ignore_unknown, &mut out)?;
    Some(out)
}

/// Can a value of this type be split? Well-known types have JSON forms of
/// their own; required fields are checked on the whole message.
fn splittable(desc: &MessageDescriptor) -> bool {
    !desc.full_name().starts_with("google.protobuf.")
        && desc
            .fields()
            .all(|f| f.cardinality() != prost_reflect::Cardinality::Required)
}

/// Appends the encoding of the object `json` as `desc`, at nesting `depth`
/// (past the parsers' limit, the whole path says what is wrong).
fn encode_message(
    desc: &MessageDescriptor,
    json: &str,
    depth: usize,
    ignore_unknown: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    if depth >= super::MAX_DEPTH {
        return None;
    }
    if json.len() <= SPLIT_JSON || !splittable(desc) {
        let msg = message_from_json_with(desc, json, ignore_unknown).ok()?;
        super::encode(&msg, out);
        return Some(());
    }
    let Entries(entries) = serde_json::from_str(json).ok()?;
    // Each field's encoding, to be put in number order.
    let mut pieces: Vec<(u32, Vec<u8>)> = Vec::with_capacity(entries.len());
    let mut oneofs: Vec<String> = Vec::new();
    for (key, raw) in &entries {
        let field = desc
            .get_field_by_json_name(key)
            .or_else(|| desc.get_field_by_name(key))?;
        if pieces.iter().any(|(n, _)| *n == field.number()) {
            return None; // the same field twice (also as name and JSON name)
        }
        if raw.get() == "null" && !null_is_a_value(&field.kind()) {
            continue; // as the whole path: null leaves a field unset
        }
        if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
            if oneofs.iter().any(|o| o == oneof.name()) {
                return None; // two members: an error, said by the whole path
            }
            oneofs.push(oneof.name().to_owned());
        }
        let mut piece = Vec::new();
        let large = raw.get().len() > SPLIT_JSON;
        match field.kind() {
            Kind::Message(_) if field.is_map() && large => {
                encode_map(
                    desc,
                    field.json_name(),
                    field.number(),
                    raw,
                    ignore_unknown,
                    &mut piece,
                )?;
            }
            Kind::Message(m) if field.is_list() && !field.is_group() && large => {
                let Items(items) = serde_json::from_str(raw.get()).ok()?;
                for item in items {
                    if item.get() == "null" && !null_is_a_value(&field.kind()) {
                        return None; // an error, said by the whole path
                    }
                    length_delimited(field.number(), &mut piece, |body| {
                        encode_message(&m, item.get(), depth + 1, ignore_unknown, body)
                    })?;
                }
            }
            Kind::Message(m) if !field.is_list() && !field.is_group() && large => {
                length_delimited(field.number(), &mut piece, |body| {
                    encode_message(&m, raw.get(), depth + 1, ignore_unknown, body)
                })?;
            }
            _ => {
                let one = format!("{{{}:{}}}", serde_json::to_string(key).ok()?, raw.get());
                let msg = message_from_json_with(desc, &one, ignore_unknown).ok()?;
                super::encode(&msg, &mut piece);
            }
        }
        pieces.push((field.number(), piece));
    }
    pieces.sort_by_key(|(n, _)| *n);
    for (_, piece) in pieces {
        out.extend_from_slice(&piece);
    }
    Some(())
}

/// Is JSON `null` a value of this kind? In a `google.protobuf.Value` it is
/// `null_value: NULL_VALUE`, in a `google.protobuf.NullValue` it is
/// `NULL_VALUE` (for any cardinality, as the whole path reads it); in any
/// other field it leaves the field unset.
fn null_is_a_value(kind: &Kind) -> bool {
    match kind {
        Kind::Message(m) => m.full_name() == "google.protobuf.Value",
        Kind::Enum(e) => e.full_name() == "google.protobuf.NullValue",
        _ => false,
    }
}

/// Appends field `number` holding what `body` writes, with its length.
fn length_delimited(
    number: u32,
    out: &mut Vec<u8>,
    body: impl FnOnce(&mut Vec<u8>) -> Option<()>,
) -> Option<()> {
    let mut inner = Vec::new();
    body(&mut inner)?;
    write_key(out, number, WireType::Len);
    write_varint(out, inner.len() as u64);
    out.extend_from_slice(&inner);
    Some(())
}

/// A map's entries, each parsed and encoded on its own, in key order.
fn encode_map(
    desc: &MessageDescriptor,
    json_name: &str,
    number: u32,
    raw: &RawValue,
    ignore_unknown: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    let Entries(entries) = serde_json::from_str(raw.get()).ok()?;
    let name = serde_json::to_string(json_name).ok()?;
    let mut encoded: Vec<(MapKey, Vec<u8>)> = Vec::with_capacity(entries.len());
    for (key, value) in &entries {
        let one = format!(
            "{{{name}:{{{}:{}}}}}",
            serde_json::to_string(key).ok()?,
            value.get()
        );
        let msg = message_from_json_with(desc, &one, ignore_unknown).ok()?;
        let field = desc.get_field(number)?;
        let map_key = msg.get_field(&field).as_map()?.keys().next()?.clone();
        let mut piece = Vec::new();
        super::encode(&msg, &mut piece);
        encoded.push((map_key, piece));
    }
    encoded.sort_by(|a, b| a.0.cmp(&b.0));
    if encoded.windows(2).any(|w| w[0].0 == w[1].0) {
        return None; // the same key twice (as JSON text, or "1" and "01")
    }
    for (_, piece) in encoded {
        out.extend_from_slice(&piece);
    }
    Some(())
}

/// An object's keys and (unparsed) values, in order, duplicates kept.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// An array's (unparsed) items.
struct Items<'a>(Vec<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Items<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Items<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<&'de RawValue>()? {
                    out.push(v);
                }
                Ok(Items(out))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}
