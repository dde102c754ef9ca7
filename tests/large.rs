//! Large messages (issue 8, item 3) are shown a field at a time from their
//! bytes, never decoded whole; the output must be exactly what the decoded
//! path prints, in text format and in tables, for every kind of field.

mod support;

use commander::render::large::{Msg, SPLIT};
use commander::render::table::{TableOptions, write_msg_table};
use commander::render::text::{TextOptions, write_msg};
use commander::schema::Schema;
use commander::wire;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use support::random::{Rng, Values, random_message};

/// A canonical message of `desc` larger than `min` bytes: random messages
/// merged (repeated fields append), encoded canonically.
fn big(desc: &MessageDescriptor, seed: u64, min: usize) -> Option<Vec<u8>> {
    let mut rng = Rng::new(seed);
    // Concatenated encodings merge when decoded: repeated fields append.
    let mut concatenated = Vec::new();
    let mut target = min;
    for _ in 0..6 {
        while concatenated.len() < target * 2 {
            let part = random_message(desc, &mut rng, Values::Edgy, 0);
            concatenated.extend_from_slice(&wire::encode_to_vec(&part));
        }
        let merged = DynamicMessage::decode(desc.clone(), concatenated.as_slice()).ok()?;
        let bytes = wire::encode_to_vec(&merged);
        if bytes.len() > min {
            return Some(bytes);
        }
        // Mostly singular fields: merging does not make it grow much.
        target *= 2;
    }
    None
}

fn text_of(msg: &Msg<'_>) -> String {
    text_with(msg, false)
}

fn text_with(msg: &Msg<'_>, emit_defaults: bool) -> String {
    let mut out = String::new();
    let mut pieces = String::new();
    let opts = TextOptions {
        emit_defaults,
        ..TextOptions::default()
    };
    write_msg(msg, 0, &opts, &mut pieces, &mut |t| {
        out.push_str(t);
        t.clear();
        Ok(())
    })
    .unwrap();
    out
}

fn table_of(msg: Msg<'_>, width: Option<usize>) -> String {
    let mut out = String::new();
    let opts = TableOptions {
        width,
        ..TableOptions::default()
    };
    write_msg_table(msg, opts, &mut |l| {
        out.push_str(l);
        out.push('\n');
        Ok(())
    })
    .unwrap();
    out
}

fn compare(schema: &Schema, names: &[&str]) -> usize {
    let mut split = 0;
    for name in names {
        let desc = schema.message(name).unwrap();
        for seed in 0..2 {
            let Some(bytes) = big(&desc, seed, 2 * SPLIT) else {
                continue;
            };
            let whole =
                || Msg::Decoded(DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap());
            let opened = Msg::open(&desc, &bytes, 0).expect("a valid message opens");
            split += usize::from(matches!(opened, Msg::Split(_)));
            assert_eq!(
                text_of(&opened),
                text_of(&whole()),
                "{name} seed {seed}: text"
            );
            for width in [None, Some(100)] {
                let opened = Msg::open(&desc, &bytes, 0).unwrap();
                assert_eq!(
                    table_of(opened, width),
                    table_of(whole(), width),
                    "{name} seed {seed}: table at {width:?}"
                );
            }
            // --emit-defaults reads a field at a time too.
            let opened = Msg::open(&desc, &bytes, 0).unwrap();
            assert_eq!(
                text_with(&opened, true),
                text_with(&whole(), true),
                "{name} seed {seed}: text, defaults"
            );
            let opts = TableOptions {
                emit_defaults: true,
                ..TableOptions::default()
            };
            assert_eq!(
                table_with(opened, opts),
                table_with(whole(), opts),
                "{name} seed {seed}: table, defaults"
            );
        }
    }
    split
}

#[test]
fn large_sample_messages_print_as_the_decoded_path_prints_them() {
    let schema = Schema::builtin().unwrap();
    let names = [
        "cvp.VehicleTelemetryMessage",
        "cvp.HighSpeedTelemetryMessage",
        "cvp.CommandResponseMessage",
        "cvp.CommandMessage",
        "cvp.VehicleEventMessage",
    ];
    let split = compare(&schema, &names);
    assert!(
        split >= 4,
        "only {split} messages were read a field at a time"
    );
}

#[test]
fn large_corpus_messages_print_as_the_decoded_path_prints_them() {
    let root = support::corpus("sparkplug_b/sparkplug_b.proto");
    let schema = Schema::load(&[root], &[]).unwrap();
    let split = compare(&schema, &["org.eclipse.tahu.protobuf.Payload"]);
    assert!(
        split >= 1,
        "only {split} messages were read a field at a time"
    );
    let root = support::corpus("meshtastic");
    let roots = std::slice::from_ref(&root);
    let schema = Schema::load(roots, roots).unwrap();
    compare(
        &schema,
        &["meshtastic.FromRadio", "meshtastic.AdminMessage"],
    );
}

/// A message that is not canonical (fields out of order, a singular field
/// twice) is decoded whole, with its merge and last-wins semantics.
#[test]
fn large_non_canonical_messages_are_decoded_whole() {
    let schema = Schema::builtin().unwrap();
    let desc = schema.message("cvp.VehicleTelemetryMessage").unwrap();
    let mut bytes = big(&desc, 1, 2 * SPLIT).unwrap();
    // vehicle_id (3) again at the end: the last one wins.
    bytes.extend_from_slice(&[0x1a, 0x03, b'l', b'a', b's']);
    let opened = Msg::open(&desc, &bytes, 0).unwrap();
    assert!(matches!(opened, Msg::Decoded(_)));
    assert!(text_of(&opened).contains("vehicle_id: \"las\""));
}

/// A large JSON value is encoded a field at a time (map entries and list
/// elements on their own): the bytes must be the whole path's, for every
/// kind of field.
#[test]
fn large_json_values_encode_a_field_at_a_time_to_the_same_bytes() {
    use commander::render::{JsonOptions, JsonWriter};
    use commander::wire::from_json::{SPLIT_JSON, encode_large};
    let schema = Schema::builtin().unwrap();
    let mut split = 0;
    for name in [
        "cvp.VehicleTelemetryMessage",
        "cvp.HighSpeedTelemetryMessage",
        "cvp.CommandResponseMessage",
        "cvp.VehicleEventMessage",
    ] {
        let desc = schema.message(name).unwrap();
        for seed in 0..2 {
            let Some(bytes) = big(&desc, seed, 2 * SPLIT) else {
                continue;
            };
            let mut json = Vec::new();
            JsonWriter::new(&desc, JsonOptions::default())
                .write(&bytes, &mut json)
                .unwrap();
            let json = String::from_utf8(json).unwrap();
            assert!(json.len() > SPLIT_JSON);
            let whole = commander::value::message_from_json(&desc, &json).unwrap();
            let whole = wire::encode_to_vec(&whole);
            let pieces = encode_large(&desc, &json, false);
            split += usize::from(pieces.is_some());
            if let Some(pieces) = pieces {
                assert_eq!(
                    hex::encode(&pieces),
                    hex::encode(&whole),
                    "{name} seed {seed}"
                );
            }
        }
    }
    assert!(
        split >= 4,
        "only {split} values were encoded a field at a time"
    );
}

/// A schema of `google.protobuf.Value` and `NullValue` fields of every
/// cardinality, for the nulls of large JSON values.
const NULLS_PROTO: &str = r#"syntax = "proto3";
import "google/protobuf/struct.proto";
message J {
  google.protobuf.Value v = 1;
  string s = 2;
  optional google.protobuf.NullValue n = 3;
  repeated google.protobuf.Value vs = 4;
  repeated google.protobuf.NullValue ns = 5;
  map<string, google.protobuf.Value> mv = 6;
  map<string, google.protobuf.NullValue> mn = 7;
  google.protobuf.ListValue lv = 8;
  google.protobuf.Struct st = 9;
  repeated J kids = 10;
  J kid = 11;
  oneof o { google.protobuf.Value ov = 12; string os = 13; }
  google.protobuf.NullValue pn = 14;
  string t = 15;
}
"#;

/// Issue 8 review, item 1: in a JSON value larger than 64 KiB (encoded a
/// field at a time), `null` in a `google.protobuf.Value` field is
/// `null_value: NULL_VALUE` and in a `NullValue` field `NULL_VALUE`, as in a
/// small value; it was dropped. Every place a null can be (the top level, a
/// split sub-message, elements of a split list, values of a split map,
/// ListValue and Struct) gives the whole path's bytes.
#[test]
fn large_json_values_keep_null_in_value_and_null_value_fields() {
    use commander::wire::from_json::{SPLIT_JSON, encode_large};
    use serde_json::json;
    let dir = support::TempDir::new("nulls");
    let proto = dir.path("j.proto");
    std::fs::write(&proto, NULLS_PROTO).unwrap();
    let schema = Schema::load(std::slice::from_ref(&proto), std::slice::from_ref(&dir.0)).unwrap();
    let desc = schema.message("J").unwrap();
    let pad = "y".repeat(SPLIT_JSON + 10);
    let many = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| match i % 4 {
                0 => json!(null),
                1 => json!("x".repeat(40)),
                2 => json!([null, 1, {"a": null}]),
                _ => json!({"k": null, "l": [null]}),
            })
            .collect()
    };
    let small_kid = json!({"v": null, "n": null, "pn": null, "vs": [null], "ov": null});
    let docs = [
        // The reviewer's case.
        json!({"v": null, "n": null, "s": pad}),
        // Every null at the top level.
        json!({
            "v": null, "n": null, "pn": null, "vs": null, "ns": null, "mv": null,
            "mn": null, "lv": null, "st": null, "kids": null, "kid": null, "ov": null,
            "s": pad,
        }),
        json!({
            "vs": [null, 1, null], "ns": [null, "NULL_VALUE", null],
            "mv": {"b": null, "a": 2}, "mn": {"z": null, "y": null},
            "lv": [null, [null], {"q": null}], "st": {"a": null, "b": {"c": null}},
            "os": "one", "t": null, "s": pad,
        }),
        // A large repeated Value (split into elements) holding nulls.
        json!({"vs": many(3000), "s": "a"}),
        // A large map of Values (split into entries) holding nulls.
        json!({"mv": (0..3000).map(|i| (format!("k{i}"), many(4)[i % 4].clone()))
            .collect::<serde_json::Map<_, _>>()}),
        // A large sub-message (split itself) with nulls of its own.
        json!({"kid": {"v": null, "n": null, "ov": null, "s": pad, "kid": small_kid}}),
        // A large list of sub-messages (split into elements) with nulls.
        json!({"kids": (0..3000).map(|i| if i % 2 == 0 { small_kid.clone() }
            else { json!({"s": "z".repeat(30), "n": null}) }).collect::<Vec<_>>()}),
        // Large ListValue and Struct (parsed whole: well-known types).
        json!({"lv": many(3000), "st": {"a": many(3000)}, "v": {"b": many(3000)}}),
    ];
    for (i, doc) in docs.iter().enumerate() {
        for json in [doc.to_string(), serde_json::to_string_pretty(doc).unwrap()] {
            assert!(json.len() > SPLIT_JSON, "document {i} is large");
            let whole = commander::value::message_from_json(&desc, &json).unwrap();
            let whole = wire::encode_to_vec(&whole);
            let pieces = encode_large(&desc, &json, false).expect("encoded a field at a time");
            assert_eq!(hex::encode(&pieces), hex::encode(&whole), "document {i}");
        }
    }
    // As a user sees it: encode the large value, decode it as text.
    let big = dir.path("big.json");
    std::fs::write(&big, docs[0].to_string()).unwrap();
    let p = proto.to_str().unwrap();
    let encoded = support::run(
        &["encode", "-s", p, "-m", "J", "-f", "binary", "--file"]
            .into_iter()
            .chain([big.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let decoded = support::run_with(
        &["decode", "-s", p, "-m", "J", "-i", "binary", "-o", "text"],
        &encoded.raw_stdout,
    );
    let text = decoded.ok();
    assert!(
        text.starts_with("v {\n  null_value: NULL_VALUE\n}\ns: \"yyy"),
        "{}",
        &text[..60.min(text.len())]
    );
    assert!(
        text.ends_with("\"\nn: NULL_VALUE\n"),
        "{}",
        &text[text.len() - 30..]
    );
}

/// A proto2 schema with what the field-at-a-time table must show as the
/// decoded one does: required fields (message ones too), an empty packed
/// run, repeated well-known types, bytes that parse as a message, maps,
/// an extension numbered between fields.
const SHAPES_PROTO: &str = r#"syntax = "proto2";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
message D {
  required int32 id = 1;
  repeated int32 vals = 2 [packed = true];
  optional bytes blob = 3;
  repeated google.protobuf.Value vs = 4;
  optional string s = 5;
  optional Inner inner = 6;
  required Inner need = 7;
  repeated Inner inners = 8;
  optional google.protobuf.Timestamp at = 9;
  repeated bytes blobs = 10;
  map<string, int32> m = 11;
  repeated google.protobuf.Timestamp ats = 12;
  extensions 100 to 200;
  required string last = 300;
}
message Inner {
  optional int32 a = 1;
  repeated google.protobuf.Timestamp ts = 2;
  optional bytes b = 3;
}
extend D { optional int32 ext = 150; }
"#;

/// Field `number`, length-delimited, holding `body`.
fn len_field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    wire::write_key(&mut out, number, wire::WireType::Len);
    wire::write_varint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// Issue 8 review, item 5: the table of a message read a field at a time
/// is the decoded message's table: an empty packed run shows nothing (it
/// showed `[]`), a repeated well-known type is one row of values (it was a
/// row per element), bytes that parse as a message say so (and --bytes-as
/// shows them), missing required fields come in field-number order (they
/// came last), extensions after the fields, message types say `required`.
#[test]
fn large_messages_in_tables_show_what_the_decoded_path_shows() {
    use commander::render::BytesAs;
    let dir = support::TempDir::new("shapes");
    let proto = dir.path("d.proto");
    std::fs::write(&proto, SHAPES_PROTO).unwrap();
    let schema = Schema::load(std::slice::from_ref(&proto), std::slice::from_ref(&dir.0)).unwrap();
    let desc = schema.message("D").unwrap();
    let inner_desc = schema.message("Inner").unwrap();
    let big = len_field(5, &vec![b'x'; 2 * SPLIT]);
    let ts = len_field(2, &[0x08, 0x96, 0x01]); // Inner.ts { seconds: 150 }
    let inner = [vec![0x08, 0x07], ts.clone(), len_field(3, &[0x08, 0x01])].concat();
    let value = len_field(4, &len_field(3, b"abc")); // vs { string_value: "abc" }
    let messages: Vec<Vec<u8>> = vec![
        // The reviewer's case: 12 00, bytes 08 01, vs ["abc"], a large s.
        [
            len_field(2, &[]),
            len_field(3, &[0x08, 0x01]),
            value.clone(),
            big.clone(),
        ]
        .concat(),
        // Everything, id and need and last present, the extension too.
        [
            vec![0x08, 0x2a],
            len_field(2, &[1, 2, 3]),
            len_field(2, &[]),
            len_field(3, &[0x08, 0x01]),
            value.clone(),
            value.clone(),
            big.clone(),
            len_field(6, &inner),
            len_field(7, &[]),
            len_field(8, &inner),
            len_field(8, &[]),
            len_field(9, &[0x08, 0x01]),
            len_field(10, &[0x08, 0x01]),
            len_field(10, b"zz"),
            len_field(11, &[0x0a, 0x01, b'a', 0x10, 0x01]),
            len_field(11, &[0x0a, 0x01, b'b', 0x10, 0x02]),
            len_field(12, &[0x08, 0x01]),
            len_field(12, &[0x08, 0x02]),
            vec![0xb0, 0x09, 0x05], // ext (150): 5
            len_field(300, b"end"),
            vec![0xf8, 0x3e, 0x01], // unknown field 1007
        ]
        .concat(),
        // Required fields missing between and after present ones, the
        // extension before a missing one.
        [
            len_field(2, &[]),
            big.clone(),
            len_field(6, &inner),
            vec![0xb0, 0x09, 0x05],
        ]
        .concat(),
    ];
    let carried = BytesAs::new(vec![("blob".to_owned(), inner_desc.clone())], Some(&desc))
        .unwrap()
        .leak();
    for (i, bytes) in messages.iter().enumerate() {
        let opened = Msg::open(&desc, bytes, 0).expect("opens");
        assert!(matches!(opened, Msg::Split(_)), "message {i} is split");
        let whole =
            || Msg::Decoded(DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap());
        for bytes_as in [None, Some(carried)] {
            for (width, emit_defaults) in [(None, false), (Some(100), false), (None, true)] {
                let opts = TableOptions {
                    width,
                    bytes_as,
                    emit_defaults,
                    ..TableOptions::default()
                };
                let split = table_with(Msg::open(&desc, bytes, 0).unwrap(), opts);
                assert_eq!(
                    split,
                    table_with(whole(), opts),
                    "message {i}, --bytes-as {}, width {width:?}, defaults {emit_defaults}",
                    bytes_as.is_some()
                );
            }
        }
        assert_eq!(text_of(&opened), text_of(&whole()), "message {i}: text");
        assert_eq!(text_with(&opened, true), text_with(&whole(), true));
    }
    // As a user sees it: the reviewer's two files, one canonical (read a
    // field at a time), one not (decoded whole), give the same table.
    let split_bin = dir.path("split.bin");
    std::fs::write(&split_bin, &messages[0]).unwrap();
    let whole_bin = dir.path("whole.bin");
    // The large string first: out of number order, so decoded whole.
    let mut reordered = big.clone();
    reordered.extend_from_slice(&messages[0][..messages[0].len() - big.len()]);
    std::fs::write(&whole_bin, &reordered).unwrap();
    let table = |file: &std::path::Path| {
        let p = proto.to_str().unwrap();
        let args = ["decode", "-s", p, "-m", "D", "-i", "binary", "--file"];
        let mut args = args.to_vec();
        args.push(file.to_str().unwrap());
        support::run(&args).ok().to_owned()
    };
    assert_eq!(table(&split_bin), table(&whole_bin));
}

fn table_with(msg: Msg<'_>, opts: TableOptions) -> String {
    let mut out = String::new();
    write_msg_table(msg, opts, &mut |l| {
        out.push_str(l);
        out.push('\n');
        Ok(())
    })
    .unwrap();
    out
}

/// A proto2 schema that nests: in repeated fields, map values, extensions.
pub const NESTED_PROTO: &str = r#"syntax = "proto2";
message N {
  repeated N kids = 1;
  map<int32, N> m = 2;
  optional string s = 3;
  repeated int32 vals = 5 [packed = true];
  extensions 100 to 200;
}
extend N { repeated N ext = 100; }
"#;

/// Issue 8 review, item 3: tables of messages read a field at a time nest
/// as deep as decoded ones do (8 tables), then show the message as text, as
/// the decoded path does. They nested a table in a table down to the last
/// level: 99 levels of 70 KB drew lines 9,000 columns wide, 2.5 MB, and the
/// time went with the square of the depth.
#[test]
fn large_messages_nested_deep_show_text_where_decoded_tables_do() {
    let dir = support::TempDir::new("nested");
    let proto = dir.path("n.proto");
    std::fs::write(&proto, NESTED_PROTO).unwrap();
    let schema = Schema::load(std::slice::from_ref(&proto), std::slice::from_ref(&dir.0)).unwrap();
    let desc = schema.message("N").unwrap();
    // 12 levels, each over 64 KiB (a long string at the bottom), with a
    // packed run beside each level.
    let mut bytes = len_field(3, &vec![b'x'; 2 * SPLIT]);
    for level in 0..12u8 {
        bytes = [len_field(1, &bytes), len_field(5, &[level, 1, 2])].concat();
    }
    let whole = || Msg::Decoded(DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap());
    for width in [None, Some(100), Some(60)] {
        let opts = TableOptions {
            width,
            ..TableOptions::default()
        };
        let split = Msg::open(&desc, &bytes, 0).expect("opens");
        assert!(matches!(split, Msg::Split(_)));
        let table = table_with(split, opts);
        assert_eq!(table, table_with(whole(), opts), "width {width:?}");
        assert!(table.contains("kids {"), "width {width:?}");
        if width.is_none() {
            // Eight tables, one inside the other, then text.
            let deepest = table.lines().map(|l| l.matches('│').count()).max();
            assert_eq!(deepest, Some(16));
        }
    }
    let opened = Msg::open(&desc, &bytes, 0).unwrap();
    assert_eq!(text_of(&opened), text_of(&whole()));
}

/// A proto3 schema: fields without presence, shown at their defaults with
/// --emit-defaults.
const DEFAULTS_PROTO: &str = r#"syntax = "proto3";
message P {
  int32 id = 1;
  repeated int32 vals = 2;
  bytes blob = 3;
  string s = 4;
  P child = 5;
  repeated P kids = 6;
  map<string, int32> m = 7;
  Color color = 8;
  optional int32 opt = 9;
  repeated string names = 10;
  double last = 11;
}
enum Color { COLOR_UNSET = 0; RED = 1; }
"#;

/// Issue 8 review, item 6: --emit-defaults no longer decodes a large
/// message whole; read a field at a time, it shows what the decoded path
/// shows: absent fields at their defaults in their place, values sent at
/// their default, an empty packed run as `[]`, empty bytes, and the same
/// in sub-messages read a field at a time; a map's run adds no defaults.
#[test]
fn large_messages_with_emit_defaults_show_what_the_decoded_path_shows() {
    let dir = support::TempDir::new("defaults");
    let proto = dir.path("p.proto");
    std::fs::write(&proto, DEFAULTS_PROTO).unwrap();
    let schema = Schema::load(std::slice::from_ref(&proto), std::slice::from_ref(&dir.0)).unwrap();
    let desc = schema.message("P").unwrap();
    let big = len_field(4, &vec![b'x'; 2 * SPLIT]);
    // A child over 64 KiB with only its string set.
    let child = len_field(5, &big);
    let messages: Vec<Vec<u8>> = vec![
        // Only the large string.
        big.clone(),
        // id sent as 0, an empty packed run, empty bytes, the string, the
        // large child, a small kid, a map entry, opt 0.
        [
            vec![0x08, 0x00],
            len_field(2, &[]),
            len_field(3, &[]),
            big.clone(),
            child.clone(),
            len_field(6, &[0x08, 0x07]),
            len_field(7, &len_field(1, b"k")),
            vec![0x48, 0x00],
        ]
        .concat(),
        // Values in the packed run, a name, the last field.
        [
            len_field(2, &[1, 2, 3]),
            child,
            len_field(10, b"n"),
            vec![0x59, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f],
        ]
        .concat(),
    ];
    for (i, bytes) in messages.iter().enumerate() {
        let whole =
            || Msg::Decoded(DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap());
        let opened = Msg::open(&desc, bytes, 0).expect("opens");
        assert!(matches!(opened, Msg::Split(_)), "message {i} is split");
        let text = text_with(&opened, true);
        assert_eq!(text, text_with(&whole(), true), "message {i}: text");
        assert!(text.starts_with("id: 0\n"), "message {i}: {}", &text[..20]);
        for width in [None, Some(100)] {
            let opts = TableOptions {
                width,
                emit_defaults: true,
                ..TableOptions::default()
            };
            let table = table_with(Msg::open(&desc, bytes, 0).unwrap(), opts);
            assert_eq!(
                table,
                table_with(whole(), opts),
                "message {i}, width {width:?}"
            );
            assert!(table.contains("COLOR_UNSET (0)"), "message {i}");
        }
    }
}
