//! Random messages of any type, driven by the descriptors (deterministic for
//! a seed), for differential, round-trip and benchmark inputs.

#![allow(dead_code)]

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};

/// splitmix64: small, fast, and the same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// How wild the values get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Extremes, NaN and infinities, -0.0, unknown enum numbers, odd strings.
    Edgy,
    /// What a device would send (used where a peer has known deviations).
    Tame,
}

const WORDS: &[&str] = &[
    "",
    "a",
    "MH12VF1121",
    "3f0c9a52-7d1e-4c6b-9a0e-1b2c3d4e5f60",
    "hello world",
    "é",
    "日本語",
    "quote\"inside",
    "back\\slash",
    "new\nline",
    "tab\tand 'single'",
    "emoji 🚗",
];

pub fn random_message(
    desc: &MessageDescriptor,
    rng: &mut Rng,
    values: Values,
    depth: usize,
) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    match desc.full_name() {
        "google.protobuf.Timestamp" => {
            msg.set_field_by_name("seconds", Value::I64(rng.below(4_102_444_800) as i64));
            msg.set_field_by_name("nanos", Value::I32(nanos(rng)));
            return msg;
        }
        "google.protobuf.Duration" => {
            let s = rng.below(400_000) as i64;
            let n = nanos(rng);
            let neg = values == Values::Edgy && rng.chance(20);
            msg.set_field_by_name("seconds", Value::I64(if neg { -s } else { s }));
            msg.set_field_by_name("nanos", Value::I32(if neg { -n } else { n }));
            return msg;
        }
        _ => {}
    }
    // One member per oneof, or none.
    let mut chosen_oneof_members: Vec<u32> = Vec::new();
    for oneof in desc.oneofs() {
        let members: Vec<FieldDescriptor> = oneof.fields().collect();
        if oneof.is_synthetic() {
            if rng.chance(60) {
                chosen_oneof_members.push(members[0].number());
            }
        } else if rng.chance(85) {
            chosen_oneof_members.push(rng.pick(&members).number());
        }
    }
    for field in desc.fields() {
        let in_oneof = field.containing_oneof().is_some();
        if in_oneof {
            if !chosen_oneof_members.contains(&field.number()) {
                continue;
            }
        } else if !rng.chance(70) {
            continue;
        }
        if let Some(v) = random_field(&field, rng, values, depth) {
            msg.set_field(&field, v);
        }
    }
    msg
}

fn nanos(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 => 0,
        1 => (rng.below(1000) * 1_000_000) as i32,
        2 => (rng.below(1_000_000) * 1_000) as i32,
        _ => rng.below(1_000_000_000) as i32,
    }
}

fn random_field(
    field: &FieldDescriptor,
    rng: &mut Rng,
    values: Values,
    depth: usize,
) -> Option<Value> {
    let kind = field.kind();
    if field.is_map() {
        let Kind::Message(entry) = &kind else {
            unreachable!()
        };
        let kk = entry.map_entry_key_field().kind();
        let vk = entry.map_entry_value_field().kind();
        let mut map = std::collections::HashMap::new();
        for _ in 0..rng.below(4) {
            let k = random_value(&kk, rng, values, depth + 1)?;
            let v = random_value(&vk, rng, values, depth + 1)?;
            map.insert(k.into_map_key().expect("map keys are scalars"), v);
        }
        return Some(Value::Map(map));
    }
    if field.is_list() {
        let n = if matches!(kind, Kind::Message(_)) {
            rng.below(3)
        } else {
            rng.below(6)
        };
        let mut items = Vec::new();
        for _ in 0..n {
            items.push(random_value(&kind, rng, values, depth + 1)?);
        }
        return Some(Value::List(items));
    }
    random_value(&kind, rng, values, depth + 1)
}

pub fn random_value(kind: &Kind, rng: &mut Rng, values: Values, depth: usize) -> Option<Value> {
    let edgy = values == Values::Edgy && rng.chance(25);
    Some(match kind {
        Kind::Double => Value::F64(if edgy {
            *rng.pick(&[
                0.0,
                -0.0,
                f64::MAX,
                f64::MIN_POSITIVE,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e-300,
                0.1 + 0.2,
            ])
        } else {
            (rng.next_u64() as i64 as f64) / 1e12
        }),
        Kind::Float => Value::F32(if edgy {
            *rng.pick(&[
                0.0,
                -0.0,
                f32::MAX,
                f32::MIN_POSITIVE,
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                1e-38,
                0.1,
            ])
        } else {
            (rng.below(2_000_000) as f32 - 1_000_000.0) / 64.0
        }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(if edgy {
            *rng.pick(&[0, -1, i32::MIN, i32::MAX])
        } else {
            (rng.below(200_000) as i32) - 100_000
        }),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(if edgy {
            *rng.pick(&[0, -1, i64::MIN, i64::MAX, 1 << 53, (1 << 53) + 1])
        } else {
            rng.next_u64() as i64 >> rng.below(60)
        }),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(if edgy {
            *rng.pick(&[0, 1, u32::MAX])
        } else {
            rng.below(100_000) as u32
        }),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(if edgy {
            *rng.pick(&[0, 1, u64::MAX, 1 << 63])
        } else {
            rng.next_u64() >> rng.below(64)
        }),
        Kind::Bool => Value::Bool(rng.chance(50)),
        Kind::String => Value::String(if values == Values::Tame {
            (*rng.pick(&WORDS[..5])).to_owned()
        } else {
            (*rng.pick(WORDS)).to_owned()
        }),
        Kind::Bytes => {
            let n = rng.below(24) as usize;
            Value::Bytes(
                (0..n)
                    .map(|_| rng.next_u64() as u8)
                    .collect::<Vec<u8>>()
                    .into(),
            )
        }
        Kind::Enum(e) => {
            if values == Values::Edgy && rng.chance(5) {
                Value::EnumNumber(99)
            } else {
                let numbers: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(*rng.pick(&numbers))
            }
        }
        Kind::Message(m) => {
            if depth > 5 {
                return None;
            }
            Value::Message(random_message(m, rng, values, depth + 1))
        }
    })
}
