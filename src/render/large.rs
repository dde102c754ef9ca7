//! Large messages shown without being decoded whole.
//!
//! A decoded [`DynamicMessage`] takes many times the bytes of its encoding
//! (a tree of maps, a boxed value per field): a 3.5 MB message of 320,000
//! small entries took 282 MB to print as text and 2.2 GB as a table (with
//! comfy-table) before this module. A message larger
//! than [`SPLIT`] is instead read one field at a time from its bytes: each
//! occurrence of a message field is opened on its own (and split again if
//! it is large), repeated scalars are decoded one value at a time, and only
//! small leftovers (a map, an extension) are decoded into a message of their
//! own. Output is then produced as it goes, in the same form as the decoded
//! path prints, and memory stays bounded by [`SPLIT`]-sized pieces.
//!
//! Only canonical input is split (fields in number order, each in one run,
//! singular fields once, one member per oneof, map keys ascending): anything
//! else has merge or last-wins semantics and is decoded whole.

use std::io;

use anyhow::Result;
use prost_reflect::{
    Cardinality, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage,
    Value,
};

use crate::wire::{self, MAX_DEPTH, WireType};

/// Messages larger than this many bytes are read a field at a time.
pub const SPLIT: usize = 64 * 1024;

/// A message to show: decoded, or read from its bytes a field at a time.
pub enum Msg<'a> {
    Decoded(DynamicMessage),
    Split(Split<'a>),
}

/// A large message's fields, in number order, as they appear in its bytes.
pub struct Split<'a> {
    pub desc: MessageDescriptor,
    pub groups: Vec<Group<'a>>,
    /// Unknown fields' bytes (shown last, as protoc does).
    pub unknown: Vec<&'a [u8]>,
    pub depth: usize,
}

/// The values of one field.
pub enum Group<'a> {
    /// A message field (not a map): the bytes of each occurrence.
    Messages {
        field: FieldDescriptor,
        items: Vec<&'a [u8]>,
    },
    /// A scalar, string, bytes or enum field: its keys and values, read one
    /// value at a time by [`Group::for_each_scalar`].
    Scalars {
        field: FieldDescriptor,
        bytes: &'a [u8],
    },
    /// Anything else (a map, an extension): decoded on its own.
    Decoded(DynamicMessage),
}

impl<'a> Msg<'a> {
    /// Opens `bytes` as `desc` at nesting `depth`, checking everything a
    /// decode checks. `None` when they do not decode (the caller reports it
    /// with a full decode, which explains where).
    pub fn open(desc: &MessageDescriptor, bytes: &'a [u8], depth: usize) -> Option<Msg<'a>> {
        Msg::read(desc, bytes, depth, true)
    }

    /// Opens a sub-message of a message opened with [`Msg::open`], which
    /// checked its bytes: only its own level is read again. (Opening each
    /// level with [`Msg::open`] read every level below it again, for each
    /// level above: time went with the square of the depth.)
    pub fn reopen(desc: &MessageDescriptor, bytes: &'a [u8], depth: usize) -> Option<Msg<'a>> {
        Msg::read(desc, bytes, depth, false)
    }

    /// Opens `bytes`; with `check`, every sub-message is opened too (and
    /// dropped) to check it.
    fn read(
        desc: &MessageDescriptor,
        bytes: &'a [u8],
        depth: usize,
        check: bool,
    ) -> Option<Msg<'a>> {
        if bytes.len() <= SPLIT || depth >= MAX_DEPTH || !splittable(desc) {
            return decode(desc, bytes, depth).ok().map(Msg::Decoded);
        }
        match split(desc, bytes, depth, check).ok()? {
            Some(s) => Some(Msg::Split(s)),
            None => decode(desc, bytes, depth).ok().map(Msg::Decoded),
        }
    }

    pub fn descriptor(&self) -> MessageDescriptor {
        match self {
            Msg::Decoded(m) => m.descriptor(),
            Msg::Split(s) => s.desc.clone(),
        }
    }
}

/// Well-known types and messages with a JSON or text form of their own are
/// small in practice and shown whole.
fn splittable(desc: &MessageDescriptor) -> bool {
    !desc.full_name().starts_with("google.protobuf.")
}

/// Decodes `bytes` found at nesting `depth`: nothing in them may go deeper
/// than a decode of the whole message allows.
fn decode(desc: &MessageDescriptor, bytes: &[u8], depth: usize) -> Result<DynamicMessage, ()> {
    let msg = DynamicMessage::decode(desc.clone(), bytes).map_err(drop)?;
    wire::check_nesting_from(&msg, depth).map_err(drop)?;
    Ok(msg)
}

/// One field as it appears on the wire: its key and value bytes.
struct WireField<'a> {
    number: u32,
    wire_type: WireType,
    /// Key and value.
    whole: &'a [u8],
    /// The value (for a length-delimited field, without its length).
    value: &'a [u8],
}

fn read_field<'a>(buf: &'a [u8], pos: &mut usize) -> Option<WireField<'a>> {
    let start = *pos;
    let (number, wire_type) = wire::read_key(buf, pos)?;
    let value_start = *pos;
    let value = match wire_type {
        WireType::Len => wire::read_len(buf, pos)?,
        wt => {
            wire::skip_value(buf, pos, number, wt, 0)?;
            &buf[value_start..*pos]
        }
    };
    Some(WireField {
        number,
        wire_type,
        whole: &buf[start..*pos],
        value,
    })
}

/// Reads a large message's top level; `Ok(None)` when it is not canonical
/// (then it is decoded whole). With `check_items`, each occurrence of a
/// message field is checked to open too.
fn split<'a>(
    desc: &MessageDescriptor,
    bytes: &'a [u8],
    depth: usize,
    check_items: bool,
) -> Result<Option<Split<'a>>, ()> {
    let mut s = Split {
        desc: desc.clone(),
        groups: Vec::new(),
        unknown: Vec::new(),
        depth,
    };
    let mut pos = 0;
    let mut last_number = 0u32;
    let mut oneofs_seen: Vec<String> = Vec::new();
    // The field being gathered: its descriptor and where its run started.
    let mut run: Option<(FieldDescriptor, usize, Vec<&'a [u8]>)> = None;
    let close = |run: Option<(FieldDescriptor, usize, Vec<&'a [u8]>)>,
                 end: usize,
                 s: &mut Split<'a>|
     -> Result<bool, ()> {
        let Some((field, start, items)) = run else {
            return Ok(true);
        };
        let slice = &bytes[start..end];
        if field.is_map() {
            let Some(decoded) = decode_map(desc, &field, slice, depth)? else {
                return Ok(false);
            };
            s.groups.push(Group::Decoded(decoded));
        } else if matches!(field.kind(), Kind::Message(_)) {
            s.groups.push(Group::Messages { field, items });
        } else {
            // Every value must decode (UTF-8, lengths): check them now
            // (bytes need no more than their framing: no copy).
            let mut ok = true;
            let checked = if matches!(field.kind(), Kind::Bytes) {
                for_each_bytes(slice, &mut |_| Ok(()), &mut ok)
            } else {
                for_each_scalar(&field, slice, &mut |_| Ok(()), &mut ok)
            };
            if checked.is_err() || !ok {
                return Err(());
            }
            s.groups.push(Group::Scalars {
                field,
                bytes: slice,
            });
        }
        Ok(true)
    };
    while pos < bytes.len() {
        let start = pos;
        let f = read_field(bytes, &mut pos).ok_or(())?;
        if let Some((field, _, items)) = &mut run {
            if field.number() == f.number {
                if !field.is_list() && !field.is_map() {
                    return Ok(None); // a singular field twice: merged or last wins
                }
                if !wire_type_fits(field, f.wire_type) {
                    return Ok(None);
                }
                if f.wire_type == WireType::Len && matches!(field.kind(), Kind::Message(_)) {
                    items.push(f.value);
                }
                continue;
            }
        }
        if !close(run.take(), start, &mut s)? {
            return Ok(None);
        }
        if f.number <= last_number {
            return Ok(None); // out of number order
        }
        last_number = f.number;
        let Some(field) = desc.get_field(f.number) else {
            if desc.get_extension(f.number).is_some() {
                // An extension: decoded on its own (with the rest of its run).
                let end = run_end(bytes, pos, f.number)?;
                let m = decode(desc, &bytes[start..end], depth).map_err(drop)?;
                s.groups.push(Group::Decoded(m));
                pos = end;
            } else {
                // Groups nest as deep as a decode allows from here.
                crate::codec::raw::check_at(f.whole, depth).map_err(drop)?;
                s.unknown.push(f.whole);
            }
            continue;
        };
        if field.is_group() || !wire_type_fits(&field, f.wire_type) {
            return Ok(None);
        }
        if let Some(oneof) = field.containing_oneof() {
            if !oneof.is_synthetic() {
                if oneofs_seen.iter().any(|o| o == oneof.name()) {
                    return Ok(None); // two members: the last wins
                }
                oneofs_seen.push(oneof.name().to_owned());
            }
        }
        let items = if matches!(field.kind(), Kind::Message(_)) && !field.is_map() {
            vec![f.value]
        } else {
            Vec::new()
        };
        run = Some((field, start, items));
    }
    if !close(run.take(), bytes.len(), &mut s)? {
        return Ok(None);
    }
    // Each message occurrence must open too (checked here, so nothing is
    // printed before a failure is found).
    if !check_items {
        return Ok(Some(s));
    }
    for g in &s.groups {
        if let Group::Messages { field, items } = g {
            let Kind::Message(m) = field.kind() else {
                continue;
            };
            for item in items {
                check(&m, item, depth + 1)?;
            }
        }
    }
    Ok(Some(s))
}

/// Checks that `bytes` open as `desc`, without keeping anything.
fn check(desc: &MessageDescriptor, bytes: &[u8], depth: usize) -> Result<(), ()> {
    if depth > MAX_DEPTH {
        return Err(());
    }
    Msg::open(desc, bytes, depth).map(drop).ok_or(())
}

/// Where the run of fields numbered `number` that starts before `pos` ends.
fn run_end(bytes: &[u8], mut pos: usize, number: u32) -> Result<usize, ()> {
    while pos < bytes.len() {
        let mut p = pos;
        let f = read_field(bytes, &mut p).ok_or(())?;
        if f.number != number {
            break;
        }
        pos = p;
    }
    Ok(pos)
}

/// A map's entries (at nesting `depth`) decoded on their own; `None` when
/// the keys are not in ascending order (duplicates: the last wins).
fn decode_map(
    desc: &MessageDescriptor,
    field: &FieldDescriptor,
    slice: &[u8],
    depth: usize,
) -> Result<Option<DynamicMessage>, ()> {
    let m = decode(desc, slice, depth)?;
    let mut pos = 0;
    let mut previous: Option<MapKey> = None;
    let Kind::Message(entry) = field.kind() else {
        return Err(());
    };
    while pos < slice.len() {
        let f = read_field(slice, &mut pos).ok_or(())?;
        let e = DynamicMessage::decode(entry.clone(), f.value).map_err(drop)?;
        let key = e.get_field(&entry.map_entry_key_field());
        let key = crate::value::to_map_key(key.into_owned());
        if previous.as_ref().is_some_and(|p| *p >= key) {
            return Ok(None);
        }
        previous = Some(key);
    }
    Ok(Some(m))
}

/// Does a field of this kind arrive with this wire type (packed counts)?
fn wire_type_fits(field: &FieldDescriptor, wt: WireType) -> bool {
    let natural = match field.kind() {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => WireType::I64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => WireType::I32,
        Kind::String | Kind::Bytes | Kind::Message(_) => WireType::Len,
        _ => WireType::Varint,
    };
    wt == natural || (wt == WireType::Len && field.is_list() && natural != WireType::Len)
}

impl Split<'_> {
    /// The fields of the message that no group holds, in number order.
    pub fn absent(&self) -> impl Iterator<Item = FieldDescriptor> + '_ {
        let present: Vec<u32> = self.groups.iter().flat_map(Group::numbers).collect();
        self.desc
            .fields()
            .filter(move |f| !present.contains(&f.number()))
    }
}

impl Group<'_> {
    /// The numbers of the fields the group holds (an extension's too).
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        let (one, decoded) = match self {
            Group::Messages { field, .. } | Group::Scalars { field, .. } => {
                (Some(field.number()), None)
            }
            Group::Decoded(m) => (None, Some(m)),
        };
        let decoded = decoded.into_iter().flat_map(|m| {
            m.fields()
                .map(|(f, _)| f.number())
                .chain(m.extensions().map(|(e, _)| e.number()))
        });
        one.into_iter().chain(decoded)
    }

    /// Calls `f` with each value of a scalar group, in order (packed runs
    /// and single values alike), until `f` fails; clears `ok` if a value
    /// does not decode.
    pub fn for_each_scalar(&self, f: Each<'_, Value>, ok: &mut bool) -> io::Result<()> {
        match self {
            Group::Scalars { field, bytes } => for_each_scalar(field, bytes, f, ok),
            _ => Ok(()),
        }
    }

    /// Does the group hold a value? (A packed run may be empty.)
    pub fn has_values(&self) -> bool {
        let Group::Scalars { field, bytes } = self else {
            return true;
        };
        let packed_only = !matches!(field.kind(), Kind::String | Kind::Bytes);
        let mut pos = 0;
        while let Some(w) = read_field(bytes, &mut pos) {
            if !(packed_only && w.wire_type == WireType::Len && w.value.is_empty()) {
                return true;
            }
        }
        false
    }
}

impl<'a> Group<'a> {
    /// Calls `f` with each value of a bytes field, borrowed (a value may be
    /// most of a large message: it is never copied), until `f` fails.
    pub fn for_each_bytes(&self, f: Each<'_, &'a [u8]>, ok: &mut bool) -> io::Result<()> {
        match self {
            Group::Scalars { bytes, .. } => for_each_bytes(bytes, f, ok),
            _ => Ok(()),
        }
    }
}

/// What is called with each value; an error stops the walk.
pub type Each<'f, T> = &'f mut dyn FnMut(T) -> io::Result<()>;

fn for_each_bytes<'a>(bytes: &'a [u8], f: Each<'_, &'a [u8]>, ok: &mut bool) -> io::Result<()> {
    let mut pos = 0;
    while pos < bytes.len() {
        match read_field(bytes, &mut pos) {
            Some(w) if w.wire_type == WireType::Len => f(w.value)?,
            _ => {
                *ok = false;
                break;
            }
        }
    }
    Ok(())
}

fn for_each_scalar(
    field: &FieldDescriptor,
    bytes: &[u8],
    f: Each<'_, Value>,
    ok: &mut bool,
) -> io::Result<()> {
    let kind = field.kind();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(w) = read_field(bytes, &mut pos) else {
            *ok = false;
            break;
        };
        let value = match (&kind, w.wire_type) {
            (Kind::String, _) => std::str::from_utf8(w.value)
                .ok()
                .map(|s| Value::String(s.to_owned())),
            (Kind::Bytes, _) => Some(Value::Bytes(w.value.to_vec().into())),
            (_, WireType::Len) => {
                // A packed run.
                let mut p = 0;
                while p < w.value.len() {
                    match scalar(&kind, w.value, &mut p) {
                        Some(v) => f(v)?,
                        None => {
                            *ok = false;
                            return Ok(());
                        }
                    }
                }
                continue;
            }
            _ => scalar(&kind, w.value, &mut 0),
        };
        match value {
            Some(v) => f(v)?,
            None => {
                *ok = false;
                break;
            }
        }
    }
    Ok(())
}

/// Reads one value of `kind` at `pos`.
fn scalar(kind: &Kind, buf: &[u8], pos: &mut usize) -> Option<Value> {
    let varint = |pos: &mut usize| wire::read_varint(buf, pos);
    let fixed32 = |pos: &mut usize| wire::read_fixed32(buf, pos).map(u32::from_le_bytes);
    let fixed64 = |pos: &mut usize| wire::read_fixed64(buf, pos).map(u64::from_le_bytes);
    Some(match kind {
        Kind::Int32 => Value::I32(varint(pos)? as i32),
        Kind::Int64 => Value::I64(varint(pos)? as i64),
        Kind::Uint32 => Value::U32(varint(pos)? as u32),
        Kind::Uint64 => Value::U64(varint(pos)?),
        Kind::Sint32 => Value::I32(wire::zigzag32(varint(pos)?)),
        Kind::Sint64 => Value::I64(wire::zigzag64(varint(pos)?)),
        Kind::Bool => Value::Bool(varint(pos)? != 0),
        Kind::Enum(_) => Value::EnumNumber(varint(pos)? as i32),
        Kind::Fixed32 => Value::U32(fixed32(pos)?),
        Kind::Sfixed32 => Value::I32(fixed32(pos)? as i32),
        Kind::Float => Value::F32(f32::from_bits(fixed32(pos)?)),
        Kind::Fixed64 => Value::U64(fixed64(pos)?),
        Kind::Sfixed64 => Value::I64(fixed64(pos)? as i64),
        Kind::Double => Value::F64(f64::from_bits(fixed64(pos)?)),
        Kind::String | Kind::Bytes | Kind::Message(_) => return None,
    })
}

/// Is a scalar value shown? Fields without presence hide their default
/// (as the decoded path does) unless defaults are shown (`emit_defaults`);
/// fields with presence show what was sent.
pub fn shown(field: &FieldDescriptor, value: &Value, emit_defaults: bool) -> bool {
    emit_defaults
        || field.is_list()
        || field.supports_presence()
        || field.cardinality() == Cardinality::Required
        || !crate::wire::encode::is_implicit_default(value)
}
