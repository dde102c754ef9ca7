//! Waiting on sockets and pipes: poll(2), which a signal always interrupts
//! (whatever SA_RESTART says), so SIGINT/SIGTERM end every wait.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// What to wait for on one descriptor, and what came.
#[derive(Debug, Clone, Copy)]
pub struct Interest {
    pub fd: RawFd,
    pub read: bool,
    pub write: bool,
}

/// What one descriptor is ready for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    pub read: bool,
    pub write: bool,
    /// The other end is gone (a pipe without readers, a closed socket) or
    /// an error is pending: the next read or write says which.
    pub hangup: bool,
}

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    /// Readiness of each interest, in order.
    Ready(Vec<Ready>),
    TimedOut,
    /// A signal arrived.
    Interrupted,
}

/// Waits up to `timeout` until one of `interests` is ready.
pub fn wait(interests: &[Interest], timeout: Duration) -> io::Result<Waited> {
    let mut fds: Vec<libc::pollfd> = interests
        .iter()
        .map(|i| libc::pollfd {
            fd: i.fd,
            events: (if i.read { libc::POLLIN } else { 0 })
                | (if i.write { libc::POLLOUT } else { 0 }),
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // Round a sub-millisecond wait up: zero would be a busy loop.
    let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(Waited::Interrupted)
        } else {
            Err(e)
        };
    }
    if n == 0 {
        return Ok(Waited::TimedOut);
    }
    Ok(Waited::Ready(
        fds.iter()
            .map(|p| Ready {
                read: p.revents & libc::POLLIN != 0,
                write: p.revents & libc::POLLOUT != 0,
                hangup: p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0,
            })
            .collect(),
    ))
}

/// Waits on one descriptor.
pub fn wait_one(fd: RawFd, read: bool, write: bool, timeout: Duration) -> io::Result<Waited> {
    wait(&[Interest { fd, read, write }], timeout)
}

/// Sleeps up to `d`; a signal ends the sleep early (returns `false`).
pub fn sleep(d: Duration) -> bool {
    !matches!(wait(&[], d), Ok(Waited::Interrupted))
}

/// Installs `handler` for SIGINT and SIGTERM without SA_RESTART: a blocked
/// read or write returns EINTR, so the program notices the signal.
pub fn on_stop_signals(handler: extern "C" fn(libc::c_int)) {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid starting point; the handler
        // the caller gives must be async-signal-safe (it stores to an
        // atomic).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as libc::sighandler_t;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}
