//! `commander decode`: wire bytes in, tables / JSON / text out (SPEC 5).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use crate::cli::{DecodeArgs, InputEncoding, SchemaArgs};
use crate::codec::framing::{FrameReader, MAX_FRAME};
use crate::codec::{self, Framing, decode_base64, looks_like_hex};
use crate::render::{Format, Renderer};

/// The origin of the one message given as an argument (no title needed).
const SINGLE_ARGUMENT: &str = "the argument";

const STDIN_WAIT: &str = "messages (hex or base64, one per line)";

pub fn run(schema_args: &SchemaArgs, args: DecodeArgs) -> Result<ExitCode> {
    let format: Format = args.output.into();
    let renderer = if args.raw {
        Renderer::raw(format)
    } else {
        let context = super::Context::load(schema_args)?;
        let desc = context.response_type(args.message.as_deref())?;
        std::mem::forget(context);
        Renderer::typed(desc, format, args.emit_defaults, args.camel_case)
    };
    let mut d = Decoder {
        renderer,
        framing: args.framing.into(),
        titles: format == Format::Table,
        out: super::StreamOut::new(),
        count: 0,
    };

    if !args.literals.is_empty() {
        d.literals(&args.literals, args.input)?;
    } else {
        let reader: Box<dyn Read> = match args.file.as_deref() {
            None => super::stdin_reader(STDIN_WAIT),
            Some(p) if p.as_os_str() == "-" => super::stdin_reader(STDIN_WAIT),
            Some(p) => {
                Box::new(File::open(p).with_context(|| format!("cannot open '{}'", p.display()))?)
            }
        };
        d.stream(BufReader::with_capacity(1 << 16, reader), args.input)?;
    }
    d.out.finish()?;
    let status = d.out.status();
    // The process is about to exit: freeing the descriptor pool and plans
    // piece by piece would take a tenth of a short run.
    std::mem::forget(d);
    Ok(status)
}

struct Decoder {
    renderer: Renderer,
    framing: Framing,
    /// Tables get a title line naming the type and where the message came from.
    titles: bool,
    out: super::StreamOut,
    count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Hex,
    Base64,
    Binary,
}

impl Decoder {
    /// Renders one message; a failure is reported and counted. `origin`
    /// says where it came from ("line 3"); `note` is added to an error.
    fn one(&mut self, bytes: &[u8], origin: &str, note: Option<&str>) -> Result<()> {
        self.count += 1;
        let mark = self.out.buf.len();
        if self.titles {
            if self.count > 1 {
                self.out.buf.push(b'\n');
            }
            let origin = (origin != SINGLE_ARGUMENT).then_some(origin);
            let title = self.renderer.title(origin, bytes.len());
            self.out.buf.extend_from_slice(title.as_bytes());
            self.out.buf.push(b'\n');
        } else if self.renderer.format() == Format::Text && self.count > 1 {
            // Text-format messages are told apart by a blank line.
            self.out.buf.push(b'\n');
        }
        if let Err(e) = self.renderer.render(bytes, &mut self.out.buf) {
            self.out.buf.truncate(mark);
            self.count -= 1;
            let mut what = format!("cannot decode {origin} as {}", self.renderer.type_name());
            if let Some(note) = note {
                what.push_str(&format!("\n  note: {note}"));
            }
            self.fail(e.context(what))?;
        }
        self.out.done_one()
    }

    fn fail(&mut self, err: anyhow::Error) -> Result<()> {
        self.out.fail(err)
    }

    fn literals(&mut self, literals: &[String], input: InputEncoding) -> Result<()> {
        let mut decoded = Vec::with_capacity(literals.len());
        for (i, lit) in literals.iter().enumerate() {
            let origin = if literals.len() == 1 {
                SINGLE_ARGUMENT.to_owned()
            } else {
                format!("argument {}", i + 1)
            };
            let mut note = None;
            let mode = match input {
                InputEncoding::Hex => Mode::Hex,
                InputEncoding::Base64 => Mode::Base64,
                InputEncoding::Binary => {
                    return Err(crate::UsageError(
                        "binary input comes from --file or stdin, not arguments".into(),
                    )
                    .into());
                }
                InputEncoding::Auto => match codec::decode_hex(lit.trim()) {
                    Ok(_) => Mode::Hex,
                    Err(hex_err) => {
                        // Say why it was not hex: a typo in hex otherwise
                        // shows up as a puzzling base64 failure.
                        note = Some(format!(
                            "{origin} was read as base64, not hex ({hex_err}); pass -i hex or -i base64 to choose"
                        ));
                        Mode::Base64
                    }
                },
            };
            match text_to_bytes(lit, mode) {
                Ok(b) => decoded.push((origin, b, note)),
                Err(e) => {
                    let mut what = format!("cannot read {origin}");
                    if let Some(note) = note {
                        what.push_str(&format!("\n  note: {note}"));
                    }
                    self.fail(e.context(what))?
                }
            }
        }
        if self.framing == Framing::None {
            for (origin, bytes, note) in decoded {
                self.one(&bytes, &origin, note.as_deref())?;
            }
        } else {
            let stream: Vec<u8> = decoded.into_iter().flat_map(|(_, b, _)| b).collect();
            self.frames(&stream[..])?;
        }
        Ok(())
    }

    fn stream<R: BufRead>(&mut self, mut reader: R, input: InputEncoding) -> Result<()> {
        let mode = match input {
            InputEncoding::Hex => Mode::Hex,
            InputEncoding::Base64 => Mode::Base64,
            InputEncoding::Binary => Mode::Binary,
            InputEncoding::Auto => sniff(reader.fill_buf().context("cannot read the input")?),
        };
        match (mode, self.framing) {
            (Mode::Binary, Framing::None) => {
                let mut bytes = Vec::new();
                reader
                    .take(MAX_FRAME + 1)
                    .read_to_end(&mut bytes)
                    .context("cannot read the input")?;
                if bytes.len() as u64 > MAX_FRAME {
                    return Err(anyhow!(
                        "binary input is larger than the {} MiB message limit; \
                         if it holds several messages, pass --framing",
                        MAX_FRAME >> 20
                    ));
                }
                self.one(&bytes, "the input", None)
            }
            (Mode::Binary, _) => self.frames(reader),
            (_, Framing::None) => self.lines(reader, mode),
            (_, _) => {
                let lines = TextBytes {
                    inner: reader,
                    mode,
                    line: 0,
                    pending: Vec::new(),
                    at: 0,
                };
                self.frames(BufReader::with_capacity(1 << 16, lines))
            }
        }
    }

    /// One message per non-empty line.
    fn lines<R: BufRead>(&mut self, mut reader: R, mode: Mode) -> Result<()> {
        let mut line = Vec::with_capacity(512);
        let mut bytes = Vec::with_capacity(256);
        let mut n = 0usize;
        loop {
            line.clear();
            if reader
                .read_until(b'\n', &mut line)
                .context("cannot read the input")?
                == 0
            {
                return Ok(());
            }
            n += 1;
            let text = trim_ascii(&line);
            if text.is_empty() {
                continue;
            }
            bytes.clear();
            let decoded = match std::str::from_utf8(text) {
                Err(_) => Err(anyhow!(
                    "the line is not text (use -i binary for raw bytes)"
                )),
                Ok(t) => match mode {
                    Mode::Hex => {
                        codec::shapes::decode_hex_into(t, &mut bytes).map_err(anyhow::Error::from)
                    }
                    _ => decode_base64(t)
                        .map(|b| bytes = b)
                        .map_err(anyhow::Error::from),
                },
            };
            match decoded {
                Ok(()) => {
                    let b = std::mem::take(&mut bytes);
                    self.one(&b, &format!("line {n}"), None)?;
                    bytes = b;
                }
                Err(e) => self.fail(e.context(format!("cannot read line {n}")))?,
            }
        }
    }

    fn frames<R: Read>(&mut self, reader: R) -> Result<()> {
        for frame in FrameReader::new(reader, self.framing) {
            match frame {
                Ok(f) => {
                    let origin = format!("the message at byte offset {}", f.offset);
                    self.one(&f.bytes, &origin, None)?
                }
                Err(e) => self.fail(anyhow!(e).context("cannot split the input into messages"))?,
            }
        }
        Ok(())
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

fn text_to_bytes(text: &str, mode: Mode) -> Result<Vec<u8>> {
    Ok(match mode {
        Mode::Hex => codec::decode_hex(text.trim())?,
        _ => decode_base64(text)?,
    })
}

/// Guesses the input encoding from its first bytes: hex if the first
/// non-empty line looks like hex, base64 if the input is text whose first
/// line is base64, else binary.
fn sniff(sample: &[u8]) -> Mode {
    let first = sample
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty());
    let Some(first) = first else {
        return Mode::Binary;
    };
    let Ok(line) = std::str::from_utf8(first) else {
        return Mode::Binary;
    };
    if looks_like_hex(line) {
        return Mode::Hex;
    }
    let is_text = sample
        .iter()
        .all(|&b| matches!(b, b'\n' | b'\r' | b'\t' | 0x20..=0x7e));
    if is_text && decode_base64(line).is_ok() {
        return Mode::Base64;
    }
    Mode::Binary
}

/// Hex or base64 lines read as one byte stream (for framed text input).
struct TextBytes<R> {
    inner: R,
    mode: Mode,
    line: usize,
    pending: Vec<u8>,
    at: usize,
}

impl<R: BufRead> Read for TextBytes<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                return Ok(0);
            }
            self.line += 1;
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            self.pending = text_to_bytes(t, self.mode).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {}: {e}", self.line),
                )
            })?;
            self.at = 0;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_hex_base64_and_binary_apart() {
        assert_eq!(sniff(b"0a 24 65\n"), Mode::Hex);
        assert_eq!(sniff(b"\n\n0x0a24\n"), Mode::Hex);
        assert_eq!(sniff(b"CiQzZjBj\n"), Mode::Base64);
        assert_eq!(sniff(b"\x0a\x24\x33\x66\x12\x00"), Mode::Binary);
        assert_eq!(sniff(b""), Mode::Binary);
    }
}
