//! Where the host reads the cluster objects the policy asks for.
//!
//! Both ABIs need the same thing: the waPC guest calls `kubewarden/kubernetes/get_resource`
//! for the Pod's ServiceAccount, and a WIT host fetches what `admission.needs` names before
//! calling `admission.review`. Both are answered by a [`Cluster`]. [`Objects`] is the
//! in-memory one used by `awi` and the tests; it fails like Kubewarden's host does, so the
//! policy sees the same error text as in a real cluster.

use serde_json::Value;

pub use awi_trust::k8s::ObjectRef;

/// Kubewarden's answer for an object that does not exist, word for word: the policy reads
/// "not found" out of this text.
pub fn not_found_message(wanted: &ObjectRef) -> String {
    format!(
        "Cannot find {}/{} named '{}' inside of namespace '{:?}'",
        wanted.api_version, wanted.kind, wanted.name, wanted.namespace
    )
}

/// A source of cluster objects for the policy.
///
/// `Send + Sync` because the waPC host callback may be called from any thread.
pub trait Cluster: Send + Sync {
    /// The object `wanted` names, or why it cannot be read. For an object that does not
    /// exist, return [`not_found_message`], as Kubewarden does.
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

/// A cluster made of a fixed list of objects (e.g. ServiceAccount manifests), or one whose
/// reads all fail with a given host error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects {
    objects: Vec<Value>,
    failure: Option<String>,
}

impl Objects {
    /// A cluster holding `objects`.
    pub fn new(objects: Vec<Value>) -> Objects {
        Objects {
            objects,
            failure: None,
        }
    }

    /// Makes every read fail with `text`, the host's error (e.g. Kubewarden's text for an
    /// API server that answered 503), whatever objects are held.
    pub fn fail_every_read(&mut self, text: impl Into<String>) {
        self.failure = Some(text.into());
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
        if let Some(text) = &self.failure {
            return Err(text.clone());
        }
        self.objects
            .iter()
            .find(|o| wanted.matches(o))
            .cloned()
            .ok_or_else(|| not_found_message(wanted))
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
    fn a_failing_cluster_fails_every_read() {
        let mut cluster = Objects::new(vec![json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "api", "namespace": "payments"}
        })]);
        cluster.fail_every_read("boom");
        assert_eq!(cluster.get(&sa("payments", "api")), Err("boom".to_string()));
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
