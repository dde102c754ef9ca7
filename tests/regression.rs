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

/// A descriptor set with an `edition = "2023"` file, as `buf build` writes
/// it: `syntax: "editions"` and `edition: EDITION_2023` (field 14, 1000).
fn editions_set() -> Vec<u8> {
    let file = prost_types::FileDescriptorProto {
        name: Some("test_messages_edition2023.proto".into()),
        package: Some("protobuf_test_messages.editions".into()),
        syntax: Some("editions".into()),
        message_type: vec![prost_types::DescriptorProto {
            name: Some("ComplexMessage".into()),
            field: vec![prost_types::FieldDescriptorProto {
                name: Some("d".into()),
                number: Some(1),
                label: Some(1),
                r#type: Some(5),
                json_name: Some("d".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut bytes = file.encode_to_vec();
    bytes.extend_from_slice(&[14 << 3, 0xe8, 0x07]); // edition = 1000
    let mut set = vec![0x0a];
    prost::encoding::encode_varint(bytes.len() as u64, &mut set);
    set.extend_from_slice(&bytes);
    set
}

#[test]
fn an_editions_descriptor_set_is_an_error_naming_the_file_not_a_crash() {
    let dir = TempDir::new("editions");
    let set = dir.path("editions.binpb");
    std::fs::write(&set, editions_set()).unwrap();
    for args in [vec!["list"], vec!["decode", "-m", "ComplexMessage", "0801"]] {
        let mut cmd = commander();
        cmd.args(&args).arg("-s").arg(&set);
        let r = run_cmd(&mut cmd, b"");
        let err = r.fails_with(1);
        assert!(
            err.starts_with("error: ")
                && err.contains("test_messages_edition2023.proto")
                && err.contains("edition 2023")
                && err.contains("does not support editions yet"),
            "{err}"
        );
    }
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
