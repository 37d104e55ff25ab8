//! Reading the raw Pod: the fields the mutation reads, with errors that name the field and
//! what was expected. Fields the policy does not read are never looked at, so a Pod carrying
//! fields no Kubernetes version knows yet passes through untouched.

use serde_json::{Map, Value};

use super::MutationError;
use awi_trust::json::type_name;

/// The Pod as an object.
pub fn object(pod: &Value) -> Result<&Map<String, Value>, MutationError> {
    pod.as_object().ok_or(MutationError::NotAnObject {
        found: type_name(pod),
    })
}

/// `field` of `parent`: `None` when absent or `null`, an error when of another type than
/// `expected` says.
fn typed<'a, T>(
    parent: &'a Map<String, Value>,
    key: &str,
    field: impl FnOnce() -> String,
    expected: &'static str,
    read: impl FnOnce(&'a Value) -> Option<T>,
) -> Result<Option<T>, MutationError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => read(value)
            .map(Some)
            .ok_or_else(|| MutationError::WrongType {
                field: field(),
                expected,
                found: type_name(value),
            }),
    }
}

/// An optional object member.
pub fn opt_object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    field: impl FnOnce() -> String,
) -> Result<Option<&'a Map<String, Value>>, MutationError> {
    typed(parent, key, field, "an object", Value::as_object)
}

/// An optional array member.
pub fn opt_array<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    field: impl FnOnce() -> String,
) -> Result<Option<&'a Vec<Value>>, MutationError> {
    typed(parent, key, field, "an array", Value::as_array)
}

/// An optional string member.
pub fn opt_str<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    field: impl FnOnce() -> String,
) -> Result<Option<&'a str>, MutationError> {
    typed(parent, key, field, "a string", Value::as_str)
}

/// `spec`, which a Pod the policy mutates must have.
pub fn spec(pod: &Map<String, Value>) -> Result<&Map<String, Value>, MutationError> {
    opt_object(pod, "spec", || "spec".to_string())?.ok_or(MutationError::WrongType {
        field: "spec".to_string(),
        expected: "an object",
        found: "nothing",
    })
}

/// The Pod annotation `<prefix>/<suffix>`, when present, with its key. Found by a scan
/// rather than by formatting the key for a lookup: it runs on every admission, and Pods
/// carry few annotations.
pub fn prefixed_annotation<'a>(
    pod: &'a Map<String, Value>,
    prefix: &str,
    suffix: &str,
) -> Result<Option<(&'a str, &'a str)>, MutationError> {
    let Some(metadata) = opt_object(pod, "metadata", || "metadata".to_string())? else {
        return Ok(None);
    };
    let Some(annotations) = opt_object(metadata, "annotations", || {
        "metadata.annotations".to_string()
    })?
    else {
        return Ok(None);
    };
    let Some(key) = prefixed_key(annotations, prefix, suffix) else {
        return Ok(None);
    };
    let value = opt_str(annotations, key, || {
        format!("metadata.annotations[{key:?}]")
    })?;
    Ok(value.map(|value| (key, value)))
}

/// The key of `members` that is `<prefix>/<suffix>`.
pub fn prefixed_key<'a>(
    members: &'a Map<String, Value>,
    prefix: &str,
    suffix: &str,
) -> Option<&'a str> {
    members
        .keys()
        .find(|key| {
            key.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'))
                == Some(suffix)
        })
        .map(String::as_str)
}

/// A metadata string (`name`, `generateName`) when present and non-empty; read leniently,
/// since it only names the Pod in messages and session names.
pub fn metadata_str<'a>(pod: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    pod.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether the Pod runs on Windows: `kubernetes.io/os` or `beta.kubernetes.io/os` node
/// selector `windows` (as Amazon's webhook does), or `spec.os.name: windows`.
pub fn is_windows(spec: &Map<String, Value>) -> bool {
    let selector = |key: &str| {
        spec.get("nodeSelector")
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            == Some("windows")
    };
    let os_name = spec
        .get("os")
        .and_then(|os| os.get("name"))
        .and_then(Value::as_str);
    selector("kubernetes.io/os") || selector("beta.kubernetes.io/os") || os_name == Some("windows")
}

/// How the Pod is named in warnings: `Pod <ns>/<name>`, or its generateName followed by `*`.
pub fn display_name(pod: &Map<String, Value>, namespace: &str) -> String {
    match (metadata_str(pod, "name"), metadata_str(pod, "generateName")) {
        (Some(name), _) => format!("Pod {namespace}/{name}"),
        (None, Some(prefix)) => format!("Pod {namespace}/{prefix}*"),
        (None, None) => format!("Pod in namespace {namespace}"),
    }
}
