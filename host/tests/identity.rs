//! End-to-end tests of `awi setup --issuer`, `awi oidc check` and `awi token explain` on real
//! tokens: RSA keys are made here, Kubernetes projected-token claim sets are signed with them,
//! and the `awi` binary (with the policy module it was built with) judges them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::cli::{Run, assert_bad_input, assert_contains, run, scratch, words};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::PrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

const ISSUER: &str = "https://oidc.example.com/cluster-1";
const PROVIDER: &str = "oidc.example.com/cluster-1";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";
/// 2026-01-01T12:00:00Z, the `--now` of every explanation.
const NOW: i64 = 1_767_268_800;
const NOW_TEXT: &str = "2026-01-01T12:00:00Z";

// ---- keys, tokens and files -----------------------------------------------------------

struct Key {
    kid: String,
    der: Vec<u8>,
    n: String,
    e: String,
}

impl Key {
    fn generate(kid: &str, bits: usize) -> Key {
        let private = PrivateKey::new(&mut rand::rng(), bits).expect("RSA key");
        Key {
            kid: kid.to_string(),
            der: private
                .to_pkcs1_der()
                .expect("PKCS#1 DER")
                .as_bytes()
                .to_vec(),
            n: URL_SAFE_NO_PAD.encode(private.n_bytes()),
            e: URL_SAFE_NO_PAD.encode(private.e_bytes()),
        }
    }

    /// The key as `kubectl get --raw /openid/v1/jwks` shows it.
    fn jwk(&self) -> Value {
        json!({"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256", "n": self.n, "e": self.e})
    }
}

/// The cluster's signing key and another cluster's.
fn keys() -> &'static (Key, Key) {
    static KEYS: OnceLock<(Key, Key)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            Key::generate("cluster-1-key", 2048),
            Key::generate("other-cluster-key", 2048),
        )
    })
}

fn jwks() -> Value {
    json!({"keys": [keys().0.jwk()]})
}

/// A projected ServiceAccount token's claims, as the kubelet requests them for IRSA.
fn claims(namespace: &str, name: &str) -> Value {
    json!({
        "aud": ["sts.amazonaws.com"],
        "exp": NOW + 3000,
        "iat": NOW - 600,
        "iss": ISSUER,
        "kubernetes.io": {
            "namespace": namespace,
            "node": {"name": "worker-1", "uid": "5b0e5bd8-35f5-4bd3-b4a8-4a3e1f1d8a2c"},
            "pod": {"name": format!("{name}-7d9f8"), "uid": "0c6b1c58-3e0d-4c3f-9b5e-2f0f2a9d1f11"},
            "serviceaccount": {"name": name, "uid": "9a1d7a3e-8b2f-4c52-a0a3-3e4c2f1b0d77"}
        },
        "nbf": NOW - 600,
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    })
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// `header.claims` signed RS256 with `key`.
fn sign(header: &Value, claims: &Value, key: &Key) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_rsa_der(&key.der),
        Algorithm::RS256,
    )
    .expect("signed");
    format!("{message}.{signature}")
}

fn header(kid: &str) -> Value {
    json!({"alg": "RS256", "kid": kid})
}

/// A valid token of the cluster for `claims`.
fn token(claims: &Value) -> String {
    sign(&header(&keys().0.kid), claims, &keys().0)
}

fn trust_policy(sub_operator: &str, sub: &str) -> Value {
    let mut condition = json!({"StringEquals": {format!("{PROVIDER}:aud"): "sts.amazonaws.com"}});
    condition[sub_operator][format!("{PROVIDER}:sub")] = json!(sub);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{PROVIDER}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition
        }]
    })
}

fn exact_policy() -> Value {
    trust_policy("StringEquals", "system:serviceaccount:payments:api")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let file = dir.join(name);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

/// The files of one explanation.
struct Case {
    dir: PathBuf,
    token: String,
    policy: String,
    jwks: String,
}

impl Case {
    fn new(name: &str, token: &str) -> Case {
        Case::with(name, token, &exact_policy(), &jwks())
    }

    fn with(name: &str, token: &str, policy: &Value, jwks: &Value) -> Case {
        let dir = scratch(&format!("identity-{name}"));
        Case {
            token: write(&dir, "token", &format!("{token}\n")),
            policy: write(&dir, "policy.json", &policy.to_string()),
            jwks: write(&dir, "jwks.json", &jwks.to_string()),
            dir,
        }
    }

    fn args(&self) -> Vec<String> {
        [
            "token",
            "explain",
            "--token",
            &self.token,
            "--policy",
            &self.policy,
            "--jwks",
            &self.jwks,
            "--issuer",
            ISSUER,
            "--role-arn",
            ROLE,
            "--now",
            NOW_TEXT,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn explain(&self, extra: &[&str]) -> Run {
        let mut args = self.args();
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    }

    /// `--output json`: the answer object, after checking the exit code and the shape.
    fn json(&self, code: i32) -> Value {
        let r = self.explain(&["--output", "json"]);
        assert_eq!(r.code, code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        assert_eq!(
            r.stdout.trim().lines().count(),
            1,
            "one object: {}",
            r.stdout
        );
        let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["claims", "fix", "reason", "verdict"]);
        v
    }
}

/// Refused before the trust policy: `verdict`, and a reason that starts with `check`.
fn assert_refused(case: &Case, verdict: &str, check: &str, needle: &str) {
    let v = case.json(1);
    assert_eq!(v["verdict"], verdict, "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.starts_with(&format!("{check}: ")), "{reason}");
    assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
    assert!(v["fix"].as_str().is_some_and(|f| !f.is_empty()), "{v}");
    let text = case.explain(&[]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.starts_with(&format!("verdict: {verdict}\n")),
        "{}",
        text.stdout
    );
    assert_contains(&text.stdout, &["fix:"]);
}

/// Refused as `InvalidIdentityToken`, by `check`, with a reason containing `needle`.
fn assert_invalid(case: &Case, check: &str, needle: &str) {
    assert_refused(case, "InvalidIdentityToken", check, needle);
}

// ---- token explain: allowed -----------------------------------------------------------

#[test]
fn a_valid_token_is_allowed() {
    let case = Case::new("allowed", &token(&claims("payments", "api")));
    let v = case.json(0);
    assert_eq!(v["verdict"], "allowed");
    assert!(v["fix"].is_null());
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("statement 0 allows system:serviceaccount:payments:api"),
        "{v}"
    );
    assert_eq!(
        v["claims"]["kubernetes.io"]["serviceaccount"]["name"],
        "api"
    );
    let text = case.explain(&[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.starts_with("verdict: allowed\n"),
        "{}",
        text.stdout
    );
    assert_contains(
        &text.stdout,
        &[
            "RS256 with key \"cluster-1-key\" (2048-bit RSA)",
            "exp            1767271800 (2026-01-01T12:50:00Z)",
        ],
    );
    assert!(
        text.stdout
            .contains("note: not part of the decision: kubernetes.io (STS gives"),
        "{}",
        text.stdout
    );
}

#[test]
fn string_like_on_sub_admits_the_namespace() {
    let policy = trust_policy("StringLike", "system:serviceaccount:payments:*");
    let worker = Case::with(
        "like-worker",
        &token(&claims("payments", "worker")),
        &policy,
        &jwks(),
    );
    assert_eq!(worker.json(0)["verdict"], "allowed");
    let other = Case::with(
        "like-other",
        &token(&claims("billing", "worker")),
        &policy,
        &jwks(),
    );
    let v = other.json(1);
    assert_eq!(v["verdict"], "AccessDenied");
    assert!(
        v["reason"].as_str().unwrap().contains(&format!(
            "condition StringLike {PROVIDER}:sub allows only values matching system:serviceaccount:payments:*"
        )),
        "{v}"
    );
}

// ---- token explain: refused by the trust policy ---------------------------------------

#[test]
fn another_service_account_is_access_denied_naming_the_condition() {
    let policy = trust_policy("StringEquals", "system:serviceaccount:payments:api");
    let case = Case::with(
        "other-sa",
        &token(&claims("payments", "worker")),
        &policy,
        &jwks(),
    );
    let v = case.json(1);
    assert_eq!(v["verdict"], "AccessDenied");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "statement 0 condition StringEquals {PROVIDER}:sub allows only system:serviceaccount:payments:api"
        )),
        "{reason}"
    );
    let fix = v["fix"].as_str().unwrap();
    assert_contains(
        fix,
        &[
            &format!("{PROVIDER}:sub allow system:serviceaccount:payments:worker"),
            "payments/api",
        ],
    );
}

#[test]
fn explain_agrees_with_trust_check() {
    let policies = [
        trust_policy("StringEquals", "system:serviceaccount:payments:api"),
        trust_policy("StringLike", "system:serviceaccount:payments:*"),
        trust_policy("StringNotEquals", "system:serviceaccount:payments:api"),
    ];
    for (p, policy) in policies.iter().enumerate() {
        for (namespace, name) in [
            ("payments", "api"),
            ("payments", "worker"),
            ("default", "api"),
        ] {
            let case = Case::with(
                &format!("agree-{p}-{namespace}-{name}"),
                &token(&claims(namespace, name)),
                policy,
                &jwks(),
            );
            let explained = case.json_code();
            // The policy's path may hold spaces (the checkout's): one argument of its own.
            let line = format!(
                "trust check --role-arn {ROLE} --issuer {ISSUER} --namespace {namespace} --service-account {name} --audience sts.amazonaws.com"
            );
            let mut args = words(&line);
            args.extend(["--policy", &case.policy]);
            let checked = run(&args);
            assert_eq!(
                explained, checked.code,
                "policy {p}, {namespace}/{name}: explain {explained}, check {}: {}",
                checked.code, checked.stdout
            );
        }
    }
}

impl Case {
    fn json_code(&self) -> i32 {
        self.explain(&["--output", "json"]).code
    }
}

// ---- token explain: refused before the trust policy -----------------------------------

#[test]
fn a_token_signed_by_another_key_is_invalid() {
    let forged = sign(
        &header(&keys().0.kid),
        &claims("payments", "api"),
        &keys().1,
    );
    assert_invalid(
        &Case::new("wrong-key", &forged),
        "signature",
        "does not verify with key \"cluster-1-key\"",
    );
}

#[test]
fn a_kid_not_in_the_jwks_is_invalid() {
    let other = sign(
        &header(&keys().1.kid),
        &claims("payments", "api"),
        &keys().1,
    );
    assert_invalid(
        &Case::new("unknown-kid", &other),
        "kid",
        "\"other-cluster-key\" is not in the JWKS",
    );
}

#[test]
fn an_unsigned_token_is_invalid() {
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&claims("payments", "api"))
    );
    assert_invalid(&Case::new("alg-none", &unsigned), "alg", "alg \"none\"");
}

#[test]
fn an_expired_token_is_expired() {
    let mut c = claims("payments", "api");
    c["exp"] = json!(NOW - 1);
    assert_refused(
        &Case::new("expired", &token(&c)),
        "ExpiredTokenException",
        "exp",
        "Token expired: current date/time 2026-01-01T12:00:00Z must be before the expiration date/time 2026-01-01T11:59:59Z",
    );
}

#[test]
fn a_token_not_yet_valid_is_invalid() {
    let mut c = claims("payments", "api");
    c["nbf"] = json!(NOW + 600);
    assert_invalid(
        &Case::new("nbf", &token(&c)),
        "nbf",
        "not valid before 2026-01-01T12:10:00Z",
    );
    let mut c = claims("payments", "api");
    c["iat"] = json!(NOW + 60);
    c["nbf"] = json!(NOW - 60);
    assert_invalid(
        &Case::new("iat", &token(&c)),
        "iat",
        "issued at 2026-01-01T12:01:00Z",
    );
}

#[test]
fn an_issuer_with_a_trailing_slash_or_http_is_another_issuer() {
    let mut c = claims("payments", "api");
    c["iss"] = json!(format!("{ISSUER}/"));
    assert_invalid(
        &Case::new("iss-slash", &token(&c)),
        "iss",
        "only the trailing slash differs",
    );
    c["iss"] = json!(ISSUER.replace("https://", "http://"));
    assert_invalid(&Case::new("iss-http", &token(&c)), "iss", "http://");
    c["iss"] = json!("https://kubernetes.default.svc.cluster.local");
    assert_invalid(
        &Case::new("iss-other", &token(&c)),
        "iss",
        "No OpenIDConnect provider found in your account for https://kubernetes.default.svc.cluster.local",
    );
}

#[test]
fn an_audience_the_provider_lacks_is_invalid() {
    let mut c = claims("payments", "api");
    c["aud"] = json!(["sts.amazon.com"]);
    let case = Case::new("aud", &token(&c));
    assert_invalid(
        &case,
        "aud",
        "Incorrect token audience: the token is for sts.amazon.com",
    );
    // The provider may list it among its client IDs: then the trust policy decides.
    let r = case.explain(&["--audience", "sts.amazon.com", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verdict"], "AccessDenied", "{v}");
    assert!(v["reason"].as_str().unwrap().contains(":aud"), "{v}");
}

#[test]
fn malformed_tokens_are_invalid_in_bounded_time() {
    for (name, text, needle) in [
        (
            "one-part",
            "eyJhbGciOiJSUzI1NiJ9".to_string(),
            "1 dot-separated part",
        ),
        ("four-parts", "a.b.c.d".to_string(), "4 dot-separated part"),
        ("base64", "!!!.???.x".to_string(), "header is not base64url"),
        (
            "json",
            format!(
                "{}.{}.x",
                URL_SAFE_NO_PAD.encode("{"),
                URL_SAFE_NO_PAD.encode("{}")
            ),
            "header is not a JSON object",
        ),
        ("empty", String::new(), "empty"),
    ] {
        let case = Case::new(&format!("malformed-{name}"), &text);
        let v = case.json(1);
        assert_eq!(v["verdict"], "InvalidIdentityToken", "{name}: {v}");
        assert!(
            v["reason"].as_str().unwrap().contains(needle),
            "{name}: {v}"
        );
        assert!(v["claims"].is_null());
    }
    let huge = format!("{}.{}.{}", "a".repeat(5 << 20), "b".repeat(10), "c");
    let case = Case::new("malformed-huge", &huge);
    let started = Instant::now();
    let v = case.json(1);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(v["verdict"], "InvalidIdentityToken");
    assert!(v["reason"].as_str().unwrap().contains("20000"), "{v}");
}

#[test]
fn a_discovery_document_with_another_issuer_is_invalid() {
    let case = Case::new("discovery", &token(&claims("payments", "api")));
    let discovery = write(
        &case.dir,
        "openid-configuration",
        &json!({"issuer": format!("{ISSUER}/"), "jwks_uri": format!("{ISSUER}/openid/v1/jwks"),
            "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"]})
        .to_string(),
    );
    let r = case.explain(&["--discovery", &discovery, "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verdict"], "InvalidIdentityToken");
    assert!(
        v["reason"].as_str().unwrap().contains("ISSUER_MISMATCH"),
        "{v}"
    );
}

#[test]
fn token_explain_bad_input_exits_2() {
    let case = Case::new("bad-input", &token(&claims("payments", "api")));
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut args = case.args();
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = value.to_string();
        args
    };
    assert_bad_input(
        &with("--token", "nowhere/token"),
        "--token nowhere/token: cannot read",
    );
    let not_json = write(&case.dir, "not-json", "keys: []");
    assert_bad_input(&with("--jwks", &not_json), "not valid JSON");
    assert_bad_input(
        &with("--jwks", &write(&case.dir, "no-keys.json", "{}")),
        "\"keys\"",
    );
    assert_bad_input(&with("--policy", &not_json), "not valid JSON");
    assert_bad_input(
        &with("--issuer", "http://oidc.example.com/cluster-1"),
        "https://",
    );
    assert_bad_input(&with("--role-arn", "payments-api"), "--role-arn");
    assert_bad_input(&with("--now", "yesterday"), "RFC 3339");
    let mut c = claims("payments", "api");
    c["sub"] = json!("repo:example/app:ref:refs/heads/main");
    let foreign = Case::new("not-sa", &token(&c));
    assert_bad_input(&foreign.args(), "not a ServiceAccount subject");
}

// ---- setup --issuer and oidc check ----------------------------------------------------

fn setup_args(out_dir: &str, jwks: &str) -> Vec<String> {
    let paths = [
        "setup",
        "--issuer",
        ISSUER,
        "--jwks",
        jwks,
        "--out-dir",
        out_dir,
    ];
    let role = words(
        "--namespace payments --service-account api --role-name payments-api --account 111122223333",
    );
    paths.into_iter().chain(role).map(str::to_string).collect()
}

#[test]
fn setup_with_an_issuer_writes_documents_oidc_check_accepts() {
    let dir = scratch("identity-setup");
    let jwks_file = write(&dir, "cluster-jwks.json", &jwks().to_string());
    let published = dir.join("published");
    let r = run(&setup_args(published.to_str().unwrap(), &jwks_file));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    for needle in [
        &format!("--service-account-issuer={ISSUER}"),
        &format!("--service-account-jwks-uri={ISSUER}/openid/v1/jwks"),
        &format!("--api-audiences={ISSUER}"),
        &format!(
            "aws iam create-open-id-connect-provider \\\n  --url {ISSUER} \\\n  --client-id-list sts.amazonaws.com"
        ),
        &format!("\"Federated\": \"arn:aws:iam::111122223333:oidc-provider/{PROVIDER}\""),
        "\"system:serviceaccount:payments:api\"",
        "aws iam create-role \\\n  --role-name payments-api",
        &format!("eks.amazonaws.com/role-arn: {ROLE}"),
        "# 6. Run a Pod as that ServiceAccount",
        "args: [\"sts\", \"get-caller-identity\"]",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    let discovery: Value = serde_json::from_str(
        &std::fs::read_to_string(published.join(".well-known/openid-configuration")).unwrap(),
    )
    .unwrap();
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(discovery["jwks_uri"], format!("{ISSUER}/openid/v1/jwks"));
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(published.join("openid/v1/jwks")).unwrap())
            .unwrap();
    assert_eq!(keys, jwks());

    let dir_arg = published.to_str().unwrap();
    for args in [
        vec!["oidc", "check", dir_arg],
        vec!["oidc", "check", dir_arg, "--issuer", ISSUER],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.starts_with(&format!("ok: {ISSUER}")),
            "{}",
            r.stdout
        );
        assert_contains(&r.stdout, &["1 usable RSA key(s)"]);
    }
    // What setup published verifies the cluster's tokens.
    let case = Case::new("setup-token", &token(&claims("payments", "api")));
    let mut args = case.args();
    let at = args.iter().position(|a| a == "--jwks").unwrap();
    args[at + 1] = published
        .join("openid/v1/jwks")
        .to_str()
        .unwrap()
        .to_string();
    args.extend([
        "--discovery".to_string(),
        published
            .join(".well-known/openid-configuration")
            .to_str()
            .unwrap()
            .to_string(),
    ]);
    assert_eq!(run(&args).code, 0);
}

#[test]
fn setup_with_an_issuer_bad_input_exits_2() {
    let dir = scratch("identity-setup-bad");
    let good = write(&dir, "jwks.json", &jwks().to_string());
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut args = setup_args(out, &good);
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = value.to_string();
        args
    };
    let not_json = write(&dir, "not-json", "{");
    let ec = json!({"keys": [{"kty": "EC", "kid": "k", "crv": "P-256", "x": "AA", "y": "AA"}]});
    let ec = write(&dir, "ec.json", &ec.to_string());
    for (flag, value, says) in [
        ("--issuer", "http://oidc.example.com/cluster-1", "https://"),
        (
            "--issuer",
            "https://oidc.example.com/c?x=1",
            "query or a fragment",
        ),
        (
            "--issuer",
            "https://oidc.example.com/c#k",
            "query or a fragment",
        ),
        ("--jwks", &not_json, "not valid JSON"),
        ("--jwks", &ec, "no usable RSA signing key"),
        ("--jwks", "nowhere.json", "--jwks nowhere.json: cannot read"),
    ] {
        assert_bad_input(&with(flag, value), says);
    }
    let mut args = setup_args(out, &good);
    args.truncate(args.len() - 2);
    assert_bad_input(&args, "--account");
    let mut args = setup_args(out, &good);
    args.extend(["--cluster".to_string(), "examples/cluster.json".to_string()]);
    assert_bad_input(&args, "--cluster");
}

/// Publishes the documents of a good issuer, changed by `plant`, and checks them.
fn check_planted(name: &str, plant: impl Fn(&mut Value, &mut Value)) -> Value {
    let dir = scratch(&format!("identity-planted-{name}"));
    let mut discovery = json!({
        "issuer": ISSUER,
        "jwks_uri": format!("{ISSUER}/openid/v1/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let mut keys = jwks();
    plant(&mut discovery, &mut keys);
    write(
        &dir,
        ".well-known/openid-configuration",
        &discovery.to_string(),
    );
    write(&dir, "openid/v1/jwks", &keys.to_string());
    let dir = dir.to_str().unwrap();
    let r = run(&["oidc", "check", dir, "--issuer", ISSUER, "--output", "json"]);
    assert_eq!(r.code, 1, "{name}: {}{}", r.stdout, r.stderr);
    let text = run(&["oidc", "check", dir, "--issuer", ISSUER]);
    assert_eq!(text.code, 1);
    assert_contains(&text.stdout, &["violation(s) of what STS needs"]);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The codes of the violations found, each with a message naming the document.
fn codes(v: &Value) -> Vec<String> {
    v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let message = x["message"].as_str().unwrap();
            assert!(
                message.starts_with("discovery document: ") || message.starts_with("JWKS: "),
                "{message}"
            );
            x["code"].as_str().unwrap().to_string()
        })
        .collect()
}

macro_rules! planted {
    ($test:ident, $code:literal, $needle:literal, |$d:ident, $k:ident| $plant:expr) => {
        #[test]
        fn $test() {
            let v = check_planted(stringify!($test), |$d: &mut Value, $k: &mut Value| {
                let _ = (&$d, &$k);
                $plant;
            });
            assert!(codes(&v).contains(&$code.to_string()), "{v}");
            assert!(v.to_string().contains($needle), "{v} lacks {:?}", $needle);
        }
    };
}

planted!(
    oidc_check_names_an_issuer_mismatch,
    "ISSUER_MISMATCH",
    "trailing slash",
    |d, k| d["issuer"] = json!(format!("{ISSUER}/"))
);
planted!(
    oidc_check_names_a_missing_jwks_uri,
    "JWKS_URI_MISSING",
    "jwks_uri",
    |d, k| d.as_object_mut().unwrap().remove("jwks_uri")
);
planted!(
    oidc_check_names_an_http_jwks_uri,
    "JWKS_URI_NOT_HTTPS",
    "http://",
    |d, k| d["jwks_uri"] = json!("http://oidc.example.com/cluster-1/openid/v1/jwks")
);
planted!(
    oidc_check_names_a_jwks_uri_elsewhere,
    "JWKS_URI_NOT_UNDER_ISSUER",
    "keys.example.com",
    |d, k| d["jwks_uri"] = json!("https://keys.example.com/jwks")
);
planted!(
    oidc_check_names_missing_rs256,
    "RS256_NOT_SUPPORTED",
    "RS256",
    |d, k| d["id_token_signing_alg_values_supported"] = json!(["ES256"])
);
planted!(
    oidc_check_names_a_missing_id_token_type,
    "ID_TOKEN_NOT_SUPPORTED",
    "id_token",
    |d, k| d["response_types_supported"] = json!(["code"])
);
planted!(
    oidc_check_names_missing_public_subjects,
    "PUBLIC_SUBJECTS_NOT_SUPPORTED",
    "public",
    |d, k| d.as_object_mut().unwrap().remove("subject_types_supported")
);
planted!(
    oidc_check_names_a_key_that_is_not_rsa,
    "KEY_NOT_RSA",
    "kty",
    |d, k| k["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "EC", "kid": "ec", "crv": "P-256"}))
);
planted!(
    oidc_check_names_a_key_without_kid,
    "KEY_WITHOUT_KID",
    "kid",
    |d, k| k["keys"][0].as_object_mut().unwrap().remove("kid")
);
planted!(
    oidc_check_names_a_modulus_not_base64url,
    "KEY_NOT_BASE64URL",
    "\\\"n\\\"",
    |d, k| k["keys"][0]["n"] = json!("not+base64/url==")
);
planted!(
    oidc_check_names_an_exponent_not_base64url,
    "KEY_NOT_BASE64URL",
    "\\\"e\\\"",
    |d, k| k["keys"][0]["e"] = json!(65537)
);
planted!(
    oidc_check_names_a_small_key,
    "KEY_TOO_SMALL",
    "1024-bit",
    |d, k| k["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode([0xc5u8; 128]))
);
planted!(
    oidc_check_names_a_key_not_for_signatures,
    "KEY_NOT_FOR_RS256_SIGNATURES",
    "enc",
    |d, k| k["keys"][0]["use"] = json!("enc")
);
planted!(
    oidc_check_names_a_duplicate_kid,
    "DUPLICATE_KID",
    "cluster-1-key",
    |d, k| {
        let again = k["keys"][0].clone();
        k["keys"].as_array_mut().unwrap().push(again)
    }
);
planted!(
    oidc_check_names_a_jwks_without_usable_keys,
    "NO_USABLE_KEY",
    "none of its 0 key(s)",
    |d, k| k["keys"] = json!([])
);

#[test]
fn oidc_check_with_explicit_files_and_bad_input() {
    let dir = scratch("identity-oidc-files");
    let jwks_file = write(&dir, "jwks.json", &jwks().to_string());
    let r = run(&["oidc", "check", "--jwks", &jwks_file]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let discovery = write(
        &dir,
        "discovery.json",
        &json!({"issuer": ISSUER}).to_string(),
    );
    let r = run(&[
        "oidc",
        "check",
        "--discovery",
        &discovery,
        "--jwks",
        &jwks_file,
        "--issuer",
        ISSUER,
    ]);
    assert_eq!(r.code, 1);
    assert_contains(&r.stdout, &["JWKS_URI_MISSING"]);
    assert_bad_input(&["oidc", "check"], "needs DIR");
    assert_bad_input(&words("oidc check nowhere-dir"), "no such directory");
    assert_bad_input(
        &["oidc", "check", "--jwks", &write(&dir, "bad", "[")],
        "not valid JSON",
    );
    assert_bad_input(
        &[
            "oidc",
            "check",
            "--discovery",
            &discovery,
            "--issuer",
            "http://x",
        ],
        "https://",
    );
}
