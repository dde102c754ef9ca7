//! The testee of Google's conformance suite (`conformance_test_runner`):
//! commander's own conversions, as `commander decode` and `commander encode`
//! do them, behind the runner's pipe protocol. Each request is a 4-byte
//! little-endian length and a `conformance.ConformanceRequest`; each answer
//! the same with a `conformance.ConformanceResponse`. The test messages and
//! the protocol's own messages are loaded at run time from the runner's
//! include folder, as any schema is.
//!
//!   ../shared/conformance/runner target/debug/examples/conformance INCLUDE
//!   ../shared/conformance/runner --maximum_edition 2023 \
//!       target/debug/examples/conformance conformance/test_messages.binpb
//!
//! (`tests/conformance.rs` runs it with the committed failure lists.)

use std::io::{self, Read, Write};
use std::path::PathBuf;

use commander::render::{Format, Renderer, ViewOptions};
use commander::schema::Schema;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value};

fn main() {
    // The runner's include folder (the .proto files, compiled here), or a
    // descriptor set of them (conformance/test_messages.binpb: with the
    // editions test messages, which protox does not compile).
    let from = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: conformance INCLUDE|DESCRIPTOR-SET"),
    );
    let schema = if from.is_dir() {
        let files: Vec<PathBuf> = [
            "conformance/conformance.proto",
            "google/protobuf/test_messages_proto3.proto",
            "google/protobuf/test_messages_proto2.proto",
        ]
        .iter()
        .map(|f| from.join(f))
        .collect();
        Schema::load(&files, std::slice::from_ref(&from))
    } else {
        Schema::load(std::slice::from_ref(&from), &[])
    }
    .unwrap_or_else(|e| panic!("cannot load the conformance protos: {e:#}"));
    let request_desc = schema.message("conformance.ConformanceRequest").unwrap();
    let response_desc = schema.message("conformance.ConformanceResponse").unwrap();

    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    loop {
        let mut len = [0u8; 4];
        match stdin.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return,
            Err(e) => panic!("reading a request: {e}"),
        }
        let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
        stdin.read_exact(&mut buf).expect("a whole request");
        let request = DynamicMessage::decode(request_desc.clone(), buf.as_slice())
            .expect("a ConformanceRequest");
        let (field, value) = answer(&schema, &request);
        let mut response = DynamicMessage::new(response_desc.clone());
        response.set_field_by_name(field, value);
        let out = response.encode_to_vec();
        stdout
            .write_all(&(out.len() as u32).to_le_bytes())
            .and_then(|()| stdout.write_all(&out))
            .and_then(|()| stdout.flush())
            .expect("writing a response");
    }
}

fn text(request: &DynamicMessage, name: &str) -> String {
    request
        .get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn enum_name(request: &DynamicMessage, name: &str) -> String {
    let field = request.descriptor().get_field_by_name(name).unwrap();
    let n = request.get_field(&field).as_enum_number().unwrap_or(0);
    match field.kind() {
        prost_reflect::Kind::Enum(e) => e
            .get_value(n)
            .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
        _ => n.to_string(),
    }
}

/// The response's result: which member, and its value.
fn answer(schema: &Schema, request: &DynamicMessage) -> (&'static str, Value) {
    let type_name = text(request, "message_type");
    if type_name == "conformance.FailureSet" {
        // The runner asks for the testee's own failure list: none (the lists
        // are the runner's --failure_list files).
        return ("protobuf_payload", Value::Bytes(Vec::new().into()));
    }
    let Ok(desc) = schema.message(&type_name) else {
        return (
            "skipped",
            Value::String(format!(
                "{type_name} is not loaded (editions are not supported yet)"
            )),
        );
    };
    let category = enum_name(request, "test_category");
    let output = enum_name(request, "requested_output_format");
    // The message, read as `commander encode` (JSON, text) or `commander
    // decode` (binary) reads it.
    let parsed = if let Some(bytes) = request
        .get_field_by_name("protobuf_payload")
        .filter(|_| request.has_field_by_name("protobuf_payload"))
    {
        let bytes = bytes.as_bytes().cloned().unwrap_or_default();
        commander::render::decode_message(&desc, &bytes).map_err(|e| format!("{e:#}"))
    } else if request.has_field_by_name("json_payload") {
        // `commander encode --ignore-unknown` for that category.
        commander::value::message_from_json_with(
            &desc,
            &text(request, "json_payload"),
            category == "JSON_IGNORE_UNKNOWN_PARSING_TEST",
        )
        .map_err(|e| format!("{e:#}"))
    } else if request.has_field_by_name("text_payload") {
        commander::value::message_from_text(&desc, &text(request, "text_payload"))
            .map_err(|e| format!("{e:#}"))
    } else {
        return ("skipped", Value::String("JSPB is not supported".into()));
    };
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => return ("parse_error", Value::String(e)),
    };
    let bytes = commander::wire::encode_to_vec(&msg);
    match output.as_str() {
        "PROTOBUF" => ("protobuf_payload", Value::Bytes(bytes.into())),
        "JSON" => match render(&desc, Format::Jsonl, &bytes) {
            Ok(j) => ("json_payload", Value::String(j)),
            Err(e) => ("serialize_error", Value::String(e)),
        },
        "TEXT_FORMAT" => match render(&desc, Format::Text, &bytes) {
            Ok(t) => ("text_payload", Value::String(t)),
            Err(e) => ("serialize_error", Value::String(e)),
        },
        other => (
            "skipped",
            Value::String(format!("output {other} is not supported")),
        ),
    }
}

/// The message as `commander decode -o json|text` prints it.
fn render(desc: &MessageDescriptor, format: Format, bytes: &[u8]) -> Result<String, String> {
    let view = ViewOptions {
        camel_case: true,
        ..ViewOptions::default()
    };
    let mut out = Vec::new();
    Renderer::typed_with(desc.clone(), format, view)
        .render(bytes, &mut out)
        .map_err(|e| format!("{e:#}"))?;
    String::from_utf8(out).map_err(|e| e.to_string())
}
