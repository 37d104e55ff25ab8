//! The policy module, loaded once and runnable through either ABI.
//!
//! [`Policy`] holds the module bytes; the compiled core [`Module`] (for waPC) and the
//! component (for WIT) are each made on first use and kept, so a caller that needs one ABI
//! never pays for the other. Compiling is the expensive part; with the engine's disk cache
//! (see [`crate::engine`]) a warm load takes milliseconds.
//!
//! Both runners take the policy's [`Limits`]. [`Policy::load`], [`Policy::embedded`] and
//! [`Policy::from_module_bytes`] run the module as a Kubewarden policy server does by
//! default: each evaluation is interrupted after [`KUBEWARDEN_TIMEOUT`]. A policy made with
//! [`Policy::from_bytes`] on the caller's engine has no limit unless given one with
//! [`Policy::with_limits`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::Error;
use crate::cluster::Cluster;
use crate::component::{WitInstance, WitPolicy, componentize};
use crate::engine::{EpochTicker, Limits};
use crate::wapc::{AdmissionAnswer, WapcInstance, WapcPolicy};

/// How long a Kubewarden policy server lets one evaluation run by default (its policy
/// timeout) before it interrupts the policy.
pub const KUBEWARDEN_TIMEOUT: Duration = Duration::from_secs(2);

/// The epoch tick of the engines this module makes: the resolution of the timeout.
const TICK: Duration = Duration::from_millis(10);

/// The annotated policy module this crate was built with (the module the build script
/// built, or `AWI_POLICY_WASM_OVERRIDE`, annotated with `policy-metadata.yml` and the
/// README). It is part of the binary, so a copied or installed `awi` needs no checkout.
pub static EMBEDDED_MODULE: &[u8] = include_bytes!(env!("AWI_POLICY_WASM"));

/// Where the build wrote [`EMBEDDED_MODULE`]; exists only on the machine that built this
/// crate (tests and benchmarks read it there).
pub fn default_module_path() -> PathBuf {
    PathBuf::from(env!("AWI_POLICY_WASM"))
}

/// One loaded policy module.
pub struct Policy {
    engine: Engine,
    bytes: Arc<[u8]>,
    limits: Limits,
    /// Ticks the engine's epoch while the policy lives, when its limits have a deadline.
    _ticker: Option<Arc<EpochTicker>>,
    module: OnceLock<Module>,
    wapc: OnceLock<WapcPolicy>,
    wit: OnceLock<WitPolicy>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// Reads the core module at `path`, for a new engine that caches compiled code in
    /// [`crate::engine::default_cache_dir`] (or nothing, when that directory is unusable).
    /// Each evaluation interrupted after [`KUBEWARDEN_TIMEOUT`], as a policy server does.
    pub fn load(path: &Path) -> Result<Policy, Error> {
        Policy::load_with(&default_engine()?, path).map(Policy::under_kubewarden_timeout)
    }

    /// The embedded module ([`EMBEDDED_MODULE`]), for a new engine as [`Policy::load`] makes,
    /// under the same timeout.
    pub fn embedded() -> Result<Policy, Error> {
        Policy::from_module_bytes(EMBEDDED_MODULE)
    }

    /// The core module in `bytes`, for a new engine as [`Policy::load`] makes, under the
    /// same timeout.
    pub fn from_module_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Policy, Error> {
        Policy::from_bytes(&default_engine()?, bytes).map(Policy::under_kubewarden_timeout)
    }

    /// The policy with `limits` on both runners (set before the first call).
    pub fn with_limits(mut self, limits: Limits) -> Policy {
        self.limits = limits;
        self
    }

    /// The limits both runners apply.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Kubewarden's default evaluation timeout, ticked by a thread of this policy's own.
    fn under_kubewarden_timeout(mut self) -> Policy {
        let ticks = (KUBEWARDEN_TIMEOUT.as_millis() / TICK.as_millis()) as u64;
        self._ticker = Some(Arc::new(EpochTicker::start(&self.engine, TICK)));
        self.with_limits(Limits::none().epoch_deadline(ticks))
    }

    /// The Kubewarden metadata in the module's `io.kubewarden.metadata` section (`None` for
    /// a module that was never annotated).
    pub fn metadata(&self) -> Result<Option<awi_metadata::Metadata>, Error> {
        awi_metadata::read(&self.bytes).map_err(|e| Error::Protocol(e.to_string()))
    }

    /// Reads the core module at `path`, for `engine`.
    pub fn load_with(engine: &Engine, path: &Path) -> Result<Policy, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_bytes(engine, bytes).map_err(|e| match e {
            Error::Protocol(message) => Error::Protocol(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// The core module in `bytes`, for `engine`. Only the preamble is checked here; the
    /// module is compiled (and fully validated) on first use.
    pub fn from_bytes(engine: &Engine, bytes: impl Into<Arc<[u8]>>) -> Result<Policy, Error> {
        let bytes = bytes.into();
        if is_component(&bytes) {
            return Err(Error::Protocol(
                "this is a component; awi needs the policy's core module (the file Kubewarden loads)"
                    .into(),
            ));
        }
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::Protocol("not a WebAssembly module".into()));
        }
        Ok(Policy {
            engine: engine.clone(),
            bytes,
            limits: Limits::none(),
            _ticker: None,
            module: OnceLock::new(),
            wapc: OnceLock::new(),
            wit: OnceLock::new(),
        })
    }

    /// The engine the policy was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The core module's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The compiled core module (compiled on first use).
    pub fn module(&self) -> Result<&Module, Error> {
        if let Some(m) = self.module.get() {
            return Ok(m);
        }
        let m = Module::new(&self.engine, &self.bytes)
            .map_err(|e| Error::runtime("compiling the policy module", e))?;
        Ok(self.module.get_or_init(|| m))
    }

    /// The module linked as a waPC guest (made on first use).
    pub fn wapc(&self) -> Result<&WapcPolicy, Error> {
        if let Some(p) = self.wapc.get() {
            return Ok(p);
        }
        let p = WapcPolicy::with_limits(&self.engine, self.module()?, self.limits)?;
        Ok(self.wapc.get_or_init(|| p))
    }

    /// The component made from the module, compiled and linked (made on first use).
    pub fn wit(&self) -> Result<&WitPolicy, Error> {
        if let Some(p) = self.wit.get() {
            return Ok(p);
        }
        let bytes = componentize(&self.bytes)?;
        let component = Component::new(&self.engine, &bytes)
            .map_err(|e| Error::runtime("compiling the component", e))?;
        let p = WitPolicy::with_limits(&self.engine, component, self.limits)?;
        Ok(self.wit.get_or_init(|| p))
    }

    /// The component bytes for other hosts (see [`componentize`]).
    pub fn component_bytes(&self) -> Result<Vec<u8>, Error> {
        componentize(&self.bytes)
    }

    /// A waPC guest instance reading cluster objects from `cluster`.
    pub fn wapc_instance(&self, cluster: Arc<dyn Cluster>) -> Result<WapcInstance, Error> {
        self.wapc()?.instantiate(cluster)
    }

    /// A component instance.
    pub fn wit_instance(&self) -> Result<WitInstance, Error> {
        self.wit()?.instantiate()
    }

    /// Runs `review` (AdmissionReview or bare AdmissionRequest) as Kubewarden does: waPC
    /// `validate` with `get_resource` answered by `cluster`, and the answer turned into the
    /// AdmissionReview Kubewarden returns. A guest error becomes Kubewarden's rejection
    /// with code 500.
    pub fn kubewarden_review(
        &self,
        settings: &Value,
        review: &Value,
        cluster: Arc<dyn Cluster>,
    ) -> Result<Value, Error> {
        Ok(self.kubewarden_review_logged(settings, review, cluster)?.0)
    }

    /// [`Policy::kubewarden_review`], with the records the guest logged during the call
    /// (`kubewarden/tracing/log`, as policy-server receives them).
    pub fn kubewarden_review_logged(
        &self,
        settings: &Value,
        review: &Value,
        cluster: Arc<dyn Cluster>,
    ) -> Result<(Value, Vec<Value>), Error> {
        let instance = self.wapc_instance(cluster)?;
        let answer = match instance.validate(settings, review) {
            Ok(answer) => answer,
            Err(Error::Guest { message, .. }) => crate::wapc::ValidationResponse {
                accepted: false,
                message: Some(format!("internal server error: {message}")),
                code: Some(500),
                mutated_object: None,
                audit_annotations: None,
                warnings: None,
            },
            Err(e) => return Err(e),
        };
        Ok((answer.admission_review(review)?, instance.logs()))
    }
}

/// An engine with epoch interruption that caches compiled code in
/// [`crate::engine::default_cache_dir`]; an unusable cache directory (read-only home, …)
/// only costs speed, never the run.
fn default_engine() -> Result<Engine, Error> {
    use crate::engine::new_engine_with_epochs;
    new_engine_with_epochs(crate::engine::default_cache_dir().as_deref())
        .or_else(|_| new_engine_with_epochs(None))
}

/// Whether `bytes` is a component rather than a core module (the preamble's layer field).
fn is_component(bytes: &[u8]) -> bool {
    // Preamble: "\0asm", then a u16 version and a u16 layer; layer 1 is a component.
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convenience_constructors_run_under_kubewarden_timeout() {
        let policy = Policy::embedded().unwrap();
        assert_eq!(
            policy.limits().epoch_deadline,
            Some(200),
            "2 s in 10 ms ticks"
        );
        // The deadline is per call, so calls keep working while the ticker runs.
        let instance = policy
            .wapc_instance(Arc::new(crate::Objects::empty()))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(instance.protocol_version().unwrap(), "v1");

        let engine = crate::engine::new_engine(None).unwrap();
        let bare = Policy::from_bytes(&engine, EMBEDDED_MODULE).unwrap();
        assert_eq!(bare.limits(), Limits::none());
    }
}
