//! Round trips over random messages of every sample type (tests/support/
//! random.rs, seeded from proptest): JSON -> bytes -> JSON and bytes -> text
//! -> bytes change nothing, in-process over many cases and through the
//! binary (`commander decode` then `commander encode`) over a few dozen.
//!
//! Failing seeds are kept in proptest-regressions/roundtrip.txt (committed)
//! and replayed first on every run.

mod support;

use std::sync::LazyLock;

use commander::render::text::to_text;
use commander::render::{JsonOptions, JsonWriter};
use commander::schema::Schema;
use commander::value::{message_from_json, message_from_text};
use commander::wire;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use support::random::{Rng, Values, random_message};
use support::{run, run_with};

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::builtin().unwrap());

/// The envelopes first, then every other message type of the sample
/// (payloads, nested types, common types), map entries left out.
static TYPES: LazyLock<Vec<MessageDescriptor>> = LazyLock::new(|| {
    let envelopes = [
        "cvp.CommandMessage",
        "cvp.CommandResponseMessage",
        "cvp.VehicleTelemetryMessage",
        "cvp.HighSpeedTelemetryMessage",
        "cvp.VehicleEventMessage",
    ];
    let mut types: Vec<MessageDescriptor> = envelopes
        .iter()
        .map(|n| SCHEMA.message(n).unwrap())
        .collect();
    let mut rest: Vec<MessageDescriptor> = SCHEMA
        .pool
        .all_messages()
        .filter(|m| {
            m.package_name() == "cvp" && !m.is_map_entry() && !envelopes.contains(&m.full_name())
        })
        .collect();
    rest.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    types.extend(rest);
    types
});

/// A random message: which type (envelopes twice as likely as the rest),
/// which seed, edgy or tame values.
fn message() -> impl Strategy<Value = (MessageDescriptor, u64, Values)> {
    let envelope = 0..5usize;
    let any_type = 0..TYPES.len();
    (
        prop_oneof![2 => envelope, 1 => any_type],
        any::<u64>(),
        prop_oneof![3 => Just(Values::Edgy), 1 => Just(Values::Tame)],
    )
        .prop_map(|(i, seed, values)| (TYPES[i].clone(), seed, values))
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/roundtrip.txt",
        ))),
        ..ProptestConfig::default()
    }
}

fn make(desc: &MessageDescriptor, seed: u64, values: Values) -> DynamicMessage {
    random_message(desc, &mut Rng::new(seed), values, 0)
}

fn json_of(desc: &MessageDescriptor, opts: JsonOptions, bytes: &[u8]) -> String {
    let mut out = Vec::new();
    JsonWriter::new(desc, opts).write(bytes, &mut out).unwrap();
    String::from_utf8(out).expect("JSON is UTF-8")
}

proptest! {
    #![proptest_config(config(1500))]

    /// JSON (in every output shape) read back and encoded gives the same
    /// bytes, which render to the same JSON.
    #[test]
    fn json_to_bytes_to_json(
        (desc, seed, values) in message(),
        pretty in any::<bool>(),
        camel_case in any::<bool>(),
        emit_defaults in any::<bool>(),
    ) {
        let opts = JsonOptions { pretty, camel_case, emit_defaults, enum_numbers: false };
        let bytes = wire::encode_to_vec(&make(&desc, seed, values));
        let json = json_of(&desc, opts, &bytes);
        let read = message_from_json(&desc, &json)
            .map_err(|e| TestCaseError::fail(format!("{e:#}\n{json}")))?;
        let again = wire::encode_to_vec(&read);
        prop_assert_eq!(hex::encode(&again), hex::encode(&bytes), "{}", json);
        prop_assert_eq!(json_of(&desc, opts, &again), json);
    }

    /// Text format (as `decode -o text` prints it) read back gives the same
    /// bytes and prints the same text.
    #[test]
    fn bytes_to_text_to_bytes(
        (desc, seed, values) in message(),
    ) {
        let bytes = wire::encode_to_vec(&make(&desc, seed, values));
        let decoded = DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap();
        let text = to_text(&decoded);
        let read = message_from_text(&desc, &text)
            .map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
        prop_assert_eq!(hex::encode(wire::encode_to_vec(&read)), hex::encode(&bytes), "{}", text);
        prop_assert_eq!(to_text(&read), text);
    }

    /// The canonical encoding is a fixed point: decoding and encoding again
    /// changes nothing (field order, map order, -0.0, packed runs).
    #[test]
    fn canonical_bytes_are_stable(
        (desc, seed, values) in message(),
    ) {
        let bytes = wire::encode_to_vec(&make(&desc, seed, values));
        let decoded = DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap();
        prop_assert_eq!(hex::encode(wire::encode_to_vec(&decoded)), hex::encode(&bytes));
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Through the binary: `decode -o json` then `encode`, and `decode -o
    /// text` then `encode --text`, give back the bytes.
    #[test]
    fn binary_decode_then_encode(
        (desc, seed, values) in message(),
    ) {
        let name = desc.full_name();
        let hex = support::hex_line(&wire::encode_to_vec(&make(&desc, seed, values)));

        let json = run(&["decode", "-m", name, "-o", "json", &hex]);
        let json = json.ok();
        let back = run_with(&["encode", "-m", name], json.as_bytes());
        prop_assert_eq!(back.ok().trim_end(), hex.as_str(), "{}", json);

        let text = run(&["decode", "-m", name, "-o", "text", &hex]);
        let text = text.ok();
        let back = run(&["encode", "-m", name, "--text", text]);
        prop_assert_eq!(back.ok().trim_end(), hex.as_str(), "{}", text);
    }
}

/// A stream: many messages of one type as hex lines, decoded to JSON Lines
/// in one run and encoded back in one run, in order.
#[test]
fn binary_json_lines_stream_round_trips() {
    for (i, desc) in TYPES.iter().take(5).enumerate() {
        let name = desc.full_name();
        let hexes: Vec<String> = (0..12)
            .map(|seed| {
                let values = if seed % 3 == 0 {
                    Values::Tame
                } else {
                    Values::Edgy
                };
                hex::encode(wire::encode_to_vec(&make(
                    desc,
                    1000 * i as u64 + seed,
                    values,
                )))
            })
            .collect();
        let input = hexes.join("\n") + "\n";
        let jsonl = run_with(&["decode", "-m", name, "-o", "jsonl"], input.as_bytes());
        let jsonl = jsonl.ok();
        assert_eq!(jsonl.lines().count(), hexes.len(), "{jsonl}");
        let back = run_with(&["encode", "-m", name], jsonl.as_bytes());
        assert_eq!(back.ok(), input, "{name}");

        // camelCase keys and default values shown read back the same.
        let camel = run_with(
            &[
                "decode",
                "-m",
                name,
                "-o",
                "jsonl",
                "--camel-case",
                "--emit-defaults",
            ],
            input.as_bytes(),
        );
        let back = run_with(&["encode", "-m", name, "-i", "json"], camel.ok().as_bytes());
        assert_eq!(back.ok(), input, "{name} camelCase");
    }
}
