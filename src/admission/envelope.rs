//! The AdmissionReview envelope (admission.k8s.io/v1): reading the request out of it and
//! writing the response into it, the way kube-core's admission module separates the envelope
//! from what a controller decides. The request is read field by field on the raw JSON, so a
//! request the policy does not dispatch on is never refused for a field it does not read.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use awi_trust::json::{str_at, type_name};

use super::Outcome;
use super::decision::{Decision, Target};

/// Input that is not an admission request the policy can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// The text is not JSON; the parser's message.
    #[error("admission review: not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an AdmissionReview or AdmissionRequest; what is wrong.
    #[error("admission review: {0}")]
    Malformed(String),
}

/// Parses an AdmissionReview (or a bare AdmissionRequest, as `kwctl` accepts) from JSON.
pub fn parse_review(json: &str) -> Result<Value, AdmissionError> {
    serde_json::from_str(json).map_err(|e| AdmissionError::NotJson(e.to_string()))
}

/// The AdmissionRequest inside an AdmissionReview; a bare AdmissionRequest is returned as is.
pub fn request_of(review: &Value) -> Result<&Value, AdmissionError> {
    let Value::Object(map) = review else {
        return Err(AdmissionError::Malformed(format!(
            "expected an AdmissionReview object, got {}",
            type_name(review)
        )));
    };
    if map.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
        return match map.get("request") {
            Some(request @ Value::Object(_)) => Ok(request),
            Some(other) => Err(AdmissionError::Malformed(format!(
                "request: expected an object, got {}",
                type_name(other)
            ))),
            None => Err(AdmissionError::Malformed(
                "AdmissionReview has no request".to_string(),
            )),
        };
    }
    Ok(review)
}

/// The fields of an AdmissionRequest the policy dispatches on.
pub(crate) struct Request<'a> {
    pub(crate) uid: &'a str,
    group: &'a str,
    version: &'a str,
    pub(crate) kind: &'a str,
    operation: &'a str,
    namespace: &'a str,
    name: &'a str,
    pub(crate) object: &'a Value,
}

impl<'a> Request<'a> {
    pub(crate) fn read(request: &'a Value) -> Request<'a> {
        let text = |path: &[&str]| str_at(request, path).unwrap_or("");
        Request {
            uid: text(&["uid"]),
            group: text(&["kind", "group"]),
            version: text(&["kind", "version"]),
            kind: text(&["kind", "kind"]),
            operation: text(&["operation"]),
            namespace: text(&["namespace"]),
            name: text(&["name"]),
            object: request.get("object").unwrap_or(&Value::Null),
        }
    }

    fn is_core(&self, kind: &str) -> bool {
        self.group.is_empty() && self.kind == kind
    }

    /// Pods are mutated on CREATE only; their spec is immutable afterwards.
    pub(crate) fn is_pod_create(&self) -> bool {
        self.is_core("Pod") && self.operation == "CREATE"
    }

    pub(crate) fn is_service_account_write(&self) -> bool {
        self.is_core("ServiceAccount") && matches!(self.operation, "CREATE" | "UPDATE")
    }

    /// A CREATE or UPDATE of one of the Pod-template kinds (`apps/v1` Deployment,
    /// StatefulSet, DaemonSet, ReplicaSet; `batch/v1` Job, CronJob).
    pub(crate) fn is_workload_write(&self) -> bool {
        let kinds: &[&str] = match (self.group, self.version) {
            ("apps", "v1") => &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
            ("batch", "v1") => &["Job", "CronJob"],
            _ => &[],
        };
        kinds.contains(&self.kind) && matches!(self.operation, "CREATE" | "UPDATE")
    }

    /// `<namespace>/<name>` of the object, for messages.
    pub(crate) fn object_name(&self) -> String {
        let name = self
            .object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        format!("{}/{name}", self.namespace())
    }

    /// The record of what is decided about this request as `target`, before anything is.
    pub(crate) fn decision(&self, target: Target) -> Decision {
        Decision {
            target,
            uid: self.uid.to_string(),
            namespace: self.namespace().to_string(),
            object: self.object_label(),
            ..Decision::default()
        }
    }

    /// `<Kind>/<name>` of the object, for the log. Pods made by controllers have no name
    /// yet: their `generateName` with `*` stands for it.
    pub(crate) fn object_label(&self) -> String {
        let text = |key: &str| {
            self.object
                .get("metadata")
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            self.kind
        };
        match (text("name"), self.name, text("generateName")) {
            (Some(name), _, _) => format!("{kind}/{name}"),
            (None, name, _) if !name.is_empty() => format!("{kind}/{name}"),
            (None, _, Some(prefix)) => format!("{kind}/{prefix}*"),
            _ => kind.to_string(),
        }
    }

    /// Namespace of the request; Pods from controllers often have none in the object.
    pub(crate) fn namespace(&self) -> &'a str {
        if self.namespace.is_empty() {
            self.object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
        } else {
            self.namespace
        }
    }
}

/// The AdmissionResponse (admission.k8s.io/v1) for `outcome`: uid, allowed, warnings,
/// status on rejection, a base64 JSONPatch for a mutation, and the audit annotations.
pub fn response(request: &Value, outcome: &Outcome) -> Value {
    let mut response = Map::new();
    let uid = request
        .get("uid")
        .cloned()
        .unwrap_or(Value::String(String::new()));
    response.insert("uid".into(), uid);
    response.insert("allowed".into(), Value::Bool(outcome.allowed));
    if !outcome.patch.0.is_empty() {
        let bytes = serde_json::to_vec(&outcome.patch).unwrap_or_default();
        response.insert("patchType".into(), json!("JSONPatch"));
        response.insert(
            "patch".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
    }
    if let Some(message) = &outcome.message {
        let mut status = Map::new();
        status.insert("message".into(), Value::String(message.clone()));
        if let Some(code) = outcome.code {
            status.insert("code".into(), json!(code));
        }
        response.insert("status".into(), Value::Object(status));
    }
    let annotations = outcome.audit_annotations();
    if !annotations.is_empty() {
        response.insert("auditAnnotations".into(), json!(annotations));
    }
    if !outcome.warnings.is_empty() {
        response.insert("warnings".into(), json!(outcome.warnings));
    }
    Value::Object(response)
}

/// The whole AdmissionReview answering `review`: its apiVersion and kind echoed (API servers
/// outside EKS refuse a response without them) and the response of [`response`].
pub fn answer(review: &Value, outcome: &Outcome) -> Value {
    let request = request_of(review).unwrap_or(review);
    let api_version = review
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("admission.k8s.io/v1");
    json!({
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "response": response(request, outcome),
    })
}
