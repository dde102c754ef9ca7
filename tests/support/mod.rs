//! Helpers shared by the integration tests: running the built binary the way
//! a user does, finding the repository's files, and finding real peers
//! (protoc) that `.ci/run` installs.

#![allow(dead_code)]

pub mod broker;
pub mod proc;
pub mod random;
pub mod script;
pub mod webdriver;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real-world schema nobody here wrote, copied verbatim with its license
/// under `tests/data/corpus/NAME` (see the README there).
pub fn corpus(name: &str) -> PathBuf {
    repo().join("tests/data/corpus").join(name)
}

/// The binary under test, with a clean environment: no schema from the
/// caller's `COMMANDER_SCHEMA`, no backtraces, a fixed terminal width.
///
/// `COMMANDER_BIN=PATH` runs another build instead (an older commit's, to
/// see a regression test fail before its fix).
pub fn commander() -> Command {
    let bin = std::env::var_os("COMMANDER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_commander")),
        PathBuf::from,
    );
    let mut cmd = Command::new(bin);
    cmd.env_remove("COMMANDER_SCHEMA")
        .env("RUST_BACKTRACE", "0")
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .current_dir(repo());
    cmd
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: Vec<u8>,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit status and returns stderr.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "a panic is never an error message:\n{}",
            self.stderr
        );
        &self.stderr
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        raw_stdout: out.stdout,
    }
}

/// Runs `commander ARGS` with nothing on stdin.
pub fn run(args: &[&str]) -> Run {
    run_with(args, b"")
}

/// Runs `commander ARGS` with `stdin` piped in.
pub fn run_with(args: &[&str], stdin: &[u8]) -> Run {
    run_cmd(commander().args(args), stdin)
}

/// Runs a prepared command with `stdin` piped in.
pub fn run_cmd(cmd: &mut Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the commander binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // Write from a thread so a large input cannot deadlock against output.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("commander finishes");
    let _ = writer.join();
    finish(out)
}

/// A real peer program, such as `protoc`.
///
/// `.ci/run` (and `scripts/test`) install the peers and set
/// `COMMANDER_REQUIRE_PEERS=1`, so a missing peer fails the test there; a
/// bare `cargo test` on a fresh machine skips with a notice instead.
pub fn peer(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("COMMANDER_REQUIRE_PEERS").is_some_and(|v| v == "1") {
            panic!(
                "{name} is required (COMMANDER_REQUIRE_PEERS=1) but not on PATH; scripts/test installs it"
            );
        }
        eprintln!(
            "note: {name} not found; skipping the comparison with it (scripts/test installs it)"
        );
    }
    found
}

/// Runs a peer program with `stdin`, expecting success.
#[track_caller]
pub fn run_peer(program: &Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let r = run_cmd(Command::new(program).args(args), stdin);
    assert_eq!(
        r.code,
        0,
        "{} {:?} failed:\n{}",
        program.display(),
        args,
        r.stderr
    );
    r.raw_stdout
}

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("commander-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A message's bytes as commander writes them on a hex line: the empty
/// message, which has no hex digits, is `-` (issue 8).
pub fn hex_line(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "-".to_owned()
    } else {
        hex::encode(bytes)
    }
}

/// protoc's `--decode` text as commander prints it: the same, except that
/// a message with no fields set (no text at all from protoc) is the comment
/// `# empty message`, so a stream shows every message it holds (issue 8).
pub fn as_commander_text(protoc_text: &str) -> String {
    if protoc_text.is_empty() {
        commander::render::EMPTY_TEXT.to_owned()
    } else {
        protoc_text.to_owned()
    }
}
