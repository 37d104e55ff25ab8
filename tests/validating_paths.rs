//! The validating paths beyond the recorded cases: what `needs` names for every workload
//! kind, and the promise of `validateOnly`: whatever the request, never a patch.

use aws_workload_identity::admission::{self, Lookup, ObjectRef, Prepared};
use serde_json::{Value, json};

fn request(group: &str, kind: &str, operation: &str, object: Value) -> Value {
    json!({
        "uid": "validating-paths",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "operation": operation,
        "namespace": "payments",
        "object": object,
    })
}

fn pod_template(service_account: &str) -> Value {
    json!({"spec": {"serviceAccountName": service_account, "containers": [{"name": "web"}]}})
}

/// A workload of `kind` whose Pod template runs as `service_account`.
fn workload(kind: &str, service_account: &str) -> (Value, &'static str) {
    let template = pod_template(service_account);
    match kind {
        "CronJob" => (
            json!({"metadata": {"name": "web"}, "spec": {"jobTemplate": {"spec": {"template": template}}}}),
            "batch",
        ),
        "Job" => (
            json!({"metadata": {"name": "web"}, "spec": {"template": template}}),
            "batch",
        ),
        _ => (
            json!({"metadata": {"name": "web"}, "spec": {"template": template}}),
            "apps",
        ),
    }
}

const KINDS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

#[test]
fn needs_names_the_templates_service_account_for_every_kind() {
    for kind in KINDS {
        for operation in ["CREATE", "UPDATE"] {
            let (object, group) = workload(kind, "api");
            assert_eq!(
                admission::needs(&request(group, kind, operation, object)),
                [ObjectRef::service_account("payments", "api")],
                "{kind} {operation}"
            );
        }
        let (object, group) = workload(kind, "");
        assert_eq!(
            admission::needs(&request(group, kind, "CREATE", object)),
            [ObjectRef::service_account("payments", "default")],
            "{kind} with an empty serviceAccountName"
        );
        let (object, group) = workload(kind, "api");
        assert!(admission::needs(&request(group, kind, "DELETE", object)).is_empty());
    }
}

#[test]
fn needs_names_nothing_for_a_workload_without_template() {
    let deployment = request("apps", "Deployment", "CREATE", json!({"spec": {}}));
    assert!(admission::needs(&deployment).is_empty());
    let cronjob = request(
        "batch",
        "CronJob",
        "CREATE",
        json!({"spec": {"jobTemplate": "x"}}),
    );
    assert!(admission::needs(&cronjob).is_empty());
}

#[test]
fn validate_only_never_returns_a_patch() {
    let mut answered = 0;
    for (path, case) in recorded::load_all(&recorded::fixtures_dir()) {
        let mut settings = case.settings.clone();
        let Some(object) = settings.as_object_mut() else {
            continue;
        };
        object.insert("validateOnly".into(), Value::Bool(true));
        let Ok(prepared) = Prepared::parse(&settings.to_string()) else {
            continue;
        };
        let Ok(request) = admission::request_of(&case.review) else {
            continue;
        };
        let cluster = case.cluster();
        let outcome = admission::decide(&prepared, request, |wanted| {
            cluster
                .find(wanted)
                .map_or(Lookup::NotFound, |o| Lookup::Found(o.clone()))
        });
        assert!(
            outcome.patch.0.is_empty(),
            "{}: validateOnly returned a patch",
            path.display()
        );
        answered += 1;
    }
    assert!(answered > 100, "only {answered} cases answered");
}
