//! Messages out: tables, JSON, JSON Lines and text format, with or without a
//! schema.

pub mod grid;
pub mod json;
pub mod table;
pub mod text;

use anyhow::{Context, Result};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::codec::raw::{self, Guess};
pub use json::{JsonOptions, JsonWriter};
use table::TableOptions;

/// A line sink appending each line and a line end to `out`.
fn lines_into(out: &mut Vec<u8>) -> impl FnMut(&str) -> std::io::Result<()> + '_ {
    |line| {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        Ok(())
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
}

/// Turns the bytes of one message into its printed form (with a trailing
/// newline), as one type or schemaless.
#[derive(Debug)]
pub struct Renderer {
    target: Target,
    format: Format,
    emit_defaults: bool,
    table: TableOptions,
}

#[derive(Debug)]
enum Target {
    Typed {
        desc: MessageDescriptor,
        json: Option<JsonWriter>,
    },
    Raw,
}

impl Renderer {
    pub fn typed(
        desc: MessageDescriptor,
        format: Format,
        emit_defaults: bool,
        camel_case: bool,
    ) -> Renderer {
        let json = match format {
            Format::Json | Format::Jsonl => Some(JsonWriter::new(
                &desc,
                JsonOptions {
                    pretty: format == Format::Json,
                    camel_case,
                    emit_defaults,
                },
            )),
            _ => None,
        };
        Renderer {
            target: Target::Typed { desc, json },
            format,
            emit_defaults,
            table: TableOptions {
                emit_defaults,
                ..TableOptions::default()
            },
        }
    }

    pub fn raw(format: Format) -> Renderer {
        Renderer {
            target: Target::Raw,
            format,
            emit_defaults: false,
            table: TableOptions::default(),
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

    /// Appends the rendering of `bytes` to `out`; on error nothing is appended.
    pub fn render(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let result = self.render_inner(bytes, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn render_inner(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        self.render_any(bytes, out)?;
        // Text format writes nothing for a message with no fields set; say
        // so, or a stream would show fewer messages than it holds (a comment
        // reads back as the empty message).
        if self.format == Format::Text && out.len() == start {
            out.extend_from_slice(EMPTY_TEXT.as_bytes());
        }
        Ok(())
    }

    fn render_any(&self, bytes: &[u8], out: &mut Vec<u8>) -> Result<()> {
        match &self.target {
            Target::Typed {
                json: Some(w),
                desc,
            } => {
                w.write(bytes, out)
                    .map_err(|e| explain_decode_error(desc, bytes, e))?;
                out.push(b'\n');
            }
            Target::Typed { desc, json: None } => {
                let msg = decode_message(desc, bytes)?;
                match self.format {
                    Format::Text => {
                        out.extend_from_slice(
                            text::to_text_with(&msg, self.emit_defaults).as_bytes(),
                        );
                    }
                    _ => {
                        table::write_message_table(&msg, self.table, &mut lines_into(out))?;
                    }
                }
            }
            Target::Raw => {
                raw::check(bytes).context("not a protobuf message")?;
                match self.format {
                    Format::Table => {
                        table::write_raw_table(bytes, self.table, &mut lines_into(out))?;
                    }
                    Format::Text => {
                        let opts = raw::TextOptions {
                            guess: self.table.guess,
                            cap: None,
                        };
                        let mut text = String::new();
                        raw::write_text(bytes, 0, 0, &opts, &mut text);
                        out.extend_from_slice(text.as_bytes());
                    }
                    Format::Json | Format::Jsonl => {
                        raw::write_json(bytes, self.format == Format::Json, out);
                        out.push(b'\n');
                    }
                }
            }
        }
        Ok(())
    }
}
