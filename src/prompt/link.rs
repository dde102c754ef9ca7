//! Envelope linking (SPEC 6.2): an enum field whose value says which member
//! of a `oneof` is set, as `subtype` picks the payload of the sample's
//! `CommandMessage`. Found from the descriptors alone, so any schema works.
//!
//! The enum may be a field of the message or of one of its singular message
//! fields (a header); the oneof likewise. Members are matched to enum values
//! by name first (case-insensitive, ignoring `_` and a `Payload` suffix,
//! against the member's field name and its message type's name), else by
//! position (value n is the nth member, the original tool's rule).

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, OneofDescriptor};

/// How the members were matched to the enum values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    Name,
    Position,
}

/// An enum field that selects a oneof member.
#[derive(Debug, Clone)]
pub struct Link {
    /// The singular message field holding the enum, if not the message itself.
    pub selector_owner: Option<FieldDescriptor>,
    /// The enum field.
    pub selector: FieldDescriptor,
    /// The singular message field holding the oneof, if not the message itself.
    pub oneof_owner: Option<FieldDescriptor>,
    pub oneof: OneofDescriptor,
    pub by: LinkedBy,
    /// Enum value number and the member it selects.
    pub pairs: Vec<(i32, FieldDescriptor)>,
}

impl Link {
    pub fn enum_type(&self) -> EnumDescriptor {
        match self.selector.kind() {
            Kind::Enum(e) => e,
            _ => unreachable!("a link's selector is an enum field"),
        }
    }

    /// The member an enum value selects.
    pub fn member_for(&self, number: i32) -> Option<&FieldDescriptor> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, f)| f)
    }

    /// The enum value that selects a member.
    pub fn number_for(&self, member: &FieldDescriptor) -> Option<i32> {
        self.pairs
            .iter()
            .find(|(_, f)| f == member)
            .map(|(n, _)| *n)
    }

    /// The selector's path, e.g. `subtype` or `header.kind`.
    pub fn selector_path(&self) -> String {
        path(&self.selector_owner, &self.selector)
    }
}

fn path(owner: &Option<FieldDescriptor>, field: &FieldDescriptor) -> String {
    match owner {
        Some(o) => format!("{}.{}", o.name(), field.name()),
        None => field.name().to_owned(),
    }
}

/// Lowercase, without `_`, without a `payload` suffix.
pub fn normalize(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    match n.strip_suffix("payload") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => n,
    }
}

/// What [`find`] found.
#[derive(Debug, Clone)]
pub enum Found {
    None,
    One(Link),
    /// Several pairs fit equally: the user chooses (or none is taken).
    Several(Vec<Link>),
}

impl Found {
    /// The link when there is exactly one.
    pub fn one(self) -> Option<Link> {
        match self {
            Found::One(l) => Some(l),
            _ => None,
        }
    }
}

/// Enum fields and oneofs of `desc`, at the top level and one singular
/// message field down (a header, a body), with the field holding them.
type Owned<T> = Vec<(Option<FieldDescriptor>, T)>;

fn parts(desc: &MessageDescriptor) -> (Owned<FieldDescriptor>, Owned<OneofDescriptor>) {
    let singular_messages: Vec<FieldDescriptor> = desc
        .fields()
        .filter(|f| !f.is_list() && !f.is_map() && matches!(f.kind(), Kind::Message(_)))
        .filter(|f| f.containing_oneof().is_none())
        .collect();
    let mut enums: Owned<FieldDescriptor> = Vec::new();
    let mut oneofs: Owned<OneofDescriptor> = Vec::new();
    let mut collect = |owner: Option<FieldDescriptor>, m: &MessageDescriptor| {
        for f in m.fields() {
            if !f.is_list() && matches!(f.kind(), Kind::Enum(_)) && f.containing_oneof().is_none() {
                enums.push((owner.clone(), f));
            }
        }
        for o in m.oneofs().filter(|o| !o.is_synthetic()) {
            oneofs.push((owner.clone(), o));
        }
    };
    collect(None, desc);
    for f in &singular_messages {
        if let Kind::Message(m) = f.kind() {
            if !m.full_name().starts_with("google.protobuf.") && m != *desc {
                collect(Some(f.clone()), &m);
            }
        }
    }
    (enums, oneofs)
}

/// The envelope link of `desc`.
///
/// By name: every member of the oneof, or every enum value but zero, is
/// matched (case and `_` ignored, a `Payload` suffix dropped, against the
/// member's field name and its message type's name): a few matches are
/// chance. Only when no pair links by name, by position: the enum and the
/// oneof in the same message, and either as many values as members (value
/// k, counting from zero, is member k) or, zero aside, values 1 to n for n
/// members (value n is member n: the original tool's rule). Several pairs
/// that fit are [`Found::Several`].
pub fn find(desc: &MessageDescriptor) -> Found {
    let (enums, oneofs) = parts(desc);
    let mut by_name_links = Vec::new();
    for (e_owner, e_field) in &enums {
        let Kind::Enum(en) = e_field.kind() else {
            continue;
        };
        for (o_owner, oneof) in &oneofs {
            let members: Vec<FieldDescriptor> = oneof.fields().collect();
            let pairs = by_name(&en, &members);
            if pairs.len() >= 2 && names_all(&en, &members, &pairs) {
                by_name_links.push(Link {
                    selector_owner: e_owner.clone(),
                    selector: e_field.clone(),
                    oneof_owner: o_owner.clone(),
                    oneof: oneof.clone(),
                    by: LinkedBy::Name,
                    pairs,
                });
            }
        }
    }
    let links = if by_name_links.is_empty() {
        let mut by_position_links = Vec::new();
        for (e_owner, e_field) in &enums {
            let Kind::Enum(en) = e_field.kind() else {
                continue;
            };
            for (o_owner, oneof) in oneofs.iter().filter(|(o, _)| o == e_owner) {
                let members: Vec<FieldDescriptor> = oneof.fields().collect();
                if let Some(pairs) = by_position(&en, &members) {
                    by_position_links.push(Link {
                        selector_owner: e_owner.clone(),
                        selector: e_field.clone(),
                        oneof_owner: o_owner.clone(),
                        oneof: oneof.clone(),
                        by: LinkedBy::Position,
                        pairs,
                    });
                }
            }
        }
        by_position_links
    } else {
        by_name_links
    };
    match links.len() {
        0 => Found::None,
        1 => Found::One(links.into_iter().next().expect("one")),
        _ => Found::Several(links),
    }
}

/// The link the user names: `SELECTOR=ONEOF` as field paths
/// (`header.op=body.content`, `subtype=payload`), paired by name, else by
/// position.
pub fn explicit(desc: &MessageDescriptor, spec: &str) -> Result<Link, String> {
    let (selector_path, oneof_path) = spec
        .split_once('=')
        .ok_or_else(|| format!("'{spec}' is not SELECTOR=ONEOF (like header.op=body.content)"))?;
    let (enums, oneofs) = parts(desc);
    let path_of = |owner: &Option<FieldDescriptor>, name: &str| match owner {
        Some(o) => format!("{}.{name}", o.name()),
        None => name.to_owned(),
    };
    let (e_owner, e_field) = enums
        .iter()
        .find(|(o, f)| path_of(o, f.name()) == selector_path.trim())
        .ok_or_else(|| {
            let known: Vec<String> = enums.iter().map(|(o, f)| path_of(o, f.name())).collect();
            format!(
                "{} has no enum field '{}' (enum fields: {})",
                desc.full_name(),
                selector_path.trim(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
    let (o_owner, oneof) = oneofs
        .iter()
        .find(|(o, one)| path_of(o, one.name()) == oneof_path.trim())
        .ok_or_else(|| {
            let known: Vec<String> = oneofs
                .iter()
                .map(|(o, one)| path_of(o, one.name()))
                .collect();
            format!(
                "{} has no oneof '{}' (oneofs: {})",
                desc.full_name(),
                oneof_path.trim(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
    let Kind::Enum(en) = e_field.kind() else {
        unreachable!("enum fields only");
    };
    let members: Vec<FieldDescriptor> = oneof.fields().collect();
    let named = by_name(&en, &members);
    let (pairs, by) = if names_all(&en, &members, &named) && !named.is_empty() {
        (named, LinkedBy::Name)
    } else if let Some(p) = by_position(&en, &members) {
        (p, LinkedBy::Position)
    } else if !named.is_empty() {
        (named, LinkedBy::Name)
    } else {
        return Err(format!(
            "no value of {} names a member of {}, and their counts differ ({} values, {} members)",
            en.name(),
            oneof.name(),
            en.values().len(),
            members.len()
        ));
    };
    Ok(Link {
        selector_owner: e_owner.clone(),
        selector: e_field.clone(),
        oneof_owner: o_owner.clone(),
        oneof: oneof.clone(),
        by,
        pairs,
    })
}

/// Every member, or every non-zero value, has its pair.
fn names_all(
    en: &EnumDescriptor,
    members: &[FieldDescriptor],
    pairs: &[(i32, FieldDescriptor)],
) -> bool {
    let every_member = members.iter().all(|m| pairs.iter().any(|(_, f)| f == m));
    let every_value = en
        .values()
        .filter(|v| v.number() != 0)
        .all(|v| pairs.iter().any(|(n, _)| *n == v.number()));
    every_member || every_value
}

/// Pairs by position, with guards against chance (an enum of three states
/// and a oneof of three members are not always related):
/// - as many values as members: value k (in number order, from zero) is
///   member k, when at least one pair shares a part of its name (`NOP` and
///   `NopArgs`);
/// - else values 1..=n for n members and a zero value that means none
///   (`..._UNSPECIFIED`, `NONE`, `UNKNOWN`...): value n is member n, the
///   original tool's rule.
fn by_position(
    en: &EnumDescriptor,
    members: &[FieldDescriptor],
) -> Option<Vec<(i32, FieldDescriptor)>> {
    let mut values: Vec<(i32, String)> = en
        .values()
        .map(|v| (v.number(), v.name().to_owned()))
        .collect();
    values.sort_by_key(|(n, _)| *n);
    values.dedup_by_key(|(n, _)| *n);
    if values.len() >= 2 && values.len() == members.len() {
        let pairs: Vec<(i32, FieldDescriptor)> = values
            .iter()
            .zip(members)
            .map(|((n, _), m)| (*n, m.clone()))
            .collect();
        let related = values
            .iter()
            .zip(members)
            .any(|((_, v), m)| share_a_word(v, m));
        return related.then_some(pairs);
    }
    let zero_is_none = values.iter().any(|(n, name)| {
        *n == 0 && {
            let z = normalize(name);
            [
                "unspecified",
                "unknown",
                "none",
                "null",
                "invalid",
                "unset",
                "notset",
                "default",
            ]
            .iter()
            .any(|w| z.contains(w))
        }
    });
    let nonzero: Vec<i32> = values.iter().map(|(n, _)| *n).filter(|n| *n != 0).collect();
    let one_to_n = nonzero.iter().enumerate().all(|(i, n)| *n == i as i32 + 1);
    if zero_is_none && nonzero.len() >= 2 && nonzero.len() == members.len() && one_to_n {
        return Some(
            nonzero
                .iter()
                .map(|n| (*n, members[*n as usize - 1].clone()))
                .collect(),
        );
    }
    None
}

/// Do a value's name and a member's (or its type's) share three letters
/// in a row?
fn share_a_word(value: &str, member: &FieldDescriptor) -> bool {
    let v: Vec<char> = normalize(value).chars().collect();
    let mut names = vec![normalize(member.name())];
    if let Kind::Message(t) = member.kind() {
        names.push(normalize(t.name()));
    }
    v.windows(3).any(|w| {
        let piece: String = w.iter().collect();
        names.iter().any(|n| n.contains(&piece))
    })
}

impl Link {
    /// How the link was found, for people: `subtype → payload, by name`.
    pub fn describe(&self) -> String {
        let how = match self.by {
            LinkedBy::Name => "by name".to_owned(),
            LinkedBy::Position => {
                if self.pairs.first().is_some_and(|(n, _)| *n == 0) {
                    "by position (value k is member k, from zero)".to_owned()
                } else {
                    "by position (value n is member n)".to_owned()
                }
            }
        };
        format!(
            "{} → {}, {how}: {} of {} values pick a member",
            self.selector_path(),
            self.oneof_path(),
            self.pairs.len(),
            self.enum_type().values().len()
        )
    }

    /// The oneof's path, e.g. `payload` or `body.content`.
    pub fn oneof_path(&self) -> String {
        match &self.oneof_owner {
            Some(o) => format!("{}.{}", o.name(), self.oneof.name()),
            None => self.oneof.name().to_owned(),
        }
    }
}

/// Enum values paired with the members their names name: the same name
/// (normalized), else the one member whose name contains the value's (or is
/// contained in it), three letters at least (`LORA` and
/// `lora_modulation_info`, `NOP` and `NopArgs`).
fn by_name(en: &EnumDescriptor, members: &[FieldDescriptor]) -> Vec<(i32, FieldDescriptor)> {
    let names = |m: &FieldDescriptor| -> Vec<String> {
        let mut n = vec![normalize(m.name())];
        if let Kind::Message(t) = m.kind() {
            n.push(normalize(t.name()));
        }
        n
    };
    let mut pairs: Vec<(i32, FieldDescriptor)> = Vec::new();
    for v in en.values() {
        if pairs.iter().any(|(n, _)| *n == v.number()) {
            continue;
        }
        let want = normalize(v.name());
        let exact = members.iter().find(|m| names(m).contains(&want));
        let found = exact.or_else(|| {
            if want.chars().count() < 3 {
                return None;
            }
            let near: Vec<&FieldDescriptor> = members
                .iter()
                .filter(|m| {
                    names(m).iter().any(|n| {
                        n.chars().count() >= 3 && (n.contains(&want) || want.contains(n.as_str()))
                    })
                })
                .collect();
            (near.len() == 1).then(|| near[0])
        });
        if let Some(m) = found {
            pairs.push((v.number(), m.clone()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn the_sample_command_links_subtype_to_payload_by_name() {
        let s = Schema::builtin().unwrap();
        let link = find(&s.message("cvp.CommandMessage").unwrap())
            .one()
            .unwrap();
        assert_eq!(link.selector_path(), "subtype");
        assert_eq!(link.oneof.name(), "payload");
        assert_eq!(link.by, LinkedBy::Name);
        assert_eq!(link.pairs.len(), 14);
        let name = |n| link.member_for(n).unwrap().name().to_owned();
        assert_eq!(name(1), "engine_start");
        // Matched by type name (HornAndLightsPayload) and (SetGeofence).
        assert_eq!(name(5), "horn_lights");
        assert_eq!(name(8), "geofence");
    }

    #[test]
    fn the_response_links_by_name_despite_the_extra_error_member() {
        let s = Schema::builtin().unwrap();
        let link = find(&s.message("cvp.CommandResponseMessage").unwrap())
            .one()
            .unwrap();
        assert_eq!(link.by, LinkedBy::Name);
        // By position, ENGINE_START (1) would be the error member.
        assert_eq!(link.member_for(1).unwrap().name(), "engine_start");
        assert_eq!(link.member_for(13).unwrap().name(), "diagnostics_request");
    }

    #[test]
    fn messages_without_an_envelope_have_no_link() {
        let s = Schema::builtin().unwrap();
        assert!(matches!(
            find(&s.message("cvp.GeoPoint").unwrap()),
            Found::None
        ));
        assert!(matches!(
            find(&s.message("cvp.VehicleTelemetryMessage").unwrap()),
            Found::None
        ));
    }

    #[test]
    fn normalizing_ignores_case_underscores_and_payload() {
        assert_eq!(normalize("HORN_AND_LIGHTS"), "hornandlights");
        assert_eq!(normalize("HornAndLightsPayload"), "hornandlights");
        assert_eq!(normalize("Payload"), "payload");
    }
}
