//! Hex and base64 text as users paste it.
//!
//! Hex: upper or lower case, `0x` or `\x` prefixes, bytes separated by spaces,
//! tabs, `:`, `-` or `,` (the `0A 24 65 ...` style of older tools included).
//! Base64: standard or URL-safe alphabet, padded or not.

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Where and why a hex or base64 literal is bad (column is 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column > 0 {
            write!(f, "column {}: {}", self.column, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for ShapeError {}

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b':' | b'-' | b',' | b'\r')
}

/// Hex in any common shape, decoded as it arrives, so a line of any length
/// is never held as text (a 1 GB hex line needs its 0.5 GB of bytes, not
/// 1.5 GB). Feed the text in pieces of any size, then [`HexDecoder::finish`].
#[derive(Debug, Default)]
pub struct HexDecoder {
    /// The first digit of a byte, with its column.
    high: Option<(u8, usize)>,
    /// At the start of a token (after a separator or at the start).
    mid_token: bool,
    /// A `0` (at a token's start) or `\` waiting to see whether an `x`
    /// follows, with its column.
    held: Option<(u8, usize)>,
    /// Characters seen so far (for columns).
    column: usize,
    /// Hex digits seen.
    pub digits: usize,
    /// Characters that are not whitespace.
    pub significant: usize,
    /// The first of them.
    pub first: Option<u8>,
}

/// A hex digit's value, or 0xff for any other byte.
static NIBBLE: [u8; 256] = {
    let mut t = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

impl HexDecoder {
    pub fn new() -> HexDecoder {
        HexDecoder::default()
    }

    /// Decodes `text` (a piece of the whole) onto `out`.
    pub fn feed(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<(), ShapeError> {
        let mut i = 0;
        while i < text.len() {
            // The common case: a run of plain hex digits.
            if self.high.is_none() && self.held.is_none() && self.mid_token {
                // Pairs of digits decoded in one pass, until one is not.
                let start = out.len();
                out.reserve((text.len() - i) / 2);
                out.extend(text[i..].chunks_exact(2).map_while(|pair| {
                    let (h, l) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
                    ((h | l) < 16).then_some((h << 4) | l)
                }));
                let run = (out.len() - start) * 2;
                if run > 0 {
                    self.column += run;
                    self.digits += run;
                    self.significant += run;
                    i += run;
                    continue;
                }
            }
            let b = text[i];
            if b >= 0x80 {
                return Err(self.non_ascii(&text[i..]));
            }
            self.column += 1;
            self.byte(b, out)?;
            i += 1;
        }
        Ok(())
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) -> Result<(), ShapeError> {
        let col = self.column;
        if !b.is_ascii_whitespace() {
            self.significant += 1;
            self.first.get_or_insert(b);
        }
        if let Some((held, held_col)) = self.held.take() {
            if matches!(b, b'x' | b'X') {
                self.mid_token = true;
                return Ok(());
            }
            if held == b'\\' {
                return Err(not_a_digit('\\', held_col));
            }
            self.digit(0, held_col, out);
        }
        if is_separator(b) || b.is_ascii_whitespace() {
            if let Some((_, col)) = self.high {
                return Err(ShapeError {
                    column: col,
                    message: "odd number of hex digits before a separator".into(),
                });
            }
            self.mid_token = false;
            return Ok(());
        }
        // `0x` starts a token; `\x` may also run on (`\x0a\x24`).
        if self.high.is_none() && ((!self.mid_token && b == b'0') || b == b'\\') {
            self.held = Some((b, col));
            return Ok(());
        }
        self.mid_token = true;
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(not_a_digit(char::from(b), col)),
        };
        self.digit(nibble, col, out);
        Ok(())
    }

    fn digit(&mut self, nibble: u8, col: usize, out: &mut Vec<u8>) {
        self.mid_token = true;
        self.digits += 1;
        match self.high.take() {
            None => self.high = Some((nibble, col)),
            Some((h, _)) => out.push((h << 4) | nibble),
        }
    }

    /// The error for a byte of a multi-byte character (or of no character).
    fn non_ascii(&mut self, rest: &[u8]) -> ShapeError {
        let column = self.column + 1;
        let ch = rest
            .utf8_chunks()
            .next()
            .filter(|c| !c.valid().is_empty())
            .and_then(|c| c.valid().chars().next());
        match ch {
            Some(ch) => not_a_digit(ch, column),
            None => ShapeError {
                column,
                message: "the line is not text (use -i binary for raw bytes)".into(),
            },
        }
    }

    /// Ends the text: a digit left alone is an error.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ShapeError> {
        if let Some((held, col)) = self.held.take() {
            if held == b'\\' {
                return Err(not_a_digit('\\', col));
            }
            self.digit(0, col, out);
        }
        if let Some((_, col)) = self.high {
            return Err(ShapeError {
                column: col,
                message: "odd number of hex digits".into(),
            });
        }
        Ok(())
    }
}

fn not_a_digit(ch: char, column: usize) -> ShapeError {
    ShapeError {
        column,
        message: format!("{ch:?} is not a hex digit"),
    }
}

/// Decodes hex in any common shape into `out` (appending).
pub fn decode_hex_into(text: &str, out: &mut Vec<u8>) -> Result<(), ShapeError> {
    let mut d = HexDecoder::new();
    d.feed(text.as_bytes(), out)?;
    d.finish(out)
}

/// Decodes hex in any common shape.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, ShapeError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    decode_hex_into(text, &mut out)?;
    Ok(out)
}

/// True when `text` decodes as hex (and holds at least one digit).
pub fn looks_like_hex(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return false;
    }
    let mut scratch = Vec::new();
    decode_hex_into(t, &mut scratch).is_ok() && !scratch.is_empty()
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);

/// Standard or URL-safe base64, padded or not, whitespace ignored, decoded
/// in blocks as it arrives (like [`HexDecoder`]).
#[derive(Debug, Default)]
pub struct Base64Decoder {
    /// Characters not yet decoded (URL-safe ones turned standard).
    pending: Vec<u8>,
    /// Characters decoded before `pending`.
    done: usize,
    /// Characters that are not whitespace.
    pub significant: usize,
    /// The first of them.
    pub first: Option<u8>,
}

/// Undecoded base64 is decoded once this much is waiting.
const BASE64_BLOCK: usize = 1 << 16;

impl Base64Decoder {
    pub fn new() -> Base64Decoder {
        Base64Decoder::default()
    }

    pub fn feed(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<(), ShapeError> {
        for &b in text {
            if b.is_ascii_whitespace() {
                continue;
            }
            self.significant += 1;
            self.first.get_or_insert(b);
            self.pending.push(match b {
                b'-' => b'+',
                b'_' => b'/',
                b => b,
            });
        }
        if self.pending.len() >= BASE64_BLOCK && !self.pending.contains(&b'=') {
            let whole = self.pending.len() / 4 * 4;
            self.decode(whole, out)?;
        }
        Ok(())
    }

    fn decode(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), ShapeError> {
        STANDARD
            .decode_vec(&self.pending[..n], out)
            .map_err(|e| ShapeError {
                column: match e {
                    base64::DecodeError::InvalidByte(at, _) => self.done + at + 1,
                    _ => 0,
                },
                message: format!("invalid base64: {e}"),
            })?;
        self.pending.drain(..n);
        self.done += n;
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ShapeError> {
        self.decode(self.pending.len(), out)
    }
}

/// Decodes standard or URL-safe base64, padded or not; whitespace is ignored.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, ShapeError> {
    let mut d = Base64Decoder::new();
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    d.feed(text.as_bytes(), &mut out)?;
    d.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hex_shape_decodes_to_the_same_bytes() {
        let want = vec![0x0a, 0x24, 0x65, 0xff];
        for shape in [
            "0a2465ff",
            "0A2465FF",
            "0x0a2465ff",
            "0a 24 65 ff",
            "0A 24 65 FF",
            "0a:24:65:ff",
            "0a-24-65-ff",
            "0x0a 0x24 0x65 0xff",
            "0x0a, 0x24, 0x65, 0xff",
            "\\x0a\\x24\\x65\\xff",
            "  0a2465ff\r",
            "0x0a24 65ff",
            "0a2465ff",
        ] {
            assert_eq!(decode_hex(shape).unwrap(), want, "shape {shape:?}");
        }
    }

    #[test]
    fn bad_hex_names_the_column() {
        let err = decode_hex("0a 2g").unwrap_err();
        assert_eq!(err.column, 5);
        assert!(err.message.contains("'g'"), "{err}");
        assert!(decode_hex("0a2").unwrap_err().message.contains("odd"));
        assert!(decode_hex("0a 2 65").is_err());
    }

    #[test]
    fn base64_accepts_both_alphabets_and_missing_padding() {
        assert_eq!(decode_base64("CAE=").unwrap(), vec![8, 1]);
        assert_eq!(decode_base64("CAE").unwrap(), vec![8, 1]);
        assert_eq!(decode_base64("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64("CA*E").is_err());
    }

    #[test]
    fn hex_fed_in_pieces_of_any_size_decodes_the_same() {
        let text = "0x0a 0x24:65-FF \\x01\\x02 0123456789abcdef0123456789ABCDEF00";
        let want = decode_hex(text).unwrap();
        for size in 1..text.len() {
            let mut d = HexDecoder::new();
            let mut out = Vec::new();
            for piece in text.as_bytes().chunks(size) {
                d.feed(piece, &mut out).unwrap();
            }
            d.finish(&mut out).unwrap();
            assert_eq!(out, want, "pieces of {size}");
        }
    }

    #[test]
    fn non_ascii_in_hex_is_named_or_said_to_be_binary() {
        let err = decode_hex("0aé").unwrap_err();
        assert_eq!(err.column, 3);
        assert!(err.message.contains("'é'"), "{err}");
        let mut out = Vec::new();
        let err = HexDecoder::new().feed(b"0a\xff\xfe", &mut out).unwrap_err();
        assert!(err.message.contains("not text"), "{err}");
    }

    #[test]
    fn long_base64_decodes_in_blocks() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        let mut d = Base64Decoder::new();
        let mut out = Vec::new();
        for piece in text.as_bytes().chunks(1000) {
            d.feed(piece, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        assert_eq!(out, data);
    }
}
