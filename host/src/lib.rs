//! # awi — a wasmtime host of the aws-workload-identity policy module
//!
//! The policy ships as ONE `wasm32-wasip1` core module. Kubewarden loads it through waPC;
//! any other wasmtime host uses it through the WIT world in `wit/policy.wit`, after it has
//! been made into a component. This library runs both, on one [`wasmtime::Engine`]:
//!
//! - [`engine`]: the engine and its compiled-code disk cache, and the [`Limits`] (memory
//!   cap, epoch deadline) both runners take;
//! - [`policy`]: [`Policy`], the loaded module; [`default_module_path`] is the module this
//!   crate was built with;
//! - [`wapc`]: the waPC host (the `wapc` + `wasmtime-provider` crates Kubewarden uses) and
//!   Kubewarden's [`ValidationResponse`] → AdmissionResponse conversion ([`AdmissionAnswer`]);
//! - [`componentize`]: [`componentize()`] (core module → component);
//! - [`component`]: the WIT host: admission (`needs`, `review`, `validate-settings`) and the
//!   trust-policy engine (`check`, `lint`, `who`, `render`), on the trust engine's own
//!   records ([`Finding`], [`Severity`], [`Subject`], [`Verdict`] from `awi-trust`);
//! - [`cluster`]: [`Cluster`], where both ABIs read the objects the policy asks for, and
//!   [`Objects`], an in-memory cluster; [`ObjectRef`] is the policy's own (`awi_trust::k8s`);
//! - [`registry`]: the policy as Kubewarden's OCI artifact: [`Registry::push`] and
//!   [`Registry::pull`] with Kubewarden's `sources.yml` and Docker credentials.
//!
//! The annotated module the build produced is embedded as [`EMBEDDED_MODULE`]
//! ([`Policy::embedded`]); its Kubewarden metadata is read with [`awi_metadata`].
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn main() -> Result<(), awi::Error> {
//! let policy = awi::Policy::load(&awi::default_module_path())?;
//! let review: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("review.json").unwrap()).unwrap();
//! let cluster = Arc::new(awi::Objects::new(vec![/* ServiceAccounts */]));
//! // As Kubewarden would answer (waPC):
//! let answer = policy.kubewarden_review(&serde_json::json!({}), &review, cluster.clone())?;
//! // Through the WIT world:
//! let answer = policy.wit_instance()?.review("{}", &review.to_string(), &*cluster)?;
//! # Ok(()) }
//! ```
//!
//! Every fallible function returns [`Error`]; nothing here panics on input.

#![warn(missing_docs)]
// Nothing on an input path may panic; the unit tests may.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;

use serde_json::Value;

pub mod cluster;
pub mod component;
pub mod componentize;
pub mod engine;
pub mod identity;
pub mod policy;
pub mod registry;
pub mod wapc;

pub use awi_metadata;
pub use awi_trust::{Code, Finding, Severity, Subject, Verdict};
pub use cluster::{Cluster, ObjectRef, Objects};
pub use component::{Read, ReadError, Reviewed, WitInstance, WitPolicy};
pub use componentize::{componentize, wapc_stub_adapter};
pub use engine::{EpochTicker, Limits, default_cache_dir, new_engine, new_engine_with_epochs};
pub use policy::{EMBEDDED_MODULE, KUBEWARDEN_TIMEOUT, Policy, default_module_path};
pub use registry::{Credentials, Reference, Registry, RegistryError, Sources};
pub use wapc::{
    AdmissionAnswer, SettingsValidationResponse, ValidationResponse, WapcInstance, WapcPolicy,
};
/// The wasmtime this crate is built on, for callers that need its types.
pub use wasmtime;

/// What can go wrong while loading or running the policy. `path`, `context` and
/// `operation` say what was being done; `source`, `cause` and `message` what went wrong.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs, reason = "the fields are described once, above")]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// wasmtime could not compile, link or run the module (including traps).
    #[error("{context}: {cause:#}")]
    Runtime {
        context: String,
        cause: anyhow::Error,
    },
    /// The policy answered with an error: usually the input is not acceptable.
    #[error("{operation}: {message}")]
    Guest { operation: String, message: String },
    /// The policy's answer is not what the protocol says, or an input cannot be encoded.
    #[error("{0}")]
    Protocol(String),
}

impl Error {
    pub(crate) fn runtime(context: impl Into<String>, cause: impl Into<anyhow::Error>) -> Error {
        Error::Runtime {
            context: context.into(),
            cause: cause.into(),
        }
    }
}

/// The AdmissionRequest inside an AdmissionReview; anything else (a bare AdmissionRequest)
/// is returned as is.
pub fn admission_request(review: &Value) -> &Value {
    match review.get("request") {
        Some(request)
            if request.is_object()
                && review.get("kind").and_then(Value::as_str) == Some("AdmissionReview") =>
        {
            request
        }
        _ => review,
    }
}
