//! Standard output that says which records it has delivered, so a message
//! is acknowledged to its sender only once its record is out.
//!
//! Each record is appended with a token; [`AckedOut::progress`] writes what
//! it can without blocking and hands back the tokens of records delivered:
//! to a file or terminal, once written; to a pipe, once the reader has taken
//! them out of it. For a pipe the capacity is set to one page and a record
//! is written only into an empty pipe, so a reader that stops early
//! (`| head -1`) never takes a record it does not show, and every record it
//! did not take is still unacknowledged (the broker sends it again).
//! Nothing here blocks: the caller waits for [`AckedOut::wants_writable`]
//! with poll(2), which signals interrupt.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::transport::poll;

/// The most written in one go to a pipe or terminal: a pipe of one page
/// takes this much without blocking when empty.
const CHUNK: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A regular file or /dev/null: a write is delivery, and never waits
    /// for a reader.
    File,
    /// A pipe of one page: delivered once the pipe is empty again.
    Pipe,
    /// A terminal, socket, or a pipe whose size cannot be set: delivered
    /// once written, written in chunks when writable.
    Other,
}

pub(crate) struct AckedOut<T> {
    fd: RawFd,
    kind: Kind,
    /// Bytes not yet written; `buf[0]` is at stream offset `written`.
    buf: Vec<u8>,
    written: u64,
    /// Where the first record not yet delivered starts.
    delivered_end: u64,
    /// The reader has gone.
    gone: bool,
    /// End offsets of records not yet delivered, with their tokens.
    records: VecDeque<(u64, T)>,
}

impl<T> AckedOut<T> {
    /// Standard output.
    pub fn stdout() -> AckedOut<T> {
        AckedOut::new(1)
    }

    fn new(fd: RawFd) -> AckedOut<T> {
        AckedOut {
            fd,
            kind: kind_of(fd),
            buf: Vec::with_capacity(64 * 1024),
            written: 0,
            delivered_end: 0,
            gone: false,
            records: VecDeque::new(),
        }
    }

    /// Where the next record's bytes go; end it with [`AckedOut::end_record`].
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The bytes appended since the last record are one record, for `token`.
    pub fn end_record(&mut self, token: T) {
        self.records
            .push_back((self.written + self.buf.len() as u64, token));
    }

    /// Bytes held, not yet written.
    pub fn unwritten(&self) -> usize {
        self.buf.len()
    }

    /// Should the caller wait for the output to become writable (a pipe
    /// with records in it or to come, a terminal with bytes to take)?
    pub fn wants_writable(&self) -> bool {
        match self.kind {
            Kind::File => false,
            Kind::Pipe => !self.records.is_empty() || !self.buf.is_empty(),
            Kind::Other => !self.buf.is_empty(),
        }
    }

    /// Writes what can be written now and returns the tokens of the
    /// records delivered; when the reader has gone, [`AckedOut::gone`] says
    /// so (the records it took are still handed back).
    pub fn progress(&mut self) -> io::Result<Vec<T>> {
        match self.kind {
            Kind::File => {
                while !self.buf.is_empty() && !self.gone {
                    self.write_some(self.buf.len())?;
                }
            }
            Kind::Pipe => {
                // What the reader has taken: written, less what the pipe
                // still holds (known even after the reader has gone).
                let taken = self.written - self.in_pipe()?;
                let done = self.delivered_up_to(taken);
                if self.gone || !self.writable()? || taken < self.written {
                    return Ok(done);
                }
                // The pipe is empty: one record (or a page of it) goes in.
                if let Some(&(end, _)) = self.records.front() {
                    let upto = (end - self.written) as usize;
                    if upto > 0 {
                        self.write_some(upto.min(CHUNK))?;
                    }
                }
                return Ok(done);
            }
            Kind::Other => {
                while !self.buf.is_empty() && !self.gone && self.writable()? {
                    self.write_some(self.buf.len().min(CHUNK))?;
                }
            }
        }
        Ok(self.delivered_up_to(self.written))
    }

    /// Drops the records not yet written at all whose token `drop` picks
    /// (their messages come again); returns how many.
    pub fn drop_unwritten(&mut self, drop: impl Fn(&T) -> bool) -> usize {
        let mut begin = self.delivered_end;
        let mut buf = Vec::with_capacity(self.buf.len());
        let mut records = VecDeque::with_capacity(self.records.len());
        // Bytes dropped so far: later records move down by this much.
        let mut shift = 0;
        let mut dropped = 0;
        for (end, token) in self.records.drain(..) {
            let start = std::mem::replace(&mut begin, end);
            if start >= self.written && drop(&token) {
                dropped += 1;
                shift += end - start;
                continue;
            }
            // The bytes of this record still held (one partly written is
            // kept whole: it cannot be taken back).
            let from = start.max(self.written);
            if end > from {
                let a = (from - self.written) as usize;
                let b = (end - self.written) as usize;
                buf.extend_from_slice(&self.buf[a..b]);
            }
            records.push_back((end - shift, token));
        }
        self.buf = buf;
        self.records = records;
        dropped
    }

    /// Tries, for up to `grace`, to deliver what is held (at a stop);
    /// returns the tokens delivered.
    pub fn finish(&mut self, grace: Duration) -> Vec<T> {
        let until = Instant::now() + grace;
        let mut done = Vec::new();
        loop {
            match self.progress() {
                Ok(d) => done.extend(d),
                Err(_) => return done,
            }
            if self.records.is_empty() || self.gone {
                return done;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return done;
            }
            match poll::wait_one(self.fd, false, true, left.min(Duration::from_millis(50))) {
                Ok(poll::Waited::Ready(_)) | Ok(poll::Waited::TimedOut) => {}
                // A second signal: stop trying.
                Ok(poll::Waited::Interrupted) | Err(_) => return done,
            }
        }
    }

    /// Is the output writable now (for a one-page pipe: empty)? A reader
    /// that has gone sets [`AckedOut::gone`].
    fn writable(&mut self) -> io::Result<bool> {
        match poll::wait_one(self.fd, false, true, Duration::ZERO)? {
            poll::Waited::Ready(r) if r[0].hangup => {
                self.gone = true;
                Ok(false)
            }
            poll::Waited::Ready(r) => Ok(r[0].write),
            poll::Waited::TimedOut | poll::Waited::Interrupted => Ok(false),
        }
    }

    /// The bytes written to the pipe that its reader has not taken.
    fn in_pipe(&self) -> io::Result<u64> {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD stores an int; on a pipe it works from either end.
        if unsafe { libc::ioctl(self.fd, libc::FIONREAD, &mut n) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((n.max(0) as u64).min(self.written))
    }

    /// The reader has gone (a closed pipe or terminal): nothing more will
    /// be delivered.
    pub fn gone(&self) -> bool {
        self.gone
    }

    /// One write(2) of up to `len` held bytes.
    fn write_some(&mut self, len: usize) -> io::Result<()> {
        // SAFETY: the pointer and length describe initialised bytes of buf.
        let n = unsafe { libc::write(self.fd, self.buf.as_ptr().cast(), len) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(()),
                io::ErrorKind::BrokenPipe => {
                    self.gone = true;
                    Ok(())
                }
                _ => Err(e),
            };
        }
        let n = n as usize;
        self.buf.drain(..n);
        self.written += n as u64;
        Ok(())
    }

    fn delivered_up_to(&mut self, offset: u64) -> Vec<T> {
        let mut done = Vec::new();
        while let Some(&(end, _)) = self.records.front() {
            if end > offset {
                break;
            }
            self.delivered_end = end;
            done.extend(self.records.pop_front().map(|(_, t)| t));
        }
        done
    }
}

/// What kind of output `fd` is; a pipe is set to one page.
fn kind_of(fd: RawFd) -> Kind {
    // SAFETY: fstat fills the zeroed struct for a valid descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Kind::Other;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        // /dev/null and the like (a terminal is a character device too).
        libc::S_IFCHR if unsafe { libc::isatty(fd) } == 0 => Kind::File,
        libc::S_IFIFO => {
            // SAFETY: F_SETPIPE_SZ/F_GETPIPE_SZ on a pipe descriptor.
            let set = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, CHUNK as libc::c_int) };
            let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
            if set >= 0 && size == CHUNK as libc::c_int {
                Kind::Pipe
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    }
}
