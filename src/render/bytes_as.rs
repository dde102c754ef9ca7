//! Messages carried in `bytes` fields (`--bytes-as FIELD.PATH=TYPE`).
//!
//! Device envelopes often carry a message as bytes (Tesla's
//! `RoutableMessage.protobuf_message_as_bytes`). Tables show the inner
//! message as a nested table, text format adds it as comments under the
//! field (the text still reads back to the same bytes), and JSON holds it as
//! an object in place of the base64, with the bytes themselves under the
//! key `FIELD@bytes`. `encode` takes the object back, encoding it into the
//! bytes. Paths are field names from the top message, and go on into an
//! inner message (`a.b.inner_field`), so carried messages can nest.

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value as Json;

use super::json::{JsonOptions, JsonWriter};

/// The key suffix under which JSON keeps the bytes of a decoded field.
pub const BYTES_KEY_SUFFIX: &str = "@bytes";
/// The key suffix under which JSON says why bytes did not decode.
pub const ERROR_KEY_SUFFIX: &str = "@error";

/// Field paths whose bytes hold a message, and its type.
#[derive(Debug, Default)]
pub struct BytesAs {
    entries: Vec<(String, MessageDescriptor)>,
}

impl BytesAs {
    /// Checks each `(path, type)` against `root` (when known): every step a
    /// field, the last a bytes field.
    pub fn new(
        entries: Vec<(String, MessageDescriptor)>,
        root: Option<&MessageDescriptor>,
    ) -> Result<BytesAs> {
        let this = BytesAs { entries };
        if let Some(root) = root {
            for (path, _) in &this.entries {
                this.check(root, path)
                    .with_context(|| format!("--bytes-as {path}"))?;
            }
        }
        Ok(this)
    }

    fn check(&self, root: &MessageDescriptor, path: &str) -> Result<()> {
        let mut desc = root.clone();
        let mut so_far = String::new();
        let steps: Vec<&str> = path.split('.').collect();
        for (i, step) in steps.iter().enumerate() {
            let field = desc
                .get_field_by_name(step)
                .or_else(|| desc.get_field_by_json_name(step))
                .ok_or_else(|| anyhow!("{} has no field '{step}'", desc.full_name()))?;
            so_far = join(&so_far, field.name());
            let last = i + 1 == steps.len();
            match field.kind() {
                Kind::Bytes if last => return Ok(()),
                Kind::Bytes => match self.lookup(&so_far) {
                    Some(inner) => desc = inner.clone(),
                    None => bail!(
                        "'{so_far}' is bytes: give its type first with --bytes-as {so_far}=TYPE"
                    ),
                },
                Kind::Message(m) if !last => desc = m,
                _ if last => bail!("'{}' is not a bytes field", field.full_name()),
                _ => bail!("'{}' holds no fields", field.full_name()),
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lives as long as the process (the renderers share it by reference).
    pub fn leak(self) -> &'static BytesAs {
        Box::leak(Box::new(self))
    }

    /// The type carried by the bytes field at `path`.
    pub fn lookup(&self, path: &str) -> Option<&MessageDescriptor> {
        self.entries.iter().find(|(p, _)| p == path).map(|(_, d)| d)
    }

    /// The type carried by `field` under `prefix`, if it is a bytes field.
    pub fn for_field(&self, prefix: &str, field: &FieldDescriptor) -> Option<&MessageDescriptor> {
        if !matches!(field.kind(), Kind::Bytes) {
            return None;
        }
        self.lookup(&join(prefix, field.name()))
    }

    /// Rewrites decoded JSON: each carried message's base64 becomes the
    /// message's JSON object, with the base64 kept under `KEY@bytes`.
    pub fn rewrite_json(
        &self,
        value: &mut Json,
        desc: &MessageDescriptor,
        prefix: &str,
        opts: JsonOptions,
    ) {
        let Json::Object(map) = value else {
            return;
        };
        for field in desc.fields() {
            let key = if opts.camel_case {
                field.json_name().to_owned()
            } else {
                field.name().to_owned()
            };
            let path = join(prefix, field.name());
            let Some(v) = map.get_mut(&key) else {
                continue;
            };
            match field.kind() {
                Kind::Bytes => {
                    let Some(inner) = self.lookup(&path) else {
                        continue;
                    };
                    let original = v.clone();
                    let mut error = None;
                    each_item(v, &mut |item| {
                        let Json::String(b64) = item else {
                            return;
                        };
                        match self.decode_inner(b64, inner, &path, opts) {
                            Ok(obj) => *item = obj,
                            Err(e) => error = Some(format!("{e:#}")),
                        }
                    });
                    // Right after the field itself.
                    let at = map
                        .keys()
                        .position(|k| *k == key)
                        .map_or(map.len(), |i| i + 1);
                    map.shift_insert(at, format!("{key}{BYTES_KEY_SUFFIX}"), original);
                    if let Some(e) = error {
                        map.shift_insert(
                            at + 1,
                            format!("{key}{ERROR_KEY_SUFFIX}"),
                            Json::String(e),
                        );
                    }
                }
                Kind::Message(m)
                    if !field.is_map() && !m.full_name().starts_with("google.protobuf.") =>
                {
                    each_item(v, &mut |item| self.rewrite_json(item, &m, &path, opts));
                }
                _ => {}
            }
        }
    }

    fn decode_inner(
        &self,
        b64: &str,
        inner: &MessageDescriptor,
        path: &str,
        opts: JsonOptions,
    ) -> Result<Json> {
        let bytes = BASE64.decode(b64).context("not base64")?;
        let writer = JsonWriter::new(
            inner,
            JsonOptions {
                pretty: false,
                ..opts
            },
        );
        let mut out = Vec::new();
        writer
            .write(&bytes, &mut out)
            .with_context(|| format!("does not decode as {}", inner.full_name()))?;
        let mut obj: Json = serde_json::from_slice(&out)?;
        self.rewrite_json(&mut obj, inner, path, opts);
        Ok(obj)
    }

    /// Prepares JSON input: each carried message given as an object is
    /// encoded into its bytes (base64); `KEY@bytes` and `KEY@error` keys are
    /// dropped.
    pub fn prepare_json(
        &self,
        value: &mut Json,
        desc: &MessageDescriptor,
        prefix: &str,
    ) -> Result<()> {
        let Json::Object(map) = value else {
            return Ok(());
        };
        map.retain(|k, _| !k.ends_with(BYTES_KEY_SUFFIX) && !k.ends_with(ERROR_KEY_SUFFIX));
        for field in desc.fields() {
            let path = join(prefix, field.name());
            let key = if map.contains_key(field.name()) {
                field.name().to_owned()
            } else {
                field.json_name().to_owned()
            };
            let Some(v) = map.get_mut(&key) else {
                continue;
            };
            match field.kind() {
                Kind::Bytes => {
                    let Some(inner) = self.lookup(&path) else {
                        continue;
                    };
                    let mut failure = None;
                    each_item(v, &mut |item| {
                        if failure.is_some() || !item.is_object() {
                            return;
                        }
                        let encoded = self.prepare_json(item, inner, &path).and_then(|()| {
                            let msg = crate::value::message_from_json(inner, &item.to_string())?;
                            Ok(BASE64.encode(crate::wire::encode_to_vec(&msg)))
                        });
                        match encoded {
                            Ok(b64) => *item = Json::String(b64),
                            Err(e) => failure = Some(e),
                        }
                    });
                    if let Some(e) = failure {
                        return Err(
                            e.context(format!("the {} carried in '{path}'", inner.full_name()))
                        );
                    }
                }
                Kind::Message(m)
                    if !field.is_map() && !m.full_name().starts_with("google.protobuf.") =>
                {
                    let mut failure = None;
                    each_item(v, &mut |item| {
                        if failure.is_none() {
                            failure = self.prepare_json(item, &m, &path).err();
                        }
                    });
                    if let Some(e) = failure {
                        return Err(e);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// `f` on a value, or on each item of an array.
fn each_item(v: &mut Json, f: &mut dyn FnMut(&mut Json)) {
    match v {
        Json::Array(items) => items.iter_mut().for_each(f),
        other => f(other),
    }
}

/// `prefix.name`, or `name` at the top.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}
