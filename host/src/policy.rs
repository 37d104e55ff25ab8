//! The policy module, loaded once and runnable through either ABI.
//!
//! [`Policy`] holds the module bytes and the compiled core [`Module`] (compiled at load),
//! plus the waPC linkage and the component, each made on first use and kept. Compiling is
//! the expensive part; with the engine's disk cache (see [`crate::engine`]) a warm load
//! takes milliseconds.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use wasmtime::{Engine, Module};

use crate::Error;
use crate::cluster::Cluster;
use crate::component::{WitInstance, WitPolicy, componentize};
use crate::wapc::{WapcInstance, WapcPolicy};

/// The policy module this crate was built with (`target/guest/…/aws_workload_identity.wasm`,
/// or `AWI_POLICY_WASM_OVERRIDE` at build time).
pub fn default_module_path() -> PathBuf {
    PathBuf::from(env!("AWI_POLICY_WASM"))
}

/// One loaded policy module.
pub struct Policy {
    engine: Engine,
    bytes: Arc<[u8]>,
    module: Module,
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
    /// Reads and compiles the core module at `path` with a new engine that caches compiled
    /// code in [`crate::engine::default_cache_dir`].
    pub fn load(path: &Path) -> Result<Policy, Error> {
        let engine = crate::engine::new_engine(crate::engine::default_cache_dir().as_deref())?;
        Policy::load_with(&engine, path)
    }

    /// Reads and compiles the core module at `path` with `engine`.
    pub fn load_with(engine: &Engine, path: &Path) -> Result<Policy, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_bytes(engine, bytes).map_err(|e| match e {
            Error::Runtime { context, cause } => Error::Runtime {
                context: format!("{}: {context}", path.display()),
                cause,
            },
            other => other,
        })
    }

    /// Compiles the core module in `bytes` with `engine`.
    pub fn from_bytes(engine: &Engine, bytes: impl Into<Arc<[u8]>>) -> Result<Policy, Error> {
        let bytes = bytes.into();
        if is_component(&bytes) {
            return Err(Error::Protocol(
                "this is a component; awi needs the policy's core module (the file Kubewarden loads)"
                    .into(),
            ));
        }
        let module = Module::new(engine, &bytes)
            .map_err(|e| Error::runtime("compiling the policy module", e))?;
        Ok(Policy {
            engine: engine.clone(),
            bytes,
            module,
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

    /// The compiled core module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The module linked as a waPC guest (made on first use).
    pub fn wapc(&self) -> Result<&WapcPolicy, Error> {
        if let Some(p) = self.wapc.get() {
            return Ok(p);
        }
        let p = WapcPolicy::new(&self.engine, &self.module)?;
        Ok(self.wapc.get_or_init(|| p))
    }

    /// The component made from the module, compiled and linked (made on first use).
    pub fn wit(&self) -> Result<&WitPolicy, Error> {
        if let Some(p) = self.wit.get() {
            return Ok(p);
        }
        let bytes = componentize(&self.bytes)?;
        let p = WitPolicy::from_component_bytes(&self.engine, &bytes)?;
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
        let instance = self.wapc_instance(cluster)?;
        let answer = match instance.validate(settings, review) {
            Ok(answer) => answer,
            Err(Error::Guest { message, .. }) => crate::wapc::ValidationResponse {
                accepted: false,
                message: Some(format!("internal server error: {message}")),
                code: Some(500),
                ..Default::default()
            },
            Err(e) => return Err(e),
        };
        answer.admission_review(review)
    }
}

/// Whether `bytes` is a component rather than a core module (the preamble's layer field).
fn is_component(bytes: &[u8]) -> bool {
    // Preamble: "\0asm", then a u16 version and a u16 layer; layer 1 is a component.
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}
