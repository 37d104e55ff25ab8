//! Properties of the Pod mutation on generated Pods, ServiceAccounts and settings:
//! - mutating twice equals mutating once (the second patch is empty);
//! - every field of the input Pod is in the output unchanged, apart from what the policy
//!   owns (the env entries it appends, its mount, its volume, the pod-identity label);
//! - no input panics, and every patch returned applies to its Pod;
//! - `mutation::apply` (which moves the values) gives what `json_patch::patch` gives,
//!   member order included.
//!
//! Plus a Pod with 1,000 containers, too big for a fixture file.

use aws_workload_identity::mutation::{self, PodRequest};
use aws_workload_identity::settings::Settings;
use json_patch::PatchOperation;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const PREFIX: &str = "eks.amazonaws.com";
const LABEL: &str = "eks.amazonaws.com/pod-identity";
/// The variables the policy may append.
const OWNED_ENV: &[&str] = &[
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];
const OWNED_VOLUMES: &[&str] = &["aws-iam-token", "eks-pod-identity-token"];

fn settings_variants() -> impl Strategy<Value = Settings> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"region": "us-east-1", "stsRegionalEndpoints": true, "roleSessionName": true})),
        Just(json!({"tokenExpiration": 3600, "tokenMountPath": "/custom//path/"})),
        Just(json!({"containerCredentials": {"identities": [{"namespace": "default", "serviceAccount": "default"}]},
                    "region": "eu-west-1"})),
        Just(json!({"serviceAccountRoles": {"*/default": {"roleArn": "arn:aws:iam::111122223333:role/r"}},
                    "composeRoleArn": {"accountId": "111122223333"}})),
    ]
    .prop_map(|v| Settings::parse_valid(&v.to_string()).expect("valid settings"))
}

/// Annotation values: hostile text, numbers around the limits, Go booleans.
fn annotation_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+]?[0-9]{0,21}",
        prop_oneof![
            Just("true"),
            Just("false"),
            Just("yes"),
            Just("1"),
            Just("")
        ]
        .prop_map(String::from),
        "[a-z\", \n]{0,12}",
    ]
}

fn env_entry() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        proptest::sample::select(OWNED_ENV).prop_map(String::from),
        "[A-Z_]{1,6}",
    ];
    (name, any::<bool>()).prop_map(|(name, from_field)| {
        if from_field {
            json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        } else {
            json!({"name": name, "value": "v"})
        }
    })
}

fn container() -> impl Strategy<Value = Value> {
    let name = prop_oneof![Just("app"), Just("sidecar"), Just("init"), Just(" b")];
    let mounts = vec(
        prop_oneof![proptest::sample::select(OWNED_VOLUMES), Just("data"),],
        0..3,
    );
    (
        name,
        proptest::option::of(vec(env_entry(), 0..5)),
        proptest::option::of(mounts),
        any::<bool>(),
    )
        .prop_map(|(name, env, mounts, extra)| {
            let mut c = Map::new();
            c.insert("name".into(), json!(name));
            c.insert("image".into(), json!("busybox"));
            if let Some(env) = env {
                c.insert("env".into(), Value::Array(env));
            }
            if let Some(mounts) = mounts {
                let mounts = mounts
                    .into_iter()
                    .map(|m| json!({"name": m, "mountPath": format!("/{m}")}))
                    .collect();
                c.insert("volumeMounts".into(), Value::Array(mounts));
            }
            if extra {
                c.insert("futureField".into(), json!({"x": [1, null]}));
                c.insert("restartPolicy".into(), json!("Always"));
            }
            Value::Object(c)
        })
}

/// A well-formed Pod with the shapes the policy reads, in every combination.
fn pod() -> impl Strategy<Value = Value> {
    let volumes = proptest::option::of(prop_oneof![
        Just(Value::Null),
        vec(
            prop_oneof![proptest::sample::select(OWNED_VOLUMES), Just("data")],
            0..3
        )
        .prop_map(|names| Value::Array(
            names
                .into_iter()
                .map(|n| json!({"name": n, "emptyDir": {}}))
                .collect()
        )),
    ]);
    let labels = proptest::option::of(prop_oneof![
        Just(json!({})),
        Just(json!({"app": "web"})),
        Just(json!({LABEL: "enabled"})),
        Just(json!({LABEL: "disabled", "app": "web"})),
    ]);
    let annotations = btree_map(
        prop_oneof![
            Just("token-expiration"),
            Just("skip-containers"),
            Just("other")
        ],
        annotation_value(),
        0..3,
    );
    (
        vec(container(), 0..4),
        proptest::option::of(vec(container(), 0..3)),
        volumes,
        labels,
        annotations,
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            |(containers, init, volumes, labels, annotations, (windows, named, metadata))| {
                let mut spec = Map::new();
                spec.insert("containers".into(), Value::Array(containers));
                if let Some(init) = init {
                    spec.insert("initContainers".into(), Value::Array(init));
                }
                if let Some(volumes) = volumes {
                    spec.insert("volumes".into(), volumes);
                }
                if windows {
                    spec.insert("os".into(), json!({"name": "windows"}));
                }
                spec.insert("futureSpec".into(), json!(true));
                let mut pod = Map::new();
                pod.insert("spec".into(), Value::Object(spec));
                if metadata {
                    let mut meta = Map::new();
                    if named {
                        meta.insert("name".into(), json!("web-0"));
                    }
                    if let Some(labels) = labels {
                        meta.insert("labels".into(), labels);
                    }
                    let annotations: Map<String, Value> = annotations
                        .into_iter()
                        .map(|(k, v)| (format!("{PREFIX}/{k}"), Value::String(v)))
                        .collect();
                    meta.insert("annotations".into(), Value::Object(annotations));
                    pod.insert("metadata".into(), Value::Object(meta));
                }
                Value::Object(pod)
            },
        )
}

/// The ServiceAccount `default/default` with generated annotations, or none at all.
fn service_account() -> impl Strategy<Value = Option<Value>> {
    let annotations = btree_map(
        prop_oneof![
            Just("role-arn"),
            Just("audience"),
            Just("sts-regional-endpoints"),
            Just("token-expiration"),
            Just("region"),
        ],
        prop_oneof![
            Just("arn:aws:iam::111122223333:role/r".to_string()),
            annotation_value()
        ],
        0..5,
    );
    proptest::option::weighted(0.9, annotations).prop_map(|annotations| {
        annotations.map(|a| {
            let a: Map<String, Value> = a
                .into_iter()
                .map(|(k, v)| (format!("{PREFIX}/{k}"), Value::String(v)))
                .collect();
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": "default", "annotations": a}})
        })
    })
}

fn request<'a>(pod: &'a Value, sa: Option<&'a Value>) -> PodRequest<'a> {
    PodRequest {
        pod,
        namespace: "default",
        uid: "5f0e8d2c-0000-4000-8000-000000000001",
        service_account: sa,
    }
}

/// `patch` applied to `pod` by the policy's own `mutation::apply`, checked against
/// `json_patch::patch`; `None` when it does not apply (both must agree on that too).
fn try_apply(pod: &Value, patch: &json_patch::Patch) -> Option<Value> {
    let mut reference = pod.clone();
    let reference_result = json_patch::patch(&mut reference, patch);
    let mut ours = pod.clone();
    let our_result = mutation::apply(&mut ours, patch.clone());
    assert_eq!(
        our_result.is_ok(),
        reference_result.is_ok(),
        "{our_result:?} vs {reference_result:?}"
    );
    // Serialised, so that member order counts (Value's equality ignores it).
    assert_eq!(ours.to_string(), reference.to_string());
    our_result.ok().map(|()| ours)
}

fn apply(pod: &Value, patch: &json_patch::Patch) -> Value {
    try_apply(pod, patch).expect("the patch applies to its Pod")
}

/// `mutated` without what the policy owns, given the `original` it came from.
fn strip_owned(original: &Value, mutated: &Value) -> Value {
    let mut out = mutated.clone();
    // The label: back to what it was.
    if let Some(labels) = out
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        match original.pointer(&format!("/metadata/labels/{}", LABEL.replace('/', "~1"))) {
            Some(before) => {
                labels.insert(LABEL.into(), before.clone());
            }
            None => {
                labels.remove(LABEL);
            }
        }
    }
    for (key, parent) in [("labels", "/metadata"), ("metadata", "")] {
        let had = original.pointer(&format!("{parent}/{key}")).is_some();
        let empty = out
            .pointer(&format!("{parent}/{key}"))
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty);
        if !had
            && empty
            && let Some(p) = out.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            p.remove(key);
        }
    }
    // The volume: prepended.
    let before = original
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if let Some(volumes) = out
        .pointer_mut("/spec/volumes")
        .and_then(Value::as_array_mut)
        && volumes.len() > before
    {
        let added = volumes.remove(0);
        let name = added["name"].as_str().unwrap_or("");
        assert!(OWNED_VOLUMES.contains(&name), "added volume {added}");
        if volumes.is_empty()
            && !original
                .pointer("/spec/volumes")
                .is_some_and(Value::is_array)
        {
            let restored = original.pointer("/spec/volumes").cloned();
            let spec = out["spec"].as_object_mut().expect("spec");
            match restored {
                Some(v) => spec.insert("volumes".into(), v),
                None => spec.remove("volumes"),
            };
        }
    }
    // Env entries and mounts: appended.
    for list in ["containers", "initContainers"] {
        let Some(containers) = out
            .pointer_mut(&format!("/spec/{list}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for (i, c) in containers.iter_mut().enumerate() {
            let orig = original
                .pointer(&format!("/spec/{list}/{i}"))
                .expect("same containers");
            for key in ["env", "volumeMounts"] {
                let had = orig.get(key).and_then(Value::as_array).map(Vec::len);
                let Some(items) = c.get_mut(key).and_then(Value::as_array_mut) else {
                    continue;
                };
                for added in items.drain(had.unwrap_or(0)..) {
                    let name = added["name"].as_str().unwrap_or("");
                    let owned = if key == "env" {
                        OWNED_ENV
                    } else {
                        OWNED_VOLUMES
                    };
                    assert!(owned.contains(&name), "added {key} entry {added}");
                }
                if had.is_none() {
                    c.as_object_mut().expect("container").remove(key);
                }
            }
        }
    }
    out
}

/// JSON of any shape, with the keys the policy reads made likely.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        annotation_value().prop_map(Value::String),
    ];
    let key = prop_oneof![
        proptest::sample::select(
            &[
                "spec",
                "metadata",
                "containers",
                "initContainers",
                "env",
                "name",
                "volumes",
                "volumeMounts",
                "labels",
                "annotations",
                "serviceAccountName",
                "nodeSelector",
                "os",
                "eks.amazonaws.com/token-expiration",
                "eks.amazonaws.com/skip-containers",
                "kubernetes.io/os",
                "eks.amazonaws.com/pod-identity",
            ][..]
        )
        .prop_map(String::from),
        "[a-z]{1,4}",
    ];
    leaf.prop_recursive(5, 96, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutating_twice_equals_mutating_once(settings in settings_variants(), pod in pod(), sa in service_account()) {
        let first = mutation::inject_web_identity(&settings, &request(&pod, sa.as_ref())).expect("well-formed Pod");
        let once = apply(&pod, &first.patch);
        let second = mutation::inject_web_identity(&settings, &request(&once, sa.as_ref())).expect("well-formed Pod");
        prop_assert!(second.patch.0.is_empty(), "second patch: {}", serde_json::to_string(&second.patch).unwrap());
        prop_assert_eq!(first.credentials, second.credentials);
    }

    #[test]
    fn only_owned_fields_are_added(settings in settings_variants(), pod in pod(), sa in service_account()) {
        let injection = mutation::inject_web_identity(&settings, &request(&pod, sa.as_ref())).expect("well-formed Pod");
        for op in &injection.patch.0 {
            prop_assert!(matches!(op, PatchOperation::Add(_)), "{}", op);
        }
        let mutated = apply(&pod, &injection.patch);
        prop_assert_eq!(strip_owned(&pod, &mutated), pod);
    }

    #[test]
    fn arbitrary_json_never_panics_and_patches_apply(settings in settings_variants(), pod in any_json(), sa in service_account()) {
        let _ = mutation::service_account_name(&pod);
        if let Ok(injection) = mutation::inject_web_identity(&settings, &request(&pod, sa.as_ref())) {
            prop_assert!(try_apply(&pod, &injection.patch).is_some());
        }
    }

    #[test]
    fn pod_ish_json_never_panics(settings in settings_variants(), spec in any_json(), metadata in any_json(), sa in service_account()) {
        let pod = json!({"metadata": metadata, "spec": spec});
        if let Ok(injection) = mutation::inject_web_identity(&settings, &request(&pod, sa.as_ref())) {
            prop_assert!(try_apply(&pod, &injection.patch).is_some());
        }
    }
}

#[test]
fn a_thousand_containers() {
    let containers: Vec<Value> = (0..1000)
        .map(|i| json!({"name": format!("c{i}"), "image": "busybox", "env": [{"name": "N", "value": "1"}]}))
        .collect();
    let pod = json!({"metadata": {"name": "big"}, "spec": {"containers": containers}});
    let sa = json!({"metadata": {"name": "default", "namespace": "default",
                    "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r"}}});
    let settings = Settings::default();
    let injection = mutation::inject_web_identity(&settings, &request(&pod, Some(&sa))).unwrap();
    // One volume, then per container two env entries and one mount.
    assert_eq!(injection.patch.0.len(), 1 + 1000 * 3);
    let mutated = apply(&pod, &injection.patch);
    for (i, c) in mutated["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(c["name"], format!("c{i}"));
        let names: Vec<&str> = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["N", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"]);
        assert_eq!(c["volumeMounts"][0]["name"], "aws-iam-token");
    }
    let again = mutation::inject_web_identity(&settings, &request(&mutated, Some(&sa))).unwrap();
    assert!(again.patch.0.is_empty());
}

#[test]
fn malformed_pods_name_the_field() {
    let settings = Settings::default();
    let sa = json!({"metadata": {"name": "default", "namespace": "default",
                    "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r"}}});
    for (pod, message) in [
        (json!("pod"), "Pod: expected an object, got a string"),
        (
            json!({"spec": []}),
            "Pod spec: expected an object, got an array",
        ),
        (json!({}), "Pod spec: expected an object, got nothing"),
        (
            json!({"spec": {"volumes": {}}}),
            "Pod spec.volumes: expected an array, got an object",
        ),
        (
            json!({"spec": {"containers": [1]}}),
            "Pod spec.containers[0]: expected an object, got a number",
        ),
        (
            json!({"spec": {"initContainers": [{"volumeMounts": "x"}]}}),
            "Pod spec.initContainers[0].volumeMounts: expected an array, got a string",
        ),
        (
            json!({"spec": {"containers": [{"name": true}]}}),
            "Pod spec.containers[0].name: expected a string, got a boolean",
        ),
        (
            json!({"metadata": {"annotations": []}, "spec": {}}),
            "Pod metadata.annotations: expected an object, got an array",
        ),
        (
            json!({"metadata": {"annotations": {"eks.amazonaws.com/token-expiration": 5}}, "spec": {}}),
            "Pod metadata.annotations[\"eks.amazonaws.com/token-expiration\"]: expected a string, got a number",
        ),
    ] {
        let err = mutation::inject_web_identity(&settings, &request(&pod, Some(&sa))).unwrap_err();
        assert_eq!(err.to_string(), message, "{pod}");
    }
}
