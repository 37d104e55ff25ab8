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

pub mod admission;
pub mod json;
pub mod mutation;
pub mod settings;
pub mod trust;
pub mod trust_validation;

#[cfg(target_arch = "wasm32")]
mod abi;
