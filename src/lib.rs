//! # aws-workload-identity
//!
//! A Kubernetes admission policy that gives Pods AWS IAM roles (IRSA) on any cluster, and
//! checks IAM trust policies before they fail at run time. One `wasm32-wasip1` module runs
//! inside Kubewarden (waPC) and inside any wasmtime host (the WIT world in `wit/`).
//!
//! The crate is a pure core with thin ABI glue around it:
//!
//! - [`settings`]: the policy settings and their validation;
//! - [`mutation`]: the Pod mutation of Amazon's pod identity webhook, on raw JSON;
//! - [`trust`]: the IAM trust-policy engine for `sts:AssumeRoleWithWebIdentity`;
//! - [`trust_validation`]: ServiceAccount role and trust checks at admission (SPEC section 3);
//! - [`admission`]: one admission request in, one decision out; what both ABIs call;
//! - `abi`: the waPC (Kubewarden) and WIT glue, compiled only for `wasm32`.
//!
//! The core does no I/O: the glue fetches the objects named by [`admission::needs`] and hands
//! them to [`admission::review`].

// Nothing on an input path may panic; the unit tests may.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod admission;
pub mod kubewarden;
pub mod mutation;
pub mod settings;

/// The trust-policy engine, its own crate ([`awi_trust`]); re-exported for the tests and for
/// callers of this crate.
pub use awi_trust as trust;

// The export attributes of both ABIs (`no_mangle`, `wit_bindgen::export!`) are unsafe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the ABI exports are unsafe attributes")]
mod abi;
