//! Length-prefix framings for streams of messages (SPEC 4 and 5).

use std::fmt;
use std::io::{self, Read};

/// The largest message a frame may claim: protobuf's customary 64 MiB limit.
/// A prefix claiming more is an error, never an allocation.
pub const MAX_FRAME: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    /// Base-128 varint length, as `writeDelimitedTo` writes.
    Varint,
    U16Be,
    U32Be,
    U32Le,
}

impl Framing {
    /// Appends the length prefix for a message of `len` bytes.
    pub fn write_prefix(self, out: &mut Vec<u8>, len: usize) -> Result<(), FrameError> {
        let too_long = |max: u64| FrameError {
            offset: 0,
            message: format!("a {len}-byte message does not fit a {self} prefix (max {max})"),
        };
        match self {
            Framing::None => {}
            Framing::Varint => crate::wire::write_varint(out, len as u64),
            Framing::U16Be => {
                let v = u16::try_from(len).map_err(|_| too_long(u64::from(u16::MAX)))?;
                out.extend_from_slice(&v.to_be_bytes());
            }
            Framing::U32Be | Framing::U32Le => {
                let v = u32::try_from(len).map_err(|_| too_long(u64::from(u32::MAX)))?;
                if self == Framing::U32Be {
                    out.extend_from_slice(&v.to_be_bytes());
                } else {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Framing::None => "none",
            Framing::Varint => "varint",
            Framing::U16Be => "u16be",
            Framing::U32Be => "u32be",
            Framing::U32Le => "u32le",
        })
    }
}

/// A framing failure at byte `offset` of the stream; the stream cannot be
/// followed past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub offset: u64,
    pub message: String,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for FrameError {}

/// One message cut out of a framed stream; `offset` is where its prefix starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// Splits a byte stream into frames, reading only as much as each frame needs.
pub struct FrameReader<R> {
    inner: R,
    framing: Framing,
    offset: u64,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R, framing: Framing) -> Self {
        FrameReader {
            inner,
            framing,
            offset: 0,
            done: false,
        }
    }

    /// Reads one byte; `None` at end of input.
    fn byte(&mut self) -> io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(b[0])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the prefix: `Ok(None)` at a clean end of input.
    fn prefix(&mut self) -> Result<Option<u64>, FrameError> {
        let start = self.offset;
        let io_err = |e: io::Error| FrameError {
            offset: start,
            message: format!("read failed: {e}"),
        };
        let width = match self.framing {
            Framing::None => unreachable!("FrameReader needs a framing"),
            Framing::Varint => {
                let mut value: u64 = 0;
                for i in 0..10 {
                    let Some(b) = self.byte().map_err(io_err)? else {
                        if i == 0 {
                            return Ok(None);
                        }
                        return Err(FrameError {
                            offset: start,
                            message: "input ends inside a varint length prefix".into(),
                        });
                    };
                    self.offset += 1;
                    value |= u64::from(b & 0x7f) << (7 * i);
                    if b < 0x80 {
                        return Ok(Some(value));
                    }
                }
                return Err(FrameError {
                    offset: start,
                    message: "varint length prefix longer than 10 bytes".into(),
                });
            }
            Framing::U16Be => 2,
            Framing::U32Be | Framing::U32Le => 4,
        };
        let mut buf = [0u8; 4];
        for (i, slot) in buf.iter_mut().enumerate().take(width) {
            match self.byte().map_err(io_err)? {
                Some(b) => *slot = b,
                None if i == 0 => return Ok(None),
                None => {
                    return Err(FrameError {
                        offset: start,
                        message: format!(
                            "input ends inside a {}-byte {} length prefix",
                            width, self.framing
                        ),
                    });
                }
            }
            self.offset += 1;
        }
        Ok(Some(match self.framing {
            Framing::U16Be => u64::from(u16::from_be_bytes([buf[0], buf[1]])),
            Framing::U32Be => u64::from(u32::from_be_bytes(buf)),
            _ => u64::from(u32::from_le_bytes(buf)),
        }))
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<Frame, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.offset;
        let result = (|| {
            let Some(len) = self.prefix()? else {
                return Ok(None);
            };
            if len > MAX_FRAME {
                return Err(FrameError {
                    offset: start,
                    message: format!(
                        "{} length prefix claims {len} bytes, more than the {} MiB limit",
                        self.framing,
                        MAX_FRAME >> 20
                    ),
                });
            }
            let mut bytes = Vec::new();
            (&mut self.inner)
                .take(len)
                .read_to_end(&mut bytes)
                .map_err(|e| FrameError {
                    offset: start,
                    message: format!("read failed: {e}"),
                })?;
            self.offset += bytes.len() as u64;
            if (bytes.len() as u64) < len {
                return Err(FrameError {
                    offset: start,
                    message: format!(
                        "truncated frame: the prefix claims {len} bytes but only {} follow",
                        bytes.len()
                    ),
                });
            }
            Ok(Some(Frame {
                offset: start,
                bytes,
            }))
        })();
        match result {
            Ok(Some(frame)) => Some(Ok(frame)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framing: Framing, input: &[u8]) -> Vec<Result<Frame, FrameError>> {
        FrameReader::new(input, framing).collect()
    }

    #[test]
    fn every_framing_round_trips() {
        for framing in [
            Framing::Varint,
            Framing::U16Be,
            Framing::U32Be,
            Framing::U32Le,
        ] {
            let mut stream = Vec::new();
            for msg in [&b"\x08\x01"[..], b"", &[0x12; 300]] {
                framing.write_prefix(&mut stream, msg.len()).unwrap();
                stream.extend_from_slice(msg);
            }
            let got: Vec<Vec<u8>> = frames(framing, &stream)
                .into_iter()
                .map(|f| f.unwrap().bytes)
                .collect();
            assert_eq!(got, vec![vec![8, 1], vec![], vec![0x12; 300]], "{framing}");
        }
    }

    #[test]
    fn huge_prefix_is_an_error_not_an_allocation() {
        let mut stream = Vec::new();
        crate::wire::write_varint(&mut stream, 1 << 60);
        let got = frames(Framing::Varint, &stream);
        assert_eq!(got.len(), 1);
        let err = got[0].as_ref().unwrap_err();
        assert!(err.message.contains("1152921504606846976 bytes"), "{err}");
    }

    #[test]
    fn truncated_frame_reports_its_offset() {
        let got = frames(Framing::U16Be, b"\x00\x02\x08\x01\x00\x05\x08");
        assert_eq!(got[0].as_ref().unwrap().bytes, vec![8, 1]);
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.offset, 4);
        assert!(err.message.contains("claims 5 bytes but only 1"), "{err}");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn u16_prefix_refuses_long_messages() {
        assert!(
            Framing::U16Be
                .write_prefix(&mut Vec::new(), 70_000)
                .is_err()
        );
    }
}
