//! The message model the web form and the prompts share (`commander::model`):
//! a form's state made from any message builds back into the same message,
//! for every type of the built-in protocol and of the corpus schemas, with
//! tame and edgy values; refused values are named by path with the words
//! the terminal uses.

mod support;

use std::path::PathBuf;

use commander::model::{Problem, build, describe, state_of};
use commander::schema::Schema;
use commander::value::parse_value;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor};
use serde_json::json;
use support::corpus;
use support::random::{Rng, Values, random_message};

fn schemas() -> Vec<(&'static str, Schema)> {
    let load = |paths: Vec<PathBuf>, includes: Vec<PathBuf>| {
        Schema::load(&paths, &includes).expect("the schema loads")
    };
    vec![
        ("built-in", Schema::builtin().unwrap()),
        (
            "meshtastic",
            load(vec![corpus("meshtastic")], vec![corpus("meshtastic")]),
        ),
        (
            "sparkplug_b",
            load(vec![corpus("sparkplug_b/sparkplug_b.proto")], vec![]),
        ),
        (
            "esphome",
            load(vec![corpus("esphome/aioesphomeapi/api.proto")], vec![]),
        ),
        (
            "tesla",
            load(vec![corpus("tesla/pkg/protocol/protobuf")], vec![]),
        ),
        (
            "chirpstack",
            load(vec![corpus("chirpstack/api/proto")], vec![]),
        ),
        (
            "cast",
            load(vec![corpus("cast/chromecast_protobuf")], vec![]),
        ),
    ]
}

fn types(schema: &Schema) -> Vec<MessageDescriptor> {
    schema
        .pool
        .all_messages()
        .filter(|m| !m.is_map_entry() && !m.full_name().starts_with("google.protobuf."))
        .collect()
}

#[test]
fn every_message_goes_through_a_form_and_back_unchanged() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, schema) in schemas() {
        for desc in types(&schema) {
            for (seed, values) in [(1, Values::Tame), (2, Values::Tame), (7, Values::Edgy)] {
                let mut rng = Rng::new(seed);
                let msg = random_message(&desc, &mut rng, values, 0);
                let state = state_of(&msg);
                let (back, problems) = build(&desc, &state);
                checked += 1;
                let same =
                    commander::wire::encode_to_vec(&back) == commander::wire::encode_to_vec(&msg);
                // A google.protobuf.Value with no kind set has no JSON form
                // (the runtimes refuse to print it); a form types Struct and
                // Value as JSON, so it comes back as null.
                if !same && problems.is_empty() && has_kindless_value(&msg) {
                    continue;
                }
                if !problems.is_empty() || !same {
                    failures.push(format!(
                        "{name} {} (seed {seed}): problems {problems:?}, same bytes: {same}\n  state: {state}\n  in:  {}\n  out: {}",
                        desc.full_name(),
                        hex::encode(commander::wire::encode_to_vec(&msg)),
                        hex::encode(commander::wire::encode_to_vec(&back))
                    ));
                }
            }
        }
    }
    assert!(checked > 2500, "only {checked} messages checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} messages changed through the form state:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

fn has_kindless_value(msg: &DynamicMessage) -> bool {
    use prost_reflect::{ReflectMessage, Value};
    fn value(v: &Value) -> bool {
        match v {
            Value::Message(m) => has_kindless_value(m),
            Value::List(items) => items.iter().any(value),
            Value::Map(map) => map.values().any(value),
            _ => false,
        }
    }
    (msg.descriptor().full_name() == "google.protobuf.Value" && msg.fields().next().is_none())
        || msg.fields().any(|(_, v)| value(v))
}

#[test]
fn every_type_has_a_model_the_page_can_walk() {
    for (name, schema) in schemas() {
        for desc in types(&schema) {
            let model = describe(&desc, None, None, &DynamicMessage::new(desc.clone()));
            let messages = model["messages"].as_object().unwrap();
            // Every message and enum a field names is in the model.
            for m in messages.values() {
                for f in m["fields"].as_array().unwrap() {
                    let ty = f["type"].as_str();
                    match f["kind"].as_str().unwrap() {
                        "message" if f["cardinality"] != "map" => assert!(
                            messages.contains_key(ty.unwrap()),
                            "{name} {}: {} names {ty:?}, not in the model",
                            desc.full_name(),
                            f["name"]
                        ),
                        "enum" => assert!(
                            model["enums"].get(ty.unwrap()).is_some(),
                            "{name} {}: enum {ty:?} missing",
                            desc.full_name()
                        ),
                        _ => {}
                    }
                    if let Some(v) = f["map"]["value_type"].as_str() {
                        assert!(
                            messages.contains_key(v) || model["enums"].get(v).is_some(),
                            "{name}: map value type {v} missing"
                        );
                    }
                }
            }
        }
    }
}

fn cvp() -> Schema {
    Schema::builtin().unwrap()
}

#[test]
fn refused_values_are_named_by_path_and_left_out() {
    let schema = cvp();
    let desc = schema.message("cvp.CommandMessage").unwrap();
    let state = json!({
        "vehicle_id": "MH12VF1121",
        "subtype": "ENGINE_START",
        "engine_start": {"run_minutes": "70000000000", "cabin_target_c": "-3"},
    });
    let (msg, problems) = build(&desc, &state);
    assert_eq!(
        problems,
        vec![Problem {
            path: "engine_start.run_minutes".into(),
            message: parse_value(&Kind::Uint32, "70000000000").unwrap_err(),
        }]
    );
    assert!(problems[0].message.contains("out of range for uint32"));
    // What was right is kept; the refused value is not sent (not even as 0).
    let start = msg.get_field_by_name("engine_start").unwrap();
    let start = start.as_message().unwrap();
    assert_eq!(
        start.get_field_by_name("cabin_target_c").unwrap().as_i32(),
        Some(-3)
    );
    assert!(!start.has_field_by_name("run_minutes"));
}

#[test]
fn two_members_of_a_oneof_are_refused() {
    let schema = cvp();
    let desc = schema.message("cvp.CommandMessage").unwrap();
    let (_, problems) = build(&desc, &json!({"engine_start": {}, "engine_stop": {}}));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("both members of the oneof payload"),
        "{problems:?}"
    );
}

#[test]
fn list_and_map_rows_are_named_by_index() {
    let schema = cvp();
    // The sample's map and repeated fields, wherever they are.
    let (desc, map_field) = types(&schema)
        .into_iter()
        .find_map(|d| {
            let f = d.fields().find(|f| {
                f.is_map()
                    && matches!(f.kind(), Kind::Message(e) if e.map_entry_key_field().kind() == Kind::String)
            })?;
            Some((d.clone(), f.name().to_owned()))
        })
        .expect("the sample protocol has a map with string keys");
    let entry = match desc.get_field_by_name(&map_field).unwrap().kind() {
        Kind::Message(e) => e,
        _ => unreachable!(),
    };
    let value_kind = entry.map_entry_value_field().kind();
    let good = match &value_kind {
        Kind::Message(_) => json!({}),
        Kind::Enum(e) => json!(e.values().next().unwrap().name()),
        Kind::Bool => json!("true"),
        Kind::String | Kind::Bytes => json!(""),
        _ => json!("1"),
    };
    let state = json!({ map_field.clone(): [["a", good], ["a", good]] });
    let (_, problems) = build(&desc, &state);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, format!("{map_field}[1].key"));
    assert!(problems[0].message.contains("row 0"), "{problems:?}");

    let desc = schema.message("cvp.DoorLock").unwrap();
    let (msg, problems) = build(&desc, &json!({"doors": ["FRONT_LEFT", "NOPE", "3"]}));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "doors[1]");
    assert!(
        problems[0].message.contains("is not a value of"),
        "{problems:?}"
    );
    assert_eq!(
        msg.get_field_by_name("doors")
            .unwrap()
            .as_list()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_any_is_built_from_its_type_and_fields() {
    let dir = support::TempDir::new("model-any");
    let file = dir.path("holder.proto");
    std::fs::write(
        &file,
        "syntax = \"proto3\";\npackage t;\nimport \"google/protobuf/any.proto\";\n\
         message Holder { google.protobuf.Any thing = 1; }\n\
         message Inner { double latitude = 1; repeated string tags = 2; }\n",
    )
    .unwrap();
    let schema = Schema::load(&[file], &[]).unwrap();
    let holder = schema.message("t.Holder").unwrap();
    let state =
        json!({"thing": {"@type": "t.Inner", "@value": {"latitude": "1.5", "tags": ["a", "b"]}}});
    let (msg, problems) = build(&holder, &state);
    assert_eq!(problems, vec![]);
    let thing = msg.get_field_by_name("thing").unwrap();
    let thing = thing.as_message().unwrap();
    assert_eq!(
        thing.get_field_by_name("type_url").unwrap().as_str(),
        Some("type.googleapis.com/t.Inner")
    );
    let inner = DynamicMessage::decode(
        schema.message("t.Inner").unwrap(),
        thing
            .get_field_by_name("value")
            .unwrap()
            .as_bytes()
            .unwrap()
            .clone(),
    )
    .unwrap();
    assert_eq!(
        inner.get_field_by_name("latitude").unwrap().as_f64(),
        Some(1.5)
    );
    // It reads back as the same picker state.
    assert_eq!(state_of(&msg), state);
    // A type the schema lacks is refused, by path.
    let (_, problems) = build(
        &holder,
        &json!({"thing": {"@type": "t.Nope", "@value": {}}}),
    );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "thing");
    assert!(problems[0].message.contains("t.Nope"), "{problems:?}");
}
