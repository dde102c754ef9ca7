//! Decoding without a schema, like `protoc --decode_raw`, with better guesses.
//!
//! A length-delimited field is shown as text when it is printable UTF-8, as a
//! nested message when its bytes parse as one, else as bytes, with a packed
//! varint reading offered when the bytes are a run of varints. Fixed-width
//! values are shown as protoc shows them (hex) plus their float reading.

use std::fmt::Write as _;

use crate::render::text::c_escape;
use crate::wire::{self, MAX_DEPTH, WireType};

#[derive(Debug, Clone, PartialEq)]
pub struct RawField {
    pub number: u32,
    pub value: RawValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Varint(u64),
    I64(u64),
    I32(u32),
    /// Printable UTF-8.
    String(String),
    Message(Vec<RawField>),
    /// Neither text nor a message; `packed` is its reading as packed numbers.
    Bytes {
        data: Vec<u8>,
        packed: Option<Packed>,
    },
    Group(Vec<RawField>),
}

/// A reading of a byte string as a packed repeated field.
#[derive(Debug, Clone, PartialEq)]
pub enum Packed {
    Doubles(Vec<f64>),
    Floats(Vec<f32>),
    Fixed32(Vec<u32>),
    Varints(Vec<u64>),
}

impl std::fmt::Display for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::render::text::{format_double, format_float};
        let (kind, items): (&str, Vec<String>) = match self {
            Packed::Doubles(v) => ("doubles", v.iter().map(|x| format_double(*x)).collect()),
            Packed::Floats(v) => ("floats", v.iter().map(|x| format_float(*x)).collect()),
            Packed::Fixed32(v) => ("fixed32", v.iter().map(u32::to_string).collect()),
            Packed::Varints(v) => ("varints", v.iter().map(u64::to_string).collect()),
        };
        write!(f, "packed {kind}? [{}]", items.join(", "))
    }
}

/// Why bytes are not a message, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for RawError {}

/// Parses `buf` as a message of unknown type.
pub fn parse(buf: &[u8]) -> Result<Vec<RawField>, RawError> {
    let mut pos = 0;
    parse_fields(buf, &mut pos, None, 0)
}

fn parse_fields(
    buf: &[u8],
    pos: &mut usize,
    group: Option<u32>,
    depth: usize,
) -> Result<Vec<RawField>, RawError> {
    let mut fields = Vec::new();
    loop {
        if *pos >= buf.len() {
            if let Some(n) = group {
                return Err(err(*pos, format!("input ends inside group {n}")));
            }
            return Ok(fields);
        }
        let start = *pos;
        let (number, wt) = wire::read_key(buf, pos).ok_or_else(|| {
            err(
                start,
                "invalid field key (bad wire type, field number 0 or truncated)",
            )
        })?;
        let value = match wt {
            WireType::Varint => RawValue::Varint(
                wire::read_varint(buf, pos).ok_or_else(|| err(start, "truncated varint"))?,
            ),
            WireType::I64 => RawValue::I64(u64::from_le_bytes(
                wire::read_fixed64(buf, pos).ok_or_else(|| err(start, "truncated 64-bit value"))?,
            )),
            WireType::I32 => RawValue::I32(u32::from_le_bytes(
                wire::read_fixed32(buf, pos).ok_or_else(|| err(start, "truncated 32-bit value"))?,
            )),
            WireType::Len => {
                let data = wire::read_len(buf, pos)
                    .ok_or_else(|| err(start, "length prefix runs past the end of the input"))?;
                guess_len(data, depth)
            }
            WireType::StartGroup => {
                if depth >= MAX_DEPTH {
                    return Err(err(start, format!("groups nested deeper than {MAX_DEPTH}")));
                }
                RawValue::Group(parse_fields(buf, pos, Some(number), depth + 1)?)
            }
            WireType::EndGroup => {
                return if group == Some(number) {
                    Ok(fields)
                } else {
                    Err(err(start, format!("unexpected end of group {number}")))
                };
            }
        };
        fields.push(RawField { number, value });
    }
}

fn err(offset: usize, message: impl Into<String>) -> RawError {
    RawError {
        offset,
        message: message.into(),
    }
}

fn guess_len(data: &[u8], depth: usize) -> RawValue {
    let text = std::str::from_utf8(data).ok().filter(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
    });
    let message = if depth + 1 < MAX_DEPTH && !data.is_empty() {
        let mut pos = 0;
        parse_fields(data, &mut pos, None, depth + 1).ok()
    } else {
        None
    };
    match (text, message) {
        (Some(s), None) => RawValue::String(s.to_owned()),
        // Both readings work: short sub-messages of small varints look like
        // text ("(d" is {5: 100}); words are mostly letters and spaces.
        (Some(s), Some(m)) => {
            let wordy = s.chars().filter(|c| c.is_alphabetic() || *c == ' ').count();
            if wordy * 2 >= s.chars().count() {
                RawValue::String(s.to_owned())
            } else {
                RawValue::Message(m)
            }
        }
        (None, Some(m)) => RawValue::Message(m),
        (None, None) => RawValue::Bytes {
            data: data.to_vec(),
            packed: packed_reading(data),
        },
    }
}

/// The likeliest packed reading: doubles or floats when every value is a
/// plausible real number, fixed32 when every value is a small integer, else
/// varints when the bytes are a run of at least two of them.
fn packed_reading(data: &[u8]) -> Option<Packed> {
    let nonzero = data.iter().any(|&b| b != 0);
    if nonzero && data.len() % 8 == 0 {
        let v: Vec<f64> = data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        if v.iter().all(|x| plausible_float(*x).is_some()) {
            return Some(Packed::Doubles(v));
        }
    }
    if nonzero && data.len() % 4 == 0 {
        let bits: Vec<u32> = data
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let floats: Vec<f32> = bits.iter().map(|b| f32::from_bits(*b)).collect();
        if floats
            .iter()
            .all(|x| plausible_float(f64::from(*x)).is_some())
        {
            return Some(Packed::Floats(floats));
        }
        if bits.iter().all(|b| *b < 1 << 24) {
            return Some(Packed::Fixed32(bits));
        }
    }
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < data.len() {
        out.push(wire::read_varint(data, &mut pos)?);
    }
    (out.len() >= 2).then_some(Packed::Varints(out))
}

/// A float reading of a fixed-width value, when it looks like a real number.
fn plausible_float(v: f64) -> Option<f64> {
    (v == 0.0 || (v.is_finite() && (1e-6..1e15).contains(&v.abs()))).then_some(v)
}

pub fn f32_reading(bits: u32) -> Option<f64> {
    plausible_float(f64::from(f32::from_bits(bits)))
}

pub fn f64_reading(bits: u64) -> Option<f64> {
    plausible_float(f64::from_bits(bits))
}

/// Renders like `protoc --decode_raw`, with extra readings as `#` comments.
pub fn to_text(fields: &[RawField]) -> String {
    let mut out = String::new();
    write_text(fields, 0, None, &mut out);
    out
}

/// [`to_text`] with strings and bytes cut after `cap` bytes (for table cells).
pub fn to_text_capped(fields: &[RawField], cap: usize) -> String {
    let mut out = String::new();
    write_text(fields, 0, Some(cap), &mut out);
    out
}

fn capped(data: &[u8], cap: Option<usize>) -> (&[u8], Option<usize>) {
    match cap {
        Some(c) if data.len() > c => (&data[..c], Some(data.len() - c)),
        _ => (data, None),
    }
}

fn write_text(fields: &[RawField], indent: usize, cap: Option<usize>, out: &mut String) {
    for f in fields {
        let pad = "  ".repeat(indent);
        match &f.value {
            RawValue::Varint(v) => {
                let _ = write!(out, "{pad}{}: {v}", f.number);
                if *v > i64::MAX as u64 {
                    let _ = write!(out, "  # {} as int64", *v as i64);
                }
                out.push('\n');
            }
            RawValue::I32(v) => {
                let _ = write!(out, "{pad}{}: 0x{v:08x}", f.number);
                if let Some(x) = f32_reading(*v) {
                    let _ = write!(
                        out,
                        "  # {} as float",
                        crate::render::text::format_float(x as f32)
                    );
                }
                out.push('\n');
            }
            RawValue::I64(v) => {
                let _ = write!(out, "{pad}{}: 0x{v:016x}", f.number);
                if let Some(x) = f64_reading(*v) {
                    let _ = write!(
                        out,
                        "  # {} as double",
                        crate::render::text::format_double(x)
                    );
                }
                out.push('\n');
            }
            RawValue::String(s) => {
                let (shown, more) = capped(s.as_bytes(), cap);
                let _ = write!(out, "{pad}{}: \"{}\"", f.number, c_escape(shown));
                if let Some(more) = more {
                    let _ = write!(out, "  # … {more} more bytes");
                }
                out.push('\n');
            }
            RawValue::Bytes { data, packed } => {
                let (shown, more) = capped(data, cap);
                let _ = write!(out, "{pad}{}: \"{}\"", f.number, c_escape(shown));
                if let Some(more) = more {
                    let _ = write!(out, "  # … {more} more bytes");
                } else if let Some(reading) = packed {
                    let _ = write!(out, "  # {reading}");
                }
                out.push('\n');
            }
            RawValue::Message(m) | RawValue::Group(m) => {
                let _ = writeln!(out, "{pad}{} {{", f.number);
                write_text(m, indent + 1, cap, out);
                let _ = writeln!(out, "{pad}}}");
            }
        }
    }
}

/// Renders as a JSON object keyed by field number; a number seen more than
/// once becomes an array. Bytes that are neither text nor a message appear as
/// hex strings; 64-bit values beyond 2^53 as decimal strings.
pub fn to_json(fields: &[RawField]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for f in fields {
        let v = match &f.value {
            RawValue::Varint(v) | RawValue::I64(v) => json_u64(*v),
            RawValue::I32(v) => serde_json::Value::from(*v),
            RawValue::String(s) => serde_json::Value::from(s.as_str()),
            RawValue::Bytes { data, .. } => serde_json::Value::from(hex::encode(data)),
            RawValue::Message(m) | RawValue::Group(m) => to_json(m),
        };
        let key = f.number.to_string();
        match map.get_mut(&key) {
            Some(serde_json::Value::Array(a))
                if fields.iter().filter(|g| g.number == f.number).count() > 1 =>
            {
                a.push(v)
            }
            Some(_) => unreachable!("a repeated number is an array from its first value"),
            None => {
                let repeated = fields.iter().filter(|g| g.number == f.number).count() > 1;
                map.insert(
                    key,
                    if repeated {
                        serde_json::Value::Array(vec![v])
                    } else {
                        v
                    },
                );
            }
        }
    }
    serde_json::Value::Object(map)
}

fn json_u64(v: u64) -> serde_json::Value {
    if v <= (1u64 << 53) {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::from(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_messages_strings_and_numbers_are_told_apart() {
        // {1: 150, 2: {1: "testing"}, 3: "hello world"}
        let mut buf = vec![0x08, 0x96, 0x01, 0x12, 0x09, 0x0a, 0x07];
        buf.extend_from_slice(b"testing");
        buf.extend_from_slice(&[0x1a, 11]);
        buf.extend_from_slice(b"hello world");
        let fields = parse(&buf).unwrap();
        assert_eq!(
            to_text(&fields),
            "1: 150\n2 {\n  1: \"testing\"\n}\n3: \"hello world\"\n"
        );
    }

    #[test]
    fn packed_varints_are_offered_as_a_reading() {
        // field 4, bytes 03 8e 02 9e a7 05 (packed 3, 270, 86942)
        let buf = [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05];
        let text = to_text(&parse(&buf).unwrap());
        assert_eq!(
            text,
            "4: \"\\003\\216\\002\\236\\247\\005\"  # packed varints? [3, 270, 86942]\n"
        );
    }

    #[test]
    fn fixed_width_values_show_float_readings() {
        let mut buf = vec![0x0d];
        buf.extend_from_slice(&1.5f32.to_le_bytes());
        let text = to_text(&parse(&buf).unwrap());
        assert_eq!(text, "1: 0x3fc00000  # 1.5 as float\n");
    }

    /// `n` messages nested in field 1, built outside-in in O(n).
    fn nested(n: usize) -> Vec<u8> {
        let mut lens = vec![0u64];
        for k in 0..n {
            let inner = lens[k];
            let mut v = Vec::new();
            wire::write_varint(&mut v, inner);
            lens.push(1 + v.len() as u64 + inner);
        }
        let mut out = Vec::new();
        for k in (0..n).rev() {
            out.push(0x0a);
            wire::write_varint(&mut out, lens[k]);
        }
        out
    }

    #[test]
    fn deep_nesting_stops_at_the_limit_without_overflow() {
        let fields = parse(&nested(100_000)).unwrap();
        assert_eq!(fields.len(), 1);
        let groups = [0x0b].repeat(100_000);
        assert!(parse(&groups).unwrap_err().message.contains("deeper than"));
    }

    #[test]
    fn garbage_is_an_error_with_an_offset() {
        let e = parse(&[0x08, 0x96]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(parse(&[0x0f]).is_err());
    }
}
