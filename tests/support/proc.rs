//! A `commander` child process whose output is read as it comes, killed
//! when dropped (so a failing test leaves nothing running).

#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::commander;

/// How long a child may take to end after SIGINT/SIGTERM.
pub const STOP: Duration = Duration::from_secs(20);

/// A running `commander`: stdout and stderr collected by threads; killed on
/// drop if still running.
pub struct Proc {
    child: Option<Child>,
    what: String,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// How a child ended and what it printed.
#[derive(Debug)]
pub struct Done {
    /// None: ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn read_into(mut from: impl Read + Send + 'static, to: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            to.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Proc {
        let mut cmd: Command = commander();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the commander binary runs");
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            read_into(child.stdout.take().unwrap(), Arc::clone(&out)),
            read_into(child.stderr.take().unwrap(), Arc::clone(&err)),
        ];
        Proc {
            child: Some(child),
            what: format!("commander {}", args.join(" ")),
            out,
            err,
            readers,
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// Waits until `cond` holds (true), or `limit` passes or the process
    /// ends (false, unless `cond` then holds).
    pub fn wait_until(&mut self, limit: Duration, mut cond: impl FnMut(&Proc) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() > deadline || self.exited() {
                // The output may have come with the exit.
                std::thread::sleep(Duration::from_millis(50));
                return cond(self);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Like [`Proc::wait_until`], but a timeout kills the process and fails
    /// the test, saying what was awaited.
    #[track_caller]
    pub fn expect(&mut self, limit: Duration, what: &str, cond: impl FnMut(&Proc) -> bool) {
        if !self.wait_until(limit, cond) {
            let done = self.end_now();
            panic!(
                "`{}`: {what} did not happen within {limit:?} (exit {:?})\nstdout (end):\n{}\nstderr (end):\n{}",
                self.what,
                done.code,
                tail(&done.stdout, 20),
                tail(&done.stderr, 40)
            );
        }
    }

    pub fn signal(&self, sig: libc::c_int) {
        let pid = self.child.as_ref().expect("running").id() as libc::pid_t;
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// Waits up to `limit` for the process to end by itself; if it does
    /// not, kills it and fails the test.
    #[track_caller]
    pub fn finish(mut self, limit: Duration) -> Done {
        self.wait_until(limit, |_| false);
        if !self.exited() {
            let done = self.end_now();
            panic!(
                "`{}` did not end within {limit:?}\nstdout (end):\n{}\nstderr (end):\n{}",
                self.what,
                tail(&done.stdout, 20),
                tail(&done.stderr, 40)
            );
        }
        self.end_now()
    }

    /// Sends `sig`; the process must end within [`STOP`].
    #[track_caller]
    pub fn stop(self, sig: libc::c_int) -> Done {
        self.signal(sig);
        self.finish(STOP)
    }

    /// Kills the process if still running, reaps it, collects its output.
    pub fn end_now(&mut self) -> Done {
        let mut child = self.child.take().expect("not yet ended");
        if !matches!(child.try_wait(), Ok(Some(_))) {
            let _ = child.kill();
        }
        let status = child.wait().expect("wait");
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Done {
            code: status.code(),
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.end_now();
        }
    }
}
