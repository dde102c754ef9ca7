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

/// The envelope link of `desc`, if it has one.
pub fn find(desc: &MessageDescriptor) -> Option<Link> {
    // (owner, field) for the enum fields and the oneofs, at the top level and
    // one singular message field down.
    let singular_messages: Vec<FieldDescriptor> = desc
        .fields()
        .filter(|f| !f.is_list() && !f.is_map() && matches!(f.kind(), Kind::Message(_)))
        .filter(|f| f.containing_oneof().is_none())
        .collect();
    let mut enums: Vec<(Option<FieldDescriptor>, FieldDescriptor)> = Vec::new();
    let mut oneofs: Vec<(Option<FieldDescriptor>, OneofDescriptor)> = Vec::new();
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

    let mut best: Option<(usize, Link)> = None;
    for (e_owner, e_field) in &enums {
        let Kind::Enum(en) = e_field.kind() else {
            continue;
        };
        for (o_owner, oneof) in &oneofs {
            let members: Vec<FieldDescriptor> = oneof.fields().collect();
            let pairs = by_name(&en, &members);
            let score = pairs.len();
            if score >= 2
                && score * 2 >= members.len().min(en.values().len())
                && best.as_ref().is_none_or(|(s, _)| score > *s)
            {
                best = Some((
                    score,
                    Link {
                        selector_owner: e_owner.clone(),
                        selector: e_field.clone(),
                        oneof_owner: o_owner.clone(),
                        oneof: oneof.clone(),
                        by: LinkedBy::Name,
                        pairs,
                    },
                ));
            }
        }
    }
    if let Some((_, link)) = best {
        return Some(link);
    }
    // By position: value n is the nth member, when the counts agree.
    for (e_owner, e_field) in &enums {
        let Kind::Enum(en) = e_field.kind() else {
            continue;
        };
        let mut numbers: Vec<i32> = en.values().map(|v| v.number()).filter(|n| *n > 0).collect();
        numbers.sort_unstable();
        numbers.dedup();
        for (o_owner, oneof) in &oneofs {
            let members: Vec<FieldDescriptor> = oneof.fields().collect();
            let fits = numbers.len() >= 2
                && numbers.len() == members.len()
                && numbers.iter().all(|n| (*n as usize) <= members.len());
            if fits {
                return Some(Link {
                    selector_owner: e_owner.clone(),
                    selector: e_field.clone(),
                    oneof_owner: o_owner.clone(),
                    oneof: oneof.clone(),
                    by: LinkedBy::Position,
                    pairs: numbers
                        .iter()
                        .map(|n| (*n, members[*n as usize - 1].clone()))
                        .collect(),
                });
            }
        }
    }
    None
}

fn by_name(en: &EnumDescriptor, members: &[FieldDescriptor]) -> Vec<(i32, FieldDescriptor)> {
    let mut pairs = Vec::new();
    for v in en.values() {
        let want = normalize(v.name());
        let found = members.iter().find(|m| {
            normalize(m.name()) == want
                || matches!(m.kind(), Kind::Message(t) if normalize(t.name()) == want)
        });
        if let Some(m) = found {
            if !pairs
                .iter()
                .any(|(n, _): &(i32, FieldDescriptor)| *n == v.number())
            {
                pairs.push((v.number(), m.clone()));
            }
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
        let link = find(&s.message("cvp.CommandMessage").unwrap()).unwrap();
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
        let link = find(&s.message("cvp.CommandResponseMessage").unwrap()).unwrap();
        assert_eq!(link.by, LinkedBy::Name);
        // By position, ENGINE_START (1) would be the error member.
        assert_eq!(link.member_for(1).unwrap().name(), "engine_start");
        assert_eq!(link.member_for(13).unwrap().name(), "diagnostics_request");
    }

    #[test]
    fn messages_without_an_envelope_have_no_link() {
        let s = Schema::builtin().unwrap();
        assert!(find(&s.message("cvp.GeoPoint").unwrap()).is_none());
        assert!(find(&s.message("cvp.VehicleTelemetryMessage").unwrap()).is_none());
    }

    #[test]
    fn normalizing_ignores_case_underscores_and_payload() {
        assert_eq!(normalize("HORN_AND_LIGHTS"), "hornandlights");
        assert_eq!(normalize("HornAndLightsPayload"), "hornandlights");
        assert_eq!(normalize("Payload"), "payload");
    }
}
