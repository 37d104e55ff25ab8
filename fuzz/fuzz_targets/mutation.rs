//! Pod mutation with an arbitrary Pod and arbitrary ServiceAccount annotation values.
//!
//! Input: one byte choosing the settings, the Pod JSON, then `0xFF`-separated values for the
//! ServiceAccount annotations `role-arn`, `audience`, `sts-regional-endpoints`,
//! `token-expiration` and `region` (a missing part is an absent annotation; 0xFF never
//! occurs in UTF-8, so the values are unrestricted text).
//!
//! Checks: the patch only adds, applies to the Pod, and mutating the result again yields an
//! empty patch (idempotency).
#![no_main]

use aws_workload_identity::mutation::{self, PodRequest};
use aws_workload_identity::settings::Settings;
use json_patch::PatchOperation;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const KEYS: [&str; 5] = [
    "role-arn",
    "audience",
    "sts-regional-endpoints",
    "token-expiration",
    "region",
];

fn settings(selector: u8) -> Settings {
    let value = match selector % 5 {
        0 => json!({}),
        1 => json!({"region": "us-east-1", "stsRegionalEndpoints": true, "roleSessionName": true}),
        2 => json!({"composeRoleArn": {"accountId": "111122223333"}, "tokenExpiration": 3600}),
        3 => json!({"containerCredentials": {"identities": [
            {"namespace": "default", "serviceAccount": "default"}]}}),
        _ => json!({"serviceAccountRoles": {"*/default": {
            "roleArn": "arn:aws:iam::111122223333:role/r", "tokenExpiration": 600}}}),
    };
    Settings::parse_valid(&value.to_string()).expect("fixed settings are valid")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0xFF);
    let Ok(pod) = serde_json::from_slice::<Value>(parts.next().unwrap_or_default()) else {
        return;
    };
    let mut annotations = Map::new();
    for (key, value) in KEYS.iter().zip(parts) {
        annotations.insert(
            format!("eks.amazonaws.com/{key}"),
            Value::String(String::from_utf8_lossy(value).into_owned()),
        );
    }
    let settings = settings(selector);
    let name = mutation::service_account_name(&pod).unwrap_or("default");
    let service_account = json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
    });
    let request = PodRequest {
        pod: &pod,
        namespace: "default",
        uid: "fuzz",
        service_account: Some(&service_account),
    };
    let Ok(injection) = mutation::inject_web_identity(&settings, &request) else {
        return;
    };
    for op in &injection.patch.0 {
        assert!(matches!(op, PatchOperation::Add(_)), "not an add: {op}");
    }
    let mut mutated = pod.clone();
    if let Err(e) = mutation::apply(&mut mutated, injection.patch.clone()) {
        panic!(
            "the patch does not apply: {e}\npatch: {}",
            serde_json::to_string(&injection.patch).unwrap_or_default()
        );
    }
    let again = PodRequest {
        pod: &mutated,
        ..request
    };
    match mutation::inject_web_identity(&settings, &again) {
        Ok(second) => assert!(
            second.patch.0.is_empty(),
            "not idempotent: second patch {}\nmutated Pod: {mutated}",
            serde_json::to_string(&second.patch).unwrap_or_default()
        ),
        Err(e) => panic!("the mutated Pod is refused: {e}\n{mutated}"),
    }
});
