//! Hostile input: whatever a user who can create a Pod or a ServiceAccount sends, the policy
//! answers with a clear rejection or a documented admission, in bounded work. An admission
//! policy that panics, traps or loops blocks Pod creation cluster-wide.
//!
//! Each row asserts the message (or the documented admission) and that the output stays
//! proportionate to the input (sizes of patches and messages), never wall-clock time: a row
//! with pathological input simply has to finish.
//!
//! Inputs too big for a fixture file live here and in `recorded::hostile`, whose table is
//! also run through the `.wasm` under resource limits (`host/tests/limits.rs`); the smaller
//! injection cases are recorded cases under `tests/fixtures/hostile/`, replayed natively and
//! through the `.wasm`.

use aws_workload_identity::admission::{self, AdmissionError, Lookup, Outcome, Prepared};
use aws_workload_identity::settings::{Settings, SettingsError};
use aws_workload_identity::trust::language::{Language, LanguageError};
use aws_workload_identity::trust::{self, RoleArn, Subject, TrustPolicy};
use json_patch::PatchOperation;
use serde_json::{Value, json};

use recorded::hostile::{ISSUER, PROVIDER, ROLE};

const SUB_KEY: &str = "oidc.example.com/abc123:sub";

fn settings(value: Value) -> Prepared {
    Prepared::parse(&value.to_string()).expect("valid settings")
}

fn review_json(kind: &str, operation: &str, object: Value) -> String {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "hostile",
            "kind": {"group": "", "version": "v1", "kind": kind},
            "operation": operation,
            "namespace": "default",
            "object": object,
        }
    })
    .to_string()
}

/// Runs the review text as a host does: parse, then `decide` with the objects looked up in
/// `cluster`. Checks what holds for every answer: only `add` operations, a patch that applies.
fn run(prepared: &Prepared, review: &str, cluster: &[Value]) -> Result<Outcome, AdmissionError> {
    let review = admission::parse_review(review)?;
    let request = admission::request_of(&review)?;
    let outcome = admission::decide(prepared, request, |wanted| {
        match cluster.iter().find(|o| wanted.matches(o)) {
            Some(found) => Lookup::Found(found.clone()),
            None => Lookup::NotFound,
        }
    });
    for op in &outcome.patch.0 {
        assert!(matches!(op, PatchOperation::Add(_)), "not an add: {op}");
    }
    if !outcome.patch.0.is_empty() {
        assert!(outcome.allowed);
        let object = request.get("object").cloned().unwrap_or_default();
        assert!(outcome.mutated_object(&object).is_some(), "patch applies");
    }
    // The response is what goes back to the API server; it must always serialise.
    serde_json::to_vec(&admission::answer(&review, &outcome)).expect("answer serialises");
    Ok(outcome)
}

fn service_account(annotations: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "default", "annotations": annotations},
    })
}

fn role_sa() -> Value {
    service_account(json!({"eks.amazonaws.com/role-arn": ROLE}))
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

fn pod_review(pod: Value, cluster: &[Value]) -> Outcome {
    run(
        &Prepared::default(),
        &review_json("Pod", "CREATE", pod),
        cluster,
    )
    .expect("a readable review")
}

fn rejection(outcome: &Outcome) -> &str {
    assert!(!outcome.allowed, "expected a rejection, got {outcome:?}");
    outcome.message.as_deref().unwrap_or_default()
}

/// The Pod after the policy's patch (the Pod itself when nothing changed).
fn mutated(pod: &Value, outcome: &Outcome) -> Value {
    outcome.mutated_object(pod).unwrap_or_else(|| pod.clone())
}

fn env_of(pod: &Value, container: usize) -> Vec<(String, String)> {
    pod["spec"]["containers"][container]["env"]
        .as_array()
        .map(|env| {
            env.iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap_or_default().to_string(),
                        e["value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn total_len(texts: &[String]) -> usize {
    texts.iter().map(String::len).sum()
}

// ---- Not an admission request at all ----

#[test]
fn not_json() {
    let e = run(&Prepared::default(), "{\"apiVersion\": ", &[]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("admission review: not valid JSON: EOF while parsing"),
        "{e}"
    );
    let e = run(&Prepared::default(), "\u{feff}garbage\u{0}", &[]).unwrap_err();
    assert!(matches!(e, AdmissionError::NotJson(_)), "{e}");
}

#[test]
fn json_that_is_not_an_object() {
    for (text, found) in [
        ("[1, 2]", "an array"),
        ("\"Pod\"", "a string"),
        ("42", "a number"),
        ("null", "null"),
    ] {
        let e = run(&Prepared::default(), text, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("admission review: expected an AdmissionReview object, got {found}")
        );
    }
    let e = run(
        &Prepared::default(),
        r#"{"kind": "AdmissionReview", "request": [1]}"#,
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "admission review: request: expected an object, got an array"
    );
}

#[test]
fn kind_pod_whose_object_is_not_an_object() {
    for (object, found) in [
        (json!([1, 2]), "an array"),
        (json!("a Pod"), "a string"),
        (json!(7), "a number"),
    ] {
        let outcome = pod_review(object, &[role_sa()]);
        assert_eq!(
            rejection(&outcome),
            format!("Pod: expected an object, got {found}")
        );
        assert_eq!(outcome.code, Some(400));
    }
    // No object at all: read as null.
    let outcome = pod_review(Value::Null, &[role_sa()]);
    assert_eq!(rejection(&outcome), "Pod: expected an object, got null");
}

// ---- Wrong types in every field the policy reads ----

#[test]
fn wrong_types_in_read_fields() {
    let app = |extra: Value| {
        let mut c = json!({"name": "app", "image": "busybox"});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            c[k] = v;
        }
        c
    };
    let rows: Vec<(&str, Value, &str)> = vec![
        (
            "env as an object",
            pod(json!({"containers": [app(json!({"env": {"A": "b"}}))]})),
            "Pod spec.containers[0].env: expected an array, got an object",
        ),
        (
            "containers as a string",
            pod(json!({"containers": "app"})),
            "Pod spec.containers: expected an array, got a string",
        ),
        (
            "volumes as an object",
            pod(json!({"containers": [app(json!({}))], "volumes": {"name": "x"}})),
            "Pod spec.volumes: expected an array, got an object",
        ),
        (
            "serviceAccountName as a number",
            pod(json!({"serviceAccountName": 5, "containers": [app(json!({}))]})),
            "Pod spec.serviceAccountName: expected a string, got a number",
        ),
        (
            "spec as a string",
            json!({"metadata": {}, "spec": "x"}),
            "Pod spec: expected an object, got a string",
        ),
        (
            "volumeMounts as a string",
            pod(json!({"containers": [app(json!({"volumeMounts": "aws-iam-token"}))]})),
            "Pod spec.containers[0].volumeMounts: expected an array, got a string",
        ),
        (
            "a container that is a number",
            pod(json!({"containers": [1]})),
            "Pod spec.containers[0]: expected an object, got a number",
        ),
        (
            "initContainers as an object",
            pod(json!({"containers": [app(json!({}))], "initContainers": {}})),
            "Pod spec.initContainers: expected an array, got an object",
        ),
        (
            "metadata as an array",
            json!({"metadata": [], "spec": {"containers": []}}),
            "Pod metadata: expected an object, got an array",
        ),
    ];
    let mut wrong = Vec::new();
    // nodeSelector is only read to detect Windows: a list selects nothing, so the Pod gets
    // the Linux token path (the API server refuses such a Pod itself).
    let object = pod(json!({"containers": [app(json!({}))], "nodeSelector": ["kubernetes.io/os"]}));
    let outcome = pod_review(object.clone(), &[role_sa()]);
    assert_eq!(
        env_of(&mutated(&object, &outcome), 0)[1].1,
        "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    );
    for (row, object, message) in rows {
        let outcome = pod_review(object, &[role_sa()]);
        if outcome.allowed || outcome.message.as_deref() != Some(message) {
            wrong.push(format!("{row}: expected {message:?}, got {outcome:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn annotations_with_non_string_values() {
    // On the Pod: the API server only stores strings, so another type is a malformed Pod.
    let object = json!({
        "metadata": {"name": "web", "annotations": {"eks.amazonaws.com/skip-containers": 5}},
        "spec": {"containers": [{"name": "app"}]},
    });
    let outcome = pod_review(object, &[role_sa()]);
    assert_eq!(
        rejection(&outcome),
        "Pod metadata.annotations[\"eks.amazonaws.com/skip-containers\"]: expected a string, got a number"
    );
    // On the ServiceAccount (read from the cluster): a non-string value counts as absent.
    let sa = service_account(json!({
        "eks.amazonaws.com/role-arn": {"arn": ROLE},
        "eks.amazonaws.com/audience": ["sts"],
    }));
    let object = pod(json!({"containers": [{"name": "app"}]}));
    let outcome = pod_review(object, &[sa]);
    assert!(outcome.allowed && outcome.patch.0.is_empty(), "{outcome:?}");
    // A ServiceAccount under review with such values: nothing to check, admitted.
    let outcome = run(
        &settings(json!({"trustValidation": "enforce"})),
        &review_json(
            "ServiceAccount",
            "CREATE",
            service_account(json!({"eks.amazonaws.com/role-arn": 1})),
        ),
        &[],
    )
    .unwrap();
    assert!(
        outcome.allowed && outcome.warnings.is_empty(),
        "{outcome:?}"
    );
}

// ---- Size and depth ----

#[test]
fn deeply_nested_json_is_a_clear_error() {
    let depth = 10_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // Everywhere JSON enters: the review, the settings, a trust policy.
    let review = format!(
        r#"{{"kind": "AdmissionReview", "request": {{"kind": {{"kind": "Pod"}}, "object": {{"spec": {nested}}}}}}}"#
    );
    let e = run(&Prepared::default(), &review, &[]).unwrap_err();
    assert!(e.to_string().contains("recursion limit exceeded"), "{e}");
    let e = Settings::parse(&format!(r#"{{"trustPolicy": {nested}}}"#)).unwrap_err();
    assert!(
        matches!(&e, SettingsError::Malformed(m) if m.contains("recursion limit exceeded")),
        "{e}"
    );
    let e = TrustPolicy::parse(&format!(r#"{{"Statement": {nested}}}"#)).unwrap_err();
    assert!(e.to_string().contains("recursion limit exceeded"), "{e}");
    let findings = trust::lint(&nested, None, ISSUER).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "INVALID_JSON");
}

#[test]
fn ten_mib_annotation_value() {
    let huge = "a".repeat(10 << 20);
    // As the role ARN: injected verbatim (the API server already limits annotations to
    // 256 KiB in total), and the trust warning quotes it cut short.
    let sa = service_account(json!({"eks.amazonaws.com/role-arn": huge}));
    let object = pod(json!({"containers": [{"name": "app"}]}));
    let outcome = pod_review(object.clone(), &[sa]);
    assert!(outcome.allowed);
    let env = env_of(&mutated(&object, &outcome), 0);
    assert_eq!(env.len(), 2);
    assert_eq!(env[0], ("AWS_ROLE_ARN".to_string(), huge.clone()));
    assert_eq!(outcome.warnings.len(), 1, "{:.300?}", outcome.warnings);
    assert!(
        outcome.warnings[0].contains("is not a valid IAM role ARN"),
        "{:.300}",
        outcome.warnings[0]
    );
    assert!(total_len(&outcome.warnings) < 4096, "warnings stay short");
    // As the audience, the token expiration, the region and skip-containers.
    let sa = service_account(json!({
        "eks.amazonaws.com/role-arn": ROLE,
        "eks.amazonaws.com/audience": huge,
        "eks.amazonaws.com/token-expiration": huge,
        "eks.amazonaws.com/sts-regional-endpoints": huge,
    }));
    let object = json!({
        "metadata": {"name": "web", "annotations": {
            "eks.amazonaws.com/skip-containers": huge,
            "eks.amazonaws.com/token-expiration": huge,
        }},
        "spec": {"containers": [{"name": "app"}]},
    });
    let outcome = pod_review(object.clone(), &[sa]);
    assert!(outcome.allowed, "{:.300?}", outcome.message);
    let result = mutated(&object, &outcome);
    assert_eq!(
        result["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        json!(huge)
    );
    assert_eq!(
        result["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        json!(86400)
    );
    assert!(outcome.warnings.len() <= 4, "{:.300?}", outcome.warnings);
    assert!(total_len(&outcome.warnings) < 4096, "warnings stay short");
}

#[test]
fn ten_thousand_containers() {
    let n = 10_000;
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "busybox"}))
        .collect();
    let object = pod(json!({"containers": containers, "initContainers": containers}));
    let outcome = pod_review(object.clone(), &[role_sa()]);
    assert!(outcome.allowed);
    // One volume, then env and mount per container: linear in the Pod.
    assert_eq!(outcome.patch.0.len(), 1 + 2 * 2 * n);
    let result = mutated(&object, &outcome);
    assert_eq!(env_of(&result, n - 1).len(), 2);
    // Skipping every container but one (c0, in both lists), through a 10,000-name CSV list.
    let skip: Vec<String> = (1..n).map(|i| format!("c{i}")).collect();
    let mut object = object;
    object["metadata"]["annotations"] =
        json!({"eks.amazonaws.com/skip-containers": skip.join(",")});
    let outcome = pod_review(object, &[role_sa()]);
    assert_eq!(outcome.patch.0.len(), 1 + 2 + 2);
}

// ---- Role ARNs, expirations, names ----

#[test]
fn role_arn_with_control_characters_or_100_kb() {
    let enforce = settings(json!({"trustValidation": "enforce"}));
    let long = format!("arn:aws:iam::111122223333:role/{}", "r".repeat(100 * 1024));
    for (arn, reason) in [
        (
            "arn:aws:iam::111122223333:role/a\nb".to_string(),
            "is not a valid IAM role ARN",
        ),
        (
            "arn:aws:iam::111122223333:role/a\u{0}b\u{7}".to_string(),
            "is not a valid IAM role ARN",
        ),
        (long.clone(), "is not a valid IAM role ARN"),
    ] {
        // A ServiceAccount under enforce: refused, with the value quoted and cut short.
        let sa = service_account(json!({"eks.amazonaws.com/role-arn": arn}));
        let outcome = run(
            &enforce,
            &review_json("ServiceAccount", "CREATE", sa.clone()),
            &[],
        )
        .unwrap();
        let message = rejection(&outcome);
        assert!(
            message.starts_with("ServiceAccount default/default: eks.amazonaws.com/role-arn"),
            "{message:.300}"
        );
        assert!(message.contains(reason), "{message:.300}");
        assert!(
            message.len() < 1024,
            "message stays short: {} bytes",
            message.len()
        );
        assert!(
            !message.contains('\n') && !message.contains('\u{0}'),
            "{message:?}"
        );
        // A Pod: one inert env entry holding exactly the annotation text, and a warning.
        let object = pod(json!({"containers": [{"name": "app"}]}));
        let outcome = pod_review(object.clone(), &[sa]);
        assert!(outcome.allowed);
        let env = env_of(&mutated(&object, &outcome), 0);
        assert_eq!(
            env,
            [
                ("AWS_ROLE_ARN".to_string(), arn.clone()),
                (
                    "AWS_WEB_IDENTITY_TOKEN_FILE".to_string(),
                    "/var/run/secrets/eks.amazonaws.com/serviceaccount/token".to_string()
                )
            ]
        );
        assert_eq!(outcome.warnings.len(), 1);
        assert!(outcome.warnings[0].len() < 1024);
    }
    assert!(RoleArn::parse(&long).is_err());
}

#[test]
fn token_expiration_overflow() {
    let rows = [
        ("9223372036854775808", 86400_i64, true), // i64::MAX + 1: not an int64, default kept
        ("99999999999999999999999", 86400, true),
        ("-9223372036854775808", 600, true), // i64::MIN: raised to the floor
        // The reference has no ceiling: kept, with a warning that the API server refuses it.
        ("9223372036854775807", 9223372036854775807, true),
        ("１２００", 86400, true), // full-width digits are not ASCII digits
    ];
    for (value, expected, warned) in rows {
        let object = json!({
            "metadata": {"name": "web", "annotations": {"eks.amazonaws.com/token-expiration": value}},
            "spec": {"containers": [{"name": "app"}]},
        });
        let outcome = pod_review(object.clone(), &[role_sa()]);
        let result = mutated(&object, &outcome);
        assert_eq!(
            result["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            json!(expected),
            "{value}"
        );
        assert_eq!(
            !outcome.warnings.is_empty(),
            warned,
            "{value}: {:?}",
            outcome.warnings
        );
    }
    // In the settings: refused with the key and the bounds.
    let e = Settings::parse_valid(r#"{"tokenExpiration": 99999999999999999999}"#).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("settings: tokenExpiration: invalid type"),
        "{e}"
    );
    let e = Settings::parse_valid(r#"{"tokenExpiration": 9223372036854775807}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid settings: tokenExpiration: 9223372036854775807 is above the maximum of 4294967296 seconds (2^32)"
    );
}

#[test]
fn unicode_in_names() {
    let s = settings(json!({"roleSessionName": true}));
    let sa = json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "dienst-ü", "namespace": "nämespace",
                     "annotations": {"eks.amazonaws.com/role-arn": ROLE}},
    });
    let object = json!({
        "metadata": {"name": "pöd-😀-\u{202e}x", "namespace": "nämespace"},
        "spec": {"serviceAccountName": "dienst-ü", "containers": [{"name": "äpp"}]},
    });
    let review = json!({
        "kind": "AdmissionReview",
        "request": {"uid": "u", "kind": {"group": "", "kind": "Pod"}, "operation": "CREATE",
                    "namespace": "nämespace", "object": object},
    });
    let outcome = run(&s, &review.to_string(), &[sa]).unwrap();
    assert!(outcome.allowed);
    let env = env_of(&mutated(&object, &outcome), 0);
    let session = env
        .iter()
        .find(|(name, _)| name == "AWS_ROLE_SESSION_NAME")
        .map(|(_, value)| value.clone())
        .expect("session name injected");
    assert!(
        session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
        "{session:?}"
    );
    assert!(session.len() <= 64);
    // Trust checks refuse such names with a clear message instead of guessing.
    let e = trust::render(
        r#"{"a": "<NAMESPACE>/<SERVICE_ACCOUNT>"}"#,
        "nämespace",
        "sa",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("namespace \"nämespace\" is not valid"),
        "{e}"
    );
}

// ---- Trust policies ----

fn statement(effect: &str, operator: &str, sub: &str) -> Value {
    json!({
        "Effect": effect,
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {operator: {SUB_KEY: sub}},
    })
}

fn subject(namespace: &str, service_account: &str) -> Subject {
    Subject {
        issuer: ISSUER.to_string(),
        audience: "sts.amazonaws.com".to_string(),
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
    }
}

#[test]
fn trust_policy_with_ten_thousand_statements() {
    let statements: Vec<Value> = (0..10_000)
        .map(|i| {
            statement(
                "Allow",
                "StringEquals",
                &format!("system:serviceaccount:ns{i}:sa{i}"),
            )
        })
        .collect();
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let role = RoleArn::parse(ROLE).unwrap();
    let (policy, findings) = TrustPolicy::parse(&text).unwrap();
    // IAM caps a trust policy at 2,048 characters (4,096 with a quota raise): refused, so it
    // allows nothing, with one finding rather than one per statement.
    assert!(!policy.is_valid());
    assert!(
        findings.iter().any(|f| f.code == "POLICY_TOO_LARGE"),
        "{findings:?}"
    );
    assert!(findings.len() < 100, "{} findings", findings.len());
    let verdict = policy.decide(&role, &subject("ns9999", "sa9999"));
    assert!(!verdict.allowed && !verdict.valid_document);
    assert!(policy.lint(Some(&role), ISSUER).len() < 20_100);
    // An invalid document admits nobody.
    let admitted = policy.admitted(&role, ISSUER, "sts.amazonaws.com").unwrap();
    assert!(!admitted.admits("ns0", "sa0"));
    let who = trust::who(&text, ROLE, ISSUER, "sts.amazonaws.com").unwrap();
    assert_eq!(who.len(), 1);
    assert!(
        who[0].starts_with("nobody: the document is not a valid IAM trust policy"),
        "{who:?}"
    );
}

#[test]
fn pathological_glob_in_string_like() {
    let pattern = format!("{}b", "*a".repeat(2_000));
    let text =
        json!({"Version": "2012-10-17", "Statement": [statement("Allow", "StringLike", &pattern)]})
            .to_string();
    let role = RoleArn::parse(ROLE).unwrap();
    // The document is too large for IAM, so it allows nothing; the engine still reads it.
    let (policy, _) = TrustPolicy::parse(&text).unwrap();
    let verdict = policy.decide(&role, &subject(&"a".repeat(60), &"a".repeat(60)));
    assert!(!verdict.allowed);
    let _ = policy.lint(Some(&role), ISSUER);
    let _ = policy.admitted(&role, ISSUER, "sts.amazonaws.com");

    // A valid-sized document with a nasty glob: decided, linted and analysed.
    let pattern = format!("system:serviceaccount:{}b", "*a".repeat(300));
    let text =
        json!({"Version": "2012-10-17", "Statement": [statement("Allow", "StringLike", &pattern)]})
            .to_string();
    let (policy, _) = TrustPolicy::parse(&text).unwrap();
    let ns = "a".repeat(400);
    assert!(!policy.decide(&role, &subject(&ns, "x")).allowed);
    let _ = policy.lint(Some(&role), ISSUER);
    match policy.admitted(&role, ISSUER, "sts.amazonaws.com") {
        Ok(who) => assert!(!who.lines().is_empty()),
        Err(e) => assert!(e.to_string().contains("too complex"), "{e}"),
    }
}

#[test]
fn pathological_glob_in_the_sub_language() {
    // (pattern, a word it matches, whether the automaton fits the engine's bounds)
    let rows = [
        (
            format!("{}b", "*a".repeat(2_000)),
            format!("{}b", "a".repeat(2_000)),
            true,
        ),
        (format!("{}*", "*?".repeat(3_000)), "x".repeat(3_000), true),
        ("*".repeat(100_000), String::new(), true),
        // 2^41 subsets of positions: refused at the state bound.
        (
            format!("*a{}", "?".repeat(40)),
            format!("a{}", "b".repeat(40)),
            false,
        ),
        // More than 100,000 states (one per char of the shortest word): refused up front.
        ("?".repeat(100_000), "x".repeat(100_000), false),
    ];
    for (pattern, word, fits) in rows {
        match Language::glob(&pattern) {
            Ok(language) => {
                assert!(fits, "{pattern:.40} was analysed");
                assert!(language.contains(&word), "{pattern:.40}");
                assert!(!language.contains(&format!("{word}\u{0}")) || pattern.ends_with('*'));
            }
            Err(e @ LanguageError::TooComplex { .. }) => {
                assert!(!fits, "{pattern:.40}: {e}");
                assert!(e.to_string().contains("is too complex to analyse"), "{e}");
                assert!(
                    e.to_string().len() < 200,
                    "the message quotes the pattern cut short"
                );
            }
        }
    }
}

/// The shared table of `recorded::hostile`, through Kubewarden's protocol natively: the same
/// answers the `.wasm` must give under its limits.
#[test]
fn shared_hostile_rows_answer_natively() {
    use aws_workload_identity::admission::ObjectRef;
    use aws_workload_identity::kubewarden::Validator;

    let mut wrong = Vec::new();
    for (row, payload, cluster, accepted, text) in recorded::hostile::validate_rows() {
        let lookup = |wanted: &ObjectRef| match cluster.iter().find(|o| wanted.matches(o)) {
            Some(object) => Lookup::Found(object.clone()),
            None => Lookup::NotFound,
        };
        let answer = Validator::new().validate(&payload, lookup);
        let said = format!("{} {}", json!(answer.message), json!(answer.warnings));
        if answer.accepted != accepted || !said.contains(&text) {
            let shown: String = said.chars().take(600).collect();
            wrong.push(format!(
                "{row}: expected accepted={accepted} mentioning {text:?}, got accepted={} {shown}",
                answer.accepted
            ));
        }
        if said.len() > 64 << 10 {
            wrong.push(format!(
                "{row}: {} bytes of message and warnings",
                said.len()
            ));
        }
    }
    for (row, settings, valid) in recorded::hostile::settings_rows() {
        let answer = Validator::new().validate_settings(settings.as_bytes());
        let explained = valid || answer.message.as_deref().is_some_and(|m| !m.is_empty());
        if answer.valid != valid || !explained {
            wrong.push(format!("{row}: got {:.400}", format!("{answer:?}")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
