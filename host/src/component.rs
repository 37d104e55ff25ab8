//! The policy through its WIT world (`wit/policy.wit`), for any wasmtime host: the runtime.
//! The component is made from the core module by [`crate::componentize`].
//!
//! [`WitPolicy`] runs the component with `wasmtime-wasi` preview2. The world is
//! exports-only: the host fetches what `admission.needs` names from a [`Cluster`] and passes
//! what it read ([`Read`]: the objects, and why the others could not be read) to
//! `admission.review` ([`WitInstance::review`] does both).

use awi_trust::{Code, Finding, Severity, Subject, Verdict};
use serde_json::Value;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::Error;
use crate::cluster::{Cluster, ObjectRef};
/// Where the component comes from; also reachable here, next to the runtime.
pub use crate::componentize::componentize;
use crate::engine::Limits;
use crate::wapc::SettingsValidationResponse;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
    });
}

use bindings::awi::policy::types as wit_types;
use bindings::exports::awi::policy::admission as wit_admission;
use bindings::exports::awi::policy::trust as wit_trust;
use bindings::{Policy as PolicyBindings, PolicyPre};

/// The trust engine's own records (`awi_trust`) are the public types of `trust.*`: the WIT
/// records are read into them, so the host and the policy share one definition.
fn severity(s: wit_types::Severity) -> Severity {
    match s {
        wit_types::Severity::Error => Severity::Error,
        wit_types::Severity::Critical => Severity::Critical,
        wit_types::Severity::High => Severity::High,
        wit_types::Severity::Medium => Severity::Medium,
        wit_types::Severity::Low => Severity::Low,
        wit_types::Severity::Info => Severity::Info,
    }
}

/// A finding of the module; a code outside the catalogue is a protocol error.
fn finding(f: wit_trust::Finding) -> Result<Finding, Error> {
    let code = f
        .code
        .parse::<Code>()
        .map_err(|e| Error::Protocol(format!("trust finding: {e}")))?;
    Ok(Finding {
        code,
        severity: severity(f.severity),
        message: f.message,
        statement: f.statement,
    })
}

fn findings(findings: Vec<wit_trust::Finding>) -> Result<Vec<Finding>, Error> {
    findings.into_iter().map(finding).collect()
}

fn wit_subject(subject: &Subject) -> wit_trust::Subject {
    wit_trust::Subject {
        issuer: subject.issuer.clone(),
        audience: subject.audience.clone(),
        namespace: subject.namespace.clone(),
        service_account: subject.service_account.clone(),
    }
}

fn verdict(v: wit_trust::Verdict) -> Result<Verdict, Error> {
    Ok(Verdict {
        allowed: v.allowed,
        valid_document: v.valid_document,
        findings: findings(v.findings)?,
        explanation: v.explanation,
    })
}

/// What the host read of one object named by `admission.needs` (the world's `read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The object's JSON.
    Found(String),
    /// The object could not be read.
    Failed {
        /// The object.
        object: ObjectRef,
        /// Why.
        error: ReadError,
        /// The host's whole account of the failure, for the policy's log.
        detail: String,
    },
}

/// Why the host could not read an object (the world's `read-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The API server answered with this error status (404: the object does not exist).
    Status {
        /// The HTTP status code.
        code: u16,
        /// The Kubernetes reason (`ServiceUnavailable`).
        reason: String,
        /// The Status message.
        message: String,
    },
    /// The API server did not answer: the network error in a few words.
    Unreachable(String),
    /// The error text of a host that fails as Kubewarden's policy server does.
    HostText(String),
}

fn wit_read(read: &Read) -> wit_admission::Read {
    match read {
        Read::Found(json) => wit_admission::Read::Found(json.clone()),
        Read::Failed {
            object,
            error,
            detail,
        } => wit_admission::Read::Failed(wit_admission::FailedRead {
            object: wit_types::ObjectRef {
                api_version: object.api_version.clone(),
                kind: object.kind.clone(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
            },
            error: match error {
                ReadError::Status {
                    code,
                    reason,
                    message,
                } => wit_admission::ReadError::Status(wit_admission::ApiStatus {
                    code: *code,
                    reason: reason.clone(),
                    message: message.clone(),
                }),
                ReadError::Unreachable(what) => wit_admission::ReadError::Unreachable(what.clone()),
                ReadError::HostText(text) => wit_admission::ReadError::HostText(text.clone()),
            },
            detail: detail.clone(),
        }),
    }
}

fn parse_answer(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::Protocol(format!("admission.review answered invalid JSON: {e}")))
}

/// Store data of a component instance: WASI preview2 with nothing granted (no files, no
/// environment, no network); stdout/stderr are discarded.
struct WitState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: PeakMemory,
}

/// Records the largest linear memory of the instance, and refuses growth beyond the cap.
struct PeakMemory {
    bytes: usize,
    /// [`Limits::max_memory`]: growth beyond it is refused.
    max: Option<usize>,
}

impl wasmtime::ResourceLimiter for PeakMemory {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if self.max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
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
    limits: Limits,
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
        WitPolicy::with_limits(engine, component, Limits::none())
    }

    /// Like [`WitPolicy::new`], under `limits`: the memory cap on every instance, the epoch
    /// deadline on every call.
    pub fn with_limits(
        engine: &Engine,
        component: Component,
        limits: Limits,
    ) -> Result<WitPolicy, Error> {
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
            limits,
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
            memory: PeakMemory {
                bytes: 0,
                max: self.limits.max_memory,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        if let Some(ticks) = self.limits.epoch_deadline {
            store.set_epoch_deadline(ticks);
        }
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| Error::runtime("instantiating the component", e))?;
        Ok(WitInstance { store, bindings })
    }
}

/// What `admission.review` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// The AdmissionReview with its response, as the policy wrote it.
    pub review: String,
    /// The decision's log record as one JSON object, `level`, `message` and the fields: the
    /// record the waPC guest sends to `kubewarden/tracing/log`, without the source location
    /// the SDK's drain adds.
    pub log: Value,
}

/// The WIT log record as one JSON object (see [`Reviewed::log`]).
fn log_json(record: wit_types::LogRecord) -> Value {
    let mut map = serde_json::Map::new();
    let level = match record.level {
        wit_types::LogLevel::Info => "info",
        wit_types::LogLevel::Warning => "warning",
    };
    map.insert("level".into(), Value::String(level.into()));
    map.insert("message".into(), Value::String(record.message));
    for (key, value) in record.fields {
        map.insert(key, Value::String(value));
    }
    Value::Object(map)
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
        parse_answer(&text)
    }

    /// `admission.review` returning the AdmissionReview text as the policy wrote it.
    pub fn review_text(
        &mut self,
        settings: &str,
        review: &str,
        context: &[String],
    ) -> Result<String, Error> {
        let reads: Vec<Read> = context.iter().cloned().map(Read::Found).collect();
        Ok(self.call_review(settings, review, &reads)?.review)
    }

    /// `admission.review` with what the host read of each object `admission.needs` named,
    /// failed reads included. Returns the AdmissionReview with its response.
    pub fn review_reads(
        &mut self,
        settings: &str,
        review: &str,
        reads: &[Read],
    ) -> Result<Value, Error> {
        parse_answer(&self.call_review(settings, review, reads)?.review)
    }

    /// `admission.review` as the interface answers it: the AdmissionReview text and the
    /// decision's log record.
    pub fn call_review(
        &mut self,
        settings: &str,
        review: &str,
        reads: &[Read],
    ) -> Result<Reviewed, Error> {
        let context: Vec<wit_admission::Read> = reads.iter().map(wit_read).collect();
        let result = self.bindings.awi_policy_admission().call_review(
            &mut self.store,
            settings,
            review,
            &context,
        );
        let reviewed = answer("admission.review", result)?;
        Ok(Reviewed {
            review: reviewed.review,
            log: log_json(reviewed.log),
        })
    }

    /// `admission.needs`, then fetches those objects from `cluster`, then `admission.review`.
    /// A read the cluster fails is passed with the cluster's error text, which the policy
    /// reads as Kubewarden's (so "Cannot find ..." is an object that does not exist).
    pub fn review(
        &mut self,
        settings: &str,
        review: &str,
        cluster: &dyn Cluster,
    ) -> Result<Value, Error> {
        Ok(self.review_logged(settings, review, cluster)?.0)
    }

    /// [`WitInstance::review`], with the decision's log record (see [`Reviewed::log`]).
    pub fn review_logged(
        &mut self,
        settings: &str,
        review: &str,
        cluster: &dyn Cluster,
    ) -> Result<(Value, Value), Error> {
        let needed = self.needs(settings, review)?;
        let mut reads = Vec::with_capacity(needed.len());
        for wanted in needed {
            reads.push(match cluster.get(&wanted) {
                Ok(object) => Read::Found(
                    serde_json::to_string(&object)
                        .map_err(|e| Error::Protocol(format!("serializing {wanted}: {e}")))?,
                ),
                Err(text) => Read::Failed {
                    object: wanted,
                    error: ReadError::HostText(text.clone()),
                    detail: text,
                },
            });
        }
        let reviewed = self.call_review(settings, review, &reads)?;
        Ok((parse_answer(&reviewed.review)?, reviewed.log))
    }

    /// `admission.validate-settings`.
    pub fn validate_settings(
        &mut self,
        settings: &str,
    ) -> Result<SettingsValidationResponse, Error> {
        let result = self
            .bindings
            .awi_policy_admission()
            .call_validate_settings(&mut self.store, settings);
        match answer("admission.validate-settings", result) {
            Ok(()) => Ok(SettingsValidationResponse {
                valid: true,
                message: None,
            }),
            Err(Error::Guest { message, .. }) => Ok(SettingsValidationResponse {
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
        let subject = wit_subject(subject);
        let trust = self.bindings.awi_policy_trust();
        let result = trust.call_check(&mut self.store, policy, role_arn, &subject);
        answer("trust.check", result).and_then(verdict)
    }

    /// `trust.check-in-context`: [`WitInstance::check`] with values for condition keys only
    /// STS knows (`("aws:SourceIp", "203.0.113.7")`); a multivalued key repeats.
    pub fn check_in_context(
        &mut self,
        policy: &str,
        role_arn: &str,
        subject: &Subject,
        context: &[(String, String)],
    ) -> Result<Verdict, Error> {
        let subject = wit_subject(subject);
        let trust = self.bindings.awi_policy_trust();
        let result =
            trust.call_check_in_context(&mut self.store, policy, role_arn, &subject, context);
        answer("trust.check-in-context", result).and_then(verdict)
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
        answer("trust.lint", result).and_then(findings)
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
    fn severity_order() {
        assert!(Severity::Critical.is_high_or_above());
        assert!(Severity::High.is_high_or_above());
        assert!(!Severity::Medium.is_high_or_above());
        assert!(Severity::Error > Severity::Critical);
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
    }
}
