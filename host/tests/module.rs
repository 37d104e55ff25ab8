//! The shape of the built module: what Kubewarden's waPC host and a component host see.
//! Checked by inspecting the compiled module and component, not by file names.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;
use wasmtime::component::types::ComponentItem;

const WORLD_EXPORTS: &[&str] = &["awi:policy/admission@0.1.0", "awi:policy/trust@0.1.0"];

#[test]
fn core_module_needs_only_wapc_and_wasi_preview1() {
    let module = common::policy().module().expect("core module");
    let import_modules: BTreeSet<&str> = module.imports().map(|i| i.module()).collect();
    let allowed = BTreeSet::from(["wapc", "wasi_snapshot_preview1"]);
    assert!(
        import_modules.is_subset(&allowed),
        "the module imports from {import_modules:?}; a waPC host provides only {allowed:?}"
    );
    let exports: BTreeSet<&str> = module.exports().map(|e| e.name()).collect();
    for name in ["wapc_init", "__guest_call", "memory"] {
        assert!(exports.contains(name), "missing export {name}: {exports:?}");
    }
}

/// The component needs nothing from its host but WASI: any other import may only carry
/// types (the world's shared `types` interface, which an exported interface `use`s), never
/// a function or resource the host would have to provide.
#[test]
fn component_imports_only_wasi_and_exports_the_world() {
    let policy = common::policy();
    let wit = policy.wit().expect("component");
    let engine = policy.engine();
    let ty = wit.component().component_type();
    for (name, item) in ty.imports(engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            panic!("import {name} is not an interface");
        };
        let needed: Vec<&str> = instance
            .exports(engine)
            .filter(|(_, item)| !matches!(item.ty, ComponentItem::Type(_)))
            .map(|(export, _)| export)
            .collect();
        assert!(
            needed.is_empty(),
            "import {name} needs {needed:?} from the host; only WASI may be imported"
        );
    }
    let exports: BTreeSet<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    assert_eq!(
        exports,
        WORLD_EXPORTS.iter().copied().collect::<BTreeSet<_>>()
    );
}

#[test]
fn wapc_protocol_version_is_v1() {
    let instance = common::policy()
        .wapc_instance(Arc::new(awi::Objects::empty()))
        .expect("waPC instance");
    assert_eq!(instance.protocol_version().expect("protocol_version"), "v1");
}

#[test]
fn wapc_validate_settings() {
    let instance = common::policy()
        .wapc_instance(Arc::new(awi::Objects::empty()))
        .expect("waPC instance");
    let empty = instance
        .validate_settings(&json!({}))
        .expect("validate_settings");
    assert!(empty.valid, "{{}} is refused: {:?}", empty.message);
    let short = instance
        .validate_settings(&json!({"tokenExpiration": 300}))
        .expect("validate_settings");
    assert!(!short.valid, "tokenExpiration 300 is accepted");
    let message = short.message.unwrap_or_default();
    assert!(
        message.contains("tokenExpiration"),
        "message does not name the key: {message}"
    );
}

#[test]
fn wit_validate_settings_agrees_with_wapc() {
    let policy = common::policy();
    let wapc = policy
        .wapc_instance(Arc::new(awi::Objects::empty()))
        .expect("waPC instance");
    let mut wit = policy.wit_instance().expect("component instance");
    for settings in [
        json!({}),
        json!({"tokenExpiration": 300}),
        json!({"tokenExpiraton": 900}),
        json!({"trustValidation": "sometimes"}),
        json!([]),
    ] {
        let by_wapc = wapc
            .validate_settings(&settings)
            .expect("waPC validate_settings");
        let by_wit = wit
            .validate_settings(&settings.to_string())
            .expect("WIT validate-settings");
        // waPC may add advice to valid settings; WIT's `result<_, string>` cannot carry it.
        assert_eq!(by_wapc.valid, by_wit.valid, "settings {settings}");
        if !by_wapc.valid {
            assert_eq!(by_wapc.message, by_wit.message, "settings {settings}");
        }
    }
}

#[test]
fn wit_errors_are_values_not_traps() {
    let mut wit = common::policy().wit_instance().expect("component instance");
    for (settings, review) in [("{", "{}"), ("{}", "not json"), ("{}", "[]")] {
        match wit.review(settings, review, &awi::Objects::empty()) {
            Err(awi::Error::Guest { message, .. }) => assert!(!message.is_empty()),
            other => panic!("review({settings:?}, {review:?}) gave {other:?}"),
        }
    }
    // The instance is still usable: nothing trapped.
    assert!(
        wit.validate_settings("{}")
            .expect("validate-settings")
            .valid
    );
}

/// `trust.check` reports the lint findings with the decision, the same set as `trust.lint`;
/// `trust.check-in-context` decides keys only STS knows and refuses keys it cannot take.
#[test]
fn wit_trust_check_reports_lint_findings_and_takes_context() {
    let mut wit = common::policy().wit_instance().expect("component instance");
    let role = "arn:aws:iam::111122223333:role/payments-api";
    let issuer = "https://oidc.cpln.example/abc123";
    let subject = awi_trust::Subject {
        issuer: issuer.into(),
        audience: "sts.amazonaws.com".into(),
        namespace: "payments".into(),
        service_account: "api".into(),
    };
    let any = std::fs::read_to_string(
        common::cli::root().join("host/tests/data/trust-policy-any-namespace.json"),
    )
    .unwrap();
    let verdict = wit.check(&any, role, &subject).expect("trust.check");
    assert!(verdict.allowed);
    let linted = wit.lint(&any, Some(role), issuer).expect("trust.lint");
    assert!(
        linted
            .iter()
            .any(|f| f.code == awi_trust::Code::SubWildcardNamespace)
    );
    assert_eq!(verdict.findings, linted);

    let ip = std::fs::read_to_string(
        common::cli::root().join("host/tests/data/trust-policy-source-ip.json"),
    )
    .unwrap();
    let open = wit.check(&ip, role, &subject).expect("trust.check");
    assert!(!open.allowed);
    assert!(
        open.explanation
            .join(" ")
            .contains("depends on aws:SourceIp, which only STS knows"),
        "{:?}",
        open.explanation
    );
    let pair = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let inside = wit
        .check_in_context(&ip, role, &subject, &pair("aws:SourceIp", "203.0.113.7"))
        .expect("trust.check-in-context");
    assert!(inside.allowed, "{:?}", inside.explanation);
    let outside = wit
        .check_in_context(&ip, role, &subject, &pair("aws:SourceIp", "198.51.100.1"))
        .expect("trust.check-in-context");
    assert!(!outside.allowed);
    match wit.check_in_context(&ip, role, &subject, &pair("aws:username", "x")) {
        Err(awi::Error::Guest { message, .. }) => {
            assert!(message.contains("never carries this key"), "{message}")
        }
        other => panic!("aws:username as context gave {other:?}"),
    }
}

/// A Pod whose ServiceAccount does not exist: `get_resource` answers Kubewarden's
/// not-found text and the Pod is admitted unchanged, never a 500.
#[test]
fn wapc_pod_of_a_missing_service_account_is_admitted_unchanged() {
    let instance = common::policy()
        .wapc_instance(Arc::new(awi::Objects::empty()))
        .expect("waPC instance");
    let review = json!({
        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "operation": "CREATE", "namespace": "default",
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}
    });
    let answer = instance.validate(&json!({}), &review).expect("validate");
    assert!(answer.accepted, "{answer:?}");
    assert!(answer.mutated_object.is_none(), "{answer:?}");
}

/// A WIT host that knows why a read failed says so in the world's terms (`read-error`):
/// each becomes the same one-line warning the Kubewarden texts give, a 404 status is "does
/// not exist", and the host's detail never reaches the warning.
#[test]
fn wit_failed_reads_become_one_line_warnings() {
    let mut wit = common::policy().wit_instance().expect("component instance");
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "namespace": "payments",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "payments"},
                       "spec": {"serviceAccountName": "api", "containers": [{"name": "c", "image": "i"}]}}
        }
    })
    .to_string();
    let detail = "the whole story\n\nCaused by:\n    0: more";
    let status = |code: u16, reason: &str| awi::ReadError::Status {
        code,
        reason: reason.to_string(),
        message: "a long message".to_string(),
    };
    for (error, reason) in [
        (
            status(503, "ServiceUnavailable"),
            "API server answered 503 ServiceUnavailable",
        ),
        (
            status(403, "Forbidden"),
            "forbidden: the policy server's ServiceAccount may not get serviceaccounts",
        ),
        (status(404, "NotFound"), "not found"),
        (
            awi::ReadError::Unreachable("connection refused".to_string()),
            "API server unreachable: connection refused",
        ),
        (
            awi::ReadError::HostText(
                "Callback evaluation failure: ServiceError: client error (Connect)\n\nCaused by:\n    0: client error (Connect)\n    1: tcp connect error\n    2: Connection refused (os error 111)".to_string(),
            ),
            "API server unreachable: connection refused",
        ),
    ] {
        let reads = [awi::Read::Failed {
            object: awi::ObjectRef::service_account("payments", "api"),
            error: error.clone(),
            detail: detail.to_string(),
        }];
        let answer = wit.review_reads("{}", &review, &reads).expect("review");
        let response = &answer["response"];
        assert_eq!(response["allowed"], true, "{error:?}: {answer}");
        assert!(response.get("patch").is_none(), "{error:?}: {answer}");
        assert_eq!(
            response["warnings"],
            json!([format!(
                "cannot read ServiceAccount payments/api ({reason}): its IAM role annotations are not applied to this Pod"
            )]),
            "{error:?}"
        );
    }
}
