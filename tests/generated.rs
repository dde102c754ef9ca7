//! Generated files checked into the repository must match what the current
//! code generates: completion scripts (`completions/`), man pages (`man/`)
//! and the embedded sample protocol (`proto/cvp.binpb`).
//!
//! `SNAPSHOTS=overwrite cargo test --test generated` rewrites them.

mod support;

use std::path::Path;

use commander::schema::{BUILTIN_DESCRIPTOR_SET, BUILTIN_WITH_COMMENTS, Schema};
use support::{repo, run};

fn overwrite() -> bool {
    std::env::var("SNAPSHOTS").is_ok_and(|v| v == "overwrite")
}

/// Compares `actual` with the checked-in file at `rel`, or rewrites it.
fn ensure_file_contents(rel: &str, actual: &[u8]) {
    let path = repo().join(rel);
    let current = std::fs::read(&path).unwrap_or_default();
    if current == actual {
        return;
    }
    if overwrite() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("rewrote {rel}");
        return;
    }
    panic!(
        "{rel} is stale: it differs from what the current code generates.\n\
         Run `SNAPSHOTS=overwrite cargo test --test generated` and commit the result."
    );
}

const SHELLS: &[(&str, &str)] = &[
    ("bash", "completions/commander.bash"),
    ("zsh", "completions/_commander"),
    ("fish", "completions/commander.fish"),
    ("elvish", "completions/commander.elv"),
    ("powershell", "completions/_commander.ps1"),
];

#[test]
fn completion_scripts_are_fresh() {
    for (shell, rel) in SHELLS {
        let r = run(&["completions", shell]);
        let script = r.ok();
        assert!(script.contains("commander"), "{shell}: {script}");
        ensure_file_contents(rel, r.raw_stdout.as_slice());
    }
}

#[test]
fn man_pages_are_fresh_and_undated() {
    let main = run(&["man"]);
    assert!(
        main.ok().starts_with(".ie \\n(.g .ds Aq"),
        "roff expected:\n{}",
        main.stdout
    );
    assert!(main.stdout.contains(".TH commander 1"), "{}", main.stdout);
    ensure_file_contents("man/commander.1", &main.raw_stdout);
    for sub in commander::cmd::man_page_names() {
        let page = run(&["man", &sub]);
        let text = page.ok();
        assert!(text.contains(&format!(".TH commander-{sub} 1")), "{text}");
        ensure_file_contents(&format!("man/commander-{sub}.1"), &page.raw_stdout);
    }
    // No dates: the files only change when the interface does.
    let th = main.stdout.lines().find(|l| l.starts_with(".TH")).unwrap();
    assert!(
        !th.contains(" 20") && !th.contains("\"20"),
        "a date in {th}"
    );
}

#[test]
fn man_refuses_an_unknown_page() {
    let r = run(&["man", "nosuch"]);
    assert!(
        r.fails_with(2).contains("no subcommand 'nosuch'"),
        "{}",
        r.stderr
    );
}

#[test]
fn embedded_sample_protocol_matches_its_sources() {
    for (comments, file, embedded) in [
        (false, "proto/cvp.binpb", BUILTIN_DESCRIPTOR_SET),
        (true, "proto/cvp.comments.binpb", BUILTIN_WITH_COMMENTS),
    ] {
        let compiled = Schema::compile_builtin(&repo().join("proto"), comments).unwrap();
        if compiled.as_slice() != embedded {
            // The binary embeds the file at build time: rewriting it takes a
            // rebuild to show, which the next `cargo test` does.
            ensure_file_contents(file, &compiled);
        }
        assert!(Path::new(&repo().join(file)).exists());
    }
}
