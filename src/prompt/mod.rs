//! Building a message by asking for its fields (SPEC 6).
//!
//! The builder walks the descriptors, validates every answer with the same
//! parser as `--set` ([`crate::value`]), re-asks with the reason on a bad
//! one, and follows the envelope link ([`link`]). It talks to a
//! [`Prompter`]: dialoguer at a terminal ([`terminal`]), a script in tests,
//! and later a web form. Nothing here knows about terminals.

pub mod link;
pub mod terminal;

use anyhow::Result;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};

pub use crate::model::{MAX_DEPTH, kind_label};
use crate::model::{declaration_order, hint_for, is_inline, join, show};
use crate::value::parse_value;
use link::Link;

/// One question: where the user is (the field path) and what is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Field path as the user reads it: `payload.engine_start.run_minutes`.
    pub path: String,
    /// The field's type and label: `uint32`, `optional sint32`, `Timestamp`.
    pub kind: String,
    /// How to answer: `Enter skips`, `RFC 3339 or now`...
    pub hint: String,
    /// The current value, kept when the user just presses Enter.
    pub default: Option<String>,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<T> {
    Value(T),
    /// Enter on an empty line: leave the field as it is.
    Skip,
    /// Esc or Ctrl-C: leave the builder.
    Quit,
}

/// What the builder needs from whoever answers.
pub trait Prompter {
    /// A line of text; an empty line is [`Reply::Skip`].
    fn text(&mut self, q: &Question) -> Result<Reply<String>>;
    /// One of `items` (by index); `default` is preselected.
    fn select(&mut self, q: &Question, items: &[String], default: usize) -> Result<Reply<usize>>;
    /// Yes or no.
    fn confirm(&mut self, q: &Question, default: bool) -> Result<Reply<bool>>;
    /// Why the last answer was refused (it is asked again).
    fn warn(&mut self, why: &str);
    /// Something to show: a table, hex, a note.
    fn say(&mut self, what: &str);
}

/// The last item of a selector's list: no link for this message.
pub const NO_LINK: &str = "(no link: fill the fields one by one)";

/// What [`Builder::build`] ends with.
pub enum Built {
    Message(DynamicMessage),
    Quit,
}

/// Which envelope link the builder follows.
#[derive(Debug, Clone, Default)]
pub enum LinkChoice {
    /// The one [`link::find`] finds (none when several fit).
    #[default]
    Auto,
    /// None: every field is asked for.
    Off,
    /// This one (`--link SELECTOR=ONEOF`, or chosen among several).
    Use(Link),
}

/// Asks for the fields of a message.
pub struct Builder<'p, P: Prompter> {
    prompter: &'p mut P,
    /// The profile whose copying defaults (`correlation_id = "{message_id}"`)
    /// follow what the user types, and the message as the profile filled it.
    follow: Option<(&'p crate::profile::Profile, DynamicMessage)>,
    link: LinkChoice,
    /// Bytes fields carrying a message (`--bytes-as`), built in place.
    bytes_as: Option<&'static crate::render::BytesAs>,
}

/// A quit answer unwinds the whole walk.
struct Quit;

type Step<T> = std::result::Result<T, Stop>;

enum Stop {
    Quit(Quit),
    Err(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Err(e)
    }
}

fn ask<T>(r: Result<Reply<T>>) -> Step<Option<T>> {
    match r? {
        Reply::Value(v) => Ok(Some(v)),
        Reply::Skip => Ok(None),
        Reply::Quit => Err(Stop::Quit(Quit)),
    }
}

impl<'p, P: Prompter> Builder<'p, P> {
    pub fn new(prompter: &'p mut P) -> Self {
        Builder {
            prompter,
            follow: None,
            link: LinkChoice::Auto,
            bytes_as: None,
        }
    }

    /// Follows this envelope link (or none) instead of the one found.
    pub fn linking(mut self, link: LinkChoice) -> Self {
        self.link = link;
        self
    }

    /// Builds the messages carried in these bytes fields.
    pub fn carrying(mut self, bytes_as: Option<&'static crate::render::BytesAs>) -> Self {
        self.bytes_as = bytes_as;
        self
    }

    /// Top-level defaults that copy another field are worked out again when
    /// they are asked, from what the user has typed so far (unless the
    /// value was changed from what `profile` filled into `prefilled`).
    pub fn following(
        mut self,
        profile: &'p crate::profile::Profile,
        prefilled: &DynamicMessage,
    ) -> Self {
        self.follow = Some((profile, prefilled.clone()));
        self
    }

    /// Builds a message of `desc`, starting from `start` (profile defaults,
    /// or the message being edited: its values are offered as defaults).
    pub fn build(&mut self, start: DynamicMessage) -> Result<Built> {
        let desc = start.descriptor();
        let link = match &self.link {
            LinkChoice::Auto => link::find(&desc).one(),
            LinkChoice::Off => None,
            LinkChoice::Use(l) => Some(l.clone()),
        };
        match self.envelope(start, link.as_ref()) {
            Ok(m) => Ok(Built::Message(m)),
            Err(Stop::Quit(_)) => Ok(Built::Quit),
            Err(Stop::Err(e)) => Err(e),
        }
    }

    /// The top level: the envelope's selector first, then the fields.
    fn envelope(&mut self, mut msg: DynamicMessage, link: Option<&Link>) -> Step<DynamicMessage> {
        let Some(link) = link else {
            self.fields(&mut msg, "", 0, None)?;
            return Ok(msg);
        };
        let enum_type = link.enum_type();
        let current = get_in(&msg, link.selector_owner.as_ref(), &link.selector)
            .and_then(|v| v.as_enum_number());
        let values: Vec<(i32, String)> = enum_type
            .values()
            .map(|v| {
                let payload = link
                    .member_for(v.number())
                    .map(|m| format!("  → {}", m.name()))
                    .unwrap_or_default();
                (
                    v.number(),
                    format!("{} ({}){payload}", v.name(), v.number()),
                )
            })
            .collect();
        let mut items: Vec<String> = values.iter().map(|(_, s)| s.clone()).collect();
        // The user can always refuse the link.
        items.push(NO_LINK.to_owned());
        let default = current
            .and_then(|c| values.iter().position(|(n, _)| *n == c))
            .unwrap_or_else(|| values.iter().position(|(n, _)| *n != 0).unwrap_or(0));
        let q = Question {
            path: link.selector_path(),
            kind: enum_type.name().to_owned(),
            hint: format!("picks {}", link.oneof_path()),
            default: None,
        };
        let Some(choice) = ask(self.prompter.select(&q, &items, default))? else {
            return Err(Stop::Quit(Quit));
        };
        if choice == values.len() {
            self.fields(&mut msg, "", 0, None)?;
            return Ok(msg);
        }
        let number = values[choice].0;
        set_in(
            &mut msg,
            link.selector_owner.as_ref(),
            &link.selector,
            Value::EnumNumber(number),
        );
        let member = link.member_for(number).cloned();
        self.fields(&mut msg, "", 0, Some((link, member)))?;
        Ok(msg)
    }

    /// Asks for the fields of `msg` in declaration order. `linked` is the
    /// envelope and the member its selector picked.
    fn fields(
        &mut self,
        msg: &mut DynamicMessage,
        prefix: &str,
        depth: usize,
        linked: Option<(&Link, Option<FieldDescriptor>)>,
    ) -> Step<()> {
        let desc = msg.descriptor();
        let mut oneofs_done: Vec<String> = Vec::new();
        for field in declaration_order(&desc) {
            if let Some((link, member)) = &linked {
                if link.selector_owner.is_none() && field == link.selector {
                    continue;
                }
                if link.oneof_owner.is_none()
                    && field.containing_oneof().as_ref() == Some(&link.oneof)
                {
                    if member.as_ref() == Some(&field) {
                        self.linked_member(msg, &field, prefix, depth)?;
                    }
                    continue;
                }
                // The header holding the selector or the oneof: walk into it.
                let holds_selector = link.selector_owner.as_ref() == Some(&field);
                let holds_oneof = link.oneof_owner.as_ref() == Some(&field);
                if holds_selector || holds_oneof {
                    let mut sub = sub_message(msg, &field);
                    let inner = Link {
                        selector_owner: None,
                        oneof_owner: None,
                        ..(*link).clone()
                    };
                    // Only the parts that live in this field.
                    let inner_member = if holds_oneof { member.clone() } else { None };
                    let path = join(prefix, field.name());
                    self.fields_partial(
                        &mut sub,
                        &path,
                        depth + 1,
                        &inner,
                        holds_selector,
                        holds_oneof,
                        inner_member,
                    )?;
                    // Nothing chosen, nothing sent (a zero selector and no
                    // member leave the header or body empty).
                    if is_empty(&sub) {
                        msg.clear_field(&field);
                    } else {
                        msg.set_field(&field, Value::Message(sub));
                    }
                    continue;
                }
            }
            if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
                if oneofs_done.iter().any(|n| n == oneof.name()) {
                    continue;
                }
                oneofs_done.push(oneof.name().to_owned());
                self.oneof(msg, &oneof, prefix, depth)?;
                continue;
            }
            self.field(msg, &field, prefix, depth)?;
        }
        Ok(())
    }

    /// Inside a header that holds the selector and/or the linked oneof.
    #[allow(clippy::too_many_arguments)]
    fn fields_partial(
        &mut self,
        msg: &mut DynamicMessage,
        prefix: &str,
        depth: usize,
        link: &Link,
        skip_selector: bool,
        holds_oneof: bool,
        member: Option<FieldDescriptor>,
    ) -> Step<()> {
        let desc = msg.descriptor();
        let mut oneofs_done: Vec<String> = Vec::new();
        for field in declaration_order(&desc) {
            if skip_selector && field == link.selector {
                continue;
            }
            if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
                if holds_oneof && oneof == link.oneof {
                    if member.as_ref() == Some(&field) {
                        self.linked_member(msg, &field, prefix, depth)?;
                    }
                    continue;
                }
                if oneofs_done.iter().any(|n| n == oneof.name()) {
                    continue;
                }
                oneofs_done.push(oneof.name().to_owned());
                self.oneof(msg, &oneof, prefix, depth)?;
                continue;
            }
            self.field(msg, &field, prefix, depth)?;
        }
        Ok(())
    }

    /// The payload the selector picked: filled without asking whether, and
    /// set even when left empty (the selector says it is there).
    fn linked_member(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        prefix: &str,
        depth: usize,
    ) -> Step<()> {
        // The path `--set` and profile defaults take: a oneof's name is
        // not part of it.
        let path = join(prefix, field.name());
        match field.kind() {
            Kind::Message(m) if !is_inline(&m) => {
                let mut sub = sub_message(msg, field);
                self.prompter.say(&format!("{path} ({})", m.name()));
                self.fields(&mut sub, &path, depth + 1, None)?;
                msg.set_field(field, Value::Message(sub));
            }
            _ => self.single(msg, field, &path)?,
        }
        Ok(())
    }

    /// A oneof not linked to a selector: pick a member or none.
    fn oneof(
        &mut self,
        msg: &mut DynamicMessage,
        oneof: &prost_reflect::OneofDescriptor,
        prefix: &str,
        depth: usize,
    ) -> Step<()> {
        let too_deep = depth + 1 >= MAX_DEPTH;
        let (members, dropped): (Vec<FieldDescriptor>, Vec<FieldDescriptor>) = oneof
            .fields()
            .partition(|f| !(too_deep && matches!(f.kind(), Kind::Message(m) if !is_inline(&m))));
        if !dropped.is_empty() {
            let names: Vec<&str> = dropped.iter().map(FieldDescriptor::name).collect();
            self.prompter.say(&format!(
                "{}: {} not offered, {MAX_DEPTH} levels deep already",
                join(prefix, oneof.name()),
                names.join(", ")
            ));
        }
        if members.is_empty() {
            return Ok(());
        }
        let current = members.iter().position(|f| msg.has_field(f));
        let mut items = vec![match current {
            Some(i) => format!("(keep {})", members[i].name()),
            None => "(none)".to_owned(),
        }];
        items.extend(
            members
                .iter()
                .map(|f| format!("{} ({})", f.name(), kind_label(f))),
        );
        let q = Question {
            path: join(prefix, oneof.name()),
            kind: "oneof".into(),
            hint: "pick a member, or none".into(),
            default: None,
        };
        let Some(choice) = ask(self.prompter.select(&q, &items, 0))? else {
            return Ok(());
        };
        if choice == 0 {
            return Ok(());
        }
        let field = members[choice - 1].clone();
        let path = join(prefix, field.name());
        match field.kind() {
            Kind::Message(m) if !is_inline(&m) => {
                let mut sub = sub_message(msg, &field);
                self.fields(&mut sub, &path, depth + 1, None)?;
                // Picking a member sets it, even with nothing in it.
                msg.set_field(&field, Value::Message(sub));
            }
            _ => self.single(msg, &field, &path)?,
        }
        Ok(())
    }

    /// Any other field.
    fn field(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        prefix: &str,
        depth: usize,
    ) -> Step<()> {
        let path = join(prefix, field.name());
        if field.is_map() {
            return self.map(msg, field, &path, depth);
        }
        if field.is_list() {
            return self.list(msg, field, &path, depth);
        }
        match field.kind() {
            Kind::Message(m) if !is_inline(&m) => {
                if depth + 1 >= MAX_DEPTH {
                    self.prompter.say(&format!(
                        "{path}: not offered, {MAX_DEPTH} levels deep already"
                    ));
                    return Ok(());
                }
                let set = msg.has_field(field);
                let q = Question {
                    path: path.clone(),
                    kind: m.name().to_owned(),
                    hint: if set {
                        "edit it?".into()
                    } else {
                        "fill it?".into()
                    },
                    default: None,
                };
                if ask(self.prompter.confirm(&q, set))? != Some(true) {
                    return Ok(());
                }
                let mut sub = sub_message(msg, field);
                self.fields(&mut sub, &path, depth + 1, None)?;
                if is_empty(&sub) {
                    // Nothing chosen, nothing sent.
                    msg.clear_field(field);
                    self.prompter
                        .say(&format!("{path}: nothing filled, left unset"));
                } else {
                    msg.set_field(field, Value::Message(sub));
                }
                Ok(())
            }
            _ => self.single(msg, field, &path),
        }
    }

    /// A singular scalar, enum, bytes or inline well-known type.
    fn single(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        path: &str,
    ) -> Step<()> {
        if let Some((profile, prefilled)) = &self.follow {
            if path == field.name() && msg.descriptor() == prefilled.descriptor() {
                profile.refresh_copy(field.name(), prefilled, msg);
            }
        }
        let kind = field.kind();
        if let Some(inner) = self.carried(&kind, path) {
            if self.build_carried(msg, field, path, &inner)? {
                return Ok(());
            }
        }
        let current = msg
            .has_field(field)
            .then(|| show(&kind, &msg.get_field(field)));
        if let Kind::Enum(e) = &kind {
            let mut items = vec![match &current {
                Some(c) => format!("(keep {c})"),
                None => "(leave unset)".to_owned(),
            }];
            items.extend(e.values().map(|v| format!("{} ({})", v.name(), v.number())));
            let q = Question {
                path: path.to_owned(),
                kind: kind_label(field),
                hint: String::new(),
                default: None,
            };
            if let Some(choice) = ask(self.prompter.select(&q, &items, 0))? {
                if choice > 0 {
                    let v = e.values().nth(choice - 1).expect("an item per value");
                    msg.set_field(field, Value::EnumNumber(v.number()));
                }
            }
            return Ok(());
        }
        let q = Question {
            path: path.to_owned(),
            kind: kind_label(field),
            hint: hint_for(&kind),
            default: current.clone(),
        };
        loop {
            let Some(answer) = ask(self.prompter.text(&q))? else {
                return Ok(()); // Enter: keep what is there (or nothing)
            };
            if current.is_some() && answer.trim() == "-" {
                msg.clear_field(field);
                return Ok(());
            }
            match parse_value(&kind, &answer) {
                Ok(v) => {
                    msg.set_field(field, v);
                    return Ok(());
                }
                Err(why) => self.prompter.warn(&why),
            }
        }
    }

    /// The type of the message a bytes field at `path` carries
    /// (`--bytes-as`), if any.
    fn carried(&self, kind: &Kind, path: &str) -> Option<MessageDescriptor> {
        if !matches!(kind, Kind::Bytes) {
            return None;
        }
        // `items[2].payload` is addressed as `items.payload`.
        let mut plain = String::with_capacity(path.len());
        let mut depth = 0;
        for c in path.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                c if depth == 0 => plain.push(c),
                _ => {}
            }
        }
        self.bytes_as?.lookup(&plain).cloned()
    }

    /// Offers to build the message a bytes field carries, its bytes then
    /// set in the field; `false` when the user would rather type the bytes.
    fn build_carried(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        path: &str,
        inner: &MessageDescriptor,
    ) -> Step<bool> {
        let current = msg.has_field(field).then(|| {
            let bytes = msg.get_field(field).as_bytes().cloned().unwrap_or_default();
            DynamicMessage::decode(inner.clone(), bytes).ok()
        });
        let q = Question {
            path: path.to_owned(),
            kind: format!("bytes as {}", inner.name()),
            hint: match current {
                Some(Some(_)) => "edit the message it carries?".into(),
                Some(None) => "build a message in place of what it holds?".into(),
                None => "build the message it carries?".into(),
            },
            default: None,
        };
        if ask(self.prompter.confirm(&q, true))? != Some(true) {
            return Ok(false);
        }
        let mut sub = current
            .flatten()
            .unwrap_or_else(|| DynamicMessage::new(inner.clone()));
        self.prompter
            .say(&format!("{path} ({} in bytes)", inner.name()));
        self.fields(&mut sub, path, 1, None)?;
        msg.set_field(field, Value::Bytes(crate::wire::encode_to_vec(&sub).into()));
        Ok(true)
    }

    fn list(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        path: &str,
        depth: usize,
    ) -> Step<()> {
        let kind = field.kind();
        let mut items: Vec<Value> = msg
            .get_field(field)
            .as_list()
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        if !items.is_empty() {
            let q = Question {
                path: path.to_owned(),
                kind: kind_label(field),
                hint: format!("has {} element(s); keep them?", items.len()),
                default: None,
            };
            if ask(self.prompter.confirm(&q, true))? == Some(false) {
                items.clear();
            }
        }
        loop {
            let item_path = format!("{path}[{}]", items.len());
            match &kind {
                Kind::Message(m) if !is_inline(m) => {
                    if depth + 1 >= MAX_DEPTH {
                        self.prompter.say(&format!(
                            "{path}: not offered, {MAX_DEPTH} levels deep already"
                        ));
                        break;
                    }
                    let q = Question {
                        path: item_path.clone(),
                        kind: m.name().to_owned(),
                        hint: "add one? (no ends the list)".into(),
                        default: None,
                    };
                    if ask(self.prompter.confirm(&q, false))? != Some(true) {
                        break;
                    }
                    let mut sub = DynamicMessage::new(m.clone());
                    self.fields(&mut sub, &item_path, depth + 1, None)?;
                    items.push(Value::Message(sub));
                }
                Kind::Enum(e) => {
                    let mut names = vec!["(done: finish the list)".to_owned()];
                    names.extend(e.values().map(|v| format!("{} ({})", v.name(), v.number())));
                    let q = Question {
                        path: item_path.clone(),
                        kind: e.name().to_owned(),
                        hint: String::new(),
                        default: None,
                    };
                    match ask(self.prompter.select(&q, &names, 0))? {
                        None | Some(0) => break,
                        Some(i) => items.push(Value::EnumNumber(
                            e.values().nth(i - 1).expect("an item per value").number(),
                        )),
                    }
                }
                _ => {
                    let q = Question {
                        path: item_path.clone(),
                        kind: crate::render::table::kind_name(&kind),
                        hint: match hint_for(&kind).as_str() {
                            "" => "Enter ends the list".to_owned(),
                            how => format!("{how}; Enter ends the list"),
                        },
                        default: None,
                    };
                    let Some(answer) = ask(self.prompter.text(&q))? else {
                        break;
                    };
                    match parse_value(&kind, &answer) {
                        Ok(v) => items.push(v),
                        Err(why) => self.prompter.warn(&why),
                    }
                }
            }
        }
        if items.is_empty() {
            msg.clear_field(field);
        } else {
            msg.set_field(field, Value::List(items));
        }
        Ok(())
    }

    fn map(
        &mut self,
        msg: &mut DynamicMessage,
        field: &FieldDescriptor,
        path: &str,
        depth: usize,
    ) -> Step<()> {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("maps are messages")
        };
        let key_kind = entry.map_entry_key_field().kind();
        let value_kind = entry.map_entry_value_field().kind();
        if matches!(&value_kind, Kind::Message(m) if !is_inline(m)) && depth + 1 >= MAX_DEPTH {
            self.prompter.say(&format!(
                "{path}: not offered, {MAX_DEPTH} levels deep already"
            ));
            return Ok(());
        }
        let mut map = msg.get_field(field).as_map().cloned().unwrap_or_default();
        if !map.is_empty() {
            let q = Question {
                path: path.to_owned(),
                kind: kind_label(field),
                hint: format!("has {} entries; keep them?", map.len()),
                default: None,
            };
            if ask(self.prompter.confirm(&q, true))? == Some(false) {
                map.clear();
            }
        }
        loop {
            let q = Question {
                path: format!("{path} key"),
                kind: crate::render::table::kind_name(&key_kind),
                hint: format!("{} so far; Enter finishes", map.len()),
                default: None,
            };
            let Some(answer) = ask(self.prompter.text(&q))? else {
                break;
            };
            let key = match parse_value(&key_kind, &answer) {
                Ok(k) => k.into_map_key().expect("map keys are scalars"),
                Err(why) => {
                    self.prompter.warn(&why);
                    continue;
                }
            };
            let value_path = format!("{path}[{answer}]");
            let value = match &value_kind {
                Kind::Message(m) if !is_inline(m) => {
                    let mut sub = DynamicMessage::new(m.clone());
                    self.fields(&mut sub, &value_path, depth + 1, None)?;
                    Value::Message(sub)
                }
                _ => {
                    let mut holder = EntryValue::new(&entry);
                    self.single(&mut holder.msg, &holder.field, &value_path)?;
                    holder.take()
                }
            };
            map.insert(key, value);
        }
        if map.is_empty() {
            msg.clear_field(field);
        } else {
            msg.set_field(field, Value::Map(map));
        }
        Ok(())
    }
}

/// A map entry message used to ask for one value with [`Builder::single`].
struct EntryValue {
    msg: DynamicMessage,
    field: FieldDescriptor,
}

impl EntryValue {
    fn new(entry: &MessageDescriptor) -> Self {
        EntryValue {
            msg: DynamicMessage::new(entry.clone()),
            field: entry.map_entry_value_field(),
        }
    }

    /// The value given, or the type's default when none was.
    fn take(self) -> Value {
        self.msg.get_field(&self.field).into_owned()
    }
}

fn is_empty(m: &DynamicMessage) -> bool {
    m.fields().next().is_none() && m.unknown_fields().next().is_none()
}

fn sub_message(msg: &DynamicMessage, field: &FieldDescriptor) -> DynamicMessage {
    match (msg.has_field(field), field.kind()) {
        (true, _) => msg
            .get_field(field)
            .as_message()
            .cloned()
            .expect("a message field"),
        (false, Kind::Message(m)) => DynamicMessage::new(m),
        _ => unreachable!("sub_message of a non-message field"),
    }
}

fn get_in(
    msg: &DynamicMessage,
    owner: Option<&FieldDescriptor>,
    field: &FieldDescriptor,
) -> Option<Value> {
    match owner {
        None => msg
            .has_field(field)
            .then(|| msg.get_field(field).into_owned()),
        Some(o) => {
            let sub = msg.get_field(o);
            let sub = sub.as_message()?;
            sub.has_field(field)
                .then(|| sub.get_field(field).into_owned())
        }
    }
}

fn set_in(
    msg: &mut DynamicMessage,
    owner: Option<&FieldDescriptor>,
    field: &FieldDescriptor,
    value: Value,
) {
    match owner {
        None => msg.set_field(field, value),
        Some(o) => {
            let mut sub = sub_message(msg, o);
            sub.set_field(field, value);
            msg.set_field(o, Value::Message(sub));
        }
    }
}
