//! The policy through its WIT world (`wit/policy.wit`), for any wasmtime host.
//!
//! The shipped artifact is one core module that also carries waPC for Kubewarden.
//! [`componentize`] wraps it into a component: the WASI preview1 calls are adapted to WASI
//! preview2 by wasmtime's reactor adapter, and the `wapc` imports are satisfied by a tiny
//! adapter of trapping stubs. The component exports only the world's interfaces, so nothing
//! can reach those stubs; they exist because every core import must be satisfied.
//!
//! [`WitPolicy`] runs the component with `wasmtime-wasi` preview2. The world is
//! exports-only: the host fetches what `admission.needs` names from a [`Cluster`] and passes
//! the objects to `admission.review` ([`WitInstance::review`] does both).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, TypeSection,
    ValType,
};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::Error;
use crate::cluster::{Cluster, ObjectRef};
use crate::wapc::SettingsValidation;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
    });
}

use bindings::awi::policy::types as wit_types;
use bindings::exports::awi::policy::trust as wit_trust;
use bindings::{Policy as PolicyBindings, PolicyPre};

/// The waPC functions a guest may import (module `wapc`), with their core signatures.
const WAPC_IMPORTS: &[(&str, &[ValType], &[ValType])] = {
    use ValType::I32;
    &[
        ("__guest_request", &[I32, I32], &[]),
        ("__guest_response", &[I32, I32], &[]),
        ("__guest_error", &[I32, I32], &[]),
        (
            "__host_call",
            &[I32, I32, I32, I32, I32, I32, I32, I32],
            &[I32],
        ),
        ("__host_response_len", &[], &[I32]),
        ("__host_response", &[I32], &[]),
        ("__host_error_len", &[], &[I32]),
        ("__host_error", &[I32], &[]),
        ("__console_log", &[I32, I32], &[]),
    ]
};

/// A core module exporting every waPC import as a function whose body is `unreachable`.
/// wit-component keeps only the stubs the policy module actually imports.
pub fn wapc_stub_adapter() -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, (name, params, results)) in (0u32..).zip(WAPC_IMPORTS) {
        types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        functions.function(index);
        exports.export(name, ExportKind::Func, index);
        let mut body = Function::new([]);
        body.instruction(&Instruction::Unreachable);
        body.instruction(&Instruction::End);
        code.function(&body);
    }
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// Turns the policy's core module into a component of the `awi:policy/policy` world:
/// WASI preview1 through wasmtime's reactor adapter, waPC through trapping stubs.
///
/// This is how the `.component.wasm` for other hosts is made; the bytes are a valid
/// component that any wasmtime (or other component-model) host with WASI preview2 can run.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, Error> {
    use wasi_preview1_component_adapter_provider::{
        WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    let context = "making a component of the policy module";
    let mut encoder = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .map_err(|e| Error::runtime(context, e))?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(|e| Error::runtime(context, e))?
        .adapter("wapc", &wapc_stub_adapter())
        .map_err(|e| Error::runtime(context, e))?;
    encoder.encode().map_err(|e| Error::runtime(context, e))
}

/// How bad a finding is (`types.severity`). Ordered by gravity, as in the core:
/// `Error > Critical > High > Medium > Low > Info`, so `s >= Severity::High` reads
/// "high or worse".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    /// The lowercase name used in the WIT enum and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Whether this is `high` or worse (`error` and `critical` included).
    pub fn is_high_or_above(self) -> bool {
        self >= Severity::High
    }

    fn gravity(self) -> u8 {
        match self {
            Severity::Error => 5,
            Severity::Critical => 4,
            Severity::High => 3,
            Severity::Medium => 2,
            Severity::Low => 1,
            Severity::Info => 0,
        }
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Severity) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Severity) -> std::cmp::Ordering {
        self.gravity().cmp(&other.gravity())
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a trust policy (`types.finding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// Index of the statement the finding is about, when it is about one.
    pub statement: Option<u32>,
}

/// The web-identity caller STS would see (`types.subject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub issuer: String,
    pub audience: String,
    pub namespace: String,
    pub service_account: String,
}

/// Whether a trust policy lets a subject assume a role, and why (`types.verdict`).
/// Serializes as `awi trust check --output json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub allowed: bool,
    pub valid_document: bool,
    pub findings: Vec<Finding>,
    pub explanation: Vec<String>,
}

impl From<wit_types::Severity> for Severity {
    fn from(s: wit_types::Severity) -> Severity {
        match s {
            wit_types::Severity::Error => Severity::Error,
            wit_types::Severity::Critical => Severity::Critical,
            wit_types::Severity::High => Severity::High,
            wit_types::Severity::Medium => Severity::Medium,
            wit_types::Severity::Low => Severity::Low,
            wit_types::Severity::Info => Severity::Info,
        }
    }
}

impl From<wit_trust::Finding> for Finding {
    fn from(f: wit_trust::Finding) -> Finding {
        Finding {
            code: f.code,
            severity: f.severity.into(),
            message: f.message,
            statement: f.statement,
        }
    }
}

impl From<wit_trust::Verdict> for Verdict {
    fn from(v: wit_trust::Verdict) -> Verdict {
        Verdict {
            allowed: v.allowed,
            valid_document: v.valid_document,
            findings: v.findings.into_iter().map(Finding::from).collect(),
            explanation: v.explanation,
        }
    }
}

/// Store data of a component instance: WASI preview2 with nothing granted (no files, no
/// environment, no network); stdout/stderr are discarded.
struct WitState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: PeakMemory,
}

/// Records the largest linear memory of the instance; limits nothing.
#[derive(Default)]
struct PeakMemory {
    bytes: usize,
}

impl wasmtime::ResourceLimiter for PeakMemory {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.bytes = self.bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for WitState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The compiled component, linked and ready to instantiate. Cheap to clone.
#[derive(Clone)]
pub struct WitPolicy {
    engine: Engine,
    component: Component,
    pre: PolicyPre<WitState>,
}

impl std::fmt::Debug for WitPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitPolicy").finish_non_exhaustive()
    }
}

impl WitPolicy {
    /// Compiles component bytes (from [`componentize`]) and links them against WASI preview2.
    pub fn from_component_bytes(engine: &Engine, bytes: &[u8]) -> Result<WitPolicy, Error> {
        let component = Component::new(engine, bytes)
            .map_err(|e| Error::runtime("compiling the component", e))?;
        WitPolicy::new(engine, component)
    }

    /// Links an already compiled component against WASI preview2.
    pub fn new(engine: &Engine, component: Component) -> Result<WitPolicy, Error> {
        let mut linker = Linker::<WitState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| Error::runtime("linking WASI preview2", e))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| Error::runtime("linking the component", e))?;
        let pre = PolicyPre::new(instance_pre)
            .map_err(|e| Error::runtime("the component does not export the awi:policy world", e))?;
        Ok(WitPolicy {
            engine: engine.clone(),
            component,
            pre,
        })
    }

    /// The compiled component (e.g. to inspect its imports and exports).
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// A fresh instance with its own store.
    pub fn instantiate(&self) -> Result<WitInstance, Error> {
        let state = WitState {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            memory: PeakMemory::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| Error::runtime("instantiating the component", e))?;
        Ok(WitInstance { store, bindings })
    }
}

/// One component instance. After an [`Error::Runtime`] (a trap) make a new one.
pub struct WitInstance {
    store: Store<WitState>,
    bindings: PolicyBindings,
}

impl std::fmt::Debug for WitInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitInstance").finish_non_exhaustive()
    }
}

/// Maps a call's trap to [`Error::Runtime`] and the guest's `err` to [`Error::Guest`].
fn answer<T>(operation: &str, result: wasmtime::Result<Result<T, String>>) -> Result<T, Error> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(Error::Guest {
            operation: operation.to_string(),
            message,
        }),
        Err(trap) => Err(Error::runtime(
            format!("{operation}: the policy trapped"),
            trap,
        )),
    }
}

impl WitInstance {
    /// `admission.needs`: the cluster objects the policy must read to answer `review`.
    pub fn needs(&mut self, settings: &str, review: &str) -> Result<Vec<ObjectRef>, Error> {
        let result =
            self.bindings
                .awi_policy_admission()
                .call_needs(&mut self.store, settings, review);
        let refs = answer("admission.needs", result)?;
        Ok(refs
            .into_iter()
            .map(|r| ObjectRef {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
            })
            .collect())
    }

    /// The largest linear memory this instance has had so far, in bytes. Memory never
    /// shrinks, so after one call on a fresh instance this is that call's peak.
    pub fn peak_memory(&self) -> usize {
        self.store.data().memory.bytes
    }

    /// `admission.review` with the context given as is (the JSON of each object that exists).
    /// Returns the AdmissionReview with its response.
    pub fn review_with_context(
        &mut self,
        settings: &str,
        review: &str,
        context: &[String],
    ) -> Result<Value, Error> {
        let text = self.review_text(settings, review, context)?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Protocol(format!("admission.review answered invalid JSON: {e}")))
    }

    /// `admission.review` returning the AdmissionReview text as the policy wrote it.
    pub fn review_text(
        &mut self,
        settings: &str,
        review: &str,
        context: &[String],
    ) -> Result<String, Error> {
        let result = self.bindings.awi_policy_admission().call_review(
            &mut self.store,
            settings,
            review,
            context,
        );
        answer("admission.review", result)
    }

    /// `admission.needs`, then fetches those objects from `cluster`, then `admission.review`.
    /// Objects the cluster cannot give are left out of the context, which the policy reads
    /// as "does not exist" (the interface has no other way to say it).
    pub fn review(
        &mut self,
        settings: &str,
        review: &str,
        cluster: &dyn Cluster,
    ) -> Result<Value, Error> {
        let needed = self.needs(settings, review)?;
        let mut context = Vec::with_capacity(needed.len());
        for wanted in &needed {
            if let Ok(object) = cluster.get(wanted) {
                let json = serde_json::to_string(&object)
                    .map_err(|e| Error::Protocol(format!("serializing {wanted}: {e}")))?;
                context.push(json);
            }
        }
        self.review_with_context(settings, review, &context)
    }

    /// `admission.validate-settings`.
    pub fn validate_settings(&mut self, settings: &str) -> Result<SettingsValidation, Error> {
        let result = self
            .bindings
            .awi_policy_admission()
            .call_validate_settings(&mut self.store, settings);
        match answer("admission.validate-settings", result) {
            Ok(()) => Ok(SettingsValidation {
                valid: true,
                message: None,
            }),
            Err(Error::Guest { message, .. }) => Ok(SettingsValidation {
                valid: false,
                message: Some(message),
            }),
            Err(e) => Err(e),
        }
    }

    /// `trust.check`: whether `policy` lets `subject` assume `role_arn`, as STS decides.
    pub fn check(
        &mut self,
        policy: &str,
        role_arn: &str,
        subject: &Subject,
    ) -> Result<Verdict, Error> {
        let subject = wit_trust::Subject {
            issuer: subject.issuer.clone(),
            audience: subject.audience.clone(),
            namespace: subject.namespace.clone(),
            service_account: subject.service_account.clone(),
        };
        let result = self.bindings.awi_policy_trust().call_check(
            &mut self.store,
            policy,
            role_arn,
            &subject,
        );
        answer("trust.check", result).map(Verdict::from)
    }

    /// `trust.lint`: the finding catalogue for `policy` trusted by `issuer`.
    pub fn lint(
        &mut self,
        policy: &str,
        role_arn: Option<&str>,
        issuer: &str,
    ) -> Result<Vec<Finding>, Error> {
        // The interface spells "role unknown" as the empty string.
        let result = self.bindings.awi_policy_trust().call_lint(
            &mut self.store,
            policy,
            role_arn.unwrap_or(""),
            issuer,
        );
        answer("trust.lint", result).map(|f| f.into_iter().map(Finding::from).collect())
    }

    /// `trust.who`: the subjects `policy` admits, one line each.
    pub fn who(
        &mut self,
        policy: &str,
        role_arn: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<Vec<String>, Error> {
        let result = self.bindings.awi_policy_trust().call_who(
            &mut self.store,
            policy,
            role_arn,
            issuer,
            audience,
        );
        answer("trust.who", result)
    }

    /// `trust.render`: the trust-policy template filled for `namespace`/`service_account`.
    pub fn render(
        &mut self,
        template: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<String, Error> {
        let result = self.bindings.awi_policy_trust().call_render(
            &mut self.store,
            template,
            namespace,
            service_account,
        );
        answer("trust.render", result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_adapter_is_tiny_and_valid() {
        let bytes = wapc_stub_adapter();
        assert!(bytes.len() < 400, "{} bytes", bytes.len());
        let engine = Engine::default();
        let module = wasmtime::Module::new(&engine, &bytes).unwrap();
        let names: Vec<_> = module.exports().map(|e| e.name().to_string()).collect();
        assert_eq!(names.len(), WAPC_IMPORTS.len());
        assert!(names.iter().any(|n| n == "__host_call"));
    }

    #[test]
    fn severity_order() {
        assert!(Severity::Critical.is_high_or_above());
        assert!(Severity::High.is_high_or_above());
        assert!(!Severity::Medium.is_high_or_above());
        assert!(Severity::Error > Severity::Critical);
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
    }
}
