//! Regressions found by using commander on real device schemas and under
//! hostile input, each named for what a user sees and citing its issue.

mod support;

use std::io::Write as _;

use prost::Message as _;
use support::{TempDir, commander, run, run_cmd, run_with};

// Issue 8, item 1: options of .proto files compiled at run time.

/// ESPHome's firmware reads `[packed = false]` arrays unpacked only; a
/// compiled .proto must give protoc's bytes (08 01 08 02), not packed ones.
#[test]
fn packed_false_in_a_compiled_proto_writes_unpacked_elements() {
    let dir = TempDir::new("packed");
    let proto = dir.path("p.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nmessage P {\n  repeated int32 a = 1 [packed = false];\n  repeated int32 b = 2;\n}\n",
    )
    .unwrap();
    let p = proto.to_str().unwrap();
    let r = run(&[
        "encode",
        "-s",
        p,
        "-m",
        "P",
        "--json",
        r#"{"a":[1,2],"b":[3,4]}"#,
    ]);
    assert_eq!(r.ok(), "08010802120203 04\n".replace(' ', ""));
    // The same from the real schema where it was found.
    let api = support::corpus("esphome/aioesphomeapi/api.proto");
    if api.exists() {
        let r = run(&[
            "encode",
            "-s",
            api.to_str().unwrap(),
            "-m",
            "ExecuteServiceArgument",
            "--json",
            r#"{"int_array":[1,-1]}"#,
        ]);
        // int_array (7, sint32, [packed=false]): each element with its own
        // key, 38 02 38 01; packed would be 3a 02 02 01.
        assert_eq!(r.ok(), "38023801\n");
    }
}

// Issue 8, item 2: crashes.

/// A descriptor set with one editions file, as `buf build` writes it
/// (`syntax: "editions"`, `edition: EDITION_...`, `features` options), made
/// with the full descriptor.proto that prost-reflect carries.
fn editions_set(edition: &str, file_features: serde_json::Value) -> Vec<u8> {
    let json = serde_json::json!({"file": [{
        "name": "e.proto",
        "package": "ed",
        "syntax": "editions",
        "edition": edition,
        "options": {"features": file_features},
        "messageType": [{
            "name": "M",
            "field": [
                {"name": "d", "number": 1, "label": "LABEL_OPTIONAL", "type": "TYPE_INT32", "jsonName": "d"},
                {"name": "e", "number": 2, "label": "LABEL_OPTIONAL", "type": "TYPE_INT32", "jsonName": "e",
                 "options": {"features": {"fieldPresence": "EXPLICIT"}}},
                {"name": "r", "number": 3, "label": "LABEL_REPEATED", "type": "TYPE_INT32", "jsonName": "r"},
                {"name": "x", "number": 4, "label": "LABEL_REPEATED", "type": "TYPE_INT32", "jsonName": "x",
                 "options": {"features": {"repeatedFieldEncoding": "EXPANDED"}}}
            ]
        }]
    }]});
    let desc = prost_reflect::DescriptorPool::global()
        .get_message_by_name("google.protobuf.FileDescriptorSet")
        .unwrap();
    prost_reflect::DynamicMessage::deserialize(desc, json)
        .unwrap()
        .encode_to_vec()
}

// Issue 13: editions descriptor sets load, their features resolved (they
// were refused, issue 8 item 2, after crashing).
#[test]
fn an_editions_descriptor_set_loads_with_its_features() {
    let dir = TempDir::new("editions");
    let encode = |set: &[u8], json: &str| {
        let path = dir.path("e.binpb");
        std::fs::write(&path, set).unwrap();
        let mut cmd = commander();
        cmd.args(["encode", "-m", "ed.M", "--json", json])
            .arg("-s")
            .arg(&path);
        run_cmd(&mut cmd, b"")
    };
    // Edition 2023's defaults: explicit presence (a zero is sent), packed.
    let set = editions_set("EDITION_2023", serde_json::json!({}));
    let r = encode(&set, r#"{"d": 0, "r": [1, 2], "x": [1, 2]}"#);
    // d = 0 sent; r packed (1a 02 01 02); x expanded (20 01 20 02).
    assert_eq!(r.ok().trim(), "08001a02010220012002", "{}", r.stderr);
    // Implicit presence for the file: a zero is not sent; a field that
    // says explicit still is.
    let set = editions_set(
        "EDITION_2023",
        serde_json::json!({"fieldPresence": "IMPLICIT"}),
    );
    let r = encode(&set, r#"{"d": 0, "e": 0}"#);
    assert_eq!(r.ok().trim(), "1000", "{}", r.stderr);
    // An edition commander does not know is an error naming the file.
    let set = editions_set("EDITION_99999_TEST_ONLY", serde_json::json!({}));
    let err = encode(&set, "{}").fails_with(1).to_owned();
    assert!(
        err.starts_with("error: ") && err.contains("'e.proto' is written in edition"),
        "{err}"
    );
}

#[test]
fn an_editions_proto_file_is_an_error_saying_so() {
    let dir = TempDir::new("editions-src");
    let proto = dir.path("e.proto");
    std::fs::write(&proto, "edition = \"2023\";\nmessage A { int32 x = 1; }\n").unwrap();
    let r = run(&["list", "-s", proto.to_str().unwrap()]);
    let err = r.fails_with(1);
    assert!(
        err.contains("editions file") && err.contains("e.proto"),
        "{err}"
    );
}

#[test]
fn a_non_ascii_character_after_a_bracket_in_a_field_path_is_a_usage_error() {
    let r = run(&[
        "encode",
        "-m",
        "cvp.VehicleTelemetryMessage",
        "--json",
        "{}",
        "--set",
        "signals[a]é=1",
    ]);
    let err = r.fails_with(2);
    assert!(err.contains("unexpected 'é' in 'signals[a]é'"), "{err}");
}

#[test]
fn a_non_ascii_character_in_a_profile_default_key_is_an_error() {
    let dir = TempDir::new("profile-key");
    let profile = dir.path("commander.toml");
    std::fs::write(
        &profile,
        "command = \"cvp.VehicleTelemetryMessage\"\n[defaults]\n\"signals[a]é\" = \"1\"\n",
    )
    .unwrap();
    let r = run(&[
        "--profile",
        profile.to_str().unwrap(),
        "encode",
        "--defaults",
        "--json",
        "{}",
    ]);
    assert!(r.code == 1 || r.code == 2, "exit {}: {}", r.code, r.stderr);
    let err = r.fails_with(r.code);
    assert!(err.contains("signals[a]é"), "{err}");
}

#[test]
fn a_timeout_too_long_for_the_clock_is_a_usage_error() {
    for t in ["100000000000000000000", "1e300s", "400d"] {
        let r = run(&["send", "--timeout", t, "--json", "{}"]);
        let err = r.fails_with(2);
        assert!(err.contains("--timeout"), "{t}: {err}");
    }
}

#[test]
fn a_keep_alive_mqtt_cannot_carry_is_a_usage_error() {
    for k in ["2", "70000"] {
        let r = run(&["listen", "--keep-alive", k]);
        let err = r.fails_with(2);
        assert!(err.contains("--keep-alive"), "{k}: {err}");
    }
}

/// Anything unforeseen prints `error: internal error: ...` and how to report
/// it, exit 1: never Rust's panic message or a backtrace.
#[test]
fn a_panic_is_reported_as_an_internal_error() {
    let mut cmd = commander();
    cmd.env("COMMANDER_TEST_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .args(["list"]);
    let r = run_cmd(&mut cmd, b"");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: internal error: COMMANDER_TEST_PANIC is set"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("please report it"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("stack backtrace"),
        "{}",
        r.stderr
    );
}

// Issue 8, item 4: streams that lose or invent messages.

fn hex_of(json: &str) -> String {
    run(&["encode", "-m", "CommandMessage", "--json", json])
        .ok()
        .trim_end()
        .to_owned()
}

#[test]
fn cr_lf_and_crlf_all_end_hex_lines() {
    let (a, b, c) = (
        hex_of(r#"{"message_id":"a"}"#),
        hex_of(r#"{"message_id":"b"}"#),
        hex_of(r#"{"message_id":"c"}"#),
    );
    let want = "{\"message_id\":\"a\"}\n{\"message_id\":\"b\"}\n{\"message_id\":\"c\"}\n";
    for sep in ["\r", "\n", "\r\n"] {
        let input = format!("{a}{sep}{b}{sep}{c}{sep}");
        let r = run_with(
            &["decode", "-m", "CommandMessage", "-o", "jsonl"],
            input.as_bytes(),
        );
        assert_eq!(r.ok(), want, "separator {sep:?}");
        let r = run_with(
            &[
                "decode",
                "-m",
                "CommandMessage",
                "-o",
                "jsonl",
                "-i",
                "base64",
            ],
            input.as_bytes(),
        );
        assert_eq!(
            r.code, 1,
            "hex is not base64 here, but every line is its own"
        );
    }
}

#[test]
fn empty_messages_survive_every_form() {
    // JSON Lines in, hex lines out, hex lines in: two in, two out.
    let hex = run_with(&["encode", "-m", "CommandMessage"], b"{}\n{}\n");
    assert_eq!(hex.ok(), "-\n-\n");
    let back = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        hex.raw_stdout.as_slice(),
    );
    assert_eq!(back.ok(), "{}\n{}\n");
    // One message, piped.
    let hex = run(&["encode", "--json", "{}"]);
    let back = run_with(&["decode", "-o", "jsonl"], hex.raw_stdout.as_slice());
    assert_eq!(back.ok(), "{}\n");
    // Base64.
    let b64 = run_with(
        &["encode", "-m", "CommandMessage", "-f", "base64"],
        b"{}\n{}\n",
    );
    assert_eq!(b64.ok(), "-\n-\n");
    let back = run_with(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "-i",
            "base64",
        ],
        b64.raw_stdout.as_slice(),
    );
    assert_eq!(back.ok(), "{}\n{}\n");
    // Framed binary: a zero length prefix each.
    let bin = run_with(
        &[
            "encode",
            "-m",
            "CommandMessage",
            "-f",
            "binary",
            "--framing",
            "varint",
        ],
        b"{}\n{\"message_id\":\"a\"}\n{}\n",
    );
    assert_eq!(bin.ok().as_bytes(), b"\x00\x03\x0a\x01a\x00");
    let back = run_with(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "--framing",
            "varint",
        ],
        bin.raw_stdout.as_slice(),
    );
    assert_eq!(back.ok(), "{}\n{\"message_id\":\"a\"}\n{}\n");
    // Unframed binary: zero bytes read as binary are the empty message.
    let back = run_with(&["decode", "-o", "jsonl", "-i", "binary"], b"");
    assert_eq!(back.ok(), "{}\n");
    // Text format: a comment, which reads back as the empty message.
    let text = run(&[
        "decode",
        "-m",
        "CommandMessage",
        "-o",
        "text",
        "-",
        "0a0161",
        "-",
    ]);
    assert_eq!(
        text.ok(),
        "# empty message\n\nmessage_id: \"a\"\n\n# empty message\n"
    );
    let again = run(&[
        "encode",
        "-m",
        "CommandMessage",
        "--text",
        "# empty message\n",
    ]);
    assert_eq!(again.ok(), "-\n");
    // A table: a title line for each.
    let table = run_with(&["decode", "-m", "CommandMessage"], b"-\n-\n");
    assert_eq!(table.ok().matches("cvp.CommandMessage · line").count(), 2);
}

#[test]
fn blank_lines_are_not_messages() {
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        b"\n0a0161\n\n  \n0a0162\n",
    );
    assert_eq!(r.ok(), "{\"message_id\":\"a\"}\n{\"message_id\":\"b\"}\n");
}

#[test]
fn a_byte_order_mark_before_hex_is_skipped() {
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        b"\xef\xbb\xbf0a0161\r\n0a0162\r\n",
    );
    assert_eq!(r.ok(), "{\"message_id\":\"a\"}\n{\"message_id\":\"b\"}\n");
    let r = run_with(&["decode", "-o", "jsonl"], b"\xff\xfe0\x00a\x00");
    let err = r.fails_with(1);
    assert!(err.contains("UTF-16"), "{err}");
}

#[test]
fn no_input_is_no_message() {
    for input in [&b""[..], b"\n\n", b"\r\n"] {
        let r = run_with(&["decode", "-o", "jsonl"], input);
        assert_eq!(r.ok(), "", "{input:?}");
        assert!(r.stderr.contains("no message"), "{}", r.stderr);
    }
    let mut child = commander()
        .args(["decode", "-o", "jsonl"])
        .stdin(std::fs::File::open("/dev/null").unwrap())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().map(|mut s| s.flush());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

// Issue 8, item 3: linear time and bounded memory (measured by
// benches/hostile_sizes.sh; here: what the linear paths print).

#[test]
fn raw_json_orders_numbers_as_numbers_and_gathers_repeated_fields() {
    // 10: 1, 2: 5, 10: 2, 1: "a"
    let r = run(&["decode", "--raw", "-o", "jsonl", "500110055002 0a0161"]);
    assert_eq!(r.ok(), "{\"1\":\"a\",\"2\":5,\"10\":[1,2]}\n");
}

#[test]
fn a_json_value_over_many_lines_encodes_as_on_one_line() {
    let mut pretty = String::from("{\n  \"vehicle_id\": \"MH12VF1121\",\n  \"signals\": {\n");
    for i in 0..2000 {
        let sep = if i + 1 < 2000 { "," } else { "" };
        pretty.push_str(&format!("    \"s{i}\": {i}.5{sep}\n"));
    }
    pretty.push_str("  }\n}\n");
    let compact: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    let a = run_with(
        &["encode", "-m", "VehicleTelemetryMessage"],
        pretty.as_bytes(),
    );
    let b = run(&[
        "encode",
        "-m",
        "VehicleTelemetryMessage",
        "--json",
        &compact.to_string(),
    ]);
    assert_eq!(a.ok(), b.ok());
    assert_eq!(a.stdout.lines().count(), 1);
}

// Issue 8, item 5: tables a person can read.

fn telemetry_with_raw_frame(len: usize) -> String {
    use base64::Engine as _;
    let frame: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(frame);
    let json = format!(r#"{{"vehicle_id":"MH12VF1121","raw_can_frame":"{b64}"}}"#);
    run_with(
        &["encode", "-m", "VehicleTelemetryMessage"],
        json.as_bytes(),
    )
    .ok()
    .trim_end()
    .to_owned()
}

#[test]
fn long_bytes_are_capped_in_tables_with_their_size() {
    let hex = telemetry_with_raw_frame(1 << 20);
    let r = run_with(&["decode", "-m", "VehicleTelemetryMessage"], hex.as_bytes());
    let table = r.ok();
    assert!(table.len() < 4096, "{} bytes of table", table.len());
    assert!(table.contains("… (1048576 bytes)"), "{table}");
    // JSON still holds every byte.
    let r = run_with(
        &["decode", "-m", "VehicleTelemetryMessage", "-o", "jsonl"],
        hex.as_bytes(),
    );
    let json: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    assert_eq!(json["raw_can_frame"].as_str().unwrap().len(), 1398104);
}

#[test]
fn tables_fit_the_width_given_and_lose_nothing() {
    let long = "x".repeat(300);
    let hex = run(&[
        "encode",
        "-m",
        "CommandResponseMessage",
        "--json",
        &format!(r#"{{"message_id":"{long}","engine_start":{{"cabin_temp_c":21}}}}"#),
    ]);
    for width in ["60", "100"] {
        let r = run(&[
            "decode",
            "-m",
            "CommandResponseMessage",
            "--width",
            width,
            hex.ok().trim_end(),
        ]);
        let table = r.ok();
        let w: usize = width.parse().unwrap();
        for line in table.lines().skip(1) {
            assert!(line.chars().count() <= w, "wider than {w}: {line}");
        }
        assert_eq!(table.matches('x').count(), 300, "{table}");
        assert!(table.contains("21"), "{table}");
    }
}

#[test]
fn a_field_mask_shows_its_paths_as_stored() {
    let dir = TempDir::new("fieldmask");
    let proto = dir.path("m.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nimport \"google/protobuf/field_mask.proto\";\n\
         message M { google.protobuf.FieldMask mask = 1; }\n",
    )
    .unwrap();
    let p = proto.to_str().unwrap();
    let hex = run(&[
        "encode",
        "-s",
        p,
        "-m",
        "M",
        "--text",
        r#"mask { paths: "payload.seconds.time_stamp" paths: "vehicle_id" }"#,
    ]);
    let r = run(&["decode", "-s", p, "-m", "M", hex.ok().trim_end()]);
    assert!(
        r.ok().contains("payload.seconds.time_stamp, vehicle_id"),
        "{}",
        r.stdout
    );
}

// Issue 8, item 6: proto2 required fields.

fn cast() -> String {
    support::corpus("cast/chromecast_protobuf/cast_channel.proto")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn encode_warns_of_missing_required_fields_and_strict_refuses() {
    let cast = cast();
    let args = [
        "encode",
        "-s",
        &cast,
        "-m",
        "CastMessage",
        "--json",
        r#"{"source_id":"sender-0","namespace":"urn:x-cast:com.google.cast.tp.heartbeat"}"#,
    ];
    let r = run(&args);
    let hex = r.ok().trim_end().to_owned();
    let back = run(&[
        "decode",
        "-s",
        &cast,
        "-m",
        "CastMessage",
        "-o",
        "jsonl",
        &hex,
    ]);
    assert!(
        back.ok().contains("\"source_id\":\"sender-0\""),
        "{}",
        back.stdout
    );
    assert!(
        r.stderr.contains(
            "warning: --json lacks required fields: protocol_version, destination_id, payload_type"
        ),
        "{}",
        r.stderr
    );
    let mut strict = args.to_vec();
    strict.push("--strict");
    let r = run(&strict);
    let err = r.fails_with(1);
    assert!(
        err.contains("lacks required fields: protocol_version"),
        "{err}"
    );
    assert_eq!(r.stdout, "");
}

#[test]
fn decode_tables_mark_missing_required_fields() {
    let cast = cast();
    let r = run(&["decode", "-s", &cast, "-m", "CastMessage", "120173"]);
    let table = r.ok();
    assert!(table.contains("(missing: a required field)"), "{table}");
    assert!(table.contains("required string"), "{table}");
    let r = run(&["describe", "-s", &cast, "CastMessage"]);
    assert!(r.ok().contains("required"), "{}", r.stdout);
}

// Issue 8, item 7: describe shows the options that matter.

#[test]
fn describe_shows_packing_deprecation_json_names_and_custom_options() {
    let api = support::corpus("esphome/aioesphomeapi/api.proto");
    let api = api.to_str().unwrap();
    let r = run(&["describe", "-s", api, "ExecuteServiceArgument"]);
    let out = r.ok();
    assert!(out.contains("unpacked, (fixed_vector) = true"), "{out}");
    let r = run(&["describe", "-s", api, "HelloRequest"]);
    assert!(r.ok().contains("options: (id) = 1"), "{}", r.stdout);
    let mesh = support::corpus("meshtastic");
    let mesh = mesh.to_str().unwrap();
    let r = run(&["describe", "-s", mesh, "-I", mesh, "meshtastic.User"]);
    assert!(r.ok().contains("deprecated = true"), "{}", r.stdout);
    let dir = TempDir::new("json-name");
    let proto = dir.path("j.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto2\";\nmessage J { optional int32 a_b = 1 [json_name = \"AB\", default = 7];\n repeated int32 c = 2 [packed = true]; }\n",
    )
    .unwrap();
    let r = run(&["describe", "-s", proto.to_str().unwrap(), "J"]);
    let out = r.ok();
    assert!(out.contains("json_name = \"AB\""), "{out}");
    assert!(out.contains("┆ 7 "), "{out}");
    assert!(out.contains("packed"), "{out}");
}

// Issue 8, item 8: a message carried in a bytes field.

const TESLA_CARRIED: &str = "32020803520612042a0208509a0310000102030405060708090a0b0c0d0e0f";

fn tesla() -> String {
    support::corpus("tesla/pkg/protocol/protobuf")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn bytes_as_shows_the_carried_message_in_every_form_and_encode_takes_it_back() {
    let tesla = tesla();
    let base = [
        "decode",
        "-s",
        &tesla,
        "-m",
        "UniversalMessage.RoutableMessage",
    ];
    let carried = "protobuf_message_as_bytes=CarServer.Action";
    // Without it: the bytes, and a hint that they parse as a message.
    let mut args = base.to_vec();
    args.push(TESLA_CARRIED);
    let r = run(&args);
    assert!(
        r.ok()
            .contains("(also parses as a message: --bytes-as protobuf_message_as_bytes=TYPE)"),
        "{}",
        r.stdout
    );
    // Table.
    let mut args = base.to_vec();
    args.extend(["--bytes-as", carried, TESLA_CARRIED]);
    let table = run(&args);
    assert!(table.ok().contains("bytes as Action"), "{}", table.stdout);
    assert!(
        table.stdout.contains("chargingSetLimitAction"),
        "{}",
        table.stdout
    );
    // Text: comments under the field, and the text reads back to the bytes.
    let mut args = base.to_vec();
    args.extend(["--bytes-as", carried, "-o", "text", TESLA_CARRIED]);
    let text = run(&args);
    assert!(
        text.ok()
            .contains("# as CarServer.Action:\n#   vehicleAction {"),
        "{}",
        text.stdout
    );
    let back = run(&[
        "encode",
        "-s",
        &tesla,
        "-m",
        "UniversalMessage.RoutableMessage",
        "--text",
        &text.stdout,
    ]);
    assert_eq!(back.ok().trim_end(), TESLA_CARRIED);
    // JSON: the object, the bytes under FIELD@bytes; encode takes it back.
    let mut args = base.to_vec();
    args.extend(["--bytes-as", carried, "-o", "json", TESLA_CARRIED]);
    let json = run(&args);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(
        value["protobuf_message_as_bytes"]["vehicleAction"]["chargingSetLimitAction"]["percent"],
        80
    );
    assert_eq!(value["protobuf_message_as_bytes@bytes"], "EgQqAghQ");
    let back = run_with(
        &[
            "encode",
            "-s",
            &tesla,
            "-m",
            "UniversalMessage.RoutableMessage",
            "--bytes-as",
            carried,
        ],
        json.stdout.as_bytes(),
    );
    assert_eq!(back.ok().trim_end(), TESLA_CARRIED);
    // The same from a profile key.
    let dir = TempDir::new("bytes-as-profile");
    let profile = dir.path("commander.toml");
    std::fs::write(
        &profile,
        format!(
            "schema = [{tesla:?}]\nresponse = \"UniversalMessage.RoutableMessage\"\n[bytes_as]\n\"protobuf_message_as_bytes\" = \"CarServer.Action\"\n"
        ),
    )
    .unwrap();
    let r = run(&[
        "--profile",
        profile.to_str().unwrap(),
        "decode",
        TESLA_CARRIED,
    ]);
    assert!(r.ok().contains("bytes as Action"), "{}", r.stdout);
    // A path that is not a bytes field is a usage error.
    let mut args = base.to_vec();
    args.extend(["--bytes-as", "uuid.x=CarServer.Action", TESLA_CARRIED]);
    let err = run(&args);
    assert!(
        err.fails_with(2).contains("--bytes-as uuid.x"),
        "{}",
        err.stderr
    );
}

// Issue 8, item 9: --raw guesses only when plausible.

#[test]
fn raw_guesses_skip_keys_and_uuids_and_can_be_chosen() {
    // field 5: a 16-byte UUID; field 6: small packed numbers.
    let hex = "2a10a3b6e5f1c2d94e7b8f01a6c3d2e5f437320401050302";
    let r = run(&["decode", "--raw", "-o", "text", hex]);
    let text = r.ok();
    let uuid_line = text.lines().find(|l| l.starts_with("5:")).unwrap();
    assert!(!uuid_line.contains('#'), "{text}");
    assert!(text.contains("# packed varints? [1, 5, 3, 2]"), "{text}");
    let r = run(&["decode", "--raw", "-o", "text", "--guess", "none", hex]);
    assert!(!r.ok().contains('#'), "{}", r.stdout);
    let r = run(&["decode", "--raw", "-o", "text", "--guess", "all", hex]);
    let uuid_line = r
        .ok()
        .lines()
        .find(|l| l.starts_with("5:"))
        .unwrap()
        .to_owned();
    assert!(uuid_line.contains("# packed"), "{}", r.stdout);
}

// Issue 8, item 10: a profile from the current directory is said.

#[test]
fn a_profile_in_the_current_directory_is_named_once_unless_quiet() {
    let dir = TempDir::new("cwd-profile");
    std::fs::write(
        dir.path("commander.toml"),
        "response = \"cvp.CommandMessage\"\n",
    )
    .unwrap();
    let mut cmd = commander();
    cmd.current_dir(&dir.0)
        .args(["decode", "-o", "jsonl", "0a0161"]);
    let r = run_cmd(&mut cmd, b"");
    assert_eq!(r.ok(), "{\"message_id\":\"a\"}\n");
    assert_eq!(
        r.stderr.matches("note: using ./commander.toml").count(),
        1,
        "{}",
        r.stderr
    );
    let mut cmd = commander();
    cmd.current_dir(&dir.0)
        .args(["-q", "decode", "-o", "jsonl", "0a0161"]);
    let r = run_cmd(&mut cmd, b"");
    assert_eq!(r.ok(), "{\"message_id\":\"a\"}\n");
    assert_eq!(r.stderr, "");
}

// Issue 8, item 11: exit statuses in --help and the man page.

#[test]
fn exit_statuses_are_in_help_and_man_pages() {
    for args in [
        vec!["--help"],
        vec!["decode", "--help"],
        vec!["encode", "-h"],
    ] {
        let r = run(&args);
        assert!(
            r.ok().contains("Exit status:\n  0  success")
                && r.stdout.contains("  2  a usage error"),
            "{args:?}: {}",
            r.stdout
        );
    }
    for args in [vec!["man"], vec!["man", "decode"]] {
        let r = run(&args);
        assert!(
            r.ok()
                .contains(".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nsuccess"),
            "{args:?}"
        );
        assert!(!r.stdout.contains(".SH EXTRA"), "{args:?}");
    }
}

// Issue 8, item 12: smaller things.

#[test]
fn a_short_typo_suggests_the_closest_names_first() {
    let r = run(&["decode", "-m", "CommandRespnse", "08"]);
    let err = r.fails_with(2);
    assert!(
        err.contains("did you mean 'cvp.CommandResponseMessage' or 'cvp.CommandMessage'?"),
        "{err}"
    );
}

#[test]
fn enum_numbers_in_json() {
    let hex = run(&[
        "encode",
        "-m",
        "CommandMessage",
        "--json",
        r#"{"subtype":"ENGINE_START","priority":"HIGH"}"#,
    ]);
    let hex = hex.ok().trim_end().to_owned();
    let r = run(&["decode", "-m", "CommandMessage", "-o", "jsonl", &hex]);
    assert_eq!(
        r.ok(),
        "{\"subtype\":\"ENGINE_START\",\"priority\":\"HIGH\"}\n"
    );
    let r = run(&[
        "decode",
        "-m",
        "CommandMessage",
        "-o",
        "jsonl",
        "--enum-numbers",
        &hex,
    ]);
    let v: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    assert_eq!(v["subtype"], 1);
    assert!(v["priority"].is_number(), "{v}");
}

#[test]
fn encode_and_decode_both_read_file() {
    let dir = TempDir::new("file-flag");
    let json = dir.path("m.json");
    std::fs::write(&json, "{\"message_id\":\"a\"}\n").unwrap();
    let r = run(&[
        "encode",
        "-m",
        "CommandMessage",
        "--file",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.ok(), "0a0161\n");
    let r = run(&["encode", "-m", "CommandMessage", json.to_str().unwrap()]);
    assert_eq!(r.ok(), "0a0161\n");
    let hex = dir.path("m.hex");
    std::fs::write(&hex, "0a0161\n").unwrap();
    let r = run(&[
        "decode",
        "-m",
        "CommandMessage",
        "-o",
        "jsonl",
        "--file",
        hex.to_str().unwrap(),
    ]);
    assert_eq!(r.ok(), "{\"message_id\":\"a\"}\n");
}

/// Out of memory is an error too (issue 8, item 2): under a 60 MB address
/// space limit, a 30 MB message's JSON cannot be made; commander says so and
/// exits with status 1, without std's abort and its note about backtraces.
#[cfg(target_os = "linux")]
#[test]
fn running_out_of_memory_is_an_error_not_an_abort() {
    let n = 30 << 20;
    let mut msg = vec![0x1a, 0x01, b'X', 0xba, 0x01];
    prost::encoding::encode_varint(n as u64, &mut msg);
    msg.resize(msg.len() + n, 0);
    let mut hex = hex::encode(&msg);
    hex.push('\n');
    let bin = std::env::var_os("COMMANDER_BIN").map_or_else(
        || env!("CARGO_BIN_EXE_commander").into(),
        std::path::PathBuf::from,
    );
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -v 60000 && exec \"$0\" decode -m VehicleTelemetryMessage -o json",
    ])
    .arg(bin)
    .env("RUST_BACKTRACE", "1");
    let r = run_cmd(&mut cmd, hex.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: out of memory"), "{}", r.stderr);
    assert!(!r.stderr.contains("backtrace"), "{}", r.stderr);
}

// Issue 8 review, item 2: failures to write the output are not decode
// failures.

/// Runs `commander ARGS` on `input`, reads the first line of its output and
/// closes the pipe, as `| head -1` does; returns the exit status and stderr.
fn close_after_first_line(args: &[&str], input: &[u8]) -> (i32, String) {
    use std::io::{BufRead, Read};
    use std::process::Stdio;
    let mut child = commander()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty(), "{args:?} printed nothing");
    // The reader is dropped here: the pipe is closed.
    let status = child.wait().unwrap();
    let _ = writer.join();
    (status.code().unwrap_or(-1), errors.join().unwrap())
}

/// `commander decode ... | head -1` on a message whose output is over
/// 1 MiB (written out as it is made) ends quietly with status 0, as the
/// README says; it said "cannot decode the input ... caused by: Broken
/// pipe" with status 1.
#[test]
fn closing_the_output_early_in_a_large_message_ends_quietly() {
    let repeated = [0x08, 0x01].repeat(400_000);
    for format in ["text", "table", "json"] {
        let args = ["decode", "--raw", "-i", "binary", "-o", format];
        let (code, stderr) = close_after_first_line(&args, &repeated);
        assert_eq!((code, stderr.as_str()), (0, ""), "-o {format}");
    }
    // With a schema: 100,000 tires of a telemetry message.
    // tires (20) { kpa (2): 1.0 }
    let tire = [0x15, 0, 0, 0x80, 0x3f];
    let mut tires = Vec::new();
    for _ in 0..100_000 {
        tires.extend_from_slice(&[0xa2, 0x01, tire.len() as u8]);
        tires.extend_from_slice(&tire);
    }
    for format in ["text", "table"] {
        let args = [
            "decode",
            "-m",
            "VehicleTelemetryMessage",
            "-i",
            "binary",
            "-o",
            format,
        ];
        let (code, stderr) = close_after_first_line(&args, &tires);
        assert_eq!((code, stderr.as_str()), (0, ""), "-o {format}");
    }
}

/// Any other failure to write is `error: cannot write output`, status 1,
/// never a message that did not decode.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_writing_the_output() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let large = [0x08, 0x01].repeat(400_000);
    let cases: [(&[&str], &[u8]); 4] = [
        (&["decode", "--raw", "-i", "binary", "-o", "text"], &large),
        (&["decode", "--raw", "-i", "binary"], b"\x08\x01"),
        (&["encode", "-m", "CommandMessage", "--json", "{}"], b""),
        (&["list"], b""),
    ];
    for (args, input) in cases {
        use std::process::Stdio;
        let mut child = commander()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(full())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write output\n  caused by: No space left"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("decode"), "{args:?}: {stderr}");
    }
}

// Issue 8 review, item 4: readings without a schema are capped.

/// A packed reading lists the values of the bytes whose hex is shown (the
/// first 128), then how many more there are, and is wrapped to the hex's
/// width: the table of a 10 MB array was 57 MB, every row padded to a
/// reading of ten million values; a 3 MB array's table is now under 4 KB.
/// The `# packed ...?` comment of text output is capped the same way (the
/// bytes themselves are all shown, as protoc shows them).
#[test]
fn raw_readings_are_capped_like_the_hex_above_them() {
    let mut varints = vec![0x08, 0x07, 0x12, 0xc0, 0x8d, 0xb7, 0x01]; // 2: 3,000,000 bytes
    varints.extend_from_slice(&[5; 3_000_000]);
    varints.extend_from_slice(b"\x18\x01\x22\x05hello");
    let mut doubles = vec![0x0a, 0x80, 0xe2, 0x09]; // 20,000 × 8 bytes
    for i in 0..20_000 {
        doubles.extend_from_slice(&(1.5 + f64::from(i)).to_le_bytes());
    }
    for (input, more, last_shown) in [
        (&varints, "… (2999872 more)])", "5, 5, "),
        (&doubles, "… (19984 more)])", "16.5, "),
    ] {
        let r = run_with(&["decode", "--raw", "-i", "binary"], input);
        let table = r.ok();
        assert!(table.len() < 4_000, "{} bytes of table", table.len());
        for line in table.lines() {
            assert!(line.chars().count() <= 90, "too wide: {line}");
        }
        assert!(table.contains(more), "{table}");
        assert!(table.contains(last_shown), "{table}");
        let r = run_with(&["decode", "--raw", "-i", "binary", "-o", "text"], input);
        let text = r.ok();
        let comment = text.lines().find(|l| l.contains("  # packed")).unwrap();
        let comment = &comment[comment.find("  # packed").unwrap()..];
        assert!(comment.len() < 1_000, "{} bytes of comment", comment.len());
        assert!(comment.ends_with(more.trim_end_matches(')')), "{comment}");
        assert!(text.len() < input.len() * 4 + 1_000);
    }
}

// Issue 8 review, item 3: messages over 64 KiB read a field at a time.

/// Field `number`, length-delimited, holding `body`.
fn len_field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(number, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// Nesting is counted from the top of a large message, as a decode of the
/// whole counts it: map values, unknown groups and extensions 41 levels
/// below 60 levels of messages over 64 KiB are refused with the error the
/// whole message gets (they were decoded on their own, from level 0, and
/// shown 101 levels deep), and 40 levels below are shown.
#[test]
fn large_messages_nested_too_deep_are_refused_as_when_decoded_whole() {
    let dir = TempDir::new("deep");
    let proto = dir.path("n.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto2\";\nmessage N {\n  repeated N kids = 1;\n  map<int32, N> m = 2;\n  \
         optional string s = 3;\n  extensions 100 to 200;\n}\nextend N { repeated N ext = 100; }\n",
    )
    .unwrap();
    let pad = len_field(3, &[b'x'; 70_000]);
    let below = |shape: &str, levels: usize| -> Vec<u8> {
        let mut b = Vec::new();
        for _ in 0..levels {
            b = match shape {
                // m { key: 1 value { ... } }
                "map" => len_field(2, &[&[0x08, 0x01][..], &len_field(2, &b)].concat()),
                // Unknown field 50, a group.
                "group" => [&[0x93, 0x03][..], &b, &[0x94, 0x03]].concat(),
                _ => len_field(100, &b),
            };
        }
        b
    };
    for shape in ["map", "group", "extension"] {
        for (levels, refused) in [(40, false), (41, true)] {
            // The map's field number is below the string's: canonical order.
            let mut message = match shape {
                "map" => [below(shape, levels), pad.clone()].concat(),
                _ => [pad.clone(), below(shape, levels)].concat(),
            };
            for _ in 0..60 {
                message = len_field(1, &message);
            }
            // The same levels, then a second run of `kids`: out of order,
            // so decoded whole.
            let whole = [&message[..], &[0x1a, 0x01, b'z', 0x0a, 0x00]].concat();
            message.extend_from_slice(&[0x1a, 0x01, b'z']);
            let args = [
                "decode",
                "-s",
                proto.to_str().unwrap(),
                "-m",
                "N",
                "-i",
                "binary",
            ];
            let split = run_with(&args, &message);
            let whole = run_with(&args, &whole);
            if !refused {
                assert!(split.ok().contains("kids[0]"), "{shape} {levels}");
                whole.ok();
                continue;
            }
            let err = split.fails_with(1);
            assert!(split.stdout.is_empty(), "{shape}: {}", split.stdout);
            assert!(
                err.starts_with("error: cannot decode the input as N"),
                "{err}"
            );
            assert!(err.contains("recursion limit"), "{shape}: {err}");
            assert_eq!(err, whole.fails_with(1), "{shape}");
        }
    }
}

// Issue 8 review, item 6: memory of messages over 64 KiB.

/// A 10 MB packed field is shown within 25 MB of address space more than
/// the program needs for a tiny message (the binary's own size is not the
/// decoder's), as a table and as text, with --emit-defaults too (which
/// decoded the message whole): it took 755 MB, the table's list of values
/// held as ten million strings, the text made whole before it went out.
#[cfg(target_os = "linux")]
#[test]
fn a_large_packed_field_is_shown_in_a_few_times_its_size() {
    let dir = TempDir::new("packed-memory");
    let proto = dir.path("p.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nmessage P {\n  string name = 1;\n  repeated uint32 vals = 2;\n  \
         uint32 last = 3;\n}\n",
    )
    .unwrap();
    let n = 10_000_000;
    let mut msg = vec![0x12];
    prost::encoding::encode_varint(n as u64, &mut msg);
    msg.extend((0..n).map(|i| (i % 100) as u8));
    let file = dir.path("p.bin");
    std::fs::write(&file, &msg).unwrap();
    let bin = std::env::var_os("COMMANDER_BIN").map_or_else(
        || env!("CARGO_BIN_EXE_commander").into(),
        std::path::PathBuf::from,
    );
    // The least address space (KiB, to 1 MiB) in which a one-field message
    // of the same schema is shown.
    let tiny = dir.path("tiny.bin");
    std::fs::write(&tiny, [0x18, 0x01]).unwrap();
    let fits = |kib: u64| {
        let script = format!(
            "ulimit -v {kib} && exec \"$0\" decode -s \"$1\" -m P -i binary -o table --emit-defaults --file \"$2\""
        );
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", &script]).arg(&bin).arg(&proto).arg(&tiny);
        run_cmd(&mut cmd, b"").code == 0
    };
    let (mut low, mut high) = (8u64, 400u64); // MiB: too little, enough
    assert!(
        fits(high * 1024),
        "a tiny message is not shown within {high} MiB"
    );
    while high - low > 1 {
        let mid = (low + high) / 2;
        if fits(mid * 1024) {
            high = mid;
        } else {
            low = mid;
        }
    }
    let baseline = high * 1024;
    let limit = baseline + 25_000;
    for (format, defaults) in [
        ("table", ""),
        ("table", "--emit-defaults"),
        ("text", ""),
        ("text", "--emit-defaults"),
    ] {
        let script = format!(
            "ulimit -v {limit} && exec \"$0\" decode -s \"$1\" -m P -i binary -o {format} {defaults} --file \"$2\" | tail -c 300"
        );
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", &script]).arg(&bin).arg(&proto).arg(&file);
        let r = run_cmd(&mut cmd, b"");
        assert!(r.stderr.is_empty(), "{format} {defaults}: {}", r.stderr);
        let end = r.ok();
        match (format, defaults) {
            ("table", "") => assert!(end.contains(" 97, 98, 99] │\n└"), "{end}"),
            ("table", _) => assert!(end.contains("│ 3 ┆ last  ┆ uint32          ┆ 0 "), "{end}"),
            ("text", "") => assert!(end.ends_with("vals: 98\nvals: 99\n"), "{end}"),
            _ => assert!(end.ends_with("vals: 99\nlast: 0\n"), "{end}"),
        }
    }
}

// Issue 13: a Timestamp or Duration with no JSON form is refused, as the
// runtimes refuse it (it was printed as a time it is not).
#[test]
fn times_out_of_range_have_no_json_form() {
    // time_stamp { seconds: 1, nanos: -1 }
    let r = run(&[
        "decode",
        "-m",
        "cvp.CommandMessage",
        "-o",
        "json",
        "4a0d080110ffffffffffffffffff01",
    ]);
    assert!(
        r.fails_with(1)
            .contains("the Timestamp at time_stamp has nanos -1, outside 0 to 999999999"),
        "{}",
        r.stderr
    );
    // expires_in { seconds: 1, nanos: -5 }: signs differ.
    let r = run(&[
        "decode",
        "-m",
        "cvp.CommandMessage",
        "-o",
        "json",
        "5a0d0801 10fbffffffffffffffff01",
    ]);
    assert!(
        r.fails_with(1).contains("of the other sign"),
        "{}",
        r.stderr
    );
    // The table still shows what is there.
    let r = run(&[
        "decode",
        "-m",
        "cvp.CommandMessage",
        "4a0d080110ffffffffffffffffff01",
    ]);
    assert!(r.ok().contains("invalid Timestamp: seconds 1, nanos -1"));
}

// Issue 13: `--ignore-unknown` skips JSON keys the type lacks (grpcurl's and
// buf's users ask for it); text input refuses the flag rather than pass it
// over. An integer quoted with an exponent ("1e1") is read as the runtimes
// read it.
#[test]
fn json_input_can_skip_unknown_keys_and_reads_quoted_exponents() {
    let json = r#"{"version": 1, "added_later": {"x": [1, 2]}, "vehicle_id": "V"}"#;
    let r = run(&["encode", "-m", "cvp.CommandMessage", "--json", json]);
    assert!(r.fails_with(1).contains("added_later"), "{}", r.stderr);
    let r = run(&[
        "encode",
        "-m",
        "cvp.CommandMessage",
        "--ignore-unknown",
        "--json",
        json,
    ]);
    let plain = run(&[
        "encode",
        "-m",
        "cvp.CommandMessage",
        "--json",
        r#"{"version": 1, "vehicle_id": "V"}"#,
    ]);
    assert_eq!(r.ok(), plain.ok());
    let r = run(&[
        "encode",
        "-m",
        "cvp.CommandMessage",
        "--ignore-unknown",
        "--text",
        "version: 1",
    ]);
    assert!(
        r.fails_with(2)
            .contains("--ignore-unknown applies to JSON input"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "encode",
        "-m",
        "cvp.CommandMessage",
        "--json",
        r#"{"version": "1e1"}"#,
    ]);
    assert_eq!(r.ok().trim(), "400a");
    let r = run(&[
        "encode",
        "-m",
        "cvp.CommandMessage",
        "--json",
        r#"{"version": "1.5"}"#,
    ]);
    assert!(r.fails_with(1).contains("version"), "{}", r.stderr);
}

// Issue 13: binary in, binary out. `decode -o hex|base64` encodes each
// message again as the runtimes' parse and serialize do: known fields in
// number order, unknown fields kept after them in the order they came.
#[test]
fn decode_to_hex_is_the_canonical_encoding_with_unknown_fields_kept() {
    // version = 1, unknown 501 = 5, vehicle_id = "V", unknown 501 = "x"
    let input = "4001 a81f05 1a0156 aa1f0178";
    let r = run(&["decode", "-m", "cvp.CommandMessage", "-o", "hex", input]);
    assert_eq!(r.ok(), "1a01564001a81f05aa1f0178\n");
    let r = run(&["decode", "-m", "cvp.CommandMessage", "-o", "base64", input]);
    assert_eq!(r.ok(), "GgFWQAGoHwWqHwF4\n");
    // A stream: one line each; the empty message is "-".
    let r = run_with(
        &["decode", "-m", "cvp.CommandMessage", "-o", "hex"],
        b"4001\n-\n",
    );
    assert_eq!(r.ok(), "4001\n-\n");
    let r = run(&["decode", "--raw", "-o", "hex", "4001"]);
    assert!(r.fails_with(2).contains("takes its type"), "{}", r.stderr);
}

// Issue 13: text output can leave unknown fields out.
#[test]
fn text_output_can_leave_unknown_fields_out() {
    let args = [
        "decode",
        "-m",
        "cvp.CommandMessage",
        "-o",
        "text",
        "4001a81f05",
    ];
    assert_eq!(run(&args).ok(), "version: 1\n501: 5\n");
    let mut with = args.to_vec();
    with.push("--no-unknown");
    assert_eq!(run(&with).ok(), "version: 1\n");
    let r = run(&["decode", "-m", "cvp.CommandMessage", "--no-unknown", "4001"]);
    assert!(
        r.fails_with(2).contains("--no-unknown is for -o text"),
        "{}",
        r.stderr
    );
}

// Issue 13: an Any written `{}` is the empty Any, set (prost-reflect wanted
// '@type').
#[test]
fn an_empty_any_in_json_is_read() {
    let dir = TempDir::new("empty-any");
    let proto = dir.path("a.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nimport \"google/protobuf/any.proto\";\n\
         message H { int32 n = 1; Inner inner = 2; }\n\
         message Inner { google.protobuf.Any any = 1; }\n",
    )
    .unwrap();
    let mut cmd = commander();
    cmd.args([
        "encode",
        "-m",
        "H",
        "--json",
        r#"{"n": 1, "inner": {"any": {}}}"#,
    ])
    .arg("-s")
    .arg(&proto);
    // n = 1; inner { any {} }: both set, the Any empty.
    assert_eq!(run_cmd(&mut cmd, b"").ok().trim(), "080112020a00");
}

/// `commander encode -s SCHEMA -m M --text TEXT`: for the text-input tests
/// of a schema written in the test.
fn encode_text(schema: &std::path::Path, text: &str) -> support::Run {
    let mut cmd = commander();
    cmd.args(["encode", "-m", "M", "--text", text])
        .arg("-s")
        .arg(schema);
    run_cmd(&mut cmd, b"")
}

// Issue 13: in text input, a closed (proto2) enum takes only its values, as
// protoc says.
#[test]
fn text_input_refuses_an_unknown_number_of_a_closed_enum() {
    let dir = TempDir::new("closed-enum");
    let proto = dir.path("c.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto2\";\nenum E { A = 0; B = 1; }\nmessage M { optional E e = 1; repeated E r = 2; }\n",
    )
    .unwrap();
    let encode = |text: &str| encode_text(&proto, text);
    assert_eq!(encode("e: 1 r: B").ok().trim(), "08011001");
    let r = encode("e: 7");
    assert!(
        r.fails_with(1)
            .contains("e: 7 is not a value of E, a closed enum"),
        "{}",
        r.stderr
    );
    let r = encode("r: A r: 9");
    assert!(
        r.fails_with(1).contains("r[1]: 9 is not a value of E"),
        "{}",
        r.stderr
    );
}

// Issue 13: a group may be named by its field's name in text, as protoc
// takes it (prost-reflect takes only the type's name).
#[test]
fn text_input_takes_a_group_by_its_field_name() {
    let dir = TempDir::new("groups");
    let proto = dir.path("g.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto2\";\nmessage M {\n  optional group Data = 1 { optional int32 x = 2; \
         optional group Inner = 3 { optional int32 y = 4; } }\n  \
         repeated group Item = 5 { optional string s = 6; }\n}\n",
    )
    .unwrap();
    let encode = |text: &str| encode_text(&proto, text);
    let by_type = encode("Data { x: 1 Inner { y: 2 } } Item { s: \"a{\" } Item { s: \"b\" }");
    for text in [
        "data { x: 1 inner { y: 2 } } item { s: \"a{\" } item { s: \"b\" }",
        "data: < x: 1 inner { y: 2 } > item: [{ s: \"a{\" }, { s: \"b\" }]",
    ] {
        assert_eq!(encode(text).ok(), by_type.ok(), "{text}");
    }
    // A mistake inside is still said where it is.
    let r = encode("data { nope: 1 }");
    assert!(
        r.fails_with(1).contains("1:8: field 'nope' not found"),
        "{}",
        r.stderr
    );
}

// Issue 13: in text input, a field the message reserves by name is skipped
// with its value, as protoc does.
#[test]
fn text_input_skips_reserved_field_names() {
    let dir = TempDir::new("reserved");
    let proto = dir.path("r.proto");
    std::fs::write(
        &proto,
        "syntax = \"proto3\";\nmessage M { int32 a = 1; Sub s = 2; reserved \"old\", \"gone\"; }\n\
         message Sub { int32 b = 1; reserved \"was\"; }\n",
    )
    .unwrap();
    let encode = |text: &str| encode_text(&proto, text);
    let want = encode("a: 1 s { b: 2 }").ok().to_owned();
    for text in [
        "old: 5 a: 1 s { b: 2 }",
        "a: 1 old: \"x\" 'y' gone { c: [1, 2] } s { b: 2 was: ENUM_NAME }",
        "a: 1; old: [1.5, -2]; s < b: 2 > gone < >",
        "old: { nested { deeper: \"}\" } } a: 1 s { was: true b: 2 }",
    ] {
        assert_eq!(encode(text).ok(), want, "{text}");
    }
    // Not reserved: still an error, where it is.
    let r = encode("a: 1 nope: 2");
    assert!(r.fails_with(1).contains("1:6"), "{}", r.stderr);
}
