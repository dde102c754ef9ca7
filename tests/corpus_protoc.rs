//! Differential test of every real-world schema in `tests/data/corpus`
//! against protoc (libprotoc 3.21): the field options that change the wire
//! or JSON form (`packed`, `json_name`, proto2 `default` and `required`, and
//! every other option, custom ones included) are the same whether the schema
//! came from `protoc -o` or from the `.proto` files commander compiles at run
//! time, and random messages of every type of the corpus encode to protoc's
//! bytes.
//!
//! Two tests per corpus:
//!
//! - `*_descriptors_match_protoc`: the corpus loaded as a user loads it
//!   (`Schema::load` of the `.proto` files, the `-s`/`-I` of
//!   `tests/data/corpus/README.md`) against `protoc --descriptor_set_out
//!   --include_imports` of the same files, field by field (cardinality, kind,
//!   json_name, packed, default, presence, oneof, options), plus the options
//!   of files, messages, oneofs, enums, enum values, services, methods and
//!   extensions.
//! - `*_messages_encode_like_protoc`: random messages of every message type
//!   of the corpus's own files (fixed seeds: three tame and two edgy per
//!   type, plus seeds until every repeated scalar holds values somewhere;
//!   required fields filled), written as text: the library
//!   (`message_from_text` + `wire::encode_to_vec`), the binary (`commander
//!   encode -i text`) and `protoc --encode` give the same bytes, and
//!   `commander decode -o text` prints what `protoc --decode` does. The tame
//!   ones also as JSON written by prost-reflect from protoc's descriptors
//!   (protoc's json_names): `commander encode -i json` gives protoc's bytes,
//!   and `commander decode -o jsonl --camel-case` gives that JSON back.
//!
//! Thousands of messages would mean thousands of protoc and commander
//! processes, so they go through each program at once, as the elements of a
//! generated wrapper message (`corpus_diff.Batch`, one `repeated` field per
//! type, in a scratch `.proto` that imports the corpus): an element of a
//! repeated message field is encoded exactly as the message alone is. The
//! cases that exercise the options (repeated scalars, unpacked or explicitly
//! packed; messages with `required` fields or explicit defaults) also go
//! through `protoc --encode=TYPE` and `commander encode -m TYPE --text` one by
//! one, exactly as a user runs them.
//!
//! Without protoc the tests say so and return; with
//! `COMMANDER_REQUIRE_PEERS=1` (CI, `scripts/test`) they fail instead.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use commander::render::text::to_text;
use commander::schema::Schema;
use commander::value::message_from_text;
use commander::wire;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions, Syntax, Value,
};
use prost_types::file_options::OptimizeMode;
use support::random::{Rng, Values, random_message, random_value};
use support::{TempDir, corpus, peer, run_cmd};

// ---------------------------------------------------------------------------
// The corpus schemas, loaded as tests/data/corpus/README.md says.

/// One corpus schema: protoc's import root, and what commander gets with
/// `-s` and `-I` (no `-I`: commander's default roots).
struct Corpus {
    name: &'static str,
    root: PathBuf,
    schema: Vec<PathBuf>,
    includes: Vec<PathBuf>,
}

fn meshtastic() -> Corpus {
    let root = corpus("meshtastic");
    Corpus {
        name: "meshtastic",
        schema: vec![root.clone()],
        includes: vec![root.clone()],
        root,
    }
}

fn sparkplug_b() -> Corpus {
    let root = corpus("sparkplug_b");
    Corpus {
        name: "sparkplug_b",
        schema: vec![root.join("sparkplug_b.proto")],
        includes: vec![],
        root,
    }
}

fn esphome() -> Corpus {
    let root = corpus("esphome/aioesphomeapi");
    Corpus {
        name: "esphome",
        // Imports api_options.proto beside it.
        schema: vec![root.join("api.proto")],
        includes: vec![],
        root,
    }
}

fn tesla() -> Corpus {
    let root = corpus("tesla/pkg/protocol/protobuf");
    Corpus {
        name: "tesla",
        schema: vec![root.clone()],
        includes: vec![],
        root,
    }
}

fn chirpstack() -> Corpus {
    let root = corpus("chirpstack/api/proto");
    Corpus {
        name: "chirpstack",
        schema: vec![root.clone()],
        includes: vec![],
        root,
    }
}

fn cast() -> Corpus {
    let root = corpus("cast/chromecast_protobuf");
    Corpus {
        name: "cast",
        // The directory: cast_channel.proto (what the README loads) and the
        // two other files beside it, authority_keys.proto and logging.proto.
        schema: vec![root.clone()],
        includes: vec![],
        root,
    }
}

impl Corpus {
    /// The `.proto` files commander compiles, relative to the import root
    /// (what protoc is given), sorted.
    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        for path in &self.schema {
            if path.is_dir() {
                out.extend(proto_files(path));
            } else {
                out.push(path.clone());
            }
        }
        let mut names: Vec<String> = out
            .iter()
            .map(|p| {
                p.strip_prefix(&self.root)
                    .unwrap_or_else(|_| panic!("{} is not under the root", p.display()))
                    .display()
                    .to_string()
            })
            .collect();
        names.sort();
        names
    }

    /// `-s ... [-I ...]` for the binary, with `extra` files (scratch
    /// `.proto` files in `extra_root`) loaded as well.
    fn schema_args(&self, extra: &[PathBuf], extra_root: Option<&Path>) -> Vec<String> {
        let mut args = Vec::new();
        for s in self.schema.iter().chain(extra) {
            args.push("-s".to_owned());
            args.push(s.display().to_string());
        }
        // With explicit roots, the scratch directory must be one of them too;
        // without, commander makes every -s file's directory a root.
        if !self.includes.is_empty() {
            for i in self.includes.iter().map(|p| p.as_path()).chain(extra_root) {
                args.push("-I".to_owned());
                args.push(i.display().to_string());
            }
        }
        args
    }

    /// The schema as commander loads it from the `.proto` files.
    fn load(&self) -> Schema {
        Schema::load(&self.schema, &self.includes)
            .unwrap_or_else(|e| panic!("{}: commander cannot load it: {e:#}", self.name))
    }

    /// `protoc -I ROOT --descriptor_set_out=SET --include_imports FILES...`,
    /// read by prost-reflect alone.
    fn protoc_pool(&self, protoc: &Path, tmp: &TempDir) -> DescriptorPool {
        let set = tmp.path(&format!("{}.pb", self.name));
        let mut cmd = Command::new(protoc);
        cmd.arg(format!("-I{}", self.root.display()))
            .arg(format!("--descriptor_set_out={}", set.display()))
            .arg("--include_imports")
            .args(self.files())
            .current_dir(&self.root);
        let r = run_cmd(&mut cmd, b"");
        assert_eq!(r.code, 0, "{}: protoc failed:\n{}", self.name, r.stderr);
        let bytes = std::fs::read(&set).unwrap();
        DescriptorPool::decode(bytes.as_slice())
            .unwrap_or_else(|e| panic!("{}: protoc's set does not load: {e}", self.name))
    }
}

/// Every `.proto` file below `dir`.
fn proto_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file of the corpus itself, not one of Google's (well-known types,
/// `descriptor.proto`, ChirpStack's copy of `google/api/*.proto`).
fn own_file(name: &str) -> bool {
    !name.starts_with("google/")
}

fn own_messages(pool: &DescriptorPool) -> Vec<MessageDescriptor> {
    let mut out: Vec<MessageDescriptor> = pool
        .all_messages()
        .filter(|m| own_file(m.parent_file().name()))
        .collect();
    out.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    out
}

// ---------------------------------------------------------------------------
// (a) Descriptors: what protoc wrote against what commander compiled.

/// Options (any `*Options` message) in canonical bytes, the form two
/// loaders must agree on; also readable, for the failure report.
fn options(opts: &DynamicMessage) -> (Vec<u8>, String) {
    let bytes = wire::encode_to_vec(opts);
    let text = to_text(opts).replace('\n', " ").trim_end().to_owned();
    (bytes, text)
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => format!("message {}", m.full_name()),
        Kind::Enum(e) => format!("enum {}", e.full_name()),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// A default value, comparable across pools (a message's default is an
/// empty message of its type).
fn default_repr(v: &Value) -> String {
    match v {
        Value::Message(m) => format!("empty {}", m.descriptor().full_name()),
        Value::List(l) if l.is_empty() => "[]".to_owned(),
        Value::Map(m) if m.is_empty() => "{}".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Repeated scalars, the fields `packed` applies to.
fn packable(field: &FieldDescriptor) -> bool {
    field.is_list() && !matches!(field.kind(), Kind::Message(_) | Kind::String | Kind::Bytes)
}

/// What was compared, so a test that compares nothing cannot pass.
#[derive(Debug, Default)]
struct Counts {
    files: usize,
    messages: usize,
    fields: usize,
    enum_values: usize,
    extensions: usize,
    methods: usize,
    /// Repeated scalars that protoc says are not packed.
    unpacked: Vec<String>,
    /// Repeated scalars with an explicit `packed` option.
    explicit_packed: Vec<String>,
    required: usize,
    /// Fields and extensions with an explicit `[default = ...]`.
    explicit_defaults: usize,
    /// Messages whose options set a custom option (an extension).
    custom_message_options: usize,
    custom_field_options: usize,
    custom_method_options: usize,
}

/// Collects every difference between two views of one descriptor.
struct Diffs(Vec<String>);

impl Diffs {
    fn check<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, protoc: T, ours: T) {
        if protoc != ours {
            self.0.push(format!(
                "{what}\n    protoc:    {protoc:?}\n    commander: {ours:?}"
            ));
        }
    }

    fn options(&mut self, what: &str, protoc: &DynamicMessage, ours: &DynamicMessage) {
        let (theirs, their_text) = options(protoc);
        let (mine, my_text) = options(ours);
        if theirs != mine {
            self.0.push(format!(
                "{what} options\n    protoc:    {} [{their_text}]\n    commander: {} [{my_text}]",
                hex::encode(&theirs),
                hex::encode(&mine)
            ));
        }
    }
}

fn has_custom_option(opts: &DynamicMessage) -> bool {
    opts.extensions().next().is_some()
}

fn compare_field(d: &mut Diffs, c: &mut Counts, theirs: &FieldDescriptor, ours: &FieldDescriptor) {
    let name = theirs.full_name();
    c.fields += 1;
    d.check(&format!("{name}: name"), theirs.name(), ours.name());
    d.check(
        &format!("{name}: cardinality"),
        format!("{:?}", theirs.cardinality()),
        format!("{:?}", ours.cardinality()),
    );
    d.check(
        &format!("{name}: kind"),
        kind_name(&theirs.kind()),
        kind_name(&ours.kind()),
    );
    d.check(
        &format!("{name}: json_name"),
        theirs.json_name(),
        ours.json_name(),
    );
    d.check(
        &format!("{name}: is_packed"),
        theirs.is_packed(),
        ours.is_packed(),
    );
    d.check(
        &format!("{name}: default_value"),
        default_repr(&theirs.default_value()),
        default_repr(&ours.default_value()),
    );
    d.check(
        &format!("{name}: supports_presence"),
        theirs.supports_presence(),
        ours.supports_presence(),
    );
    d.check(
        &format!("{name}: is_group"),
        theirs.is_group(),
        ours.is_group(),
    );
    d.check(
        &format!("{name}: oneof"),
        theirs.containing_oneof().map(|o| o.name().to_owned()),
        ours.containing_oneof().map(|o| o.name().to_owned()),
    );
    d.options(name, &theirs.options(), &ours.options());

    if packable(theirs) && !theirs.is_packed() {
        c.unpacked.push(name.to_owned());
    }
    if packable(theirs)
        && theirs
            .field_descriptor_proto()
            .options
            .as_ref()
            .is_some_and(|o| o.packed.is_some())
    {
        c.explicit_packed.push(name.to_owned());
    }
    if theirs.is_required() {
        c.required += 1;
    }
    if theirs.field_descriptor_proto().default_value.is_some() {
        c.explicit_defaults += 1;
    }
    if has_custom_option(&theirs.options()) {
        c.custom_field_options += 1;
    }
}

/// Every difference between protoc's pool and commander's, over the files
/// of the corpus itself.
fn compare_pools(theirs: &DescriptorPool, ours: &DescriptorPool) -> (Vec<String>, Counts) {
    let mut d = Diffs(Vec::new());
    let mut c = Counts::default();

    let their_files: BTreeSet<String> = theirs
        .files()
        .map(|f| f.name().to_owned())
        .filter(|n| own_file(n))
        .collect();
    let our_files: BTreeSet<String> = ours
        .files()
        .map(|f| f.name().to_owned())
        .filter(|n| own_file(n))
        .collect();
    d.check("files", &their_files, &our_files);
    for name in &their_files {
        let (Some(t), Some(o)) = (theirs.get_file_by_name(name), ours.get_file_by_name(name))
        else {
            continue;
        };
        c.files += 1;
        d.check(
            &format!("{name}: syntax"),
            format!("{:?}", t.syntax()),
            format!("{:?}", o.syntax()),
        );
        d.options(&format!("file {name}"), &t.options(), &o.options());
    }

    for t in own_messages(theirs) {
        let name = t.full_name();
        let Some(o) = ours.get_message_by_name(name) else {
            d.0.push(format!("{name}: message missing from commander's schema"));
            continue;
        };
        c.messages += 1;
        d.options(name, &t.options(), &o.options());
        d.check(
            &format!("{name}: is_map_entry"),
            t.is_map_entry(),
            o.is_map_entry(),
        );
        if has_custom_option(&t.options()) {
            c.custom_message_options += 1;
        }
        for tf in t.fields() {
            match o.get_field(tf.number()) {
                Some(of) => compare_field(&mut d, &mut c, &tf, &of),
                None => d.0.push(format!("{}: field missing", tf.full_name())),
            }
        }
        for of in o.fields() {
            if t.get_field(of.number()).is_none() {
                d.0.push(format!("{}: field protoc does not have", of.full_name()));
            }
        }
        for (to, oo) in t.oneofs().zip(o.oneofs()) {
            d.check(&format!("{name}: oneof"), to.name(), oo.name());
            d.options(to.full_name(), &to.options(), &oo.options());
        }
        d.check(
            &format!("{name}: oneofs"),
            t.oneofs().len(),
            o.oneofs().len(),
        );
    }

    for te in theirs.all_enums() {
        if !own_file(te.parent_file().name()) {
            continue;
        }
        let name = te.full_name();
        let Some(oe) = ours.get_enum_by_name(name) else {
            d.0.push(format!("{name}: enum missing from commander's schema"));
            continue;
        };
        d.options(name, &te.options(), &oe.options());
        let their_values: Vec<(String, i32)> = te
            .values()
            .map(|v| (v.name().to_owned(), v.number()))
            .collect();
        let our_values: Vec<(String, i32)> = oe
            .values()
            .map(|v| (v.name().to_owned(), v.number()))
            .collect();
        d.check(&format!("{name}: values"), &their_values, &our_values);
        for (tv, ov) in te.values().zip(oe.values()) {
            c.enum_values += 1;
            d.options(tv.full_name(), &tv.options(), &ov.options());
        }
    }

    for tx in theirs.all_extensions() {
        if !own_file(tx.parent_file().name()) {
            continue;
        }
        let name = tx.full_name();
        let Some(ox) = ours.get_extension_by_name(name) else {
            d.0.push(format!("{name}: extension missing from commander's schema"));
            continue;
        };
        c.extensions += 1;
        d.check(&format!("{name}: number"), tx.number(), ox.number());
        d.check(
            &format!("{name}: extendee"),
            tx.containing_message().full_name().to_owned(),
            ox.containing_message().full_name().to_owned(),
        );
        d.check(
            &format!("{name}: cardinality"),
            format!("{:?}", tx.cardinality()),
            format!("{:?}", ox.cardinality()),
        );
        d.check(
            &format!("{name}: kind"),
            kind_name(&tx.kind()),
            kind_name(&ox.kind()),
        );
        d.check(
            &format!("{name}: json_name"),
            tx.json_name(),
            ox.json_name(),
        );
        d.check(
            &format!("{name}: is_packed"),
            tx.is_packed(),
            ox.is_packed(),
        );
        d.check(
            &format!("{name}: default_value"),
            default_repr(&tx.default_value()),
            default_repr(&ox.default_value()),
        );
        d.options(name, &tx.options(), &ox.options());
        if tx.field_descriptor_proto().default_value.is_some() {
            c.explicit_defaults += 1;
        }
    }

    for ts in theirs.services() {
        if !own_file(ts.parent_file().name()) {
            continue;
        }
        let name = ts.full_name();
        let Some(os) = ours.get_service_by_name(name) else {
            d.0.push(format!("{name}: service missing from commander's schema"));
            continue;
        };
        d.options(name, &ts.options(), &os.options());
        let their_methods: Vec<String> = ts.methods().map(|m| m.name().to_owned()).collect();
        let our_methods: Vec<String> = os.methods().map(|m| m.name().to_owned()).collect();
        d.check(&format!("{name}: methods"), &their_methods, &our_methods);
        for (tm, om) in ts.methods().zip(os.methods()) {
            c.methods += 1;
            d.options(tm.full_name(), &tm.options(), &om.options());
            if has_custom_option(&tm.options()) {
                c.custom_method_options += 1;
            }
        }
    }
    (d.0, c)
}

/// Compares a corpus's descriptors and returns what was compared.
fn descriptors_match(c: &Corpus) -> Option<Counts> {
    let protoc = peer("protoc")?;
    let tmp = TempDir::new(&format!("corpus-desc-{}", c.name));
    let theirs = c.protoc_pool(&protoc, &tmp);
    let ours = c.load();
    let (diffs, counts) = compare_pools(&theirs, &ours.pool);
    assert!(
        diffs.is_empty(),
        "{}: {} differences between protoc's descriptors and commander's \
         (compiled from the .proto files):\n  {}",
        c.name,
        diffs.len(),
        diffs.join("\n  ")
    );
    assert!(
        counts.messages > 0 && counts.fields > 0,
        "{}: nothing compared: {counts:?}",
        c.name
    );
    eprintln!(
        "{}: {} files, {} messages, {} fields, {} enum values, {} extensions, {} methods: \
         same as protoc ({} unpacked repeated scalars, {} explicitly packed, {} required, \
         {} explicit defaults, custom options on {} messages, {} fields, {} methods)",
        c.name,
        counts.files,
        counts.messages,
        counts.fields,
        counts.enum_values,
        counts.extensions,
        counts.methods,
        counts.unpacked.len(),
        counts.explicit_packed.len(),
        counts.required,
        counts.explicit_defaults,
        counts.custom_message_options,
        counts.custom_field_options,
        counts.custom_method_options,
    );
    Some(counts)
}

#[test]
fn meshtastic_descriptors_match_protoc() {
    let Some(c) = descriptors_match(&meshtastic()) else {
        return;
    };
    // nanopb's options on fields: `(nanopb).max_size` and friends.
    assert!(c.custom_field_options > 0, "{c:?}");
}

#[test]
fn sparkplug_b_descriptors_match_protoc() {
    let Some(c) = descriptors_match(&sparkplug_b()) else {
        return;
    };
    // proto2: repeated scalars are not packed unless asked to be.
    assert!(!c.unpacked.is_empty(), "{c:?}");
}

#[test]
fn esphome_descriptors_match_protoc() {
    let Some(c) = descriptors_match(&esphome()) else {
        return;
    };
    // The fields that were packed anyway when api.proto was compiled at run
    // time, before options reached the codec.
    for field in [
        "ExecuteServiceArgument.bool_array",
        "ExecuteServiceArgument.int_array",
        "ExecuteServiceArgument.float_array",
    ] {
        assert!(
            c.unpacked.iter().any(|f| f == field),
            "{field} is [packed=false]: {:?}",
            c.unpacked
        );
    }
    assert!(c.explicit_packed.len() > c.unpacked.len(), "{c:?}");
    // Message ids are the custom message option (id); api_options.proto's
    // extensions have defaults; methods carry (needs_authentication) etc.
    assert!(c.custom_message_options >= 50, "{c:?}");
    assert!(c.custom_method_options > 0, "{c:?}");
    assert!(c.explicit_defaults > 0, "{c:?}");
}

#[test]
fn tesla_descriptors_match_protoc() {
    descriptors_match(&tesla());
}

#[test]
fn chirpstack_descriptors_match_protoc() {
    let Some(c) = descriptors_match(&chirpstack()) else {
        return;
    };
    // google.api.http annotations on the services' methods.
    assert!(c.custom_method_options > 0, "{c:?}");
}

#[test]
fn cast_descriptors_match_protoc() {
    let Some(c) = descriptors_match(&cast()) else {
        return;
    };
    assert!(c.required > 0 && c.explicit_defaults > 0, "{c:?}");
}

// ---------------------------------------------------------------------------
// (b) Random messages of every corpus type: the same bytes as protoc.

/// One random message: its type, how it was made, and its text (commander's
/// text format, read by every encoder below).
struct Case {
    ty: String,
    /// The wrapper's field that holds messages of this type.
    number: u32,
    seed: u64,
    values: Values,
    msg: DynamicMessage,
    text: String,
}

impl Case {
    fn label(&self) -> String {
        format!("{} (seed {}, {:?})", self.ty, self.seed, self.values)
    }
}

/// Sets every `required` field a random message left out, at every depth:
/// the messages a device sends are complete (protoc only warns about missing
/// ones, and encodes the rest alike).
fn fill_required(msg: &mut DynamicMessage, rng: &mut Rng, values: Values, depth: usize) {
    let desc = msg.descriptor();
    for field in desc.fields() {
        if field.is_required() && !msg.has_field(&field) {
            let kind = field.kind();
            let mut v = random_value(&kind, rng, values, depth).unwrap_or_else(|| match &kind {
                Kind::Message(m) => Value::Message(DynamicMessage::new(m.clone())),
                _ => unreachable!("only messages stop at the depth limit"),
            });
            close_value(&mut v, &kind);
            msg.set_field(&field, v);
        }
        if msg.has_field(&field) {
            fill_value(msg.get_field_mut(&field), rng, values, depth + 1);
        }
    }
}

fn fill_value(v: &mut Value, rng: &mut Rng, values: Values, depth: usize) {
    match v {
        Value::Message(m) => fill_required(m, rng, values, depth),
        Value::List(items) => items
            .iter_mut()
            .for_each(|i| fill_value(i, rng, values, depth)),
        Value::Map(map) => map
            .values_mut()
            .for_each(|i| fill_value(i, rng, values, depth)),
        _ => {}
    }
}

/// A proto2 enum is closed: protoc refuses a number it does not define in
/// text (`Unknown enumeration value`), so edgy values keep their unknown
/// numbers to the open (proto3) enums. What commander does with such a
/// number on the wire is `unknown_numbers_of_closed_enums_are_unknown_fields`.
fn close_enums(msg: &mut DynamicMessage) {
    let desc = msg.descriptor();
    for field in desc.fields() {
        if msg.has_field(&field) {
            close_value(msg.get_field_mut(&field), &field.kind());
        }
    }
}

/// [`close_enums`] for one value of a field of `kind` (the element kind of
/// a list, the entry of a map).
fn close_value(v: &mut Value, kind: &Kind) {
    match (v, kind) {
        (Value::EnumNumber(n), Kind::Enum(e))
            if e.parent_file().syntax() == Syntax::Proto2 && e.get_value(*n).is_none() =>
        {
            *n = e.default_value().number();
        }
        (Value::Message(m), _) => close_enums(m),
        (Value::List(items), _) => items.iter_mut().for_each(|i| close_value(i, kind)),
        (Value::Map(map), Kind::Message(entry)) => {
            let value_kind = entry.map_entry_value_field().kind();
            map.values_mut().for_each(|i| close_value(i, &value_kind));
        }
        _ => {}
    }
}

fn make_case(desc: &MessageDescriptor, number: u32, seed: u64, values: Values) -> Case {
    let mut rng = Rng::new(seed);
    let mut msg = random_message(desc, &mut rng, values, 0);
    close_enums(&mut msg);
    fill_required(&mut msg, &mut rng, values, 0);
    let text = to_text(&msg);
    Case {
        ty: desc.full_name().to_owned(),
        number,
        seed,
        values,
        msg,
        text,
    }
}

/// Seeds of every type: tame values (what a device sends) and edgy ones
/// (extremes, NaN, -0, unknown enum numbers, odd strings).
const TAME_SEEDS: &[u64] = &[1, 2, 3];
const EDGY_SEEDS: &[u64] = &[4, 5];

/// The cases of one corpus: every own non-map-entry type with every seed;
/// then, for each type with repeated scalars, further seeds until each of
/// them holds values in some case (the fields `packed` is about). Returns
/// the cases and the ones that exercise the options, to be run one by one.
fn corpus_cases(types: &[MessageDescriptor]) -> (Vec<Case>, Vec<usize>) {
    let mut cases = Vec::new();
    let mut option_cases = Vec::new();
    for (i, desc) in types.iter().enumerate() {
        let number = i as u32 + 1;
        for &seed in TAME_SEEDS {
            cases.push(make_case(desc, number, seed, Values::Tame));
        }
        for &seed in EDGY_SEEDS {
            cases.push(make_case(desc, number, seed, Values::Edgy));
        }
        let mut wanted: Vec<FieldDescriptor> = desc.fields().filter(packable).collect();
        wanted.retain(|f| {
            !cases
                .iter()
                .rev()
                .take_while(|c| c.number == number)
                .any(|c| holds_values(&c.msg, f))
        });
        let mut seed = 1000;
        while !wanted.is_empty() && seed < 1200 {
            let case = make_case(desc, number, seed, Values::Tame);
            if wanted.iter().any(|f| holds_values(&case.msg, f)) {
                wanted.retain(|f| !holds_values(&case.msg, f));
                cases.push(case);
            }
            seed += 1;
        }
        assert!(
            wanted.is_empty(),
            "{}: no seed sets {:?}",
            desc.full_name(),
            wanted.iter().map(|f| f.name()).collect::<Vec<_>>()
        );
        // One by one: a case of each type whose own fields carry the
        // options under test (packing of repeated scalars, required fields,
        // explicit defaults), the first that holds values in its repeated
        // scalars when it has some.
        let options_matter = desc.fields().any(|f| {
            packable(&f) || f.is_required() || f.field_descriptor_proto().default_value.is_some()
        });
        if options_matter {
            let of_type: Vec<usize> = (0..cases.len())
                .filter(|&k| cases[k].number == number)
                .collect();
            let pick = of_type
                .iter()
                .copied()
                .find(|&k| {
                    let m = &cases[k].msg;
                    desc.fields().filter(packable).any(|f| holds_values(m, &f))
                })
                .unwrap_or(of_type[0]);
            option_cases.push(pick);
        }
    }
    (cases, option_cases)
}

fn holds_values(msg: &DynamicMessage, field: &FieldDescriptor) -> bool {
    msg.has_field(field) && matches!(&*msg.get_field(field), Value::List(l) if !l.is_empty())
}

/// Whether `msg`, at any depth, holds values in a repeated scalar that is not
/// packed (the wire form `[packed = false]`, or proto2, decides).
fn holds_unpacked(msg: &DynamicMessage) -> bool {
    fn inner(v: &Value) -> bool {
        match v {
            Value::Message(m) => holds_unpacked(m),
            Value::List(items) => items.iter().any(inner),
            Value::Map(map) => map.values().any(inner),
            _ => false,
        }
    }
    msg.fields().any(|(field, v)| {
        (packable(&field) && !field.is_packed() && holds_values(msg, &field)) || inner(v)
    })
}

/// Whether `msg` holds, at any depth, a `google.protobuf.Value` whose
/// `kind` oneof is not set.
fn holds_kindless_value(msg: &DynamicMessage) -> bool {
    fn inner(v: &Value) -> bool {
        match v {
            Value::Message(m) => holds_kindless_value(m),
            Value::List(items) => items.iter().any(inner),
            Value::Map(map) => map.values().any(inner),
            _ => false,
        }
    }
    if msg.descriptor().full_name() == "google.protobuf.Value" && msg.fields().next().is_none() {
        return true;
    }
    msg.fields().any(|(_, v)| inner(v))
}

/// The scratch wrapper: `repeated TYPE tN = N;` for every type. protoc lets
/// only a lite file import lite ones (Cast's are `optimize_for = LITE_RUNTIME`).
fn batch_proto(files: &[String], types: &[MessageDescriptor], lite: bool) -> String {
    let mut s = String::from("syntax = \"proto2\";\npackage corpus_diff;\n");
    if lite {
        s.push_str("option optimize_for = LITE_RUNTIME;\n");
    }
    for f in files {
        let _ = writeln!(s, "import \"{f}\";");
    }
    s.push_str("message Batch {\n");
    for (i, t) in types.iter().enumerate() {
        let _ = writeln!(s, "  repeated .{} t{} = {};", t.full_name(), i + 1, i + 1);
    }
    s.push_str("}\n");
    s
}

/// The wrapper in text: every case, in field-number order (the order the
/// elements are written in).
fn batch_text(cases: &[Case]) -> String {
    let mut s = String::new();
    for c in cases {
        let _ = write!(s, "t{} {{\n{}}}\n", c.number, c.text);
    }
    s
}

fn varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
    }
    panic!("varint too long at {pos}");
}

/// One message in protoc's wrapper bytes.
struct Element {
    /// The wrapper's field, so the type.
    number: u32,
    /// The element as written in the wrapper: key, length, message.
    framed: Vec<u8>,
    /// The message's own bytes.
    body: Vec<u8>,
}

fn split_batch(bytes: &[u8]) -> Vec<Element> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let key = varint(bytes, &mut pos);
        assert_eq!(key & 7, 2, "a wrapper element is length-delimited");
        let len = varint(bytes, &mut pos) as usize;
        out.push(Element {
            number: (key >> 3) as u32,
            framed: bytes[start..pos + len].to_vec(),
            body: bytes[pos..pos + len].to_vec(),
        });
        pos += len;
    }
    out
}

/// The text of each top-level wrapper element (`tN {` at column 0).
fn split_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with('t') || out.is_empty() {
            out.push(String::new());
        }
        out.last_mut().unwrap().push_str(line);
    }
    out
}

/// At most this many differences are printed in full.
const SHOWN: usize = 12;

/// The wrapper's type, in the scratch file `corpus_diff.proto`.
const BATCH: &str = "corpus_diff.Batch";

/// One corpus's messages: the cases, protoc's bytes of each, and every
/// difference found.
struct Session<'a> {
    corpus: &'a Corpus,
    protoc: PathBuf,
    tmp: TempDir,
    cases: Vec<Case>,
    /// protoc's bytes of the wrapper holding every case.
    batch: Vec<u8>,
    elements: Vec<Element>,
    failures: Vec<String>,
}

impl Session<'_> {
    /// `protoc -I ROOT -I SCRATCH MODE corpus_diff.proto`.
    fn protoc_batch(&self, mode: &str, stdin: &[u8]) -> Vec<u8> {
        let r = run_cmd(
            Command::new(&self.protoc)
                .arg(format!("-I{}", self.corpus.root.display()))
                .arg(format!("-I{}", self.tmp.0.display()))
                .arg(mode)
                .arg("corpus_diff.proto")
                .current_dir(&self.tmp.0),
            stdin,
        );
        assert_eq!(
            r.code, 0,
            "{}: protoc {mode} refused:\n{}",
            self.corpus.name, r.stderr
        );
        r.raw_stdout
    }

    /// `commander COMMAND -s CORPUS... -s corpus_diff.proto -m
    /// corpus_diff.Batch REST...`
    fn commander_batch(&self, command: &str, rest: &[&str], stdin: &[u8]) -> support::Run {
        let batch_file = self.tmp.path("corpus_diff.proto");
        let schema = self
            .corpus
            .schema_args(std::slice::from_ref(&batch_file), Some(&self.tmp.0));
        let mut args: Vec<&str> = vec![command];
        args.extend(schema.iter().map(String::as_str));
        args.extend(["-m", BATCH]);
        args.extend_from_slice(rest);
        support::run_with(&args, stdin)
    }

    fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    /// The library, from the same text, with the schema compiled from the
    /// `.proto` files (without the wrapper).
    fn library(&mut self, ours: &Schema) {
        for k in 0..self.cases.len() {
            let case = &self.cases[k];
            let theirs = &self.elements[k].body;
            let desc = ours.message(&case.ty).unwrap();
            let failure = match message_from_text(&desc, &case.text) {
                Err(e) => Some(format!(
                    "=== {}: commander cannot read the text protoc read: {e:#}\n{}",
                    case.label(),
                    case.text
                )),
                Ok(msg) => {
                    let mine = wire::encode_to_vec(&msg);
                    (mine != *theirs).then(|| {
                        format!(
                            "=== {}: library bytes differ\n  commander: {}\n  protoc:    {}\n{}",
                            case.label(),
                            hex::encode(&mine),
                            hex::encode(theirs),
                            case.text
                        )
                    })
                }
            };
            if let Some(f) = failure {
                self.fail(f);
            }
        }
    }

    /// The binary, the wrapper's text on stdin: protoc's bytes, compared
    /// per element when they differ.
    fn binary_text(&mut self, text: &str) {
        let r = self.commander_batch("encode", &["-i", "text", "-f", "hex"], text.as_bytes());
        if r.code != 0 {
            return self.fail(format!(
                "=== commander encode -i text failed:\n{}",
                r.stderr
            ));
        }
        let mine = hex::decode(r.stdout.trim_end()).expect("hex out");
        if mine == self.batch {
            return;
        }
        let ours = split_batch(&mine);
        if ours.len() != self.elements.len() {
            return self.fail(format!(
                "=== commander encode -i text wrote {} messages, protoc {}",
                ours.len(),
                self.elements.len()
            ));
        }
        for (k, mine) in ours.iter().enumerate() {
            let theirs = &self.elements[k];
            if mine.framed != theirs.framed {
                let f = format!(
                    "=== {}: `commander encode -i text` bytes differ\n  commander: {}\n  protoc:    {}",
                    self.cases[k].label(),
                    hex::encode(&mine.body),
                    hex::encode(&theirs.body)
                );
                self.fail(f);
            }
        }
    }

    /// The binary, JSON Lines in and out. The tame cases are written as
    /// JSON by prost-reflect from protoc's descriptors (lowerCamelCase keys,
    /// protoc's json_names): `commander encode` of each line gives protoc's
    /// bytes, and `commander decode -o jsonl --camel-case` of protoc's bytes
    /// gives the same JSON back. A google.protobuf.Value with no kind set has
    /// no JSON form (prost-reflect writes `null`, which reads back as
    /// null_value), so messages holding one are left to the text encoders.
    /// Returns how many messages went through JSON.
    fn binary_json(&mut self) -> usize {
        let json_cases: Vec<usize> = (0..self.cases.len())
            .filter(|&k| {
                self.cases[k].values == Values::Tame && !holds_kindless_value(&self.cases[k].msg)
            })
            .collect();
        let mut written = Vec::new();
        for &k in &json_cases {
            let case = &self.cases[k];
            let mut ser = serde_json::Serializer::new(Vec::new());
            case.msg
                .serialize_with_options(&mut ser, &SerializeOptions::new())
                .unwrap_or_else(|e| panic!("{}: prost-reflect JSON: {e}", case.label()));
            let json = String::from_utf8(ser.into_inner()).unwrap();
            written.push(format!("{{\"t{}\":[{json}]}}", case.number));
        }

        let jsonl = written.join("\n") + "\n";
        let r = self.commander_batch("encode", &["-i", "json", "-f", "hex"], jsonl.as_bytes());
        let lines: Vec<&str> = r.stdout.lines().collect();
        if r.code != 0 || lines.len() != json_cases.len() {
            self.fail(format!(
                "=== commander encode -i json: exit {}, {} lines for {} messages:\n{}",
                r.code,
                lines.len(),
                json_cases.len(),
                r.stderr
            ));
        } else {
            for ((line, json), &k) in lines.iter().zip(&written).zip(&json_cases) {
                let theirs = hex::encode(&self.elements[k].framed);
                if *line != theirs {
                    let f = format!(
                        "=== {}: `commander encode -i json` bytes differ\n  commander: {line}\n  protoc:    {theirs}\n{json}",
                        self.cases[k].label()
                    );
                    self.fail(f);
                }
            }
        }

        let hex_lines: String = json_cases
            .iter()
            .map(|&k| hex::encode(&self.elements[k].framed) + "\n")
            .collect();
        let r = self.commander_batch(
            "decode",
            &["-o", "jsonl", "--camel-case", "-i", "hex"],
            hex_lines.as_bytes(),
        );
        let lines: Vec<&str> = r.stdout.lines().collect();
        if r.code != 0 || lines.len() != json_cases.len() {
            self.fail(format!(
                "=== commander decode -o jsonl: exit {}, {} lines for {} messages:\n{}",
                r.code,
                lines.len(),
                json_cases.len(),
                r.stderr
            ));
        } else {
            for ((line, json), &k) in lines.iter().zip(&written).zip(&json_cases) {
                let ours: serde_json::Value = serde_json::from_str(line).unwrap();
                let theirs: serde_json::Value = serde_json::from_str(json).unwrap();
                if ours != theirs {
                    let f = format!(
                        "=== {}: `commander decode -o jsonl --camel-case` differs\n  commander: {line}\n  written:   {json}",
                        self.cases[k].label()
                    );
                    self.fail(f);
                }
            }
        }
        json_cases.len()
    }

    /// protoc's bytes decode to protoc's text.
    fn decode_text(&mut self) {
        let their_text =
            String::from_utf8(self.protoc_batch(&format!("--decode={BATCH}"), &self.batch))
                .expect("protoc's text is UTF-8");
        let hex_line = format!("{}\n", hex::encode(&self.batch));
        let r = self.commander_batch("decode", &["-o", "text", "-i", "hex"], hex_line.as_bytes());
        if r.code != 0 {
            return self.fail(format!(
                "=== commander decode -o text failed:\n{}",
                r.stderr
            ));
        }
        if r.stdout == their_text {
            return;
        }
        let (ours, theirs) = (split_text(&r.stdout), split_text(&their_text));
        for k in 0..self.cases.len() {
            if ours.get(k) != theirs.get(k) {
                let f = format!(
                    "=== {}: `commander decode -o text` differs\n--- commander\n{}--- protoc\n{}",
                    self.cases[k].label(),
                    ours.get(k).map_or("(none)\n", String::as_str),
                    theirs.get(k).map_or("(none)\n", String::as_str)
                );
                self.fail(f);
            }
        }
    }

    /// One by one, as a user runs them: `protoc --encode=TYPE` of the
    /// corpus files, and `commander encode -s ... -m TYPE --text TEXT`.
    fn one_by_one(&mut self, picked: &[usize]) {
        let c = self.corpus;
        let mut schema = vec!["encode".to_owned()];
        schema.extend(c.schema_args(&[], None));
        for &k in picked {
            let case = &self.cases[k];
            let mut protoc = Command::new(&self.protoc);
            protoc
                .arg(format!("-I{}", c.root.display()))
                .arg(format!("--encode={}", case.ty))
                .args(c.files())
                .current_dir(&c.root);
            let r = run_cmd(&mut protoc, case.text.as_bytes());
            assert_eq!(
                r.code, 0,
                "protoc --encode={} refused:\n{}",
                case.ty, r.stderr
            );
            let theirs = hex::encode(&r.raw_stdout);
            assert_eq!(
                r.raw_stdout,
                self.elements[k].body,
                "{}: protoc --encode=TYPE and the wrapper element differ",
                case.label()
            );
            let mut args: Vec<&str> = schema.iter().map(String::as_str).collect();
            args.extend(["-m", &case.ty, "--text", &case.text, "-f", "hex"]);
            let r = support::run(&args);
            let mine = r.stdout.trim_end();
            if r.code != 0 || mine != theirs {
                let f = format!(
                    "=== {}: `commander encode -m {} --text` differs from `protoc --encode`\n  commander: {mine}{}\n  protoc:    {theirs}\n{}",
                    case.label(),
                    case.ty,
                    r.stderr,
                    case.text
                );
                self.fail(f);
            }
        }
    }

    fn assert_no_failures(&self) {
        let shown: Vec<&str> = self
            .failures
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        assert!(
            self.failures.is_empty(),
            "{}: {} differences from protoc{}:\n\n{}",
            self.corpus.name,
            self.failures.len(),
            if self.failures.len() > SHOWN {
                format!(" (the first {SHOWN})")
            } else {
                String::new()
            },
            shown.join("\n\n")
        );
    }
}

fn messages_encode_like_protoc(c: &Corpus) {
    let Some(protoc) = peer("protoc") else { return };
    let tmp = TempDir::new(&format!("corpus-msgs-{}", c.name));
    let reference = c.protoc_pool(&protoc, &tmp);
    let ours = c.load();
    let types: Vec<MessageDescriptor> = own_messages(&reference)
        .into_iter()
        .filter(|m| !m.is_map_entry())
        .collect();
    let own_files: Vec<String> = reference
        .files()
        .map(|f| f.name().to_owned())
        .filter(|n| own_file(n))
        .collect();
    let lite = reference.files().any(|f| {
        own_file(f.name())
            && f.file_descriptor_proto()
                .options
                .as_ref()
                .is_some_and(|o| o.optimize_for() == OptimizeMode::LiteRuntime)
    });
    std::fs::write(
        tmp.path("corpus_diff.proto"),
        batch_proto(&own_files, &types, lite),
    )
    .unwrap();
    let (cases, picked) = corpus_cases(&types);
    let text = batch_text(&cases);
    let mut s = Session {
        corpus: c,
        protoc,
        tmp,
        cases,
        batch: Vec::new(),
        elements: Vec::new(),
        failures: Vec::new(),
    };

    // protoc encodes every case at once.
    s.batch = s.protoc_batch(&format!("--encode={BATCH}"), text.as_bytes());
    s.elements = split_batch(&s.batch);
    assert_eq!(
        s.elements.iter().map(|e| e.number).collect::<Vec<_>>(),
        s.cases.iter().map(|c| c.number).collect::<Vec<_>>(),
        "{}: protoc wrote one element per case, in order",
        c.name
    );

    s.library(&ours);
    s.binary_text(&text);
    let json = s.binary_json();
    s.decode_text();
    s.one_by_one(&picked);
    s.assert_no_failures();

    let unpacked = s.cases.iter().filter(|c| holds_unpacked(&c.msg)).count();
    let unpacked_one_by_one = picked
        .iter()
        .filter(|&&k| holds_unpacked(&s.cases[k].msg))
        .count();
    let has_unpacked_fields = types
        .iter()
        .flat_map(|t| t.fields())
        .any(|f| packable(&f) && !f.is_packed());
    assert!(
        !has_unpacked_fields || unpacked_one_by_one > 0,
        "{}: no case run one by one holds values in an unpacked repeated scalar",
        c.name
    );
    assert!(!types.is_empty() && !s.cases.is_empty());
    eprintln!(
        "{}: {} types, {} messages ({} bytes; {} also as JSON) encode and decode like protoc, \
         {} of them with unpacked repeated scalars set; {} also one by one ({} unpacked)",
        c.name,
        types.len(),
        s.cases.len(),
        s.batch.len(),
        json,
        unpacked,
        picked.len(),
        unpacked_one_by_one,
    );
}

#[test]
fn meshtastic_messages_encode_like_protoc() {
    messages_encode_like_protoc(&meshtastic());
}

#[test]
fn sparkplug_b_messages_encode_like_protoc() {
    messages_encode_like_protoc(&sparkplug_b());
}

#[test]
fn esphome_messages_encode_like_protoc() {
    messages_encode_like_protoc(&esphome());
}

#[test]
fn tesla_messages_encode_like_protoc() {
    messages_encode_like_protoc(&tesla());
}

#[test]
fn chirpstack_messages_encode_like_protoc() {
    messages_encode_like_protoc(&chirpstack());
}

#[test]
fn cast_messages_encode_like_protoc() {
    messages_encode_like_protoc(&cast());
}

// ---------------------------------------------------------------------------
// Differences found.

/// A proto2 enum is closed: a number it does not define, read from the
/// wire, is an unknown field (the C++, Java and Python runtimes; `protoc
/// --decode` prints it as `1: 99` and the field stays unset). commander
/// shows it as the field's value (`protocol_version: 99`), so the text is not
/// protoc's and a proto2 field looks set when a receiver sees it unset.
#[test]
#[ignore = "bug: an undefined number of a proto2 (closed) enum decodes as the field's value; protoc keeps it as an unknown field"]
fn unknown_numbers_of_closed_enums_are_unknown_fields() {
    let Some(protoc) = peer("protoc") else { return };
    let c = cast();
    let ty = "extensions.api.cast_channel.CastMessage";
    // protocol_version (field 1, enum ProtocolVersion { CASTV2_1_0 = 0 })
    // = 99, then source_id = "".
    let hex = "08631200";
    let mut cmd = Command::new(&protoc);
    cmd.arg(format!("-I{}", c.root.display()))
        .arg(format!("--decode={ty}"))
        .arg("cast_channel.proto")
        .current_dir(&c.root);
    let theirs = run_cmd(&mut cmd, &hex::decode(hex).unwrap());
    assert_eq!(theirs.code, 0, "{}", theirs.stderr);
    let mut args = vec!["decode".to_owned()];
    args.extend(c.schema_args(&[], None));
    args.extend(["-m", ty, "-o", "text", hex].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ours = support::run(&args);
    assert_eq!(ours.ok(), theirs.stdout);
}
