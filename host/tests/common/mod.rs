//! Shared by the host's integration tests: one engine and one compiled policy per test
//! process, with compiled code cached under `target/wasmtime-cache`.

#![allow(dead_code)]

pub mod cli;

use std::path::PathBuf;
use std::sync::OnceLock;

use awi::Policy;

/// The workspace's `target/wasmtime-cache` (wiped by `cargo clean`).
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("wasmtime-cache")
}

/// The module built by `build.rs`, compiled once for the whole test process.
pub fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let engine = awi::new_engine(Some(&cache_dir())).expect("wasmtime engine");
        Policy::load_with(&engine, &awi::default_module_path()).expect("policy module")
    })
}
