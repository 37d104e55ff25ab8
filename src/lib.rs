//! # aws-workload-identity
//!
//! A Kubernetes admission policy that gives Pods AWS IAM roles (IRSA) on any cluster, and
//! checks IAM trust policies before they fail at run time. One `wasm32-wasip1` module runs
//! inside Kubewarden (waPC) and inside any wasmtime host (the WIT world in `wit/`).
//!
//! Layers, each importing only the ones above it in this list (the compiler enforces the
//! first boundary, since the engine is its own crate):
//!
//! 1. [`trust`] (crate `awi-trust`): the IAM trust-policy engine for
//!    `sts:AssumeRoleWithWebIdentity`, on its ground floor of JSON readers, Kubernetes name
//!    grammars and ARN facts;
//! 2. [`settings`]: the policy settings, plain data, and their validation;
//! 3. [`mutation`]: the Pod mutation of Amazon's pod identity webhook, on raw JSON;
//! 4. [`admission`]: one admission request in, one [`admission::Outcome`] out:
//!    [`admission::decide`], on [`admission::Prepared`] settings;
//! 5. [`kubewarden`]: Kubewarden's `validate` and `validate_settings` protocol, natively;
//! 6. `abi`: the waPC (Kubewarden) and WIT glue, compiled only for `wasm32`.
//!
//! The core does no I/O: the glue reads the objects named by [`admission::needs`] through
//! the lookup it hands to [`admission::decide`].

#![warn(missing_docs)]
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
