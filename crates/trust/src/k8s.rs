//! Kubernetes facts the whole product leans on: the DNS-1123 name grammars (namespaces,
//! ServiceAccounts, volumes, annotation prefixes), the bounds Kubernetes puts on projected
//! token lifetimes, and [`ObjectRef`], the name of a cluster object the policy reads. Ground
//! floor: it imports only the JSON readers, so the trust engine, the settings, the Pod
//! mutation, the admission layer and the `awi` host all use one definition.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::str_at;

/// Kubernetes refuses projected token lifetimes below ten minutes.
pub const MIN_TOKEN_EXPIRATION: i64 = 600;
/// Kubernetes refuses projected token lifetimes above 2^32 seconds.
pub const MAX_TOKEN_EXPIRATION: i64 = 1 << 32;

/// A Kubernetes DNS-1123 label: namespaces, volume names.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes DNS-1123 subdomain: ServiceAccount names, annotation prefixes.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// A namespace or ServiceAccount name that Kubernetes would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: expected {expected}")]
pub struct InvalidName {
    /// `namespace` or `ServiceAccount name`.
    pub what: &'static str,
    /// The name as given.
    pub value: String,
    /// The grammar it breaks.
    pub expected: &'static str,
}

/// Refuses names that no ServiceAccount can have: a `:` or `*` in them would forge a
/// different `sub`.
pub fn check_names(namespace: &str, service_account: &str) -> Result<(), InvalidName> {
    if !is_dns_label(namespace) {
        return Err(InvalidName {
            what: "namespace",
            value: namespace.to_string(),
            expected: "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
        });
    }
    if !is_dns_subdomain(service_account) {
        return Err(InvalidName {
            what: "ServiceAccount name",
            value: service_account.to_string(),
            expected: "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
        });
    }
    Ok(())
}

/// A cluster object the policy needs to read (`admission.needs`, Kubewarden's
/// `get_resource`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `v1` for a ServiceAccount.
    pub api_version: String,
    /// `ServiceAccount`.
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// `metadata.name`.
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

    /// Whether `object` is the object this reference names. Objects without `apiVersion` or
    /// `kind` (pruned by field masks) match on name and namespace alone.
    pub fn matches(&self, object: &Value) -> bool {
        let field = |path: &[&str]| str_at(object, path);
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
