//! The validating paths beyond the recorded cases: what `needs` names for every workload
//! kind, a ServiceAccount the API server refuses to hand out (a read failure the recorded
//! format cannot express), and the promise of `validateOnly`: whatever the request, never a
//! patch.

use aws_workload_identity::admission::{self, Context, Lookup, ObjectRef, Prepared};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";

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

fn unreadable() -> Context {
    Context {
        objects: Vec::new(),
        failures: vec![(
            ObjectRef::service_account("payments", "api"),
            "forbidden: the policy server may not get serviceaccounts".to_string(),
        )],
    }
}

fn enforce() -> Prepared {
    Prepared::parse(r#"{"trustValidation": "enforce", "validateOnly": true}"#).expect("valid")
}

#[test]
fn a_workload_whose_service_account_the_api_denies_is_admitted_with_a_warning() {
    let (object, group) = workload("Deployment", "api");
    let outcome = admission::review(
        &enforce(),
        &request(group, "Deployment", "CREATE", object),
        &unreadable(),
    );
    assert!(outcome.allowed);
    assert!(outcome.patch.0.is_empty());
    assert_eq!(
        outcome.warnings,
        [
            "Deployment payments/web: cannot read ServiceAccount payments/api (forbidden: the policy server may not get serviceaccounts): the AWS credentials of its Pods are not checked"
        ]
    );
}

#[test]
fn a_pod_whose_service_account_the_api_denies_is_not_compared() {
    let pod = json!({
        "metadata": {"name": "web-1"},
        "spec": {"serviceAccountName": "api", "containers": [{"name": "web",
            "env": [{"name": "AWS_ROLE_ARN", "value": ROLE}]}]}
    });
    let outcome = admission::review(
        &enforce(),
        &request("", "Pod", "CREATE", pod),
        &unreadable(),
    );
    assert!(outcome.allowed);
    assert!(outcome.patch.0.is_empty());
    assert_eq!(
        outcome.warnings,
        [
            "Pod payments/web-1: cannot read ServiceAccount payments/api (forbidden: the policy server may not get serviceaccounts): its AWS credentials are not compared with its ServiceAccount"
        ]
    );
}

/// Every recorded request, answered with `validateOnly: true` added to its settings: never a
/// patch, whatever the group expected of the mutating policy.
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
