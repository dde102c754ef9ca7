//! Nested tables: field number, name, type, value (the original tool's
//! columns). Enums as `NAME (n)`, Timestamps as RFC 3339, Durations as
//! `1.5s`, bytes as hex, sub-messages as tables inside the value cell,
//! unknown fields listed with their wire type and a raw reading.

use std::io;

use prost_reflect::{
    Cardinality, DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, SerializeOptions,
    Value,
};

use crate::codec::raw::{self, Guess, LenReading, RawValue};
use crate::render::grid::{self, Cell, Source};
use crate::render::large::{self, Group, Msg};
use crate::render::text::{c_escape, format_double, format_float, present_value};
use crate::render::{BytesAs, bytes_as};

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
/// A table shows this many bytes of a bytes value (`-o text` and `-o json`
/// show them all); the cell says how many there are.
pub const CELL_BYTES: usize = 128;
/// ... and this many characters of a string.
pub const CELL_CHARS: usize = 512;

/// How tables are drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// Fields without presence are shown at their default value too.
    pub emit_defaults: bool,
    /// Draw no wider than this (the terminal's width), wrapping values.
    pub width: Option<usize>,
    /// Readings offered for values decoded without a schema.
    pub guess: Guess,
    /// Messages carried in bytes fields, shown decoded.
    pub bytes_as: Option<&'static BytesAs>,
}

/// The table of a decoded message (without a final line end).
pub fn message_table(msg: &DynamicMessage, emit_defaults: bool) -> String {
    message_table_fitted(msg, emit_defaults, None)
}

/// [`message_table`] no wider than `width`.
pub fn message_table_fitted(
    msg: &DynamicMessage,
    emit_defaults: bool,
    width: Option<usize>,
) -> String {
    let opts = TableOptions {
        emit_defaults,
        width,
        ..TableOptions::default()
    };
    let mut table = grid::to_string(&MessageRows::new(msg, opts, 0, String::new()), width);
    table.truncate(table.trim_end_matches('\n').len());
    table
}

/// Writes the table of a decoded message line by line.
pub fn write_message_table(
    msg: &DynamicMessage,
    opts: TableOptions,
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    grid::write(
        &MessageRows::new(msg, opts, 0, String::new()),
        opts.width,
        line,
    )
}

/// Writes the table of a message (decoded, or read a field at a time)
/// line by line.
pub fn write_msg_table(
    msg: Msg<'_>,
    opts: TableOptions,
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    grid::write(
        &OwnedRows {
            msg,
            opts,
            depth: 0,
            path: String::new(),
        },
        opts.width,
        line,
    )
}

/// Writes the table of a message decoded without a schema (checked with
/// [`raw::check`]) line by line.
pub fn write_raw_table(
    buf: &[u8],
    opts: TableOptions,
    line: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    grid::write(
        &RawRows {
            buf,
            opts,
            depth: 0,
        },
        opts.width,
        line,
    )
}

/// The rows of a message: field number, name, type, value.
struct MessageRows<'m> {
    msg: &'m DynamicMessage,
    opts: TableOptions,
    depth: usize,
    /// The field path of this message (for `--bytes-as`).
    path: String,
}

impl<'m> MessageRows<'m> {
    fn new(msg: &'m DynamicMessage, opts: TableOptions, depth: usize, path: String) -> Self {
        MessageRows {
            msg,
            opts,
            depth,
            path,
        }
    }
}

type RowFn<'a, 's> = &'a mut dyn FnMut(Vec<Cell<'s>>) -> io::Result<()>;

impl Source for MessageRows<'_> {
    fn header(&self) -> &[&str] {
        &["#", "field", "type", "value"]
    }

    fn rows<'s>(&'s self, row: RowFn<'_, 's>) -> io::Result<()> {
        message_rows(self.msg, self.opts, self.depth, &self.path, row)
    }

    fn text(&self) -> Option<Box<dyn grid::Lines + '_>> {
        Some(Box::new(grid::TextLines(crate::render::text::to_text(
            self.msg,
        ))))
    }
}

fn message_rows<'m>(
    msg: &'m DynamicMessage,
    opts: TableOptions,
    depth: usize,
    path: &str,
    row: RowFn<'_, 'm>,
) -> io::Result<()> {
    let rows = present_rows(msg, opts, depth, path, true, row)?;
    if rows == 0 {
        no_fields(row)?;
    }
    Ok(())
}

fn no_fields(row: RowFn<'_, '_>) -> io::Result<()> {
    row(vec![
        Cell::from(""),
        Cell::from(""),
        Cell::from(""),
        Cell::from("(no fields set)"),
    ])
}

/// The row of a required field that is missing.
fn missing_row<'s>(field: &FieldDescriptor) -> Vec<Cell<'s>> {
    vec![
        Cell::Text(field.number().to_string()),
        Cell::Text(field.name().to_owned()),
        Cell::Text(format!("required {}", kind_name(&field.kind()))),
        Cell::from("(missing: a required field)"),
    ]
}

/// The rows of the fields `msg` holds (and, with `whole`, of the required
/// fields it lacks); returns how many.
fn present_rows<'s>(
    msg: &'s DynamicMessage,
    opts: TableOptions,
    depth: usize,
    path: &str,
    whole: bool,
    row: RowFn<'_, 's>,
) -> io::Result<usize> {
    let desc = msg.descriptor();
    let mut rows = 0;
    for field in desc.fields() {
        let value = match present_value(msg, &field) {
            Some(v) => v,
            None if whole && opts.emit_defaults && !field.supports_presence() => {
                msg.get_field(&field)
            }
            None if whole && field.cardinality() == Cardinality::Required => {
                row(missing_row(&field))?;
                rows += 1;
                continue;
            }
            None => continue,
        };
        let value: &'s Value = match value {
            std::borrow::Cow::Borrowed(v) => v,
            // A default (with --emit-defaults): shown as text, owns nothing.
            std::borrow::Cow::Owned(v) => {
                rows += field_rows(&field, &v, opts, depth, path, &mut |cells| {
                    row(cells.into_iter().map(detach).collect())
                })?;
                continue;
            }
        };
        rows += field_rows(&field, value, opts, depth, path, row)?;
    }
    let mut exts: Vec<_> = msg.extensions().collect();
    exts.sort_by_key(|(e, _)| e.number());
    for (ext, value) in exts {
        row(vec![
            Cell::Text(ext.number().to_string()),
            Cell::Text(format!("[{}]", ext.full_name())),
            Cell::Text(kind_name(&ext.kind())),
            value_cell(&ext.kind(), value, opts, depth, ""),
        ])?;
        rows += 1;
    }
    let mut unknown = Vec::new();
    for f in msg.unknown_fields() {
        f.encode(&mut unknown);
    }
    rows += unknown_rows(&unknown, opts, depth, &mut |cells| {
        row(cells.into_iter().map(detach).collect())
    })?;
    Ok(rows)
}

/// The rows of unknown fields' bytes.
fn unknown_rows<'s>(
    unknown: &'s [u8],
    opts: TableOptions,
    depth: usize,
    row: RowFn<'_, 's>,
) -> io::Result<usize> {
    let mut rows = 0;
    if raw::check(unknown).is_ok() {
        for f in raw::Fields::new(unknown).map_while(Result::ok) {
            row(vec![
                Cell::Text(f.number.to_string()),
                Cell::from("(unknown)"),
                Cell::from(raw_wire_name(f.value, depth)),
                raw_cell(f.value, opts, depth),
            ])?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// The rows of a message it owns (decoded, or read a field at a time).
struct OwnedRows<'a> {
    msg: Msg<'a>,
    opts: TableOptions,
    depth: usize,
    /// The field path of this message (for `--bytes-as`).
    path: String,
}

impl Source for OwnedRows<'_> {
    fn header(&self) -> &[&str] {
        &["#", "field", "type", "value"]
    }

    fn text(&self) -> Option<Box<dyn grid::Lines + '_>> {
        Some(Box::new(MsgText {
            msg: &self.msg,
            break_at: None,
        }))
    }

    fn rows<'s>(&'s self, row: RowFn<'_, 's>) -> io::Result<()> {
        let split = match &self.msg {
            Msg::Decoded(m) => return message_rows(m, self.opts, self.depth, &self.path, row),
            Msg::Split(s) => s,
        };
        // The rows come as the decoded path gives them: fields in number
        // order, each required field that is missing in its place (and,
        // with --emit-defaults, each field without presence that is absent
        // at its default), then extensions, then unknown fields.
        let mut absent = split.absent().peekable();
        let mut rows = 0;
        let mut extensions = Vec::new();
        for group in &split.groups {
            if let Group::Decoded(m) = group {
                if m.extensions().next().is_some() {
                    extensions.push(m);
                    continue;
                }
            }
            let number = group.numbers().next().unwrap_or(u32::MAX);
            while let Some(field) = absent.next_if(|f| f.number() < number) {
                rows += self.absent_rows(&field, row)?;
            }
            rows += self.group_rows(split, group, row)?;
        }
        for field in absent {
            rows += self.absent_rows(&field, row)?;
        }
        for m in extensions {
            rows += present_rows(m, self.opts, self.depth, &self.path, false, row)?;
        }
        for unknown in &split.unknown {
            rows += unknown_rows(unknown, self.opts, self.depth, row)?;
        }
        if rows == 0 {
            no_fields(row)?;
        }
        Ok(())
    }
}

impl<'a> OwnedRows<'a> {
    /// The rows of a field the message does not hold, as the decoded path
    /// shows it: missing when required, at its default with
    /// --emit-defaults when it has no presence, else none.
    fn absent_rows(&self, field: &FieldDescriptor, row: RowFn<'_, '_>) -> io::Result<usize> {
        if field.cardinality() == Cardinality::Required {
            row(missing_row(field))?;
            return Ok(1);
        }
        if !self.opts.emit_defaults || field.supports_presence() {
            return Ok(0);
        }
        let value = Value::default_value_for_field(field);
        let (opts, depth) = (self.opts, self.depth);
        field_rows(field, &value, opts, depth, &self.path, &mut |cells| {
            row(cells.into_iter().map(detach).collect())
        })
    }

    /// The rows of one field of a message read a field at a time, as
    /// [`field_rows`] shows the field decoded; returns how many.
    fn group_rows<'s>(
        &'s self,
        split: &'s large::Split<'a>,
        group: &'s Group<'a>,
        row: RowFn<'_, 's>,
    ) -> io::Result<usize> {
        let (opts, depth) = (self.opts, self.depth);
        match group {
            Group::Messages { field, items } => {
                let Kind::Message(desc) = field.kind() else {
                    return Ok(0);
                };
                let kind = field.kind();
                let open = |item: &'a [u8]| {
                    Msg::reopen(&desc, item, split.depth + 1)
                        .ok_or_else(|| io::Error::other("a sub-message changed while shown"))
                };
                if field.is_list() && is_inline_message(&kind) {
                    // Well-known types: one row of their values.
                    let mut values = Vec::with_capacity(items.len());
                    for item in items {
                        let shown = match open(item)? {
                            Msg::Decoded(m) => {
                                display_value(&kind, &Value::Message(m), false, depth)
                            }
                            Msg::Split(_) => {
                                return Err(io::Error::other("a well-known type split"));
                            }
                        };
                        values.push(shown);
                    }
                    row(vec![
                        Cell::Text(field.number().to_string()),
                        Cell::Text(field.name().to_owned()),
                        Cell::Text(format!("repeated {}", kind_name(&kind))),
                        Cell::Text(list_text(&values)),
                    ])?;
                    return Ok(1);
                }
                for (i, item) in items.iter().enumerate() {
                    let inner = open(item)?;
                    let (name, ty) = if field.is_list() {
                        (format!("{}[{i}]", field.name()), kind_name(&kind))
                    } else {
                        (field.name().to_owned(), scalar_type(field))
                    };
                    let value = match inner {
                        Msg::Decoded(m)
                            if depth + 1 >= MAX_TABLE_DEPTH || is_inline_message(&kind) =>
                        {
                            let m = Value::Message(m);
                            Cell::Text(display_value(&kind, &m, opts.emit_defaults, depth))
                        }
                        // Text past the depth tables go to, as decoded.
                        inner if depth + 1 >= MAX_TABLE_DEPTH => {
                            Cell::Lines(Box::new(DeepText(inner)))
                        }
                        inner => Cell::Nested(Box::new(OwnedRows {
                            msg: inner,
                            opts,
                            depth: depth + 1,
                            path: bytes_as::join(&self.path, field.name()),
                        })),
                    };
                    row(vec![
                        Cell::Text(field.number().to_string()),
                        Cell::Text(name),
                        Cell::Text(ty),
                        value,
                    ])?;
                }
                Ok(items.len())
            }
            Group::Scalars { field, .. } => {
                let kind = field.kind();
                let mut ok = true;
                if matches!(kind, Kind::Bytes) && !field.is_list() {
                    // Borrowed, never copied; the carried message or the
                    // hint that there may be one, as decoded.
                    let mut value = None;
                    group.for_each_bytes(
                        &mut |b| {
                            value = Some(b);
                            Ok(())
                        },
                        &mut ok,
                    )?;
                    let Some(b) = value.filter(|b| {
                        opts.emit_defaults || field.supports_presence() || !b.is_empty()
                    }) else {
                        return Ok(0);
                    };
                    let path = bytes_as::join(&self.path, field.name());
                    let ty = match opts.bytes_as.and_then(|ba| ba.lookup(&path)) {
                        Some(inner) => format!("bytes as {}", inner.name()),
                        None => scalar_type(field),
                    };
                    row(vec![
                        Cell::Text(field.number().to_string()),
                        Cell::Text(field.name().to_owned()),
                        Cell::Text(ty),
                        bytes_cell(b, opts, depth, &path),
                    ])?;
                    return Ok(1);
                }
                if field.is_list() {
                    // An empty packed run holds no value: nothing to show
                    // (`[]`, the default, with --emit-defaults), as decoded.
                    if !group.has_values() && !opts.emit_defaults {
                        return Ok(0);
                    }
                    row(vec![
                        Cell::Text(field.number().to_string()),
                        Cell::Text(field.name().to_owned()),
                        Cell::Text(format!("repeated {}", kind_name(&kind))),
                        Cell::Lines(Box::new(ListLines {
                            group,
                            field: field.clone(),
                            depth,
                        })),
                    ])?;
                    return Ok(1);
                }
                let mut value = None;
                group.for_each_scalar(
                    &mut |v| {
                        if large::shown(field, &v, opts.emit_defaults) {
                            value = Some(display_value(&kind, &v, false, depth));
                        }
                        Ok(())
                    },
                    &mut ok,
                )?;
                let Some(text) = value else {
                    return Ok(0);
                };
                row(vec![
                    Cell::Text(field.number().to_string()),
                    Cell::Text(field.name().to_owned()),
                    Cell::Text(scalar_type(field)),
                    Cell::Text(text),
                ])?;
                Ok(1)
            }
            Group::Decoded(m) => present_rows(m, opts, depth, &self.path, false, row),
        }
    }
}

/// A bytes value: the message it carries (`--bytes-as`) as a nested table,
/// else its hex, saying when the bytes also parse as a message.
fn bytes_cell<'s>(b: &'s [u8], opts: TableOptions, depth: usize, path: &str) -> Cell<'s> {
    let mut text = display_bytes(b, CELL_BYTES);
    match opts.bytes_as.and_then(|ba| ba.lookup(path)) {
        Some(inner) => match Msg::open(inner, b, 0) {
            Some(msg) if depth + 1 < MAX_TABLE_DEPTH => {
                return Cell::Nested(Box::new(OwnedRows {
                    msg,
                    opts,
                    depth: depth + 1,
                    path: path.to_owned(),
                }));
            }
            Some(_) => {}
            None => text.push_str(&format!("\n(does not decode as {})", inner.full_name())),
        },
        None if raw::read_len(b, 0) == LenReading::Message => {
            text.push_str(&format!(
                "\n(also parses as a message: --bytes-as {path}=TYPE)"
            ));
        }
        None => {}
    }
    Cell::Text(text)
}

/// The values of a repeated scalar field read a field at a time, as
/// [`list_text`] shows them, made a line at a time: ten million values are
/// never a list of strings in memory.
struct ListLines<'g, 'a> {
    group: &'g Group<'a>,
    field: FieldDescriptor,
    depth: usize,
}

impl grid::Lines for ListLines<'_, '_> {
    fn lines(&self, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        let kind = self.field.kind();
        let mut list = ListText {
            line: String::from("["),
            count: 0,
        };
        let mut ok = true;
        if matches!(kind, Kind::Bytes) {
            // Shown capped: never copied whole.
            self.group.for_each_bytes(
                &mut |b| list.push(&display_bytes(b, CELL_BYTES), line),
                &mut ok,
            )?;
        } else {
            self.group.for_each_scalar(
                &mut |v| list.push(&display_value(&kind, &v, false, self.depth), line),
                &mut ok,
            )?;
        }
        list.line.push(']');
        line(&list.line)
    }
}

/// [`list_text`] a value at a time: the line being made and how many
/// values came before.
struct ListText {
    line: String,
    count: usize,
}

impl ListText {
    fn push(&mut self, value: &str, out: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        if self.count > 0 {
            if self.count % ITEMS_PER_LINE == 0 {
                self.line.push(',');
                out(&self.line)?;
                self.line.clear();
                self.line.push(' ');
            } else {
                self.line.push_str(", ");
            }
        }
        let mut parts = value.split('\n');
        self.line.push_str(parts.next().unwrap_or_default());
        for part in parts {
            out(&self.line)?;
            self.line.clear();
            self.line.push_str(part);
        }
        self.count += 1;
        Ok(())
    }
}

/// A repeated scalar's values, [`ITEMS_PER_LINE`] to a line.
fn list_text(values: &[String]) -> String {
    let mut text = String::from("[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            text.push_str(if i % ITEMS_PER_LINE == 0 {
                ",\n "
            } else {
                ", "
            });
        }
        text.push_str(v);
    }
    text.push(']');
    text
}

/// The type column of a singular field: `optional` or `required` when so.
fn scalar_type(field: &FieldDescriptor) -> String {
    let kind = field.kind();
    if field.supports_presence() && field.containing_oneof().is_some_and(|o| o.is_synthetic()) {
        format!("optional {}", kind_name(&kind))
    } else if field.cardinality() == Cardinality::Required {
        format!("required {}", kind_name(&kind))
    } else {
        kind_name(&kind)
    }
}

/// A cell that borrows nothing (a nested table is drawn to text).
fn detach<'s>(cell: Cell<'_>) -> Cell<'s> {
    match cell {
        Cell::Text(t) => Cell::Text(t),
        Cell::Nested(inner) => Cell::Text(
            grid::to_string(inner.as_ref(), None)
                .trim_end_matches('\n')
                .to_owned(),
        ),
        Cell::Lines(lines) => {
            let mut text = String::new();
            let _ = lines.lines(&mut |l| {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(l);
                Ok(())
            });
            Cell::Text(text)
        }
    }
}

/// The text format of a message (decoded, or read a field at a time) a line
/// at a time, as [`crate::render::text::write_msg`] makes it; with
/// `break_at`, lines longer than that many characters are broken (as
/// [`wrap_lines`] breaks them).
struct MsgText<'r, 'a> {
    msg: &'r Msg<'a>,
    break_at: Option<usize>,
}

impl grid::Lines for MsgText<'_, '_> {
    fn lines(&self, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        let mut put = |l: &str| match self.break_at {
            Some(n) => break_line(l, n, line),
            None => line(l),
        };
        // The start of a line whose end is still to come.
        let mut pending = String::new();
        let mut text = String::new();
        let opts = crate::render::text::TextOptions::default();
        crate::render::text::write_msg(self.msg, 0, &opts, &mut text, &mut |t| {
            let mut start = 0;
            for (end, _) in t.match_indices('\n') {
                if pending.is_empty() {
                    put(&t[start..end])?;
                } else {
                    pending.push_str(&t[start..end]);
                    put(&pending)?;
                    pending.clear();
                }
                start = end + 1;
            }
            pending.push_str(&t[start..]);
            t.clear();
            Ok(())
        })?;
        if !pending.is_empty() {
            put(&pending)?;
        }
        Ok(())
    }
}

/// A message shown as text in a cell (nested too deep for a table).
struct DeepText<'a>(Msg<'a>);

impl grid::Lines for DeepText<'_> {
    fn lines(&self, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        let text = MsgText {
            msg: &self.0,
            break_at: Some(CELL_LINE),
        };
        text.lines(line)
    }
}

/// `l` in pieces of `n` characters (the last one shorter).
fn break_line(l: &str, n: usize, line: &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()> {
    let mut rest = l;
    while let Some((at, _)) = rest.char_indices().nth(n) {
        line(&rest[..at])?;
        rest = &rest[at..];
    }
    line(rest)
}

/// The rows of one field; returns how many.
fn field_rows<'s>(
    field: &FieldDescriptor,
    value: &'s Value,
    opts: TableOptions,
    depth: usize,
    path: &str,
    row: RowFn<'_, 's>,
) -> io::Result<usize> {
    let kind = field.kind();
    let path = &bytes_as::join(path, field.name());
    let number = || Cell::Text(field.number().to_string());
    match value {
        Value::Map(map) => {
            let Kind::Message(entry) = &kind else {
                return Ok(0);
            };
            let key_kind = entry.map_entry_key_field().kind();
            let value_kind = entry.map_entry_value_field().kind();
            let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let ty = format!("map<{}, {}>", kind_name(&key_kind), kind_name(&value_kind));
            if entries.is_empty() {
                row(vec![
                    number(),
                    Cell::Text(field.name().to_owned()),
                    Cell::Text(ty),
                    Cell::from("{}"),
                ])?;
                return Ok(1);
            }
            for (k, v) in &entries {
                let key = match k {
                    MapKey::String(s) => format!("{s:?}"),
                    other => display_value(
                        &key_kind,
                        &crate::wire::encode::map_key_value(other),
                        false,
                        depth,
                    ),
                };
                row(vec![
                    number(),
                    Cell::Text(format!("{}[{key}]", field.name())),
                    Cell::Text(ty.clone()),
                    value_cell(&value_kind, v, opts, depth, path),
                ])?;
            }
            Ok(entries.len())
        }
        Value::List(items) if matches!(kind, Kind::Message(_)) && !is_inline_message(&kind) => {
            if items.is_empty() {
                row(vec![
                    number(),
                    Cell::Text(field.name().to_owned()),
                    Cell::Text(format!("repeated {}", kind_name(&kind))),
                    Cell::from("[]"),
                ])?;
                return Ok(1);
            }
            for (i, item) in items.iter().enumerate() {
                row(vec![
                    number(),
                    Cell::Text(format!("{}[{i}]", field.name())),
                    Cell::Text(kind_name(&kind)),
                    value_cell(&kind, item, opts, depth, path),
                ])?;
            }
            Ok(items.len())
        }
        Value::List(items) => {
            let shown: Vec<String> = items
                .iter()
                .map(|v| display_value(&kind, v, false, depth))
                .collect();
            let text = list_text(&shown);
            row(vec![
                number(),
                Cell::Text(field.name().to_owned()),
                Cell::Text(format!("repeated {}", kind_name(&kind))),
                Cell::Text(text),
            ])?;
            Ok(1)
        }
        single => {
            let ty = match opts.bytes_as.and_then(|b| b.lookup(path)) {
                Some(inner) => format!("bytes as {}", inner.name()),
                None => scalar_type(field),
            };
            row(vec![
                number(),
                Cell::Text(field.name().to_owned()),
                Cell::Text(ty),
                value_cell(&kind, single, opts, depth, path),
            ])?;
            Ok(1)
        }
    }
}

/// A value's cell: a nested table for a message (to a depth), else text.
fn value_cell<'s>(
    kind: &Kind,
    value: &'s Value,
    opts: TableOptions,
    depth: usize,
    path: &str,
) -> Cell<'s> {
    match value {
        Value::Message(m)
            if !m.descriptor().full_name().starts_with("google.protobuf.")
                && depth + 1 < MAX_TABLE_DEPTH =>
        {
            Cell::Nested(Box::new(MessageRows::new(
                m,
                opts,
                depth + 1,
                path.to_owned(),
            )))
        }
        Value::Bytes(b) => bytes_cell(b, opts, depth, path),
        other => Cell::Text(display_value(kind, other, opts.emit_defaults, depth)),
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
        Value::Bytes(b) => display_bytes(b, CELL_BYTES),
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

/// Breaks `text` after `, ` so that its lines are no wider than `width`
/// where it can (a single item wider than that stays whole).
fn wrap_after_commas(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    let mut line = 0;
    for (i, item) in text.split(", ").enumerate() {
        let item_width = grid::text_width(item);
        if i > 0 {
            // Room for the item and the comma that may follow it.
            if line + 2 + item_width + 1 > width {
                out.push_str(",\n ");
                line = 1;
            } else {
                out.push_str(", ");
                line += 2;
            }
        }
        out.push_str(item);
        line += item_width;
    }
    out
}

/// Strings as they are, with control characters escaped so rows stay rows,
/// cut after [`CELL_CHARS`] characters.
fn display_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(CELL_CHARS * 2));
    for (i, c) in s.chars().enumerate() {
        if i == CELL_CHARS {
            out.push_str(&format!("\n… ({} bytes)", s.len()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Hex, [`HEX_LINE_BYTES`] to a line, cut after `cap` bytes.
fn display_bytes(b: &[u8], cap: usize) -> String {
    if b.is_empty() {
        return "(empty)".into();
    }
    let mut out = b[..b.len().min(cap)]
        .chunks(HEX_LINE_BYTES)
        .map(hex::encode)
        .collect::<Vec<_>>()
        .join("\n");
    if b.len() > cap {
        out.push_str(&format!("\n… ({} bytes)", b.len()));
    }
    out
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
        // The paths as stored (`payload.time_stamp`), not JSON's camelCase.
        "google.protobuf.FieldMask" => match m.get_field_by_name("paths").as_deref() {
            Some(Value::List(paths)) if !paths.is_empty() => paths
                .iter()
                .filter_map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            _ => "(no paths)".into(),
        },
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
        _ => {
            let opts = TableOptions {
                emit_defaults,
                ..TableOptions::default()
            };
            grid::to_string(&MessageRows::new(m, opts, depth + 1, String::new()), None)
                .trim_end()
                .to_owned()
        }
    }
}

/// The rows of a message decoded without a schema: number, wire, value.
struct RawRows<'b> {
    buf: &'b [u8],
    opts: TableOptions,
    depth: usize,
}

impl Source for RawRows<'_> {
    fn header(&self) -> &[&str] {
        &["#", "wire", "value"]
    }

    fn text(&self) -> Option<Box<dyn grid::Lines + '_>> {
        let opts = raw::TextOptions {
            guess: self.opts.guess,
            cap: Some(CELL_BYTES),
        };
        let mut out = String::new();
        raw::append_text(self.buf, 0, self.depth, &opts, &mut out);
        Some(Box::new(grid::TextLines(out)))
    }

    fn rows<'s>(&'s self, row: RowFn<'_, 's>) -> io::Result<()> {
        let mut any = false;
        for f in raw::Fields::new(self.buf).map_while(Result::ok) {
            any = true;
            row(vec![
                Cell::Text(f.number.to_string()),
                Cell::from(raw_wire_name(f.value, self.depth)),
                raw_cell(f.value, self.opts, self.depth),
            ])?;
        }
        if !any {
            row(vec![
                Cell::from(""),
                Cell::from(""),
                Cell::from("(no fields)"),
            ])?;
        }
        Ok(())
    }
}

/// A value read without a schema: a nested table for a message (to a
/// depth), else text.
fn raw_cell(v: RawValue<'_>, opts: TableOptions, depth: usize) -> Cell<'_> {
    match v {
        RawValue::Len(data) | RawValue::Group(data)
            if depth + 1 < MAX_TABLE_DEPTH && is_raw_message(v, depth) =>
        {
            Cell::Nested(Box::new(RawRows {
                buf: data,
                opts,
                depth: depth + 1,
            }))
        }
        other => Cell::Text(raw_display(other, opts, depth)),
    }
}

fn is_raw_message(v: RawValue<'_>, depth: usize) -> bool {
    match v {
        RawValue::Group(_) => true,
        RawValue::Len(data) => raw::read_len(data, depth) == LenReading::Message,
        _ => false,
    }
}

fn raw_wire_name(v: RawValue<'_>, depth: usize) -> &'static str {
    match v {
        RawValue::Varint(_) => "varint",
        RawValue::I64(_) => "i64",
        RawValue::I32(_) => "i32",
        RawValue::Len(data) => match raw::read_len(data, depth) {
            LenReading::Text(_) => "len (text)",
            LenReading::Message => "len (message)",
            LenReading::Bytes => "len (bytes)",
        },
        RawValue::Group(_) => "group",
    }
}

/// A value read without a schema, as text (deep messages as text format).
fn raw_display(v: RawValue<'_>, opts: TableOptions, depth: usize) -> String {
    let guess = opts.guess;
    match v {
        RawValue::Varint(n) if n > i64::MAX as u64 && guess != Guess::None => {
            format!("{n}  (int64 {})", n as i64)
        }
        RawValue::Varint(n) => n.to_string(),
        RawValue::I32(bits) => match raw::f32_reading(bits, guess) {
            Some(f) => format!(
                "0x{bits:08x}  (float {}, int {})",
                format_float(f as f32),
                bits as i32
            ),
            None => format!("0x{bits:08x}  (int {})", bits as i32),
        },
        RawValue::I64(bits) => match raw::f64_reading(bits, guess) {
            Some(f) => format!(
                "0x{bits:016x}  (double {}, int {})",
                format_double(f),
                bits as i64
            ),
            None => format!("0x{bits:016x}  (int {})", bits as i64),
        },
        RawValue::Len(data) => match raw::read_len(data, depth) {
            LenReading::Text(s) => {
                let (shown, more) = raw::capped(s.as_bytes(), Some(CELL_CHARS));
                let shown = String::from_utf8_lossy(shown);
                let mut out = wrap_lines(&format!("\"{}\"", c_escape_utf8(&shown)));
                if more.is_some() {
                    out.push_str(&format!("\n… ({} bytes)", data.len()));
                }
                out
            }
            LenReading::Bytes => {
                let mut s = display_bytes(data, CELL_BYTES);
                // The values of the bytes shown, no wider than their hex.
                if let Some(p) = raw::packed_reading(data, guess, CELL_BYTES) {
                    s.push('\n');
                    s.push_str(&wrap_after_commas(&format!("({p})"), HEX_LINE_BYTES * 2));
                }
                s
            }
            LenReading::Message => raw_text(data, opts, depth),
        },
        RawValue::Group(data) => raw_text(data, opts, depth),
    }
}

/// A message too deep for a nested table, as capped text format.
fn raw_text(data: &[u8], opts: TableOptions, depth: usize) -> String {
    let mut out = String::new();
    let text_opts = raw::TextOptions {
        guess: opts.guess,
        cap: Some(CELL_BYTES),
    };
    raw::append_text(data, 0, depth + 1, &text_opts, &mut out);
    wrap_lines(&out)
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
