//! Protobuf text format as `protoc --decode` prints it.
//!
//! Fields in number order, map entries sorted by key with key and value both
//! shown, strings C-escaped (non-ASCII bytes as octal), floats as protoc's
//! `SimpleFtoa`/`SimpleDtoa` (`%.6g`/`%.15g`, widened when that does not
//! round-trip), `Any` expanded when its type is known, unknown fields last.

use std::fmt::Write as _;
use std::io;

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};

use crate::codec::raw;
use crate::render::BytesAs;
use crate::render::bytes_as;
use crate::render::large::{self, Group, Msg};
use crate::wire::encode::{is_implicit_default, map_key_value};

/// What text output shows beyond the fields set.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Singular fields without presence at their default values too.
    pub emit_defaults: bool,
    /// Messages carried in bytes fields, shown as comments under the field.
    pub bytes_as: Option<&'static BytesAs>,
    /// Unknown fields left out (`--no-unknown`).
    pub no_unknown: bool,
}

/// The text format of `msg`, one field per line, two-space indents.
pub fn to_text(msg: &DynamicMessage) -> String {
    to_text_with(msg, false)
}

/// [`to_text`]; with `emit_defaults`, singular fields without presence are
/// written at their default values too (as `--emit-defaults` does for JSON).
pub fn to_text_with(msg: &DynamicMessage, emit_defaults: bool) -> String {
    let mut out = String::new();
    let opts = TextOptions {
        emit_defaults,
        bytes_as: None,
        no_unknown: false,
    };
    write_message(msg, 0, &opts, "", &mut out);
    out
}

fn write_message(
    msg: &DynamicMessage,
    indent: usize,
    opts: &TextOptions,
    path: &str,
    out: &mut String,
) {
    write_fields(msg, indent, opts, path, opts.emit_defaults, out);
}

/// The fields of `msg`; with `defaults`, singular fields without presence
/// at their default values too (their sub-messages follow `opts`).
fn write_fields(
    msg: &DynamicMessage,
    indent: usize,
    opts: &TextOptions,
    path: &str,
    defaults: bool,
    out: &mut String,
) {
    if msg.descriptor().full_name() == "google.protobuf.Any" && write_any(msg, indent, opts, out) {
        return;
    }
    let desc = msg.descriptor();
    let mut exts: Vec<_> = msg.extensions().collect();
    exts.sort_by_key(|(e, _)| e.number());
    let mut exts = exts.into_iter().peekable();
    let ext_name = |e: &prost_reflect::ExtensionDescriptor| format!("[{}]", e.full_name());
    for field in desc.fields() {
        while let Some((ext, value)) = exts.next_if(|(e, _)| e.number() < field.number()) {
            write_values(&ext_name(&ext), &ext.kind(), value, indent, opts, None, out);
        }
        let value = match present_value(msg, &field) {
            Some(v) => v,
            None if defaults && shows_default(&field) => msg.get_field(&field),
            None => continue,
        };
        if field.is_map() {
            write_map(&field, &value, indent, opts, out);
        } else {
            let at = FieldAt {
                field: &field,
                path,
            };
            write_values(
                &text_name(&field),
                &field.kind(),
                &value,
                indent,
                opts,
                Some(at),
                out,
            );
        }
    }
    for (ext, value) in exts {
        write_values(&ext_name(&ext), &ext.kind(), value, indent, opts, None, out);
    }
    let mut unknown = Vec::new();
    for f in msg.unknown_fields() {
        f.encode(&mut unknown);
    }
    if !opts.no_unknown && !unknown.is_empty() && raw::check(&unknown).is_ok() {
        let raw_opts = raw::TextOptions {
            guess: raw::Guess::Some,
            cap: None,
        };
        raw::append_text(&unknown, indent, 0, &raw_opts, out);
    }
}

/// A field and the path of the message holding it (for `--bytes-as`).
#[derive(Clone, Copy)]
struct FieldAt<'a> {
    field: &'a FieldDescriptor,
    path: &'a str,
}

impl FieldAt<'_> {
    fn path(&self) -> String {
        bytes_as::join(self.path, self.field.name())
    }
}

/// Writes `msg` (decoded, or read a field at a time) as text format at
/// `indent`, handing the text written so far to `spill` after each piece.
pub fn write_msg(
    msg: &Msg<'_>,
    indent: usize,
    opts: &TextOptions,
    out: &mut String,
    spill: &mut dyn FnMut(&mut String) -> io::Result<()>,
) -> io::Result<()> {
    write_msg_at(msg, indent, opts, "", out, spill)
}

fn write_msg_at(
    msg: &Msg<'_>,
    indent: usize,
    opts: &TextOptions,
    path: &str,
    out: &mut String,
    spill: &mut dyn FnMut(&mut String) -> io::Result<()>,
) -> io::Result<()> {
    let split = match msg {
        Msg::Decoded(m) => {
            write_message(m, indent, opts, path, out);
            return spill(out);
        }
        Msg::Split(s) => s,
    };
    // Fields absent from the bytes are written in their place at their
    // default, with --emit-defaults, as decoded.
    let mut absent = split.absent().peekable();
    let default = |field: &FieldDescriptor, out: &mut String| {
        if opts.emit_defaults && shows_default(field) {
            let value = Value::default_value_for_field(field);
            let at = FieldAt { field, path };
            let (name, kind) = (text_name(field), field.kind());
            write_values(&name, &kind, &value, indent, opts, Some(at), out);
        }
    };
    for group in &split.groups {
        let number = group.numbers().next().unwrap_or(u32::MAX);
        while let Some(field) = absent.next_if(|f| f.number() < number) {
            default(&field, out);
        }
        match group {
            Group::Messages { field, items } => {
                let Kind::Message(desc) = field.kind() else {
                    continue;
                };
                let name = text_name(field);
                let inner_path = bytes_as::join(path, field.name());
                for item in items {
                    let inner = Msg::reopen(&desc, item, split.depth + 1)
                        .ok_or_else(|| io::Error::other("a sub-message changed while shown"))?;
                    pad(out, indent);
                    let _ = writeln!(out, "{name} {{");
                    write_msg_at(&inner, indent + 1, opts, &inner_path, out, spill)?;
                    pad(out, indent);
                    out.push_str("}\n");
                    spill(out)?;
                }
            }
            Group::Scalars { field, .. }
                if matches!(field.kind(), Kind::Bytes)
                    && opts
                        .bytes_as
                        .is_none_or(|b| b.for_field(path, field).is_none()) =>
            {
                // Borrowed, escaped straight into the output a piece at a
                // time: never copied.
                let name = text_name(field);
                let mut ok = true;
                let shown = |b: &[u8]| {
                    field.is_list()
                        || field.supports_presence()
                        || opts.emit_defaults
                        || !b.is_empty()
                };
                group.for_each_bytes(
                    &mut |b| {
                        if shown(b) {
                            pad(out, indent);
                            let _ = write!(out, "{name}: \"");
                            for piece in b.chunks(TEXT_PIECE) {
                                c_escape_into(piece, out);
                                if out.len() >= TEXT_PIECE {
                                    spill(out)?;
                                }
                            }
                            out.push_str("\"\n");
                        }
                        Ok(())
                    },
                    &mut ok,
                )?;
            }
            Group::Scalars { field, .. } => {
                let (name, kind) = (text_name(field), field.kind());
                let at = FieldAt { field, path };
                let mut ok = true;
                group.for_each_scalar(
                    &mut |v| {
                        if large::shown(field, &v, opts.emit_defaults) {
                            write_one(&name, &kind, &v, indent, opts, Some(at), out);
                        }
                        // A run of ten million values goes out as it is made.
                        if out.len() >= TEXT_PIECE {
                            spill(out)?;
                        }
                        Ok(())
                    },
                    &mut ok,
                )?;
            }
            // A map or an extension: its own fields only.
            Group::Decoded(m) => write_fields(m, indent, opts, path, false, out),
        }
        spill(out)?;
    }
    for field in absent {
        default(&field, out);
    }
    let raw_opts = raw::TextOptions {
        guess: raw::Guess::Some,
        cap: None,
    };
    for unknown in split.unknown.iter().filter(|_| !opts.no_unknown) {
        raw::write_text(unknown, indent, 0, &raw_opts, out, spill)?;
    }
    spill(out)
}

/// Is a field written at its default value with --emit-defaults? Singular
/// fields without presence.
fn shows_default(field: &FieldDescriptor) -> bool {
    !field.supports_presence() && !field.is_list() && !field.is_map()
}

/// Text longer than this is handed on while a field's values are written.
const TEXT_PIECE: usize = 1 << 16;

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// The value of a field that is set (by presence or by not being the
/// default), as the encoder decides it.
pub(crate) fn present_value<'a>(
    msg: &'a DynamicMessage,
    field: &FieldDescriptor,
) -> Option<std::borrow::Cow<'a, Value>> {
    if field.supports_presence() {
        msg.has_field(field).then(|| msg.get_field(field))
    } else {
        let v = msg.get_field(field);
        (!is_implicit_default(&v)).then_some(v)
    }
}

/// Groups print under their type's name, as protoc does.
fn text_name(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) if field.is_group() => m.name().to_owned(),
        _ => field.name().to_owned(),
    }
}

fn write_values(
    name: &str,
    kind: &Kind,
    value: &Value,
    indent: usize,
    opts: &TextOptions,
    at: Option<FieldAt<'_>>,
    out: &mut String,
) {
    match value {
        Value::List(items) => {
            for item in items {
                write_one(name, kind, item, indent, opts, at, out);
            }
        }
        other => write_one(name, kind, other, indent, opts, at, out),
    }
}

fn write_one(
    name: &str,
    kind: &Kind,
    value: &Value,
    indent: usize,
    opts: &TextOptions,
    at: Option<FieldAt<'_>>,
    out: &mut String,
) {
    match value {
        Value::Message(m) => {
            pad(out, indent);
            let _ = writeln!(out, "{name} {{");
            let path = at.map(|a| a.path()).unwrap_or_default();
            write_message(m, indent + 1, opts, &path, out);
            pad(out, indent);
            out.push_str("}\n");
        }
        Value::Bytes(b) => {
            pad(out, indent);
            let _ = writeln!(out, "{name}: {}", scalar(kind, value));
            if let (Some(ba), Some(at)) = (opts.bytes_as, at) {
                if let Some(inner) = ba.for_field(at.path, at.field) {
                    write_carried(b, inner, indent, opts, &at.path(), out);
                }
            }
        }
        other => {
            pad(out, indent);
            let _ = writeln!(out, "{name}: {}", scalar(kind, other));
        }
    }
}

/// The message carried in bytes, as comments under the field (the text
/// still reads back to the same bytes).
fn write_carried(
    bytes: &[u8],
    inner: &MessageDescriptor,
    indent: usize,
    opts: &TextOptions,
    path: &str,
    out: &mut String,
) {
    pad(out, indent);
    match crate::render::decode_message(inner, bytes) {
        Ok(m) => {
            let _ = writeln!(out, "# as {}:", inner.full_name());
            let mut text = String::new();
            write_message(&m, 0, opts, path, &mut text);
            for line in text.lines() {
                pad(out, indent);
                let _ = writeln!(out, "#   {line}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "# does not decode as {}: {e}", inner.full_name());
        }
    }
}

fn write_map(
    field: &FieldDescriptor,
    value: &Value,
    indent: usize,
    opts: &TextOptions,
    out: &mut String,
) {
    let (Value::Map(map), Kind::Message(entry)) = (value, field.kind()) else {
        return;
    };
    let key_kind = entry.map_entry_key_field().kind();
    let value_kind = entry.map_entry_value_field().kind();
    let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in entries {
        pad(out, indent);
        let _ = writeln!(out, "{} {{", field.name());
        write_one(
            "key",
            &key_kind,
            &map_key_value(k),
            indent + 1,
            opts,
            None,
            out,
        );
        write_one("value", &value_kind, v, indent + 1, opts, None, out);
        pad(out, indent);
        out.push_str("}\n");
    }
}

/// `[type.googleapis.com/pkg.Type] { ... }` when the packed type is known.
fn write_any(msg: &DynamicMessage, indent: usize, opts: &TextOptions, out: &mut String) -> bool {
    let (Some(url), Some(bytes)) = (
        msg.get_field_by_name("type_url")
            .and_then(|v| v.as_str().map(str::to_owned)),
        msg.get_field_by_name("value")
            .and_then(|v| v.as_bytes().cloned()),
    ) else {
        return false;
    };
    let name = url.rsplit('/').next().unwrap_or_default();
    let Some(desc) = msg.descriptor().parent_pool().get_message_by_name(name) else {
        return false;
    };
    let Ok(inner) = DynamicMessage::decode(desc, bytes) else {
        return false;
    };
    pad(out, indent);
    let _ = writeln!(out, "[{url}] {{");
    write_message(&inner, indent + 1, opts, "", out);
    pad(out, indent);
    out.push_str("}\n");
    true
}

/// One scalar as text format writes it.
pub fn scalar(kind: &Kind, value: &Value) -> String {
    match value {
        Value::Bool(v) => v.to_string(),
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::U32(v) => v.to_string(),
        Value::U64(v) => v.to_string(),
        Value::F32(v) => format_float(*v),
        Value::F64(v) => format_double(*v),
        Value::String(s) => format!("\"{}\"", c_escape(s.as_bytes())),
        Value::Bytes(b) => format!("\"{}\"", c_escape(b)),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
            _ => n.to_string(),
        },
        Value::Message(_) | Value::List(_) | Value::Map(_) => String::new(),
    }
}

/// protobuf's `CEscape`: `\n \r \t \" \' \\`, other bytes outside printable
/// ASCII as three-digit octal.
pub fn c_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    c_escape_into(bytes, &mut out);
    out
}

/// [`c_escape`], appending to `out`.
pub fn c_escape_into(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
}

/// protobuf's `SimpleFtoa`: `%.6g`, or `%.9g` when that does not read back.
/// Its read-back (`safe_strtof`) refuses subnormal results, so subnormals
/// always get nine digits.
pub fn format_float(v: f32) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let short = format_g(f64::from(v), 6);
    if !v.is_subnormal() && short.parse::<f32>().ok() == Some(v) {
        short
    } else {
        format_g(f64::from(v), 9)
    }
}

/// protobuf's `SimpleDtoa`: `%.15g`, or `%.17g` when that does not read back.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let short = format_g(v, 15);
    if short.parse::<f64>().ok() == Some(v) {
        short
    } else {
        format_g(v, 17)
    }
}

/// C's `%.{p}g` for a finite value.
fn format_g(v: f64, p: usize) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e_form = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = e_form.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is a number");
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_protoc_prints_them() {
        assert_eq!(format_float(1.5), "1.5");
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(21.7), "21.7");
        assert_eq!(format_float(1e10), "1e+10");
        assert_eq!(format_float(3.4028235e38), "3.40282347e+38");
        assert_eq!(format_float(-0.0), "-0");
        assert_eq!(format_float(f32::from_bits(1)), "1.40129846e-45");
        assert_eq!(format_float(123456.79), "123456.789");
        assert_eq!(format_double(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_double(48.8566), "48.8566");
        assert_eq!(format_double(1e21), "1e+21");
        assert_eq!(format_double(1e-5), "1e-05");
        assert_eq!(format_double(123456789.0), "123456789");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn strings_are_c_escaped() {
        assert_eq!(c_escape(b"a\"b'c\\\n\x01"), "a\\\"b\\'c\\\\\\n\\001");
        assert_eq!(c_escape("é".as_bytes()), "\\303\\251");
    }
}
