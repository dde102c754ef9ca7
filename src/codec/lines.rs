//! Lines of text input, ended by LF, CR or CRLF (files from every platform
//! and serial terminals), handed out in the pieces the reader's buffer holds
//! so that a line of any length is never copied whole.

use std::io::{self, BufRead};

use super::shapes::{Base64Decoder, HexDecoder, ShapeError};

/// The UTF-8 byte order mark some editors put at the start of a file.
pub const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads lines from `inner`; see [`Lines::next_line`].
pub struct Lines<R> {
    inner: R,
    /// The last line ended with CR: an LF right after it belongs to it.
    after_cr: bool,
    /// Lines read so far (the number of the last one).
    pub number: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            after_cr: false,
            number: 0,
        }
    }

    /// Reads the next line, giving its text (without the line end) to
    /// `piece` in one or more pieces; `false` at the end of the input.
    pub fn next_line(&mut self, mut piece: impl FnMut(&[u8])) -> io::Result<bool> {
        let mut any = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if any {
                    self.number += 1;
                }
                return Ok(any);
            }
            let mut start = 0;
            if self.after_cr {
                self.after_cr = false;
                if buf[0] == b'\n' {
                    start = 1;
                }
            }
            match buf[start..].iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(k) => {
                    let end = start + k;
                    piece(&buf[start..end]);
                    let mut used = end + 1;
                    if buf[end] == b'\r' {
                        if used < buf.len() {
                            if buf[used] == b'\n' {
                                used += 1;
                            }
                        } else {
                            self.after_cr = true;
                        }
                    }
                    self.inner.consume(used);
                    self.number += 1;
                    return Ok(true);
                }
                None => {
                    if start < buf.len() {
                        any = true;
                        piece(&buf[start..]);
                    }
                    let n = buf.len();
                    self.inner.consume(n);
                }
            }
        }
    }
}

/// What one line of hex or base64 held.
#[derive(Debug, PartialEq, Eq)]
pub enum LineContent {
    /// Nothing but whitespace: skipped.
    Blank,
    /// `-` alone: the empty message (zero bytes), which has no hex digits.
    EmptyMessage,
    /// The bytes of one message (in the buffer given).
    Message,
}

/// Decodes one line of hex or base64 as its pieces arrive.
pub struct LineDecoder {
    inner: Inner,
    error: Option<ShapeError>,
}

enum Inner {
    Hex(HexDecoder),
    Base64(Base64Decoder),
}

impl LineDecoder {
    pub fn new(hex: bool) -> LineDecoder {
        LineDecoder {
            inner: if hex {
                Inner::Hex(HexDecoder::new())
            } else {
                Inner::Base64(Base64Decoder::new())
            },
            error: None,
        }
    }

    /// Decodes a piece of the line onto `out`; after an error the rest of
    /// the line is ignored.
    pub fn feed(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if self.error.is_some() {
            return;
        }
        let result = match &mut self.inner {
            Inner::Hex(d) => d.feed(text, out),
            Inner::Base64(d) => d.feed(text, out),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Ends the line: what it held, or why it is not hex (or base64).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<LineContent, ShapeError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let (significant, first) = match &self.inner {
            Inner::Hex(d) => (d.significant, d.first),
            Inner::Base64(d) => (d.significant, d.first),
        };
        match (significant, first) {
            (0, _) => return Ok(LineContent::Blank),
            (1, Some(b'-')) => return Ok(LineContent::EmptyMessage),
            _ => {}
        }
        match &mut self.inner {
            Inner::Hex(d) => {
                d.finish(out)?;
                if d.digits == 0 {
                    return Err(ShapeError {
                        column: 0,
                        message: "the line holds no hex digits (an empty message is written '-')"
                            .into(),
                    });
                }
            }
            Inner::Base64(d) => d.finish(out)?,
        }
        Ok(LineContent::Message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], buffer: usize) -> Vec<String> {
        let mut l = Lines::new(io::BufReader::with_capacity(buffer, input));
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            if !l.next_line(|p| line.extend_from_slice(p)).unwrap() {
                return out;
            }
            out.push(String::from_utf8(line).unwrap());
        }
    }

    #[test]
    fn lf_cr_and_crlf_all_end_lines_whatever_the_buffer_size() {
        let input = b"a\nb\rc\r\nd\r\re";
        for buffer in 1..16 {
            assert_eq!(
                lines(input, buffer),
                ["a", "b", "c", "d", "", "e"],
                "{buffer}"
            );
        }
        assert_eq!(lines(b"a\r\n", 2), ["a"]);
        assert_eq!(lines(b"", 4), Vec::<String>::new());
        assert_eq!(lines(b"\n", 4), [""]);
    }

    #[test]
    fn a_dash_alone_is_the_empty_message_and_blank_lines_are_nothing() {
        let content = |hex: bool, text: &str| {
            let mut d = LineDecoder::new(hex);
            let mut out = Vec::new();
            d.feed(text.as_bytes(), &mut out);
            d.finish(&mut out).map(|c| (c, out))
        };
        for hex in [true, false] {
            assert_eq!(content(hex, " - ").unwrap().0, LineContent::EmptyMessage);
            assert_eq!(content(hex, "  \t").unwrap().0, LineContent::Blank);
        }
        assert_eq!(
            content(true, "08 01").unwrap(),
            (LineContent::Message, vec![8, 1])
        );
        assert!(
            content(true, "::")
                .unwrap_err()
                .message
                .contains("no hex digits")
        );
        assert!(content(true, "--").is_err());
    }
}
