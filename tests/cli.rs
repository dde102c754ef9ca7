//! The `commander` binary run the way a user runs it, row by row of SPEC 2-5:
//! schemas, the commands, `encode` and `decode`. Each test checks what a user
//! would look at: the output, the exit status (0 ok, 1 run-time failure,
//! 2 usage error) and the `error: ...` on stderr, never a panic.
//!
//! Tables are pinned byte for byte by the trycmd cases in `tests/cmd/`
//! (run by `snapshots` at the end; `TRYCMD=overwrite` rewrites them).
//! Fixtures live in `tests/data/cli/`.

mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use support::{TempDir, commander, repo, run, run_cmd, run_with};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// A fixture path relative to the repository (the binary runs there).
fn fixture(rel: &str) -> String {
    let path = format!("tests/data/cli/{rel}");
    assert!(repo().join(&path).exists(), "fixture {path} is missing");
    path
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("valid hex in the test")
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// A length-delimited field `n` holding `data`.
fn len_field(n: u32, data: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(n) << 3 | 2);
    out.extend(varint(data.len() as u64));
    out.extend_from_slice(data);
    out
}

/// A varint field `n`.
fn varint_field(n: u32, v: u64) -> Vec<u8> {
    let mut out = varint(u64::from(n) << 3);
    out.extend(varint(v));
    out
}

/// `commander encode ARGS`, expecting one line of hex.
#[track_caller]
fn encode_hex(args: &[&str]) -> String {
    let mut all = vec!["encode"];
    all.extend_from_slice(args);
    let r = run(&all);
    r.ok().trim_end().to_owned()
}

/// `commander decode -o jsonl ARGS` lines.
#[track_caller]
fn decode_jsonl(args: &[&str]) -> Vec<String> {
    let mut all = vec!["decode", "-o", "jsonl"];
    all.extend_from_slice(args);
    run(&all).ok().lines().map(str::to_owned).collect()
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// Asserts stderr starts with `error:` and mentions every needle.
#[track_caller]
fn assert_error(stderr: &str, needles: &[&str]) {
    assert!(
        stderr.starts_with("error: "),
        "stderr must start with 'error: ':\n{stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
}

/// The sample command used across the encode/decode tests, and its bytes.
const ENGINE_START_JSON: &str = r#"{"message_id":"abc","subtype":"ENGINE_START","time_stamp":"2024-01-02T03:04:05Z","engine_start":{"run_minutes":15}}"#;
const ENGINE_START_HEX: &str = "0a0361626328014a0608a5facdac06a20102080f";
const ENGINE_START_JSONL: &str = r#"{"message_id":"abc","subtype":"ENGINE_START","time_stamp":"2024-01-02T03:04:05Z","engine_start":{"run_minutes":15}}"#;

/// A CommandResponseMessage (the default decode type): an immobilizer result.
const RESPONSE_HEX: &str = "0a026d31120263311a0a4d4831325646313132312002280a4a0b08d983e2b10610c0a9d33a5801ea010808011204deadbeef";

fn builtin_list() -> String {
    run(&["list"]).ok().to_owned()
}

// ---------------------------------------------------------------------------
// SPEC 2: schemas
// ---------------------------------------------------------------------------

#[test]
fn descriptor_set_is_detected_by_content_whatever_its_name() {
    let dir = TempDir::new("cli-descset");
    for name in ["x.txt", "schema.proto", "no-extension"] {
        let path = dir.path(name);
        std::fs::copy(repo().join("proto/cvp.binpb"), &path).unwrap();
        let path = path.to_str().unwrap();
        let listed = run(&["-s", path, "list"]);
        assert_eq!(listed.ok(), builtin_list(), "{name}");
        let hex = encode_hex(&[
            "-s",
            path,
            "-m",
            "cvp.CommandMessage",
            "--json",
            ENGINE_START_JSON,
        ]);
        assert_eq!(hex, ENGINE_START_HEX, "{name}");
    }
}

#[test]
fn proto_file_is_compiled_at_run_time() {
    let ev = fixture("service/ev.proto");
    assert_eq!(lines(run(&["-s", &ev, "list"]).ok()), ["ts.Ev"]);
    // The schema's own type, not the built-in protocol's.
    let hex = encode_hex(&["-s", &ev, "-m", "Ev", "--json", r#"{"name":"x"}"#]);
    assert_eq!(hex, "120178");
}

#[test]
fn proto_importing_a_well_known_type_needs_no_copy_of_it() {
    let ev = fixture("service/ev.proto");
    let hex = encode_hex(&[
        "-s",
        &ev,
        "-m",
        "ts.Ev",
        "--json",
        r#"{"at":"2024-01-01T00:00:00Z","name":"x"}"#,
    ]);
    assert_eq!(hex, "0a06088081c8ac06120178");
    let back = decode_jsonl(&["-s", &ev, "-m", "ts.Ev", &hex]);
    assert_eq!(back, [r#"{"at":"2024-01-01T00:00:00Z","name":"x"}"#]);
}

#[test]
fn directory_schema_loads_every_proto_below_it() {
    let dir = fixture("two_packages");
    assert_eq!(
        lines(run(&["-s", &dir, "list"]).ok()),
        ["alpha.Ping", "beta.Only", "beta.Ping", "gamma.Deep"]
    );
}

#[test]
fn directory_is_its_own_import_root() {
    // proto/ holds cvp/*.proto, which import each other as "cvp/common.proto".
    let r = run(&["-s", "proto", "list"]);
    assert_eq!(r.ok(), builtin_list());
}

#[test]
fn proto_path_sets_the_import_roots() {
    // proto/cvp alone: its files import "cvp/common.proto", not found there.
    let alone = run(&["-s", "proto/cvp", "list"]);
    assert_error(
        alone.fails_with(1),
        &["cvp/command.proto", "cvp/common.proto", "-I"],
    );

    for flag in ["-I", "--proto-path", "--proto_path"] {
        let r = run(&["-s", "proto/cvp", flag, "proto", "list"]);
        assert_eq!(r.ok(), builtin_list(), "{flag}");
    }

    let route = fixture("imports/app/route.proto");
    let lib = fixture("imports/lib");
    let app = fixture("imports/app");
    let r = run(&["-s", &route, "list"]);
    assert_error(r.fails_with(1), &["route.proto:6:1", "shapes/point.proto"]);
    let r = run(&["-s", &route, "-I", &lib, "-I", &app, "list"]);
    assert_eq!(lines(r.ok()), ["app.Route", "shapes.Point"]);
    let hex = encode_hex(&[
        "-s",
        &route,
        "-I",
        &lib,
        "-I",
        &app,
        "-m",
        "Route",
        "--json",
        r#"{"name":"r","points":[{"x":1,"y":-1}]}"#,
    ]);
    assert_eq!(hex, "0a0172120408021001");
}

#[test]
fn schema_env_var_takes_paths_separated_by_colons() {
    let a = fixture("two_packages/alpha.proto");
    let ev = fixture("service/ev.proto");
    let mut cmd = commander();
    cmd.env("COMMANDER_SCHEMA", format!("{a}:{ev}")).arg("list");
    let r = run_cmd(&mut cmd, b"");
    assert_eq!(lines(r.ok()), ["alpha.Ping", "ts.Ev"]);
}

#[test]
fn schema_flag_is_repeatable() {
    let a = fixture("two_packages/alpha.proto");
    let ev = fixture("service/ev.proto");
    let r = run(&["-s", &a, "--schema", &ev, "list"]);
    assert_eq!(lines(r.ok()), ["alpha.Ping", "ts.Ev"]);
}

#[test]
fn type_names_resolve_full_with_leading_dot_or_by_unique_short_name() {
    for name in [
        "cvp.CommandMessage",
        ".cvp.CommandMessage",
        "CommandMessage",
    ] {
        assert_eq!(
            encode_hex(&["-m", name, "--json", ENGINE_START_JSON]),
            ENGINE_START_HEX,
            "{name}"
        );
        assert_eq!(
            decode_jsonl(&["-m", name, ENGINE_START_HEX]),
            [ENGINE_START_JSONL],
            "{name}"
        );
        let described = run(&["describe", name]);
        assert!(
            described.ok().starts_with("message cvp.CommandMessage "),
            "{name}"
        );
    }
    // A nested type by its partly qualified name.
    let r = run(&["describe", "ChargeControl.Mode"]);
    assert!(r.ok().starts_with("enum cvp.ChargeControl.Mode "));
    // Unique short name in a schema of two packages.
    let r = run(&["-s", &fixture("two_packages"), "describe", "Only"]);
    assert!(r.ok().starts_with("message beta.Only "));
}

#[test]
fn ambiguous_short_name_is_a_usage_error_listing_the_candidates() {
    let dir = fixture("two_packages");
    for args in [
        vec!["-s", &dir, "describe", "Ping"],
        vec!["-s", &dir, "encode", "-m", "Ping", "--json", "{}"],
        vec!["-s", &dir, "decode", "-m", "Ping", "0a00"],
    ] {
        let r = run(&args);
        let err = r.fails_with(2);
        assert_error(err, &["'Ping' is ambiguous", "alpha.Ping", "beta.Ping"]);
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    // Fully qualified, each is found.
    assert!(
        run(&["-s", &dir, "describe", "alpha.Ping"])
            .ok()
            .contains("note")
    );
    assert!(
        run(&["-s", &dir, "describe", ".beta.Ping"])
            .ok()
            .contains("count")
    );
}

#[test]
fn unknown_type_is_a_usage_error_with_the_closest_names() {
    let r = run(&["describe", "CommandMesage"]);
    assert_error(
        r.fails_with(2),
        &[
            "unknown type 'CommandMesage'",
            "did you mean",
            "cvp.CommandMessage",
        ],
    );
    let r = run(&["encode", "-m", "CommandMesage", "--json", "{}"]);
    assert_error(
        r.fails_with(2),
        &["'CommandMesage'", "did you mean", "cvp.CommandMessage"],
    );
    let r = run(&["decode", "-m", "CommandResponceMessage", "0a00"]);
    assert_error(
        r.fails_with(2),
        &[
            "'CommandResponceMessage'",
            "did you mean",
            "cvp.CommandResponseMessage",
        ],
    );
    let r = run(&["-s", &fixture("two_packages"), "describe", "Pong"]);
    assert_error(
        r.fails_with(2),
        &[
            "unknown type 'Pong'",
            "did you mean",
            "alpha.Ping",
            "beta.Ping",
        ],
    );
}

#[test]
fn missing_schema_file_is_an_error_naming_it() {
    let r = run(&["-s", "tests/data/cli/does-not-exist.binpb", "list"]);
    assert_error(
        r.fails_with(1),
        &["tests/data/cli/does-not-exist.binpb", "No such file"],
    );
    assert!(r.stdout.is_empty());
    // A path through a regular file cannot be read either.
    let r = run(&["-s", "Cargo.toml/schema.proto", "list"]);
    assert_error(r.fails_with(1), &["Cargo.toml/schema.proto"]);
}

#[test]
fn unreadable_schema_file_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("cli-unreadable");
    let path = dir.path("locked.binpb");
    std::fs::copy(repo().join("proto/cvp.binpb"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        eprintln!("note: running as root, permissions do not stop reads; skipping");
        return;
    }
    let r = run(&["-s", path.to_str().unwrap(), "list"]);
    assert_error(r.fails_with(1), &["locked.binpb", "ermission denied"]);
}

#[test]
fn bad_descriptor_bytes_are_an_error_naming_the_file() {
    let bad = fixture("bad_descriptor/truncated.binpb");
    let r = run(&["-s", &bad, "list"]);
    assert_error(r.fails_with(1), &[&bad, "descriptor set"]);
    assert!(r.stdout.is_empty());
}

#[test]
fn descriptor_set_missing_its_imports_is_an_error_naming_the_file() {
    let bad = fixture("bad_descriptor/without_imports.binpb");
    let r = run(&["-s", &bad, "list"]);
    assert_error(
        r.fails_with(1),
        &[&bad, "missing.proto", "--include_imports"],
    );
}

#[test]
fn proto_syntax_error_names_file_line_and_column() {
    let bad = fixture("broken_syntax/missing_semicolon.proto");
    let r = run(&["-s", &bad, "list"]);
    assert_error(r.fails_with(1), &[&format!("{bad}:7:1"), "expected ';'"]);
    // The same when the file is found by loading its directory.
    let r = run(&["-s", &fixture("broken_syntax"), "list"]);
    assert_error(r.fails_with(1), &["missing_semicolon.proto:7:1"]);
}

#[test]
fn missing_import_names_file_line_and_column() {
    let bad = fixture("broken_import/missing_import.proto");
    let r = run(&["-s", &bad, "list"]);
    assert_error(
        r.fails_with(1),
        &[&format!("{bad}:5:1"), "nowhere/thing.proto", "not found"],
    );
}

#[test]
fn broken_schema_stops_every_command() {
    let bad = fixture("broken_syntax/missing_semicolon.proto");
    for args in [
        vec!["describe", "M"],
        vec!["encode", "-m", "M", "--json", "{}"],
        vec!["decode", "-m", "M", "0800"],
    ] {
        let mut all = vec!["-s", bad.as_str()];
        all.extend(args);
        let r = run(&all);
        assert_error(r.fails_with(1), &["missing_semicolon.proto:7:1"]);
        assert!(r.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------
// SPEC 3: commands
// ---------------------------------------------------------------------------

#[test]
fn list_prints_the_message_types_one_a_line_sorted() {
    let out = builtin_list();
    let names = lines(&out);
    assert_eq!(names.len(), 48);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(names.iter().all(|n| n.starts_with("cvp.")));
    for expected in [
        "cvp.CommandMessage",
        "cvp.CommandResponseMessage",
        "cvp.VehicleTelemetryMessage",
        "cvp.VehicleTelemetryMessage.TirePressure",
        "cvp.DiagnosticsReport.Dtc",
    ] {
        assert!(names.contains(&expected), "{expected}");
    }
    // Enums are not message types.
    assert!(!names.contains(&"cvp.Priority"));
}

#[test]
fn list_filter_is_a_case_insensitive_substring() {
    let r = run(&["list", "--filter", "GEO"]);
    assert_eq!(
        lines(r.ok()),
        [
            "cvp.GeoPoint",
            "cvp.GeofenceBreach",
            "cvp.SetGeofence",
            "cvp.SetGeofence.Circle",
            "cvp.SetGeofence.Polygon",
            "cvp.SetGeofenceResult",
        ]
    );
    let r = run(&["list", "--filter", "no-such-thing"]);
    assert_eq!(r.ok(), "");
}

#[test]
fn list_enums_prints_enum_types() {
    let r = run(&["list", "--enums"]);
    let out = r.ok();
    let names = lines(out);
    for expected in [
        "cvp.ChargeControl.Mode",
        "cvp.CommandSubtype",
        "cvp.Priority",
        "cvp.ReturnCode",
        "cvp.TheftAlert.Trigger",
    ] {
        assert!(names.contains(&expected), "{expected} in\n{out}");
    }
    assert!(!names.contains(&"cvp.CommandMessage"));
    let r = run(&["list", "--enums", "--filter", "subtype"]);
    assert_eq!(lines(r.ok()), ["cvp.CommandSubtype"]);
}

#[test]
fn list_services_prints_services() {
    let r = run(&["-s", &fixture("service"), "list", "--services"]);
    assert_eq!(lines(r.ok()), ["ts.Svc"]);
    // The sample protocol has none: nothing, and still success.
    assert_eq!(run(&["list", "--services"]).ok(), "");
}

#[test]
fn list_all_includes_the_well_known_types() {
    let ev = fixture("service/ev.proto");
    let plain = run(&["-s", &ev, "list"]).ok().to_owned();
    assert!(!plain.contains("google.protobuf."));
    let all = run(&["-s", &ev, "list", "--all"]).ok().to_owned();
    let names = lines(&all);
    assert!(names.contains(&"google.protobuf.Timestamp"));
    assert!(names.contains(&"ts.Ev"));
    let builtin_all = run(&["list", "--all"]).ok().to_owned();
    assert!(lines(&builtin_all).contains(&"google.protobuf.Duration"));
}

#[test]
fn describe_message_shows_number_name_type_label_oneof_default() {
    let r = run(&["describe", "EngineStart"]);
    let out = r.ok();
    assert!(
        out.starts_with("message cvp.EngineStart (cvp/command.proto)\n"),
        "{out}"
    );
    for header in ["#", "field", "type", "label", "oneof", "default"] {
        assert!(
            out.lines().nth(2).unwrap().contains(header),
            "{header}:\n{out}"
        );
    }
    assert!(out.contains("cabin_target_c"));
    assert!(out.contains("optional"));
    let r = run(&["describe", "CommandMessage"]);
    let row = r
        .ok()
        .lines()
        .find(|l| l.contains(" engine_start "))
        .unwrap()
        .to_owned();
    assert!(
        row.contains("cvp.EngineStart") && row.contains("payload"),
        "{row}"
    );
}

#[test]
fn describe_enum_shows_values_and_numbers() {
    let r = run(&["describe", "ReturnCode"]);
    let out = r.ok();
    assert!(
        out.starts_with("enum cvp.ReturnCode (cvp/response.proto)\n"),
        "{out}"
    );
    let row = out.lines().find(|l| l.contains("UNAUTHORIZED")).unwrap();
    assert!(row.contains(" 8 "), "{row}");
}

#[test]
fn describe_service_shows_methods_and_streaming() {
    let r = run(&["-s", &fixture("service"), "describe", "ts.Svc"]);
    let out = r.ok();
    assert!(out.starts_with("service ts.Svc (ev.proto)\n"), "{out}");
    for (method, streaming) in [("Watch", "server"), ("Upload", "client"), ("Chat", "both")] {
        let row = out.lines().find(|l| l.contains(method)).unwrap();
        assert!(row.contains(streaming), "{row}");
    }
}

#[test]
fn completions_print_a_script_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _commander"),
        ("zsh", "#compdef commander"),
        ("fish", "complete -c commander"),
        ("elvish", "edit:completion:arg-completer[commander]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(&["completions", shell]);
        let out = r.ok();
        assert!(out.contains(marker), "{shell} lacks {marker:?}");
        for sub in ["encode", "decode", "describe"] {
            assert!(out.contains(sub), "{shell} lacks {sub}");
        }
        assert!(r.stderr.is_empty(), "{shell}: {}", r.stderr);
    }
    let r = run(&["completions", "tcsh"]);
    assert_error(r.fails_with(2), &["tcsh"]);
}

#[test]
fn man_prints_a_roff_page() {
    let r = run(&["man"]);
    let out = r.ok();
    assert!(
        out.contains(".TH commander 1"),
        "{}",
        &out[..out.len().min(300)]
    );
    assert!(out.contains(".SH NAME"));
    assert!(out.contains(".SH SYNOPSIS"));
    assert!(out.contains("encode"));
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let r = run(&["frobnicate"]);
    assert_error(r.fails_with(2), &["frobnicate"]);
    let r = run(&["decode", "--output", "yaml", "00"]);
    assert_error(r.fails_with(2), &["yaml"]);
    let r = run(&["decode", "--raw", "-m", "CommandMessage", "00"]);
    assert_error(r.fails_with(2), &["--raw"]);
    let r = run(&["encode", "--json", "{}", "--text", ""]);
    assert_error(r.fails_with(2), &["--text"]);
    let r = run(&["describe"]);
    r.fails_with(2);
}

#[test]
fn help_and_version_succeed() {
    let r = run(&["--help"]);
    assert!(r.ok().contains("Usage: commander"));
    let r = run(&["--version"]);
    assert!(r.ok().starts_with("commander "));
    for sub in ["encode", "decode", "list", "describe", "completions", "man"] {
        let r = run(&[sub, "--help"]);
        assert!(r.ok().contains(&format!("Usage: commander {sub}")), "{sub}");
    }
}

// ---------------------------------------------------------------------------
// SPEC 4: encode
// ---------------------------------------------------------------------------

#[test]
fn encode_json_gives_canonical_hex() {
    assert_eq!(
        encode_hex(&["-m", "CommandMessage", "--json", ENGINE_START_JSON]),
        ENGINE_START_HEX
    );
    // Without -m the built-in profile's command type is used.
    assert_eq!(encode_hex(&["--json", ENGINE_START_JSON]), ENGINE_START_HEX);
}

#[test]
fn encode_accepts_camel_case_and_proto_names_enum_numbers_and_64_bit_strings() {
    let a = encode_hex(&[
        "-m",
        "VehicleTelemetryMessage",
        "--json",
        r#"{"message_id":"t","ambient_temp_c":-7,"ignition":"ON","sequence":"9007199254740993","trip_id":-5}"#,
    ]);
    let b = encode_hex(&[
        "-m",
        "VehicleTelemetryMessage",
        "--json",
        r#"{"messageId":"t","ambientTempC":-7,"ignition":3,"sequence":"9007199254740993","tripId":"-5"}"#,
    ]);
    assert_eq!(a, b);
    assert_eq!(
        a,
        "0a0174588180808080808010780d980103c001fbffffffffffffffff01"
    );
}

#[test]
fn encode_reads_well_known_types_in_their_json_forms() {
    let hex = encode_hex(&[
        "-m",
        "OtaUpdate",
        "--json",
        r#"{"sha256":"3q2+7w==","install_after":"1970-01-01T00:00:01.5Z","max_retries":3}"#,
    ]);
    // sha256 = de ad be ef; install_after {seconds: 1, nanos: 500000000}; max_retries {value: 3}
    assert_eq!(hex, "1204deadbeef320808011080cab5ee0142020803");
    let hex = encode_hex(&["-m", "LocateVehicle", "--json", r#"{"max_age":"1.5s"}"#]);
    assert_eq!(hex, "120808011080cab5ee01");
}

#[test]
fn encode_text_format_gives_the_same_bytes_as_json() {
    let hex = encode_hex(&[
        "-m",
        "CommandMessage",
        "--text",
        r#"message_id: "abc" subtype: ENGINE_START time_stamp { seconds: 1704164645 } engine_start { run_minutes: 15 }"#,
    ]);
    assert_eq!(hex, ENGINE_START_HEX);
}

#[test]
fn encode_reads_a_file_stdin_or_dash() {
    let dir = TempDir::new("cli-encode-file");
    let json = dir.path("cmd.json");
    std::fs::write(&json, ENGINE_START_JSON).unwrap();
    let text = dir.path("cmd.txt");
    std::fs::write(
        &text,
        "message_id: \"abc\"\nsubtype: ENGINE_START\ntime_stamp { seconds: 1704164645 }\nengine_start {\n  run_minutes: 15\n}\n",
    )
    .unwrap();

    assert_eq!(
        encode_hex(&["-m", "CommandMessage", json.to_str().unwrap()]),
        ENGINE_START_HEX
    );
    assert_eq!(
        encode_hex(&["-m", "CommandMessage", text.to_str().unwrap()]),
        ENGINE_START_HEX
    );
    assert_eq!(
        encode_hex(&["-m", "CommandMessage", "-i", "text", text.to_str().unwrap()]),
        ENGINE_START_HEX
    );
    let r = run_with(
        &["encode", "-m", "CommandMessage"],
        ENGINE_START_JSON.as_bytes(),
    );
    assert_eq!(r.ok(), format!("{ENGINE_START_HEX}\n"));
    let r = run_with(
        &["encode", "-m", "CommandMessage", "-"],
        ENGINE_START_JSON.as_bytes(),
    );
    assert_eq!(r.ok(), format!("{ENGINE_START_HEX}\n"));
    let r = run(&["encode", "tests/data/cli/no-such.json"]);
    assert_error(r.fails_with(1), &["tests/data/cli/no-such.json"]);
}

#[test]
fn encode_stream_of_json_lines_gives_one_line_each() {
    let input = "{\"message_id\":\"a\"}\n{\"message_id\":\"bc\"}\n\n{}\n";
    let r = run_with(&["encode", "-m", "CommandMessage"], input.as_bytes());
    // The empty message has no hex digits: it is written '-' (issue 8), so
    // three values in are three lines out, and decode reads three back.
    assert_eq!(r.ok(), "0a0161\n0a026263\n-\n");
    let back = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        r.raw_stdout.as_slice(),
    );
    assert_eq!(
        back.ok(),
        "{\"message_id\":\"a\"}\n{\"message_id\":\"bc\"}\n{}\n"
    );
}

#[test]
fn encode_stream_of_concatenated_values_and_values_over_lines() {
    let input = "{\"message_id\":\"a\"}{\"message_id\":\"bc\"} {\n  \"vehicle_id\": \"c\",\n  \"version\": 3\n}\n";
    let r = run_with(&["encode", "-m", "CommandMessage"], input.as_bytes());
    assert_eq!(r.ok(), "0a0161\n0a026263\n1a01634003\n");
}

#[test]
fn encode_stream_reports_bad_values_with_their_line_and_encodes_the_rest() {
    let input =
        "{\"message_id\":\"a\"}\n{\"message_id\":5x}\n{\"nope\":1}\n{\"message_id\":\"d\"}\n";
    let r = run_with(&["encode", "-m", "CommandMessage"], input.as_bytes());
    assert_eq!(r.stdout, "0a0161\n0a0164\n");
    let err = r.fails_with(1);
    assert_error(err, &["line 2", "line 3", "nope"]);
    assert_eq!(err.matches("error: ").count(), 2, "{err}");
}

#[test]
fn encode_stream_error_gives_one_consistent_position() {
    let input = "{\"message_id\":\"a\"}\n{\"message_id\":5x}\n";
    let r = run_with(&["encode", "-m", "CommandMessage"], input.as_bytes());
    let err = r.fails_with(1);
    assert_error(err, &["line 2"]);
    assert!(!err.contains("line 1"), "the value is on line 2:\n{err}");
}

#[test]
fn encode_base64_is_standard_one_per_line() {
    let input = "{\"message_id\":\"a\"}\n{\"message_id\":\"bc\"}\n";
    let r = run_with(
        &["encode", "-m", "CommandMessage", "-f", "base64"],
        input.as_bytes(),
    );
    assert_eq!(r.ok(), "CgFh\nCgJiYw==\n");
    // + and / (not - and _), with padding.
    let hex = "1206fbefbeffffff";
    let r = run(&[
        "encode",
        "-m",
        "ImmobilizerResult",
        "--json",
        r#"{"challenge":"++++////"}"#,
        "-f",
        "base64",
    ]);
    assert_eq!(r.ok(), "Egb7777///8=\n");
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(unhex(hex)),
        "Egb7777///8="
    );
}

#[test]
fn encode_hex_is_lowercase() {
    let hex = encode_hex(&[
        "-m",
        "ImmobilizerResult",
        "--json",
        r#"{"challenge":"++++////"}"#,
    ]);
    assert_eq!(hex, "1206fbefbeffffff");
}

#[test]
fn encode_binary_framings_byte_for_byte() {
    let input = "{\"message_id\":\"a\"}\n{\"message_id\":\"bc\"}\n";
    let a = unhex("0a0161");
    let bc = unhex("0a026263");
    let cases: [(&str, Vec<u8>); 4] = [
        ("varint", [vec![3], a.clone(), vec![4], bc.clone()].concat()),
        (
            "u16be",
            [vec![0, 3], a.clone(), vec![0, 4], bc.clone()].concat(),
        ),
        (
            "u32be",
            [vec![0, 0, 0, 3], a.clone(), vec![0, 0, 0, 4], bc.clone()].concat(),
        ),
        (
            "u32le",
            [vec![3, 0, 0, 0], a.clone(), vec![4, 0, 0, 0], bc.clone()].concat(),
        ),
    ];
    for (framing, expected) in cases {
        let r = run_with(
            &[
                "encode",
                "-m",
                "CommandMessage",
                "-f",
                "binary",
                "--framing",
                framing,
            ],
            input.as_bytes(),
        );
        r.ok();
        assert_eq!(r.raw_stdout, expected, "{framing}");
    }
    // One message, no framing: the bare bytes.
    let r = run(&["encode", "--json", ENGINE_START_JSON, "-f", "binary"]);
    r.ok();
    assert_eq!(r.raw_stdout, unhex(ENGINE_START_HEX));
    let r = run(&[
        "encode",
        "--json",
        ENGINE_START_JSON,
        "-f",
        "binary",
        "--framing",
        "none",
    ]);
    r.ok();
    assert_eq!(r.raw_stdout, unhex(ENGINE_START_HEX));
}

#[test]
fn encode_varint_frame_of_a_long_message_uses_a_multibyte_prefix() {
    let long = "x".repeat(300);
    let r = run(&[
        "encode",
        "-m",
        "CommandMessage",
        "--json",
        &format!(r#"{{"message_id":"{long}"}}"#),
        "-f",
        "binary",
        "--framing",
        "varint",
    ]);
    r.ok();
    let body = [len_field(1, long.as_bytes())].concat();
    assert_eq!(r.raw_stdout, [varint(body.len() as u64), body].concat());
}

#[test]
fn encode_several_messages_as_unframed_binary_is_a_usage_error() {
    let input = "{\"message_id\":\"a\"}\n{\"message_id\":\"bc\"}\n";
    let r = run_with(
        &["encode", "-m", "CommandMessage", "-f", "binary"],
        input.as_bytes(),
    );
    assert_error(r.fails_with(2), &["--framing"]);
    assert!(r.raw_stdout.is_empty(), "nothing half-written");
}

#[test]
fn encode_refuses_binary_to_a_terminal() {
    // util-linux `script` gives the binary a pseudo-terminal as stdout.
    let script = Path::new("/usr/bin/script");
    if !script.is_file() {
        eprintln!("note: /usr/bin/script not found; skipping the terminal check");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_commander");
    let r = run_cmd(
        std::process::Command::new(script)
            .env_remove("COMMANDER_SCHEMA")
            .args([
                "-qec",
                &format!("{bin} encode --json '{{}}' -f binary"),
                "/dev/null",
            ])
            .env("NO_COLOR", "1"),
        b"",
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("error: ") && r.stdout.contains("terminal"),
        "{}",
        r.stdout
    );
}

#[test]
fn encode_set_scalars_enums_nested_paths_and_repeated_appends() {
    let hex = encode_hex(&[
        "--json",
        r#"{"message_id":"a"}"#,
        "--set",
        "vehicle_id=VIN1",
        "--set",
        "subtype=DOOR_LOCK",
        "--set",
        "version=7",
        "--set",
        "door_lock.doors=FRONT_LEFT",
        "--set",
        "door_lock.doors=TAILGATE",
        "--set",
        "door_lock.arm_alarm=true",
    ]);
    assert_eq!(hex, "0a01611a0456494e3128034007b201060a0201051001");
    // --set overrides what the input said.
    let hex = encode_hex(&[
        "--json",
        r#"{"message_id":"a","version":1}"#,
        "--set",
        "version=2",
    ]);
    assert_eq!(hex, "0a01614002");
    // Enum by number, Timestamp, Duration, bytes.
    let hex = encode_hex(&[
        "--json",
        "{}",
        "--set",
        "priority=3",
        "--set",
        "time_stamp=1970-01-01T00:00:01Z",
        "--set",
        "expires_in=1.5s",
        "--set",
        "immobilizer.authorization_token=deadbeef",
    ]);
    assert_eq!(hex, "30034a0208015a0808011080cab5ee01ea01061a04deadbeef");
}

#[test]
fn encode_set_map_entries_by_dot_or_brackets() {
    let hex = encode_hex(&[
        "--json",
        "{}",
        "--set",
        "climate_control.seat_heaters.driver=true",
        "--set",
        "climate_control.seat_heaters[rear left]=false",
    ]);
    assert_eq!(
        hex,
        "ca011b1a0a0a0664726976657210011a0d0a0972656172206c6566741000"
    );
    let hex = encode_hex(&[
        "-m",
        "DiagnosticsReport",
        "--json",
        r#"{"freeze_frames":{"100":"AQ=="}}"#,
        "--set",
        "freeze_frames.7=0a0b",
        "--set",
        "freeze_frames[8]=utf8:hi",
    ]);
    assert_eq!(hex, "1206080712020a0b120608081202686912050864120101");
}

#[test]
fn encode_bad_set_is_a_usage_error_with_the_reason() {
    for (set, reason) in [
        ("nosuch=1", "no field 'nosuch'"),
        ("version=abc", "not an integer"),
        ("version=99999999999", "out of range"),
        ("subtype=NOPE", "not a value of CommandSubtype"),
        ("version", "FIELD.PATH=VALUE"),
        ("message_id.x=1", "not a message"),
        ("climate_control.seat_heaters.driver=maybe", "not a bool"),
    ] {
        let r = run(&["encode", "--json", "{}", "--set", set]);
        assert_error(r.fails_with(2), &[set.split('=').next().unwrap(), reason]);
        assert!(r.stdout.is_empty(), "{set}");
    }
}

#[test]
fn encode_defaults_fill_the_header_from_the_profile() {
    let r = run(&["encode", "--json", "{}", "--defaults"]);
    let hex = r.ok().trim().to_owned();
    let json = decode_jsonl(&["-m", "CommandMessage", &hex]);
    assert!(
        json[0].contains("\"vehicle_id\":\"MH12VF1121\""),
        "{json:?}"
    );
    assert!(json[0].contains("\"message_id\":"), "{json:?}");
}

#[test]
fn encode_writes_fields_in_number_order_whatever_the_input_order() {
    let reversed = r#"{"engine_start":{"run_minutes":15},"time_stamp":"2024-01-02T03:04:05Z","subtype":"ENGINE_START","message_id":"abc"}"#;
    assert_eq!(encode_hex(&["--json", reversed]), ENGINE_START_HEX);
    let text = r#"engine_start { run_minutes: 15 } subtype: ENGINE_START time_stamp { seconds: 1704164645 } message_id: "abc""#;
    assert_eq!(encode_hex(&["--text", text]), ENGINE_START_HEX);
}

#[test]
fn encode_sorts_map_entries_by_key_the_same_on_every_run() {
    // 26 string keys given in reverse order, and integer keys out of order
    // (sorted by value, not as text).
    let keys: Vec<String> = ('a'..='z').rev().map(|c| format!("seat_{c}")).collect();
    let map = keys
        .iter()
        .map(|k| format!("\"{k}\":true"))
        .collect::<Vec<_>>()
        .join(",");
    let json = format!(r#"{{"seat_heaters":{{{map}}}}}"#);
    let mut sorted = keys.clone();
    sorted.sort();
    let expected: Vec<u8> = sorted
        .iter()
        .flat_map(|k| {
            len_field(
                3,
                &[len_field(1, k.as_bytes()), varint_field(2, 1)].concat(),
            )
        })
        .collect();
    let expected = hex::encode(expected);
    for i in 0..20 {
        assert_eq!(
            encode_hex(&["-m", "ClimateControl", "--json", &json]),
            expected,
            "run {i}"
        );
    }
    let ints = r#"{"freeze_frames":{"100":"AQ==","32":"Ag==","16":"Aw==","4294967295":"BA=="}}"#;
    for i in 0..20 {
        assert_eq!(
            encode_hex(&["-m", "DiagnosticsReport", "--json", ints]),
            "120508101201031205082012010212050864120101120908ffffffff0f120104",
            "run {i}"
        );
    }
    // Strings compare as bytes: "A" < "a" < "z" < "é".
    assert_eq!(
        encode_hex(&[
            "-m",
            "ClimateControl",
            "--json",
            r#"{"seat_heaters":{"é":true,"z":true,"A":false,"a":true}}"#
        ]),
        "1a050a014110001a050a016110011a050a017a10011a060a02c3a91001"
    );
}

#[test]
fn encode_bad_json_is_a_runtime_error() {
    let r = run(&["encode", "--json", r#"{"version":"x"}"#]);
    assert_error(
        r.fails_with(1),
        &["--json", "cvp.CommandMessage", "column 14"],
    );
    let r = run(&["encode", "--json", r#"{"message_id":"#]);
    assert_error(r.fails_with(1), &[]);
    let r = run(&["encode", "--text", "message_id: "]);
    assert_error(r.fails_with(1), &[]);
    assert!(r.stdout.is_empty());
}

// ---------------------------------------------------------------------------
// SPEC 5: decode
// ---------------------------------------------------------------------------

#[test]
fn decode_accepts_every_common_hex_shape() {
    let spaced = "0a 03 61 62 63 28 01 4a 06 08 a5 fa cd ac 06 a2 01 02 08 0f";
    let shapes = [
        ENGINE_START_HEX.to_owned(),
        ENGINE_START_HEX.to_uppercase(),
        format!("0x{ENGINE_START_HEX}"),
        format!("0X{}", ENGINE_START_HEX.to_uppercase()),
        spaced.to_owned(),
        spaced.to_uppercase(),
        spaced.replace(' ', ":"),
        spaced.replace(' ', "-").to_uppercase(),
        spaced
            .split(' ')
            .map(|b| format!("0x{b}"))
            .collect::<Vec<_>>()
            .join(" "),
        format!("  {spaced}  "),
    ];
    for shape in &shapes {
        assert_eq!(
            decode_jsonl(&["-m", "CommandMessage", shape]),
            [ENGINE_START_JSONL],
            "{shape}"
        );
    }
    // The same shapes as lines on stdin.
    let input = shapes.join("\n") + "\n";
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        input.as_bytes(),
    );
    assert_eq!(lines(r.ok()), vec![ENGINE_START_JSONL; shapes.len()]);
}

#[test]
fn decode_accepts_standard_url_safe_and_unpadded_base64() {
    let bytes = unhex("08011206fbefbeffffff");
    let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert_eq!(standard, "CAESBvvvvv///w==");
    let expected = [r#"{"engaged":true,"challenge":"++++////"}"#];
    for literal in [
        standard.clone(),
        standard.trim_end_matches('=').to_owned(),
        standard.replace('+', "-").replace('/', "_"),
        standard
            .replace('+', "-")
            .replace('/', "_")
            .trim_end_matches('=')
            .to_owned(),
    ] {
        assert_eq!(
            decode_jsonl(&["-m", "ImmobilizerResult", &literal]),
            expected,
            "{literal}"
        );
        assert_eq!(
            decode_jsonl(&["-m", "ImmobilizerResult", "-i", "base64", &literal]),
            expected,
            "{literal}"
        );
    }
}

#[test]
fn decode_input_encoding_can_be_forced() {
    // "01" is hex for one byte, or the binary message {priority: 49}.
    let r = run_with(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "-i",
            "binary",
        ],
        b"01",
    );
    assert_eq!(r.ok(), "{\"priority\":49}\n");
    // Forced base64; and a literal that is not hex, forced to hex, fails.
    assert_eq!(
        decode_jsonl(&["--raw", "-i", "base64", "CAE="]),
        [r#"{"1":1}"#]
    );
    let r = run(&["decode", "-i", "hex", "CAE="]);
    assert_error(r.fails_with(1), &["hex"]);
}

#[test]
fn decode_reads_binary_from_file_stdin_or_dash() {
    let dir = TempDir::new("cli-decode-bin");
    let path = dir.path("msg.bin");
    std::fs::write(&path, unhex(ENGINE_START_HEX)).unwrap();
    let p = path.to_str().unwrap();
    assert_eq!(
        decode_jsonl(&["-m", "CommandMessage", "--file", p]),
        [ENGINE_START_JSONL]
    );
    assert_eq!(
        decode_jsonl(&["-m", "CommandMessage", "--file", p, "-i", "binary"]),
        [ENGINE_START_JSONL]
    );
    for args in [
        vec!["decode", "-m", "CommandMessage", "-o", "jsonl"],
        vec![
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "--file",
            "-",
        ],
    ] {
        let r = run_with(&args, &unhex(ENGINE_START_HEX));
        assert_eq!(lines(r.ok()), [ENGINE_START_JSONL], "{args:?}");
    }
    // A text file of hex lines.
    let text = dir.path("msgs.txt");
    std::fs::write(&text, format!("{ENGINE_START_HEX}\n0a0161\n")).unwrap();
    assert_eq!(
        decode_jsonl(&["-m", "CommandMessage", "--file", text.to_str().unwrap()]),
        [ENGINE_START_JSONL, r#"{"message_id":"a"}"#]
    );
    let r = run(&["decode", "--file", "tests/data/cli/no-such.bin"]);
    assert_error(r.fails_with(1), &["tests/data/cli/no-such.bin"]);
}

#[test]
fn decode_text_input_is_one_message_per_line() {
    let expected = [
        r#"{"message_id":"a"}"#,
        r#"{"message_id":"bc"}"#,
        r#"{"message_id":"c"}"#,
    ];
    // Hex lines in any shape, blank lines skipped.
    let input = "0a0161\n\n0A:02:62:63\n  0A 01 63  \n";
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        input.as_bytes(),
    );
    assert_eq!(lines(r.ok()), expected);
    // Base64 lines, with CRLF line ends.
    let input = "CgFh\r\nCgJiYw==\r\n\r\nCgFj\r\n";
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        input.as_bytes(),
    );
    assert_eq!(lines(r.ok()), expected);
    // Positional literals: one message each.
    assert_eq!(
        decode_jsonl(&["-m", "CommandMessage", "0a0161", "CgJiYw=="]),
        [r#"{"message_id":"a"}"#, r#"{"message_id":"bc"}"#]
    );
}

fn framed(framing: &str, msgs: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        let n = m.len();
        match framing {
            "varint" => out.extend(varint(n as u64)),
            "u16be" => out.extend((n as u16).to_be_bytes()),
            "u32be" => out.extend((n as u32).to_be_bytes()),
            "u32le" => out.extend((n as u32).to_le_bytes()),
            _ => unreachable!(),
        }
        out.extend_from_slice(m);
    }
    out
}

#[test]
fn decode_splits_binary_and_hex_streams_by_each_framing() {
    let a = unhex("0a0161");
    let long = len_field(1, "y".repeat(200).as_bytes());
    let expected = [
        r#"{"message_id":"a"}"#.to_owned(),
        format!(r#"{{"message_id":"{}"}}"#, "y".repeat(200)),
        r#"{"message_id":"a"}"#.to_owned(),
    ];
    for framing in ["varint", "u16be", "u32be", "u32le"] {
        let stream = framed(framing, &[&a, &long, &a]);
        let args = [
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "--framing",
            framing,
        ];
        let r = run_with(&args, &stream);
        assert_eq!(lines(r.ok()), expected, "binary {framing}");
        // Hex over several lines is one byte stream when framed.
        let hex = hex::encode(&stream);
        let (x, y) = hex.split_at(7 * 2);
        let input = format!("{x}\n{}\n", y.to_uppercase());
        let r = run_with(&args, input.as_bytes());
        assert_eq!(lines(r.ok()), expected, "hex lines {framing}");
        // And a literal.
        let mut lit = args.to_vec();
        lit.push(&hex);
        assert_eq!(lines(run(&lit).ok()), expected, "literal {framing}");
    }
}

#[test]
fn decode_framed_stream_with_a_bad_message_reports_its_offset_and_goes_on() {
    let stream = [
        framed("varint", &[&unhex("0a0161")]),
        framed("varint", &[&unhex("0a05ff")]),
        framed("varint", &[&unhex("0a026263")]),
    ]
    .concat();
    let r = run_with(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "--framing",
            "varint",
        ],
        &stream,
    );
    assert_eq!(
        lines(&r.stdout),
        [r#"{"message_id":"a"}"#, r#"{"message_id":"bc"}"#]
    );
    assert_error(r.fails_with(1), &["byte offset 4"]);
}

#[test]
fn decode_truncated_frame_reports_its_offset_after_the_good_ones() {
    let stream = [framed("u16be", &[&unhex("0a0161")]), vec![0, 9, 0x0a]].concat();
    let r = run_with(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "--framing",
            "u16be",
        ],
        &stream,
    );
    assert_eq!(lines(&r.stdout), [r#"{"message_id":"a"}"#]);
    assert_error(r.fails_with(1), &["byte offset 5", "9 bytes"]);
}

#[test]
fn decode_keeps_going_after_bad_lines() {
    let input = "0a0161\nzz-not-hex!!\n0a05ff\n\n0a026263\n";
    for output in ["jsonl", "json", "text", "table"] {
        let r = run_with(
            &["decode", "-m", "CommandMessage", "-o", output],
            input.as_bytes(),
        );
        assert!(
            r.stdout.contains("bc"),
            "{output}: the good message after the bad ones:\n{}",
            r.stdout
        );
        let err = r.fails_with(1);
        assert_error(err, &["line 2", "line 3"]);
        assert_eq!(err.matches("error: ").count(), 2, "{output}:\n{err}");
    }
    let r = run_with(
        &["decode", "-m", "CommandMessage", "-o", "jsonl"],
        input.as_bytes(),
    );
    assert_eq!(
        lines(&r.stdout),
        [r#"{"message_id":"a"}"#, r#"{"message_id":"bc"}"#]
    );
}

#[test]
fn decode_keeps_going_after_bad_literals() {
    let r = run(&[
        "decode",
        "-m",
        "CommandMessage",
        "-o",
        "jsonl",
        "0a0161",
        "zz",
        "0a05ff",
        "0a026263",
    ]);
    assert_eq!(
        lines(&r.stdout),
        [r#"{"message_id":"a"}"#, r#"{"message_id":"bc"}"#]
    );
    assert_error(r.fails_with(1), &["argument 2", "argument 3"]);
}

#[test]
fn decode_output_json_is_pretty_and_jsonl_compact() {
    let r = run(&["decode", "-o", "json", RESPONSE_HEX]);
    assert_eq!(
        r.ok(),
        r#"{
  "message_id": "m1",
  "correlation_id": "c1",
  "vehicle_id": "MH12VF1121",
  "type": "COMMAND_RESPONSE",
  "subtype": "IMMOBILIZER",
  "time_stamp": "2024-05-06T07:08:09.123Z",
  "return_code": "SUCCESS",
  "immobilizer": {
    "engaged": true,
    "challenge": "3q2+7w=="
  }
}
"#
    );
    let r = run(&["decode", "-o", "jsonl", RESPONSE_HEX, RESPONSE_HEX]);
    let one = r#"{"message_id":"m1","correlation_id":"c1","vehicle_id":"MH12VF1121","type":"COMMAND_RESPONSE","subtype":"IMMOBILIZER","time_stamp":"2024-05-06T07:08:09.123Z","return_code":"SUCCESS","immobilizer":{"engaged":true,"challenge":"3q2+7w=="}}"#;
    assert_eq!(r.ok(), format!("{one}\n{one}\n"));
}

#[test]
fn decode_output_text_is_protobuf_text_format() {
    let r = run(&["decode", "-o", "text", RESPONSE_HEX]);
    assert_eq!(
        r.ok(),
        r#"message_id: "m1"
correlation_id: "c1"
vehicle_id: "MH12VF1121"
type: COMMAND_RESPONSE
subtype: IMMOBILIZER
time_stamp {
  seconds: 1714979289
  nanos: 123000000
}
return_code: SUCCESS
immobilizer {
  engaged: true
  challenge: "\336\255\276\357"
}
"#
    );
    // What decode prints as text, encode reads back to the same bytes.
    let text = r.stdout.clone();
    assert_eq!(
        encode_hex(&["-m", "CommandResponseMessage", "--text", &text]),
        RESPONSE_HEX
    );
}

#[test]
fn decode_emit_defaults_shows_every_field() {
    let r = run(&[
        "decode",
        "-o",
        "jsonl",
        "--emit-defaults",
        "-m",
        "EngineStart",
        "080f",
    ]);
    let out = r.ok();
    assert!(out.contains(r#""run_minutes":15"#), "{out}");
    // Not the optional field, which is unset rather than zero.
    let r = run(&[
        "decode",
        "-o",
        "jsonl",
        "--emit-defaults",
        "-m",
        "GeoPoint",
        "",
    ]);
    assert_eq!(
        r.ok(),
        "{\"latitude\":0.0,\"longitude\":0.0,\"altitude_m\":0.0,\"heading_deg\":0.0,\"accuracy_m\":0}\n"
    );
    let r = run(&["decode", "-o", "jsonl", "-m", "GeoPoint", ""]);
    assert_eq!(r.ok(), "{}\n");
    let r = run(&["decode", "--emit-defaults", RESPONSE_HEX]);
    let out = r.ok();
    assert!(out.contains("PRIORITY_UNSPECIFIED (0)"), "{out}");
    assert!(out.contains(" version "), "{out}");
}

#[test]
fn decode_camel_case_keys() {
    let r = run(&["decode", "-o", "jsonl", "--camel-case", RESPONSE_HEX]);
    let out = r.ok();
    assert!(out.contains(r#""messageId":"m1""#), "{out}");
    assert!(
        out.contains(r#""timeStamp":"2024-05-06T07:08:09.123Z""#),
        "{out}"
    );
    assert!(out.contains(r#""returnCode":"SUCCESS""#), "{out}");
    assert!(!out.contains("message_id"), "{out}");
}

#[test]
fn decode_without_message_type_uses_the_command_response() {
    let r = run(&["decode", RESPONSE_HEX]);
    assert!(
        r.ok()
            .starts_with("cvp.CommandResponseMessage · 50 bytes\n"),
        "{}",
        r.stdout
    );
    assert_eq!(
        decode_jsonl(&[RESPONSE_HEX]),
        decode_jsonl(&["-m", "cvp.CommandResponseMessage", RESPONSE_HEX])
    );
}

#[test]
fn decode_table_shows_enums_timestamps_bytes_as_users_read_them() {
    let r = run(&["decode", RESPONSE_HEX]);
    let out = r.ok();
    for cell in [
        "COMMAND_RESPONSE (2)",
        "IMMOBILIZER (10)",
        "SUCCESS (1)",
        "2024-05-06T07:08:09.123Z",
        "deadbeef",
    ] {
        assert!(out.contains(cell), "{cell}:\n{out}");
    }
    // An enum number the schema does not know is still shown.
    let r = run(&["decode", "-m", "CommandMessage", "2863"]);
    assert!(
        r.ok().contains("99 (not in CommandSubtype)"),
        "{}",
        r.stdout
    );
}

#[test]
fn decode_lists_unknown_fields_in_tables() {
    // A CommandResponseMessage read as a VehicleEventMessage, which has no
    // fields 5 and 29.
    let r = run(&["decode", "-m", "VehicleEventMessage", RESPONSE_HEX]);
    let out = r.ok();
    let unknown: Vec<&str> = out.lines().filter(|l| l.contains("(unknown)")).collect();
    assert_eq!(unknown.len(), 2, "{out}");
    assert!(
        unknown[0].contains(" 5 ") && unknown[0].contains("10"),
        "{out}"
    );
    assert!(unknown[1].contains(" 29 "), "{out}");
    assert!(
        out.contains("deadbeef"),
        "the unknown sub-message's bytes are shown:\n{out}"
    );
    // Text format keeps them by number too.
    let r = run(&[
        "decode",
        "-m",
        "VehicleEventMessage",
        "-o",
        "text",
        RESPONSE_HEX,
    ]);
    assert!(r.ok().contains("\n5: 10\n29 {\n"), "{}", r.stdout);
}

#[test]
fn decode_raw_guesses_strings_messages_and_packed_numbers() {
    let hex = encode_hex(&[
        "-m",
        "HighSpeedTelemetryMessage",
        "--json",
        r#"{"message_id":"hs","accel_x_mg":[1,-2,300],"window_start":"2024-01-01T00:00:00Z"}"#,
    ]);
    assert_eq!(hex, "0a0268735a06088081c8ac066a040203d804");
    let r = run(&["decode", "--raw", "-o", "text", &hex]);
    assert_eq!(
        r.ok(),
        "1: \"hs\"\n11 {\n  1: 1704067200\n}\n13: \"\\002\\003\\330\\004\"  # packed varints? [2, 3, 600]\n"
    );
    let r = run(&["decode", "--raw", "-o", "jsonl", &hex]);
    assert_eq!(
        r.ok(),
        "{\"1\":\"hs\",\"11\":{\"1\":1704067200},\"13\":\"0203d804\"}\n"
    );
    let r = run(&["decode", "--raw", &hex]);
    let out = r.ok();
    assert!(out.starts_with("(no schema) · 18 bytes\n"), "{out}");
    assert!(
        out.contains("len (text)") && out.contains("\"hs\""),
        "{out}"
    );
    assert!(out.contains("len (message)"), "{out}");
    assert!(out.contains("packed varints? [2, 3, 600]"), "{out}");
    // The protoc spelling.
    let r = run(&["decode", "--decode_raw", "-o", "jsonl", &hex]);
    assert_eq!(
        r.ok(),
        "{\"1\":\"hs\",\"11\":{\"1\":1704067200},\"13\":\"0203d804\"}\n"
    );
}

#[test]
fn decode_raw_guesses_packed_fixed_width_numbers() {
    // HighSpeedTelemetryMessage: wheel_ticks (fixed32) [1, 2], latitude (double) [1.5].
    let r = run(&[
        "decode",
        "--raw",
        "-o",
        "text",
        "9201080100000002000000a20108000000000000f83f",
    ]);
    let out = r.ok();
    assert!(out.contains("[1, 2]"), "fixed32 reading:\n{out}");
    assert!(out.contains("1.5"), "double reading:\n{out}");
}

#[test]
fn decode_raw_shows_fixed_width_values() {
    // field 1 fixed64 = 1.5 as double, field 2 fixed32 = 1.5 as float.
    let r = run(&[
        "decode",
        "--raw",
        "-o",
        "text",
        "09000000000000f83f150000c03f",
    ]);
    let out = r.ok();
    assert!(out.contains("1: 0x3ff8000000000000"), "{out}");
    assert!(out.contains("2: 0x3fc00000"), "{out}");
    assert!(out.contains("1.5"), "{out}");
}

#[test]
fn decode_bad_message_is_a_runtime_error_with_where_it_breaks() {
    let r = run(&["decode", "-m", "CommandMessage", "0a05ff"]);
    assert_error(r.fails_with(1), &["cvp.CommandMessage", "length"]);
    assert!(r.stdout.is_empty());
    let r = run(&["decode", "--raw", "0a05ff"]);
    assert_error(r.fails_with(1), &["length"]);
}

// ---------------------------------------------------------------------------
// Snapshots: tables and errors exactly as users see them (tests/cmd/*.toml)
// ---------------------------------------------------------------------------

#[test]
fn snapshots() {
    trycmd::TestCases::new()
        .register_bin("commander", PathBuf::from(env!("CARGO_BIN_EXE_commander")))
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .case("tests/cmd/*.toml");
}

#[test]
fn snapshot_cases_do_not_inherit_a_schema_from_the_environment() {
    // trycmd can only add variables globally; each case removes this one.
    for entry in std::fs::read_dir(repo().join("tests/cmd")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains(r#"env.remove = ["COMMANDER_SCHEMA"]"#),
                "{} must remove COMMANDER_SCHEMA",
                Path::new(&path).display()
            );
        }
    }
}

/// README "Profiles": the acme example's commander.toml gives the schema,
/// the types and the header defaults, copies included.
#[test]
fn the_readme_profile_example_fills_the_header() {
    let dir = support::repo().join("examples/acme");
    let mut cmd = support::commander();
    cmd.current_dir(&dir).args([
        "encode",
        "--defaults",
        "--json",
        "{}",
        "--set",
        "header.op=SET_LEVEL",
        "--set",
        "body.set_level.level=-3",
    ]);
    let encoded = support::run_cmd(&mut cmd, b"");
    let hex = encoded.ok().trim().to_owned();
    let mut cmd = support::commander();
    cmd.current_dir(&dir)
        .args(["decode", "-m", "Envelope", "-o", "json", &hex]);
    let decoded = support::run_cmd(&mut cmd, b"");
    let json: serde_json::Value = serde_json::from_str(decoded.ok()).unwrap();
    let header = &json["header"];
    let id = header["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "{json}");
    assert_eq!(header["reply_to"], format!("cmd-{id}"));
    assert_eq!(header["device"], "unit-7");
    assert_eq!(header["op"], "SET_LEVEL");
    assert!(header["sent_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json["body"]["set_level"]["level"], -3);
    // Without -m, decode reads the profile's response type.
    let mut cmd = support::commander();
    cmd.current_dir(&dir).args(["decode", "1001"]);
    let table = support::run_cmd(&mut cmd, b"");
    assert!(
        table.ok().starts_with("acme.Reply · 2 bytes"),
        "{}",
        table.stdout
    );
}
