//! `commander describe`: a message's fields, an enum's values or a service's
//! methods, as a table.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use prost_reflect::{
    DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, ServiceDescriptor,
    Value,
};

use crate::cli::DescribeArgs;
use crate::render::table::kind_name;
use crate::render::text;
use crate::schema::{Named, Schema};

pub fn run(schema: &Schema, args: &DescribeArgs) -> Result<ExitCode> {
    let out = match schema.named(&args.name)? {
        Named::Message(m) => describe_message(&m),
        Named::Enum(e) => describe_enum(&e),
        Named::Service(s) => describe_service(&s),
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(super::output_error)?;
    Ok(ExitCode::SUCCESS)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

pub fn describe_message(m: &MessageDescriptor) -> String {
    let mut t = table(&["#", "field", "type", "label", "oneof", "default", "options"]);
    if let Some(c) = t.column_mut(0) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    for f in m.fields() {
        let oneof = f
            .containing_oneof()
            .filter(|o| !o.is_synthetic())
            .map(|o| o.name().to_owned())
            .unwrap_or_default();
        t.add_row(vec![
            f.number().to_string(),
            f.name().to_owned(),
            type_of(&f),
            label_of(&f).to_owned(),
            oneof,
            default_of(&f),
            field_options(&f),
        ]);
    }
    let mut out = format!("message {} ({})\n", m.full_name(), m.parent_file().name());
    let options = options_text(&m.options());
    if !options.is_empty() {
        out.push_str(&format!("options: {}\n", options.join(", ")));
    }
    if m.fields().len() == 0 {
        out.push_str("(no fields)\n");
    } else {
        out.push_str(&t.to_string());
        out.push('\n');
    }
    let nested: Vec<String> = m
        .child_messages()
        .filter(|c| !c.is_map_entry())
        .map(|c| c.full_name().to_owned())
        .chain(m.child_enums().map(|e| e.full_name().to_owned()))
        .collect();
    if !nested.is_empty() {
        out.push_str(&format!("nested types: {}\n", nested.join(", ")));
    }
    out.push_str(&link_line(m));
    out
}

/// The envelope link the interactive builder would follow, and why; for a
/// message with a oneof (or a header or body with one) and no link, why not.
fn link_line(m: &MessageDescriptor) -> String {
    use crate::prompt::link::{self, Found};
    match link::find(m) {
        Found::One(l) => format!("envelope link: {}\n", l.describe()),
        Found::Several(links) => {
            let all: Vec<String> = links.iter().map(link::Link::describe).collect();
            format!(
                "envelope links: several fit, the builder asks (--link chooses): {}\n",
                all.join("; ")
            )
        }
        Found::None if m.oneofs().any(|o| !o.is_synthetic()) => "envelope link: none (no enum \
             names every member of a oneof, or every member by position)\n"
            .to_owned(),
        Found::None => String::new(),
    }
}

fn type_of(f: &FieldDescriptor) -> String {
    let full = |k: &Kind| match k {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => kind_name(other),
    };
    match f.kind() {
        Kind::Message(entry) if f.is_map() => format!(
            "map<{}, {}>",
            full(&entry.map_entry_key_field().kind()),
            full(&entry.map_entry_value_field().kind())
        ),
        k => full(&k),
    }
}

fn label_of(f: &FieldDescriptor) -> &'static str {
    if f.is_map() {
        "map"
    } else if f.is_list() {
        "repeated"
    } else if f.cardinality() == prost_reflect::Cardinality::Required {
        "required"
    } else if f.containing_oneof().is_some_and(|o| o.is_synthetic())
        || (f.supports_presence()
            && f.containing_oneof().is_none()
            && !matches!(f.kind(), Kind::Message(_)))
    {
        "optional"
    } else {
        ""
    }
}

/// What a device engineer needs beyond the type: the wire form of a
/// repeated scalar (packed or not), a JSON name that is not the usual one,
/// deprecation, and every other option set (custom ones as `(name) = value`).
fn field_options(f: &FieldDescriptor) -> String {
    let mut shown = Vec::new();
    let packable =
        f.is_list() && !matches!(f.kind(), Kind::Message(_) | Kind::String | Kind::Bytes);
    if packable {
        shown.push(if f.is_packed() { "packed" } else { "unpacked" }.to_owned());
    }
    if f.json_name() != lower_camel(f.name()) {
        shown.push(format!("json_name = {:?}", f.json_name()));
    }
    shown.extend(
        options_text(&f.options())
            .into_iter()
            // packed is shown as the wire form above.
            .filter(|o| !o.starts_with("packed ")),
    );
    shown.join(", ")
}

/// protoc's default JSON name: lowerCamelCase of the field name.
fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Each option set in an options message: `name = value`, or `(extension)
/// = value` for custom options; message values as one line of text format.
fn options_text(options: &DynamicMessage) -> Vec<String> {
    let one_line = |kind: &Kind, v: &Value| match v {
        Value::Message(m) => {
            let text = text::to_text(m);
            format!(
                "{{ {} }}",
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        }
        Value::List(items) => items
            .iter()
            .map(|i| text::scalar(kind, i))
            .collect::<Vec<_>>()
            .join(", "),
        v => text::scalar(kind, v),
    };
    let mut out: Vec<String> = options
        .fields()
        .filter(|(f, _)| f.name() != "uninterpreted_option")
        .map(|(f, v)| format!("{} = {}", f.name(), one_line(&f.kind(), v)))
        .collect();
    let mut exts: Vec<_> = options.extensions().collect();
    exts.sort_by_key(|(e, _)| e.number());
    out.extend(
        exts.into_iter()
            .map(|(e, v)| format!("({}) = {}", e.full_name(), one_line(&e.kind(), v))),
    );
    out
}

fn default_of(f: &FieldDescriptor) -> String {
    if f.is_list() || f.is_map() {
        return String::new();
    }
    match f.default_value() {
        Value::Message(_) => String::new(),
        v => text::scalar(&f.kind(), &v),
    }
}

pub fn describe_enum(e: &EnumDescriptor) -> String {
    let mut t = table(&["value", "number"]);
    if let Some(c) = t.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    let with_options = e.values().any(|v| !options_text(&v.options()).is_empty());
    if with_options {
        t.set_header(vec!["value", "number", "options"]);
    }
    for v in e.values() {
        let mut row = vec![v.name().to_owned(), v.number().to_string()];
        if with_options {
            row.push(options_text(&v.options()).join(", "));
        }
        t.add_row(row);
    }
    let mut out = format!("enum {} ({})\n", e.full_name(), e.parent_file().name());
    let options = options_text(&e.options());
    if !options.is_empty() {
        out.push_str(&format!("options: {}\n", options.join(", ")));
    }
    format!("{out}{t}\n")
}

pub fn describe_service(s: &ServiceDescriptor) -> String {
    let mut t = table(&["method", "input", "output", "streaming"]);
    for m in s.methods() {
        let streaming = match (m.is_client_streaming(), m.is_server_streaming()) {
            (false, false) => "",
            (true, false) => "client",
            (false, true) => "server",
            (true, true) => "both",
        };
        t.add_row(vec![
            m.name().to_owned(),
            m.input().full_name().to_owned(),
            m.output().full_name().to_owned(),
            streaming.to_owned(),
        ]);
    }
    format!(
        "service {} ({})\n{t}\n",
        s.full_name(),
        s.parent_file().name()
    )
}
