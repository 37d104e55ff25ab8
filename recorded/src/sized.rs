//! Requests that grow in one kind of data the policy reads, to any size: the inputs of the
//! scaling test (`tests/scaling.rs`, which doubles them and counts the work) and of the
//! worst-case benchmark (`host/benches/policy.rs`, group `worst`, which fills them to the
//! largest request body the API server accepts). One builder per [`Kind`], so that the test
//! and the benchmark measure the very same inputs.
//!
//! Every request is a Pod CREATE whose ServiceAccount carries a role, under settings that
//! turn every path on (region, session names, the OIDC provider and the role's trust
//! policy, so the Pod also gets the trust check); each kind then grows one part of it.

use awi_trust::document::MAX_DOCUMENT_CHARS;
use serde_json::{Map, Value, json};

use crate::hostile::{ISSUER, ROLE, request, service_account, statement};

/// The largest request body the API server reads (`MaxRequestBodyBytes` of
/// `k8s.io/apiserver`, 3 MiB: twice the 1.5 MiB etcd accepts, for JSON's overhead): the
/// largest Pod a user can send into admission.
pub const API_SERVER_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The largest request body Kubewarden's policy-server reads: axum's default body limit
/// (2,097,152 bytes), which its `/validate` routes keep; a larger AdmissionReview is answered
/// with HTTP 413.
pub const POLICY_SERVER_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The part of a request that grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `skip-containers`: one CSV record of `n` container names, plain and quoted.
    SkipFields,
    /// `skip-containers`: one quoted CSV field with `n` escaped quotes, over lines of 4096.
    SkipQuoted,
    /// `n` Pod annotations, and a `token-expiration` annotation of `n` digits.
    Annotations,
    /// One container with `n` env entries.
    Env,
    /// `n` containers and `n` init containers, every other one listed in `skip-containers`.
    Containers,
    /// `n` volumes, and one container mounting each of them.
    Volumes,
    /// Pod, generateName, container and ServiceAccount names of `n` characters each.
    Names,
    /// `n` `serviceAccountRoles` entries and `n` `containerCredentials` identities.
    Settings,
    /// A `roleTrustPolicies` document of `n` statements.
    TrustDocument,
}

impl Kind {
    /// Every kind, in the order of the tables.
    pub const ALL: [Kind; 9] = [
        Kind::SkipFields,
        Kind::SkipQuoted,
        Kind::Annotations,
        Kind::Env,
        Kind::Containers,
        Kind::Volumes,
        Kind::Names,
        Kind::Settings,
        Kind::TrustDocument,
    ];

    /// The kind's short name (benchmark ids, test messages).
    pub fn name(self) -> &'static str {
        match self {
            Kind::SkipFields => "skip-fields",
            Kind::SkipQuoted => "skip-quoted",
            Kind::Annotations => "annotations",
            Kind::Env => "env",
            Kind::Containers => "containers",
            Kind::Volumes => "volumes",
            Kind::Names => "names",
            Kind::Settings => "settings",
            Kind::TrustDocument => "trust-document",
        }
    }

    /// Whether the kind grows the settings rather than the AdmissionRequest: such a request
    /// is answered with the settings prepared anew, as on their first request.
    pub fn grows_settings(self) -> bool {
        matches!(self, Kind::Settings | Kind::TrustDocument)
    }
}

/// One request of a kind: the settings, the AdmissionRequest and the objects
/// `get_resource` finds.
#[derive(Debug, Clone, PartialEq)]
pub struct SizedRequest {
    /// The policy settings.
    pub settings: Value,
    /// The AdmissionRequest (a Pod CREATE).
    pub request: Value,
    /// The cluster: the Pod's ServiceAccount, with the role.
    pub cluster: Vec<Value>,
}

impl SizedRequest {
    /// Kubewarden's `validate` payload: `{"settings", "request"}`.
    pub fn payload(&self) -> Vec<u8> {
        json!({"settings": self.settings, "request": self.request})
            .to_string()
            .into_bytes()
    }

    /// The AdmissionReview the API server sends.
    pub fn review(&self) -> Value {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": self.request})
    }
}

/// The settings every kind starts from: every path of a Pod with a role on.
pub fn base_settings() -> Value {
    json!({
        "region": "eu-west-1",
        "roleSessionName": true,
        "oidcProvider": {"providerUrl": ISSUER},
        "roleTrustPolicies": {ROLE: trust_document(0)},
    })
}

/// A trust policy trusting `system:serviceaccount:ns<i>:sa<i>` for `i < n` in one
/// statement each, then `default/default` (the ServiceAccount of every request here).
pub fn trust_document(n: usize) -> Value {
    let mut statements: Vec<Value> = (0..n)
        .map(|i| {
            statement(
                "StringEquals",
                &format!("system:serviceaccount:ns{i:07}:sa{i:07}"),
            )
        })
        .collect();
    statements.push(statement(
        "StringEquals",
        "system:serviceaccount:default:default",
    ));
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The [`trust_document`] with the most statements whose text stays within IAM's bound
/// ([`MAX_DOCUMENT_CHARS`]): the largest trust policy the settings accept, whose lint runs
/// on the first Pod of its role.
pub fn largest_trust_document() -> Value {
    trust_document(largest(|n| {
        trust_document(n).to_string().len() <= MAX_DOCUMENT_CHARS
    }))
}

/// A small Pod under settings whose role has the [`largest_trust_document`].
pub fn largest_trust_policy() -> SizedRequest {
    let mut sized = build(Kind::TrustDocument, 0);
    sized.settings["roleTrustPolicies"] = json!({ROLE: largest_trust_document()});
    sized
}

/// A trust policy of one statement whose `sub` condition lists
/// `system:serviceaccount:ns<i>:sa<i>` for `i < n`, then `default/default`.
pub fn trust_values(n: usize) -> Value {
    let mut subjects: Vec<String> = (0..n)
        .map(|i| format!("system:serviceaccount:ns{i:07}:sa{i:07}"))
        .collect();
    subjects.push("system:serviceaccount:default:default".to_string());
    let mut one = statement("StringEquals", "");
    one["Condition"]["StringEquals"]["oidc.example.com/abc123:sub"] = json!(subjects);
    json!({"Version": "2012-10-17", "Statement": [one]})
}

/// A container as the tests write them: a name, one env entry and one mount.
fn container(name: String) -> Value {
    json!({"name": name, "image": "app:1",
           "env": [{"name": "LOG_LEVEL", "value": "info"}],
           "volumeMounts": [{"name": "data", "mountPath": "/data"}]})
}

fn pod(metadata: Value, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

fn web_metadata(annotations: Map<String, Value>) -> Value {
    json!({"name": "web", "namespace": "default", "annotations": annotations})
}

fn one_app() -> Value {
    json!({"containers": [container("app".to_string())]})
}

/// The request of `kind` grown to `n`.
pub fn build(kind: Kind, n: usize) -> SizedRequest {
    let mut settings = base_settings();
    let mut cluster = vec![service_account(json!({"eks.amazonaws.com/role-arn": ROLE}))];
    let mut annotations = Map::new();
    let object = match kind {
        Kind::SkipFields => {
            let fields: Vec<String> = (0..n)
                .map(|i| {
                    if i % 2 == 0 {
                        format!("c{i:07}")
                    } else {
                        format!("\"q{i:07}\"")
                    }
                })
                .collect();
            annotations.insert(
                "eks.amazonaws.com/skip-containers".into(),
                json!(fields.join(",")),
            );
            pod(web_metadata(annotations), one_app())
        }
        Kind::SkipQuoted => {
            let mut field = String::from("\"");
            for i in 0..n {
                field.push_str("x\"\"");
                // Long lines (the cost of a line grew with its escapes), and many of them.
                if i % 4096 == 4095 {
                    field.push('\n');
                }
            }
            field.push_str("\",app");
            annotations.insert("eks.amazonaws.com/skip-containers".into(), json!(field));
            pod(web_metadata(annotations), one_app())
        }
        Kind::Annotations => {
            for i in 0..n {
                annotations.insert(format!("example.com/key-{i:07}"), json!(format!("v{i:07}")));
            }
            annotations.insert(
                "eks.amazonaws.com/token-expiration".into(),
                json!("9".repeat(n)),
            );
            pod(web_metadata(annotations), one_app())
        }
        Kind::Env => {
            let env: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("VAR_{i:07}"), "value": "v"}))
                .collect();
            pod(
                web_metadata(annotations),
                json!({"containers": [{"name": "app", "image": "app:1", "env": env}]}),
            )
        }
        Kind::Containers => {
            let skipped: Vec<String> = (0..n).step_by(2).map(|i| format!("c{i:07}")).collect();
            annotations.insert(
                "eks.amazonaws.com/skip-containers".into(),
                json!(skipped.join(",")),
            );
            let containers: Vec<Value> = (0..n).map(|i| container(format!("c{i:07}"))).collect();
            let init: Vec<Value> = (0..n).map(|i| container(format!("i{i:07}"))).collect();
            pod(
                web_metadata(annotations),
                json!({"containers": containers, "initContainers": init}),
            )
        }
        Kind::Volumes => {
            let volumes: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("v{i:07}"), "emptyDir": {}}))
                .collect();
            let mounts: Vec<Value> = (0..n)
                .map(|i| json!({"name": format!("v{i:07}"), "mountPath": format!("/v/{i:07}")}))
                .collect();
            pod(
                web_metadata(annotations),
                json!({"volumes": volumes,
                       "containers": [{"name": "app", "image": "app:1", "volumeMounts": mounts}]}),
            )
        }
        Kind::Names => {
            let name = "n".repeat(n);
            // An invalid value: the warning names the Pod.
            annotations.insert("eks.amazonaws.com/token-expiration".into(), json!("soon"));
            let mut sa = service_account(json!({"eks.amazonaws.com/role-arn": ROLE}));
            sa["metadata"]["name"] = json!(name);
            cluster = vec![sa];
            pod(
                json!({"name": name, "generateName": name, "namespace": "default",
                       "annotations": annotations}),
                json!({"serviceAccountName": name, "containers": [container(name.clone())]}),
            )
        }
        Kind::Settings => {
            let roles: Map<String, Value> = (0..n)
                .map(|i| {
                    (
                        format!("ns{i:07}/sa{i:07}"),
                        json!({"roleArn": format!("arn:aws:iam::111122223333:role/r{i:07}"),
                               "tokenExpiration": 3600}),
                    )
                })
                .collect();
            let identities: Vec<Value> = (0..n)
                .map(|i| json!({"namespace": format!("cc{i:07}"), "serviceAccount": "sa"}))
                .collect();
            settings["serviceAccountRoles"] = Value::Object(roles);
            settings["containerCredentials"] = json!({"identities": identities});
            pod(web_metadata(annotations), one_app())
        }
        Kind::TrustDocument => {
            settings["roleTrustPolicies"] = json!({ROLE: trust_document(n)});
            pod(web_metadata(annotations), one_app())
        }
    };
    SizedRequest {
        settings,
        request: request("Pod", object),
        cluster,
    }
}

/// The request of `kind` grown until its `validate` payload is as long as it can be
/// without exceeding `bytes`.
pub fn filled(kind: Kind, bytes: usize) -> SizedRequest {
    build(kind, largest(|n| build(kind, n).payload().len() <= bytes))
}

/// The largest `n` that `fits`, by bisection; `fits` holds up to some `n` and not above.
fn largest(fits: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, 1);
    while fits(high) {
        (low, high) = (high, high * 2);
    }
    // `low` fits, `high` does not.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if fits(mid) { low = mid } else { high = mid }
    }
    low
}
