//! Editions (`edition = "2023"`, `"2024"`) descriptor sets, lowered to what
//! prost-reflect understands (proto2 or proto3), features resolved.
//!
//! prost-reflect knows proto2 and proto3 only, and prost-types drops a
//! file's `edition` and every `features` option. The set is therefore read
//! here with the full `descriptor.proto` (prost-reflect's own copy has
//! them), each field's features are resolved (edition defaults, then the
//! file's, the enclosing messages', the field's), and the file is rewritten
//! in the syntax that carries them:
//! - field presence: EXPLICIT is proto2 `optional` or proto3 `optional`
//!   (a synthetic oneof), IMPLICIT is proto3's plain field, LEGACY_REQUIRED
//!   is proto2 `required`;
//! - repeated field encoding: `[packed = true|false]` on every packable
//!   repeated field;
//! - message encoding DELIMITED: the field becomes a group (its wire form);
//! - enum type: a proto2 file's enums are closed, a proto3 file's open.
//!
//! A file goes to proto3 when that expresses all of it (open enums, no
//! required fields, no extensions, no defaults, no groups), else to proto2,
//! where implicit presence and open enums cannot be said: those are read as
//! explicit presence and closed enums, and [`lower`] says so in its notes.

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, Value};

/// Features as descriptor.proto numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Features {
    /// 1 EXPLICIT, 2 IMPLICIT, 3 LEGACY_REQUIRED
    presence: i32,
    /// 1 OPEN, 2 CLOSED
    enum_type: i32,
    /// 1 PACKED, 2 EXPANDED
    repeated: i32,
    /// 1 LENGTH_PREFIXED, 2 DELIMITED
    message_encoding: i32,
}

const EXPLICIT: i32 = 1;
const IMPLICIT: i32 = 2;
const LEGACY_REQUIRED: i32 = 3;
const CLOSED: i32 = 2;
const PACKED: i32 = 1;
const DELIMITED: i32 = 2;

/// descriptor.proto's field types and labels.
const TYPE_GROUP: i32 = 10;
const TYPE_MESSAGE: i32 = 11;
const TYPE_STRING: i32 = 9;
const TYPE_BYTES: i32 = 12;
const LABEL_REQUIRED: i32 = 2;
const LABEL_REPEATED: i32 = 3;

impl Features {
    /// The defaults of an edition (`EDITION_2023` = 1000, `EDITION_2024` =
    /// 1001: the same for these features).
    fn of_edition(edition: i32) -> Option<Features> {
        matches!(edition, 1000 | 1001).then_some(Features {
            presence: EXPLICIT,
            enum_type: 1,
            repeated: PACKED,
            message_encoding: 1,
        })
    }

    /// These, overridden by the `features` of `options` (if any).
    fn with(self, options: Option<&DynamicMessage>) -> Features {
        let Some(set) = options
            .and_then(|o| o.get_field_by_name("features"))
            .and_then(|f| f.as_message().cloned())
        else {
            return self;
        };
        let get = |name: &str, current: i32| {
            if set.has_field_by_name(name) {
                set.get_field_by_name(name)
                    .and_then(|v| v.as_enum_number())
                    .filter(|n| *n != 0)
                    .unwrap_or(current)
            } else {
                current
            }
        };
        Features {
            presence: get("field_presence", self.presence),
            enum_type: get("enum_type", self.enum_type),
            repeated: get("repeated_field_encoding", self.repeated),
            message_encoding: get("message_encoding", self.message_encoding),
        }
    }
}

fn options(m: &DynamicMessage) -> Option<DynamicMessage> {
    m.has_field_by_name("options")
        .then(|| m.get_field_by_name("options"))
        .flatten()
        .and_then(|o| o.as_message().cloned())
}

fn int(m: &DynamicMessage, name: &str) -> i32 {
    m.get_field_by_name(name)
        .and_then(|v| v.as_i32().or_else(|| v.as_enum_number()))
        .unwrap_or(0)
}

fn text(m: &DynamicMessage, name: &str) -> String {
    m.get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn messages(m: &DynamicMessage, name: &str) -> Vec<DynamicMessage> {
    m.get_field_by_name(name)
        .and_then(|v| {
            v.as_list()
                .map(|l| l.iter().filter_map(|i| i.as_message().cloned()).collect())
        })
        .unwrap_or_default()
}

fn set_messages(m: &mut DynamicMessage, name: &str, items: Vec<DynamicMessage>) {
    m.set_field_by_name(
        name,
        Value::List(items.into_iter().map(Value::Message).collect()),
    );
}

/// What a file holds that decides its syntax.
#[derive(Default)]
struct Survey {
    closed_enums: bool,
    open_enums: bool,
    required: bool,
    implicit: bool,
    /// Extensions, extension ranges, defaults, groups: proto2 only.
    proto2_only: bool,
}

fn survey_enum(e: &DynamicMessage, parent: Features, s: &mut Survey) {
    let f = parent.with(options(e).as_ref());
    if f.enum_type == CLOSED {
        s.closed_enums = true;
    } else {
        s.open_enums = true;
    }
}

fn survey_field(field: &DynamicMessage, parent: Features, s: &mut Survey) {
    let f = parent.with(options(field).as_ref());
    let label = int(field, "label");
    let ty = int(field, "type");
    if label != LABEL_REPEATED {
        match f.presence {
            LEGACY_REQUIRED => s.required = true,
            IMPLICIT if ty != TYPE_MESSAGE && ty != TYPE_GROUP => s.implicit = true,
            _ => {}
        }
    }
    if field.has_field_by_name("default_value")
        || ((ty == TYPE_MESSAGE || ty == TYPE_GROUP) && f.message_encoding == DELIMITED)
    {
        s.proto2_only = true;
    }
}

fn survey_message(m: &DynamicMessage, parent: Features, s: &mut Survey) {
    let f = parent.with(options(m).as_ref());
    let map_entry = options(m)
        .and_then(|o| o.get_field_by_name("map_entry").and_then(|v| v.as_bool()))
        .unwrap_or(false);
    for field in messages(m, "field") {
        if !map_entry {
            survey_field(&field, f, s);
        }
    }
    if !messages(m, "extension").is_empty() || !messages(m, "extension_range").is_empty() {
        s.proto2_only = true;
    }
    for e in messages(m, "enum_type") {
        survey_enum(&e, f, s);
    }
    for n in messages(m, "nested_type") {
        survey_message(&n, f, s);
    }
}

/// Rewrites a field for `proto3` or proto2; returns whether it needs a
/// synthetic oneof (proto3 `optional`).
fn lower_field(
    field: &mut DynamicMessage,
    parent: Features,
    proto3: bool,
    map_entry: bool,
) -> bool {
    let f = parent.with(options(field).as_ref());
    let label = int(field, "label");
    let ty = int(field, "type");
    let mut synthetic = false;
    if map_entry {
        // Key and value: plain fields, whatever the features say.
    } else if label == LABEL_REPEATED {
        let packable = !matches!(ty, TYPE_STRING | TYPE_BYTES | TYPE_MESSAGE | TYPE_GROUP);
        if packable {
            let mut o = options(field).unwrap_or_else(|| {
                let desc = field
                    .descriptor()
                    .get_field_by_name("options")
                    .and_then(|f| f.kind().as_message().cloned())
                    .expect("FieldDescriptorProto has options");
                DynamicMessage::new(desc)
            });
            o.set_field_by_name("packed", Value::Bool(f.repeated == PACKED));
            field.set_field_by_name("options", Value::Message(o));
        }
    } else if f.presence == LEGACY_REQUIRED {
        field.set_field_by_name("label", Value::EnumNumber(LABEL_REQUIRED));
    } else if proto3
        && f.presence == EXPLICIT
        && ty != TYPE_MESSAGE
        && ty != TYPE_GROUP
        && !field.has_field_by_name("oneof_index")
        && !field.has_field_by_name("extendee")
    {
        field.set_field_by_name("proto3_optional", Value::Bool(true));
        synthetic = true;
    }
    if ty == TYPE_MESSAGE && f.message_encoding == DELIMITED && !map_entry {
        field.set_field_by_name("type", Value::EnumNumber(TYPE_GROUP));
    }
    synthetic
}

fn lower_message(m: &mut DynamicMessage, parent: Features, proto3: bool) {
    let f = parent.with(options(m).as_ref());
    let map_entry = options(m)
        .and_then(|o| o.get_field_by_name("map_entry").and_then(|v| v.as_bool()))
        .unwrap_or(false);
    let mut oneofs = messages(m, "oneof_decl");
    let mut fields = messages(m, "field");
    let oneof_desc = m
        .descriptor()
        .get_field_by_name("oneof_decl")
        .and_then(|f| f.kind().as_message().cloned())
        .expect("DescriptorProto has oneof_decl");
    // Synthetic oneofs come after the real ones, in field order.
    for field in &mut fields {
        if lower_field(field, f, proto3, map_entry) {
            let name = text(field, "name");
            let mut oneof_name = format!("_{name}");
            while fields_named(&oneofs, &oneof_name) {
                oneof_name.insert(0, 'X');
            }
            let mut o = DynamicMessage::new(oneof_desc.clone());
            o.set_field_by_name("name", Value::String(oneof_name));
            field.set_field_by_name("oneof_index", Value::I32(oneofs.len() as i32));
            oneofs.push(o);
        }
    }
    set_messages(m, "field", fields);
    if !oneofs.is_empty() {
        set_messages(m, "oneof_decl", oneofs);
    }
    let mut ext = messages(m, "extension");
    for e in &mut ext {
        lower_field(e, f, proto3, false);
    }
    if !ext.is_empty() {
        set_messages(m, "extension", ext);
    }
    let mut nested = messages(m, "nested_type");
    for n in &mut nested {
        lower_message(n, f, proto3);
    }
    if !nested.is_empty() {
        set_messages(m, "nested_type", nested);
    }
}

/// `2023` for descriptor.proto's `EDITION_2023` (1000), and so on.
fn edition_name(value: i32) -> String {
    match value {
        998 => "proto2".into(),
        999 => "proto3".into(),
        1000 => "2023".into(),
        1001 => "2024".into(),
        n => format!("number {n}"),
    }
}

fn fields_named(items: &[DynamicMessage], name: &str) -> bool {
    items.iter().any(|i| text(i, "name") == name)
}

/// The descriptor set in `bytes` with its editions files lowered; `None`
/// when it has none. An edition other than 2023 and 2024 is an error; what
/// the lowering could not say is in the notes.
pub fn lower(
    bytes: &[u8],
) -> Option<Result<(prost_types::FileDescriptorSet, Vec<String>), String>> {
    let pool = DescriptorPool::global();
    let set_desc = pool.get_message_by_name("google.protobuf.FileDescriptorSet")?;
    let mut set = DynamicMessage::decode(set_desc, bytes).ok()?;
    let mut files = messages(&set, "file");
    if !files.iter().any(|f| text(f, "syntax") == "editions") {
        return None;
    }
    let mut notes = Vec::new();
    for file in &mut files {
        if text(file, "syntax") != "editions" {
            continue;
        }
        let name = text(file, "name");
        let edition = int(file, "edition");
        let Some(defaults) = Features::of_edition(edition) else {
            return Some(Err(format!(
                "'{name}' is written in edition {}, which commander does not know (2023 and 2024 load)",
                edition_name(edition)
            )));
        };
        let f = defaults.with(options(file).as_ref());
        let mut s = Survey::default();
        for e in messages(file, "enum_type") {
            survey_enum(&e, f, &mut s);
        }
        for m in messages(file, "message_type") {
            survey_message(&m, f, &mut s);
        }
        for e in messages(file, "extension") {
            survey_field(&e, f, &mut s);
            s.proto2_only = true;
        }
        let proto3 = !(s.closed_enums || s.required || s.proto2_only);
        if !proto3 && s.implicit {
            notes.push(format!(
                "'{name}': fields with implicit presence are read with explicit presence (commander reads editions as proto2 or proto3, and this file needs proto2)"
            ));
        }
        if !proto3 && s.open_enums {
            notes.push(format!(
                "'{name}': open enums are read as closed (an unknown number is kept as an unknown field)"
            ));
        }
        let mut types = messages(file, "message_type");
        for m in &mut types {
            lower_message(m, f, proto3);
        }
        if !types.is_empty() {
            set_messages(file, "message_type", types);
        }
        let mut ext = messages(file, "extension");
        for e in &mut ext {
            lower_field(e, f, proto3, false);
        }
        if !ext.is_empty() {
            set_messages(file, "extension", ext);
        }
        file.set_field_by_name(
            "syntax",
            Value::String(if proto3 { "proto3" } else { "proto2" }.into()),
        );
        file.clear_field_by_name("edition");
    }
    set_messages(&mut set, "file", files);
    let lowered = prost_types::FileDescriptorSet::decode(set.encode_to_vec().as_slice())
        .map_err(|e| format!("the lowered descriptor set does not read back: {e}"));
    Some(lowered.map(|s| (s, notes)))
}
