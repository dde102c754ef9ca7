//! The one-pass JSON transcoder against prost-reflect's serializer, and its
//! fast path against its slow path, over random messages of every sample type.

mod support;

use commander::render::{JsonOptions, JsonWriter};
use commander::schema::Schema;
use commander::wire;
use prost_reflect::{DynamicMessage, SerializeOptions};
use serde_json::Value as Json;
use support::random::{Rng, Values, random_message};

const SAMPLE_TYPES: &[&str] = &[
    "cvp.CommandMessage",
    "cvp.CommandResponseMessage",
    "cvp.VehicleTelemetryMessage",
    "cvp.HighSpeedTelemetryMessage",
    "cvp.VehicleEventMessage",
];

/// prost-reflect drops proto3 `-0.0` (it compares with `==`); we keep it, as
/// protoc does. Equal otherwise.
fn same_json(ours: &Json, theirs: &Json) -> bool {
    match (ours, theirs) {
        (Json::Object(a), Json::Object(b)) => {
            a.iter().all(|(k, v)| match b.get(k) {
                Some(w) => same_json(v, w),
                None => v.as_f64() == Some(0.0) && v.to_string().starts_with('-'),
            }) && b.keys().all(|k| a.contains_key(k))
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Top-level records in descending field order (stable, so repeated fields
/// keep their element order), map entries reversed.
fn scrambled(desc: &prost_reflect::MessageDescriptor, canonical: &[u8]) -> Vec<u8> {
    let mut records: Vec<(u32, &[u8])> = Vec::new();
    let mut pos = 0;
    while pos < canonical.len() {
        let start = pos;
        let (n, wt) = wire::read_key(canonical, &mut pos).unwrap();
        wire::skip_value(canonical, &mut pos, n, wt, 0).unwrap();
        records.push((n, &canonical[start..pos]));
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut i = 0;
    while i < records.len() {
        let n = records[i].0;
        let j = records[i..].iter().take_while(|r| r.0 == n).count() + i;
        if desc.get_field(n).is_some_and(|f| f.is_map()) {
            records[i..j].reverse();
        }
        i = j;
    }
    records.into_iter().flat_map(|(_, r)| r.to_vec()).collect()
}

fn check_all(opts: JsonOptions, seeds: u64) {
    let schema = Schema::builtin().unwrap();
    for name in SAMPLE_TYPES {
        let desc = schema.message(name).unwrap();
        let writer = JsonWriter::new(&desc, opts);
        let ser = SerializeOptions::new()
            .use_proto_field_name(!opts.camel_case)
            .skip_default_fields(!opts.emit_defaults)
            .use_enum_numbers(opts.enum_numbers);
        for seed in 0..seeds {
            let msg = random_message(&desc, &mut Rng::new(seed), Values::Edgy, 0);
            let canonical = wire::encode_to_vec(&msg);
            let decoded = DynamicMessage::decode(desc.clone(), canonical.as_slice()).unwrap();

            let mut fast = Vec::new();
            writer.write(&canonical, &mut fast).unwrap();
            // The same message with its fields in reverse order and map
            // entries reversed takes the slow path: the very same bytes out.
            let mut slow = Vec::new();
            writer
                .write(&scrambled(&desc, &canonical), &mut slow)
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&slow),
                "{name} seed {seed}: fast and slow paths differ"
            );

            let ours: Json = serde_json::from_slice(&fast).unwrap_or_else(|e| {
                panic!(
                    "{name} seed {seed}: not JSON: {e}\n{}",
                    String::from_utf8_lossy(&fast)
                )
            });
            let mut theirs_buf = Vec::new();
            decoded
                .serialize_with_options(&mut serde_json::Serializer::new(&mut theirs_buf), &ser)
                .unwrap();
            let theirs: Json = serde_json::from_slice(&theirs_buf).unwrap();
            assert!(
                same_json(&ours, &theirs),
                "{name} seed {seed}:\nours:   {ours}\ntheirs: {theirs}"
            );
        }
    }
}

#[test]
fn transcoder_matches_prost_reflect_compact() {
    check_all(JsonOptions::default(), 300);
}

#[test]
fn transcoder_matches_prost_reflect_pretty_camel_case() {
    check_all(
        JsonOptions {
            pretty: true,
            camel_case: true,
            emit_defaults: false,
            enum_numbers: false,
        },
        150,
    );
}

#[test]
fn transcoder_matches_prost_reflect_with_defaults() {
    check_all(
        JsonOptions {
            pretty: false,
            camel_case: false,
            emit_defaults: true,
            enum_numbers: false,
        },
        150,
    );
}

/// `--enum-numbers` (issue 8): enum values as numbers, as prost-reflect's
/// `use_enum_numbers` and Python's `use_integers_for_enums` write them.
#[test]
fn transcoder_matches_prost_reflect_with_enum_numbers() {
    check_all(
        JsonOptions {
            pretty: false,
            camel_case: false,
            emit_defaults: true,
            enum_numbers: true,
        },
        150,
    );
}

/// Removes whitespace outside string literals.
fn minify(json: &str) -> String {
    let mut out = String::new();
    let (mut in_str, mut escaped) = (false, false);
    for c in json.chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn pretty_output_is_the_compact_output_indented() {
    let schema = Schema::builtin().unwrap();
    let desc = schema.message("cvp.CommandResponseMessage").unwrap();
    let pretty = JsonWriter::new(
        &desc,
        JsonOptions {
            pretty: true,
            ..Default::default()
        },
    );
    let compact = JsonWriter::new(&desc, JsonOptions::default());
    for seed in 0..100 {
        let msg = random_message(&desc, &mut Rng::new(seed), Values::Tame, 0);
        let bytes = wire::encode_to_vec(&msg);
        let (mut p, mut c) = (Vec::new(), Vec::new());
        pretty.write(&bytes, &mut p).unwrap();
        compact.write(&bytes, &mut c).unwrap();
        let (p, c) = (String::from_utf8(p).unwrap(), String::from_utf8(c).unwrap());
        assert_eq!(minify(&p), c);
        // serde_json's pretty layout: two-space steps, `": "` after keys.
        let reparsed: Json = serde_json::from_str(&p).unwrap();
        assert_eq!(
            p.lines().count(),
            serde_json::to_string_pretty(&reparsed)
                .unwrap()
                .lines()
                .count()
        );
        for line in p.lines().skip(1) {
            let indent = line.len() - line.trim_start().len();
            assert_eq!(indent % 2, 0, "{p}");
        }
    }
}
