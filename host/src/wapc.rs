//! The policy through waPC, as Kubewarden runs it.
//!
//! The host is built from the published `wapc` and `wasmtime-provider` crates, the ones
//! Kubewarden's policy evaluator uses, so what passes here is what a policy server sees.
//! The guest's host calls are answered like this:
//!
//! - `kubewarden`/`kubernetes`/`get_resource`: read from the caller's [`Cluster`];
//! - `kubewarden`/`tracing`/`log`: accepted and kept (see [`WapcInstance::logs`]);
//! - anything else: an error naming the call, as a host without that capability answers.
//!
//! The answers are the SDK's own types ([`ValidationResponse`],
//! [`SettingsValidationResponse`]), as Kubewarden's policy evaluator uses them. The guest
//! answers `validate` with the whole mutated object, not a patch;
//! [`AdmissionAnswer::admission_response`] turns that into the AdmissionResponse Kubewarden
//! sends to the API server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
pub use kubewarden_policy_sdk::response::ValidationResponse;
pub use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use serde_json::{Map, Value, json};
use wapc::WapcHost;
use wasmtime::{Engine, Module};
use wasmtime_provider::{WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

use crate::Error;
use crate::cluster::{Cluster, ObjectRef};
use crate::engine::Limits;

/// The payload of `kubewarden/kubernetes/get_resource`: the SDK's `GetResourceRequest`,
/// read here by its fields because the SDK defines it only with its `cluster-context`
/// feature, which pulls in k8s-openapi.
#[derive(Debug, serde::Deserialize)]
struct GetResourceRequest {
    api_version: String,
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// The object a `get_resource` call asks for.
fn object_ref(request: GetResourceRequest) -> ObjectRef {
    ObjectRef {
        api_version: request.api_version,
        kind: request.kind,
        namespace: request.namespace,
        name: request.name,
    }
}

/// What a policy server makes of the guest's answer to `validate` (the SDK's
/// [`ValidationResponse`]: the whole mutated object, not a patch).
pub trait AdmissionAnswer {
    /// The AdmissionResponse (admission.k8s.io/v1) Kubewarden sends for this answer to
    /// `request` (the AdmissionRequest): uid, allowed, a base64 JSONPatch computed as
    /// `json_patch::diff(request.object, mutated_object)`, status with message and code
    /// when either is set, audit annotations and warnings.
    fn admission_response(&self, request: &Value) -> Result<Value, Error>;

    /// The whole AdmissionReview answering `review` (an AdmissionReview or a bare
    /// AdmissionRequest): apiVersion and kind echoed, and [`Self::admission_response`].
    fn admission_review(&self, review: &Value) -> Result<Value, Error>;
}

impl AdmissionAnswer for ValidationResponse {
    fn admission_response(&self, request: &Value) -> Result<Value, Error> {
        let mut response = Map::new();
        let uid = request.get("uid").cloned().unwrap_or_else(|| json!(""));
        response.insert("uid".into(), uid);
        response.insert("allowed".into(), Value::Bool(self.accepted));
        if let Some(mutated) = &self.mutated_object {
            let original = match request.get("object") {
                Some(object) if !object.is_null() => object,
                // Kubewarden refuses a mutation of a request without object (DELETE).
                _ => {
                    return Err(Error::Protocol(
                        "the policy mutated a request that has no object".into(),
                    ));
                }
            };
            let patch = json_patch::diff(original, mutated);
            if !patch.0.is_empty() {
                let bytes = serde_json::to_vec(&patch)
                    .map_err(|e| Error::Protocol(format!("serializing the patch: {e}")))?;
                response.insert("patchType".into(), json!("JSONPatch"));
                response.insert(
                    "patch".into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
        }
        if self.message.is_some() || self.code.is_some() {
            let mut status = Map::new();
            if let Some(message) = &self.message {
                status.insert("message".into(), json!(message));
            }
            if let Some(code) = self.code {
                status.insert("code".into(), json!(code));
            }
            response.insert("status".into(), Value::Object(status));
        }
        if let Some(annotations) = &self.audit_annotations {
            // Sorted: the SDK keeps them in a hash map.
            let sorted: BTreeMap<&String, &String> = annotations.iter().collect();
            response.insert("auditAnnotations".into(), json!(sorted));
        }
        if let Some(warnings) = self.warnings.as_ref().filter(|w| !w.is_empty()) {
            response.insert("warnings".into(), json!(warnings));
        }
        Ok(Value::Object(response))
    }

    fn admission_review(&self, review: &Value) -> Result<Value, Error> {
        let request = crate::admission_request(review);
        let api_version = review
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|_| request != review)
            .unwrap_or("admission.k8s.io/v1");
        Ok(json!({
            "apiVersion": api_version,
            "kind": "AdmissionReview",
            "response": self.admission_response(request)?,
        }))
    }
}

/// The core module, ready to be instantiated as a waPC guest.
///
/// Cheap to clone; make one per module and [`WapcPolicy::instantiate`] per review (or
/// per cluster view), as a policy server does.
#[derive(Clone)]
pub struct WapcPolicy {
    pre: WasmtimeEngineProviderPre,
    /// The epoch deadlines of every instance, from [`Limits::epoch_deadline`].
    deadlines: Option<wasmtime_provider::EpochDeadlines>,
}

impl std::fmt::Debug for WapcPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WapcPolicy").finish_non_exhaustive()
    }
}

impl WapcPolicy {
    /// Links `module` (compiled by `engine`) against the waPC and WASI preview1 imports.
    pub fn new(engine: &Engine, module: &Module) -> Result<WapcPolicy, Error> {
        WapcPolicy::with_limits(engine, module, Limits::none())
    }

    /// Like [`WapcPolicy::new`], with each instance's linear memory capped at `max_bytes`
    /// (as a policy server caps it); a guest that needs more fails its call.
    pub fn with_memory_limit(
        engine: &Engine,
        module: &Module,
        max_bytes: usize,
    ) -> Result<WapcPolicy, Error> {
        WapcPolicy::with_limits(engine, module, Limits::none().max_memory(max_bytes))
    }

    /// Like [`WapcPolicy::new`], under `limits`: the memory cap on every instance, the
    /// epoch deadline on `wapc_init` and on every call.
    pub fn with_limits(
        engine: &Engine,
        module: &Module,
        limits: Limits,
    ) -> Result<WapcPolicy, Error> {
        let mut builder = WasmtimeEngineProviderBuilder::new()
            .engine(engine.clone())
            .module(module.clone());
        if let Some(max_bytes) = limits.max_memory {
            builder = builder.enable_resource_limits(wasmtime_provider::ResourceLimits {
                max_memory_size: Some(max_bytes),
                max_table_elements: None,
            });
        }
        let pre = builder
            .build_pre()
            .map_err(|e| Error::runtime("linking the module as a waPC guest", e))?;
        let deadlines = limits
            .epoch_deadline
            .map(|ticks| wasmtime_provider::EpochDeadlines {
                wapc_init: ticks,
                wapc_func: ticks,
            });
        Ok(WapcPolicy { pre, deadlines })
    }

    /// A fresh guest instance whose `get_resource` calls are answered from `cluster`.
    /// Runs `wapc_init`, which registers the guest's functions.
    pub fn instantiate(&self, cluster: Arc<dyn Cluster>) -> Result<WapcInstance, Error> {
        let provider = self
            .pre
            .rehydrate(self.deadlines)
            .map_err(|e| Error::runtime("instantiating the waPC guest", e))?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let callback_logs = Arc::clone(&logs);
        let callback = move |_id: u64,
                             binding: &str,
                             namespace: &str,
                             operation: &str,
                             payload: &[u8]|
              -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            host_call(
                &*cluster,
                &callback_logs,
                (binding, namespace, operation),
                payload,
            )
            .map_err(Into::into)
        };
        let host = WapcHost::new(Box::new(provider), Some(Box::new(callback)))
            .map_err(|e| Error::runtime("initializing the waPC guest (wapc_init)", e))?;
        Ok(WapcInstance { host, logs })
    }
}

/// Answers one host call of the guest.
fn host_call(
    cluster: &dyn Cluster,
    logs: &Mutex<Vec<Value>>,
    call: (&str, &str, &str),
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    match call {
        ("kubewarden", "kubernetes", "get_resource") => {
            let request: GetResourceRequest = serde_json::from_slice(payload)
                .map_err(|e| format!("get_resource: cannot read the request: {e}"))?;
            let object = cluster.get(&object_ref(request))?;
            serde_json::to_vec(&object).map_err(|e| format!("get_resource: {e}"))
        }
        ("kubewarden", "tracing", "log") => {
            // A record that is not JSON is kept as text rather than failing the guest.
            let record = serde_json::from_slice(payload)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()));
            if let Ok(mut logs) = logs.lock() {
                logs.push(record);
            }
            Ok(Vec::new())
        }
        (binding, namespace, operation) => Err(format!(
            "host capability {binding}/{namespace}/{operation} is not provided by this host"
        )),
    }
}

/// One waPC guest instance. Calls are synchronous and not reentrant.
pub struct WapcInstance {
    host: WapcHost,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl std::fmt::Debug for WapcInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WapcInstance").finish_non_exhaustive()
    }
}

impl WapcInstance {
    /// Calls a guest function with raw bytes; a guest error or trap is [`Error::Guest`].
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
        self.host
            .call(operation, payload)
            .map_err(|e| Error::Guest {
                operation: operation.to_string(),
                message: match e {
                    wapc::errors::Error::GuestCallFailure(message) => message,
                    other => other.to_string(),
                },
            })
    }

    fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        payload: &[u8],
    ) -> Result<T, Error> {
        let bytes = self.call(operation, payload)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::Protocol(format!(
                "{operation}: unexpected answer {:?}: {e}",
                String::from_utf8_lossy(&bytes)
            ))
        })
    }

    /// The waPC protocol version the guest speaks (`"v1"`).
    pub fn protocol_version(&self) -> Result<String, Error> {
        self.call_json("protocol_version", b"")
    }

    /// `validate_settings`. Settings the guest cannot even read come back as a guest error,
    /// which Kubewarden also reports as invalid: such errors are folded into `valid: false`.
    pub fn validate_settings(&self, settings: &Value) -> Result<SettingsValidationResponse, Error> {
        let payload = serde_json::to_vec(settings)
            .map_err(|e| Error::Protocol(format!("serializing settings: {e}")))?;
        match self.call_json("validate_settings", &payload) {
            Err(Error::Guest { message, .. }) => Ok(SettingsValidationResponse {
                valid: false,
                message: Some(message),
            }),
            other => other,
        }
    }

    /// `validate` with Kubewarden's payload `{"settings": …, "request": …}`. `review` may be
    /// an AdmissionReview or a bare AdmissionRequest. A guest error here is what Kubewarden
    /// turns into a rejection with code 500.
    pub fn validate(&self, settings: &Value, review: &Value) -> Result<ValidationResponse, Error> {
        let payload = json!({
            "settings": settings,
            "request": crate::admission_request(review),
        });
        let payload = serde_json::to_vec(&payload)
            .map_err(|e| Error::Protocol(format!("serializing the payload: {e}")))?;
        self.call_json("validate", &payload)
    }

    /// The records the guest sent to `kubewarden/tracing/log` so far.
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Objects;

    fn pod_request() -> Value {
        json!({
            "uid": "u1",
            "object": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
        })
    }

    #[test]
    fn mutation_becomes_a_patch() {
        let request = pod_request();
        let mut mutated = request["object"].clone();
        mutated["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "b"}]);
        let answer = ValidationResponse {
            accepted: true,
            message: None,
            code: None,
            mutated_object: Some(mutated),
            audit_annotations: None,
            warnings: Some(vec!["w".into()]),
        };
        let response = answer.admission_response(&request).unwrap();
        assert_eq!(response["uid"], "u1");
        assert_eq!(response["patchType"], "JSONPatch");
        assert_eq!(response["warnings"], json!(["w"]));
        let patch = base64::engine::general_purpose::STANDARD
            .decode(response["patch"].as_str().unwrap())
            .unwrap();
        let patch: Value = serde_json::from_slice(&patch).unwrap();
        assert_eq!(patch[0]["op"], "add");
        assert!(response.get("status").is_none());
    }

    #[test]
    fn rejection_has_a_status() {
        let answer = ValidationResponse {
            accepted: false,
            message: Some("no".into()),
            code: Some(403),
            mutated_object: None,
            audit_annotations: None,
            warnings: None,
        };
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": pod_request()});
        let answer = answer.admission_review(&review).unwrap();
        assert_eq!(
            answer["response"]["status"],
            json!({"message": "no", "code": 403})
        );
        assert_eq!(answer["response"]["allowed"], false);
        assert!(answer["response"].get("patch").is_none());
    }

    #[test]
    fn unknown_host_calls_fail_by_name() {
        let logs = Mutex::new(Vec::new());
        let err = host_call(
            &Objects::empty(),
            &logs,
            ("kubewarden", "oci", "v1/verify"),
            b"{}",
        )
        .unwrap_err();
        assert!(err.contains("kubewarden/oci/v1/verify"), "{err}");
        host_call(
            &Objects::empty(),
            &logs,
            ("kubewarden", "tracing", "log"),
            br#"{"level":"info"}"#,
        )
        .unwrap();
        assert_eq!(logs.lock().unwrap().len(), 1);
    }
}
