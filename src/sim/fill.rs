//! Plausible values for every field of a message (`--fill random`), from
//! the descriptors alone: numbers in small ranges, strings named after
//! their field, an enum's values but its zero "unspecified" one, nested
//! messages a few levels deep, one or two items of a repeated field or map,
//! one member of each oneof, Timestamps now.

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};
use rand::Rng;
use rand::rngs::StdRng;

/// How deep nested messages are filled.
const MAX_DEPTH: usize = 4;

/// Fills every field of `msg` not already set; oneofs in `skip` are left
/// alone (the linked payload is chosen by the caller).
pub fn fill(msg: &mut DynamicMessage, rng: &mut StdRng, skip: &[&str]) {
    fill_at(msg, rng, skip, 0);
}

fn fill_at(msg: &mut DynamicMessage, rng: &mut StdRng, skip: &[&str], depth: usize) {
    let desc = msg.descriptor();
    for oneof in desc.oneofs() {
        if oneof.is_synthetic() || skip.contains(&oneof.name()) {
            continue;
        }
        if oneof.fields().any(|f| msg.has_field(&f)) {
            continue;
        }
        let members: Vec<FieldDescriptor> = oneof.fields().collect();
        if members.is_empty() || depth >= MAX_DEPTH {
            continue;
        }
        let f = &members[rng.random_range(0..members.len())];
        if let Some(v) = single(f, &f.kind(), rng, depth) {
            msg.set_field(f, v);
        }
    }
    for f in desc.fields() {
        if f.containing_oneof().is_some_and(|o| !o.is_synthetic()) || msg.has_field(&f) {
            continue;
        }
        if f.is_map() {
            let Kind::Message(entry) = f.kind() else {
                continue;
            };
            let (kf, vf) = (entry.map_entry_key_field(), entry.map_entry_value_field());
            let mut map = std::collections::HashMap::new();
            for i in 0..rng.random_range(1..=2u8) {
                let key = match single(&kf, &kf.kind(), rng, depth) {
                    Some(Value::String(s)) => MapKey::String(format!("{s}{i}")),
                    Some(Value::Bool(b)) => MapKey::Bool(b),
                    Some(Value::I32(n)) => MapKey::I32(n + i32::from(i)),
                    Some(Value::I64(n)) => MapKey::I64(n + i64::from(i)),
                    Some(Value::U32(n)) => MapKey::U32(n + u32::from(i)),
                    Some(Value::U64(n)) => MapKey::U64(n + u64::from(i)),
                    _ => continue,
                };
                if let Some(v) = single(&vf, &vf.kind(), rng, depth) {
                    map.insert(key, v);
                }
            }
            msg.set_field(&f, Value::Map(map));
        } else if f.is_list() {
            if matches!(f.kind(), Kind::Message(_)) && depth >= MAX_DEPTH {
                continue;
            }
            let items: Vec<Value> = (0..rng.random_range(1..=2))
                .filter_map(|_| single(&f, &f.kind(), rng, depth))
                .collect();
            msg.set_field(&f, Value::List(items));
        } else if let Some(v) = single(&f, &f.kind(), rng, depth) {
            msg.set_field(&f, v);
        }
    }
}

/// One value of `kind` for field `f`.
fn single(f: &FieldDescriptor, kind: &Kind, rng: &mut StdRng, depth: usize) -> Option<Value> {
    // A percentage stays within 0-100 whatever its type.
    let name = f.name().to_ascii_lowercase();
    if name.ends_with("pct") || name.ends_with("percent") || name.ends_with("percentage") {
        let p = rng.random_range(0..=100u32);
        match kind {
            Kind::Double => return Some(Value::F64(f64::from(p))),
            Kind::Float => return Some(Value::F32(p as f32)),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => return Some(Value::I32(p as i32)),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => return Some(Value::I64(i64::from(p))),
            Kind::Uint32 | Kind::Fixed32 => return Some(Value::U32(p)),
            Kind::Uint64 | Kind::Fixed64 => return Some(Value::U64(u64::from(p))),
            _ => {}
        }
    }
    Some(match kind {
        Kind::Double => Value::F64(two_decimals(rng.random_range(0.0..100.0))),
        Kind::Float => Value::F32(two_decimals(rng.random_range(0.0..100.0)) as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(rng.random_range(0..1000)),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(rng.random_range(0..100_000)),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(rng.random_range(0..1000)),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(rng.random_range(0..100_000)),
        Kind::Bool => Value::Bool(rng.random_bool(0.5)),
        Kind::String => Value::String(format!("{}-{}", f.name(), rng.random_range(100..1000))),
        Kind::Bytes => Value::Bytes(
            (0..4)
                .map(|_| rng.random::<u8>())
                .collect::<Vec<_>>()
                .into(),
        ),
        Kind::Enum(e) => {
            let values: Vec<i32> = e
                .values()
                .map(|v| v.number())
                .filter(|n| *n != 0 || e.values().len() == 1)
                .collect();
            Value::EnumNumber(*values.get(rng.random_range(0..values.len().max(1)))?)
        }
        Kind::Message(m) => Value::Message(message(m, rng, depth + 1)?),
    })
}

/// A nested message: well-known types get values of their meaning.
fn message(m: &MessageDescriptor, rng: &mut StdRng, depth: usize) -> Option<DynamicMessage> {
    let mut msg = DynamicMessage::new(m.clone());
    match m.full_name() {
        "google.protobuf.Timestamp" => {
            now_into(&mut msg);
            return Some(msg);
        }
        "google.protobuf.Duration" => {
            msg.set_field_by_name("seconds", Value::I64(rng.random_range(1..3600)));
            return Some(msg);
        }
        "google.protobuf.Struct"
        | "google.protobuf.Value"
        | "google.protobuf.ListValue"
        | "google.protobuf.Any"
        | "google.protobuf.Empty"
        | "google.protobuf.FieldMask" => {
            return Some(msg);
        }
        _ => {}
    }
    if depth > MAX_DEPTH {
        return None;
    }
    fill_at(&mut msg, rng, &[], depth);
    Some(msg)
}

/// Sets a `google.protobuf.Timestamp` message to now.
pub fn now_into(ts: &mut DynamicMessage) {
    let now = prost_types::Timestamp::from(std::time::SystemTime::now());
    ts.set_field_by_name("seconds", Value::I64(now.seconds));
    ts.set_field_by_name("nanos", Value::I32(now.nanos));
}

fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_field_of_a_telemetry_message_gets_a_value_that_encodes() {
        let schema = crate::schema::Schema::builtin().unwrap();
        let desc = schema.message("cvp.VehicleTelemetryMessage").unwrap();
        let mut msg = DynamicMessage::new(desc.clone());
        fill(&mut msg, &mut StdRng::seed_from_u64(3), &[]);
        for f in desc.fields() {
            assert!(msg.has_field(&f), "{} not filled", f.name());
        }
        let bytes = crate::wire::encode_to_vec(&msg);
        let back = DynamicMessage::decode(desc, bytes.as_slice()).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn percentages_stay_within_0_and_100() {
        let schema = crate::schema::Schema::builtin().unwrap();
        let desc = schema.message("cvp.VehicleTelemetryMessage").unwrap();
        let f = desc.get_field_by_name("fuel_level_pct").unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..200 {
            let mut msg = DynamicMessage::new(desc.clone());
            fill(&mut msg, &mut rng, &[]);
            let v = msg.get_field(&f).as_u32().unwrap();
            assert!(v <= 100, "{v}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let schema = crate::schema::Schema::builtin().unwrap();
        let desc = schema.message("cvp.VehicleEventMessage").unwrap();
        let make = || {
            let mut msg = DynamicMessage::new(desc.clone());
            fill(&mut msg, &mut StdRng::seed_from_u64(9), &[]);
            msg.clear_field_by_name("time_stamp");
            msg
        };
        assert_eq!(make(), make());
    }
}
