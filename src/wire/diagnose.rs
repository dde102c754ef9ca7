//! Where and why bytes are not a message of a given type.
//!
//! prost's decode errors say what went wrong ("buffer underflow") but not
//! where; this walks the bytes along the descriptor, the way decoding does,
//! and names the byte offset and the field path of the first problem.

use prost_reflect::{Kind, MessageDescriptor};

use super::{
    MAX_DEPTH, WireType, read_fixed32, read_fixed64, read_key, read_len, read_varint, skip_value,
};
use crate::wire::encode::scalar_wire_type;

/// The first problem found reading `bytes` as `desc`, as
/// `at byte N (field.path): what`; `None` when the walk finds none.
pub fn diagnose(desc: &MessageDescriptor, bytes: &[u8]) -> Option<String> {
    walk(desc, bytes, 0, "", 0).err()
}

fn walk(
    desc: &MessageDescriptor,
    buf: &[u8],
    base: usize,
    path: &str,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "at byte {base}{}: recursion limit: messages nested deeper than {MAX_DEPTH} levels",
            where_(path)
        ));
    }
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let at = |p: usize| base + p;
        let Some((number, wt)) = read_key(buf, &mut pos) else {
            return Err(format!(
                "at byte {}{}: invalid field key (bad wire type, field number 0 or truncated)",
                at(start),
                where_(path)
            ));
        };
        let Some(field) = desc.get_field(number) else {
            if wt == WireType::EndGroup || skip_value(buf, &mut pos, number, wt, depth).is_none() {
                return Err(format!(
                    "at byte {}{}: unknown field {number} ({}) is truncated or malformed",
                    at(start),
                    where_(path),
                    wt.name()
                ));
            }
            continue;
        };
        let name = if path.is_empty() {
            field.name().to_owned()
        } else {
            format!("{path}.{}", field.name())
        };
        let kind = field.kind();
        let expected = if field.is_group() {
            WireType::StartGroup
        } else {
            scalar_wire_type(&kind)
        };
        let packed_ok = field.is_list() && wt == WireType::Len && expected != WireType::Len;
        if wt != expected && !packed_ok {
            return Err(format!(
                "at byte {} ({name}): wire type {} where a {} field has {}",
                at(start),
                wt.name(),
                crate::render::table::kind_name(&kind),
                expected.name()
            ));
        }
        let value_at = pos;
        let truncated = || {
            let what = match wt {
                WireType::Varint => "the varint is truncated or longer than 10 bytes",
                WireType::I64 => "the 8-byte value is truncated",
                _ => "the 4-byte value is truncated",
            };
            format!("at byte {} ({name}): {what}", at(value_at))
        };
        match wt {
            WireType::Len => {
                let len_at = pos;
                let Some(data) = read_len(buf, &mut pos) else {
                    let mut p = len_at;
                    let claimed = read_varint(buf, &mut p);
                    return Err(match claimed {
                        Some(n) => format!(
                            "at byte {} ({name}): the length prefix claims {n} bytes but only {} follow",
                            at(len_at),
                            buf.len() - p
                        ),
                        None => format!(
                            "at byte {} ({name}): the length prefix is truncated",
                            at(len_at)
                        ),
                    });
                };
                let data_at = at(pos - data.len());
                match &kind {
                    Kind::String => {
                        if let Err(e) = std::str::from_utf8(data) {
                            return Err(format!(
                                "at byte {} ({name}): the string is not valid UTF-8 (byte {} of it)",
                                data_at + e.valid_up_to(),
                                e.valid_up_to()
                            ));
                        }
                    }
                    Kind::Message(m) => walk(m, data, data_at, &name, depth + 1)?,
                    Kind::Bytes => {}
                    scalar => check_packed(scalar, data).map_err(|i| {
                        format!(
                            "at byte {} ({name}): packed {} values end in the middle of one",
                            data_at + i,
                            crate::render::table::kind_name(scalar)
                        )
                    })?,
                }
            }
            WireType::StartGroup => {
                let body_start = pos;
                if super::skip_group(buf, &mut pos, number, depth).is_none() {
                    return Err(format!(
                        "at byte {} ({name}): the group is not closed",
                        at(start)
                    ));
                }
                if let Kind::Message(m) = &kind {
                    let mut end_key = Vec::new();
                    super::write_key(&mut end_key, number, WireType::EndGroup);
                    walk(
                        m,
                        &buf[body_start..pos - end_key.len()],
                        at(body_start),
                        &name,
                        depth + 1,
                    )?;
                }
            }
            WireType::Varint => {
                read_varint(buf, &mut pos).ok_or_else(truncated)?;
            }
            WireType::I64 => {
                read_fixed64(buf, &mut pos).ok_or_else(truncated)?;
            }
            WireType::I32 => {
                read_fixed32(buf, &mut pos).ok_or_else(truncated)?;
            }
            WireType::EndGroup => {
                return Err(format!(
                    "at byte {} ({name}): an end-group key without its start",
                    at(start)
                ));
            }
        }
    }
    Ok(())
}

fn where_(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (in {path})")
    }
}

/// Checks a packed run; `Err(offset)` where the last value breaks off.
fn check_packed(kind: &Kind, data: &[u8]) -> Result<(), usize> {
    let mut pos = 0;
    while pos < data.len() {
        let start = pos;
        let ok = match scalar_wire_type(kind) {
            WireType::I64 => read_fixed64(data, &mut pos).is_some(),
            WireType::I32 => read_fixed32(data, &mut pos).is_some(),
            _ => read_varint(data, &mut pos).is_some(),
        };
        if !ok {
            return Err(start);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn cmd() -> MessageDescriptor {
        Schema::builtin()
            .unwrap()
            .message("cvp.CommandMessage")
            .unwrap()
    }

    #[test]
    fn invalid_utf8_names_the_field_and_byte() {
        let e = diagnose(&cmd(), &hex::decode("0a03ff6162").unwrap()).unwrap();
        assert_eq!(
            e,
            "at byte 2 (message_id): the string is not valid UTF-8 (byte 0 of it)"
        );
    }

    #[test]
    fn a_length_past_the_end_in_a_sub_message_says_where() {
        // engine_start { schedule: length 16 with 1 byte left }
        let e = diagnose(&cmd(), &hex::decode("a201031a1000").unwrap()).unwrap();
        assert_eq!(
            e,
            "at byte 4 (engine_start.schedule): the length prefix claims 16 bytes but only 1 follow"
        );
    }

    #[test]
    fn wrong_wire_types_are_named() {
        let e = diagnose(&cmd(), &hex::decode("0d01000000").unwrap()).unwrap();
        assert_eq!(
            e,
            "at byte 0 (message_id): wire type i32 where a string field has len"
        );
    }

    #[test]
    fn good_messages_have_no_diagnosis() {
        assert_eq!(
            diagnose(
                &cmd(),
                &hex::decode("1a0a4d4831325646313132312801a20102080f").unwrap()
            ),
            None
        );
    }
}
