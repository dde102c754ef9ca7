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
    let mut out = String::new();
    let mut pieces = String::new();
    write_msg(msg, 0, &TextOptions::default(), &mut pieces, &mut |t| {
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
            let pieces = encode_large(&desc, &json);
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
