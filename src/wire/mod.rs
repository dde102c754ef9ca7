//! The protobuf wire format: reading primitives, and the canonical encoder.
//!
//! prost-reflect keeps map fields in a `HashMap`, so its own encoder writes map
//! entries in a different order from run to run. [`encode`] writes fields in
//! number order, map entries sorted by key with both key and value present,
//! and unknown fields last: the bytes protoc and the C++ runtime produce.

mod diagnose;
pub mod encode;
pub mod from_json;

pub use diagnose::diagnose;

pub use encode::{encode, encode_to_vec};

use prost_reflect::{DynamicMessage, ReflectMessage, Value};

/// Nesting deeper than this is refused (protobuf's own default is 100).
pub const MAX_DEPTH: usize = 100;

/// Refuses a decoded message whose nesting, counting the messages packed in
/// `google.protobuf.Any` fields, goes deeper than [`MAX_DEPTH`].
///
/// Decoding bounds plain nesting, but an Any's payload is opaque bytes until
/// something expands it (JSON, text, tables do); this bounds that too. It
/// also counts what a decode counts (extensions, unknown groups), so that a
/// part of a message decoded on its own at `depth` is refused where a decode
/// of the whole would be.
pub fn check_nesting(msg: &DynamicMessage) -> Result<(), String> {
    check_nesting_from(msg, 0)
}

/// [`check_nesting`] for a message found at nesting `depth`.
pub fn check_nesting_from(msg: &DynamicMessage, depth: usize) -> Result<(), String> {
    fn walk(msg: &DynamicMessage, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "messages nested deeper than {MAX_DEPTH} levels (counting those packed in google.protobuf.Any)"
            ));
        }
        if msg.descriptor().full_name() == "google.protobuf.Any" {
            if let Some(inner) = encode::unpack_any(msg) {
                walk(&inner, depth + 1)?;
            }
        }
        let unknown_group = msg
            .unknown_fields()
            .any(|f| f.wire_type() == prost::encoding::WireType::StartGroup);
        if unknown_group {
            let mut unknown = Vec::new();
            for f in msg.unknown_fields() {
                f.encode(&mut unknown);
            }
            if !groups_fit(&unknown, depth) {
                return Err(format!("groups nested deeper than {MAX_DEPTH} levels"));
            }
        }
        let extensions = msg.extensions().map(|(_, v)| v);
        for value in msg.fields().map(|(_, v)| v).chain(extensions) {
            match value {
                Value::Message(m) => walk(m, depth + 1)?,
                Value::List(items) => {
                    for item in items {
                        if let Value::Message(m) = item {
                            walk(m, depth + 1)?;
                        }
                    }
                }
                Value::Map(map) => {
                    for item in map.values() {
                        if let Value::Message(m) = item {
                            walk(m, depth + 1)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
    walk(msg, depth)
}

/// Do the groups among the unknown fields of a message at nesting `depth`
/// stay within [`MAX_DEPTH`], counting that depth (as a decode counts)?
fn groups_fit(unknown: &[u8], depth: usize) -> bool {
    let mut pos = 0;
    while pos < unknown.len() {
        let Some((number, wt)) = read_key(unknown, &mut pos) else {
            return false;
        };
        if skip_value(unknown, &mut pos, number, wt, depth + 1).is_none() {
            return false;
        }
    }
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    I64,
    Len,
    StartGroup,
    EndGroup,
    I32,
}

impl WireType {
    pub fn from_tag(tag: u64) -> Option<WireType> {
        Some(match tag & 7 {
            0 => WireType::Varint,
            1 => WireType::I64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::I32,
            _ => return None,
        })
    }

    /// The name used in tables and errors (the protobuf docs' names).
    pub fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::I64 => "i64",
            WireType::Len => "len",
            WireType::StartGroup => "group",
            WireType::EndGroup => "end group",
            WireType::I32 => "i32",
        }
    }
}

/// Reads a base-128 varint at `*pos`; `None` when truncated or longer than 10
/// bytes.
#[inline]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result: u64 = 0;
    let mut shift = 0;
    let mut i = *pos;
    loop {
        let b = *buf.get(i)?;
        i += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        result |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            *pos = i;
            return Some(result);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Reads a field key: number and wire type. `None` when malformed (number 0,
/// number above 2^29-1, wire type 6 or 7, truncated).
#[inline]
pub fn read_key(buf: &[u8], pos: &mut usize) -> Option<(u32, WireType)> {
    let tag = read_varint(buf, pos)?;
    if tag > u64::from(u32::MAX) {
        return None;
    }
    let number = (tag >> 3) as u32;
    if number == 0 || number > 536_870_911 {
        return None;
    }
    Some((number, WireType::from_tag(tag)?))
}

/// Reads a length-delimited payload.
#[inline]
pub fn read_len<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let len = read_varint(buf, pos)?;
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let out = buf.get(*pos..end)?;
    *pos = end;
    Some(out)
}

#[inline]
pub fn read_fixed32(buf: &[u8], pos: &mut usize) -> Option<[u8; 4]> {
    let out: [u8; 4] = buf.get(*pos..*pos + 4)?.try_into().ok()?;
    *pos += 4;
    Some(out)
}

#[inline]
pub fn read_fixed64(buf: &[u8], pos: &mut usize) -> Option<[u8; 8]> {
    let out: [u8; 8] = buf.get(*pos..*pos + 8)?.try_into().ok()?;
    *pos += 8;
    Some(out)
}

/// Skips a group's fields up to its end-group key for `number`; `depth` guards
/// against nesting bombs.
pub fn skip_group(buf: &[u8], pos: &mut usize, number: u32, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    loop {
        let (n, wt) = read_key(buf, pos)?;
        match wt {
            WireType::EndGroup => return (n == number).then_some(()),
            _ => skip_value(buf, pos, n, wt, depth + 1)?,
        }
    }
}

/// Skips one value of wire type `wt` (after its key).
pub fn skip_value(
    buf: &[u8],
    pos: &mut usize,
    number: u32,
    wt: WireType,
    depth: usize,
) -> Option<()> {
    match wt {
        WireType::Varint => read_varint(buf, pos).map(drop),
        WireType::I64 => read_fixed64(buf, pos).map(drop),
        WireType::I32 => read_fixed32(buf, pos).map(drop),
        WireType::Len => read_len(buf, pos).map(drop),
        WireType::StartGroup => skip_group(buf, pos, number, depth),
        WireType::EndGroup => None,
    }
}

#[inline]
pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
pub fn write_key(out: &mut Vec<u8>, number: u32, wt: WireType) {
    let t = match wt {
        WireType::Varint => 0,
        WireType::I64 => 1,
        WireType::Len => 2,
        WireType::StartGroup => 3,
        WireType::EndGroup => 4,
        WireType::I32 => 5,
    };
    write_varint(out, (u64::from(number) << 3) | t);
}

#[inline]
pub fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

#[inline]
pub fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_and_refuse_overlong() {
        let mut pos = 0;
        assert_eq!(read_varint(&[0x96, 0x01], &mut pos), Some(150));
        assert_eq!(pos, 2);
        let mut pos = 0;
        assert_eq!(read_varint(&[0xff; 11], &mut pos), None);
        let mut pos = 0;
        assert_eq!(read_varint(&[0x80], &mut pos), None);
        let mut out = Vec::new();
        write_varint(&mut out, u64::MAX);
        let mut pos = 0;
        assert_eq!(read_varint(&out, &mut pos), Some(u64::MAX));
    }

    #[test]
    fn huge_length_prefix_is_refused_not_allocated() {
        let mut buf = vec![0x0a];
        write_varint(&mut buf, 1 << 60);
        let mut pos = 1;
        assert_eq!(read_len(&buf, &mut pos), None);
    }

    #[test]
    fn zigzag_decodes_both_signs() {
        assert_eq!(zigzag32(1), -1);
        assert_eq!(zigzag32(4), 2);
        assert_eq!(zigzag64(3), -2);
    }
}
