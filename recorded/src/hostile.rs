//! The hostile inputs too big for a fixture file, as data: one table for the native test
//! (`tests/hostile.rs`, through `kubewarden::Validator`) and the wasm test
//! (`host/tests/limits.rs`, through the module under a memory cap and an epoch deadline),
//! so that an input added here is checked both ways.

use serde_json::{Value, json};

/// The role every row's ServiceAccount is annotated with.
pub const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
/// The cluster's OIDC issuer.
pub const ISSUER: &str = "https://oidc.example.com/abc123";
/// The OIDC provider of [`ISSUER`] in the role's account.
pub const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123";

/// The ServiceAccount `default/default` with `annotations`.
pub fn service_account(annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount",
           "metadata": {"name": "default", "namespace": "default", "annotations": annotations}})
}

/// An AdmissionRequest creating `object` of the core `kind` in `default`.
pub fn request(kind: &str, object: Value) -> Value {
    json!({"uid": "limits", "kind": {"group": "", "version": "v1", "kind": kind},
           "operation": "CREATE", "namespace": "default", "object": object})
}

/// The Pod `default/web` with `spec`.
pub fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

/// An Allow statement for the cluster's provider with one `sub` condition.
pub fn statement(operator: &str, sub: &str) -> Value {
    json!({"Effect": "Allow", "Principal": {"Federated": PROVIDER},
           "Action": "sts:AssumeRoleWithWebIdentity",
           "Condition": {operator: {"oidc.example.com/abc123:sub": sub}}})
}

/// JSON nested 10,000 arrays deep.
pub fn nested_arrays() -> String {
    let depth = 10_000;
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// 10,000 statements, each trusting one ServiceAccount.
pub fn many_statements() -> Vec<Value> {
    (0..10_000)
        .map(|i| {
            statement(
                "StringEquals",
                &format!("system:serviceaccount:ns{i}:sa{i}"),
            )
        })
        .collect()
}

/// A `sub` pattern that makes a backtracking matcher explode.
pub fn backtracking_glob() -> String {
    format!("system:serviceaccount:{}b", "*a".repeat(2_000))
}

/// `(row, payload, cluster, accepted, text the message or a warning contains)`: a waPC
/// `validate` payload, the objects `get_resource` finds, and the answer expected.
pub type Row = (&'static str, Vec<u8>, Vec<Value>, bool, String);

/// Hostile `validate` payloads, each with the answer it must get.
pub fn validate_rows() -> Vec<Row> {
    let role_sa = service_account(json!({"eks.amazonaws.com/role-arn": ROLE}));
    let app = json!([{"name": "app"}]);
    let payload = |settings: Value, request: Value| {
        json!({"settings": settings, "request": request})
            .to_string()
            .into_bytes()
    };
    let huge = "a".repeat(10 << 20);
    let containers: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("c{i}")}))
        .collect();
    let nested = nested_arrays();
    let many = many_statements();
    let glob = backtracking_glob();
    let trust = |document: Value| {
        json!({"trustValidation": "warn",
               "oidcProvider": {"providerUrl": "https://oidc.example.com/abc123"},
               "roleTrustPolicies": {ROLE: document}})
    };
    vec![
        (
            "not JSON",
            b"{\"settings\": ".to_vec(),
            vec![],
            false,
            "not valid JSON".into(),
        ),
        (
            "JSON that is not an object",
            b"[1, 2]".to_vec(),
            vec![],
            false,
            "expected an object with settings and request".into(),
        ),
        (
            "payload without a request",
            br#"{"settings": {}}"#.to_vec(),
            vec![],
            false,
            "no AdmissionRequest object".into(),
        ),
        (
            "Pod object that is an array",
            payload(json!({}), request("Pod", json!([1]))),
            vec![role_sa.clone()],
            false,
            "Pod: expected an object, got an array".into(),
        ),
        (
            "env as an object",
            payload(
                json!({}),
                request(
                    "Pod",
                    pod(json!({"containers": [{"name": "a", "env": {}}]})),
                ),
            ),
            vec![role_sa.clone()],
            false,
            "spec.containers[0].env: expected an array".into(),
        ),
        (
            "containers as a string",
            payload(json!({}), request("Pod", pod(json!({"containers": "a"})))),
            vec![role_sa.clone()],
            false,
            "spec.containers: expected an array".into(),
        ),
        (
            "serviceAccountName as a number",
            payload(
                json!({}),
                request(
                    "Pod",
                    pod(json!({"serviceAccountName": 1, "containers": app})),
                ),
            ),
            vec![],
            false,
            "spec.serviceAccountName: expected a string".into(),
        ),
        (
            "10,000 levels of nesting",
            format!(r#"{{"settings": {{}}, "request": {{"object": {nested}}}}}"#).into_bytes(),
            vec![],
            false,
            "recursion limit exceeded".into(),
        ),
        (
            "10 MiB role ARN",
            payload(json!({}), request("Pod", pod(json!({"containers": app})))),
            vec![service_account(json!({"eks.amazonaws.com/role-arn": huge}))],
            true,
            "is not a valid IAM role ARN".into(),
        ),
        (
            "10,000 containers",
            payload(
                json!({}),
                request("Pod", pod(json!({"containers": containers}))),
            ),
            vec![role_sa.clone()],
            true,
            String::new(),
        ),
        (
            "role ARN with control characters",
            payload(
                json!({"trustValidation": "enforce"}),
                request(
                    "ServiceAccount",
                    service_account(
                        json!({"eks.amazonaws.com/role-arn": format!("{ROLE}\n\u{0}")}),
                    ),
                ),
            ),
            vec![],
            false,
            "is not a valid IAM role ARN".into(),
        ),
        (
            "100 KB role ARN",
            payload(
                json!({"trustValidation": "enforce"}),
                request(
                    "ServiceAccount",
                    service_account(
                        json!({"eks.amazonaws.com/role-arn": format!("{ROLE}{}", "r".repeat(100 << 10))}),
                    ),
                ),
            ),
            vec![],
            false,
            "is longer than 64 characters".into(),
        ),
        (
            "token-expiration overflow",
            payload(
                json!({}),
                request(
                    "Pod",
                    json!({"metadata": {"name": "web", "annotations":
             {"eks.amazonaws.com/token-expiration": "99999999999999999999999"}},
             "spec": {"containers": app}}),
                ),
            ),
            vec![role_sa.clone()],
            true,
            "not a base-10 64-bit integer".into(),
        ),
        (
            // Settings are validated on every entry, as validate_settings does: a trust
            // policy beyond IAM's size limit refuses the request with the settings' message.
            "trust policy with 10,000 statements",
            payload(
                trust(json!({"Version": "2012-10-17", "Statement": many})),
                request(
                    "ServiceAccount",
                    service_account(json!({"eks.amazonaws.com/role-arn": ROLE})),
                ),
            ),
            vec![],
            false,
            "IAM accepts at most 131072".into(),
        ),
        (
            "pathological StringLike glob",
            payload(
                trust(
                    json!({"Version": "2012-10-17", "Statement": [statement("StringLike", &glob)]}),
                ),
                request(
                    "ServiceAccount",
                    service_account(json!({"eks.amazonaws.com/role-arn": ROLE})),
                ),
            ),
            vec![],
            true,
            String::new(),
        ),
    ]
}

/// `(row, settings JSON, valid)`: hostile `validate_settings` payloads.
pub type SettingsRow = (&'static str, String, bool);

/// Hostile settings, each with whether it must be accepted; a refusal must say why.
pub fn settings_rows() -> Vec<SettingsRow> {
    let nested = nested_arrays();
    let many = many_statements();
    let glob = backtracking_glob();
    vec![
        ("not JSON", "{".into(), false),
        ("nested", format!(r#"{{"trustPolicy": {nested}}}"#), false),
        (
            "tokenExpiration overflow",
            r#"{"tokenExpiration": 99999999999999999999}"#.into(),
            false,
        ),
        (
            "10,000 statements",
            json!({"roleTrustPolicies": {ROLE: {"Version": "2012-10-17", "Statement": many}}})
                .to_string(),
            false,
        ),
        (
            "pathological glob",
            json!({"oidcProvider": {"providerUrl": "https://oidc.example.com/abc123"},
                   "roleTrustPolicies": {ROLE: {"Version": "2012-10-17",
                       "Statement": [statement("StringLike", &glob)]}}})
            .to_string(),
            // Within IAM's size and grammar: valid, and analysed within the limits.
            true,
        ),
    ]
}
