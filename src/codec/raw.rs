//! Decoding without a schema, like `protoc --decode_raw`, with better guesses.
//!
//! A length-delimited field is shown as text when it is printable UTF-8, as a
//! nested message when its bytes parse as one, else as bytes, with a packed
//! reading offered when one is plausible. Fixed-width values are shown as
//! protoc shows them (hex) plus their float reading.
//!
//! Nothing is built: fields are read from the bytes as they are shown
//! ([`Fields`] borrows them), so time and memory stay linear in the input
//! whatever its shape (one field repeated a million times, or nested a
//! hundred deep).

use std::fmt::Write as _;

use crate::render::text::{c_escape_into, format_double, format_float};
use crate::wire::{self, MAX_DEPTH, WireType};

/// Which readings beyond the structure are offered (`--guess`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Guess {
    /// The structure only, as `protoc --decode_raw` shows it.
    None,
    /// Readings that are plausible: floats in a sensible range, packed
    /// numbers that look like a device's array rather than a key or nonce.
    #[default]
    Some,
    /// Every reading that decodes.
    All,
}

/// One field as read from the wire; `Len` and `Group` borrow their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawValue<'a> {
    Varint(u64),
    I64(u64),
    I32(u32),
    Len(&'a [u8]),
    /// The fields between the start-group and end-group keys.
    Group(&'a [u8]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawField<'a> {
    pub number: u32,
    pub value: RawValue<'a>,
}

/// How a length-delimited value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LenReading<'a> {
    /// Printable UTF-8.
    Text(&'a str),
    /// The bytes parse as a message.
    Message,
    /// Neither.
    Bytes,
}

/// A reading of a byte string as a packed repeated field: its first values
/// (those in as many bytes as are shown of the string) and how many it
/// holds, so that a reading is never larger than the hex shown above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    pub kind: PackedKind,
    /// The first values, formatted.
    pub first: Vec<String>,
    /// How many values the bytes hold in all.
    pub count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedKind {
    Doubles,
    Floats,
    Fixed32,
    Varints,
}

impl std::fmt::Display for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            PackedKind::Doubles => "doubles",
            PackedKind::Floats => "floats",
            PackedKind::Fixed32 => "fixed32",
            PackedKind::Varints => "varints",
        };
        write!(f, "packed {kind}? [{}", self.first.join(", "))?;
        let more = self.count - self.first.len();
        if more > 0 {
            let comma = if self.first.is_empty() { "" } else { ", " };
            write!(f, "{comma}… ({more} more)")?;
        }
        f.write_str("]")
    }
}

/// Readings in `# ...` comments of text output list the values of this
/// many bytes, as tables show this many bytes of hex.
pub const READING_BYTES: usize = 128;

/// Why bytes are not a message, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for RawError {}

fn err(offset: usize, message: impl Into<String>) -> RawError {
    RawError {
        offset,
        message: message.into(),
    }
}

/// Checks that `buf` parses as a message of unknown type (its own level and
/// its groups; length-delimited values are whatever they hold).
pub fn check(buf: &[u8]) -> Result<(), RawError> {
    check_at(buf, 0)
}

/// [`check`] for fields of a message at nesting `depth`: groups may nest
/// [`MAX_DEPTH`] levels counting those above, as in a decode with a schema.
pub fn check_at(buf: &[u8], depth: usize) -> Result<(), RawError> {
    Fields::at_depth(buf, depth).try_for_each(|f| f.map(drop))
}

/// The fields of a message, read one at a time; after an error, nothing.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields::at_depth(buf, 0)
    }

    fn at_depth(buf: &'a [u8], depth: usize) -> Fields<'a> {
        Fields {
            buf,
            pos: 0,
            depth,
            failed: false,
        }
    }

    /// Where the next field starts.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn read(&mut self) -> Result<RawField<'a>, RawError> {
        let (buf, start) = (self.buf, self.pos);
        let pos = &mut self.pos;
        let (number, wt) = wire::read_key(buf, pos).ok_or_else(|| {
            err(
                start,
                "invalid field key (bad wire type, field number 0 or truncated)",
            )
        })?;
        let value = match wt {
            WireType::Varint => RawValue::Varint(
                wire::read_varint(buf, pos).ok_or_else(|| err(start, "truncated varint"))?,
            ),
            WireType::I64 => RawValue::I64(u64::from_le_bytes(
                wire::read_fixed64(buf, pos).ok_or_else(|| err(start, "truncated 64-bit value"))?,
            )),
            WireType::I32 => RawValue::I32(u32::from_le_bytes(
                wire::read_fixed32(buf, pos).ok_or_else(|| err(start, "truncated 32-bit value"))?,
            )),
            WireType::Len => RawValue::Len(
                wire::read_len(buf, pos)
                    .ok_or_else(|| err(start, "length prefix runs past the end of the input"))?,
            ),
            WireType::StartGroup => {
                if self.depth >= MAX_DEPTH {
                    return Err(err(start, format!("groups nested deeper than {MAX_DEPTH}")));
                }
                let from = *pos;
                let mut inner = Fields::at_depth(&buf[from..], self.depth + 1);
                loop {
                    let at = inner.pos;
                    if at >= inner.buf.len() {
                        return Err(err(from + at, format!("input ends inside group {number}")));
                    }
                    let mut p = at;
                    if let Some((n, WireType::EndGroup)) = wire::read_key(inner.buf, &mut p) {
                        if n != number {
                            return Err(err(from + at, format!("unexpected end of group {n}")));
                        }
                        *pos = from + p;
                        break RawValue::Group(&buf[from..from + at]);
                    }
                    inner.read().map_err(|e| err(from + e.offset, e.message))?;
                }
            }
            WireType::EndGroup => {
                return Err(err(start, format!("unexpected end of group {number}")));
            }
        };
        Ok(RawField { number, value })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<RawField<'a>, RawError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.read();
        self.failed = r.is_err();
        Some(r)
    }
}

/// Text longer than this that also parses as a message is taken for a
/// message without reading it all as text (keeps deep nesting linear).
const TEXT_CHECK_LIMIT: usize = 1 << 16;

/// How a length-delimited value at nesting `depth` reads.
pub fn read_len(data: &[u8], depth: usize) -> LenReading<'_> {
    let message = depth + 1 < MAX_DEPTH && !data.is_empty() && {
        let mut fields = Fields::at_depth(data, depth + 1);
        fields.all(|f| f.is_ok())
    };
    if message && data.len() > TEXT_CHECK_LIMIT {
        return LenReading::Message;
    }
    let text = std::str::from_utf8(data).ok().filter(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
    });
    match (text, message) {
        (Some(s), false) => LenReading::Text(s),
        // Both readings work: short sub-messages of small varints look like
        // text ("(d" is {5: 100}); words are mostly letters and spaces.
        (Some(s), true) => {
            let wordy = s.chars().filter(|c| c.is_alphabetic() || *c == ' ').count();
            if wordy * 2 >= s.chars().count() {
                LenReading::Text(s)
            } else {
                LenReading::Message
            }
        }
        (None, true) => LenReading::Message,
        (None, false) => LenReading::Bytes,
    }
}

/// The likeliest packed reading of bytes that are neither text nor a
/// message, if `guess` offers one: doubles or floats when every value is a
/// plausible real number, fixed32 when every value is a small integer, else
/// varints when the bytes are a run of at least two of them (with `Some`,
/// only a run that looks like a device's numbers rather than random bytes).
/// Every value is checked, but only those in the first `shown` bytes are
/// kept: time is linear and memory bounded whatever the size.
pub fn packed_reading(data: &[u8], guess: Guess, shown: usize) -> Option<Packed> {
    if guess == Guess::None {
        return None;
    }
    let head = &data[..data.len().min(shown)];
    let reading = |kind, first: Vec<String>, count| Packed { kind, first, count };
    let nonzero = data.iter().any(|&b| b != 0);
    if nonzero && data.len() % 8 == 0 {
        let value = |c: &[u8]| f64::from_le_bytes(c.try_into().expect("8 bytes"));
        if data
            .chunks_exact(8)
            .all(|c| plausible_float(value(c)).is_some())
        {
            let first = head.chunks_exact(8).map(|c| format_double(value(c)));
            return Some(reading(
                PackedKind::Doubles,
                first.collect(),
                data.len() / 8,
            ));
        }
    }
    if nonzero && data.len() % 4 == 0 {
        let bits = |c: &[u8]| u32::from_le_bytes(c.try_into().expect("4 bytes"));
        let float = |c: &[u8]| f32::from_bits(bits(c));
        if data
            .chunks_exact(4)
            .all(|c| plausible_float(f64::from(float(c))).is_some())
        {
            let first = head.chunks_exact(4).map(|c| format_float(float(c)));
            return Some(reading(PackedKind::Floats, first.collect(), data.len() / 4));
        }
        if data.chunks_exact(4).all(|c| bits(c) < 1 << 24) {
            let first = head.chunks_exact(4).map(|c| bits(c).to_string());
            return Some(reading(
                PackedKind::Fixed32,
                first.collect(),
                data.len() / 4,
            ));
        }
    }
    let mut pos = 0;
    let mut first = Vec::new();
    let mut count = 0;
    let mut fits_32_bits = true;
    let mut one_length = None;
    let mut same_length = true;
    while pos < data.len() {
        let start = pos;
        let v = wire::read_varint(data, &mut pos)?;
        // An overlong encoding (a last byte of 0 after others) is no
        // encoder's output.
        if pos - start > 1 && data[pos - 1] == 0 {
            return None;
        }
        count += 1;
        fits_32_bits &= v <= u64::from(u32::MAX);
        same_length &= *one_length.get_or_insert(pos - start) == pos - start;
        if pos <= shown {
            first.push(v.to_string());
        }
    }
    if count < 2 {
        return None;
    }
    if guess == Guess::Some && !plausible_varints(data, count, fits_32_bits, same_length) {
        return None;
    }
    Some(reading(PackedKind::Varints, first, count))
}

/// Random bytes (keys, nonces, UUIDs) often read as a run of varints (half
/// their bytes have the high bit set); a device's packed array holds numbers
/// that fit 32 bits, mostly small ones (at most one byte in four with the
/// high bit), or three or more of one size. Random bytes pass this about
/// one time in thirty at 16 bytes, one in three hundred at 32.
fn plausible_varints(data: &[u8], count: usize, fits_32_bits: bool, same_length: bool) -> bool {
    if !fits_32_bits {
        return false;
    }
    let high = data.iter().filter(|b| **b >= 0x80).count();
    high * 4 <= data.len() || (count >= 3 && same_length)
}

/// A float reading of a fixed-width value, when it looks like a real number.
fn plausible_float(v: f64) -> Option<f64> {
    (v == 0.0 || (v.is_finite() && (1e-6..1e15).contains(&v.abs()))).then_some(v)
}

/// The float reading `guess` offers for a 32-bit value.
pub fn f32_reading(bits: u32, guess: Guess) -> Option<f64> {
    let v = f64::from(f32::from_bits(bits));
    match guess {
        Guess::None => None,
        Guess::Some => plausible_float(v),
        Guess::All => Some(v),
    }
}

/// The float reading `guess` offers for a 64-bit value.
pub fn f64_reading(bits: u64, guess: Guess) -> Option<f64> {
    let v = f64::from_bits(bits);
    match guess {
        Guess::None => None,
        Guess::Some => plausible_float(v),
        Guess::All => Some(v),
    }
}

/// Renders like `protoc --decode_raw`, with extra readings as `#` comments;
/// with `cap`, strings and bytes are cut after that many bytes.
pub struct TextOptions {
    pub guess: Guess,
    pub cap: Option<usize>,
}

/// The text of a message checked with [`check`].
pub fn to_text(buf: &[u8], opts: &TextOptions) -> String {
    let mut out = String::new();
    append_text(buf, 0, 0, opts, &mut out);
    out
}

/// Appends the text of a checked message at `indent` (two spaces each).
pub fn append_text(buf: &[u8], indent: usize, depth: usize, opts: &TextOptions, out: &mut String) {
    let _ = write_text(buf, indent, depth, opts, out, &mut |_| Ok(()));
}

/// Text longer than this is handed to `flush` by [`write_text`].
const TEXT_PIECE: usize = 1 << 16;

/// Appends the text of a checked message at `indent` (two spaces each),
/// handing `out` to `flush` whenever it has grown large.
pub fn write_text(
    buf: &[u8],
    indent: usize,
    depth: usize,
    opts: &TextOptions,
    out: &mut String,
    flush: &mut dyn FnMut(&mut String) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for f in Fields::at_depth(buf, depth).map_while(Result::ok) {
        if out.len() >= TEXT_PIECE {
            flush(out)?;
        }
        pad(out, indent);
        let n = f.number;
        match f.value {
            RawValue::Varint(v) => {
                let _ = write!(out, "{n}: {v}");
                if v > i64::MAX as u64 && opts.guess != Guess::None {
                    let _ = write!(out, "  # {} as int64", v as i64);
                }
            }
            RawValue::I32(v) => {
                let _ = write!(out, "{n}: 0x{v:08x}");
                if let Some(x) = f32_reading(v, opts.guess) {
                    let _ = write!(out, "  # {} as float", format_float(x as f32));
                }
            }
            RawValue::I64(v) => {
                let _ = write!(out, "{n}: 0x{v:016x}");
                if let Some(x) = f64_reading(v, opts.guess) {
                    let _ = write!(out, "  # {} as double", format_double(x));
                }
            }
            RawValue::Len(data) => match read_len(data, depth) {
                LenReading::Message => {
                    let _ = writeln!(out, "{n} {{");
                    write_text(data, indent + 1, depth + 1, opts, out, flush)?;
                    pad(out, indent);
                    out.push('}');
                }
                reading => {
                    let (shown, more) = capped(data, opts.cap);
                    let _ = write!(out, "{n}: \"");
                    // Escaped a piece at a time, handed on as it grows: a
                    // value may be most of the input.
                    for piece in shown.chunks(TEXT_PIECE) {
                        c_escape_into(piece, out);
                        if out.len() >= TEXT_PIECE {
                            flush(out)?;
                        }
                    }
                    out.push('"');
                    if let Some(more) = more {
                        let _ = write!(out, "  # … {more} more bytes");
                    } else if reading == LenReading::Bytes {
                        let cap = opts.cap.unwrap_or(READING_BYTES);
                        if let Some(p) = packed_reading(data, opts.guess, cap) {
                            let _ = write!(out, "  # {p}");
                        }
                    }
                }
            },
            RawValue::Group(data) => {
                let _ = writeln!(out, "{n} {{");
                write_text(data, indent + 1, depth + 1, opts, out, flush)?;
                pad(out, indent);
                out.push('}');
            }
        }
        out.push('\n');
    }
    Ok(())
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// `data` cut after `cap` bytes, and how many were left out.
pub fn capped(data: &[u8], cap: Option<usize>) -> (&[u8], Option<usize>) {
    match cap {
        Some(c) if data.len() > c => (&data[..c], Some(data.len() - c)),
        _ => (data, None),
    }
}

/// Appends a checked message as a JSON object keyed by field number, in
/// number order; a number seen more than once is an array. Bytes that are
/// neither text nor a message appear as hex strings; 64-bit values beyond
/// 2^53 as decimal strings.
pub fn write_json(buf: &[u8], pretty: bool, out: &mut Vec<u8>) {
    let _ = write_json_flushing(buf, pretty, out, &mut |_| Ok(()));
}

/// [`write_json`], handing `out` to `flush` whenever it has grown large.
pub fn write_json_flushing(
    buf: &[u8],
    pretty: bool,
    out: &mut Vec<u8>,
    flush: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    Json { pretty, out, flush }.object(buf, 0, 0)
}

/// JSON output: `level` is the indentation, `depth` the nesting of messages.
struct Json<'o> {
    pretty: bool,
    out: &'o mut Vec<u8>,
    flush: &'o mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<()>,
}

/// Field number and offset packed in 8 bytes, so sorting orders by number
/// and keeps the wire order of each number (offsets up to 32 GiB).
fn index_key(number: u32, at: usize) -> u64 {
    (u64::from(number) << 35) | at as u64
}

impl Json<'_> {
    fn newline(&mut self, level: usize) {
        if self.pretty {
            self.out.push(b'\n');
            for _ in 0..level {
                self.out.extend_from_slice(b"  ");
            }
        }
    }

    fn object(&mut self, buf: &[u8], depth: usize, level: usize) -> std::io::Result<()> {
        // Fields in number order, keeping the wire order of each number's
        // values: an index of the fields, sorted, not a tree.
        let mut index: Vec<u64> = Vec::new();
        let mut fields = Fields::at_depth(buf, depth);
        loop {
            let at = fields.offset();
            match fields.next() {
                Some(Ok(f)) => index.push(index_key(f.number, at)),
                _ => break,
            }
        }
        index.sort_unstable();
        let number_of = |k: u64| (k >> 35) as u32;
        let offset_of = |k: u64| (k & ((1 << 35) - 1)) as usize;
        self.out.push(b'{');
        let mut i = 0;
        while i < index.len() {
            let number = number_of(index[i]);
            let run = index[i..]
                .iter()
                .take_while(|k| number_of(**k) == number)
                .count();
            if i > 0 {
                self.out.push(b',');
            }
            self.newline(level + 1);
            let _ = write!(VecWriter(self.out), "\"{number}\":");
            if self.pretty {
                self.out.push(b' ');
            }
            if run > 1 {
                self.out.push(b'[');
            }
            let value_level = if run > 1 { level + 2 } else { level + 1 };
            for (k, key) in index[i..i + run].iter().enumerate() {
                if k > 0 {
                    self.out.push(b',');
                }
                if run > 1 {
                    self.newline(value_level);
                }
                if let Some(Ok(f)) = Fields::at_depth(&buf[offset_of(*key)..], depth).next() {
                    self.value(f.value, depth, value_level)?;
                }
                if self.out.len() >= TEXT_PIECE {
                    (self.flush)(self.out)?;
                }
            }
            if run > 1 {
                self.newline(level + 1);
                self.out.push(b']');
            }
            i += run;
        }
        if !index.is_empty() {
            self.newline(level);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn value(&mut self, value: RawValue<'_>, depth: usize, level: usize) -> std::io::Result<()> {
        match value {
            RawValue::Varint(v) | RawValue::I64(v) => {
                if v <= 1u64 << 53 {
                    let _ = write!(VecWriter(self.out), "{v}");
                } else {
                    let _ = write!(VecWriter(self.out), "\"{v}\"");
                }
            }
            RawValue::I32(v) => {
                let _ = write!(VecWriter(self.out), "{v}");
            }
            RawValue::Len(data) => match read_len(data, depth) {
                LenReading::Text(s) => {
                    serde_json::to_writer(&mut *self.out, s).expect("writing to a Vec");
                }
                LenReading::Message => return self.object(data, depth + 1, level),
                LenReading::Bytes => {
                    self.out.push(b'"');
                    let start = self.out.len();
                    self.out.resize(start + data.len() * 2, 0);
                    hex::encode_to_slice(data, &mut self.out[start..]).expect("sized for the hex");
                    self.out.push(b'"');
                }
            },
            RawValue::Group(data) => return self.object(data, depth + 1, level),
        }
        Ok(())
    }
}

/// `write!` into a `Vec<u8>` without going through `io::Write`'s errors.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &[u8]) -> String {
        check(buf).unwrap();
        to_text(
            buf,
            &TextOptions {
                guess: Guess::Some,
                cap: None,
            },
        )
    }

    fn json(buf: &[u8]) -> String {
        let mut out = Vec::new();
        write_json(buf, false, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn nested_messages_strings_and_numbers_are_told_apart() {
        // {1: 150, 2: {1: "testing"}, 3: "hello world"}
        let mut buf = vec![0x08, 0x96, 0x01, 0x12, 0x09, 0x0a, 0x07];
        buf.extend_from_slice(b"testing");
        buf.extend_from_slice(&[0x1a, 11]);
        buf.extend_from_slice(b"hello world");
        assert_eq!(
            text(&buf),
            "1: 150\n2 {\n  1: \"testing\"\n}\n3: \"hello world\"\n"
        );
        assert_eq!(
            json(&buf),
            r#"{"1":150,"2":{"1":"testing"},"3":"hello world"}"#
        );
    }

    #[test]
    fn packed_varints_are_offered_as_a_reading() {
        // field 4, bytes 03 8e 02 9e a7 05 (packed 3, 270, 86942): half the
        // bytes have the high bit, as in random bytes: offered only with All.
        let buf = [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05];
        assert_eq!(text(&buf), "4: \"\\003\\216\\002\\236\\247\\005\"\n");
        let all = to_text(
            &buf,
            &TextOptions {
                guess: Guess::All,
                cap: None,
            },
        );
        assert_eq!(
            all,
            "4: \"\\003\\216\\002\\236\\247\\005\"  # packed varints? [3, 270, 86942]\n"
        );
        // A device's small numbers are offered by default.
        let buf = [0x22, 0x04, 0x01, 0x05, 0x7f, 0x03];
        assert_eq!(
            text(&buf),
            "4: \"\\001\\005\\177\\003\"  # packed varints? [1, 5, 127, 3]\n"
        );
    }

    #[test]
    fn a_packed_reading_keeps_the_values_of_the_bytes_shown_and_counts_the_rest() {
        let data = [5u8; 1000];
        let p = packed_reading(&data, Guess::Some, 4).unwrap();
        assert_eq!((p.kind, p.count), (PackedKind::Varints, 1000));
        assert_eq!(p.to_string(), "packed varints? [5, 5, 5, 5, … (996 more)]");
        let floats: Vec<u8> = [1.5f32, 2.5, 3.5]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let p = packed_reading(&floats, Guess::Some, 8).unwrap();
        assert_eq!(p.to_string(), "packed floats? [1.5, 2.5, … (1 more)]");
        let p = packed_reading(&floats, Guess::Some, 0).unwrap();
        assert_eq!(p.to_string(), "packed floats? [… (3 more)]");
        let p = packed_reading(&floats, Guess::Some, READING_BYTES).unwrap();
        assert_eq!(p.to_string(), "packed floats? [1.5, 2.5, 3.5]");
    }

    #[test]
    fn random_keys_and_uuids_rarely_get_a_packed_reading() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut offered = 0;
        for _ in 0..1000 {
            let bytes: Vec<u8> = (0..16)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            offered += usize::from(packed_reading(&bytes, Guess::Some, READING_BYTES).is_some());
        }
        assert!(offered < 45, "{offered} of 1000 random 16-byte values");
    }

    #[test]
    fn fixed_width_values_show_float_readings() {
        let mut buf = vec![0x0d];
        buf.extend_from_slice(&1.5f32.to_le_bytes());
        assert_eq!(text(&buf), "1: 0x3fc00000  # 1.5 as float\n");
        let none = to_text(
            &buf,
            &TextOptions {
                guess: Guess::None,
                cap: None,
            },
        );
        assert_eq!(none, "1: 0x3fc00000\n");
    }

    #[test]
    fn json_orders_numbers_as_numbers_and_gathers_repeats() {
        // 10: 1, 2: 5, 10: 2, 1: "a"
        let buf = [0x50, 0x01, 0x10, 0x05, 0x50, 0x02, 0x0a, 0x01, b'a'];
        assert_eq!(json(&buf), r#"{"1":"a","2":5,"10":[1,2]}"#);
    }

    /// `n` messages nested in field 1, built outside-in in O(n).
    fn nested(n: usize) -> Vec<u8> {
        let mut lens = vec![0u64];
        for k in 0..n {
            let inner = lens[k];
            let mut v = Vec::new();
            wire::write_varint(&mut v, inner);
            lens.push(1 + v.len() as u64 + inner);
        }
        let mut out = Vec::new();
        for k in (0..n).rev() {
            out.push(0x0a);
            wire::write_varint(&mut out, lens[k]);
        }
        out
    }

    #[test]
    fn deep_nesting_stops_at_the_limit_without_overflow() {
        let buf = nested(100_000);
        check(&buf).unwrap();
        assert!(text(&buf).lines().count() > 100);
        let groups = [0x0b].repeat(100_000);
        assert!(check(&groups).unwrap_err().message.contains("deeper than"));
    }

    #[test]
    fn garbage_is_an_error_with_an_offset() {
        let e = check(&[0x08, 0x96]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(check(&[0x0f]).is_err());
        assert!(
            check(&[0x0b, 0x08, 0x01])
                .unwrap_err()
                .message
                .contains("inside group 1")
        );
        assert!(
            check(&[0x0b, 0x14])
                .unwrap_err()
                .message
                .contains("end of group 2")
        );
        assert_eq!(json(&[0x0b, 0x08, 0x01, 0x0c]), r#"{"1":{"1":1}}"#);
    }
}
