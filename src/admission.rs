//! One admission request in, one decision out.
//!
//! This is what both ABIs call. The host (Kubewarden through the waPC glue, or any wasmtime
//! host through the WIT world) first asks [`needs`] which cluster objects to read, fetches
//! them, and passes them to [`review`] in a [`Context`]. The answer is an [`Outcome`]: the
//! verdict, warnings and, for a mutation, the RFC 6902 patch (only `add` operations).
//!
//! Dispatch:
//! - Pod CREATE: inject AWS credentials ([`crate::mutation`]), and warn about the role's
//!   trust problems ([`crate::trust_validation`]); a Pod is never rejected for an IAM problem.
//! - ServiceAccount CREATE/UPDATE: validate the role annotation and its trust policy.
//! - Anything else: admitted untouched.
//!
//! [`Validator`] runs Kubewarden's whole `validate` call on the payload bytes, so that the
//! waPC glue only answers the host capability and the same per-request work can be measured
//! natively.

use std::collections::BTreeMap;

use base64::Engine as _;
use json_patch::Patch;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::json::{str_at, type_name};
use crate::mutation::{self, PodRequest};
use crate::settings::Settings;
use crate::trust_validation;

/// A cluster object the policy needs to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The ServiceAccount `namespace/name`.
    pub fn service_account(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".to_string(),
            kind: "ServiceAccount".to_string(),
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }

    /// Whether `object` is the object this reference names.
    pub fn matches(&self, object: &Value) -> bool {
        let field = |path: &[&str]| str_at(object, path);
        // Hosts may prune apiVersion/kind (field masks); name and namespace must match.
        field(&["metadata", "name"]) == Some(self.name.as_str())
            && field(&["metadata", "namespace"]) == self.namespace.as_deref()
            && field(&["kind"]).is_none_or(|k| k == self.kind)
            && field(&["apiVersion"]).is_none_or(|v| v == self.api_version)
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What the host could read of the objects named by [`needs`].
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The objects that exist. An object named by `needs` and absent here does not exist.
    pub objects: Vec<Value>,
    /// Objects that could not be read for another reason than "not found", with the reason.
    pub failures: Vec<(ObjectRef, String)>,
}

impl Context {
    /// The object `wanted` names, or why it is missing.
    pub fn lookup(&self, wanted: &ObjectRef) -> Result<&Value, String> {
        if let Some(object) = self.objects.iter().find(|o| wanted.matches(o)) {
            return Ok(object);
        }
        match self.failures.iter().find(|(r, _)| r == wanted) {
            Some((_, reason)) => Err(reason.clone()),
            None => Err("not found".to_string()),
        }
    }
}

/// The policy's answer to one admission request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub allowed: bool,
    /// Why the request was rejected.
    pub message: Option<String>,
    /// HTTP status code of a rejection.
    pub code: Option<u16>,
    /// Admission warnings shown to the user by kubectl.
    pub warnings: Vec<String>,
    /// The mutation; empty when the object is admitted unchanged.
    pub patch: Patch,
}

impl Outcome {
    fn admit(warnings: Vec<String>) -> Outcome {
        Outcome {
            allowed: true,
            warnings,
            ..Outcome::default()
        }
    }

    fn reject(message: String, code: u16, warnings: Vec<String>) -> Outcome {
        Outcome {
            allowed: false,
            message: Some(message),
            code: Some(code),
            warnings,
            patch: Patch::default(),
        }
    }

    /// The object with the patch applied, or `None` when there is nothing to change.
    pub fn mutated_object(&self, object: &Value) -> Option<Value> {
        if self.patch.0.is_empty() {
            return None;
        }
        let mut mutated = object.clone();
        // The patch was built against this very object, so it applies.
        json_patch::patch(&mut mutated, &self.patch).ok()?;
        Some(mutated)
    }
}

/// Input that is not an admission request the policy can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("admission review: not valid JSON: {0}")]
    NotJson(String),
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
struct Request<'a> {
    uid: &'a str,
    group: &'a str,
    kind: &'a str,
    operation: &'a str,
    namespace: &'a str,
    object: &'a Value,
    old_object: &'a Value,
}

impl<'a> Request<'a> {
    fn read(request: &'a Value) -> Request<'a> {
        let text = |path: &[&str]| str_at(request, path).unwrap_or("");
        Request {
            uid: text(&["uid"]),
            group: text(&["kind", "group"]),
            kind: text(&["kind", "kind"]),
            operation: text(&["operation"]),
            namespace: text(&["namespace"]),
            object: request.get("object").unwrap_or(&Value::Null),
            old_object: request.get("oldObject").unwrap_or(&Value::Null),
        }
    }

    fn is_core(&self, kind: &str) -> bool {
        self.group.is_empty() && self.kind == kind
    }

    /// Pods are mutated on CREATE only; their spec is immutable afterwards.
    fn is_pod_create(&self) -> bool {
        self.is_core("Pod") && self.operation == "CREATE"
    }

    fn is_service_account_write(&self) -> bool {
        self.is_core("ServiceAccount") && matches!(self.operation, "CREATE" | "UPDATE")
    }

    /// Namespace of the request; Pods from controllers often have none in the object.
    fn namespace(&self) -> &'a str {
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

/// The cluster objects the policy must read to answer `request` (an AdmissionRequest).
pub fn needs(settings: &Settings, request: &Value) -> Vec<ObjectRef> {
    let req = Request::read(request);
    if req.is_pod_create()
        && let Ok(name) = mutation::service_account_name(req.object)
    {
        return vec![ObjectRef::service_account(req.namespace(), name)];
    }
    let _ = settings;
    Vec::new()
}

/// Decides `request` (an AdmissionRequest) with the objects the host read.
pub fn review(settings: &Settings, request: &Value, context: &Context) -> Outcome {
    let req = Request::read(request);
    if req.is_pod_create() {
        review_pod(settings, &req, context)
    } else if req.is_service_account_write() {
        review_service_account(settings, &req)
    } else {
        Outcome::admit(Vec::new())
    }
}

fn review_pod(settings: &Settings, req: &Request, context: &Context) -> Outcome {
    let pod = req.object;
    let namespace = req.namespace();
    let name = match mutation::service_account_name(pod) {
        Ok(name) => name,
        Err(e) => return Outcome::reject(e.to_string(), 400, Vec::new()),
    };
    let wanted = ObjectRef::service_account(namespace, name);
    let mut warnings = Vec::new();
    let service_account = match context.lookup(&wanted) {
        Ok(sa) => Some(sa),
        Err(reason) => {
            warnings.push(format!(
                "cannot read ServiceAccount {namespace}/{name} ({reason}): its IAM role annotations are not applied to this Pod"
            ));
            None
        }
    };
    let pod_request = PodRequest {
        pod,
        namespace,
        uid: req.uid,
        service_account,
    };
    match mutation::inject_web_identity(settings, &pod_request) {
        Ok(injection) => {
            warnings.extend(injection.warnings);
            if let Some(credentials) = &injection.credentials {
                warnings.extend(trust_validation::pod_warnings(
                    settings,
                    namespace,
                    credentials,
                ));
            }
            Outcome {
                allowed: true,
                message: None,
                code: None,
                warnings,
                patch: injection.patch,
            }
        }
        Err(e) => Outcome::reject(e.to_string(), 400, warnings),
    }
}

fn review_service_account(settings: &Settings, req: &Request) -> Outcome {
    let object = match req.object {
        Value::Object(_) => req.object,
        other => {
            return Outcome::reject(
                format!(
                    "request.object: expected a ServiceAccount object, got {}",
                    type_name(other)
                ),
                400,
                Vec::new(),
            );
        }
    };
    let _ = req.old_object;
    let report = trust_validation::review_service_account(settings, req.namespace(), object);
    match report.rejection {
        Some(message) => Outcome::reject(message, 403, report.warnings),
        None => Outcome::admit(report.warnings),
    }
}

/// The AdmissionResponse (admission.k8s.io/v1) for `outcome`: uid, allowed, warnings,
/// status on rejection, and a base64 JSONPatch for a mutation.
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

/// Kubewarden's `ValidationResponse` (policy SDK `response::ValidationResponse`), with the
/// SDK's field names and `null` for absent members: the answer of the waPC `validate` call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidationResponse {
    pub accepted: bool,
    pub message: Option<String>,
    pub code: Option<u16>,
    /// The whole object after the mutation; `None` when unchanged.
    pub mutated_object: Option<Value>,
    pub audit_annotations: Option<BTreeMap<String, String>>,
    pub warnings: Option<Vec<String>>,
}

impl ValidationResponse {
    /// A request the policy cannot read: rejected with code 400. An error would become an
    /// HTTP 500 on the host instead.
    fn unreadable(message: String) -> ValidationResponse {
        ValidationResponse {
            accepted: false,
            message: Some(message),
            code: Some(400),
            ..ValidationResponse::default()
        }
    }
}

/// Kubewarden's `validate` call: payload `{"settings": …, "request": …}` in, a
/// [`ValidationResponse`] out; `lookup` reads the objects [`needs`] names.
///
/// A policy server sends the same settings with every request, so the settings of the last
/// call are kept, parsed, and reused while the payload carries the same settings text; the
/// settings are not even parsed into a tree then, only scanned.
#[derive(Debug, Default)]
pub struct Validator {
    /// The settings JSON text of the last call and what it parsed into.
    settings: Option<(String, Result<Settings, String>)>,
}

/// The `validate` payload, settings left as text for [`Validator::settings`].
struct Payload<'a> {
    settings: Option<&'a RawValue>,
    request: Option<Value>,
}

impl<'de> Deserialize<'de> for Payload<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // By hand: a derived struct would also accept a JSON array of the two values.
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Payload<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object with settings and request")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Payload<'de>, A::Error> {
                let mut payload = Payload {
                    settings: None,
                    request: None,
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "settings" => payload.settings = Some(map.next_value()?),
                        "request" => payload.request = Some(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(payload)
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl Validator {
    pub fn new() -> Validator {
        Validator::default()
    }

    /// Answers one `validate` payload. `lookup` answers like Kubewarden's
    /// `kubernetes/get_resource`: an error whose text contains `Cannot find` means the
    /// object does not exist (Kubewarden says so only through this text).
    pub fn validate(
        &mut self,
        payload: &[u8],
        lookup: impl FnMut(&ObjectRef) -> Result<Value, String>,
    ) -> ValidationResponse {
        self.decide(payload, lookup)
            .unwrap_or_else(ValidationResponse::unreadable)
    }

    fn decide(
        &mut self,
        payload: &[u8],
        mut lookup: impl FnMut(&ObjectRef) -> Result<Value, String>,
    ) -> Result<ValidationResponse, String> {
        let payload: Payload = serde_json::from_slice(payload).map_err(|e| {
            if e.is_data() {
                format!("validation request: {e}")
            } else {
                format!("validation request: not valid JSON: {e}")
            }
        })?;
        let settings = self.settings(payload.settings.map_or("null", RawValue::get))?;
        let mut request = match payload.request {
            Some(request @ Value::Object(_)) => request,
            _ => return Err("validation request: no AdmissionRequest object".to_string()),
        };
        let mut context = Context::default();
        for wanted in needs(settings, &request) {
            match lookup(&wanted) {
                Ok(object) => context.objects.push(object),
                Err(reason) if reason.contains("Cannot find") => {}
                Err(reason) => context.failures.push((wanted, reason)),
            }
        }
        let outcome = review(settings, &request, &context);
        // The request is ours: the object is patched in place instead of copied.
        let mutated_object = match request.get_mut("object") {
            Some(object) if !outcome.patch.0.is_empty() => {
                let mut object = object.take();
                // The patch was built against this very object, so it applies.
                mutation::apply(&mut object, outcome.patch)
                    .ok()
                    .map(|()| object)
            }
            _ => None,
        };
        Ok(ValidationResponse {
            accepted: outcome.allowed,
            message: outcome.message,
            code: outcome.code,
            mutated_object,
            audit_annotations: None,
            warnings: (!outcome.warnings.is_empty()).then_some(outcome.warnings),
        })
    }

    /// The settings of `json` (`null`: the defaults), parsed once per distinct settings text.
    fn settings(&mut self, json: &str) -> Result<&Settings, String> {
        if !matches!(&self.settings, Some((text, _)) if text == json) {
            self.settings = None;
        }
        let (_, parsed) = self.settings.get_or_insert_with(|| {
            let parsed = Settings::parse(json).map_err(|e| e.to_string());
            (json.to_string(), parsed)
        });
        parsed.as_ref().map_err(String::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(settings: Value) -> Vec<u8> {
        let request = json!({
            "uid": "u1",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE",
            "namespace": "ns",
            "object": {"metadata": {"name": "p"}, "spec": {"serviceAccountName": "sa", "containers": [{"name": "c"}]}}
        });
        serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap()
    }

    fn service_account(_: &ObjectRef) -> Result<Value, String> {
        Ok(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "sa", "namespace": "ns",
                "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r"}}
        }))
    }

    fn env_names(response: &ValidationResponse) -> Vec<String> {
        let object = response.mutated_object.as_ref().expect("mutated");
        object["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn validator_follows_changed_settings() {
        let mut validator = Validator::new();
        let first = validator.validate(&payload(json!({})), service_account);
        assert!(first.accepted);
        assert!(!env_names(&first).contains(&"AWS_REGION".to_string()));
        let second = validator.validate(&payload(json!({"region": "eu-west-1"})), service_account);
        assert!(env_names(&second).contains(&"AWS_REGION".to_string()));
        let bad = validator.validate(&payload(json!({"tokenExpiraton": 1})), service_account);
        assert!(!bad.accepted);
        assert_eq!(bad.code, Some(400));
        let again = validator.validate(&payload(json!({"region": "eu-west-1"})), service_account);
        assert_eq!(again, second);
    }

    #[test]
    fn validator_answers_unreadable_payloads() {
        let mut validator = Validator::new();
        let not_json = validator.validate(b"{", service_account);
        assert!(!not_json.accepted);
        assert!(
            not_json
                .message
                .unwrap()
                .starts_with("validation request: not valid JSON")
        );
        for no_request in [&b"{}"[..], br#"{"settings": {}, "request": [1]}"#] {
            let answer = validator.validate(no_request, service_account);
            assert_eq!(
                answer.message.as_deref(),
                Some("validation request: no AdmissionRequest object")
            );
        }
        // Not the object the protocol sends, also as an array of settings and request.
        let array = validator.validate(br#"[{}, {"uid": "u"}]"#, service_account);
        assert_eq!(array.code, Some(400));
        let message = array.message.unwrap();
        assert!(
            message.starts_with(
                "validation request: invalid type: sequence, expected an object with settings and request"
            ),
            "{message}"
        );
    }

    #[test]
    fn missing_service_account_is_a_warning() {
        let mut validator = Validator::new();
        let answer = validator.validate(&payload(json!({})), |wanted: &ObjectRef| {
            Err(format!(
                "Cannot find v1/ServiceAccount named '{}'",
                wanted.name
            ))
        });
        assert!(answer.accepted);
        assert!(answer.mutated_object.is_none());
        assert_eq!(answer.warnings.unwrap().len(), 1);
    }

    /// Settings whose trust-policy template lists its members in another order, for a role
    /// whose trust policy does not trust `ns/sa`.
    fn template_settings(statement: Value) -> Value {
        let provider = "arn:aws:iam::111122223333:oidc-provider/oidc.example/x";
        json!({
            "trustValidation": "warn",
            "oidcProvider": {"providerUrl": "https://oidc.example/x"},
            "trustPolicy": {"Version": "2012-10-17", "Statement": [statement]},
            "roleTrustPolicies": {"arn:aws:iam::111122223333:role/r": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"oidc.example/x:sub": "system:serviceaccount:other:sa"}}}]
            }}
        })
    }

    #[test]
    fn member_order_counts_for_the_settings_cache() {
        // The order shows in the trust policy the warning proposes, so settings that differ
        // only in order must not share a cache entry.
        let provider = "arn:aws:iam::111122223333:oidc-provider/oidc.example/x";
        let condition = json!({"StringEquals": {"oidc.example/x:sub": "system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>"}});
        let effect_first = template_settings(json!({"Effect": "Allow",
            "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition}));
        let action_first = template_settings(json!({"Action": "sts:AssumeRoleWithWebIdentity",
            "Effect": "Allow", "Principal": {"Federated": provider}, "Condition": condition}));
        let mut validator = Validator::new();
        let warning = |validator: &mut Validator, settings: &Value| {
            let answer = validator.validate(&payload(settings.clone()), service_account);
            assert!(answer.accepted);
            answer
                .warnings
                .expect("the untrusted role is reported")
                .join("\n")
        };
        let first = warning(&mut validator, &effect_first);
        assert!(
            first.contains(r#"{"Effect":"Allow","Principal""#),
            "{first}"
        );
        let second = warning(&mut validator, &action_first);
        assert!(
            second.contains(r#"{"Action":"sts:AssumeRoleWithWebIdentity","Effect""#),
            "{second}"
        );
        assert_eq!(warning(&mut validator, &effect_first), first);
    }
}
