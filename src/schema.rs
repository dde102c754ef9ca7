//! Schemas at run time (SPEC 2): descriptor sets and `.proto` files into one
//! [`DescriptorPool`], and message/enum/service names resolved against it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use prost::Message;
use prost_reflect::{DescriptorPool, EnumDescriptor, MessageDescriptor, ServiceDescriptor};
use protox::file::{
    ChainFileResolver, DescriptorSetFileResolver, GoogleFileResolver, IncludeFileResolver,
};

use crate::UsageError;

/// The built-in sample protocol: `proto/cvp/*.proto` compiled (with the
/// well-known types it imports, without source info) into a descriptor set
/// that is embedded at build time. Decoding it is several times faster than
/// compiling the sources on every start; `tests/generated.rs` fails when it
/// is stale, and `SNAPSHOTS=overwrite cargo test --test generated` rebuilds it.
pub const BUILTIN_DESCRIPTOR_SET: &[u8] = include_bytes!("../proto/cvp.binpb");

/// The same with the `.proto` comments (source info), for the web form's
/// help: two and a half times the size, so the CLI does not load it (a
/// start decoding it took 0.6 ms more).
pub const BUILTIN_WITH_COMMENTS: &[u8] = include_bytes!("../proto/cvp.comments.binpb");

/// Where the sample protocol's sources live in the repository.
pub const BUILTIN_SOURCE_DIR: &str = "proto";

/// Command and response types of the built-in protocol, used when `-m` is omitted.
pub const BUILTIN_COMMAND: &str = "cvp.CommandMessage";
pub const BUILTIN_RESPONSE: &str = "cvp.CommandResponseMessage";

/// A loaded schema: every file given plus its imports.
#[derive(Debug, Clone)]
pub struct Schema {
    pub pool: DescriptorPool,
    /// True when no schema was given and the sample protocol was loaded.
    pub builtin: bool,
}

/// What one of the kinds of named type the pool holds.
#[derive(Debug, Clone)]
pub enum Named {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
    Service(ServiceDescriptor),
}

impl Schema {
    /// The built-in sample protocol.
    pub fn builtin() -> Result<Schema> {
        let pool = DescriptorPool::decode(BUILTIN_DESCRIPTOR_SET)
            .context("the built-in protocol's descriptor set is corrupt")?;
        Ok(Schema {
            pool,
            builtin: true,
        })
    }

    /// The built-in sample protocol with its `.proto` comments.
    pub fn builtin_with_comments() -> Result<Schema> {
        let pool = DescriptorPool::decode(BUILTIN_WITH_COMMENTS)
            .context("the built-in protocol's descriptor set is corrupt")?;
        Ok(Schema {
            pool,
            builtin: true,
        })
    }

    /// Compiles the sample protocol's sources in `dir` into the descriptor
    /// set that [`BUILTIN_DESCRIPTOR_SET`] holds (`comments`: the one
    /// [`BUILTIN_WITH_COMMENTS`] holds).
    pub fn compile_builtin(dir: &Path, comments: bool) -> Result<Vec<u8>> {
        let dirs = [dir.to_path_buf()];
        let schema = if comments {
            Schema::load_with_comments(&dirs, &[])?
        } else {
            Schema::load(&dirs, &[])?
        };
        let mut set = prost_types::FileDescriptorSet::default();
        set.file.push(option_stubs());
        for file in schema.pool.file_descriptor_protos() {
            let mut file = file.clone();
            if !comments {
                file.source_code_info = None;
            }
            set.file.push(file);
        }
        Ok(set.encode_to_vec())
    }

    /// Loads `paths` (descriptor sets, `.proto` files, directories) with import
    /// roots `includes`; no paths means the built-in protocol.
    pub fn load(paths: &[PathBuf], includes: &[PathBuf]) -> Result<Schema> {
        Schema::load_inner(paths, includes, false)
    }

    /// [`Schema::load`] keeping the `.proto` comments of the files it
    /// compiles (and the built-in protocol's), for the web form's help.
    pub fn load_with_comments(paths: &[PathBuf], includes: &[PathBuf]) -> Result<Schema> {
        Schema::load_inner(paths, includes, true)
    }

    fn load_inner(paths: &[PathBuf], includes: &[PathBuf], comments: bool) -> Result<Schema> {
        let paths: Vec<&PathBuf> = paths.iter().filter(|p| !p.as_os_str().is_empty()).collect();
        if paths.is_empty() {
            return if comments {
                Schema::builtin_with_comments()
            } else {
                Schema::builtin()
            };
        }

        let mut protos: Vec<PathBuf> = Vec::new();
        let mut sets: Vec<prost_types::FileDescriptorProto> = Vec::new();
        // Which -s path each file of a descriptor set came from.
        let mut set_origin: Vec<(String, PathBuf)> = Vec::new();
        let mut default_includes: Vec<PathBuf> = Vec::new();
        for path in paths {
            let meta = fs::metadata(path)
                .with_context(|| format!("cannot read schema '{}'", path.display()))?;
            if meta.is_dir() {
                let found = proto_files_below(path).with_context(|| {
                    format!("cannot read schema directory '{}'", path.display())
                })?;
                if found.is_empty() {
                    bail!("no .proto files found under '{}'", path.display());
                }
                protos.extend(found);
                push_unique(&mut default_includes, path.clone());
                continue;
            }
            let bytes = fs::read(path)
                .with_context(|| format!("cannot read schema '{}'", path.display()))?;
            match classify(path, &bytes) {
                SchemaFile::DescriptorSet(set) => {
                    let set = match crate::editions::lower(&bytes) {
                        None => set,
                        Some(Ok((lowered, notes))) => {
                            if !crate::quiet() {
                                for n in notes {
                                    eprintln!("note: {n}");
                                }
                            }
                            lowered
                        }
                        Some(Err(e)) => bail!("cannot load schema '{}': {e}", path.display()),
                    };
                    set_origin.extend(set.file.iter().map(|f| (f.name().to_owned(), path.clone())));
                    sets.extend(set.file);
                }
                SchemaFile::Proto => {
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    let dir = if dir.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        dir
                    };
                    push_unique(&mut default_includes, dir);
                    protos.push(path.clone());
                }
                SchemaFile::Neither(why) => {
                    bail!(
                        "cannot load schema '{}': {why}\n  \
                         expected a FileDescriptorSet (protoc --descriptor_set_out, buf build -o) \
                         or a .proto file",
                        path.display()
                    )
                }
            }
        }

        let includes: Vec<PathBuf> = if includes.is_empty() {
            default_includes
        } else {
            includes.to_vec()
        };

        let set_names: Vec<String> = sets.iter().map(|f| f.name().to_owned()).collect();
        let mut resolver = ChainFileResolver::new();
        for include in &includes {
            resolver.add(IncludeFileResolver::new(include.clone()));
        }
        if !sets.is_empty() {
            resolver.add(DescriptorSetFileResolver::new(
                prost_types::FileDescriptorSet { file: sets },
            ));
        }
        resolver.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        // `.proto` comments: the web form shows them as help.
        compiler.include_source_info(comments);

        for name in &set_names {
            compiler.open_file(name).map_err(|e| {
                let origin = set_origin
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, p)| p.display().to_string())
                    .unwrap_or_default();
                let hint = if e.is_file_not_found() {
                    "\n  hint: make the set with `protoc --include_imports`, or also pass a schema that has the missing file"
                } else {
                    ""
                };
                anyhow!("{}", describe_protox_error(&e, &includes))
                    .context(format!("cannot load '{name}' from the descriptor set '{origin}'{hint}"))
            })?;
        }
        let roots = includes
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        for path in &protos {
            compiler.open_file(path).map_err(|e| {
                let err = anyhow!("{}", describe_protox_error(&e, &includes));
                let not_under_roots = format!("{e}").contains("is not in any include path");
                if not_under_roots {
                    err.context(format!(
                        "cannot compile '{}': it is not under any import root ({})\n  \
                         hint: add the directory it (or its package path) starts from with -I",
                        path.display(),
                        roots
                    ))
                } else if e.is_file_not_found() && !includes.is_empty() {
                    err.context(format!(
                        "cannot compile '{}' (import roots: {})\n  \
                         hint: pass the directory imports are relative to with -I",
                        path.display(),
                        roots
                    ))
                } else if format!("{e:?}").contains("found 'edition'") {
                    err.context(format!(
                        "cannot compile '{}': it is an editions file (edition = \"...\"), which \
                         commander's compiler (protox) does not compile yet\n  \
                         hint: make a descriptor set of it and pass that instead: \
                         buf build -o set.binpb, or protoc --include_imports --descriptor_set_out=set.binpb (protoc 27 or later)",
                        path.display()
                    ))
                } else {
                    err.context(format!("cannot compile '{}'", path.display()))
                }
            })?;
        }
        let pool = compiler.descriptor_pool();
        // protox hands prost-reflect the options of .proto files
        // uninterpreted; prost-reflect interprets them after it has worked out
        // each field's wire form, so `[packed = false]` would be ignored (and
        // a device sent packed arrays it cannot read). Building the pool again
        // from its own files, whose options are now interpreted, applies them.
        let pool = if protos.is_empty() {
            pool
        } else {
            DescriptorPool::decode(pool.encode_to_vec().as_slice())
                .context("cannot rebuild the compiled schema with its options")?
        };
        Ok(Schema {
            pool,
            builtin: false,
        })
    }

    /// Resolves a message type name: full, with a leading dot, or a unique
    /// short name.
    pub fn message(&self, name: &str) -> Result<MessageDescriptor> {
        match self.resolve(name, Kinds::Messages)? {
            Named::Message(m) => Ok(m),
            _ => unreachable!("resolve filtered to messages"),
        }
    }

    /// Resolves any named type (message, enum or service).
    pub fn named(&self, name: &str) -> Result<Named> {
        self.resolve(name, Kinds::All)
    }

    /// The message type for `-m`, else `default` (the profile's type, or the
    /// sample protocol's when it is loaded); without either, a usage error.
    pub fn message_or_default(
        &self,
        name: Option<&str>,
        default: Option<&str>,
    ) -> Result<MessageDescriptor> {
        match (name, default) {
            (Some(name), _) => self.message(name),
            (None, Some(default)) => self.message(default),
            (None, None) => Err(UsageError(
                "no message type given: pass -m TYPE (see 'commander list' for the types), \
                 or name it in a profile (commander.toml)"
                    .into(),
            )
            .into()),
        }
    }

    /// The reply type of a command type, from its name, in the same
    /// package: for `XMessage` (and `X` that ends in `Request`, `Command`,
    /// `Cmd` or `Req`, the ending taken off), the first of `XResponseMessage`,
    /// `XReplyMessage`, `XResultMessage`, `XAckMessage`, `XResponse`,
    /// `XReply`, `XResult`, `XAck` that the schema has.
    pub fn infer_reply(&self, command: &MessageDescriptor) -> Option<MessageDescriptor> {
        let full = command.full_name();
        let (package, name) = match full.rsplit_once('.') {
            Some((p, n)) => (format!("{p}."), n),
            None => (String::new(), full),
        };
        let mut stem = name.strip_suffix("Message").unwrap_or(name);
        for ending in ["Request", "Command", "Cmd", "Req"] {
            if let Some(s) = stem.strip_suffix(ending).filter(|s| !s.is_empty()) {
                stem = s;
                break;
            }
        }
        const REPLIES: [&str; 4] = ["Response", "Reply", "Result", "Ack"];
        let candidates = REPLIES
            .iter()
            .map(|r| format!("{package}{stem}{r}Message"))
            .chain(REPLIES.iter().map(|r| format!("{package}{stem}{r}")));
        for candidate in candidates {
            if candidate == full {
                continue;
            }
            if let Some(m) = self.pool.get_message_by_name(&candidate) {
                return Some(m);
            }
        }
        None
    }

    fn resolve(&self, name: &str, kinds: Kinds) -> Result<Named> {
        let wanted = name.strip_prefix('.').unwrap_or(name);
        // The common case, a full name of the schema's own, without building
        // the candidate list.
        if let Some(m) = self.pool.get_message_by_name(wanted) {
            if m.parent_file().name() != OPTION_STUBS_FILE {
                return Ok(Named::Message(m));
            }
        }
        // The schema's own types first; the global well-known types (slower
        // to load) only when those do not answer. A schema's own `Timestamp`
        // wins over Google's.
        let own = self.candidates(kinds, false);
        if let Some(found) = pick(&own, name, wanted, true)? {
            return Ok(found);
        }
        let all = self.candidates(kinds, true);
        if let Some(found) = pick(&all, name, wanted, false)? {
            return Ok(found);
        }
        let what = if kinds == Kinds::Messages {
            "message type"
        } else {
            "type"
        };
        let mut msg = format!("unknown {what} '{name}'");
        let mut suggestions = closest(wanted, own.iter().map(|c| c.full.as_str()));
        if suggestions.is_empty() {
            suggestions = closest(wanted, all.iter().map(|c| c.full.as_str()));
        }
        if suggestions.is_empty() {
            msg.push_str("\n  see 'commander list' for the types of the schema");
        } else {
            let quoted: Vec<String> = suggestions.iter().map(|s| format!("'{s}'")).collect();
            msg.push_str(&format!("\n  did you mean {}?", quoted.join(" or ")));
        }
        Err(UsageError(msg).into())
    }

    /// Every named type of the schema, then (with `global`) the well-known
    /// types it lacks.
    fn candidates(&self, kinds: Kinds, global: bool) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        let global_pool = DescriptorPool::global();
        let pools: &[&DescriptorPool] = if global {
            &[&self.pool, &global_pool]
        } else {
            &[&self.pool]
        };
        for pool in pools {
            let mut add = |full: &str, file: &str, named: Named| {
                if file != OPTION_STUBS_FILE && !out.iter().any(|c| c.full == full) {
                    out.push(Candidate {
                        full: full.to_owned(),
                        well_known: is_well_known_file(file),
                        named,
                    });
                }
            };
            for m in pool.all_messages().filter(|m| !m.is_map_entry()) {
                add(
                    m.full_name(),
                    m.parent_file().name(),
                    Named::Message(m.clone()),
                );
            }
            if kinds == Kinds::All {
                for e in pool.all_enums() {
                    add(
                        e.full_name(),
                        e.parent_file().name(),
                        Named::Enum(e.clone()),
                    );
                }
                for s in pool.services() {
                    add(
                        s.full_name(),
                        s.parent_file().name(),
                        Named::Service(s.clone()),
                    );
                }
            }
        }
        out
    }
}

/// An exact full name, else a unique short name (the last components of a
/// full name); with `own_only`, short names match only non-well-known types.
fn pick(cands: &[Candidate], name: &str, wanted: &str, own_only: bool) -> Result<Option<Named>> {
    if let Some(found) = cands.iter().find(|c| c.full == wanted) {
        return Ok(Some(found.named.clone()));
    }
    let suffix = format!(".{wanted}");
    let matches: Vec<&Candidate> = cands
        .iter()
        .filter(|c| c.full.ends_with(&suffix) && (!own_only || !c.well_known))
        .collect();
    match matches.len() {
        0 => Ok(None),
        1 => Ok(Some(matches[0].named.clone())),
        _ => {
            let names: Vec<&str> = matches.iter().map(|c| c.full.as_str()).collect();
            Err(UsageError(format!(
                "type name '{name}' is ambiguous; it could be:\n  {}",
                names.join("\n  ")
            ))
            .into())
        }
    }
}

struct Candidate {
    full: String,
    well_known: bool,
    named: Named,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kinds {
    Messages,
    All,
}

/// A file of empty `google.protobuf.*Options` messages, embedded with the
/// sample protocol.
///
/// Building a pool reads every file's options (the WKT files' `java_package`,
/// the `map_entry` of map fields) as messages of those types; without them in
/// the pool, prost-reflect loads its whole global set of well-known types,
/// descriptor.proto included: a third of a short run. Empty stubs are enough
/// to read the options (their values stay as unknown fields; `map_entry` is
/// read from the typed options), and they are hidden from names and lists.
pub const OPTION_STUBS_FILE: &str = "commander/option-stubs.proto";

fn option_stubs() -> prost_types::FileDescriptorProto {
    let message = |name: &str| prost_types::DescriptorProto {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    prost_types::FileDescriptorProto {
        name: Some(OPTION_STUBS_FILE.to_owned()),
        package: Some("google.protobuf".to_owned()),
        syntax: Some("proto2".to_owned()),
        message_type: [
            "FileOptions",
            "MessageOptions",
            "FieldOptions",
            "OneofOptions",
            "EnumOptions",
            "EnumValueOptions",
            "ServiceOptions",
            "MethodOptions",
        ]
        .into_iter()
        .map(message)
        .collect(),
        ..Default::default()
    }
}

/// Is the file a well-known-types file, hidden from `list` unless asked?
pub fn is_well_known_file(name: &str) -> bool {
    name.starts_with("google/protobuf/") || name == OPTION_STUBS_FILE
}

enum SchemaFile {
    DescriptorSet(prost_types::FileDescriptorSet),
    Proto,
    Neither(String),
}

/// Detects a descriptor set by content, whatever the file's name.
fn classify(path: &Path, bytes: &[u8]) -> SchemaFile {
    // A FileDescriptorSet is a run of field-1 length-delimited records, so it
    // starts with 0x0a; .proto source is text and never does.
    if bytes.first() == Some(&0x0a) {
        match prost_types::FileDescriptorSet::decode(bytes) {
            Ok(set) if !set.file.is_empty() && set.file.iter().all(|f| f.name.is_some()) => {
                return SchemaFile::DescriptorSet(set);
            }
            Ok(_) => return SchemaFile::Neither("a descriptor set without named files".into()),
            Err(e) => {
                if std::str::from_utf8(bytes).is_err() {
                    return SchemaFile::Neither(format!("bad descriptor set bytes: {e}"));
                }
            }
        }
    }
    if bytes.is_empty() && path.extension().is_none_or(|e| e != "proto") {
        return SchemaFile::Neither("the file is empty".into());
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => SchemaFile::Proto,
        Err(_) => match prost_types::FileDescriptorSet::decode(bytes) {
            Ok(set) if !set.file.is_empty() && set.file.iter().all(|f| f.name.is_some()) => {
                SchemaFile::DescriptorSet(set)
            }
            Ok(_) => SchemaFile::Neither("binary data that holds no descriptor set".into()),
            Err(e) => SchemaFile::Neither(format!("bad descriptor set bytes: {e}")),
        },
    }
}

/// protox's `Debug` is `file:line:col: message`; make the file a path the user
/// can open when it lives under an import root.
fn describe_protox_error(err: &protox::Error, includes: &[PathBuf]) -> String {
    let mut text = format!("{err:?}");
    // Without a position protox writes `name:message`; give it a space.
    if let Some(name) = err.file() {
        if let Some(rest) = text.strip_prefix(&format!("{name}:")) {
            if !rest.starts_with(|c: char| c.is_ascii_digit()) {
                text = format!("{name}: {rest}");
            }
        }
    }
    if let Some(name) = err.file() {
        if let Some(rest) = text.strip_prefix(name) {
            if rest.starts_with(':') {
                for include in includes {
                    let candidate = include.join(name);
                    if candidate.is_file() {
                        return format!("{}{rest}", candidate.display());
                    }
                }
            }
        }
    }
    text
}

fn proto_files_below(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&d)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn push_unique(v: &mut Vec<PathBuf>, p: PathBuf) {
    if !v.contains(&p) {
        v.push(p);
    }
}

/// Up to three names closest to `wanted`, nearest first, compared (ignoring
/// case) with the full name, the short name (its last component), and the
/// start of the short name, so that a typo in the part typed counts the
/// same as a typo in the whole: `CommandRespnse` is one edit from the start
/// of `CommandResponseMessage` and four from `CommandMessage`.
pub fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let w = wanted.to_ascii_lowercase();
    let w_short = w.rsplit('.').next().unwrap_or(&w).to_owned();
    let limit = (w_short.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, usize, &str)> = names
        .map(|n| {
            let l = n.to_ascii_lowercase();
            let short = l.rsplit('.').next().unwrap_or(&l);
            let whole = levenshtein(&w, &l).min(levenshtein(&w_short, short));
            let start = prefix_distance(&w_short, short);
            // A whole-name match ranks before a start-of-name match.
            (whole.min(start), usize::from(start < whole), n)
        })
        .filter(|(d, _, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(3)
        .map(|(_, _, n)| n.to_owned())
        .collect()
}

/// The edit distance from `typed` to the closest start of `name` (a typed
/// prefix of three letters or more, give or take two letters).
fn prefix_distance(typed: &str, name: &str) -> usize {
    let t = typed.chars().count();
    let n: Vec<char> = name.chars().collect();
    if t < 3 || n.len() <= t {
        return usize::MAX;
    }
    (t.saturating_sub(2)..=(t + 2).min(n.len()))
        .map(|len| levenshtein(typed, &n[..len].iter().collect::<String>()))
        .min()
        .unwrap_or(usize::MAX)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_protocol_compiles_with_its_envelopes() {
        let s = Schema::builtin().unwrap();
        assert!(s.message("cvp.CommandMessage").is_ok());
        assert!(s.message(".cvp.CommandResponseMessage").is_ok());
        assert!(s.message("VehicleTelemetryMessage").is_ok());
    }

    #[test]
    fn short_names_resolve_and_typos_get_suggestions() {
        let s = Schema::builtin().unwrap();
        assert_eq!(s.message("GeoPoint").unwrap().full_name(), "cvp.GeoPoint");
        let err = s.message("CommandMesage").unwrap_err().to_string();
        assert!(err.contains("did you mean 'cvp.CommandMessage'"), "{err}");
    }

    #[test]
    fn a_typo_in_a_short_prefix_suggests_the_longer_name_first() {
        let s = Schema::builtin().unwrap();
        let err = s.message("CommandRespnse").unwrap_err().to_string();
        assert!(
            err.contains("did you mean 'cvp.CommandResponseMessage'"),
            "{err}"
        );
        let err = s.message("CommandRespons").unwrap_err().to_string();
        assert!(
            err.contains("did you mean 'cvp.CommandResponseMessage'"),
            "{err}"
        );
    }

    #[test]
    fn well_known_types_resolve_without_import() {
        let s = Schema::builtin().unwrap();
        assert_eq!(
            s.message("google.protobuf.Struct").unwrap().full_name(),
            "google.protobuf.Struct"
        );
    }

    #[test]
    fn reply_types_are_inferred_from_the_command_name() {
        let s = Schema::builtin().unwrap();
        let reply = |n: &str| {
            s.infer_reply(&s.message(n).unwrap())
                .map(|m| m.full_name().to_owned())
        };
        assert_eq!(
            reply("cvp.CommandMessage").as_deref(),
            Some("cvp.CommandResponseMessage")
        );
        assert_eq!(reply("cvp.GeoPoint"), None);
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
