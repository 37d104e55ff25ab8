//! The built `.wasm` under resource limits like a Kubewarden policy server's: each guest
//! instance's linear memory capped, and every call bounded by an epoch deadline. The
//! hostile inputs of `tests/hostile.rs` go in through the waPC `validate` and
//! `validate_settings` entries; each must come back as a clear answer (a rejection with a
//! message, or an admission), never a trap, an out-of-memory or an interrupted call.
//!
//! The guest is driven through `wasmtime-provider` directly, the way the policy server
//! configures it (`enable_resource_limits`, epoch deadlines at `rehydrate`). Fuel is not
//! offered by that crate, so the instruction budget is an epoch deadline: generous in wall
//! time (a noisy machine must not fail it), still far below "loops forever".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use awi::wasmtime::{Config, Engine, Module};
use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::{EpochDeadlines, ResourceLimits, WasmtimeEngineProviderBuilder};

/// Linear-memory cap per instance (policy servers run policies with a few hundred MiB).
const MAX_MEMORY: usize = 256 << 20;
/// One tick every 10 ms.
const TICK: Duration = Duration::from_millis(10);
/// Ticks a call may take: 60 s, orders of magnitude above what any answer here needs.
const DEADLINE_TICKS: u64 = 6_000;

const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123";

/// An engine with epoch interruption, ticked by a background thread while the test runs.
struct Limited {
    engine: Engine,
    module: Module,
    stop: Arc<AtomicBool>,
}

impl Limited {
    fn new() -> Limited {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("engine with epoch interruption");
        let module =
            Module::from_file(&engine, awi::default_module_path()).expect("the policy module");
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = engine.clone();
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                ticker.increment_epoch();
            }
        });
        Limited {
            engine,
            module,
            stop,
        }
    }

    /// A fresh guest whose `get_resource` calls are answered from `cluster`.
    fn instance(&self, cluster: Vec<Value>) -> WapcHost {
        let deadlines = EpochDeadlines {
            wapc_init: DEADLINE_TICKS,
            wapc_func: DEADLINE_TICKS,
        };
        let provider = WasmtimeEngineProviderBuilder::new()
            .engine(self.engine.clone())
            .module(self.module.clone())
            .enable_resource_limits(ResourceLimits {
                max_memory_size: Some(MAX_MEMORY),
                max_table_elements: None,
            })
            .build_pre()
            .expect("linking the guest")
            .rehydrate(Some(deadlines))
            .expect("instantiating the guest");
        let callback = move |_: u64,
                             _: &str,
                             namespace: &str,
                             operation: &str,
                             payload: &[u8]|
              -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
            if (namespace, operation) != ("kubernetes", "get_resource") {
                return Ok(Vec::new());
            }
            let wanted: Value = serde_json::from_slice(payload)?;
            let found = cluster.iter().find(|o| {
                o["metadata"]["name"] == wanted["name"]
                    && o["metadata"]["namespace"] == wanted["namespace"]
            });
            match found {
                Some(object) => Ok(serde_json::to_vec(object)?),
                None => Err("Cannot find v1/ServiceAccount".into()),
            }
        };
        WapcHost::new(Box::new(provider), Some(Box::new(callback))).expect("wapc_init")
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn service_account(annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount",
           "metadata": {"name": "default", "namespace": "default", "annotations": annotations}})
}

fn request(kind: &str, object: Value) -> Value {
    json!({"uid": "limits", "kind": {"group": "", "version": "v1", "kind": kind},
           "operation": "CREATE", "namespace": "default", "object": object})
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

fn statement(operator: &str, sub: &str) -> Value {
    json!({"Effect": "Allow", "Principal": {"Federated": PROVIDER},
           "Action": "sts:AssumeRoleWithWebIdentity",
           "Condition": {operator: {"oidc.example.com/abc123:sub": sub}}})
}

/// JSON nested 10,000 arrays deep.
fn nested_arrays() -> String {
    let depth = 10_000;
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// 10,000 statements, each trusting one ServiceAccount.
fn many_statements() -> Vec<Value> {
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
fn backtracking_glob() -> String {
    format!("system:serviceaccount:{}b", "*a".repeat(2_000))
}

/// `(row, payload, cluster, accepted, text the message or a warning contains)`
type Row = (&'static str, Vec<u8>, Vec<Value>, bool, String);

fn validate_rows() -> Vec<Row> {
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
            "trust policy with 10,000 statements",
            payload(
                trust(json!({"Version": "2012-10-17", "Statement": many})),
                request(
                    "ServiceAccount",
                    service_account(json!({"eks.amazonaws.com/role-arn": ROLE})),
                ),
            ),
            vec![],
            true,
            String::new(),
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

#[test]
fn hostile_reviews_answer_within_limits() {
    let limited = Limited::new();
    let mut wrong = Vec::new();
    for (row, payload, cluster, accepted, text) in validate_rows() {
        let guest = limited.instance(cluster);
        let answer = match guest.call("validate", &payload) {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes).expect("JSON answer"),
            Err(e) => {
                wrong.push(format!("{row}: no answer: {e}"));
                continue;
            }
        };
        let said = format!("{} {}", answer["message"], answer["warnings"]);
        if answer["accepted"] != json!(accepted) || !said.contains(&text) {
            let shown: String = answer.to_string().chars().take(600).collect();
            wrong.push(format!(
                "{row}: expected accepted={accepted} mentioning {text:?}, got {shown}"
            ));
        }
        // What goes back to the API server stays proportionate: messages are cut.
        if said.len() > 64 << 10 {
            wrong.push(format!(
                "{row}: {} bytes of message and warnings",
                said.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn hostile_settings_answer_within_limits() {
    let limited = Limited::new();
    let nested = nested_arrays();
    let many = many_statements();
    let glob = backtracking_glob();
    let rows: Vec<(&str, String, bool)> = vec![
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
    ];
    let mut wrong = Vec::new();
    for (row, settings, valid) in rows {
        let guest = limited.instance(Vec::new());
        match guest.call("validate_settings", settings.as_bytes()) {
            Ok(bytes) => {
                let answer: Value = serde_json::from_slice(&bytes).expect("JSON answer");
                let explained = valid || answer["message"].as_str().is_some_and(|m| !m.is_empty());
                if answer["valid"] != json!(valid) || !explained {
                    wrong.push(format!("{row}: got {:.400}", answer.to_string()));
                }
            }
            Err(e) => wrong.push(format!("{row}: no answer: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
