//! Recorded admission test cases: one JSON file per case under the repository's
//! `tests/fixtures/<group>/<case>.json`.
//!
//! A case holds the policy settings, the AdmissionReview, the cluster objects the host's
//! `kubernetes/get_resource` answers with, the reads it fails (with the host's error text),
//! and the expected answer. This crate only loads
//! and compares; it does not know the policy, so the policy's own tests and the wasmtime
//! host's tests can both replay the same files. [`hostile`] holds the inputs too big for a
//! file, as data, for the same two harnesses; [`sized`] builds requests grown in one kind of
//! data to any size, for the scaling test and the worst-case benchmark.
//!
//! ```json
//! {
//!   "description": "what the case checks",
//!   "settings": {},
//!   "review": { "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {} },
//!   "cluster": [ { "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {} } ],
//!   "hostErrors": [ { "object": { "apiVersion": "v1", "kind": "ServiceAccount",
//!                                 "namespace": "ns", "name": "sa" },
//!                     "error": "Callback evaluation failure: ..." } ],
//!   "expect": { "allowed": true, "pod": {}, "expirationRange": [79200, 86400],
//!               "warnings": [], "message": "only when allowed is false",
//!               "log": { "level": "info", "message": "...", "uid": "..." },
//!               "auditAnnotations": { "mode": "web-identity" },
//!               "settingsError": "only in a case whose settings the policy refuses" }
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod hostile;
pub mod sized;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use awi_trust::k8s::ObjectRef;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One recorded admission request and the answer expected for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Case {
    /// What the case checks, citing the reference section or issue.
    pub description: String,
    /// The policy settings (`{}` when omitted).
    #[serde(default = "empty_object")]
    pub settings: Value,
    /// The AdmissionReview (admission.k8s.io/v1) sent to the policy; absent in a case about
    /// settings the policy must refuse.
    #[serde(default)]
    pub review: Value,
    /// The objects that exist in the cluster; anything else is not found.
    #[serde(default)]
    pub cluster: Vec<Value>,
    /// Reads the host fails, with its error text, whatever `cluster` holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_errors: Vec<HostError>,
    /// The answer expected.
    pub expect: Expect,
}

/// A read the host fails: `kubernetes/get_resource` of `object` answers with `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostError {
    /// The object whose read fails.
    pub object: ObjectRef,
    /// The host's error text, as Kubewarden's policy server answers the host call
    /// (`Callback evaluation failure: ...`); the waPC guest library prefixes `Host error: `.
    pub error: String,
}

/// The expected answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The mutated Pod; absent when the object must be admitted unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Value>,
    /// Where the expected Pod says 79200 for a projected token's `expirationSeconds`, any
    /// value in this inclusive range is accepted (container-credentials jitter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_range: Option<[i64; 2]>,
    /// The admission warnings, exactly and in order.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The rejection message (only when `allowed` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The one log record of the decision, exactly: `level`, `message` and every field, as
    /// one JSON object (the SDK drain's source location aside). Not checked when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Value>,
    /// The response's `auditAnnotations`, exactly (`{}`: none). Not checked when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_annotations: Option<BTreeMap<String, String>>,
    /// The message with which the policy refuses the settings; such a case has no review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

impl Case {
    /// The settings as the JSON text a policy receives.
    pub fn settings_json(&self) -> String {
        self.settings.to_string()
    }

    /// The objects of `cluster` and the failing reads of `hostErrors`, as a host would
    /// answer lookups with.
    pub fn cluster(&self) -> Cluster {
        Cluster {
            objects: self.cluster.clone(),
            errors: self.host_errors.clone(),
        }
    }

    /// `expect.expirationRange` as a pair.
    pub fn expiration_range(&self) -> Option<(i64, i64)> {
        self.expect.expiration_range.map(|[low, high]| (low, high))
    }
}

/// Keys the SDK's log drain adds to every record (where in the policy's source it was
/// logged); not part of the decision.
pub const LOG_LOCATION_KEYS: [&str; 3] = ["file", "line", "column"];

/// A record as Kubewarden's host receives it, without [`LOG_LOCATION_KEYS`].
pub fn without_location(record: &Value) -> Value {
    let mut record = record.clone();
    if let Some(map) = record.as_object_mut() {
        for key in LOG_LOCATION_KEYS {
            map.remove(key);
        }
    }
    record
}

/// The `auditAnnotations` of an AdmissionResponse (none: empty).
pub fn audit_annotations(response: &Value) -> Result<BTreeMap<String, String>, String> {
    match response.get("auditAnnotations") {
        None => Ok(BTreeMap::new()),
        Some(map) => serde_json::from_value(map.clone())
            .map_err(|e| format!("response.auditAnnotations: {e}")),
    }
}

/// The differences between the expected and the actual log record and audit annotations of
/// `case` (only what the case records), one line each; empty when they match.
pub fn decision_differences(
    expect: &Expect,
    log: Option<&Value>,
    audit_annotations: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(expected) = &expect.log
        && log != Some(expected)
    {
        let actual = log.map_or_else(|| "no record".to_string(), Value::to_string);
        out.push(format!("log record: expected {expected}, got {actual}"));
    }
    if let Some(expected) = &expect.audit_annotations
        && expected != audit_annotations
    {
        out.push(format!(
            "auditAnnotations: expected {expected:?}, got {audit_annotations:?}"
        ));
    }
    out
}

/// The repository's `tests/fixtures` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("tests").join("fixtures"))
        .unwrap_or_else(|| PathBuf::from("tests/fixtures"))
}

/// Reads one case file.
pub fn load(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every `*.json` case under `dir`, recursively, sorted by path.
///
/// # Panics
/// When a file cannot be read or is not a case: a broken fixture must fail the tests.
pub fn load_all(dir: &Path) -> Vec<(PathBuf, Case)> {
    let mut paths = Vec::new();
    collect_json(dir, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let case = load(&path).unwrap_or_else(|e| panic!("bad test case {e}"));
            (path, case)
        })
        .collect()
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list test cases in {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// The cluster of a case: the objects that exist and the reads that fail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    /// The objects, as the cluster returns them.
    pub objects: Vec<Value>,
    /// The reads the host fails.
    pub errors: Vec<HostError>,
}

impl Cluster {
    /// The host's error text for a read of `wanted`, when the case makes that read fail.
    pub fn error(&self, wanted: &ObjectRef) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.object == *wanted)
            .map(|e| e.error.as_str())
    }

    /// The object `wanted` names, by the policy's own matching rule
    /// ([`ObjectRef::matches`]); `None` when the case's cluster does not hold it. What a host
    /// answers then (Kubewarden's "Cannot find ..." text) is the host's business.
    pub fn find(&self, wanted: &ObjectRef) -> Option<&Value> {
        self.objects.iter().find(|o| wanted.matches(o))
    }
}

/// Fields of a Kubernetes `VolumeMount`; others are unknown to the Pod schema.
const VOLUME_MOUNT_FIELDS: &[&str] = &[
    "name",
    "readOnly",
    "recursiveReadOnly",
    "mountPath",
    "subPath",
    "mountPropagation",
    "subPathExpr",
];

/// The Pod normalised for comparison (as the webhook's own fixture test compares them): null-valued keys dropped,
/// empty `resources: {}` dropped, and in every container's `volumeMounts` a missing
/// `mountPath` read as `""` and keys unknown to the Pod schema dropped (the Go webhook
/// re-serialises containers through its typed model).
pub fn normalize_pod(pod: &Value) -> Value {
    let mut pod = drop_nulls_and_empty_resources(pod);
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(containers) = pod
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for container in containers {
            let Some(mounts) = container
                .get_mut("volumeMounts")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for mount in mounts.iter_mut().filter_map(Value::as_object_mut) {
                mount.retain(|key, _| VOLUME_MOUNT_FIELDS.contains(&key.as_str()));
                mount
                    .entry("mountPath")
                    .or_insert_with(|| Value::String(String::new()));
            }
        }
    }
    pod
}

fn drop_nulls_and_empty_resources(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, v)| {
                    let empty_resources =
                        key.as_str() == "resources" && v.as_object().is_some_and(Map::is_empty);
                    !v.is_null() && !empty_resources
                })
                .map(|(key, v)| (key.clone(), drop_nulls_and_empty_resources(v)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(drop_nulls_and_empty_resources).collect())
        }
        other => other.clone(),
    }
}

/// The differences between the normalised `expected` and `actual` Pods, one line each with
/// its JSON Pointer; empty when they match.
pub fn pod_differences(
    expected: &Value,
    actual: &Value,
    expiration_range: Option<(i64, i64)>,
) -> Vec<String> {
    let mut out = Vec::new();
    diff(
        &normalize_pod(expected),
        &normalize_pod(actual),
        String::new(),
        expiration_range,
        &mut out,
    );
    out
}

/// Asserts that `actual` is the `expected` Pod after normalisation.
///
/// # Panics
/// With every difference and both Pods when they do not match.
pub fn assert_pod_matches(expected: &Value, actual: &Value, expiration_range: Option<(i64, i64)>) {
    let differences = pod_differences(expected, actual, expiration_range);
    if !differences.is_empty() {
        panic!("{}", describe_mismatch(&differences, expected, actual));
    }
}

/// A readable report of a Pod mismatch.
pub fn describe_mismatch(differences: &[String], expected: &Value, actual: &Value) -> String {
    let mut text = String::from("Pods differ:\n");
    for line in differences {
        let _ = writeln!(text, "  {line}");
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(&normalize_pod(v)).unwrap_or_default();
    let _ = write!(
        text,
        "expected (normalised):\n{}\nactual (normalised):\n{}",
        pretty(expected),
        pretty(actual)
    );
    text
}

/// A token lifetime the range accepts in place of the expected 79200.
const JITTER_FLOOR: i64 = 79200;

fn diff(
    expected: &Value,
    actual: &Value,
    at: String,
    range: Option<(i64, i64)>,
    out: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let path = format!("{at}/{}", escape(key));
                match a.get(key) {
                    Some(av) => diff(ev, av, path, range, out),
                    None => out.push(format!("{path}: missing, expected {ev}")),
                }
            }
            for (key, av) in a {
                if !e.contains_key(key) {
                    out.push(format!("{at}/{}: unexpected {av}", escape(key)));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(ev, av, format!("{at}/{i}"), range, out);
            }
            for (i, ev) in e.iter().enumerate().skip(a.len()) {
                out.push(format!("{at}/{i}: missing, expected {ev}"));
            }
            for (i, av) in a.iter().enumerate().skip(e.len()) {
                out.push(format!("{at}/{i}: unexpected {av}"));
            }
        }
        _ if expected == actual => {}
        _ => {
            let jitter_ok = at.ends_with("/serviceAccountToken/expirationSeconds")
                && expected.as_i64() == Some(JITTER_FLOOR)
                && matches!((range, actual.as_i64()), (Some((low, high)), Some(n)) if (low..=high).contains(&n));
            if !jitter_ok {
                out.push(format!("{at}: expected {expected}, got {actual}"));
            }
        }
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lookup_matches_all_four_coordinates() {
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "api", "namespace": "ns"}});
        let cluster = Cluster {
            objects: vec![sa.clone()],
            errors: Vec::new(),
        };
        assert_eq!(
            cluster.find(&ObjectRef::service_account("ns", "api")),
            Some(&sa)
        );
        assert!(
            Cluster::default()
                .find(&ObjectRef::service_account("ns", "api"))
                .is_none()
        );
        assert!(
            cluster
                .find(&ObjectRef::service_account("other", "api"))
                .is_none()
        );
        let secret = ObjectRef {
            kind: "Secret".to_string(),
            ..ObjectRef::service_account("ns", "api")
        };
        assert!(cluster.find(&secret).is_none());
    }

    #[test]
    fn host_errors_name_the_object_whose_read_fails() {
        let case: Case = serde_json::from_value(json!({
            "description": "d",
            "hostErrors": [{"object": {"apiVersion": "v1", "kind": "ServiceAccount",
                "namespace": "ns", "name": "api"}, "error": "Host error: boom"}],
            "expect": {"allowed": true}
        }))
        .unwrap();
        let cluster = case.cluster();
        assert_eq!(
            cluster.error(&ObjectRef::service_account("ns", "api")),
            Some("Host error: boom")
        );
        assert_eq!(
            cluster.error(&ObjectRef::service_account("ns", "web")),
            None
        );
    }

    #[test]
    fn normalisation_follows_the_replay_recipe() {
        let pod = json!({"spec": {"containers": [{"name": "a", "resources": {}, "probe": {"service": null},
            "volumeMounts": [{"name": "v", "path": "/x"}]}]}});
        assert_eq!(
            normalize_pod(&pod),
            json!({"spec": {"containers": [{"name": "a", "probe": {},
                "volumeMounts": [{"name": "v", "mountPath": ""}]}]}})
        );
    }

    #[test]
    fn differences_name_the_pointer() {
        let expected = json!({"spec": {"volumes": [{"projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 79200}}]}}], "a": 1}});
        let actual = json!({"spec": {"volumes": [{"projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 80000}}]}}], "b": 1}});
        assert_eq!(
            pod_differences(&expected, &actual, Some((79200, 86400))),
            ["/spec/a: missing, expected 1", "/spec/b: unexpected 1"]
        );
        let without_range = pod_differences(&expected, &actual, None);
        assert_eq!(without_range.len(), 3, "{without_range:?}");
        assert!(
            without_range.contains(&"/spec/volumes/0/projected/sources/0/serviceAccountToken/expirationSeconds: expected 79200, got 80000".to_string()),
            "{without_range:?}"
        );
    }
}
