//! `commander encode`: JSON or text format in, canonical wire bytes out
//! (SPEC 4).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde_json::value::RawValue;

use crate::UsageError;
use crate::cli::{EncodeArgs, EncodeInput, OutputBytes};
use crate::codec::Framing;
use crate::profile::Profile;
use crate::render::BytesAs;
use crate::value::{apply_set, message_from_json_with, message_from_text as parse_text};
use crate::wire;

const STDIN_WAIT: &str = "JSON values or one text-format message";

pub fn run(context: &super::Context, args: EncodeArgs) -> Result<ExitCode> {
    let desc = context.command_type(args.message.as_deref())?;
    if args.defaults && context.profile.defaults.is_empty() {
        let what = match (&context.profile.source, context.profile.builtin) {
            (None, false) => "there is no profile".to_owned(),
            _ => format!("the {} has no [defaults]", context.profile.describe()),
        };
        return Err(UsageError(format!(
            "--defaults: {what}; pass --profile FILE or put a commander.toml in this directory"
        ))
        .into());
    }
    let framing: Framing = args.framing.into();
    if args.format == OutputBytes::Binary && io::stdout().is_terminal() {
        return Err(UsageError(
            "refusing to write binary to a terminal; redirect it to a file or pipe, or use -f hex"
                .into(),
        )
        .into());
    }
    // Check every --set against an empty message first, so a typo is a
    // usage error before any input is read.
    for s in &args.set {
        let mut probe = DynamicMessage::new(desc.clone());
        apply_set(&mut probe, s).map_err(|e| UsageError(format!("--set {s}: {e}")))?;
    }

    let bytes_as = super::bytes_as(
        &context.schema,
        &context.profile,
        &args.bytes_as,
        Some(&desc),
    )?;
    let mut enc = Encoder {
        desc: desc.clone(),
        defaults: args.defaults.then(|| context.profile.clone()),
        sets: args.set.clone(),
        format: args.format,
        framing,
        strict: args.strict,
        check_required: crate::value::may_lack_required(&desc),
        ignore_unknown: args.source.ignore_unknown,
        bytes_as,
        out: super::StreamOut::new(),
        held: None,
        count: 0,
    };

    if let Some(json) = &args.source.json {
        match enc.parse_json(json) {
            Ok(m) => enc.emit(m, "--json")?,
            Err(e) => enc.fail(e.context("cannot read --json"))?,
        }
    } else if let Some(text) = &args.source.text {
        text_takes_no_ignore(args.source.ignore_unknown)?;
        match parse_text(&desc, text) {
            Ok(m) => enc.emit(Parsed::Message(m), "--text")?,
            Err(e) => enc.fail(e.context("cannot read --text"))?,
        }
    } else {
        let (reader, name): (Box<dyn Read>, String) = match args.source.file() {
            None => (super::stdin_reader(STDIN_WAIT), "stdin".into()),
            Some(p) if p.as_os_str() == "-" => (super::stdin_reader(STDIN_WAIT), "stdin".into()),
            Some(p) => (
                Box::new(File::open(p).with_context(|| format!("cannot open '{}'", p.display()))?),
                format!("'{}'", p.display()),
            ),
        };
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let json = match args.input {
            EncodeInput::Json => true,
            EncodeInput::Text => false,
            EncodeInput::Auto => {
                let sample = reader.fill_buf().context("cannot read the input")?;
                sample.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            }
        };
        if json {
            enc.json_stream(reader)?;
        } else {
            text_takes_no_ignore(args.source.ignore_unknown)?;
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .with_context(|| format!("cannot read {name} as UTF-8 text"))?;
            match parse_text(&desc, &text) {
                Ok(m) => enc.emit(Parsed::Message(m), &name)?,
                Err(e) => {
                    enc.fail(e.context(format!("cannot read {name} as {}", desc.full_name())))?
                }
            }
        }
    }
    enc.finish()?;
    Ok(enc.out.status())
}

/// One input value: a message to complete, or (large and plain) its bytes.
enum Parsed {
    Message(DynamicMessage),
    Encoded(Vec<u8>),
}

/// `--ignore-unknown` is for JSON: text format input refuses it rather than
/// pass it over.
pub(crate) fn text_takes_no_ignore(ignore_unknown: bool) -> Result<()> {
    if ignore_unknown {
        return Err(crate::UsageError(
            "--ignore-unknown applies to JSON input; text format input does not take it yet".into(),
        )
        .into());
    }
    Ok(())
}

struct Encoder {
    desc: MessageDescriptor,
    /// With `--defaults`: the profile whose header defaults come first.
    defaults: Option<Profile>,
    sets: Vec<String>,
    format: OutputBytes,
    framing: Framing,
    out: super::StreamOut,
    /// Refuse messages lacking required fields (else warn).
    strict: bool,
    /// The type can lack required fields (none in proto3: no check).
    check_required: bool,
    /// `--ignore-unknown`: JSON keys that name no field are skipped.
    ignore_unknown: bool,
    /// Messages carried in bytes fields, given as JSON objects.
    bytes_as: Option<&'static BytesAs>,
    /// Binary without framing: the one message, written at the end.
    held: Option<Vec<u8>>,
    count: usize,
}

impl Encoder {
    /// One JSON value as the message type; with `--bytes-as`, carried
    /// messages given as objects are encoded into their bytes first.
    fn parse_json(&self, json: &str) -> Result<Parsed> {
        // A large value with nothing to add to it: encoded a field at a
        // time, never built whole (the same bytes).
        let plain = self.defaults.is_none()
            && self.sets.is_empty()
            && self.bytes_as.is_none()
            && !self.check_required;
        if plain && json.len() > wire::from_json::SPLIT_JSON {
            if let Some(bytes) =
                wire::from_json::encode_large(&self.desc, json, self.ignore_unknown)
            {
                return Ok(Parsed::Encoded(bytes));
            }
        }
        let Some(carried) = self.bytes_as else {
            return message_from_json_with(&self.desc, json, self.ignore_unknown)
                .map(Parsed::Message);
        };
        let mut value: serde_json::Value = match serde_json::from_str(json) {
            Ok(v) => v,
            // The plain parse says where the JSON is broken.
            Err(_) => {
                return message_from_json_with(&self.desc, json, self.ignore_unknown)
                    .map(Parsed::Message);
            }
        };
        carried.prepare_json(&mut value, &self.desc, "")?;
        message_from_json_with(&self.desc, &value.to_string(), self.ignore_unknown)
            .map(Parsed::Message)
    }

    fn emit(&mut self, input: Parsed, origin: &str) -> Result<()> {
        let bytes = match input {
            Parsed::Encoded(bytes) => bytes,
            Parsed::Message(m) => match self.complete(m, origin)? {
                Some(bytes) => bytes,
                None => return Ok(()),
            },
        };
        self.write(bytes)
    }

    /// The input with the profile's defaults under it and `--set` over it,
    /// checked for required fields and encoded; `None` when it failed (and
    /// was reported).
    fn complete(&mut self, input: DynamicMessage, origin: &str) -> Result<Option<Vec<u8>>> {
        // Profile defaults first, then the input over them, then --set.
        let mut msg = match &self.defaults {
            None => input,
            Some(profile) => {
                let mut m = DynamicMessage::new(self.desc.clone());
                if let Err(e) = profile.apply_defaults(&mut m) {
                    self.fail(e.context(format!("cannot encode {origin}")))?;
                    return Ok(None);
                }
                merge_set_fields(&mut m, input);
                m
            }
        };
        for s in &self.sets {
            if let Err(e) = apply_set(&mut msg, s) {
                self.fail(anyhow!("--set {s}: {e}").context(format!("cannot encode {origin}")))?;
                return Ok(None);
            }
        }
        let missing = if self.check_required {
            crate::value::missing_required(&msg)
        } else {
            Vec::new()
        };
        if !missing.is_empty() {
            let what = format!(
                "{origin} lacks required field{}: {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            );
            if self.strict {
                self.fail(anyhow!("{what}").context(format!("cannot encode {origin}")))?;
                return Ok(None);
            }
            self.out.warn(&format!(
                "warning: {what} (encoded anyway, as protoc does; --strict refuses it)"
            ))?;
        }
        Ok(Some(wire::encode_to_vec(&msg)))
    }

    /// Writes one message's bytes in the output form.
    fn write(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.count += 1;
        match self.format {
            // Hex and base64 lines carry the framing too (framed test
            // vectors for a device's parser), one message per line.
            OutputBytes::Hex | OutputBytes::Base64 if self.framing != Framing::None => {
                let mut framed = Vec::with_capacity(bytes.len() + 5);
                self.framing
                    .write_prefix(&mut framed, bytes.len())
                    .map_err(|e| anyhow!(e.message))?;
                framed.extend_from_slice(&bytes);
                let text = if self.format == OutputBytes::Hex {
                    hex::encode(&framed)
                } else {
                    BASE64.encode(&framed)
                };
                self.out.buf.extend_from_slice(text.as_bytes());
                self.out.buf.push(b'\n');
            }
            // The empty message has no hex digits: it is written '-', which
            // decode reads back (an empty line would be skipped).
            OutputBytes::Hex | OutputBytes::Base64 if bytes.is_empty() => {
                self.out.buf.extend_from_slice(b"-\n");
            }
            OutputBytes::Hex => {
                let start = self.out.buf.len();
                self.out.buf.resize(start + bytes.len() * 2, 0);
                hex::encode_to_slice(&bytes, &mut self.out.buf[start..])
                    .expect("sized for the hex");
                self.out.buf.push(b'\n');
            }
            OutputBytes::Base64 => {
                let s = BASE64.encode(&bytes);
                self.out.buf.extend_from_slice(s.as_bytes());
                self.out.buf.push(b'\n');
            }
            OutputBytes::Binary if self.framing == Framing::None => {
                if self.held.is_some() {
                    self.held = None;
                    return Err(UsageError(
                        "several messages cannot be written as binary without framing; \
                         pass --framing varint (or u16be, u32be, u32le), or use -f hex"
                            .into(),
                    )
                    .into());
                }
                self.held = Some(bytes);
            }
            OutputBytes::Binary => {
                self.framing
                    .write_prefix(&mut self.out.buf, bytes.len())
                    .map_err(|e| anyhow!(e.message))?;
                self.out.buf.extend_from_slice(&bytes);
            }
        }
        self.out.done_one()
    }

    fn fail(&mut self, err: anyhow::Error) -> Result<()> {
        self.out.fail(err)
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(held) = self.held.take() {
            self.out.buf.extend_from_slice(&held);
        }
        self.out.finish()
    }

    /// A stream of JSON values: one per line, several on a line, or one
    /// spread over lines. A bad value is reported with its line and skipped.
    fn json_stream<R: BufRead>(&mut self, mut reader: R) -> Result<()> {
        // Text read but not yet parsed, and the line and column it starts at.
        let mut pending = String::new();
        let (mut pending_line, mut pending_col) = (1usize, 1usize);
        let mut lines_read = 0usize;
        // Once a value is found spread over lines, where values may end is
        // tracked by a scan of each new line, and parsing waits for one:
        // parsing the value again at each line would be quadratic. Lines
        // that hold whole values (JSON Lines) are parsed at once.
        let mut scan: Option<JsonScan> = None;
        loop {
            let before = pending.len();
            let n = reader
                .read_line(&mut pending)
                .context("cannot read the input")?;
            let at_end = n == 0;
            if !at_end {
                lines_read += 1;
                if pending[..before].trim().is_empty() {
                    pending.drain(..before);
                    (pending_line, pending_col) = (lines_read, 1);
                }
                let from = pending.len() - n;
                if let Some(scan) = &mut scan {
                    if !scan.scan(&pending.as_bytes()[from..]) {
                        continue;
                    }
                }
            }
            let mut parsed: Vec<(usize, Result<Parsed>)> = Vec::new();
            let mut consumed = 0;
            let mut stream = serde_json::Deserializer::from_str(&pending).into_iter::<&RawValue>();
            loop {
                let value_start = consumed + leading_whitespace(&pending[consumed..]);
                let (line, col) = advance((pending_line, pending_col), &pending[..value_start]);
                match stream.next() {
                    None => break,
                    Some(Ok(raw)) => {
                        consumed = stream.byte_offset();
                        let outcome = self
                            .parse_json(raw.get())
                            .map_err(|e| relocate(e, line, col));
                        parsed.push((line, outcome));
                    }
                    // A value spread over lines: read on.
                    Some(Err(e)) if e.is_eof() && !at_end => break,
                    Some(Err(e)) => {
                        let err = if e.is_eof() {
                            anyhow!("the input ends inside a JSON value")
                        } else {
                            relocate(anyhow::Error::from(e), pending_line, pending_col)
                        };
                        parsed.push((line, Err(err)));
                        // The rest of the buffer cannot be trusted: drop it.
                        consumed = pending.len();
                        break;
                    }
                }
            }
            (pending_line, pending_col) =
                advance((pending_line, pending_col), &pending[..consumed]);
            pending.drain(..consumed);
            scan = if pending.trim().is_empty() {
                None
            } else {
                let mut s = JsonScan::default();
                s.scan(pending.as_bytes());
                Some(s)
            };
            for (line, outcome) in parsed {
                match outcome {
                    Ok(m) => self.emit(m, &format!("the value on line {line}"))?,
                    Err(e) => {
                        self.fail(e.context(format!("cannot read the JSON value on line {line}")))?
                    }
                }
            }
            if at_end {
                return Ok(());
            }
        }
    }
}

/// Where top-level JSON values may end, found without parsing: the nesting
/// depth outside strings, carried from one piece of text to the next.
#[derive(Debug, Default)]
struct JsonScan {
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl JsonScan {
    /// Scans more text; true when a top-level value may end in it.
    fn scan(&mut self, text: &[u8]) -> bool {
        let mut ended = false;
        for &b in text {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                    ended |= self.depth == 0;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    ended |= self.depth == 0;
                }
                b' ' | b'\t' | b'\n' | b'\r' => {}
                // A scalar (or garbage) at the top level: let the parser say.
                _ => ended |= self.depth == 0,
            }
        }
        ended
    }
}

/// The line and column reached after reading `text` from `from`.
fn advance(from: (usize, usize), text: &str) -> (usize, usize) {
    match text.rfind('\n') {
        Some(i) => (
            from.0 + text.matches('\n').count(),
            text[i + 1..].chars().count() + 1,
        ),
        None => (from.0, from.1 + text.chars().count()),
    }
}

/// serde_json counts lines and columns from the start of the text it was
/// given; make the position in an error count from the start of the input,
/// where that text began at `line`:`col`.
fn relocate(err: anyhow::Error, line: usize, col: usize) -> anyhow::Error {
    let Some(json) = err.root_cause().downcast_ref::<serde_json::Error>() else {
        return err;
    };
    if json.line() == 0 {
        return err;
    }
    let (l, c) = if json.line() == 1 {
        (line, col + json.column() - 1)
    } else {
        (line + json.line() - 1, json.column())
    };
    let text = json.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    let mut rebuilt = anyhow!("{what} at line {l} column {c}");
    let outer: Vec<String> = err.chain().map(ToString::to_string).collect();
    for context in outer[..outer.len() - 1].iter().rev() {
        rebuilt = rebuilt.context(context.clone());
    }
    rebuilt
}

/// Sets on `base` every field `over` has, replacing what `base` had there
/// (the input wins over the profile's defaults, field by field).
pub(crate) fn merge_set_fields(base: &mut DynamicMessage, over: DynamicMessage) {
    let mut over = over;
    let fields: Vec<_> = over.take_fields().collect();
    for (field, value) in fields {
        // A sub-message given in part (`{"header":{"op":...}}`) keeps the
        // defaults of the fields it does not give.
        let singular = !field.is_list() && !field.is_map() && base.has_field(&field);
        match (value, singular) {
            (prost_reflect::Value::Message(inner), true) => {
                if let prost_reflect::Value::Message(b) = base.get_field_mut(&field) {
                    merge_set_fields(b, inner);
                }
            }
            (value, _) => base.set_field(&field, value),
        }
    }
    for unknown in over.take_unknown_fields() {
        let mut bytes = Vec::new();
        unknown.encode(&mut bytes);
        let _ = prost::Message::merge(base, bytes.as_slice());
    }
}

fn leading_whitespace(s: &str) -> usize {
    s.len() - s.trim_start().len()
}
