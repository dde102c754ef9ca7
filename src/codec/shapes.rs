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

/// Decodes hex in any common shape into `out` (appending).
pub fn decode_hex_into(text: &str, out: &mut Vec<u8>) -> Result<(), ShapeError> {
    let bytes = text.as_bytes();
    // The common case, plain even-length hex, goes straight through.
    if bytes.len() % 2 == 0 && bytes.iter().all(u8::is_ascii_hexdigit) {
        let start = out.len();
        out.resize(start + bytes.len() / 2, 0);
        hex::decode_to_slice(bytes, &mut out[start..]).map_err(|e| ShapeError {
            column: 0,
            message: e.to_string(),
        })?;
        return Ok(());
    }
    let mut i = 0;
    let mut high: Option<(u8, usize)> = None;
    let mut token_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if is_separator(b) {
            if let Some((_, col)) = high {
                return Err(ShapeError {
                    column: col,
                    message: "odd number of hex digits before a separator".into(),
                });
            }
            token_start = true;
            i += 1;
            continue;
        }
        // `0x` starts a token; `\x` may also run on (`\x0a\x24`).
        if ((token_start && b == b'0') || b == b'\\')
            && matches!(bytes.get(i + 1), Some(b'x' | b'X'))
            && high.is_none()
        {
            i += 2;
            token_start = false;
            continue;
        }
        token_start = false;
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ShapeError {
                    column: text[..i].chars().count() + 1,
                    message: format!("{ch:?} is not a hex digit"),
                });
            }
        };
        match high.take() {
            None => high = Some((nibble, text[..i].chars().count() + 1)),
            Some((h, _)) => out.push((h << 4) | nibble),
        }
        i += 1;
    }
    if let Some((_, col)) = high {
        return Err(ShapeError {
            column: col,
            message: "odd number of hex digits".into(),
        });
    }
    Ok(())
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
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not; whitespace is ignored.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, ShapeError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let engine = if compact.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine.decode(compact.as_bytes()).map_err(|e| ShapeError {
        column: match e {
            base64::DecodeError::InvalidByte(at, _) => at + 1,
            _ => 0,
        },
        message: format!("invalid base64: {e}"),
    })
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
}
