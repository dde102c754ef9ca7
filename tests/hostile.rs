//! Hostile bytes and inputs against the built binary (SPEC 5: "never panics,
//! loops forever or allocates without bound"): random and mutated messages,
//! every truncation of real ones, 100000-level nesting in bytes, JSON and text
//! format, absurd length prefixes, invalid UTF-8 and overlong varints.
//!
//! Every run here has a time limit; a run that exceeds it is killed and the
//! test fails. A failure is exit 1 with `error: ...` on stderr, never a panic,
//! a signal or a stack overflow.

mod support;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::random::Rng;
use support::{Run, TempDir, commander};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const FORMATS: [&str; 4] = ["table", "json", "jsonl", "text"];

/// Runs `commander ARGS` with `stdin`, killing it after `limit`.
#[track_caller]
fn run_limited(args: &[&str], stdin: &[u8], limit: Duration) -> Run {
    let mut child = commander()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the commander binary runs");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    // Keep only the first 4 MiB of stdout: enough to look at, bounded.
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            if kept.len() < 4 << 20 {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        kept
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("commander {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let raw_stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&raw_stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        raw_stdout,
    }
}

/// Asserts a clean end: exit 0, or exit 1 with an `error:` on stderr; never
/// a panic, signal or stack overflow.
#[track_caller]
fn assert_clean(r: &Run, what: &str) {
    assert!(
        r.code == 0 || r.code == 1,
        "{what}: exit {} (a signal is -1)\nstderr:\n{}",
        r.code,
        tail(&r.stderr)
    );
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "overflowed its stack",
        "fatal runtime error",
    ] {
        assert!(
            !r.stderr.contains(bad),
            "{what}: {bad}\n{}",
            tail(&r.stderr)
        );
    }
    if r.code == 1 {
        assert!(
            r.stderr.contains("error: "),
            "{what}: exit 1 without an error message"
        );
    }
}

/// Asserts exit 1 with an error mentioning every needle.
#[track_caller]
fn assert_fails(r: &Run, what: &str, needles: &[&str]) {
    assert_clean(r, what);
    assert_eq!(
        r.code,
        1,
        "{what}: expected exit 1\nstdout:\n{}",
        tail(&r.stdout)
    );
    assert!(
        r.stderr.starts_with("error: "),
        "{what}:\n{}",
        tail(&r.stderr)
    );
    for n in needles {
        assert!(
            r.stderr.contains(n),
            "{what}: stderr lacks {n:?}:\n{}",
            tail(&r.stderr)
        );
    }
}

fn tail(s: &str) -> &str {
    let cut = s.len().saturating_sub(2000);
    let cut = (cut..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[cut..]
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

fn len_field(n: u32, data: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(n) << 3 | 2);
    out.extend(varint(data.len() as u64));
    out.extend_from_slice(data);
    out
}

/// `depth` levels of `prefix + LEN(field) + next level`, around `core`,
/// built in O(total size): lengths are computed inside-out first, then the
/// bytes are written outside-in.
fn nested(depth: usize, field: u32, prefix: &[u8], core: &[u8]) -> Vec<u8> {
    let key = varint(u64::from(field) << 3 | 2);
    // sizes[i]: the length of what level i's length prefix covers.
    let mut sizes = Vec::with_capacity(depth);
    let mut inner = core.len();
    for _ in 0..depth {
        sizes.push(inner);
        inner += prefix.len() + key.len() + varint(inner as u64).len();
    }
    let mut out = Vec::with_capacity(inner);
    for &size in sizes.iter().rev() {
        out.extend_from_slice(prefix);
        out.extend_from_slice(&key);
        out.extend(varint(size as u64));
    }
    out.extend_from_slice(core);
    assert_eq!(out.len(), inner);
    out
}

const ENGINE_START_HEX: &str = "0a0361626328014a0608a5facdac06a20102080f";
const RESPONSE_HEX: &str = "0a026d31120263311a0a4d4831325646313132312002280a4a0b08d983e2b10610c0a9d33a5801ea010808011204deadbeef";
const DIAGNOSTICS_HEX: &str = "0a04722d34321204632d34321a0a4d4831325646313132312002280d40034a0608c89487af0658018202630a1b0a0550303330311010180120022a0c0880d0fbae061080cab5ee010a090a0555303130301020120608101202dead12060820120201021a170801120767617465776179220a08101206656e67696e652124faffffffffffff29ffffffffffffffff";
const TELEMETRY_HEX: &str = "0a03742d311a0a4d4831325646313132312003588180808080808010621709a1d634ef3885324011ed9e3c2cd47652401d00200c446d00002942715839b4c8d61cc840780d980103a2010b0a02464c15008066431803aa01120a07636f6f6c616e74110000000000005640aa01130a086f696c5f74656d70110000000000e05740b00100ba0104000102ffc001fbffffffffffffffff01";
const HIGH_SPEED_HEX: &str =
    "0a0268735a06088081c8ac066a040203d8049201080100000002000000a20108000000000000f83f";

/// Real messages and their types.
fn valid() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("cvp.CommandMessage", ENGINE_START_HEX),
        ("cvp.CommandResponseMessage", RESPONSE_HEX),
        ("cvp.CommandResponseMessage", DIAGNOSTICS_HEX),
        ("cvp.VehicleTelemetryMessage", TELEMETRY_HEX),
        ("cvp.HighSpeedTelemetryMessage", HIGH_SPEED_HEX),
    ]
    .into_iter()
    .map(|(t, h)| (t, hex::decode(h).unwrap()))
    .collect()
}

/// One hostile input for a seed: random bytes, a mutated real message, or a
/// soup of plausible field keys with lengths that may lie.
fn hostile_input(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let sizes = [1usize, 2, 3, 5, 8, 13, 32, 100, 257, 1000, 4096];
    match seed % 3 {
        0 => {
            let n = *rng.pick(&sizes);
            (0..n).map(|_| rng.next_u64() as u8).collect()
        }
        1 => {
            let all = valid();
            let mut m = rng.pick(&all).1.clone();
            for _ in 0..=rng.below(4) {
                let i = rng.below(m.len() as u64) as usize;
                match rng.below(4) {
                    0 => m[i] = rng.next_u64() as u8,
                    1 => m[i] ^= 1 << rng.below(8),
                    2 => m.insert(i, rng.next_u64() as u8),
                    _ => {
                        m.remove(i);
                        if m.is_empty() {
                            m.push(0xff);
                        }
                    }
                }
            }
            m
        }
        _ => {
            let mut m = Vec::new();
            for _ in 0..=rng.below(12) {
                let field = 1 + rng.below(40);
                let wire = if rng.chance(5) {
                    rng.below(8)
                } else {
                    *rng.pick(&[0, 1, 2, 5])
                };
                m.extend(varint(field << 3 | wire));
                match wire {
                    0 => m.extend(varint(rng.next_u64() >> rng.below(64))),
                    1 => m.extend(rng.next_u64().to_le_bytes()),
                    5 => m.extend((rng.next_u64() as u32).to_le_bytes()),
                    2 => {
                        let n = rng.below(20) as usize;
                        let claimed = if rng.chance(15) {
                            n as u64 + rng.below(1 << 40)
                        } else {
                            n as u64
                        };
                        m.extend(varint(claimed));
                        m.extend((0..n).map(|_| rng.next_u64() as u8));
                    }
                    _ => {}
                }
            }
            m
        }
    }
}

fn hex_lines(inputs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = String::new();
    for i in inputs {
        out.push_str(&hex::encode(i));
        out.push('\n');
    }
    out.into_bytes()
}

/// Asserts that every input line was either printed or reported: nothing
/// dropped silently.
#[track_caller]
fn assert_each_accounted_for(r: &Run, n: usize, what: &str) {
    let errors = r.stderr.matches("error: ").count();
    let printed = r.stdout.lines().count();
    assert_eq!(
        printed + errors,
        n,
        "{what}: {printed} printed + {errors} errors"
    );
    assert_eq!(r.code, i32::from(errors > 0), "{what}: exit status");
}

const LIMIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// random and mutated bytes
// ---------------------------------------------------------------------------

const SEEDS: u64 = 300;

#[test]
fn random_bytes_as_hex_lines_never_crash_decode_in_any_format() {
    let inputs: Vec<Vec<u8>> = (0..SEEDS).map(hostile_input).collect();
    let stdin = hex_lines(&inputs);
    for mode in [
        &["-m", "cvp.CommandResponseMessage"][..],
        &["-m", "cvp.VehicleTelemetryMessage"][..],
        &["--raw"][..],
    ] {
        for format in FORMATS {
            let mut args = vec!["decode", "-i", "hex", "-o", format];
            args.extend_from_slice(mode);
            let r = run_limited(&args, &stdin, LIMIT);
            let what = format!("{mode:?} -o {format}");
            assert_clean(&r, &what);
            if format == "jsonl" {
                assert_each_accounted_for(&r, inputs.len(), &what);
            }
        }
    }
}

#[test]
fn random_bytes_as_a_framed_stream_never_crash_decode() {
    let inputs: Vec<Vec<u8>> = (0..SEEDS).map(hostile_input).collect();
    let mut stream = Vec::new();
    for i in &inputs {
        stream.extend(varint(i.len() as u64));
        stream.extend_from_slice(i);
    }
    for mode in [&["-m", "cvp.CommandResponseMessage"][..], &["--raw"][..]] {
        for format in FORMATS {
            let mut args = vec!["decode", "--framing", "varint", "-o", format];
            args.extend_from_slice(mode);
            let r = run_limited(&args, &stream, LIMIT);
            let what = format!("framed {mode:?} -o {format}");
            assert_clean(&r, &what);
            if format == "jsonl" {
                assert_each_accounted_for(&r, inputs.len(), &what);
            }
        }
    }
    // The raw stream read without its framing: garbage, handled.
    let r = run_limited(&["decode", "-i", "binary", "--raw"], &stream, LIMIT);
    assert_clean(&r, "unframed stream");
}

#[test]
fn random_bytes_as_one_binary_message_never_crash_decode() {
    for seed in 0..40 {
        let input = hostile_input(seed);
        let format = FORMATS[seed as usize % FORMATS.len()];
        for mode in [&["-m", "cvp.CommandResponseMessage"][..], &["--raw"][..]] {
            let mut args = vec!["decode", "-i", "binary", "-o", format];
            args.extend_from_slice(mode);
            let r = run_limited(&args, &input, LIMIT);
            assert_clean(&r, &format!("seed {seed} {mode:?} -o {format}"));
        }
        // And with input detection left to commander.
        let r = run_limited(&["decode", "-o", format], &input, LIMIT);
        assert_clean(&r, &format!("seed {seed} auto -o {format}"));
    }
}

#[test]
fn random_text_never_crashes_decode_input_detection() {
    let mut rng = Rng::new(7);
    let alphabet = b"0123456789abcdefABCDEFxX:- \t+/=_-ghzQ\r";
    let mut stdin = Vec::new();
    let mut n = 0;
    for _ in 0..300 {
        let len = 1 + rng.below(60) as usize;
        let line: Vec<u8> = (0..len).map(|_| *rng.pick(alphabet)).collect();
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        stdin.extend(line);
        stdin.push(b'\n');
        n += 1;
    }
    assert!(n > 250);
    for format in FORMATS {
        let r = run_limited(&["decode", "--raw", "-o", format], &stdin, LIMIT);
        assert_clean(&r, &format!("-o {format}"));
    }
}

#[test]
fn every_truncation_of_real_messages_is_decoded_or_reported() {
    for (ty, msg) in valid() {
        let prefixes: Vec<Vec<u8>> = (1..msg.len()).map(|n| msg[..n].to_vec()).collect();
        let stdin = hex_lines(&prefixes);
        for mode in [&["-m", ty][..], &["--raw"][..]] {
            for format in FORMATS {
                let mut args = vec!["decode", "-o", format];
                args.extend_from_slice(mode);
                let r = run_limited(&args, &stdin, LIMIT);
                let what = format!("{ty} prefixes {mode:?} -o {format}");
                assert_clean(&r, &what);
                if format == "jsonl" {
                    assert_each_accounted_for(&r, prefixes.len(), &what);
                    if mode[0] == "-m" {
                        assert!(r.code == 1, "{what}: some truncations must fail");
                    }
                }
            }
        }
        // The whole message still decodes.
        let r = run_limited(
            &["decode", "-m", ty, "-o", "jsonl", &hex::encode(&msg)],
            b"",
            LIMIT,
        );
        assert_eq!(r.code, 0, "{ty}: {}", r.stderr);
    }
}

#[test]
fn every_truncation_of_a_framed_stream_is_reported_with_its_offset() {
    let msg = hex::decode(RESPONSE_HEX).unwrap();
    let mut stream = varint(msg.len() as u64);
    stream.extend_from_slice(&msg);
    stream.extend(varint(msg.len() as u64));
    stream.extend_from_slice(&msg);
    for cut in 1..stream.len() {
        let r = run_limited(
            &[
                "decode",
                "--framing",
                "varint",
                "-o",
                "jsonl",
                "-i",
                "binary",
            ],
            &stream[..cut],
            LIMIT,
        );
        let what = format!("cut at {cut}");
        assert_clean(&r, &what);
        if cut != msg.len() + 1 {
            assert_fails(&r, &what, &["byte offset"]);
        } else {
            assert_eq!(r.code, 0, "{what}: one whole frame");
        }
    }
}

// ---------------------------------------------------------------------------
// nesting
// ---------------------------------------------------------------------------

const DEEP: usize = 100_000;

/// EcuNode.children (field 4) 100000 levels deep.
fn deep_ecu_nodes() -> Vec<u8> {
    nested(DEEP, 4, &[], &[])
}

#[test]
fn nested_builder_matches_the_naive_construction() {
    let mut naive = Vec::new();
    for _ in 0..300 {
        naive = len_field(4, &naive);
    }
    assert_eq!(nested(300, 4, &[], &[]), naive);
    let mut naive = b"core".to_vec();
    for _ in 0..200 {
        naive = [b"pp".to_vec(), len_field(2, &naive)].concat();
    }
    assert_eq!(nested(200, 2, b"pp", b"core"), naive);
}

#[test]
fn decode_rejects_100000_level_nesting_with_a_schema() {
    let deep = deep_ecu_nodes();
    for format in FORMATS {
        let r = run_limited(
            &["decode", "-m", "EcuNode", "-i", "binary", "-o", format],
            &deep,
            LIMIT,
        );
        assert_fails(
            &r,
            &format!("-o {format}"),
            &["cvp.EcuNode", "recursion limit"],
        );
        assert!(r.stdout.is_empty());
    }
    // Inside a reply, framed, as hex.
    let reply = [len_field(32, &len_field(3, &deep))].concat();
    let mut framed = varint(reply.len() as u64);
    framed.extend_from_slice(&reply);
    let r = run_limited(
        &["decode", "--framing", "varint", "-o", "jsonl"],
        hex::encode(&framed).as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "framed reply", &["recursion limit"]);
}

#[test]
fn decode_raw_survives_100000_level_nesting() {
    let deep = deep_ecu_nodes();
    for format in ["json", "jsonl", "text"] {
        let r = run_limited(
            &["decode", "--raw", "-i", "binary", "-o", format],
            &deep,
            LIMIT,
        );
        assert_clean(&r, &format!("--raw -o {format}"));
    }
}

#[test]
fn decode_raw_table_survives_100000_level_nesting() {
    let deep = deep_ecu_nodes();
    let r = run_limited(
        &["decode", "--raw", "-i", "binary"],
        &deep,
        Duration::from_secs(10),
    );
    assert_clean(&r, "--raw -o table");
    let r = run_limited(
        &["decode", "--raw", "-i", "binary"],
        &nested(1000, 4, &[], &[]),
        Duration::from_secs(5),
    );
    assert_clean(&r, "--raw -o table, 1000 levels");
}

#[test]
fn decode_rejects_100000_level_nested_groups() {
    // Field 1 start-group 100000 times, then as many end-groups; and unclosed.
    let closed = [vec![0x0b; DEEP], vec![0x0c; DEEP]].concat();
    let open = vec![0x0b; DEEP];
    for (name, bytes) in [("closed", &closed), ("unclosed", &open)] {
        for mode in [&["-m", "CommandMessage"][..], &["--raw"][..]] {
            for format in FORMATS {
                let mut args = vec!["decode", "-i", "binary", "-o", format];
                args.extend_from_slice(mode);
                let r = run_limited(&args, bytes, LIMIT);
                assert_fails(&r, &format!("{name} groups {mode:?} -o {format}"), &[]);
            }
        }
    }
}

/// google.protobuf.Any holding an Any holding an Any ... `depth` levels.
fn deep_any(depth: usize) -> Vec<u8> {
    let url = len_field(1, b"type.googleapis.com/google.protobuf.Any");
    let core = len_field(1, b"type.googleapis.com/wkt.Holder");
    // Holder.any (field 2) -> Any.value (field 2) -> ...
    nested(1, 2, &[], &nested(depth, 2, &url, &core))
}

#[test]
fn decode_rejects_deeply_nested_any() {
    let deep = deep_any(5000);
    for format in ["json", "jsonl", "text", "table"] {
        let r = run_limited(
            &[
                "-s",
                "tests/data/cli/wkt/holder.proto",
                "decode",
                "-m",
                "wkt.Holder",
                "-i",
                "binary",
                "-o",
                format,
            ],
            &deep,
            Duration::from_secs(10),
        );
        assert_fails(&r, &format!("-o {format}"), &[]);
    }
}

#[test]
fn decode_shows_moderately_nested_any() {
    // 20 levels: fine in every format.
    let bytes = deep_any(20);
    for format in FORMATS {
        let r = run_limited(
            &[
                "-s",
                "tests/data/cli/wkt/holder.proto",
                "decode",
                "-m",
                "wkt.Holder",
                "-i",
                "binary",
                "-o",
                format,
            ],
            &bytes,
            LIMIT,
        );
        assert_clean(&r, &format!("-o {format}"));
        assert_eq!(r.code, 0, "-o {format}: {}", r.stderr);
        assert!(r.stdout.contains("wkt.Holder"), "-o {format}");
    }
}

fn deep_json(depth: usize) -> String {
    let mut s = String::with_capacity(depth * 16);
    for _ in 0..depth {
        s.push_str(r#"{"children":["#);
    }
    s.push_str("{}");
    for _ in 0..depth {
        s.push_str("]}");
    }
    s
}

#[test]
fn encode_rejects_100000_level_json() {
    let json = deep_json(DEEP);
    let r = run_limited(&["encode", "-m", "EcuNode"], json.as_bytes(), LIMIT);
    assert_fails(&r, "stdin", &["recursion limit"]);
    let dir = TempDir::new("hostile-json");
    let path = dir.path("deep.json");
    std::fs::write(&path, &json).unwrap();
    let r = run_limited(
        &["encode", "-m", "EcuNode", path.to_str().unwrap()],
        b"",
        LIMIT,
    );
    assert_fails(&r, "file", &["recursion limit"]);
    // As an argument (Linux caps one argument at 128 KiB: 5000 levels).
    let r = run_limited(
        &["encode", "-m", "EcuNode", "--json", &deep_json(5000)],
        b"",
        LIMIT,
    );
    assert_fails(&r, "--json", &["recursion limit"]);
    // Bare brackets, forced to JSON.
    let brackets = "[".repeat(DEEP) + &"]".repeat(DEEP);
    let r = run_limited(
        &["encode", "-m", "EcuNode", "-i", "json"],
        brackets.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "brackets", &[]);
}

#[test]
fn encode_rejects_100000_level_json_in_well_known_types() {
    let schema = "tests/data/cli/wkt/holder.proto";
    // google.protobuf.Value: nested lists and structs.
    let value = format!(
        r#"{{"value":{}1{}}}"#,
        r#"{"a":["#.repeat(DEEP),
        "]}".repeat(DEEP)
    );
    let r = run_limited(
        &["-s", schema, "encode", "-m", "wkt.Holder"],
        value.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "Value", &["recursion limit"]);
    // google.protobuf.Any holding Anys.
    let any = format!(
        r#"{{"any":{}{{"@type":"type.googleapis.com/wkt.Holder"}}{}}}"#,
        r#"{"@type":"type.googleapis.com/google.protobuf.Any","value":"#.repeat(DEEP),
        "}".repeat(DEEP)
    );
    let r = run_limited(
        &["-s", schema, "encode", "-m", "wkt.Holder"],
        any.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "Any", &["recursion limit"]);
}

#[test]
fn encode_rejects_100000_level_text_format() {
    let text = "children {".repeat(DEEP) + &"}".repeat(DEEP);
    let r = run_limited(
        &["encode", "-m", "EcuNode", "-i", "text"],
        text.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "stdin", &["nested deeper than"]);
    let r = run_limited(&["encode", "-m", "EcuNode"], text.as_bytes(), LIMIT);
    assert_fails(&r, "stdin, auto", &["nested deeper than"]);
    let short = "children {".repeat(10_000) + &"}".repeat(10_000);
    let r = run_limited(&["encode", "-m", "EcuNode", "--text", &short], b"", LIMIT);
    assert_fails(&r, "--text", &["nested deeper than"]);
    // Angle brackets and Any expansions nest too.
    let angles = "children <".repeat(DEEP) + &">".repeat(DEEP);
    let r = run_limited(
        &["encode", "-m", "EcuNode", "-i", "text"],
        angles.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "angles", &["nested deeper than"]);
    let any = format!(
        "any {{{}[type.googleapis.com/wkt.Holder] {{}}{}}}",
        "[type.googleapis.com/google.protobuf.Any] {".repeat(DEEP),
        "}".repeat(DEEP)
    );
    let r = run_limited(
        &[
            "-s",
            "tests/data/cli/wkt/holder.proto",
            "encode",
            "-m",
            "wkt.Holder",
            "-i",
            "text",
        ],
        any.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "Any", &["nested deeper than"]);
    // Unclosed.
    let open = "children {".repeat(DEEP);
    let r = run_limited(
        &["encode", "-m", "EcuNode", "-i", "text"],
        open.as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "unclosed", &[]);
}

// ---------------------------------------------------------------------------
// lengths, UTF-8, varints
// ---------------------------------------------------------------------------

const TWO_TO_60: u64 = 1 << 60;

#[test]
fn length_prefix_of_2_pow_60_inside_a_message_is_an_error() {
    let mut msg = vec![0x0a];
    msg.extend(varint(TWO_TO_60));
    msg.extend_from_slice(b"abc");
    // Also one level down: a reply whose payload claims 2^60 bytes.
    // (field 29, ImmobilizerResult; its field 2 is bytes)
    let mut inner = vec![0x12];
    inner.extend(varint(TWO_TO_60));
    let nested_msg = [vec![0xea, 0x01], varint(inner.len() as u64), inner].concat();
    for (name, bytes) in [("top", &msg), ("nested", &nested_msg)] {
        for mode in [&["-m", "CommandResponseMessage"][..], &["--raw"][..]] {
            for format in FORMATS {
                let mut args = vec!["decode", "-o", format];
                args.extend_from_slice(mode);
                let hex = hex::encode(bytes);
                args.push(&hex);
                let r = run_limited(&args, b"", LIMIT);
                let what = format!("{name} {mode:?} -o {format}");
                match (name, mode[0]) {
                    ("top", _) => assert_fails(&r, &what, &["length"]),
                    // Without a schema the sub-message is just bytes.
                    (_, "--raw") => {
                        assert_clean(&r, &what);
                        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
                    }
                    _ => assert_fails(&r, &what, &[]),
                }
            }
        }
    }
}

#[test]
fn length_prefix_past_the_end_in_a_sub_message_says_where() {
    let mut inner = vec![0x12];
    inner.extend(varint(TWO_TO_60));
    let msg = [vec![0xea, 0x01], varint(inner.len() as u64), inner].concat();
    let r = run_limited(&["decode", "-o", "jsonl", &hex::encode(msg)], b"", LIMIT);
    assert_fails(&r, "nested", &["length", "byte"]);
}

#[test]
fn frame_claiming_2_pow_60_bytes_is_an_error_not_an_allocation() {
    let mut stream = varint(TWO_TO_60);
    stream.extend_from_slice(&[0x0a, 0x01, b'a']);
    let r = run_limited(
        &["decode", "--framing", "varint", "-i", "binary"],
        &stream,
        LIMIT,
    );
    assert_fails(
        &r,
        "varint frame",
        &["byte offset 0", "1152921504606846976"],
    );
    let r = run_limited(
        &["decode", "--framing", "varint"],
        hex::encode(&stream).as_bytes(),
        LIMIT,
    );
    assert_fails(&r, "varint frame as hex", &["byte offset 0"]);
    // A good frame first: it is still decoded.
    let good = [vec![3, 0x0a, 0x01, b'a'], stream].concat();
    let r = run_limited(
        &[
            "decode",
            "--framing",
            "varint",
            "-i",
            "binary",
            "-o",
            "jsonl",
            "-m",
            "CommandMessage",
        ],
        &good,
        LIMIT,
    );
    assert_eq!(r.stdout, "{\"message_id\":\"a\"}\n");
    assert_fails(&r, "after a good frame", &["byte offset 4"]);
    for (framing, prefix) in [
        ("u32be", vec![0xff, 0xff, 0xff, 0xff]),
        ("u32le", vec![0xff, 0xff, 0xff, 0xff]),
        ("u16be", vec![0xff, 0xff]),
    ] {
        let stream = [prefix, vec![0x0a, 0x01, b'a']].concat();
        let r = run_limited(
            &["decode", "--framing", framing, "-i", "binary"],
            &stream,
            LIMIT,
        );
        assert_fails(&r, framing, &["byte offset 0"]);
    }
}

#[test]
fn invalid_utf8_in_a_string_field_fails_decode_clearly() {
    // message_id = ff 61 62
    let hex = "0a03ff6162";
    for format in FORMATS {
        let r = run_limited(
            &["decode", "-m", "CommandMessage", "-o", format, hex],
            b"",
            LIMIT,
        );
        assert_fails(
            &r,
            &format!("-o {format}"),
            &["cvp.CommandMessage", "UTF-8"],
        );
        assert!(r.stdout.is_empty(), "-o {format}: {}", r.stdout);
    }
    // Nested: the reply's GenericError (field 19) with message (field 2) = ff.
    let r = run_limited(&["decode", "-o", "jsonl", "9a01031201ff"], b"", LIMIT);
    assert_fails(&r, "nested", &["UTF-8"]);
}

#[test]
fn invalid_utf8_error_names_the_field() {
    let r = run_limited(
        &[
            "decode",
            "-m",
            "CommandMessage",
            "-o",
            "jsonl",
            "0a03ff6162",
        ],
        b"",
        LIMIT,
    );
    assert_fails(&r, "jsonl", &["message_id"]);
}

#[test]
fn decode_raw_shows_invalid_utf8_as_bytes() {
    let hex = "0a03ff6162";
    let expect = [
        ("table", "ff6162"),
        ("json", "\"1\": \"ff6162\""),
        ("jsonl", "{\"1\":\"ff6162\"}"),
        ("text", "1: \"\\377ab\""),
    ];
    for (format, shown) in expect {
        let r = run_limited(&["decode", "--raw", "-o", format, hex], b"", LIMIT);
        assert_clean(&r, format);
        assert_eq!(r.code, 0, "-o {format}: {}", r.stderr);
        assert!(r.stdout.contains(shown), "-o {format}:\n{}", r.stdout);
    }
}

#[test]
fn overlong_varints_are_errors() {
    // version (field 8) = an 11-byte varint; a 10-byte one with bits past 64;
    // a field key of 11 bytes.
    for (hex, needle) in [
        ("40ffffffffffffffffffff01", "varint"),
        ("40808080808080808080808001", "varint"),
        ("40ffffffffffffffffff7f", "varint"),
        ("ffffffffffffffffffffff01", "key"),
    ] {
        for mode in [&["-m", "CommandMessage"][..], &["--raw"][..]] {
            for format in FORMATS {
                let mut args = vec!["decode", "-o", format];
                args.extend_from_slice(mode);
                args.push(hex);
                let r = run_limited(&args, b"", LIMIT);
                assert_fails(&r, &format!("{hex} {mode:?} -o {format}"), &[needle]);
            }
        }
    }
    // A 10-byte varint that fits is fine.
    let r = run_limited(
        &["decode", "--raw", "-o", "jsonl", "40ffffffffffffffffff01"],
        b"",
        LIMIT,
    );
    assert_eq!(
        r.stdout, "{\"8\":\"18446744073709551615\"}\n",
        "{}",
        r.stderr
    );
    // As a frame prefix.
    let stream = [vec![0x80; 11], vec![0x00, 0x0a, 0x01, b'a']].concat();
    let r = run_limited(
        &["decode", "--framing", "varint", "-i", "binary"],
        &stream,
        LIMIT,
    );
    assert_fails(&r, "frame", &["byte offset 0", "longer than 10 bytes"]);
}

#[test]
fn large_random_input_finishes() {
    let mut rng = Rng::new(42);
    let big: Vec<u8> = (0..(1 << 20)).map(|_| rng.next_u64() as u8).collect();
    for mode in [&["-m", "CommandResponseMessage"][..], &["--raw"][..]] {
        for format in FORMATS {
            let mut args = vec!["decode", "-i", "binary", "-o", format];
            args.extend_from_slice(mode);
            let r = run_limited(&args, &big, LIMIT);
            assert_clean(&r, &format!("1 MiB {mode:?} -o {format}"));
        }
    }
    // A long hex line with an odd digit count.
    let line = hex::encode(&big[..100_000]) + "a\n";
    let r = run_limited(&["decode", "--raw"], line.as_bytes(), LIMIT);
    assert_fails(&r, "odd hex", &[]);
}
