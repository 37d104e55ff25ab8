//! A ServiceAccount the API server refuses to hand out (RBAC), through the built module: a
//! workload and a Pod under `validateOnly` are admitted, unchanged, with a warning that names
//! the ServiceAccount, through waPC and through WIT. Through waPC the warning carries the API
//! server's reason; the WIT world's `review` is given only the objects that were read, so
//! there the ServiceAccount is one that was not found. (The recorded cases can only say that
//! an object exists or not.)

mod common;

use std::sync::Arc;

use serde_json::{Value, json};

const REASON: &str = "serviceaccounts \"api\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server\" cannot get resource \"serviceaccounts\"";

/// A cluster whose API server refuses every read.
struct Forbidden;

impl awi::Cluster for Forbidden {
    fn get(&self, _wanted: &awi::ObjectRef) -> Result<Value, String> {
        Err(REASON.to_string())
    }
}

fn review(group: &str, kind: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "unreadable",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "operation": "CREATE",
            "namespace": "payments",
            "object": object,
        }
    })
}

fn template() -> Value {
    json!({"spec": {"serviceAccountName": "api", "containers": [{"name": "web"}]}})
}

/// (review, the object named at the start of the warning)
fn cases() -> Vec<(Value, &'static str)> {
    vec![
        (
            review(
                "apps",
                "Deployment",
                json!({"metadata": {"name": "web"}, "spec": {"template": template()}}),
            ),
            "Deployment payments/web: ",
        ),
        (
            review(
                "batch",
                "CronJob",
                json!({"metadata": {"name": "report"},
                       "spec": {"jobTemplate": {"spec": {"template": template()}}}}),
            ),
            "CronJob payments/report: ",
        ),
        (
            review(
                "",
                "Pod",
                json!({"metadata": {"name": "web-1"}, "spec": template()["spec"].clone()}),
            ),
            "Pod payments/web-1: ",
        ),
    ]
}

const SETTINGS: &str = r#"{"trustValidation": "enforce", "validateOnly": true}"#;

/// Admitted, unchanged, one warning about the object and its ServiceAccount, and with
/// `reason`, the API server's reason in it.
fn check(abi: &str, allowed: bool, patched: bool, warnings: &[String], start: &str, reason: bool) {
    assert!(allowed, "{abi}: rejected");
    assert!(!patched, "{abi}: patched");
    assert_eq!(warnings.len(), 1, "{abi}: {warnings:?}");
    let warning = &warnings[0];
    assert!(
        warning.starts_with(start) && warning.contains("ServiceAccount payments/api"),
        "{abi}: {warning}"
    );
    if reason {
        assert!(
            warning.starts_with(&format!("{start}cannot read ServiceAccount payments/api ("))
                && warning.contains(REASON),
            "{abi}: {warning}"
        );
    }
}

#[test]
fn through_wapc() {
    let settings: Value = serde_json::from_str(SETTINGS).unwrap();
    for (review, start) in cases() {
        let instance = common::policy()
            .wapc_instance(Arc::new(Forbidden))
            .expect("waPC instance");
        let response = instance.validate(&settings, &review).expect("validate");
        check(
            "waPC",
            response.accepted,
            response.mutated_object.is_some(),
            &response.warnings.clone().unwrap_or_default(),
            start,
            true,
        );
    }
}

#[test]
fn through_wit() {
    for (review, start) in cases() {
        let mut instance = common::policy().wit_instance().expect("WIT instance");
        let answer = instance
            .review(SETTINGS, &review.to_string(), &Forbidden)
            .expect("review");
        let response = &answer["response"];
        let warnings: Vec<String> =
            serde_json::from_value(response["warnings"].clone()).unwrap_or_default();
        check(
            "WIT",
            response["allowed"] == true,
            response.get("patch").is_some(),
            &warnings,
            start,
            false,
        );
    }
}
