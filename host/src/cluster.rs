//! Where the host reads the cluster objects the policy asks for.
//!
//! Both ABIs need the same thing: the waPC guest calls `kubewarden/kubernetes/get_resource`
//! for the Pod's ServiceAccount, and a WIT host fetches what `admission.needs` names before
//! calling `admission.review`. Both are answered by a [`Cluster`]. [`Objects`] is the
//! in-memory one used by `awi` and the tests; it fails like Kubewarden's host does, so the
//! policy sees the same error text as in a real cluster.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A cluster object, as the policy names it (`admission.needs`, `get_resource`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// Whether `object` is the object this reference names. Objects without `apiVersion` or
    /// `kind` (pruned by field masks) match on name and namespace alone.
    pub fn matches(&self, object: &Value) -> bool {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        text("/metadata/name") == Some(self.name.as_str())
            && text("/metadata/namespace") == self.namespace.as_deref()
            && text("/kind").is_none_or(|k| k == self.kind)
            && text("/apiVersion").is_none_or(|v| v == self.api_version)
    }

    /// Kubewarden's answer for an object that does not exist, word for word.
    pub fn not_found_message(&self) -> String {
        format!(
            "Cannot find {}/{} named '{}' inside of namespace '{:?}'",
            self.api_version, self.kind, self.name, self.namespace
        )
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

/// A source of cluster objects for the policy.
///
/// `Send + Sync` because the waPC host callback may be called from any thread.
pub trait Cluster: Send + Sync {
    /// The object `wanted` names, or why it cannot be read. For an object that does not
    /// exist, return [`ObjectRef::not_found_message`], as Kubewarden does.
    fn get(&self, wanted: &ObjectRef) -> Result<Value, String>;
}

impl<C: Cluster + ?Sized> Cluster for &C {
    fn get(&self, wanted: &ObjectRef) -> Result<Value, String> {
        (**self).get(wanted)
    }
}

impl<C: Cluster + ?Sized> Cluster for std::sync::Arc<C> {
    fn get(&self, wanted: &ObjectRef) -> Result<Value, String> {
        (**self).get(wanted)
    }
}

impl<C: Cluster + ?Sized> Cluster for Box<C> {
    fn get(&self, wanted: &ObjectRef) -> Result<Value, String> {
        (**self).get(wanted)
    }
}

/// A cluster made of a fixed list of objects (e.g. ServiceAccount manifests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects {
    objects: Vec<Value>,
}

impl Objects {
    /// A cluster holding `objects`.
    pub fn new(objects: Vec<Value>) -> Objects {
        Objects { objects }
    }

    /// A cluster with no objects: every read is "not found".
    pub fn empty() -> Objects {
        Objects::default()
    }

    /// Adds one object.
    pub fn push(&mut self, object: Value) {
        self.objects.push(object);
    }

    /// The objects held.
    pub fn objects(&self) -> &[Value] {
        &self.objects
    }
}

impl Cluster for Objects {
    fn get(&self, wanted: &ObjectRef) -> Result<Value, String> {
        self.objects
            .iter()
            .find(|o| wanted.matches(o))
            .cloned()
            .ok_or_else(|| wanted.not_found_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sa(ns: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ServiceAccount".into(),
            namespace: Some(ns.into()),
            name: name.into(),
        }
    }

    #[test]
    fn finds_by_name_and_namespace() {
        let cluster = Objects::new(vec![json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "api", "namespace": "payments"}
        })]);
        assert!(cluster.get(&sa("payments", "api")).is_ok());
        assert!(cluster.get(&sa("default", "api")).is_err());
    }

    #[test]
    fn not_found_is_kubewardens_text() {
        let err = Objects::empty().get(&sa("ns", "x")).unwrap_err();
        assert_eq!(
            err,
            r#"Cannot find v1/ServiceAccount named 'x' inside of namespace 'Some("ns")'"#
        );
    }
}
