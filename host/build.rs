//! Builds the policy module (`wasm32-wasip1`, release) so that the host and its tests always
//! run the module of the current sources, annotates it as `kwctl annotate -m
//! policy-metadata.yml -u README.md` would (the `io.kubewarden.metadata` section Kubewarden
//! reads), and exports the annotated module's path as `AWI_POLICY_WASM`. That annotated
//! module is the build's product: `awi` embeds it, `awi module` writes it, `awi push`
//! publishes it.
//!
//! The nested cargo uses its own target dir (`target/guest`): it never waits on the outer
//! cargo's lock, and test, clippy and doc builds share one guest build. It inherits the
//! outer jobserver, so it competes for the same job slots instead of oversubscribing.
//! `AWI_POLICY_WASM_OVERRIDE=<file>` skips the build and uses a prebuilt module instead (as it
//! is when it is already annotated, annotated like a built one otherwise).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const GUEST_PACKAGE: &str = "aws-workload-identity";
const GUEST_TARGET: &str = "wasm32-wasip1";
const GUEST_ARTIFACT: &str = "aws_workload_identity";
const OVERRIDE_ENV: &str = "AWI_POLICY_WASM_OVERRIDE";
/// The metadata and the usage text `kwctl annotate -m ... -u ...` would be given.
const METADATA_FILE: &str = "policy-metadata.yml";
const USAGE_FILE: &str = "README.md";

/// Variables the outer cargo sets that must not leak into the nested build: host-target
/// flags, clippy's wrapper, and target selection/location of the outer build.
const SCRUBBED_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_PATH",
];

fn main() {
    println!("cargo::rerun-if-env-changed={OVERRIDE_ENV}");
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS");
    if let Some(path) = env::var_os(OVERRIDE_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            fail(&format!("{OVERRIDE_ENV}={} is not a file", path.display()));
        }
        println!("cargo::rerun-if-changed={}", path.display());
        annotate(&workspace_root(), &path);
        return;
    }

    let root = workspace_root();
    check_target_installed();

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = root.join("target").join("guest");
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args(["build", "--locked", "--release", "-p", GUEST_PACKAGE])
        .args(["--target", GUEST_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Build-script stdout is read as cargo directives; the nested output goes to stderr.
        .stdout(Stdio::null());
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo for the policy module: {e}")));
    if !status.success() {
        fail(&format!(
            "building the policy module failed ({status}); see the cargo output above"
        ));
    }

    let out = target_dir.join(GUEST_TARGET).join("release");
    let wasm = out.join(format!("{GUEST_ARTIFACT}.wasm"));
    if !wasm.is_file() {
        fail(&format!(
            "the policy build did not produce {}",
            wasm.display()
        ));
    }
    rerun_if_sources_change(&root, &out.join(format!("{GUEST_ARTIFACT}.d")));
    annotate(&root, &wasm);
}

fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fail("the host crate must live inside the workspace"))
}

/// Writes `wasm` annotated with the workspace's metadata and README into `OUT_DIR` and
/// exports its path as `AWI_POLICY_WASM`.
fn annotate(root: &Path, wasm: &Path) {
    let read = |path: &Path| {
        println!("cargo::rerun-if-changed={}", path.display());
        std::fs::read(path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())))
    };
    let module = read(wasm);
    // A prebuilt module that is already annotated (a release artifact) is used as it is.
    let annotated = if matches!(awi_metadata::read(&module), Ok(Some(_))) {
        module
    } else {
        let text = |file: &str| {
            String::from_utf8(read(&root.join(file)))
                .unwrap_or_else(|_| fail(&format!("{file} is not UTF-8")))
        };
        let metadata = awi_metadata::Metadata::from_yaml(&text(METADATA_FILE))
            .unwrap_or_else(|e| fail(&format!("{METADATA_FILE}: {e}")))
            .annotated(Some(&text(USAGE_FILE)));
        awi_metadata::annotate(&module, &metadata)
            .unwrap_or_else(|e| fail(&format!("annotating {}: {e}", wasm.display())))
    };
    let target =
        PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("annotated-policy.wasm");
    std::fs::write(&target, annotated)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", target.display())));
    println!("cargo::rustc-env=AWI_POLICY_WASM={}", target.display());
}

/// Reruns when a file the module was built from changes: every workspace file of cargo's
/// dep-info, plus what the dep-info cannot know (manifests, lock file, release profile, WIT).
fn rerun_if_sources_change(root: &Path, dep_info: &Path) {
    for fixed in ["Cargo.toml", "Cargo.lock", "wit"] {
        println!("cargo::rerun-if-changed={}", root.join(fixed).display());
    }
    let Ok(text) = std::fs::read_to_string(dep_info) else {
        // No dep-info: fall back to the whole source tree.
        println!("cargo::rerun-if-changed={}", root.join("src").display());
        return;
    };
    for dep in dep_info_paths(&text) {
        if dep.starts_with(root) && !dep.starts_with(root.join("target")) {
            println!("cargo::rerun-if-changed={}", dep.display());
        }
    }
}

/// The prerequisites of a Makefile-style dep-info file (`target: dep dep…`, spaces in
/// names escaped with a backslash).
fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for line in text.lines() {
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        let mut current = String::new();
        let mut chars = deps.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                }
                ' ' => {
                    if !current.is_empty() {
                        paths.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            paths.push(PathBuf::from(current));
        }
    }
    paths
}

/// The target must be installed for the nested build. rust-toolchain.toml names it, but
/// rustup adds a toolchain file's targets only when it installs the toolchain, so on a
/// machine with rustup's stable toolchain the build adds the target itself (for the
/// toolchain this build runs on, without updating it), once.
fn check_target_installed() {
    if target_installed() {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", GUEST_TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    // rustup's progress goes to stderr; stdout would be read as cargo directives.
    let added = rustup
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if added && target_installed() {
        println!(
            "cargo::warning=added the Rust target {GUEST_TARGET} (rust-toolchain.toml names it)"
        );
        return;
    }
    fail(&format!(
        "the Rust target {GUEST_TARGET} is not installed and could not be added; run `rustup \
         target add {GUEST_TARGET}` (or set {OVERRIDE_ENV} to a prebuilt policy module)"
    ));
}

fn target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .args(["--print", "target-libdir", "--target", GUEST_TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|dir| dir.is_dir())
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    println!("cargo::warning={message}");
    std::process::exit(1)
}
