//! Wire bytes straight to proto3 JSON, driven by the descriptors.
//!
//! The straightforward path (decode into a `DynamicMessage`, serialize it with
//! serde) spends most of its time building and walking the dynamic message,
//! and writes map entries in random order. [`JsonWriter`] instead precomputes,
//! per message type, a table of fields by number with their quoted keys, and
//! transcodes the bytes in one pass.
//!
//! The one-pass transcoder only accepts canonical input: fields in number
//! order, each repeated field in one run, one member per oneof, map keys
//! ascending. Anything else (or anything it is unsure of) makes it bail out;
//! the message is then decoded by prost-reflect (whose errors are the ones
//! reported), re-encoded canonically and transcoded again, so both paths print
//! identical JSON. prost-reflect's own serializer is the last resort.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, SerializeOptions};

use crate::wire::{self, WireType};

/// How JSON is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Pretty (two-space indent, as `serde_json::to_string_pretty`) or compact.
    pub pretty: bool,
    /// lowerCamelCase keys (the JSON names) instead of proto field names.
    pub camel_case: bool,
    /// Fields without presence are written even at their default value.
    pub emit_defaults: bool,
    /// Enum values as numbers (`use_integers_for_enums`), not names.
    pub enum_numbers: bool,
}

/// Nested messages deeper than this go to the slow path (which enforces
/// prost's recursion limit of 100 and reports it).
const FAST_DEPTH: usize = 64;

/// The transcoder met something it does not handle; take the slow path.
#[derive(Debug)]
struct Bail;

type Fast<T> = std::result::Result<T, Bail>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    Enum(u32),
    Message(u32),
    Group(u32),
}

impl Ty {
    fn wire_type(self) -> WireType {
        match self {
            Ty::Double | Ty::Fixed64 | Ty::Sfixed64 => WireType::I64,
            Ty::Float | Ty::Fixed32 | Ty::Sfixed32 => WireType::I32,
            Ty::String | Ty::Bytes | Ty::Message(_) => WireType::Len,
            Ty::Group(_) => WireType::StartGroup,
            _ => WireType::Varint,
        }
    }

    fn packable(self) -> bool {
        !matches!(self, Ty::String | Ty::Bytes | Ty::Message(_) | Ty::Group(_))
    }
}

#[derive(Debug, Clone, Copy)]
enum Card {
    Single,
    Repeated,
    Map { key: Ty, value: Ty },
}

#[derive(Debug)]
struct FieldPlan {
    number: u32,
    /// `"name"`, quoted and escaped.
    key: Box<str>,
    ty: Ty,
    card: Card,
    presence: bool,
    oneof: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    Timestamp,
    Duration,
    Wrapper(Ty),
    /// `{"@type": URL, ...}`: the packed message's members inline, or its
    /// JSON under "value" when it is a well-known type with a JSON form of
    /// its own.
    Any,
    /// Struct, Value, ListValue, FieldMask, Empty, and messages with
    /// extensions: prost-reflect's serializer.
    Dynamic,
}

#[derive(Debug)]
struct MsgPlan {
    desc: MessageDescriptor,
    special: Special,
    fields: Vec<FieldPlan>,
    /// Field index + 1 by number, when the numbers are small.
    dense: Vec<u16>,
}

impl MsgPlan {
    #[inline]
    fn lookup(&self, number: u32) -> Option<usize> {
        if !self.dense.is_empty() {
            return match self.dense.get(number as usize) {
                Some(&i) if i > 0 => Some(usize::from(i) - 1),
                _ => None,
            };
        }
        self.fields.binary_search_by_key(&number, |f| f.number).ok()
    }
}

#[derive(Debug)]
struct EnumPlan {
    null_value: bool,
    /// Quoted names by number, sorted.
    names: Vec<(i32, Box<str>)>,
    /// Quoted name of the default value (for emit-defaults).
    default: Box<str>,
}

impl EnumPlan {
    fn name(&self, n: i32) -> Option<&str> {
        self.names
            .binary_search_by_key(&n, |(k, _)| *k)
            .ok()
            .map(|i| &*self.names[i].1)
    }
}

/// Writes messages of one type as JSON.
#[derive(Debug)]
pub struct JsonWriter {
    msgs: Vec<MsgPlan>,
    enums: Vec<EnumPlan>,
    opts: JsonOptions,
    serialize: SerializeOptions,
}

impl JsonWriter {
    pub fn new(desc: &MessageDescriptor, opts: JsonOptions) -> JsonWriter {
        let mut w = JsonWriter {
            msgs: Vec::new(),
            enums: Vec::new(),
            opts,
            serialize: SerializeOptions::new()
                .use_proto_field_name(!opts.camel_case)
                .skip_default_fields(!opts.emit_defaults)
                .use_enum_numbers(opts.enum_numbers),
        };
        let mut names: Vec<String> = Vec::new();
        let mut enum_names: Vec<String> = Vec::new();
        w.plan_message(desc, &mut names, &mut enum_names);
        w
    }

    fn plan_message(
        &mut self,
        desc: &MessageDescriptor,
        names: &mut Vec<String>,
        enums: &mut Vec<String>,
    ) -> u32 {
        if let Some(i) = names.iter().position(|n| n == desc.full_name()) {
            return i as u32;
        }
        let idx = self.msgs.len();
        names.push(desc.full_name().to_owned());
        let special = match desc.full_name() {
            "google.protobuf.Timestamp" => Special::Timestamp,
            "google.protobuf.Duration" => Special::Duration,
            "google.protobuf.DoubleValue" => Special::Wrapper(Ty::Double),
            "google.protobuf.FloatValue" => Special::Wrapper(Ty::Float),
            "google.protobuf.Int64Value" => Special::Wrapper(Ty::Int64),
            "google.protobuf.UInt64Value" => Special::Wrapper(Ty::Uint64),
            "google.protobuf.Int32Value" => Special::Wrapper(Ty::Int32),
            "google.protobuf.UInt32Value" => Special::Wrapper(Ty::Uint32),
            "google.protobuf.BoolValue" => Special::Wrapper(Ty::Bool),
            "google.protobuf.StringValue" => Special::Wrapper(Ty::String),
            "google.protobuf.BytesValue" => Special::Wrapper(Ty::Bytes),
            "google.protobuf.Any" => Special::Any,
            "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Empty" => Special::Dynamic,
            _ if desc.extensions().len() > 0 => Special::Dynamic,
            _ => Special::None,
        };
        self.msgs.push(MsgPlan {
            desc: desc.clone(),
            special,
            fields: Vec::new(),
            dense: Vec::new(),
        });
        if special != Special::None {
            return idx as u32;
        }
        let mut fields = Vec::new();
        for f in desc.fields() {
            let name = if self.opts.camel_case {
                f.json_name()
            } else {
                f.name()
            };
            let card = if f.is_map() {
                let Kind::Message(entry) = f.kind() else {
                    unreachable!("map fields are messages")
                };
                let key = self.plan_ty(&entry.map_entry_key_field().kind(), false, names, enums);
                let value =
                    self.plan_ty(&entry.map_entry_value_field().kind(), false, names, enums);
                Card::Map { key, value }
            } else if f.is_list() {
                Card::Repeated
            } else {
                Card::Single
            };
            let ty = if let Card::Map { .. } = card {
                Ty::Bool // unused for maps
            } else {
                self.plan_ty(&f.kind(), f.is_group(), names, enums)
            };
            fields.push(FieldPlan {
                number: f.number(),
                key: serde_json::to_string(name)
                    .expect("a str serializes")
                    .into(),
                ty,
                card,
                presence: f.supports_presence(),
                oneof: f
                    .containing_oneof()
                    .and_then(|o| desc.oneofs().position(|x| x == o))
                    .map(|i| i as u32),
            });
        }
        let max = fields.iter().map(|f| f.number).max().unwrap_or(0);
        let dense = if max < 4096 {
            let mut d = vec![0u16; max as usize + 1];
            for (i, f) in fields.iter().enumerate() {
                d[f.number as usize] = (i + 1) as u16;
            }
            d
        } else {
            Vec::new()
        };
        self.msgs[idx].fields = fields;
        self.msgs[idx].dense = dense;
        idx as u32
    }

    fn plan_ty(
        &mut self,
        kind: &Kind,
        group: bool,
        names: &mut Vec<String>,
        enums: &mut Vec<String>,
    ) -> Ty {
        match kind {
            Kind::Double => Ty::Double,
            Kind::Float => Ty::Float,
            Kind::Int32 => Ty::Int32,
            Kind::Int64 => Ty::Int64,
            Kind::Uint32 => Ty::Uint32,
            Kind::Uint64 => Ty::Uint64,
            Kind::Sint32 => Ty::Sint32,
            Kind::Sint64 => Ty::Sint64,
            Kind::Fixed32 => Ty::Fixed32,
            Kind::Fixed64 => Ty::Fixed64,
            Kind::Sfixed32 => Ty::Sfixed32,
            Kind::Sfixed64 => Ty::Sfixed64,
            Kind::Bool => Ty::Bool,
            Kind::String => Ty::String,
            Kind::Bytes => Ty::Bytes,
            Kind::Enum(e) => {
                if let Some(i) = enums.iter().position(|n| n == e.full_name()) {
                    return Ty::Enum(i as u32);
                }
                let quote = |s: &str| -> Box<str> {
                    serde_json::to_string(s).expect("a str serializes").into()
                };
                let mut values: Vec<(i32, Box<str>)> = Vec::new();
                for v in e.values() {
                    if !values.iter().any(|(n, _)| *n == v.number()) {
                        values.push((v.number(), quote(v.name())));
                    }
                }
                values.sort_by_key(|(n, _)| *n);
                enums.push(e.full_name().to_owned());
                self.enums.push(EnumPlan {
                    null_value: e.full_name() == "google.protobuf.NullValue",
                    names: values,
                    default: quote(e.default_value().name()),
                });
                Ty::Enum((self.enums.len() - 1) as u32)
            }
            Kind::Message(m) => {
                let i = self.plan_message(m, names, enums);
                if group { Ty::Group(i) } else { Ty::Message(i) }
            }
        }
    }

    /// Appends the JSON of one message (no trailing newline).
    ///
    /// An error means the bytes are not a valid message of this type.
    pub fn write(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        if self.message(0, bytes, out, 0, 0).is_ok() {
            return Ok(());
        }
        out.truncate(start);
        let desc = &self.msgs[0].desc;
        let msg = DynamicMessage::decode(desc.clone(), bytes).map_err(anyhow::Error::from)?;
        self.write_dynamic(&msg, out)
    }

    /// Appends the JSON of a decoded message.
    pub fn write_dynamic(&self, msg: &DynamicMessage, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let canonical = wire::encode_to_vec(msg);
        if self.message(0, &canonical, out, 0, 0).is_ok() {
            return Ok(());
        }
        out.truncate(start);
        // prost-reflect's serializer expands Any payloads without a depth
        // limit: refuse hostile nesting before it runs.
        wire::check_nesting(msg).map_err(anyhow::Error::msg)?;
        self.serde_fallback(msg, out, 0)
    }

    fn serde_fallback(&self, msg: &DynamicMessage, out: &mut Vec<u8>, indent: usize) -> Result<()> {
        // prost-reflect prints any seconds and nanos; the runtimes refuse a
        // time that has no JSON form.
        if let Some(why) = time_out_of_range(msg, "") {
            anyhow::bail!("cannot write the message as JSON: {why}");
        }
        if self.opts.pretty {
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(
                &mut buf,
                serde_json::ser::PrettyFormatter::with_indent(b"  "),
            );
            msg.serialize_with_options(&mut ser, &self.serialize)
                .context("cannot write the message as JSON")?;
            let text = String::from_utf8(buf).expect("serde_json writes UTF-8");
            let pad = "  ".repeat(indent);
            for (i, line) in text.lines().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                    out.extend_from_slice(pad.as_bytes());
                }
                out.extend_from_slice(line.as_bytes());
            }
        } else {
            let mut ser = serde_json::Serializer::new(&mut *out);
            msg.serialize_with_options(&mut ser, &self.serialize)
                .context("cannot write the message as JSON")?;
        }
        Ok(())
    }

    #[inline]
    fn newline(&self, out: &mut Vec<u8>, level: usize) {
        if self.opts.pretty {
            out.push(b'\n');
            for _ in 0..level {
                out.extend_from_slice(b"  ");
            }
        }
    }

    /// Writes `,`/newline/indent and `"key":` for a member of an object at
    /// `level`.
    #[inline]
    fn key(&self, out: &mut Vec<u8>, first: &mut bool, level: usize, key: &str) {
        if !*first {
            out.push(b',');
        }
        *first = false;
        self.newline(out, level + 1);
        out.extend_from_slice(key.as_bytes());
        out.push(b':');
        if self.opts.pretty {
            out.push(b' ');
        }
    }

    fn message(
        &self,
        idx: u32,
        buf: &[u8],
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<()> {
        if depth > FAST_DEPTH {
            return Err(Bail);
        }
        let plan = &self.msgs[idx as usize];
        match plan.special {
            Special::None => {}
            Special::Timestamp => return self.timestamp(buf, out),
            Special::Duration => return self.duration(buf, out),
            Special::Wrapper(ty) => return self.wrapper(ty, buf, out, depth, level),
            Special::Any => return self.any(plan, buf, out, depth, level),
            Special::Dynamic => {
                let msg = DynamicMessage::decode(plan.desc.clone(), buf).map_err(|_| Bail)?;
                return self.serde_fallback(&msg, out, level).map_err(|_| Bail);
            }
        }
        out.push(b'{');
        let mut first = true;
        self.members(idx, buf, out, depth, level, &mut first)?;
        if !first {
            self.newline(out, level);
        }
        out.push(b'}');
        Ok(())
    }

    /// The members of a message's JSON object, written after whatever the
    /// object already holds (`first` says whether that is nothing).
    fn members(
        &self,
        idx: u32,
        buf: &[u8],
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
        first: &mut bool,
    ) -> Fast<()> {
        let plan = &self.msgs[idx as usize];
        if plan.special != Special::None {
            return Err(Bail);
        }
        let mut pos = 0;
        let mut last_number = 0u32;
        let mut run: Option<Run> = None;
        let mut next_default = 0usize;
        let mut oneofs_seen = 0u64;

        while pos < buf.len() {
            let (number, wt) = wire::read_key(buf, &mut pos).ok_or(Bail)?;
            let Some(fi) = plan.lookup(number) else {
                wire::skip_value(buf, &mut pos, number, wt, depth).ok_or(Bail)?;
                continue;
            };
            let f = &plan.fields[fi];
            if number == last_number {
                let r = run.as_mut().ok_or(Bail)?;
                self.run_item(r, f, wt, buf, &mut pos, out, depth, level)?;
                continue;
            }
            if number < last_number {
                return Err(Bail);
            }
            last_number = number;
            if let Some(r) = run.take() {
                self.close_run(r, out, first, level);
            }
            if self.opts.emit_defaults {
                for d in &plan.fields[next_default..fi] {
                    self.write_field_default(d, out, first, level);
                }
            }
            next_default = fi + 1;
            if let Some(o) = f.oneof {
                if o >= 64 || oneofs_seen & (1 << o) != 0 {
                    return Err(Bail);
                }
                oneofs_seen |= 1 << o;
            }
            match f.card {
                Card::Single => {
                    let mark = out.len();
                    let was_first = *first;
                    self.key(out, first, level, &f.key);
                    let is_default = self.value(f.ty, wt, buf, &mut pos, out, depth, level + 1)?;
                    if is_default && !f.presence && !self.opts.emit_defaults {
                        out.truncate(mark);
                        *first = was_first;
                    }
                }
                Card::Repeated | Card::Map { .. } => {
                    let mark = out.len();
                    let was_first = *first;
                    self.key(out, first, level, &f.key);
                    out.push(if matches!(f.card, Card::Map { .. }) {
                        b'{'
                    } else {
                        b'['
                    });
                    let mut r = Run {
                        mark,
                        was_first,
                        count: 0,
                        map: matches!(f.card, Card::Map { .. }),
                        last_key: None,
                    };
                    self.run_item(&mut r, f, wt, buf, &mut pos, out, depth, level)?;
                    run = Some(r);
                }
            }
        }
        if let Some(r) = run.take() {
            self.close_run(r, out, first, level);
        }
        if self.opts.emit_defaults {
            for d in &plan.fields[next_default..] {
                self.write_field_default(d, out, first, level);
            }
        }
        Ok(())
    }

    fn close_run(&self, r: Run, out: &mut Vec<u8>, first: &mut bool, level: usize) {
        let close = if r.map { b'}' } else { b']' };
        if r.count == 0 {
            // An empty packed run: shown as an unset field would be.
            if self.opts.emit_defaults {
                out.push(close);
            } else {
                out.truncate(r.mark);
                *first = r.was_first;
            }
            return;
        }
        self.newline(out, level + 1);
        out.push(close);
    }

    #[allow(clippy::too_many_arguments)]
    fn run_item<'a>(
        &self,
        r: &mut Run<'a>,
        f: &FieldPlan,
        wt: WireType,
        buf: &'a [u8],
        pos: &mut usize,
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<()> {
        let item_level = level + 2;
        match f.card {
            Card::Single => Err(Bail),
            Card::Repeated => {
                if wt == WireType::Len && f.ty.packable() {
                    let data = wire::read_len(buf, pos).ok_or(Bail)?;
                    let mut p = 0;
                    while p < data.len() {
                        self.sep(r, out, item_level);
                        self.value(f.ty, f.ty.wire_type(), data, &mut p, out, depth, item_level)?;
                    }
                    Ok(())
                } else {
                    self.sep(r, out, item_level);
                    self.value(f.ty, wt, buf, pos, out, depth, item_level)
                        .map(drop)
                }
            }
            Card::Map { key, value } => {
                if wt != WireType::Len {
                    return Err(Bail);
                }
                let entry = wire::read_len(buf, pos).ok_or(Bail)?;
                self.map_entry(r, key, value, entry, out, depth, level + 1)
            }
        }
    }

    #[inline]
    fn sep(&self, r: &mut Run, out: &mut Vec<u8>, item_level: usize) {
        if r.count > 0 {
            out.push(b',');
        }
        r.count += 1;
        self.newline(out, item_level);
    }

    #[allow(clippy::too_many_arguments)]
    fn map_entry<'a>(
        &self,
        r: &mut Run<'a>,
        key_ty: Ty,
        value_ty: Ty,
        entry: &'a [u8],
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<()> {
        let mut p = 0;
        let mut key: Option<(WireType, usize)> = None;
        let mut value: Option<(WireType, usize)> = None;
        while p < entry.len() {
            let (n, wt) = wire::read_key(entry, &mut p).ok_or(Bail)?;
            let at = p;
            match n {
                1 if key.is_none() && value.is_none() => key = Some((wt, at)),
                2 if value.is_none() => value = Some((wt, at)),
                _ => return Err(Bail),
            }
            wire::skip_value(entry, &mut p, n, wt, depth).ok_or(Bail)?;
        }
        // The key, for ordering and for printing.
        let k = match key {
            None => MapKey::default_for(key_ty),
            Some((wt, at)) => {
                if wt != key_ty.wire_type() {
                    return Err(Bail);
                }
                let mut q = at;
                MapKey::read(key_ty, entry, &mut q).ok_or(Bail)?
            }
        };
        if let Some(prev) = &r.last_key {
            if k.partial_cmp(prev) != Some(std::cmp::Ordering::Greater) {
                return Err(Bail);
            }
        }
        self.sep(r, out, level + 1);
        k.write_quoted(out)?;
        out.push(b':');
        if self.opts.pretty {
            out.push(b' ');
        }
        match value {
            None => self.default_value(value_ty, out),
            Some((wt, at)) => {
                let mut q = at;
                self.value(value_ty, wt, entry, &mut q, out, depth, level + 1)?;
            }
        }
        r.last_key = Some(k);
        Ok(())
    }

    fn write_field_default(
        &self,
        f: &FieldPlan,
        out: &mut Vec<u8>,
        first: &mut bool,
        level: usize,
    ) {
        if f.presence {
            return;
        }
        self.key(out, first, level, &f.key);
        match f.card {
            Card::Single => self.default_value(f.ty, out),
            Card::Repeated => out.extend_from_slice(b"[]"),
            Card::Map { .. } => out.extend_from_slice(b"{}"),
        }
    }

    fn default_value(&self, ty: Ty, out: &mut Vec<u8>) {
        let s: &str = match ty {
            Ty::Double | Ty::Float => "0.0",
            Ty::Int64 | Ty::Uint64 | Ty::Sint64 | Ty::Fixed64 | Ty::Sfixed64 => "\"0\"",
            Ty::Bool => "false",
            Ty::String | Ty::Bytes => "\"\"",
            Ty::Enum(e) => {
                let plan = &self.enums[e as usize];
                if plan.null_value {
                    "null"
                } else if self.opts.enum_numbers {
                    "0"
                } else {
                    &plan.default
                }
            }
            Ty::Message(m) | Ty::Group(m) => {
                // The JSON of an empty message of that type (`{}`, or a
                // well-known type's zero value).
                let mark = out.len();
                if self.message(m, &[], out, 0, 0).is_err() {
                    out.truncate(mark);
                    out.extend_from_slice(b"{}");
                }
                return;
            }
            _ => "0",
        };
        out.extend_from_slice(s.as_bytes());
    }

    /// Writes one value of type `ty` read at `*pos`; returns whether it was
    /// the type's default (for fields without presence).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn value(
        &self,
        ty: Ty,
        wt: WireType,
        buf: &[u8],
        pos: &mut usize,
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<bool> {
        if wt != ty.wire_type() {
            return Err(Bail);
        }
        let mut ib = itoa::Buffer::new();
        Ok(match ty {
            Ty::Double => {
                let bits = u64::from_le_bytes(wire::read_fixed64(buf, pos).ok_or(Bail)?);
                write_f64(out, f64::from_bits(bits));
                bits == 0
            }
            Ty::Float => {
                let bits = u32::from_le_bytes(wire::read_fixed32(buf, pos).ok_or(Bail)?);
                write_f32(out, f32::from_bits(bits));
                bits == 0
            }
            Ty::Int32 => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)? as i32;
                out.extend_from_slice(ib.format(v).as_bytes());
                v == 0
            }
            Ty::Uint32 => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)? as u32;
                out.extend_from_slice(ib.format(v).as_bytes());
                v == 0
            }
            Ty::Sint32 => {
                let v = wire::zigzag32(wire::read_varint(buf, pos).ok_or(Bail)?);
                out.extend_from_slice(ib.format(v).as_bytes());
                v == 0
            }
            Ty::Int64 => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)? as i64;
                quoted(out, ib.format(v));
                v == 0
            }
            Ty::Uint64 => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)?;
                quoted(out, ib.format(v));
                v == 0
            }
            Ty::Sint64 => {
                let v = wire::zigzag64(wire::read_varint(buf, pos).ok_or(Bail)?);
                quoted(out, ib.format(v));
                v == 0
            }
            Ty::Fixed32 => {
                let v = u32::from_le_bytes(wire::read_fixed32(buf, pos).ok_or(Bail)?);
                out.extend_from_slice(ib.format(v).as_bytes());
                v == 0
            }
            Ty::Sfixed32 => {
                let v = i32::from_le_bytes(wire::read_fixed32(buf, pos).ok_or(Bail)?);
                out.extend_from_slice(ib.format(v).as_bytes());
                v == 0
            }
            Ty::Fixed64 => {
                let v = u64::from_le_bytes(wire::read_fixed64(buf, pos).ok_or(Bail)?);
                quoted(out, ib.format(v));
                v == 0
            }
            Ty::Sfixed64 => {
                let v = i64::from_le_bytes(wire::read_fixed64(buf, pos).ok_or(Bail)?);
                quoted(out, ib.format(v));
                v == 0
            }
            Ty::Bool => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)? != 0;
                out.extend_from_slice(if v { b"true" } else { b"false" });
                !v
            }
            Ty::String => {
                let data = wire::read_len(buf, pos).ok_or(Bail)?;
                let s = std::str::from_utf8(data).map_err(|_| Bail)?;
                write_str(out, s);
                s.is_empty()
            }
            Ty::Bytes => {
                let data = wire::read_len(buf, pos).ok_or(Bail)?;
                out.push(b'"');
                let start = out.len();
                out.resize(start + data.len().div_ceil(3) * 4, 0);
                let n = BASE64
                    .encode_slice(data, &mut out[start..])
                    .map_err(|_| Bail)?;
                out.truncate(start + n);
                out.push(b'"');
                data.is_empty()
            }
            Ty::Enum(e) => {
                let v = wire::read_varint(buf, pos).ok_or(Bail)? as i32;
                let plan = &self.enums[e as usize];
                if plan.null_value {
                    out.extend_from_slice(b"null");
                } else if self.opts.enum_numbers {
                    out.extend_from_slice(ib.format(v).as_bytes());
                } else if let Some(name) = plan.name(v) {
                    out.extend_from_slice(name.as_bytes());
                } else {
                    out.extend_from_slice(ib.format(v).as_bytes());
                }
                v == 0
            }
            Ty::Message(m) => {
                let data = wire::read_len(buf, pos).ok_or(Bail)?;
                self.message(m, data, out, depth + 1, level)?;
                false
            }
            Ty::Group(m) => {
                let number = self.group_number(buf, *pos)?;
                let body_start = *pos;
                wire::skip_group(buf, pos, number, depth).ok_or(Bail)?;
                let mut end_key = Vec::new();
                wire::write_key(&mut end_key, number, WireType::EndGroup);
                let body = &buf[body_start..*pos - end_key.len()];
                self.message(m, body, out, depth + 1, level)?;
                false
            }
        })
    }

    /// The number of the group whose start key ends just before `pos`.
    fn group_number(&self, buf: &[u8], pos: usize) -> Fast<u32> {
        // Walk back over the key's varint: its last byte is < 0x80 and the
        // bytes before it (up to 4 more) are >= 0x80.
        let mut start = pos.checked_sub(1).ok_or(Bail)?;
        while start > 0 && pos - start < 5 && buf[start - 1] >= 0x80 {
            start -= 1;
        }
        let mut p = start;
        let (n, wt) = wire::read_key(buf, &mut p).ok_or(Bail)?;
        if p != pos || wt != WireType::StartGroup {
            return Err(Bail);
        }
        Ok(n)
    }

    fn any(
        &self,
        plan: &MsgPlan,
        buf: &[u8],
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<()> {
        // Last occurrence wins for both fields, as when decoding.
        let (mut url, mut value): (&str, &[u8]) = ("", &[]);
        let mut pos = 0;
        while pos < buf.len() {
            let (n, wt) = wire::read_key(buf, &mut pos).ok_or(Bail)?;
            match (n, wt) {
                (1, WireType::Len) => {
                    url = std::str::from_utf8(wire::read_len(buf, &mut pos).ok_or(Bail)?)
                        .map_err(|_| Bail)?
                }
                (2, WireType::Len) => value = wire::read_len(buf, &mut pos).ok_or(Bail)?,
                (1 | 2, _) => return Err(Bail),
                _ => wire::skip_value(buf, &mut pos, n, wt, depth).ok_or(Bail)?,
            }
        }
        if url.is_empty() && value.is_empty() {
            out.extend_from_slice(b"{}");
            return Ok(());
        }
        let name = url.rsplit('/').next().unwrap_or_default();
        // An unknown type: the slow path reports it.
        let inner = plan
            .desc
            .parent_pool()
            .get_message_by_name(name)
            .ok_or(Bail)?;
        let writer = JsonWriter::new(&inner, self.opts);
        out.push(b'{');
        let mut first = true;
        self.key(out, &mut first, level, "\"@type\"");
        write_str(out, url);
        if inner.full_name() == "google.protobuf.Empty" {
            // No JSON form of its own and no fields: just the type.
        } else if writer.msgs[0].special == Special::None {
            writer.members(0, value, out, depth + 1, level, &mut first)?;
        } else {
            self.key(out, &mut first, level, "\"value\"");
            writer.message(0, value, out, depth + 1, level + 1)?;
        }
        self.newline(out, level);
        out.push(b'}');
        Ok(())
    }

    fn timestamp(&self, buf: &[u8], out: &mut Vec<u8>) -> Fast<()> {
        let (seconds, nanos) = seconds_nanos(buf)?;
        if !(-62_135_596_800..=253_402_300_799).contains(&seconds)
            || !(0..1_000_000_000).contains(&nanos)
        {
            return Err(Bail);
        }
        out.push(b'"');
        rfc3339(seconds, nanos, out);
        out.push(b'"');
        Ok(())
    }

    fn duration(&self, buf: &[u8], out: &mut Vec<u8>) -> Fast<()> {
        let (seconds, nanos) = seconds_nanos(buf)?;
        if seconds.unsigned_abs() > 315_576_000_000
            || nanos.unsigned_abs() > 999_999_999
            || (seconds > 0 && nanos < 0)
            || (seconds < 0 && nanos > 0)
        {
            return Err(Bail);
        }
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{}", prost_types::Duration { seconds, nanos });
        quoted(out, &s);
        Ok(())
    }

    fn wrapper(
        &self,
        ty: Ty,
        buf: &[u8],
        out: &mut Vec<u8>,
        depth: usize,
        level: usize,
    ) -> Fast<()> {
        // The last occurrence of field 1 wins, as when decoding.
        let mut pos = 0;
        let mut found: Option<(WireType, usize)> = None;
        while pos < buf.len() {
            let (n, wt) = wire::read_key(buf, &mut pos).ok_or(Bail)?;
            if n == 1 {
                found = Some((wt, pos));
            }
            wire::skip_value(buf, &mut pos, n, wt, depth).ok_or(Bail)?;
        }
        match found {
            None => self.default_value(ty, out),
            Some((wt, at)) => {
                let mut p = at;
                self.value(ty, wt, buf, &mut p, out, depth, level)?;
            }
        }
        Ok(())
    }
}

/// An open repeated or map field: where its key starts (to take it back if
/// the run turns out empty) and what has been written.
struct Run<'a> {
    mark: usize,
    was_first: bool,
    count: usize,
    map: bool,
    last_key: Option<MapKey<'a>>,
}

/// A map key as read from the wire, ordered as prost-reflect's `MapKey`.
#[derive(Debug, PartialEq, PartialOrd)]
enum MapKey<'a> {
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
    Str(&'a str),
}

impl<'a> MapKey<'a> {
    fn default_for(ty: Ty) -> MapKey<'a> {
        match ty {
            Ty::Bool => MapKey::Bool(false),
            Ty::String => MapKey::Str(""),
            Ty::Uint32 | Ty::Uint64 | Ty::Fixed32 | Ty::Fixed64 => MapKey::Unsigned(0),
            _ => MapKey::Signed(0),
        }
    }

    fn read(ty: Ty, buf: &'a [u8], pos: &mut usize) -> Option<MapKey<'a>> {
        Some(match ty {
            Ty::Bool => MapKey::Bool(wire::read_varint(buf, pos)? != 0),
            Ty::String => MapKey::Str(std::str::from_utf8(wire::read_len(buf, pos)?).ok()?),
            Ty::Int32 => MapKey::Signed(i64::from(wire::read_varint(buf, pos)? as i32)),
            Ty::Int64 => MapKey::Signed(wire::read_varint(buf, pos)? as i64),
            Ty::Sint32 => MapKey::Signed(i64::from(wire::zigzag32(wire::read_varint(buf, pos)?))),
            Ty::Sint64 => MapKey::Signed(wire::zigzag64(wire::read_varint(buf, pos)?)),
            Ty::Sfixed32 => {
                MapKey::Signed(i64::from(i32::from_le_bytes(wire::read_fixed32(buf, pos)?)))
            }
            Ty::Sfixed64 => MapKey::Signed(i64::from_le_bytes(wire::read_fixed64(buf, pos)?)),
            Ty::Uint32 => MapKey::Unsigned(u64::from(wire::read_varint(buf, pos)? as u32)),
            Ty::Uint64 => MapKey::Unsigned(wire::read_varint(buf, pos)?),
            Ty::Fixed32 => {
                MapKey::Unsigned(u64::from(u32::from_le_bytes(wire::read_fixed32(buf, pos)?)))
            }
            Ty::Fixed64 => MapKey::Unsigned(u64::from_le_bytes(wire::read_fixed64(buf, pos)?)),
            _ => return None,
        })
    }

    fn write_quoted(&self, out: &mut Vec<u8>) -> Fast<()> {
        let mut ib = itoa::Buffer::new();
        match self {
            MapKey::Bool(b) => quoted(out, if *b { "true" } else { "false" }),
            MapKey::Signed(v) => quoted(out, ib.format(*v)),
            MapKey::Unsigned(v) => quoted(out, ib.format(*v)),
            MapKey::Str(s) => write_str(out, s),
        }
        Ok(())
    }
}

fn seconds_nanos(buf: &[u8]) -> Fast<(i64, i32)> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut pos = 0;
    while pos < buf.len() {
        let (n, wt) = wire::read_key(buf, &mut pos).ok_or(Bail)?;
        match (n, wt) {
            (1, WireType::Varint) => seconds = wire::read_varint(buf, &mut pos).ok_or(Bail)? as i64,
            (2, WireType::Varint) => nanos = wire::read_varint(buf, &mut pos).ok_or(Bail)? as i32,
            (1 | 2, _) => return Err(Bail),
            _ => wire::skip_value(buf, &mut pos, n, wt, 0).ok_or(Bail)?,
        }
    }
    Ok((seconds, nanos))
}

#[inline]
/// A Timestamp (seconds in years 1 to 9999, nanos in 0..1e9) as RFC 3339
/// in UTC, as prost-types and protobuf print it: the fraction in 3, 6 or 9
/// digits, none when zero. Written directly: `core::fmt` took an eighth of
/// a decode of telemetry to JSON.
fn rfc3339(seconds: i64, nanos: i32, out: &mut Vec<u8>) {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400) as u32;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
    let two = |out: &mut Vec<u8>, v: u32| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    two(out, year / 100);
    two(out, year % 100);
    out.push(b'-');
    two(out, month);
    out.push(b'-');
    two(out, day);
    out.push(b'T');
    two(out, secs / 3_600);
    out.push(b':');
    two(out, secs / 60 % 60);
    out.push(b':');
    two(out, secs % 60);
    if nanos != 0 {
        let (value, digits) = if nanos % 1_000_000 == 0 {
            (nanos / 1_000_000, 3)
        } else if nanos % 1_000 == 0 {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        out.push(b'.');
        let mut buf = [b'0'; 9];
        let mut v = value as u32;
        for i in (0..digits).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend_from_slice(&buf[..digits]);
    }
    out.push(b'Z');
}

fn quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

#[inline]
fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping, so output matches its serializer byte for byte.
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

fn write_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        write_f64(out, f64::from(v));
    }
}

/// The first Timestamp or Duration in `msg` (at `path`) whose seconds and
/// nanos have no JSON form, said why.
fn time_out_of_range(msg: &DynamicMessage, path: &str) -> Option<String> {
    use prost_reflect::{ReflectMessage, Value};
    let desc = msg.descriptor();
    let int = |name: &str| {
        msg.get_field_by_name(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_i32().map(i64::from)))
            .unwrap_or(0)
    };
    let at = if path.is_empty() { "the message" } else { path };
    match desc.full_name() {
        "google.protobuf.Timestamp" => {
            let (seconds, nanos) = (int("seconds"), int("nanos"));
            if !(-62_135_596_800..=253_402_300_799).contains(&seconds) {
                return Some(format!(
                    "the Timestamp at {at} has seconds {seconds}, outside 0001-01-01 to 9999-12-31"
                ));
            }
            if !(0..1_000_000_000).contains(&nanos) {
                return Some(format!(
                    "the Timestamp at {at} has nanos {nanos}, outside 0 to 999999999"
                ));
            }
            return None;
        }
        "google.protobuf.Duration" => {
            let (seconds, nanos) = (int("seconds"), int("nanos"));
            if seconds.unsigned_abs() > 315_576_000_000 || nanos.unsigned_abs() > 999_999_999 {
                return Some(format!(
                    "the Duration at {at} ({seconds} s, {nanos} ns) is outside ±10,000 years"
                ));
            }
            if (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0) {
                return Some(format!(
                    "the Duration at {at} has seconds {seconds} and nanos {nanos} of the other sign"
                ));
            }
            return None;
        }
        _ => {}
    }
    for (field, value) in msg.fields() {
        let here = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        let found = match value {
            Value::Message(m) => time_out_of_range(m, &here),
            Value::List(items) => items.iter().enumerate().find_map(|(i, v)| {
                v.as_message()
                    .and_then(|m| time_out_of_range(m, &format!("{here}[{i}]")))
            }),
            Value::Map(map) => map
                .values()
                .find_map(|v| v.as_message().and_then(|m| time_out_of_range(m, &here))),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod rfc3339_tests {
    use std::fmt::Write as _;

    /// The same text as prost-types' Display, over the whole range.
    #[test]
    fn timestamps_print_as_prost_types_prints_them() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let (min, max) = (-62_135_596_800_i64, 253_402_300_799_i64);
        let mut cases = vec![
            (min, 0),
            (max, 999_999_999),
            (0, 0),
            (-1, 1),
            (951_782_400, 5),
        ];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let seconds = min + (x % (max - min + 1) as u64) as i64;
            let nanos = match x % 4 {
                0 => 0,
                1 => ((x >> 20) % 1_000) as i32 * 1_000_000,
                2 => ((x >> 20) % 1_000_000) as i32 * 1_000,
                _ => ((x >> 20) % 1_000_000_000) as i32,
            };
            cases.push((seconds, nanos));
        }
        for (seconds, nanos) in cases {
            let mut want = String::new();
            let _ = write!(want, "{}", prost_types::Timestamp { seconds, nanos });
            let mut got = Vec::new();
            super::rfc3339(seconds, nanos, &mut got);
            assert_eq!(String::from_utf8(got).unwrap(), want, "{seconds} {nanos}");
        }
    }
}
