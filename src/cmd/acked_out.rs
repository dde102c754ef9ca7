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
    /// returns the tokens delivered. A record whole in the pipe of a reader
    /// that is still there but has not read it yet (a consumer that is
    /// stopped or busy) has been handed over as a write to a file is: the
    /// reader takes it when it goes on, so it counts as delivered (not
    /// counting it would have it printed twice, once from the pipe and once
    /// more when the broker sends it again). A record only partly written
    /// does not count, nor anything in the pipe of a reader that has gone.
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
                if self.kind == Kind::Pipe && self.writable().is_ok() && !self.gone {
                    done.extend(self.delivered_up_to(self.written));
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills two descriptors we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn read_some(fd: &OwnedFd, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        // SAFETY: reading into a buffer of n bytes.
        let got = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), n) };
        buf.truncate(got.max(0) as usize);
        buf
    }

    fn record(out: &mut AckedOut<u32>, text: &str, token: u32) {
        out.buf().extend_from_slice(text.as_bytes());
        out.end_record(token);
    }

    #[test]
    fn a_pipe_gets_one_record_at_a_time_and_delivery_waits_for_the_reader() {
        let (r, w) = pipe();
        let mut out = AckedOut::new(w.as_raw_fd());
        assert_eq!(out.kind, Kind::Pipe);
        record(&mut out, "one\n", 1);
        record(&mut out, "two\n", 2);
        record(&mut out, "three\n", 3);
        // Only the first record goes in; nothing is delivered yet.
        assert!(out.progress().unwrap().is_empty());
        assert!(out.progress().unwrap().is_empty());
        // A reader that takes part of a record has not taken it.
        assert_eq!(read_some(&r, 2), b"on");
        assert!(out.progress().unwrap().is_empty());
        // All of it: delivered, and the next record goes in alone.
        assert_eq!(read_some(&r, 100), b"e\n");
        assert_eq!(out.progress().unwrap(), vec![1]);
        assert_eq!(read_some(&r, 100), b"two\n");
        assert_eq!(out.progress().unwrap(), vec![2]);
        // The reader goes with "three" unread: never delivered.
        drop(r);
        assert!(out.progress().unwrap().is_empty());
        assert!(out.gone());
        assert!(out.finish(Duration::from_millis(50)).is_empty());
    }

    #[test]
    fn at_a_stop_a_record_whole_in_the_pipe_of_a_stalled_reader_is_handed_over() {
        let (r, w) = pipe();
        let mut out = AckedOut::new(w.as_raw_fd());
        record(&mut out, "one\n", 1);
        record(&mut out, "two\n", 2);
        assert!(out.progress().unwrap().is_empty());
        // The reader is there but reads nothing: "one" is in its pipe and
        // it will read it when it goes on; "two" was never written.
        assert_eq!(out.finish(Duration::from_millis(20)), vec![1]);
        assert_eq!(read_some(&r, 100), b"one\n");
        // Had the reader gone, nothing in its pipe would count.
        let (r, w) = pipe();
        let mut out = AckedOut::new(w.as_raw_fd());
        record(&mut out, "one\n", 1);
        assert!(out.progress().unwrap().is_empty());
        drop(r);
        assert!(out.finish(Duration::from_millis(20)).is_empty());
    }

    #[test]
    fn a_reader_that_took_a_record_and_left_still_counts_it() {
        let (r, w) = pipe();
        let mut out = AckedOut::new(w.as_raw_fd());
        record(&mut out, "one\n", 1);
        record(&mut out, "two\n", 2);
        assert!(out.progress().unwrap().is_empty());
        assert_eq!(read_some(&r, 100), b"one\n");
        // Like `head -1`: it read, printed and exited before we looked.
        drop(r);
        assert_eq!(out.progress().unwrap(), vec![1]);
        assert!(out.gone());
    }

    #[test]
    fn records_not_yet_written_can_be_dropped_and_the_rest_stay_whole() {
        let (r, w) = pipe();
        let mut out = AckedOut::new(w.as_raw_fd());
        record(&mut out, "keep-1\n", 1);
        record(&mut out, "drop-2\n", 2);
        record(&mut out, "keep-3\n", 3);
        record(&mut out, "drop-4\n", 4);
        // "keep-1" is in the pipe: it cannot be taken back, even if asked.
        assert!(out.progress().unwrap().is_empty());
        assert_eq!(out.drop_unwritten(|t| t % 2 == 0 || *t == 1), 2);
        let mut seen = Vec::new();
        let mut delivered = Vec::new();
        // Read only what is there: each read finds the next record in.
        while delivered.len() < 2 {
            seen.extend(read_some(&r, 100));
            delivered.extend(out.progress().unwrap());
        }
        assert_eq!(String::from_utf8(seen).unwrap(), "keep-1\nkeep-3\n");
        assert_eq!(delivered, vec![1, 3]);
    }

    #[test]
    fn a_file_delivers_on_write() {
        let path = std::env::temp_dir().join(format!("acked-out-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let mut out = AckedOut::new(file.as_raw_fd());
        assert_eq!(out.kind, Kind::File);
        record(&mut out, "a\n", 1);
        record(&mut out, "b\n", 2);
        assert_eq!(out.progress().unwrap(), vec![1, 2]);
        assert!(!out.wants_writable());
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
        let _ = std::fs::remove_file(path);
    }
}
