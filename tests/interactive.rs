//! The interactive builder (SPEC 6) driven by scripted answers: every field
//! kind, skipping, re-asking with the reason, envelope linking on the sample
//! protocol and on a differently shaped one (`tests/data/interactive/acme`),
//! the depth limit, profile defaults (SPEC 7) and a whole session.
//!
//! A [`Script`] is the list of questions a user expects, in order, each with
//! the kind of prompt and the answer. It panics on a question it did not
//! expect (another path, another kind of prompt) or when it runs out, records
//! warnings and notes, and every test ends with [`Script::finish`], which
//! checks every step was used. So a script also pins down what is *not*
//! asked: picking HORN_AND_LIGHTS asks only `horn_lights.*`.
//! The script lives in `support/script.rs`.

mod support;

use std::path::{Path, PathBuf};

use commander::cmd::Session;
use commander::profile::Profile;
use commander::prompt::link::{self, LinkedBy};
use commander::prompt::{Builder, Built, LinkChoice, MAX_DEPTH};
use commander::schema::Schema;
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::json;
use support::script::*;

// The script itself: it must catch a builder that asks something else.

#[test]
#[should_panic(
    expected = "script step 2 expected a Text prompt for 'enable', but the builder asked a Text prompt 'enabled' (bool"
)]
fn the_script_refuses_a_question_it_did_not_expect() {
    let desc = message(&sample(), "cvp.SpeedLimit");
    let mut script = Script::new(vec![text("max_kph", Enter), text("enable", Enter)]);
    build(&desc, &mut script);
}

#[test]
#[should_panic(
    expected = "expected a Confirm prompt for 'max_kph', but the builder asked a Text prompt"
)]
fn the_script_refuses_another_kind_of_prompt() {
    let desc = message(&sample(), "cvp.SpeedLimit");
    let mut script = Script::new(vec![confirm("max_kph", Yes)]);
    build(&desc, &mut script);
}

#[test]
#[should_panic(
    expected = "the script ran out after 1 step(s), but the builder asked a Text prompt 'enabled'"
)]
fn the_script_panics_when_it_runs_out() {
    let desc = message(&sample(), "cvp.SpeedLimit");
    let mut script = Script::new(vec![text("max_kph", Enter)]);
    build(&desc, &mut script);
}

#[test]
#[should_panic(expected = "never asked:\n  Text extra -> Enter")]
fn the_script_must_be_used_up() {
    let desc = message(&sample(), "cvp.SpeedLimit");
    let mut script = Script::new(vec![
        text("max_kph", Enter),
        text("enabled", Enter),
        text("extra", Enter),
    ]);
    let _ = Builder::new(&mut script).build(DynamicMessage::new(desc));
    script.finish();
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn sample() -> Schema {
    Schema::builtin().expect("the built-in protocol loads")
}

fn acme() -> Schema {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/interactive/acme");
    Schema::load(&[dir.join("acme.proto")], std::slice::from_ref(&dir))
        .expect("tests/data/interactive/acme/acme.proto loads")
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/interactive")
        .join(rel)
}

fn message(schema: &Schema, name: &str) -> MessageDescriptor {
    schema.message(name).expect("the type exists")
}

/// Builds a message of `desc` from scratch.
#[track_caller]
fn build(desc: &MessageDescriptor, script: &mut Script) -> DynamicMessage {
    build_from(DynamicMessage::new(desc.clone()), script)
}

/// Builds starting from `start` (profile defaults, or a message to edit).
#[track_caller]
fn build_from(start: DynamicMessage, script: &mut Script) -> DynamicMessage {
    match Builder::new(script)
        .build(start)
        .expect("the builder fails")
    {
        Built::Message(m) => m,
        Built::Quit => panic!("the builder quit"),
    }
}

/// The message as proto3 JSON with the .proto field names (what `decode -o
/// json` shows): only what is set.
fn json(msg: &DynamicMessage) -> serde_json::Value {
    let opts = SerializeOptions::new().use_proto_field_name(true);
    msg.serialize_with_options(serde_json::value::Serializer, &opts)
        .expect("serializes")
}

/// The bytes that would be sent, as hex.
fn hex_of(msg: &DynamicMessage) -> String {
    hex::encode(commander::wire::encode_to_vec(msg))
}

fn decode(desc: &MessageDescriptor, hex_text: &str) -> DynamicMessage {
    let bytes = hex::decode(hex_text.trim()).expect("hex");
    DynamicMessage::decode(desc.clone(), bytes.as_slice()).expect("decodes")
}

/// Seconds between an RFC 3339 time and now.
fn seconds_from_now(rfc3339: &str) -> i64 {
    let t: prost_types::Timestamp = rfc3339.parse().expect("an RFC 3339 time");
    let now = prost_types::Timestamp::from(std::time::SystemTime::now());
    (now.seconds - t.seconds).abs()
}

/// The CommandMessage / CommandResponseMessage header after the selector,
/// every field left unset (no profile).
fn command_header_unset() -> Vec<Step<'static>> {
    vec![
        text("message_id", Enter),
        text("correlation_id", Enter),
        text("vehicle_id", Enter),
        select("type", Pick("(leave unset)")),
        select("priority", Pick("(leave unset)")),
        select("provisioning_state", Pick("(leave unset)")),
        text("version", Enter),
        text("time_stamp", Enter),
        select("packet_status", Pick("(leave unset)")),
        text("expires_in", Enter),
    ]
}

/// The same header with the built-in profile's defaults kept.
fn command_header_kept() -> Vec<Step<'static>> {
    vec![
        text("message_id", Enter),
        text("correlation_id", Enter),
        text("vehicle_id", Enter),
        select("type", Pick("(keep COMMAND)")),
        select("priority", Pick("(keep NORMAL)")),
        select("provisioning_state", Pick("(keep ACTIVE)")),
        text("version", Enter),
        text("time_stamp", Enter),
        select("packet_status", Pick("(keep COMPLETE)")),
        text("expires_in", Enter),
    ]
}

// ---------------------------------------------------------------------------
// every field kind
// ---------------------------------------------------------------------------

#[test]
fn singular_scalars_enums_bytes_and_a_timestamp_of_the_telemetry_message() {
    let s = sample();
    let desc = message(&s, "cvp.VehicleTelemetryMessage");
    let mut script = Script::new(vec![
        text("message_id", Text("m-1")),
        text("correlation_id", Enter),
        text("vehicle_id", Text("MH12VF1121")),
        select("type", Pick("TELEMETRY")),
        select("priority", Pick("(leave unset)")),
        select("provisioning_state", Pick("ACTIVE")),
        text("version", Text("0x10")),
        text("time_stamp", Text("2024-05-01T10:00:00Z")),
        select("packet_status", Pick("(leave unset)")),
        text("sequence", Text("18446744073709551615")),
        confirm("position", No),
        text("speed_kph", Text("88.5")),
        text("odometer_km", Text("12345.678")),
        text("ambient_temp_c", Text("-40")),
        text("fuel_level_pct", Text("4294967295")),
        text("engine_rpm", Text("-2147483648")),
        text("battery_voltage", Text("12.5")),
        select("ignition", Pick("ON")),
        confirm("tires[0]", No),
        text("signals key", Enter),
        text("ev_range_km", Enter),
        text("raw_can_frame", Text("de:ad be-ef")),
        text("trip_id", Text("-9223372036854775808")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert!(script.warnings.is_empty(), "{:?}", script.warnings);

    // Every prompt says where the user is and what is wanted.
    assert_eq!(script.asked("sequence").q.kind, "uint64");
    assert_eq!(script.asked("ambient_temp_c").q.kind, "sint32");
    assert_eq!(script.asked("ev_range_km").q.kind, "optional uint32");
    assert_eq!(script.asked("time_stamp").q.kind, "Timestamp");
    assert!(script.asked("time_stamp").q.hint.contains("now"));
    assert!(script.asked("raw_can_frame").q.hint.contains("utf8:"));
    assert_eq!(script.asked("ignition").q.kind, "IgnitionState");
    assert_eq!(
        script.asked("ignition").items,
        [
            "(leave unset)",
            "IGNITION_STATE_UNSPECIFIED (0)",
            "OFF (1)",
            "ACCESSORY (2)",
            "ON (3)",
            "CRANKING (4)"
        ]
    );

    assert_eq!(
        json(&msg),
        json!({
            "message_id": "m-1",
            "vehicle_id": "MH12VF1121",
            "type": "TELEMETRY",
            "provisioning_state": "ACTIVE",
            "version": 16,
            "time_stamp": "2024-05-01T10:00:00Z",
            "sequence": "18446744073709551615",
            "speed_kph": 88.5,
            "odometer_km": 12345.678,
            "ambient_temp_c": -40,
            "fuel_level_pct": 4294967295u32,
            "engine_rpm": -2147483648i32,
            "battery_voltage": 12.5,
            "ignition": "ON",
            "raw_can_frame": "3q2+7w==",
            "trip_id": "-9223372036854775808"
        })
    );
    // protoc --encode=cvp.VehicleTelemetryMessage of the same values.
    assert_eq!(
        hex_of(&msg),
        "0a036d2d311a0a4d48313256463131323120033803401\
         04a0608a0a5c8b10658ffffffffffffffffff016d0000b142715839b4c8d61cc840784f8001ffffff\
         ff0f880180808080f8ffffffff01950100004841980103ba0104deadbeefc001808080808080808\
         08001"
    );
}

#[test]
fn the_remaining_scalar_kinds_fixed_and_sfixed_and_signed_64() {
    let s = sample();
    // DiagnosticsReport: sfixed64, fixed64 (and a map, a repeated message).
    let desc = message(&s, "cvp.DiagnosticsReport");
    let mut script = Script::new(vec![
        confirm("dtcs[0]", No),
        text("freeze_frames key", Enter),
        confirm("topology", No),
        text("clock_offset_ns", Text("-1500")),
        text("ecu_serial", Text("0xFFFFFFFFFFFFFFFF")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("clock_offset_ns").q.kind, "sfixed64");
    assert_eq!(script.asked("ecu_serial").q.kind, "fixed64");
    assert_eq!(
        json(&msg),
        json!({"clock_offset_ns": "-1500", "ecu_serial": "18446744073709551615"})
    );
    assert_eq!(hex_of(&msg), "2124faffffffffffff29ffffffffffffffff");

    // ChargeControlResult: sint64, float inf, and uint32 -1 refused.
    let desc = message(&s, "cvp.ChargeControlResult");
    let mut script = Script::new(vec![
        text("soc_pct", Text("-1")),
        text("soc_pct", Text("80")),
        text("minutes_to_full", Enter),
        text("energy_delta_wh", Text("-5000")),
        text("power_kw", Text("inf")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.warnings_at("soc_pct"),
        ["-1 is negative; uint32 takes 0 to 4294967295"]
    );
    assert_eq!(script.asked("energy_delta_wh").q.kind, "sint64");
    assert_eq!(
        json(&msg),
        json!({"soc_pct": 80, "energy_delta_wh": "-5000", "power_kw": "Infinity"})
    );
    assert_eq!(hex_of(&msg), "0850188f4e250000807f");

    // ChargeControl: sfixed32, a nested enum, a nested message with a
    // Timestamp, a Duration and a repeated enum.
    let desc = message(&s, "cvp.ChargeControl");
    let mut script = Script::new(vec![
        select("mode", Pick("SCHEDULED")),
        text("target_soc_pct", Text("90")),
        text("max_current_deciamps", Text("-320")),
        confirm("schedule", Yes),
        text("schedule.start_at", Text("2024-05-01T22:30:00+02:00")),
        text("schedule.repeat_every", Text("1.5s")),
        select("schedule.days[0]", Pick("MONDAY")),
        select("schedule.days[1]", Pick("FRIDAY")),
        select("schedule.days[2]", Pick("(done")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("max_current_deciamps").q.kind, "sfixed32");
    assert_eq!(script.asked("mode").q.kind, "Mode");
    assert_eq!(script.asked("schedule").q.kind, "Schedule");
    assert_eq!(script.asked("schedule.repeat_every").q.kind, "Duration");
    assert_eq!(
        json(&msg),
        json!({
            "mode": "SCHEDULED",
            "target_soc_pct": 90,
            "max_current_deciamps": -320,
            "schedule": {
                "start_at": "2024-05-01T20:30:00Z",
                "repeat_every": "1.500s",
                "days": ["MONDAY", "FRIDAY"]
            }
        })
    );
    assert_eq!(
        hex_of(&msg),
        "0803105a1dc0feffff22160a0608c8cccab106120808011080cab5ee011a020105"
    );
}

#[test]
fn bool_string_bytes_as_hex_and_utf8_a_map_and_a_repeated_message() {
    let s = sample();
    let desc = message(&s, "cvp.DiagnosticsReport");
    let mut script = Script::new(vec![
        confirm("dtcs[0]", Yes),
        text("dtcs[0].code", Text("P0301")),
        text("dtcs[0].ecu_address", Text("0x7e0")),
        text("dtcs[0].active", Text("maybe")),
        text("dtcs[0].active", Text("yes")),
        text("dtcs[0].occurrences", Text("3")),
        text("dtcs[0].first_seen", Text("2024-05-01T10:00:00.250Z")),
        confirm("dtcs[1]", Yes),
        text("dtcs[1].code", Text("U0100")),
        text("dtcs[1].ecu_address", Enter),
        text("dtcs[1].active", Text("false")),
        text("dtcs[1].occurrences", Enter),
        text("dtcs[1].first_seen", Enter),
        confirm("dtcs[2]", No),
        text("freeze_frames key", Text("2016")),
        text("freeze_frames[2016]", Text("utf8:RPM=800")),
        text("freeze_frames key", Text("-1")),
        text("freeze_frames key", Text("0x7e8")),
        text("freeze_frames[0x7e8]", Text("0xZZ")),
        text("freeze_frames[0x7e8]", Text("01 02 0A ff")),
        text("freeze_frames key", Enter),
        confirm("topology", No),
        text("clock_offset_ns", Enter),
        text("ecu_serial", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();

    assert_eq!(
        script.warnings_at("dtcs[0].active"),
        ["'maybe' is not a bool (true or false)"]
    );
    assert_eq!(
        script.warnings_at("freeze_frames key"),
        ["-1 is negative; uint32 takes 0 to 4294967295"]
    );
    let bad_bytes = script.warnings_at("freeze_frames[0x7e8]");
    assert_eq!(bad_bytes.len(), 1);
    assert!(
        bad_bytes[0].starts_with("bytes are hex (or utf8:TEXT, base64:DATA): "),
        "{bad_bytes:?}"
    );
    assert_eq!(script.asked("dtcs[0]").q.kind, "Dtc");
    assert_eq!(script.asked("freeze_frames key").q.kind, "uint32");
    assert_eq!(script.asked("freeze_frames[2016]").q.kind, "bytes");

    assert_eq!(
        json(&msg),
        json!({
            "dtcs": [
                {
                    "code": "P0301",
                    "ecu_address": 2016,
                    "active": true,
                    "occurrences": 3,
                    "first_seen": "2024-05-01T10:00:00.250Z"
                },
                // Skipped fields stay unset, `false` is proto3's default.
                {"code": "U0100"}
            ],
            "freeze_frames": {"2016": "UlBNPTgwMA==", "2024": "AQIK/w=="}
        })
    );
    let round = decode(&desc, &hex_of(&msg));
    assert_eq!(json(&round), json(&msg));
}

#[test]
fn nested_messages_repeated_messages_and_a_map_of_doubles() {
    let s = sample();
    let desc = message(&s, "cvp.VehicleTelemetryMessage");
    let mut script = Script::new(vec![
        text("message_id", Enter),
        text("correlation_id", Enter),
        text("vehicle_id", Enter),
        select("type", Pick("(leave unset)")),
        select("priority", Pick("(leave unset)")),
        select("provisioning_state", Pick("(leave unset)")),
        text("version", Enter),
        text("time_stamp", Enter),
        select("packet_status", Pick("(leave unset)")),
        text("sequence", Enter),
        confirm("position", Yes),
        text("position.latitude", Text("18.5204")),
        text("position.longitude", Text("73.8567")),
        text("position.altitude_m", Enter),
        text("position.heading_deg", Enter),
        text("position.accuracy_m", Text("5")),
        text("speed_kph", Enter),
        text("odometer_km", Enter),
        text("ambient_temp_c", Enter),
        text("fuel_level_pct", Enter),
        text("engine_rpm", Enter),
        text("battery_voltage", Enter),
        select("ignition", Pick("(leave unset)")),
        confirm("tires[0]", Yes),
        text("tires[0].position", Text("FL")),
        text("tires[0].kpa", Text("230.5")),
        text("tires[0].temp_c", Text("-3")),
        confirm("tires[1]", Yes),
        text("tires[1].position", Text("FR")),
        text("tires[1].kpa", Enter),
        text("tires[1].temp_c", Enter),
        confirm("tires[2]", No),
        text("signals key", Text("coolant_c")),
        text("signals[coolant_c]", Text("91.5")),
        text("signals key", Text("throttle")),
        text("signals[throttle]", Text("nan")),
        text("signals key", Enter),
        text("ev_range_km", Enter),
        text("raw_can_frame", Enter),
        text("trip_id", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("position").q.kind, "GeoPoint");
    // The user is told how a list and a map end.
    let add = &script.asked("tires[2]").q;
    assert!(
        add.hint.contains("no") && add.hint.contains("list"),
        "{add:?}"
    );
    let key = &script.asked("signals key").q;
    assert!(key.hint.contains("Enter"), "{key:?}");
    assert_eq!(
        json(&msg),
        json!({
            "position": {"latitude": 18.5204, "longitude": 73.8567, "accuracy_m": 5},
            "tires": [
                {"position": "FL", "kpa": 230.5, "temp_c": -3},
                {"position": "FR"}
            ],
            "signals": {"coolant_c": 91.5, "throttle": "NaN"}
        })
    );
}

#[test]
fn repeated_scalars_of_every_kind_and_a_repeated_enum() {
    let s = sample();
    let desc = message(&s, "cvp.HighSpeedTelemetryMessage");
    let mut steps = vec![
        text("message_id", Enter),
        text("vehicle_id", Enter),
        select("type", Pick("HIGH_SPEED_TELEMETRY")),
        text("version", Enter),
        text("time_stamp", Enter),
        select("packet_status", Pick("(leave unset)")),
        text("window_start", Text("now")),
        text("sample_interval", Text("0.010s")),
    ];
    let lists: [(&str, &[&str]); 15] = [
        ("accel_x_mg", &["-1", "0", "1"]),
        ("accel_y_mg", &[]),
        ("accel_z_mg", &["981"]),
        ("speed_kph", &["nan", "inf", "-inf", "12.25"]),
        ("steering_angle_cdeg", &["-9000"]),
        ("wheel_ticks", &["4294967295"]),
        ("brake_pressed", &["true", "no", "1"]),
        ("latitude", &["18.52"]),
        ("longitude", &["73.85"]),
        ("can_timestamps_us", &["-1"]),
        ("sample_ids", &["18446744073709551615", "0"]),
        ("yaw_rate_mdeg_s", &["-9223372036854775808"]),
        ("gnss_time_ms", &["1714557600000"]),
        ("clock_drift_ns", &["-7"]),
        ("throttle_permille", &["2147483647"]),
    ];
    for (name, values) in lists {
        for (i, v) in values.iter().enumerate() {
            steps.push(text(format!("{name}[{i}]"), Text(v)));
        }
        steps.push(text(format!("{name}[{}]", values.len()), Enter));
    }
    // A bad element is re-asked at the same index.
    let at = steps
        .iter()
        .position(|s| s.path == "throttle_permille[0]")
        .unwrap();
    steps.insert(at, text("throttle_permille[0]", Text("2147483648")));
    steps.extend([
        select("ignition[0]", Pick("ON")),
        select("ignition[1]", Pick("OFF")),
        select("ignition[2]", Pick("(done")),
    ]);
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();

    assert_eq!(
        script.warnings_at("throttle_permille[0]"),
        ["2147483648 is out of range for int32 (min -2147483648, max 2147483647)"]
    );
    assert_eq!(script.asked("accel_x_mg[0]").q.kind, "sint32");
    let end = &script.asked("accel_x_mg[3]").q;
    assert!(
        end.hint.contains("Enter") && end.hint.contains("list"),
        "{end:?}"
    );
    assert_eq!(
        script.asked("ignition[2]").items[0],
        "(done: finish the list)"
    );

    let j = json(&msg);
    let window = j["window_start"].as_str().unwrap();
    assert!(seconds_from_now(window) < 60, "{window}");
    let mut j = j;
    j.as_object_mut().unwrap().remove("window_start");
    assert_eq!(
        j,
        json!({
            "type": "HIGH_SPEED_TELEMETRY",
            "sample_interval": "0.010s",
            "accel_x_mg": [-1, 0, 1],
            "accel_z_mg": [981],
            "speed_kph": ["NaN", "Infinity", "-Infinity", 12.25],
            "steering_angle_cdeg": [-9000],
            "wheel_ticks": [4294967295u32],
            "brake_pressed": [true, false, true],
            "latitude": [18.52],
            "longitude": [73.85],
            "can_timestamps_us": ["-1"],
            "sample_ids": ["18446744073709551615", "0"],
            "yaw_rate_mdeg_s": ["-9223372036854775808"],
            "gnss_time_ms": ["1714557600000"],
            "clock_drift_ns": ["-7"],
            "throttle_permille": [2147483647],
            "ignition": ["ON", "OFF"]
        })
    );
    // Packed, as proto3 wants: one record per list.
    let bytes = commander::wire::encode_to_vec(&msg);
    let round = DynamicMessage::decode(desc.clone(), bytes.as_slice()).unwrap();
    assert_eq!(json(&round)["speed_kph"], j["speed_kph"]);
    assert!(
        hex_of(&msg).contains("6a03010002"),
        "accel_x_mg packed zigzag: {}",
        hex_of(&msg)
    );
}

#[test]
fn a_oneof_member_or_none_and_timestamps_of_a_geofence() {
    let s = sample();
    let desc = message(&s, "cvp.SetGeofence");
    let mut script = Script::new(vec![
        text("fence_id", Text("home")),
        select("shape", Pick("circle")),
        confirm("circle.center", Yes),
        text("circle.center.latitude", Text("18.5")),
        text("circle.center.longitude", Text("73.8")),
        text("circle.center.altitude_m", Enter),
        text("circle.center.heading_deg", Enter),
        text("circle.center.accuracy_m", Enter),
        text("circle.radius_m", Text("250")),
        text("active_from", Text("now")),
        text("active_until", Text("2030-01-01T00:00:00Z")),
        text("alert_on_exit", Text("true")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    let shape = script.asked("shape");
    assert_eq!(shape.q.kind, "oneof");
    assert_eq!(
        shape.items,
        ["(none)", "circle (Circle)", "polygon (Polygon)"]
    );
    assert_eq!(shape.preselected, Some(0));
    let j = json(&msg);
    assert_eq!(
        j["circle"],
        json!({"center": {"latitude": 18.5, "longitude": 73.8}, "radius_m": 250.0})
    );
    assert!(j.get("polygon").is_none());
    assert!(seconds_from_now(j["active_from"].as_str().unwrap()) < 60);
    assert_eq!(j["active_until"], "2030-01-01T00:00:00Z");

    // "(none)": no member at all.
    let mut script = Script::new(vec![
        text("fence_id", Text("home")),
        select("shape", Pick("(none)")),
        text("active_from", Enter),
        text("active_until", Enter),
        text("alert_on_exit", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(json(&msg), json!({"fence_id": "home"}));
    assert_eq!(hex_of(&msg), "0a04686f6d65");

    // A member that is a list of messages.
    let mut script = Script::new(vec![
        text("fence_id", Enter),
        select("shape", Pick("polygon")),
        confirm("polygon.vertices[0]", Yes),
        text("polygon.vertices[0].latitude", Text("1")),
        text("polygon.vertices[0].longitude", Text("2")),
        text("polygon.vertices[0].altitude_m", Enter),
        text("polygon.vertices[0].heading_deg", Enter),
        text("polygon.vertices[0].accuracy_m", Enter),
        confirm("polygon.vertices[1]", No),
        text("active_from", Enter),
        text("active_until", Enter),
        text("alert_on_exit", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"polygon": {"vertices": [{"latitude": 1.0, "longitude": 2.0}]}})
    );
}

#[test]
fn wrappers_a_map_of_messages_with_a_scalar_oneof_member_and_bad_input() {
    let s = sample();
    // OtaUpdate: UInt32Value, fixed32, uint64, bytes as hex, map<string, string>.
    let desc = message(&s, "cvp.OtaUpdate");
    let mut script = Script::new(vec![
        text("package_url", Text("https://fw.example/2.0.1.bin")),
        text("sha256", Text("not hex")),
        text("sha256", Text("0a0b0c")),
        text("size_bytes", Text("1048576")),
        text("crc32", Text("0xDEADBEEF")),
        text("target_version", Text("2.0.1")),
        text("install_after", Text("tomorrow")),
        text("install_after", Text("2024-02-30T10:00:00Z")),
        text("install_after", Text("2024-05-01T12:00:00+02:00")),
        text("metadata key", Text("channel")),
        text("metadata[channel]", Text("beta")),
        text("metadata key", Enter),
        text("max_retries", Text("-1")),
        text("max_retries", Text("0")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("max_retries").q.kind, "UInt32Value");
    assert_eq!(script.asked("crc32").q.kind, "fixed32");
    assert_eq!(script.warnings_at("sha256").len(), 1);
    assert!(script.warnings_at("sha256")[0].starts_with("bytes are hex"));
    assert_eq!(
        script.warnings_at("install_after"),
        [
            "'tomorrow' is not a time: use RFC 3339 (2024-05-01T10:00:00Z) or 'now'",
            "'2024-02-30T10:00:00Z' is not a time: use RFC 3339 (2024-05-01T10:00:00Z) or 'now'"
        ]
    );
    assert_eq!(
        script.warnings_at("max_retries"),
        ["-1 is negative; uint32 takes 0 to 4294967295"]
    );
    assert_eq!(
        json(&msg),
        json!({
            "package_url": "https://fw.example/2.0.1.bin",
            "sha256": "CgsM",
            "size_bytes": "1048576",
            "crc32": 3735928559u32,
            "target_version": "2.0.1",
            "install_after": "2024-05-01T10:00:00Z",
            "metadata": {"channel": "beta"},
            // A wrapper holding 0 is there, unlike a plain uint32 0.
            "max_retries": 0
        })
    );
    assert!(hex_of(&msg).ends_with("4200"), "{}", hex_of(&msg));
    assert!(hex_of(&msg).contains("25efbeadde"), "crc32 as fixed32 LE");

    // ConfigUpdate: map<string, ConfigValue> whose values hold a oneof of
    // scalars, and a StringValue.
    let desc = message(&s, "cvp.ConfigUpdate");
    let mut script = Script::new(vec![
        text("settings key", Text("mode")),
        select("settings[mode].value", Pick("string_value")),
        text("settings[mode].string_value", Text("eco")),
        text("settings key", Text("limit")),
        select("settings[limit].value", Pick("int_value")),
        text("settings[limit].int_value", Text("9223372036854775808")),
        text("settings[limit].int_value", Text("-12")),
        text("settings key", Text("off")),
        select("settings[off].value", Pick("(none)")),
        text("settings key", Enter),
        text("comment", Text("utf8:is not bytes")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.warnings_at("settings[limit].int_value"),
        [
            "9223372036854775808 is out of range for int64 (min -9223372036854775808, max 9223372036854775807)"
        ]
    );
    assert_eq!(script.asked("comment").q.kind, "StringValue");
    assert_eq!(
        json(&msg),
        json!({
            "settings": {
                "mode": {"string_value": "eco"},
                "limit": {"int_value": "-12"},
                "off": {}
            },
            "comment": "utf8:is not bytes"
        })
    );
}

#[test]
fn float_takes_nan_and_inf_and_refuses_what_does_not_fit() {
    let s = sample();
    let desc = message(&s, "cvp.ClimateControl");
    let mut script = Script::new(vec![
        text("target_temp_c", Text("1e39")),
        text("target_temp_c", Text("warm")),
        text("target_temp_c", Text("nan")),
        text("fan_level", Text("4294967296")),
        text("fan_level", Text("3")),
        text("seat_heaters key", Text("driver")),
        text("seat_heaters[driver]", Text("on")),
        text("seat_heaters key", Enter),
        text("defrost", Text("false")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    let w = script.warnings_at("target_temp_c");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("out of range for float"), "{w:?}");
    assert_eq!(w[1], "'warm' is not a number");
    assert_eq!(
        script.warnings_at("fan_level"),
        ["4294967296 is out of range for uint32 (max 4294967295)"]
    );
    assert_eq!(script.asked("defrost").q.kind, "optional bool");
    // An optional bool set to false is sent; nan is a float like any other.
    assert_eq!(
        json(&msg),
        json!({
            "target_temp_c": "NaN",
            "fan_level": 3,
            "seat_heaters": {"driver": true},
            "defrost": false
        })
    );
    assert!(hex_of(&msg).ends_with("2000"), "{}", hex_of(&msg));

    // inf for a float; Enter on the optional leaves it unset: nothing sent.
    let mut script = Script::new(vec![
        text("target_temp_c", Text("-inf")),
        text("fan_level", Enter),
        text("seat_heaters key", Enter),
        text("defrost", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(json(&msg), json!({"target_temp_c": "-Infinity"}));
    assert_eq!(hex_of(&msg), "0d000080ff");
}

// ---------------------------------------------------------------------------
// skipping: nothing the user did not choose is sent
// ---------------------------------------------------------------------------

#[test]
fn skipping_everything_sends_only_the_selector_and_its_payload() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let steps = [
        vec![select("subtype", Pick("ENGINE_START"))],
        command_header_unset(),
        vec![
            text("engine_start.run_minutes", Enter),
            text("engine_start.cabin_target_c", Enter),
            // "fill it?" yes, then nothing filled: no empty Schedule sent.
            confirm("engine_start.schedule", Yes),
            text("engine_start.schedule.start_at", Enter),
            text("engine_start.schedule.repeat_every", Enter),
            select("engine_start.schedule.days[0]", Pick("(done")),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();
    assert!(
        script
            .said
            .iter()
            .any(|s| s == "engine_start.schedule: nothing filled, left unset"),
        "{:?}",
        script.said
    );
    // subtype = 1, engine_start present (the subtype says it is there) and
    // empty: no defaults written for skipped fields.
    assert_eq!(
        json(&msg),
        json!({"subtype": "ENGINE_START", "engine_start": {}})
    );
    assert_eq!(hex_of(&msg), "2801a20100");
}

#[test]
fn proto3_optional_left_unset_versus_set_to_zero() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    // `runs`: the answers to run_minutes, the refused ones first.
    let engine_start = |runs: &[Answer<'static>], cabin: Answer<'static>| {
        let mut steps = vec![select("subtype", Pick("ENGINE_START"))];
        steps.extend(command_header_unset());
        for run in runs {
            steps.push(text("engine_start.run_minutes", *run));
        }
        steps.push(text("engine_start.cabin_target_c", cabin));
        steps.push(confirm("engine_start.schedule", No));
        steps
    };

    let mut script = Script::new(engine_start(&[Text("0")], Enter));
    let unset = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.asked("engine_start.cabin_target_c").q.kind,
        "optional sint32"
    );
    // run_minutes 0 is proto3's default: not on the wire.
    assert_eq!(hex_of(&unset), "2801a20100");

    let mut script = Script::new(engine_start(&[Text("15")], Text("0")));
    let zero = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        json(&zero)["engine_start"],
        json!({"run_minutes": 15, "cabin_target_c": 0})
    );
    assert_eq!(hex_of(&zero), "2801a20104080f1000");

    let mut script = Script::new(engine_start(&[Text("70000000000"), Text("15")], Text("-5")));
    let set = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.warnings_at("engine_start.run_minutes"),
        ["70000000000 is out of range for uint32 (max 4294967295)"]
    );
    assert_eq!(hex_of(&set), "2801a20104080f1009");
}

#[test]
fn no_for_a_nested_message_and_enter_for_an_enum_leave_them_unset() {
    let s = sample();
    let desc = message(&s, "cvp.LocateVehicleResult");
    let mut script = Script::new(vec![
        // Enter on "fill it?" is "no" (its default).
        confirm("position", Enter),
        text("fix_time", Enter),
        text("satellites", Enter),
        text("speed_kph", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("position").default_yes, Some(false));
    assert_eq!(hex_of(&msg), "");

    let desc = message(&s, "cvp.DoorResult");
    let mut script = Script::new(vec![
        confirm("doors[0]", Yes),
        // Enter (no pick) on an enum leaves it unset too.
        select("doors[0].door", Enter),
        text("doors[0].locked", Enter),
        text("doors[0].open", Enter),
        confirm("doors[1]", No),
        text("alarm_armed", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    // An element added to a list is an element, even with nothing in it.
    assert_eq!(json(&msg), json!({"doors": [{}]}));
    assert_eq!(hex_of(&msg), "0a00");
}

#[test]
fn quitting_anywhere_leaves_the_builder_cleanly() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    for steps in [
        vec![select("subtype", Quit)],
        vec![select("subtype", Pick("LOCATE")), text("message_id", Quit)],
        [
            vec![select("subtype", Pick("LOCATE"))],
            command_header_unset(),
            vec![text("locate_vehicle.high_accuracy", Quit)],
        ]
        .concat(),
    ] {
        let last = steps.last().unwrap().path.clone();
        let mut script = Script::new(steps);
        let built = Builder::new(&mut script)
            .build(DynamicMessage::new(desc.clone()))
            .unwrap();
        script.finish();
        assert!(matches!(built, Built::Quit), "quit at {last}");
    }
}

// ---------------------------------------------------------------------------
// envelope linking on the sample protocol
// ---------------------------------------------------------------------------

#[test]
fn command_message_links_subtype_to_the_payload_by_name() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let l = link::find(&desc)
        .one()
        .expect("CommandMessage is an envelope");
    assert_eq!(l.by, LinkedBy::Name);
    assert_eq!(l.selector_path(), "subtype");

    let steps = [
        vec![select("subtype", Pick("HORN_AND_LIGHTS"))],
        command_header_unset(),
        vec![
            text("horn_lights.flashes", Text("3")),
            text("horn_lights.honks", Text("2")),
            text("horn_lights.duration", Text("1.5s")),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();

    let sub = script.asked("subtype");
    assert_eq!(sub.q.kind, "CommandSubtype");
    assert!(sub.q.hint.contains("payload"), "{:?}", sub.q);
    assert_eq!(sub.items[0], "COMMAND_SUBTYPE_UNSPECIFIED (0)");
    assert_eq!(sub.items[5], "HORN_AND_LIGHTS (5)  → horn_lights");
    assert_eq!(sub.items[8], "SET_GEOFENCE (8)  → geofence");
    // The first real command is preselected.
    assert_eq!(sub.preselected, Some(1));
    assert_eq!(script.asked("horn_lights.duration").q.kind, "Duration");
    assert!(
        script
            .said
            .contains(&"horn_lights (HornAndLightsPayload)".to_owned()),
        "{:?}",
        script.said
    );
    assert_eq!(
        json(&msg),
        json!({
            "subtype": "HORN_AND_LIGHTS",
            "horn_lights": {"flashes": 3, "honks": 2, "duration": "1.500s"}
        })
    );
    assert_eq!(hex_of(&msg), "2805c2010e080310021a0808011080cab5ee01");
}

#[test]
fn command_response_links_by_name_despite_the_extra_error_member() {
    let s = sample();
    let desc = message(&s, "cvp.CommandResponseMessage");
    let l = link::find(&desc)
        .one()
        .expect("the response is an envelope");
    assert_eq!(l.by, LinkedBy::Name);
    assert_eq!(l.member_for(1).unwrap().name(), "engine_start");

    let mut header = command_header_unset();
    header.pop(); // no expires_in in the response
    let steps = [
        vec![select("subtype", Pick("ENGINE_START"))],
        header,
        vec![
            select("return_code", Pick("SUCCESS")),
            text("engine_start.started_at", Text("2024-05-01T10:00:00Z")),
            text("engine_start.cabin_temp_c", Text("21")),
            text("engine_start.auto_stop_in", Text("600s")),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.asked("subtype").items[1],
        "ENGINE_START (1)  → engine_start"
    );
    let j = json(&msg);
    assert!(j.get("error").is_none(), "{j}");
    assert_eq!(
        j,
        json!({
            "subtype": "ENGINE_START",
            "return_code": "SUCCESS",
            "engine_start": {
                "started_at": "2024-05-01T10:00:00Z",
                "cabin_temp_c": 21,
                "auto_stop_in": "600s"
            }
        })
    );
    // Field 20 (engine_start), not 19 (error).
    assert!(hex_of(&msg).contains("a201"), "{}", hex_of(&msg));
    assert!(!hex_of(&msg).contains("9a01"), "{}", hex_of(&msg));
}

#[test]
fn vehicle_event_links_event_type_to_the_detail() {
    let s = sample();
    let desc = message(&s, "cvp.VehicleEventMessage");
    let l = link::find(&desc).one().expect("the event is an envelope");
    assert_eq!(l.selector_path(), "event_type");
    assert_eq!(l.oneof.name(), "detail");

    let mut script = Script::new(vec![
        select("event_type", Pick("CRASH")),
        text("message_id", Enter),
        text("correlation_id", Enter),
        text("vehicle_id", Text("MH12VF1121")),
        select("type", Pick("VEHICLE_EVENT")),
        select("priority", Pick("(leave unset)")),
        select("provisioning_state", Pick("(leave unset)")),
        text("version", Enter),
        text("time_stamp", Enter),
        select("packet_status", Pick("(leave unset)")),
        select("severity", Pick("EMERGENCY")),
        confirm("location", No),
        text("sequence", Text("7")),
        text("crash.peak_g", Text("9.5")),
        text("crash.airbags_deployed", Text("true")),
        text("crash.speed_before_kph", Enter),
        text("crash.accel_trace_mg[0]", Text("-100")),
        text("crash.accel_trace_mg[1]", Text("250")),
        text("crash.accel_trace_mg[2]", Enter),
        text("attributes key", Text("firmware")),
        text("attributes[firmware]", Text("2.0.1")),
        text("attributes key", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(script.asked("event_type").items[1], "CRASH (1)  → crash");
    assert_eq!(
        json(&msg),
        json!({
            "vehicle_id": "MH12VF1121",
            "type": "VEHICLE_EVENT",
            "event_type": "CRASH",
            "severity": "EMERGENCY",
            "sequence": "7",
            "crash": {"peak_g": 9.5, "airbags_deployed": true, "accel_trace_mg": [-100, 250]},
            "attributes": {"firmware": "2.0.1"}
        })
    );
}

#[test]
fn picking_a_subtype_without_a_payload_asks_for_no_payload() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let steps = [
        vec![select("subtype", Pick("COMMAND_SUBTYPE_UNSPECIFIED"))],
        command_header_unset(),
    ]
    .concat();
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(hex_of(&msg), "");
}

// ---------------------------------------------------------------------------
// envelope linking on a protocol shaped otherwise (acme)
// ---------------------------------------------------------------------------

#[test]
fn acme_envelope_links_a_header_enum_to_a_body_oneof_by_name() {
    let s = acme();
    let desc = message(&s, "acme.Envelope");
    let l = link::find(&desc)
        .one()
        .expect("acme.Envelope is an envelope");
    assert_eq!(l.by, LinkedBy::Name);
    assert_eq!(l.selector_path(), "header.op");
    assert_eq!(l.oneof.name(), "content");
    assert_eq!(l.member_for(1).unwrap().name(), "set_level");
    assert_eq!(l.member_for(2).unwrap().name(), "probe"); // by type name
    assert_eq!(l.member_for(3).unwrap().name(), "reboot_device");

    let mut script = Script::new(vec![
        select("header.op", Pick("READ_SENSOR")),
        text("header.id", Text("req-9")),
        text("header.sent_at", Text("2024-05-01T10:00:00Z")),
        text("body.probe.sensor", Text("coolant")),
        text("body.probe.channels[0]", Text("4")),
        text("body.probe.channels[1]", Text("x")),
        text("body.probe.channels[1]", Text("7")),
        text("body.probe.channels[2]", Enter),
        text("body.note", Enter),
        text("trace", Text("t-1")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    let op = script.asked("header.op");
    assert_eq!(op.q.kind, "Op");
    assert_eq!(
        op.items,
        [
            "OP_NONE (0)",
            "SET_LEVEL (1)  → set_level",
            "READ_SENSOR (2)  → probe",
            "REBOOT_DEVICE (3)  → reboot_device",
            "(no link: fill the fields one by one)"
        ]
    );
    assert_eq!(
        script.warnings_at("body.probe.channels[1]"),
        ["'x' is not an integer"]
    );
    assert_eq!(
        json(&msg),
        json!({
            "header": {"id": "req-9", "op": "READ_SENSOR", "sent_at": "2024-05-01T10:00:00Z"},
            "body": {"probe": {"sensor": "coolant", "channels": [4, 7]}},
            "trace": "t-1"
        })
    );
    // By position READ_SENSOR (2) would have been `probe` too; SET_LEVEL
    // (1) tells the two apart: by position it would be reboot_device.
    let mut script = Script::new(vec![
        select("header.op", Pick("SET_LEVEL")),
        text("header.id", Enter),
        text("header.sent_at", Enter),
        text("body.set_level.level", Text("-3")),
        text("body.note", Text("dim")),
        text("trace", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        json(&msg),
        json!({"header": {"op": "SET_LEVEL"}, "body": {"set_level": {"level": -3}, "note": "dim"}})
    );
    assert_eq!(hex_of(&msg), "0a02100112091a020805520364696d");
}

#[test]
fn acme_frame_links_by_position_when_no_name_matches() {
    let s = acme();
    let desc = message(&s, "acme.Frame");
    let l = link::find(&desc)
        .one()
        .expect("acme.Frame links by position");
    assert_eq!(l.by, LinkedBy::Position);
    assert_eq!(l.selector_path(), "kind");

    let mut script = Script::new(vec![
        select("kind", Pick("GOODBYE")),
        text("device", Text("d-1")),
        text("second.bye", Text("yes")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.asked("kind").items,
        [
            "FRAME_KIND_UNSPECIFIED (0)",
            "HELLO (1)  → first",
            "GOODBYE (2)  → second",
            "PING (3)  → third",
            "(no link: fill the fields one by one)"
        ]
    );
    assert_eq!(
        json(&msg),
        json!({"device": "d-1", "kind": "GOODBYE", "second": {"bye": true}})
    );
    assert_eq!(hex_of(&msg), "0a03642d31100222020801");

    // A scalar member is asked as one value.
    let mut script = Script::new(vec![
        select("kind", Pick("PING")),
        text("device", Enter),
        text("third", Text("42")),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(json(&msg), json!({"kind": "PING", "third": 42}));
    assert_eq!(hex_of(&msg), "1003282a");
}

#[test]
fn acme_envelope_with_no_member_sends_no_empty_body() {
    let s = acme();
    let desc = message(&s, "acme.Envelope");
    let mut script = Script::new(vec![
        select("header.op", Pick("OP_NONE")),
        text("header.id", Text("req-1")),
        text("header.sent_at", Enter),
        text("body.note", Enter),
        text("trace", Enter),
    ]);
    let msg = build(&desc, &mut script);
    script.finish();
    // Everything skipped as well: nothing at all to send.
    let mut script = Script::new(vec![
        select("header.op", Pick("OP_NONE")),
        text("header.id", Enter),
        text("header.sent_at", Enter),
        text("body.note", Enter),
        text("trace", Enter),
    ]);
    let nothing = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        (hex_of(&msg), hex_of(&nothing)),
        ("0a070a057265712d31".to_owned(), String::new()),
        "{} / {}",
        json(&msg),
        json(&nothing)
    );
}

// ---------------------------------------------------------------------------
// recursion
// ---------------------------------------------------------------------------

/// A DiagnosticsReport whose `topology` gets one child per level for as
/// long as the builder offers one: the report is level 0, `topology` level
/// 1, each child one more, and messages are offered while they are fewer
/// than MAX_DEPTH levels down. On the way back up each level declines a
/// second child. Returns the steps and the deepest node's path.
fn topology_as_deep_as_offered() -> (Vec<Step<'static>>, String) {
    let levels = MAX_DEPTH - 1;
    let mut steps = vec![
        confirm("dtcs[0]", No),
        text("freeze_frames key", Enter),
        confirm("topology", Yes),
    ];
    let mut paths = vec!["topology".to_owned()];
    for level in 0..levels {
        let path = paths.last().unwrap().clone();
        steps.push(text(format!("{path}.address"), Text("1")));
        steps.push(text(format!("{path}.name"), Enter));
        steps.push(text(format!("{path}.software_version"), Enter));
        // The deepest node gets no `children[0]` question at all.
        if level + 1 < levels {
            steps.push(confirm(format!("{path}.children[0]"), Yes));
            paths.push(format!("{path}.children[0]"));
        }
    }
    for p in paths.iter().rev().skip(1) {
        steps.push(confirm(format!("{p}.children[1]"), No));
    }
    steps.push(text("clock_offset_ns", Enter));
    steps.push(text("ecu_serial", Enter));
    (steps, paths.pop().unwrap())
}

#[test]
fn self_referencing_topology_stops_at_the_depth_limit() {
    let s = sample();
    let desc = message(&s, "cvp.DiagnosticsReport");
    let (steps, deepest) = topology_as_deep_as_offered();
    let mut script = Script::new(steps);
    let msg = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        script.times_asked(&format!("{deepest}.children[0]")),
        0,
        "the deepest node is not offered children"
    );
    // What was filled is all there, MAX_DEPTH - 1 nodes deep.
    let mut node = json(&msg)["topology"].clone();
    let mut depth = 1;
    while let Some(child) = node.get("children").map(|c| c[0].clone()) {
        assert_eq!(node["address"], 1);
        node = child;
        depth += 1;
    }
    assert_eq!(depth, MAX_DEPTH - 1);
}

#[test]
fn the_depth_limit_is_explained_for_lists_too() {
    let s = sample();
    let desc = message(&s, "cvp.DiagnosticsReport");
    let (steps, deepest) = topology_as_deep_as_offered();
    let mut script = Script::new(steps);
    build(&desc, &mut script);
    script.finish();
    let children = format!("{deepest}.children");
    assert!(
        script
            .said
            .iter()
            .any(|s| s.starts_with(&children) && s.contains("not offered")),
        "nothing tells the user why {children} is not asked: {:?}",
        script.said
    );
}

#[test]
fn a_self_referencing_oneof_stops_at_the_depth_limit() {
    let s = acme();
    let desc = message(&s, "acme.Tree");
    let mut steps = Vec::new();
    let mut path = String::new();
    let join = |p: &str, n: &str| {
        if p.is_empty() {
            n.to_owned()
        } else {
            format!("{p}.{n}")
        }
    };
    // Wrap as deep as offered: the root is level 0, each wrap one more.
    let mut ancestors = Vec::new();
    for _ in 0..MAX_DEPTH - 1 {
        steps.push(text(join(&path, "label"), Enter));
        steps.push(select(join(&path, "shape"), Pick("wrap")));
        ancestors.push(path.clone());
        // The path --set takes: the oneof's name is not part of it.
        path = join(&path, "wrap");
    }
    // MAX_DEPTH - 1 levels down: the wrap member must not be offered, nor
    // the branches map, whose values are Trees too.
    steps.push(text(join(&path, "label"), Text("deep")));
    steps.push(select(join(&path, "shape"), Pick("(none)")));
    for p in ancestors.iter().rev() {
        steps.push(text(join(p, "branches key"), Enter));
    }
    let mut script = Script::new(steps);
    build(&desc, &mut script);
    script.finish();
    assert!(
        script
            .said
            .iter()
            .any(|s| s.contains("branches: not offered")),
        "{:?}",
        script.said
    );
    let deepest = script.asked(&join(&path, "shape"));
    assert!(
        !deepest.items.iter().any(|i| i.starts_with("wrap")),
        "{} levels down `wrap` is still offered: {:?}",
        MAX_DEPTH - 1,
        deepest.items
    );
}

// ---------------------------------------------------------------------------
// profile defaults (SPEC 7)
// ---------------------------------------------------------------------------

#[test]
fn builtin_profile_defaults_are_offered_kept_changed_and_cleared() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let profile = Profile::builtin().unwrap();
    let mut start = DynamicMessage::new(desc.clone());
    profile.apply_defaults(&mut start).unwrap();

    let mut script = Script::new(vec![
        select("subtype", Pick("ENGINE_STOP")),
        text("message_id", Enter),
        text("correlation_id", Text("-")),
        text("vehicle_id", Text("KA01AB1234")),
        select("type", Pick("(keep COMMAND)")),
        select("priority", Pick("HIGH")),
        select("provisioning_state", Pick("(keep ACTIVE)")),
        text("version", Enter),
        text("time_stamp", Text("-")),
        select("packet_status", Pick("(keep COMPLETE)")),
        text("expires_in", Enter),
        text("engine_stop.force", Text("true")),
    ]);
    let msg = build_from(start, &mut script);
    script.finish();

    let id = script
        .asked("message_id")
        .q
        .default
        .clone()
        .expect("a default id");
    uuid::Uuid::parse_str(&id).expect("message_id is a UUID");
    let corr = script.asked("correlation_id").q.default.clone().unwrap();
    uuid::Uuid::parse_str(&corr).expect("correlation_id is a UUID");
    assert_ne!(id, corr);
    assert_eq!(
        script.asked("vehicle_id").q.default.as_deref(),
        Some("MH12VF1121")
    );
    assert_eq!(script.asked("version").q.default.as_deref(), Some("3"));
    let ts = script.asked("time_stamp").q.default.clone().unwrap();
    assert!(seconds_from_now(&ts) < 60, "{ts}");
    // Fields the profile does not fill have no default.
    assert_eq!(script.asked("expires_in").q.default, None);
    assert_eq!(script.asked("type").items[0], "(keep COMMAND)");

    assert_eq!(
        json(&msg),
        json!({
            "message_id": id,
            "vehicle_id": "KA01AB1234",
            "type": "COMMAND",
            "subtype": "ENGINE_STOP",
            "priority": "HIGH",
            "provisioning_state": "ACTIVE",
            "version": 3,
            "packet_status": "COMPLETE",
            "engine_stop": {"force": true}
        })
    );
}

#[test]
fn a_custom_profile_copies_message_id_into_correlation_id() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let profile = Profile::parse(
        "[defaults]\n\
         correlation_id = \"{message_id}\"\n\
         message_id     = \"{uuid}\"\n\
         vehicle_id     = \"KA01AB1234\"\n",
        None,
    )
    .unwrap();
    let mut start = DynamicMessage::new(desc.clone());
    profile.apply_defaults(&mut start).unwrap();
    let steps = [
        vec![select("subtype", Pick("DOOR_LOCK"))],
        vec![
            text("message_id", Enter),
            text("correlation_id", Enter),
            text("vehicle_id", Enter),
            select("type", Pick("(leave unset)")),
            select("priority", Pick("(leave unset)")),
            select("provisioning_state", Pick("(leave unset)")),
            text("version", Enter),
            text("time_stamp", Enter),
            select("packet_status", Pick("(leave unset)")),
            text("expires_in", Enter),
        ],
        vec![
            select("door_lock.doors[0]", Pick("TAILGATE")),
            select("door_lock.doors[1]", Pick("(done")),
            text("door_lock.arm_alarm", Enter),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let msg = build_from(start, &mut script);
    script.finish();
    let id = script.asked("message_id").q.default.clone().unwrap();
    uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(
        script.asked("correlation_id").q.default.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        json(&msg),
        json!({
            "message_id": id,
            "correlation_id": id,
            "vehicle_id": "KA01AB1234",
            "subtype": "DOOR_LOCK",
            "door_lock": {"doors": ["TAILGATE"]}
        })
    );
}

#[test]
fn a_copied_default_follows_the_value_the_user_typed() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let profile = Profile::parse(
        "[defaults]\nmessage_id = \"{uuid}\"\ncorrelation_id = \"{message_id}\"\n",
        None,
    )
    .unwrap();
    let mut start = DynamicMessage::new(desc.clone());
    profile.apply_defaults(&mut start).unwrap();
    let mut steps = vec![
        select("subtype", Pick("ENGINE_STOP")),
        text("message_id", Text("my-own-id")),
        text("correlation_id", Enter),
    ];
    steps.extend(command_header_unset().into_iter().skip(2));
    steps.push(text("engine_stop.force", Enter));
    let mut script = Script::new(steps);
    let msg = match Builder::new(&mut script)
        .following(&profile, &start)
        .build(start.clone())
        .expect("the builder fails")
    {
        Built::Message(m) => m,
        Built::Quit => panic!("the builder quit"),
    };
    script.finish();
    assert_eq!(
        script.asked("correlation_id").q.default.as_deref(),
        Some("my-own-id")
    );
    assert_eq!(json(&msg)["correlation_id"], "my-own-id");
}

#[test]
fn a_profile_default_naming_a_missing_field_warns_with_its_line() {
    let s = sample();
    let path = fixture("missing-field.toml");
    let profile = Profile::load(&path).unwrap();
    let session = Session {
        desc: message(&s, "cvp.CommandMessage"),
        response: None,
        profile,
        mqtt: None,
        link: LinkChoice::Auto,
        bytes_as: None,
    };
    let mut script = Script::new(vec![select("subtype", Quit)]);
    let mut out = Vec::new();
    session.run(&mut script, &mut out).unwrap();
    script.finish();
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert_eq!(script.warnings.len(), 1, "{:?}", script.warnings);
    let w = &script.warnings[0].1;
    assert!(
        w.contains(&format!(
            "profile {}, line 3: defaults.vehicel_id",
            path.display()
        )),
        "{w}"
    );
    assert!(
        w.contains("has no field 'vehicel_id'") && w.contains("did you mean 'vehicle_id'"),
        "{w}"
    );
}

#[test]
fn a_bad_profile_default_does_not_drop_the_others() {
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let profile = Profile::load(&fixture("missing-field.toml")).unwrap();
    let mut start = DynamicMessage::new(desc.clone());
    assert!(profile.apply_defaults(&mut start).is_err());
    assert_eq!(json(&start)["vehicle_id"], "MH12VF1121");
    assert!(
        start.has_field_by_name("message_id"),
        "message_id = \"{{uuid}}\" (line 4) was not applied: {}",
        json(&start)
    );
}

// ---------------------------------------------------------------------------
// editing: what is there is offered as the default
// ---------------------------------------------------------------------------

#[test]
fn editing_offers_every_value_and_typing_it_back_changes_nothing() {
    // At a terminal, Enter on a prompt with a default returns the default
    // text: it must parse back to the same value.
    let s = sample();
    let desc = message(&s, "cvp.OtaUpdate");
    let mut script = Script::new(vec![
        text("package_url", Text("https://fw/x.bin")),
        text("sha256", Text("00ff")),
        text("size_bytes", Text("10")),
        text("crc32", Text("7")),
        text("target_version", Text(" 2.0 ")),
        text("install_after", Text("2024-05-01T10:00:00.5Z")),
        text("metadata key", Text("a")),
        text("metadata[a]", Text("b")),
        text("metadata key", Enter),
        text("max_retries", Text("4")),
    ]);
    let first = build(&desc, &mut script);
    script.finish();

    let fields = [
        "package_url",
        "sha256",
        "size_bytes",
        "crc32",
        "target_version",
        "install_after",
    ];
    let mut steps: Vec<Step> = Vec::new();
    for f in fields {
        steps.push(text(f, Enter));
    }
    // A map being edited first asks whether to keep its entries.
    steps.push(confirm("metadata", Yes));
    steps.push(text("metadata key", Enter));
    steps.push(text("max_retries", Enter));
    let mut script = Script::new(steps);
    let again = build_from(first.clone(), &mut script);
    script.finish();
    assert_eq!(hex_of(&again), hex_of(&first));
    let shown: Vec<(String, Option<String>)> = script
        .asked
        .iter()
        .map(|a| (a.q.path.clone(), a.q.default.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            ("package_url", Some("https://fw/x.bin")),
            ("sha256", Some("00ff")),
            ("size_bytes", Some("10")),
            ("crc32", Some("7")),
            ("target_version", Some(" 2.0 ")),
            ("install_after", Some("2024-05-01T10:00:00.500Z")),
            ("metadata", None),
            ("metadata key", None),
            ("max_retries", Some("4")),
        ]
        .map(|(p, d)| (p.to_owned(), d.map(str::to_owned)))
    );
    // Typing each default back (what dialoguer returns on Enter).
    let defaults: Vec<String> = shown.iter().filter_map(|(_, d)| d.clone()).collect();
    let mut steps: Vec<Step> = Vec::new();
    for (f, d) in fields.iter().zip(&defaults) {
        steps.push(text(*f, Text(d)));
    }
    steps.push(confirm("metadata", Yes));
    steps.push(text("metadata key", Enter));
    steps.push(text("max_retries", Text(&defaults[6])));
    let mut script = Script::new(steps);
    let typed = build_from(first.clone(), &mut script);
    script.finish();
    assert!(script.warnings.is_empty(), "{:?}", script.warnings);
    assert_eq!(hex_of(&typed), hex_of(&first));
}

#[test]
fn an_empty_string_wrapper_kept_with_enter_stays_empty() {
    // A profile that sends an explicitly empty comment with config updates.
    let s = sample();
    let desc = message(&s, "cvp.CommandMessage");
    let profile = Profile::parse("[defaults]\n\"config_update.comment\" = \"\"\n", None).unwrap();
    let mut start = DynamicMessage::new(desc.clone());
    profile.apply_defaults(&mut start).unwrap();
    assert_eq!(hex_of(&start), "fa01021200");
    fn steps(comment: Answer<'_>) -> Vec<Step<'_>> {
        let mut steps = vec![select("subtype", Pick("CONFIG_UPDATE"))];
        steps.extend(command_header_unset());
        steps.push(text("config_update.settings key", Enter));
        steps.push(text("config_update.comment", comment));
        steps
    }
    let mut script = Script::new(steps(Enter));
    build_from(start.clone(), &mut script);
    script.finish();
    let shown = script
        .asked("config_update.comment")
        .q
        .default
        .clone()
        .expect("the empty comment is offered as the default");
    // What dialoguer's Input returns when Enter is pressed on a default.
    let mut script = Script::new(steps(Text(&shown)));
    let kept = build_from(start, &mut script);
    script.finish();
    assert_eq!(
        json(&kept)["config_update"],
        json!({"comment": ""}),
        "shown default {shown:?}"
    );
}

#[test]
fn editing_a_list_keeps_it_and_adds_or_clears_it_and_starts_again() {
    let s = sample();
    let desc = message(&s, "cvp.DoorLock");
    let mut script = Script::new(vec![
        select("doors[0]", Pick("FRONT_LEFT")),
        select("doors[1]", Pick("HOOD")),
        select("doors[2]", Pick("(done")),
        text("arm_alarm", Text("true")),
    ]);
    let first = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        json(&first),
        json!({"doors": ["FRONT_LEFT", "HOOD"], "arm_alarm": true})
    );

    // Keep them: the next element is [2].
    let mut script = Script::new(vec![
        confirm("doors", Yes),
        select("doors[2]", Pick("TAILGATE")),
        select("doors[3]", Pick("(done")),
        text("arm_alarm", Enter),
    ]);
    let kept = build_from(first.clone(), &mut script);
    script.finish();
    let keep = script.asked("doors");
    assert_eq!(keep.default_yes, Some(true));
    assert!(keep.q.hint.contains("2 element(s)"), "{:?}", keep.q);
    assert_eq!(
        json(&kept),
        json!({"doors": ["FRONT_LEFT", "HOOD", "TAILGATE"], "arm_alarm": true})
    );

    // Clear them and start again; `-` clears the bool.
    let mut script = Script::new(vec![
        confirm("doors", No),
        select("doors[0]", Pick("REAR_RIGHT")),
        select("doors[1]", Pick("(done")),
        text("arm_alarm", Text("-")),
    ]);
    let redone = build_from(first, &mut script);
    script.finish();
    assert_eq!(script.asked("arm_alarm").q.default.as_deref(), Some("true"));
    assert_eq!(json(&redone), json!({"doors": ["REAR_RIGHT"]}));
    assert_eq!(hex_of(&redone), "0a0104");
}

#[test]
fn editing_a_map_can_drop_its_entries() {
    let s = sample();
    let desc = message(&s, "cvp.ClimateControl");
    let mut first = DynamicMessage::new(desc.clone());
    commander::value::apply_set(&mut first, "seat_heaters[drvier]=true").unwrap();
    let mut script = Script::new(vec![
        text("target_temp_c", Enter),
        text("fan_level", Enter),
        confirm("seat_heaters", No),
        text("seat_heaters key", Text("driver")),
        text("seat_heaters[driver]", Text("true")),
        text("seat_heaters key", Enter),
        text("defrost", Enter),
    ]);
    let fixed = build_from(first, &mut script);
    script.finish();
    assert_eq!(json(&fixed), json!({"seat_heaters": {"driver": true}}));
}

// ---------------------------------------------------------------------------
// the session: build, show, paste the reply, edit, quit
// ---------------------------------------------------------------------------

/// The hex lines a session printed (a whole line of hex digits).
fn hex_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.len() >= 8 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_session_builds_shows_decodes_the_reply_edits_and_quits() {
    let s = sample();
    let command = message(&s, "cvp.CommandMessage");
    let response = message(&s, "cvp.CommandResponseMessage");
    // The vehicle's answer, as a user would paste it.
    let mut reply = DynamicMessage::new(response.clone());
    for set in [
        "subtype=HORN_AND_LIGHTS",
        "return_code=SUCCESS",
        "horn_and_lights.flashes_done=3",
        "correlation_id=corr-77",
    ] {
        commander::value::apply_set(&mut reply, set).unwrap();
    }
    let reply_hex = hex_of(&reply);
    let spaced: String = reply_hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");

    let steps = [
        vec![select("subtype", Pick("HORN_AND_LIGHTS"))],
        command_header_kept(),
        vec![
            text("horn_lights.flashes", Text("3")),
            text("horn_lights.honks", Enter),
            text("horn_lights.duration", Text("2s")),
            // Not hex, not base64; then hex that is not a response.
            text("reply", Text("no reply!")),
            text("reply", Text("ff")),
            text("reply", Text(&spaced)),
            select("next", Pick("edit this one")),
            // The same message again: its values are the defaults.
            select("subtype", Pick("HORN_AND_LIGHTS")),
        ],
        command_header_kept(),
        vec![
            text("horn_lights.flashes", Text("5")),
            text("horn_lights.honks", Enter),
            text("horn_lights.duration", Enter),
            text("reply", Enter),
            select("next", Pick("quit")),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let session = Session {
        desc: command.clone(),
        response: Some(response.clone()),
        profile: Profile::builtin().unwrap(),
        mqtt: None,
        link: LinkChoice::Auto,
        bytes_as: None,
    };
    let mut out = Vec::new();
    session.run(&mut script, &mut out).unwrap();
    script.finish();
    let out = String::from_utf8(out).unwrap();

    // The bad replies were refused with the reason and asked again.
    let w = script.warnings_at("reply");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("not hex or base64: "), "{w:?}");
    assert!(
        w[1].starts_with("cannot decode it as cvp.CommandResponseMessage"),
        "{w:?}"
    );
    assert_eq!(
        script.asked("next").items,
        ["build another", "edit this one", "quit"]
    );

    // Two messages shown, each as a table and its hex.
    let hexes = hex_lines(&out);
    assert_eq!(hexes.len(), 2, "{out}");
    let first = decode(&command, &hexes[0]);
    let second = decode(&command, &hexes[1]);
    let id = first.get_field_by_name("message_id").unwrap();
    let id = id.as_str().unwrap();
    uuid::Uuid::parse_str(id).unwrap();
    let mut j1 = json(&first);
    let ts = j1["time_stamp"].as_str().unwrap().to_owned();
    assert!(seconds_from_now(&ts) < 60);
    assert_eq!(j1["horn_lights"], json!({"flashes": 3, "duration": "2s"}));
    assert_eq!(j1["subtype"], "HORN_AND_LIGHTS");
    assert_eq!(j1["vehicle_id"], "MH12VF1121");
    // Edited: flashes changed, everything else kept (ids and time too).
    let mut j2 = json(&second);
    assert_eq!(j2["horn_lights"], json!({"flashes": 5, "duration": "2s"}));
    j1.as_object_mut().unwrap().remove("horn_lights");
    j2.as_object_mut().unwrap().remove("horn_lights");
    assert_eq!(j1, j2);
    // The table shown is the table of what was sent.
    for (m, h) in [(&first, &hexes[0]), (&second, &hexes[1])] {
        let shown = format!(
            "cvp.CommandMessage · {} bytes\n{}\n{h}\n",
            h.len() / 2,
            commander::render::table::message_table(m, false)
        );
        assert!(out.contains(&shown), "{shown}\nnot in\n{out}");
    }
    let bytes = hex::decode(&hexes[0]).unwrap();
    assert!(
        out.contains(&format!("cvp.CommandMessage · {} bytes", bytes.len())),
        "{out}"
    );
    assert_eq!(script.asked("message_id").q.default.as_deref(), Some(id));
    assert_eq!(
        script.asked("horn_lights.flashes").q.default.as_deref(),
        Some("3")
    );
    assert_eq!(
        script.asked("horn_lights.duration").q.default.as_deref(),
        Some("2s")
    );
    // The subtype being edited is preselected.
    assert_eq!(script.asked("subtype").preselected, Some(5));

    // The tables: the command's, then the reply's.
    let reply_at = out
        .find(&format!(
            "cvp.CommandResponseMessage · {} bytes",
            reply_hex.len() / 2
        ))
        .unwrap_or_else(|| panic!("the reply is not shown:\n{out}"));
    let (command_part, reply_part) = out.split_at(reply_at);
    for row in [
        "message_id",
        "vehicle_id",
        "MH12VF1121",
        "HORN_AND_LIGHTS (5)",
        "horn_lights",
        "flashes",
        "2s",
    ] {
        assert!(
            command_part.contains(row),
            "{row} missing from\n{command_part}"
        );
    }
    for row in [
        "return_code",
        "SUCCESS (1)",
        "horn_and_lights",
        "flashes_done",
        "corr-77",
    ] {
        assert!(reply_part.contains(row), "{row} missing from\n{reply_part}");
    }
    assert!(out.trim_end().ends_with(&hexes[1]), "{out}");
}

#[test]
fn a_session_without_a_response_type_offers_a_schemaless_reply_and_builds_another() {
    let s = sample();
    let desc = message(&s, "cvp.SpeedLimit");
    let mut script = Script::new(vec![
        text("max_kph", Text("80")),
        text("enabled", Text("y")),
        // Without a reply type a reply is still offered (decoded without a
        // schema): Enter skips it.
        text("reply", Enter),
        select("next", Pick("build another")),
        // A fresh message, no defaults from the last one.
        text("max_kph", Enter),
        text("enabled", Text("n")),
        text("reply", Enter),
        select("next", Quit),
    ]);
    let session = Session {
        desc: desc.clone(),
        response: None,
        profile: Profile::default(),
        mqtt: None,
        link: LinkChoice::Auto,
        bytes_as: None,
    };
    let mut out = Vec::new();
    session.run(&mut script, &mut out).unwrap();
    script.finish();
    assert_eq!(script.asked("max_kph").q.default, None);
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("cvp.SpeedLimit · 4 bytes\n"), "{out}");
    assert!(out.contains("cvp.SpeedLimit · 0 bytes\n"), "{out}");
    assert!(out.contains("(no fields set)"), "{out}");
    let hexes = hex_lines(&out);
    assert_eq!(hexes, ["08501001"], "{out}");
}

// Issue 9, item 6: editing keeps what was there.

#[test]
fn editing_a_self_referencing_tree_keeps_the_wrapped_member() {
    let s = acme();
    let desc = message(&s, "acme.Tree");
    let mut script = Script::new(vec![
        text("label", Text("a")),
        select("shape", Pick("wrap")),
        text("wrap.label", Text("b")),
        select("wrap.shape", Pick("leaf")),
        text("wrap.leaf", Text("x")),
        text("wrap.branches key", Enter),
        text("branches key", Enter),
    ]);
    let first = build(&desc, &mut script);
    script.finish();
    assert_eq!(
        json(&first),
        json!({"label": "a", "wrap": {"label": "b", "leaf": "x"}})
    );
    let mut script = Script::new(vec![
        text("label", Enter),
        select("shape", Pick("(keep wrap)")),
        text("branches key", Enter),
    ]);
    let second = build_from(first.clone(), &mut script);
    script.finish();
    assert_eq!(json(&second), json(&first));
}

#[test]
fn editing_a_linked_payload_keeps_its_oneof_sub_message() {
    let s = sample();
    let command = message(&s, "cvp.CommandMessage");
    let steps = [
        vec![select("subtype", Pick("SET_GEOFENCE"))],
        command_header_kept(),
        vec![
            text("geofence.fence_id", Text("home")),
            select("geofence.shape", Pick("circle")),
            confirm("geofence.circle.center", No),
            text("geofence.circle.radius_m", Text("250")),
            text("geofence.active_from", Enter),
            text("geofence.active_until", Enter),
            text("geofence.alert_on_exit", Enter),
            text("reply", Enter),
            select("next", Pick("edit this one")),
            select("subtype", Pick("SET_GEOFENCE")),
        ],
        command_header_kept(),
        vec![
            text("geofence.fence_id", Enter),
            select("geofence.shape", Pick("(keep circle)")),
            text("geofence.active_from", Enter),
            text("geofence.active_until", Enter),
            text("geofence.alert_on_exit", Enter),
            text("reply", Enter),
            select("next", Pick("quit")),
        ],
    ]
    .concat();
    let mut script = Script::new(steps);
    let session = Session {
        desc: command.clone(),
        response: Some(message(&s, "cvp.CommandResponseMessage")),
        profile: Profile::builtin().unwrap(),
        mqtt: None,
        link: LinkChoice::Auto,
        bytes_as: None,
    };
    let mut out = Vec::new();
    session.run(&mut script, &mut out).unwrap();
    script.finish();
    let out = String::from_utf8(out).unwrap();
    let hexes = hex_lines(&out);
    assert_eq!(hexes.len(), 2, "{out}");
    assert_eq!(
        hexes[0], hexes[1],
        "editing with (keep circle) changed the message"
    );
    let edited = json(&decode(&command, &hexes[1]));
    assert_eq!(edited["geofence"]["circle"], json!({"radius_m": 250.0}));
}
