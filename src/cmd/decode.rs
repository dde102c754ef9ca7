//! `commander decode`: wire bytes in, tables / JSON / text out (SPEC 5).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};

use crate::cli::{DecodeArgs, InputEncoding, SchemaArgs};
use crate::codec::framing::{FrameReader, MAX_FRAME};
use crate::codec::lines::{LineContent, LineDecoder, Lines, UTF8_BOM};
use crate::codec::{self, Framing, decode_base64, looks_like_hex};
use crate::render::{Format, Renderer, ViewOptions};

/// The origin of the one message given as an argument (no title needed).
const SINGLE_ARGUMENT: &str = "the argument";

const STDIN_WAIT: &str = "messages (hex or base64, one per line)";

pub fn run(schema_args: &SchemaArgs, args: DecodeArgs) -> Result<ExitCode> {
    let format: Format = args.output.into();
    if args.no_unknown && (format != Format::Text || args.raw) {
        return Err(crate::UsageError(
            "--no-unknown is for -o text with a type (JSON never shows unknown fields; tables and hex keep them; --raw has only numbers)"
                .into(),
        )
        .into());
    }
    if args.raw && matches!(format, Format::Hex | Format::Base64) {
        return Err(crate::UsageError(
            "-o hex and -o base64 encode each message again, which takes its type (-m TYPE), not --raw"
                .into(),
        )
        .into());
    }
    let width = super::table_width(args.view.width);
    let renderer = if args.raw {
        if !args.view.bytes_as.is_empty() {
            return Err(crate::UsageError("--bytes-as needs a schema, not --raw".into()).into());
        }
        Renderer::raw(format)
            .with_width(width)
            .with_guess(args.guess.into())
    } else {
        let context = super::Context::load(schema_args)?;
        let desc = context.response_type(args.message.as_deref())?;
        let bytes_as = super::bytes_as(
            &context.schema,
            &context.profile,
            &args.view.bytes_as,
            Some(&desc),
        )?;
        std::mem::forget(context);
        let view = ViewOptions {
            emit_defaults: args.emit_defaults,
            camel_case: args.camel_case,
            enum_numbers: args.view.enum_numbers,
            width,
            guess: args.guess.into(),
            bytes_as,
            no_unknown: args.no_unknown,
        };
        Renderer::typed_with(desc, format, view)
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
    if d.count == 0 && d.out.failures == 0 {
        eprintln!(
            "note: the input holds no message (an empty message is a line '-' in hex or \
             base64, or zero bytes read with -i binary)"
        );
    }
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
        let rendered = self.renderer.render(bytes, &mut self.out);
        // A failed write stops the render too: that is no decode failure.
        if let Some(e) = self.out.write_failed() {
            return Err(e);
        }
        if let Err(e) = rendered {
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
            if matches!(lit.trim(), "" | "-") && input != InputEncoding::Binary {
                decoded.push((origin, Vec::new(), None));
                continue;
            }
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
        let sample = reader.fill_buf().context("cannot read the input")?;
        if input != InputEncoding::Binary {
            if sample.starts_with(b"\xff\xfe") || sample.starts_with(b"\xfe\xff") {
                return Err(anyhow!(
                    "the input is UTF-16 text (it starts with a UTF-16 byte order mark); \
                     save it as UTF-8 or ASCII (PowerShell: Out-File -Encoding utf8)"
                ));
            }
            // A message never starts with these bytes (0xef is no field key).
            if sample.starts_with(UTF8_BOM) {
                reader.consume(UTF8_BOM.len());
            }
        }
        let mode = match input {
            InputEncoding::Hex => Mode::Hex,
            InputEncoding::Base64 => Mode::Base64,
            InputEncoding::Binary => Mode::Binary,
            InputEncoding::Auto => {
                let sample = reader.fill_buf().context("cannot read the input")?;
                if sample.is_empty() {
                    return Ok(());
                }
                sniff(sample)
            }
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
                    lines: Lines::new(reader),
                    hex: mode == Mode::Hex,
                    pending: Vec::new(),
                    at: 0,
                };
                self.frames(BufReader::with_capacity(1 << 16, lines))
            }
        }
    }

    /// One message per line that is not blank (`-` alone: the empty message).
    fn lines<R: BufRead>(&mut self, reader: R, mode: Mode) -> Result<()> {
        let mut lines = Lines::new(reader);
        let mut bytes = Vec::with_capacity(256);
        loop {
            bytes.clear();
            let mut decoder = LineDecoder::new(mode == Mode::Hex);
            if !lines
                .next_line(|piece| decoder.feed(piece, &mut bytes))
                .context("cannot read the input")?
            {
                return Ok(());
            }
            let n = lines.number;
            match decoder.finish(&mut bytes) {
                Ok(LineContent::Blank) => {}
                Ok(LineContent::EmptyMessage) => self.one(&[], &format!("line {n}"), None)?,
                Ok(LineContent::Message) => {
                    let b = std::mem::take(&mut bytes);
                    self.one(&b, &format!("line {n}"), None)?;
                    bytes = b;
                }
                Err(e) => self.fail(anyhow!(e).context(format!("cannot read line {n}")))?,
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

fn text_to_bytes(text: &str, mode: Mode) -> Result<Vec<u8>> {
    Ok(match mode {
        Mode::Hex => codec::decode_hex(text.trim())?,
        _ => decode_base64(text)?,
    })
}

/// Guesses the input encoding from its first bytes: hex if the first line
/// that holds a message looks like hex, base64 if the input is text whose
/// first such line is base64, else binary. Blank input is hex (no messages).
fn sniff(sample: &[u8]) -> Mode {
    let ends_line = |b: &u8| *b == b'\n' || *b == b'\r';
    let complete = sample.iter().rposition(ends_line).map_or(0, |i| i + 1);
    let mut lines = sample.split(ends_line).map(<[u8]>::trim_ascii);
    let first = lines.find(|l| !l.is_empty() && *l != b"-");
    let Some(first) = first else {
        // Blank lines and empty messages only: text, or binary?
        let text = sample.iter().all(|&b| b.is_ascii_whitespace() || b == b'-');
        return if text { Mode::Hex } else { Mode::Binary };
    };
    let Ok(line) = std::str::from_utf8(first) else {
        return Mode::Binary;
    };
    // A line longer than the sample (a full buffer) is judged on what the
    // sample holds, up to its last whole token.
    let unterminated = first.as_ptr() as usize - sample.as_ptr() as usize + first.len() > complete;
    let cut = unterminated && sample.len() >= 4096;
    let judged = if cut {
        match line.rfind(|c: char| c.is_ascii_whitespace() || matches!(c, ':' | ',' | '-')) {
            Some(i) => &line[..i],
            None => &line[..line.len() & !1],
        }
    } else {
        line
    };
    if looks_like_hex(judged) {
        return Mode::Hex;
    }
    let is_text = sample
        .iter()
        .all(|&b| matches!(b, b'\n' | b'\r' | b'\t' | 0x20..=0x7e));
    let judged = if cut {
        &judged[..judged.len() / 4 * 4]
    } else {
        judged
    };
    if is_text && decode_base64(judged).is_ok() {
        return Mode::Base64;
    }
    Mode::Binary
}

/// Hex or base64 lines read as one byte stream (for framed text input).
struct TextBytes<R> {
    lines: Lines<R>,
    hex: bool,
    pending: Vec<u8>,
    at: usize,
}

impl<R: BufRead> Read for TextBytes<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            self.pending.clear();
            self.at = 0;
            let mut decoder = LineDecoder::new(self.hex);
            let pending = &mut self.pending;
            if !self.lines.next_line(|piece| decoder.feed(piece, pending))? {
                return Ok(0);
            }
            decoder.finish(&mut self.pending).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {}: {e}", self.lines.number),
                )
            })?;
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
        assert_eq!(sniff(b"\xef\x0a"), Mode::Binary);
        assert_eq!(sniff(b"\n\n"), Mode::Hex);
        assert_eq!(sniff(b"-\n0801\r"), Mode::Hex);
        assert_eq!(sniff(b"0a\r0b\r"), Mode::Hex);
        assert_eq!(sniff(b"CAE"), Mode::Base64);
    }

    #[test]
    fn sniffing_a_line_longer_than_the_sample_judges_its_whole_tokens() {
        let mut long = b"0a 24 ".repeat(1000);
        long.extend_from_slice(b"6");
        assert_eq!(sniff(&long), Mode::Hex);
        let mut plain = b"0a2465".repeat(1000);
        plain.push(b'f');
        assert_eq!(sniff(&plain), Mode::Hex);
    }
}
