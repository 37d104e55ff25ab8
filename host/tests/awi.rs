//! End-to-end tests of the `awi` command: every subcommand's success, refusal and bad-input
//! paths, their exit codes (README, "The `awi` command"), and the bundled examples of the README.
//!
//! The binary runs the policy module this crate was built with (see build.rs), with the
//! compiled-code cache in a directory of its own so that tests never touch the user's.

mod common;

use base64::Engine as _;
use common::cli::{
    EXAMPLE_REVIEW, assert_bad_input, assert_contains, assert_ok, example_review_with, run,
    scratch, words,
};
use serde_json::Value;

const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";
const ISSUER: &str = "https://oidc.cpln.example/abc123";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn patch_ops(response: &Value) -> Vec<Value> {
    let patch = response["patch"].as_str().expect("a patch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .expect("base64 patch");
    match serde_json::from_slice(&bytes).expect("JSON patch") {
        Value::Array(ops) => ops,
        other => panic!("patch is not an array: {other}"),
    }
}

// ---- review -------------------------------------------------------------------------

#[test]
fn review_of_the_bundled_example_injects_the_role() {
    let r = run(EXAMPLE_REVIEW);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let answer = json(&r.stdout);
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    let response = &answer["response"];
    assert_eq!(response["uid"], "6f1c3c2e-3a4b-4b8e-9d2f-1a2b3c4d5e6f");
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch");
    let ops = patch_ops(response);
    let added: Vec<&Value> = ops.iter().filter(|op| op["op"] == "add").collect();
    assert!(!added.is_empty(), "{ops:?}");
    assert!(
        added
            .iter()
            .any(|op| op["value"]["name"] == "AWS_ROLE_ARN" && op["value"]["value"] == ROLE),
        "{ops:?}"
    );
    assert!(
        added
            .iter()
            .any(|op| op["value"]["name"] == "AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{ops:?}"
    );
}

#[test]
fn review_log_prints_the_decision_record_and_the_answer_has_audit_annotations() {
    let r = assert_ok(&example_review_with(&["--log"]));
    let records: Vec<Value> = r.stderr.lines().map(json).collect();
    let [record] = &records[..] else {
        panic!("expected one log record on stderr, got {}", r.stderr);
    };
    assert_eq!(record["level"], "info", "{record}");
    assert_eq!(record["action"], "mutated", "{record}");
    assert_eq!(record["mode"], "web-identity", "{record}");
    assert_eq!(record["role_arn"], ROLE, "{record}");
    assert_eq!(record["uid"], "6f1c3c2e-3a4b-4b8e-9d2f-1a2b3c4d5e6f");
    assert_eq!(record["object"], "Pod/api-7d9f8", "{record}");
    let annotations = &json(&r.stdout)["response"]["auditAnnotations"];
    assert_eq!(annotations["role-arn"], ROLE, "{annotations}");
    assert_eq!(annotations["mode"], "web-identity", "{annotations}");
    assert_eq!(annotations["trust"], record["trust"], "{annotations}");

    let quiet = run(EXAMPLE_REVIEW);
    assert!(
        quiet.stderr.is_empty(),
        "no records without --log: {}",
        quiet.stderr
    );
}

#[test]
fn review_diff_is_for_people() {
    let r = assert_ok(&example_review_with(&["--diff"]));
    let text = &r.stdout;
    assert!(
        text.starts_with("Pod payments/api-7d9f8 (ServiceAccount api): admitted with changes"),
        "{text}"
    );
    assert_contains(
        text,
        &[
            &format!("+ env AWS_ROLE_ARN={ROLE}"),
            "+ env AWS_REGION=eu-central-1",
            "+ volumeMount aws-iam-token at /var/run/secrets/eks.amazonaws.com/serviceaccount",
            "+ volume aws-iam-token: projected ServiceAccount token audience=sts.amazonaws.com",
        ],
    );
    assert!(!text.contains("patch"), "no base64 in --diff: {text}");
}

#[test]
fn review_without_the_service_account_admits_unchanged_with_a_warning() {
    let r = run(&words("review examples/review.json --diff"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        &["admitted unchanged", "warnings:", "payments/api"],
    );
}

#[test]
fn review_with_a_failing_service_account_read_warns_in_one_line() {
    let error = "Callback evaluation failure: ApiError: the server is currently unable to handle the request: ServiceUnavailable (ErrorResponse { status: \"Failure\", message: \"the server is currently unable to handle the request\", reason: \"ServiceUnavailable\", code: 503 })\n\nCaused by:\n    the server is currently unable to handle the request: ServiceUnavailable";
    // As policy-server reports it, and as a user copies it from a warning (already wrapped
    // in the guest library's "Host error: ").
    for error in [error.to_string(), format!("Host error: {error}")] {
        let r = run(&[
            "review",
            "examples/review.json",
            "--service-account",
            "examples/serviceaccount.yaml",
            "--service-account-error",
            &error,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let response = &json(&r.stdout)["response"];
        assert_eq!(response["allowed"], true, "{}", r.stdout);
        assert!(response.get("patch").is_none(), "{}", r.stdout);
        assert_eq!(
            response["warnings"],
            serde_json::json!([
                "cannot read ServiceAccount payments/api (API server answered 503 ServiceUnavailable): its IAM role annotations are not applied to this Pod"
            ])
        );
    }
}

#[test]
fn review_accepts_a_bare_request_in_yaml() {
    let r = run(&words(
        "review host/tests/data/request.yaml --service-account examples/serviceaccount.yaml",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let answer = json(&r.stdout);
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(
        answer["response"]["uid"],
        "7c0d9a3e-5f61-4e2b-a1c4-9b8e7d6f5a43"
    );
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"]["patch"].is_string());
}

#[test]
fn review_rejected_exits_1() {
    let r = run(&words(
        "review host/tests/data/review-serviceaccount-foreign-account.json --settings host/tests/data/settings-enforce.yaml",
    ));
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let answer = json(&r.stdout);
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("999988887777"), "{message}");

    let r = run(&words(
        "review host/tests/data/review-serviceaccount-foreign-account.json --settings host/tests/data/settings-enforce.yaml --diff",
    ));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("ServiceAccount payments/api: REJECTED"),
        "{}",
        r.stdout
    );
}

/// The README's worked example: the validating ClusterAdmissionPolicy's own settings (read
/// from the manifest's spec.settings) refuse a ServiceAccount its role does not trust.
#[test]
fn review_with_the_serviceaccount_policy_manifest_explains_the_refusal() {
    let r = run(&words(
        "review examples/review-serviceaccount.json --settings examples/serviceaccount-policy.yaml",
    ));
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let response = &json(&r.stdout)["response"];
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "ServiceAccount payments/web: role payments-api does not trust \
             system:serviceaccount:payments:web with audience sts.amazonaws.com: statement 0 \
             condition StringEquals oidc.cpln.example/abc123:sub allows only \
             system:serviceaccount:payments:api; a trust policy that works: "
        ),
        "{message}"
    );
    assert!(
        message.ends_with(r#""oidc.cpln.example/abc123:sub":"system:serviceaccount:payments:web","oidc.cpln.example/abc123:aud":"sts.amazonaws.com"}}}]}"#),
        "{message}"
    );
}

/// The README's workload example: a Deployment whose ServiceAccount's role does not trust it
/// is refused by the workload policy's settings (enforce); without the ServiceAccount it is
/// admitted with a warning naming it.
#[test]
fn review_with_the_workload_policy_manifest_checks_the_deployments_service_account() {
    let refused = run(&[
        "review",
        "examples/review-deployment.json",
        "--settings",
        "examples/workload-policy.yaml",
        "--service-account",
        "examples/serviceaccount-web.yaml",
    ]);
    assert_eq!(
        refused.code, 1,
        "stdout: {}\nstderr: {}",
        refused.stdout, refused.stderr
    );
    let response = &json(&refused.stdout)["response"];
    assert_eq!(response["status"]["code"], 403);
    assert!(response.get("patch").is_none(), "{response}");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Deployment payments/web: ServiceAccount payments/web: role payments-api does not \
             trust system:serviceaccount:payments:web with audience sts.amazonaws.com"
        ),
        "{message}"
    );

    let warned = run(&[
        "review",
        "examples/review-deployment.json",
        "--settings",
        "examples/workload-policy.yaml",
    ]);
    assert_eq!(
        warned.code, 0,
        "stdout: {}\nstderr: {}",
        warned.stdout, warned.stderr
    );
    let response = &json(&warned.stdout)["response"];
    assert_eq!(response["allowed"], true);
    assert!(response.get("patch").is_none(), "{response}");
    assert_eq!(
        response["warnings"][0],
        "Deployment payments/web: ServiceAccount payments/web does not exist: the API server \
         refuses the Pods of this workload until it is created"
    );
}

#[test]
fn review_bad_input_exits_2_with_one_line() {
    assert_bad_input(
        &["review", "host/tests/data/missing.json"],
        "REVIEW host/tests/data/missing.json: cannot read",
    );
    assert_bad_input(
        &["review", "host/tests/data/not-json.json"],
        "not valid JSON",
    );
    assert_bad_input(
        &["review", "examples/pod.yaml"],
        "this is a Pod, not an AdmissionReview",
    );
    assert_bad_input(
        &words("review examples/review.json --settings host/tests/data/settings-invalid.yaml"),
        "invalid settings",
    );
    assert_bad_input(
        &words("review examples/review.json --settings host/tests/data/not-json.json"),
        "--settings host/tests/data/not-json.json: not valid JSON",
    );
    assert_bad_input(
        &words("review examples/review.json --service-account nowhere.yaml"),
        "--service-account nowhere.yaml: cannot read",
    );
    assert_bad_input(
        &words("review examples/review.json --module nowhere.wasm"),
        "--module nowhere.wasm",
    );
    assert_bad_input(&["review"], "REVIEW");
    assert_bad_input(&words("review examples/review.json --bogus"), "--bogus");
}

#[test]
fn invalid_settings_message_comes_from_the_policy() {
    let r = run(&words(
        "review examples/review.json --settings host/tests/data/settings-invalid.yaml",
    ));
    assert_eq!(r.code, 2);
    assert_contains(&r.stderr, &["tokenExpiration"]);
}

// ---- mutate -------------------------------------------------------------------------

#[test]
fn mutate_prints_the_pod_as_yaml_with_the_env() {
    let r = run(&words(
        "mutate examples/pod.yaml --service-account examples/serviceaccount.yaml --settings examples/settings.yaml",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pod: serde_yaml::Value = serde_yaml::from_str(&r.stdout).expect("YAML");
    let pod: Value = serde_json::to_value(pod).unwrap();
    assert_eq!(pod["kind"], "Pod");
    let env = pod["spec"]["containers"][0]["env"].as_array().unwrap();
    let names: Vec<&str> = env.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names[0], "LOG_LEVEL", "the Pod's own env stays first");
    assert!(names.contains(&"AWS_ROLE_ARN"), "{names:?}");
    assert!(names.contains(&"AWS_WEB_IDENTITY_TOKEN_FILE"), "{names:?}");
    assert_eq!(pod["spec"]["volumes"][0]["name"], "aws-iam-token");
    // Printed in the manifest's own order, not sorted.
    assert!(
        r.stdout
            .starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-7d9f8\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn mutate_without_a_role_prints_the_pod_unchanged() {
    let r = run(&words(
        "mutate host/tests/data/pod-default-namespace.yaml --service-account examples/serviceaccount.yaml",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("AWS_"), "{}", r.stdout);
    assert_contains(&r.stdout, &["name: plain"]);
    // The default ServiceAccount of namespace default is not in the cluster: a warning.
    assert!(r.stderr.starts_with("warning: "), "{}", r.stderr);
    assert_contains(&r.stderr, &["default/default"]);
}

#[test]
fn mutate_bad_input_exits_2() {
    assert_bad_input(&["mutate", "examples/pod.yaml"], "--service-account");
    assert_bad_input(
        &words(
            "mutate host/tests/data/pod-bad-metadata.yaml --service-account examples/serviceaccount.yaml",
        ),
        "metadata must be an object",
    );
    assert_bad_input(
        &words("mutate examples/review.json --service-account examples/serviceaccount.yaml"),
        "expected kind Pod, found AdmissionReview",
    );
    assert_bad_input(
        &words(
            "mutate examples/pod.yaml --service-account examples/serviceaccount.yaml --namespace other",
        ),
        "does not match --namespace other",
    );
    assert_bad_input(
        &words("mutate nowhere.yaml --service-account examples/serviceaccount.yaml"),
        "POD nowhere.yaml: cannot read",
    );
    assert_bad_input(
        &words("mutate examples/pod.yaml --service-account host/tests/data/not-json.json"),
        "not valid JSON",
    );
}

// ---- trust check --------------------------------------------------------------------

fn check_args<'a>(policy: &'a str, namespace: &'a str) -> Vec<&'a str> {
    vec![
        "trust",
        "check",
        "--policy",
        policy,
        "--role-arn",
        ROLE,
        "--issuer",
        ISSUER,
        "--namespace",
        namespace,
        "--service-account",
        "api",
    ]
}

/// `trust check --output json` of `policy` for payments/api: the exit code must be `code`;
/// returns the printed JSON.
fn check_json(policy: &str, code: i32) -> Value {
    let mut args = check_args(policy, "payments");
    args.extend(["--output", "json"]);
    let r = run(&args);
    assert_eq!(r.code, code, "{}{}", r.stdout, r.stderr);
    json(&r.stdout)
}

#[test]
fn trust_check_allows_the_right_service_account() {
    let r = run(&check_args("examples/settings.yaml", "payments"));
    // settings.yaml is YAML, not a trust policy: bad input.
    assert_eq!(r.code, 2, "{}", r.stdout);

    let rendered = run(&words(
        "trust render --template examples/cluster.json --namespace payments --service-account api",
    ));
    assert_eq!(rendered.code, 0, "{}", rendered.stderr);
    let dir = scratch("check-allowed");
    let policy = dir.join("policy.json");
    std::fs::write(&policy, &rendered.stdout).unwrap();
    let r = run(&check_args(policy.to_str().unwrap(), "payments"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("ALLOWED: system:serviceaccount:payments:api"),
        "{}",
        r.stdout
    );
}

#[test]
fn trust_check_explains_a_refusal() {
    let r = run(&check_args(
        "examples/trust-policy-wrong-namespace.json",
        "payments",
    ));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("NOT ALLOWED: system:serviceaccount:payments:api"),
        "{}",
        r.stdout
    );
    assert_contains(
        &r.stdout,
        &["system:serviceaccount:default:api", "statement 0"],
    );
}

#[test]
fn trust_check_json_has_the_documented_shape() {
    let mut args = check_args(
        "host/tests/data/trust-policy-any-namespace.json",
        "payments",
    );
    args.extend(["--output", "json"]);
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.trim().lines().count(),
        1,
        "one object: {}",
        r.stdout
    );
    let v = json(&r.stdout);
    let object = v.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["allowed", "explanation", "findings", "validDocument"]
    );
    assert_eq!(v["allowed"], true);
    assert_eq!(v["validDocument"], true);
    assert!(
        v["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert!(v["findings"].is_array());

    // An invalid document: not allowed, validDocument false, an error finding.
    let v = check_json("host/tests/data/trust-policy-invalid.json", 1);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["validDocument"], false);
    let findings = v["findings"].as_array().expect("findings array");
    assert!(!findings.is_empty());
    for f in findings {
        let f = f.as_object().unwrap();
        let mut keys: Vec<&str> = f.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "message", "severity", "statement"]);
        assert!(f["code"].is_string() && f["message"].is_string());
        assert!(
            ["error", "critical", "high", "medium", "low", "info"]
                .contains(&f["severity"].as_str().unwrap())
        );
        assert!(f["statement"].is_null() || f["statement"].is_u64());
    }
    assert!(
        findings.iter().any(|f| f["code"] == "INVALID_EFFECT"
            && f["severity"] == "error"
            && f["statement"] == 0),
        "{findings:?}"
    );

    let v = check_json("examples/trust-policy-wrong-namespace.json", 1);
    assert_eq!(v["allowed"], false);
}

/// `check` reports what `lint` reports (the same set), and its exit code still follows the
/// decision: a policy that admits `api` of every namespace is allowed for payments/api, with
/// the finding that says so.
#[test]
fn trust_check_json_includes_the_lint_findings() {
    let policy = "host/tests/data/trust-policy-any-namespace.json";
    let checked = check_json(policy, 0);
    assert_eq!(checked["allowed"], true);
    let lint = run(&words(&format!(
        "trust lint --policy {policy} --issuer {ISSUER} --role-arn {ROLE} -o json"
    )));
    let linted = json(&lint.stdout);
    let linted = linted["findings"].as_array().unwrap();
    assert!(
        linted.iter().any(|f| f["code"] == "SUB_WILDCARD_NAMESPACE"),
        "{linted:?}"
    );
    assert_eq!(checked["findings"].as_array().unwrap(), linted);

    // Text output lists them too.
    let r = run(&check_args(policy, "payments"));
    assert_eq!(r.code, 0);
    assert_contains(&r.stdout, &["SUB_WILDCARD_NAMESPACE"]);
}

/// A key only STS knows leaves the decision open, says so, and `--context` decides it.
#[test]
fn trust_check_context_decides_keys_only_sts_knows() {
    let policy = "host/tests/data/trust-policy-source-ip.json";
    let v = check_json(policy, 1);
    let why = v["explanation"].to_string();
    assert!(
        why.contains("depends on aws:SourceIp, which only STS knows"),
        "{why}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "CONTEXT_DEPENDENT_CONDITION"),
        "{v}"
    );

    let mut args = check_args(policy, "payments");
    args.extend(["-o", "json"]);
    let mut inside = args.clone();
    inside.extend(["--context", "aws:SourceIp=203.0.113.7"]);
    let r = run(&inside);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(json(&r.stdout)["allowed"], true);

    let mut outside = args.clone();
    outside.extend(["--context", "AWS:SOURCEIP=198.51.100.1"]);
    let r = run(&outside);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        !json(&r.stdout)["explanation"]
            .to_string()
            .contains("only STS knows")
    );

    let mut bad = args.clone();
    bad.extend(["--context", "aws:SourceIp"]);
    assert_bad_input(&bad, "expected KEY=VALUE");
    let mut absent = args.clone();
    absent.extend(["--context", "aws:SourceIdentity=alice"]);
    assert_bad_input(&absent, "never carries this key");
    let mut known = args;
    known.extend(["--context", "oidc.cpln.example/abc123:sub=x"]);
    assert_bad_input(&known, "comes from the subject");
}

#[test]
fn trust_check_bad_input_exits_2() {
    let policy = "examples/trust-policy-wrong-namespace.json";
    let with_role = |arn| {
        let mut args = check_args(policy, "payments");
        args[5] = arn;
        args
    };
    let mut xml = check_args(policy, "payments");
    xml.extend(["--output", "xml"]);
    for (args, says) in [
        (with_role("payments-api"), "--role-arn"),
        (
            with_role("arn:aws:iam::1111:role/payments-api"),
            "12 digits",
        ),
        (
            check_args("nowhere.json", "payments"),
            "--policy nowhere.json: cannot read",
        ),
        (
            check_args("host/tests/data/not-json.json", "payments"),
            "not valid JSON",
        ),
        (xml, "xml"),
        (words("trust check --policy x.json"), "required"),
    ] {
        assert_bad_input(&args, says);
    }
}

// ---- trust lint / who / render ------------------------------------------------------

#[test]
fn trust_lint_exit_codes() {
    let r = run(&words(&format!(
        "trust lint --policy examples/trust-policy-wrong-namespace.json --issuer {ISSUER} --role-arn {ROLE}"
    )));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    let r = run(&words(&format!(
        "trust lint --policy host/tests/data/trust-policy-any-namespace.json --issuer {ISSUER}"
    )));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_contains(&r.stdout, &["SUB_WILDCARD_NAMESPACE"]);

    let r = run(&words(&format!(
        "trust lint --policy host/tests/data/trust-policy-any-namespace.json --issuer {ISSUER} --output json"
    )));
    assert_eq!(r.code, 1);
    let v = json(&r.stdout);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "high")
    );

    assert_bad_input(
        &words(&format!(
            "trust lint --policy examples/pod.yaml --issuer {ISSUER}"
        )),
        "--policy examples/pod.yaml: not valid JSON",
    );
    assert_bad_input(
        &words(&format!(
            "trust lint --policy examples/trust-policy-wrong-namespace.json --issuer {ISSUER} --role-arn arn:aws:iam::111122223333:user/x"
        )),
        "--role-arn",
    );
}

#[test]
fn trust_who_lists_the_admitted_subjects() {
    let r = run(&words(&format!(
        "trust who --policy examples/trust-policy-wrong-namespace.json --issuer {ISSUER} --role-arn {ROLE}"
    )));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "default/api");

    let r = run(&words(&format!(
        "trust who --policy host/tests/data/trust-policy-any-namespace.json --issuer {ISSUER} --role-arn {ROLE}"
    )));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(r.stdout.trim(), "default/api");
    assert!(!r.stdout.trim().is_empty());

    assert_bad_input(
        &words(&format!(
            "trust who --policy nowhere.json --issuer {ISSUER} --role-arn {ROLE}"
        )),
        "cannot read",
    );
    assert_bad_input(
        &words(&format!(
            "trust who --policy examples/trust-policy-wrong-namespace.json --issuer {ISSUER} --role-arn role/x"
        )),
        "--role-arn",
    );
}

#[test]
fn trust_render_from_the_cluster_object_and_the_bare_template() {
    for template in ["examples/cluster.json", "host/tests/data/template.json"] {
        let r = run(&[
            "trust",
            "render",
            "--template",
            template,
            "--namespace",
            "payments",
            "--service-account",
            "api",
        ]);
        assert_eq!(r.code, 0, "{template}: {}", r.stderr);
        let policy = json(&r.stdout);
        let sub =
            &policy["Statement"][0]["Condition"]["StringEquals"]["oidc.cpln.example/abc123:sub"];
        assert_eq!(sub, "system:serviceaccount:payments:api", "{template}");
        assert!(!r.stdout.contains("<NAMESPACE>"));
    }
    assert_bad_input(
        &words("trust render --template nowhere.json --namespace payments --service-account api"),
        "--template nowhere.json: cannot read",
    );
    assert_bad_input(
        &words(
            "trust render --template host/tests/data/not-json.json --namespace payments --service-account api",
        ),
        "not valid JSON",
    );
    assert_bad_input(
        &words("trust render --template examples/cluster.json --namespace  --service-account api"),
        "--namespace",
    );
}

// ---- setup --------------------------------------------------------------------------

#[test]
fn setup_prints_checked_paste_ready_steps() {
    let r = run(&words(
        "setup --cluster examples/cluster.json --namespace payments --service-account api --role-name payments-api",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    assert_contains(
        out,
        &[
            "aws iam create-open-id-connect-provider",
            &format!("--url {ISSUER}"),
            "--client-id-list sts.amazonaws.com",
            "aws iam create-role",
            "--role-name payments-api",
            "--assume-role-policy-document file://trust-policy.json",
            "\"system:serviceaccount:payments:api\"",
            "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: payments\n",
            &format!("eks.amazonaws.com/role-arn: {ROLE}"),
            "kind: Pod",
            "serviceAccountName: api",
            "Checked: the trust policy below lets exactly payments/api",
        ],
    );
}

#[test]
fn setup_fills_in_the_account_when_the_template_lacks_it() {
    let args = words(
        "setup --cluster host/tests/data/cluster-account-placeholder.json \
         --namespace payments --service-account api --role-name payments-api",
    );
    assert_bad_input(&args, "pass --account");
    let mut with_account = args.to_vec();
    with_account.extend(["--account", "444455556666"]);
    let r = run(&with_account);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_contains(
        &r.stdout,
        &[
            "arn:aws:iam::444455556666:role/payments-api",
            "arn:aws:iam::444455556666:oidc-provider/oidc.cpln.example/abc123",
        ],
    );
    assert!(!r.stdout.contains("<AWS_ACCOUNT_ID>"), "{}", r.stdout);
}

#[test]
fn setup_bad_input_exits_2() {
    let base = |cluster: &'static str| {
        let mut args = vec!["setup", "--cluster", cluster];
        args.extend(words(
            "--namespace payments --service-account api --role-name payments-api",
        ));
        args
    };
    assert_bad_input(&base("nowhere.json"), "--cluster nowhere.json: cannot read");
    assert_bad_input(&base("host/tests/data/not-json.json"), "not valid JSON");
    assert_bad_input(
        &base("host/tests/data/cluster-without-addon.json"),
        ".status.addOns.awsWorkloadIdentity",
    );
    let mut args = base("examples/cluster.json");
    args[8] = "payments api";
    assert_bad_input(&args, "--role-name");
    let mut args = base("examples/cluster.json");
    args.extend(["--account", "12345"]);
    assert_bad_input(&args, "--account");
    let mut args = base("examples/cluster.json");
    args.extend(["--account", "999988887777"]);
    assert_bad_input(&args, "111122223333");
}

// ---- component ----------------------------------------------------------------------

#[test]
fn component_writes_a_component() {
    let dir = scratch("component");
    let file = dir.join("policy.component.wasm");
    let r = run(&["component", "--output", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(&file).unwrap();
    // Preamble "\0asm", version 0x0d, layer 1 (component).
    assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00");
    assert_bad_input(
        &words("component --output /nonexistent-dir/x.wasm"),
        "--output /nonexistent-dir/x.wasm: cannot write",
    );
}

// ---- global -------------------------------------------------------------------------

#[test]
fn module_flag_takes_another_module() {
    let dir = scratch("module");
    let copy = dir.join("policy.wasm");
    let module = run(&[
        "component",
        "--output",
        dir.join("c.wasm").to_str().unwrap(),
    ]);
    assert_eq!(module.code, 0);
    // A component is not the module Kubewarden loads: refused with a clear line.
    let component = dir.join("c.wasm");
    assert_bad_input(
        &example_review_with(&["--module", component.to_str().unwrap()]),
        "component",
    );
    std::fs::write(&copy, b"not wasm").unwrap();
    assert_bad_input(
        &example_review_with(&["--module", copy.to_str().unwrap()]),
        "--module",
    );
}

#[test]
fn help_and_version_exit_0() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for command in ["review", "mutate", "trust", "setup", "component"] {
        assert_contains(&r.stdout, &[command]);
    }
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("awi "));
    assert_bad_input(&["frobnicate"], "frobnicate");
}
