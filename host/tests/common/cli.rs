//! Running the `awi` binary in the end-to-end tests: from the repository root (so paths read
//! like the README's), with the compiled-code cache in a directory of its own.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate lives in the workspace")
        .to_path_buf()
}

/// `awi` run from the repository root, never with the developer's own registry credentials.
pub fn awi() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_awi"));
    cmd.current_dir(root())
        .env(
            "AWI_CACHE_DIR",
            root().join("target").join("awi-test-cache"),
        )
        .env(
            "DOCKER_CONFIG",
            root().join("target").join("no-docker-config"),
        );
    cmd
}

/// The README's main job: the bundled example review with its settings and ServiceAccount.
pub const EXAMPLE_REVIEW: &[&str] = &[
    "review",
    "examples/review.json",
    "--settings",
    "examples/settings.yaml",
    "--service-account",
    "examples/serviceaccount.yaml",
];

/// The bundled example review with more arguments, e.g. `--log`.
pub fn example_review_with<'a>(more: &[&'a str]) -> Vec<&'a str> {
    EXAMPLE_REVIEW.iter().chain(more).copied().collect()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run<S: AsRef<str>>(args: &[S]) -> Run {
    let output = awi()
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .expect("awi runs");
    Run {
        code: output.status.code().expect("awi exits with a code"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Success: exit 0, with both streams in the failure message.
pub fn assert_ok(args: &[&str]) -> Run {
    let r = run(args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r
}

/// Bad input: exit 2 and exactly one line on stderr that contains `needle`.
pub fn assert_bad_input<S: AsRef<str> + std::fmt::Debug>(args: &[S], needle: &str) {
    let r = run(args);
    assert_eq!(
        r.code, 2,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {:?}", r.stderr);
    assert!(r.stderr.starts_with("awi: "), "{args:?}: {}", r.stderr);
    assert!(
        r.stderr.contains(needle),
        "{args:?}: {:?} lacks {needle:?}",
        r.stderr
    );
}

/// A fresh directory under the target dir for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root()
        .join("target")
        .join("awi-test-scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `text` contains every one of `needles`; the failure names the first missing one.
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// A command line written as one string: `words("review r.json --diff")`. For arguments
/// without spaces only.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}
