//! Messages out: tables, JSON, JSON Lines and text format, with or without a
//! schema.

pub mod bytes_as;
pub mod grid;
pub mod json;
pub mod large;
pub mod table;
pub mod text;

use anyhow::{Context, Result};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::codec::raw::{self, Guess};
pub use bytes_as::BytesAs;
pub use json::{JsonOptions, JsonWriter};
use table::TableOptions;

/// Where rendered output goes: a buffer its owner writes out.
pub trait Out {
    /// The buffer to append to.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Writes out what the buffer holds when it has grown large. Called only
    /// once the message being rendered is known to decode, so nothing
    /// written early is ever taken back.
    fn spill(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Out for Vec<u8> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self
    }
}

/// A line sink appending each line and a line end to `out`.
fn lines_into(out: &mut dyn Out) -> impl FnMut(&str) -> std::io::Result<()> + '_ {
    |line| {
        let buf = out.buf();
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        out.spill()
    }
}

/// Decodes `bytes` as `desc`; a malformed message's error says at which byte.
///
/// The nesting of messages packed in Any fields is checked too, since tables
/// and text expand them.
pub fn decode_message(desc: &MessageDescriptor, bytes: &[u8]) -> Result<DynamicMessage> {
    let msg = DynamicMessage::decode(desc.clone(), bytes)
        .map_err(|e| explain_decode_error(desc, bytes, e.into()))?;
    crate::wire::check_nesting(&msg).map_err(anyhow::Error::msg)?;
    Ok(msg)
}

/// prost's errors say what but not where; walking the bytes along the
/// descriptor finds the byte offset and the field.
fn explain_decode_error(
    desc: &MessageDescriptor,
    bytes: &[u8],
    err: anyhow::Error,
) -> anyhow::Error {
    if let Some(found) = crate::wire::diagnose(desc, bytes) {
        return anyhow::anyhow!("{found}");
    }
    match raw::check(bytes) {
        Err(raw_err) => anyhow::anyhow!("{raw_err} ({err})"),
        Ok(()) => err,
    }
}

/// The text format of a message with no fields set.
pub const EMPTY_TEXT: &str = "# empty message\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Text,
    /// Encoded again canonically (unknown fields kept), one line each.
    Hex,
    Base64,
}

/// Turns the bytes of one message into its printed form (with a trailing
/// newline), as one type or schemaless.
#[derive(Debug)]
pub struct Renderer {
    target: Target,
    format: Format,
    emit_defaults: bool,
    table: TableOptions,
    view: ViewOptions,
}

#[derive(Debug)]
enum Target {
    Typed {
        desc: MessageDescriptor,
        json: Option<JsonWriter>,
    },
    Raw,
}

/// How messages are shown, beyond the format.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewOptions {
    /// Fields without presence are shown at their default values too.
    pub emit_defaults: bool,
    /// JSON keys in lowerCamelCase.
    pub camel_case: bool,
    /// Enum values as numbers in JSON.
    pub enum_numbers: bool,
    /// Tables no wider than this.
    pub width: Option<usize>,
    /// Readings offered without a schema.
    pub guess: Guess,
    /// Messages carried in bytes fields (`--bytes-as`).
    pub bytes_as: Option<&'static BytesAs>,
    /// Unknown fields left out of text (`--no-unknown`).
    pub no_unknown: bool,
}

impl Renderer {
    pub fn typed(
        desc: MessageDescriptor,
        format: Format,
        emit_defaults: bool,
        camel_case: bool,
    ) -> Renderer {
        let view = ViewOptions {
            emit_defaults,
            camel_case,
            ..ViewOptions::default()
        };
        Renderer::typed_with(desc, format, view)
    }

    pub fn typed_with(desc: MessageDescriptor, format: Format, view: ViewOptions) -> Renderer {
        let json = match format {
            Format::Json | Format::Jsonl => Some(JsonWriter::new(
                &desc,
                JsonOptions {
                    pretty: format == Format::Json,
                    camel_case: view.camel_case,
                    emit_defaults: view.emit_defaults,
                    enum_numbers: view.enum_numbers,
                },
            )),
            _ => None,
        };
        Renderer {
            target: Target::Typed { desc, json },
            format,
            emit_defaults: view.emit_defaults,
            table: TableOptions {
                emit_defaults: view.emit_defaults,
                width: view.width,
                guess: view.guess,
                bytes_as: view.bytes_as,
            },
            view,
        }
    }

    pub fn raw(format: Format) -> Renderer {
        Renderer {
            target: Target::Raw,
            format,
            emit_defaults: false,
            table: TableOptions::default(),
            view: ViewOptions::default(),
        }
    }

    /// Tables no wider than `width` (wrapping values).
    pub fn with_width(mut self, width: Option<usize>) -> Renderer {
        self.table.width = width;
        self
    }

    /// The readings offered without a schema (`--guess`).
    pub fn with_guess(mut self, guess: Guess) -> Renderer {
        self.table.guess = guess;
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The title line of a table: `TYPE · ORIGIN · N bytes` (origin left
    /// out when there is none worth naming).
    pub fn title(&self, origin: Option<&str>, len: usize) -> String {
        match origin {
            Some(o) => format!("{} · {o} · {len} bytes", self.type_name()),
            None => format!("{} · {len} bytes", self.type_name()),
        }
    }

    /// The full name of the type decoded, or `raw`.
    pub fn type_name(&self) -> &str {
        match &self.target {
            Target::Typed { desc, .. } => desc.full_name(),
            Target::Raw => "(no schema)",
        }
    }

    /// Appends the rendering of `bytes` to `out`; on error nothing is
    /// appended. Large output is handed to [`Out::spill`] as it is made,
    /// once the message is known to decode.
    pub fn render(&self, bytes: &[u8], out: &mut dyn Out) -> Result<()> {
        let start = out.buf().len();
        let mut written = 0;
        let result = self.render_any(bytes, out, &mut written);
        match result {
            Err(e) => {
                out.buf().truncate(start);
                Err(e)
            }
            Ok(()) => {
                // Text format writes nothing for a message with no fields
                // set; say so, or a stream would show fewer messages than it
                // holds (a comment reads back as the empty message).
                if self.format == Format::Text && written == 0 {
                    out.buf().extend_from_slice(EMPTY_TEXT.as_bytes());
                }
                Ok(())
            }
        }
    }

    fn render_any(&self, bytes: &[u8], out: &mut dyn Out, written: &mut usize) -> Result<()> {
        // Text is made in pieces, each appended and spilled when done.
        let mut text_piece = |text: &mut String, out: &mut dyn Out| -> std::io::Result<()> {
            *written += text.len();
            out.buf().extend_from_slice(text.as_bytes());
            text.clear();
            out.spill()
        };
        match &self.target {
            Target::Typed {
                json: Some(w),
                desc,
            } => {
                let buf = out.buf();
                match self.view.bytes_as.filter(|b| !b.is_empty()) {
                    None => w
                        .write(bytes, buf)
                        .map_err(|e| explain_decode_error(desc, bytes, e))?,
                    Some(carried) => {
                        let mut plain = Vec::new();
                        w.write(bytes, &mut plain)
                            .map_err(|e| explain_decode_error(desc, bytes, e))?;
                        let mut value: serde_json::Value = serde_json::from_slice(&plain)?;
                        let opts = JsonOptions {
                            pretty: false,
                            camel_case: self.view.camel_case,
                            emit_defaults: self.view.emit_defaults,
                            enum_numbers: self.view.enum_numbers,
                        };
                        carried.rewrite_json(&mut value, desc, "", opts);
                        if self.format == Format::Json {
                            serde_json::to_writer_pretty(&mut *buf, &value)?;
                        } else {
                            serde_json::to_writer(&mut *buf, &value)?;
                        }
                    }
                }
                buf.push(b'\n');
            }
            Target::Typed { desc, json: None }
                if matches!(self.format, Format::Hex | Format::Base64) =>
            {
                // Binary in, binary out: what the runtimes' parse and
                // serialize give (known fields in number order, unknown
                // ones kept, after them, in the order they came).
                let msg = decode_message(desc, bytes)?;
                let encoded = crate::wire::encode_to_vec(&msg);
                let line = if self.format == Format::Hex {
                    if encoded.is_empty() {
                        "-".to_owned()
                    } else {
                        hex::encode(&encoded)
                    }
                } else {
                    use base64::Engine;
                    let b = base64::engine::general_purpose::STANDARD.encode(&encoded);
                    if b.is_empty() { "-".to_owned() } else { b }
                };
                *written += line.len() + 1;
                let buf = out.buf();
                buf.extend_from_slice(line.as_bytes());
                buf.push(b'\n');
            }
            Target::Typed { desc, json: None } => {
                let msg = match large::Msg::open(desc, bytes, 0) {
                    Some(m) => m,
                    // The full decode says where and why it fails.
                    None => large::Msg::Decoded(decode_message(desc, bytes)?),
                };
                match self.format {
                    Format::Text => {
                        let mut text = String::new();
                        let opts = text::TextOptions {
                            emit_defaults: self.emit_defaults,
                            bytes_as: self.view.bytes_as,
                            no_unknown: self.view.no_unknown,
                        };
                        text::write_msg(&msg, 0, &opts, &mut text, &mut |t| text_piece(t, out))?;
                    }
                    _ => table::write_msg_table(msg, self.table, &mut lines_into(out))?,
                }
            }
            Target::Raw if matches!(self.format, Format::Hex | Format::Base64) => {
                anyhow::bail!(
                    "encoding a message again takes its type (-m TYPE), not --raw: without a schema there is no canonical form"
                );
            }
            Target::Raw => {
                raw::check(bytes).context("not a protobuf message")?;
                match self.format {
                    Format::Hex | Format::Base64 => unreachable!("refused above"),
                    Format::Table => {
                        table::write_raw_table(bytes, self.table, &mut lines_into(out))?;
                    }
                    Format::Text => {
                        let opts = raw::TextOptions {
                            guess: self.table.guess,
                            cap: None,
                        };
                        let mut text = String::new();
                        raw::write_text(bytes, 0, 0, &opts, &mut text, &mut |t| {
                            text_piece(t, out)
                        })?;
                        text_piece(&mut text, out)?;
                    }
                    Format::Json | Format::Jsonl => {
                        let mut piece = Vec::new();
                        let mut flush = |p: &mut Vec<u8>| {
                            out.buf().append(p);
                            out.spill()
                        };
                        raw::write_json_flushing(
                            bytes,
                            self.format == Format::Json,
                            &mut piece,
                            &mut flush,
                        )?;
                        piece.push(b'\n');
                        flush(&mut piece)?;
                    }
                }
            }
        }
        Ok(())
    }
}
