//! Every recorded case of `tests/fixtures` replayed through the built policy module:
//! natively (the core crate), through waPC (`wapc` + `wasmtime-provider`, as Kubewarden runs
//! it, `get_resource` answered from the case's cluster, a read the case fails with its
//! recorded error text) and through the WIT component (that text as a failed read).
//! Each ABI must give the expected answer AND the same answer as the native core: verdict,
//! warnings, object, the decision's log record (waPC: what the guest sent to
//! `kubewarden/tracing/log`; WIT: the record in the result) and the audit annotations.
//!
//! Each test goes through all cases and reports every failing file, not just the first.

mod common;
#[path = "../../tests/support/native.rs"]
mod native;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use awi::AdmissionAnswer as _;
use aws_workload_identity::admission::Prepared;
use base64::Engine as _;
use recorded::Case;
use serde_json::Value;

/// The case's recorded cluster, answering like Kubewarden's host: a read the case fails
/// with its recorded error text.
struct RecordedCluster(recorded::Cluster);

impl awi::Cluster for RecordedCluster {
    fn get(&self, wanted: &awi::ObjectRef) -> Result<Value, String> {
        if let Some(error) = self.0.error(wanted) {
            return Err(error.to_string());
        }
        self.0
            .find(wanted)
            .cloned()
            .ok_or_else(|| awi::cluster::not_found_message(wanted))
    }
}

/// What an ABI answered, reduced to what the ABIs must agree on.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    allowed: bool,
    message: Option<String>,
    code: Option<u64>,
    warnings: Vec<String>,
    /// The object after the mutation (the original object when unchanged).
    object: Value,
    /// The decision's log record; `None` when there was none.
    log: Option<Value>,
    /// The response's audit annotations.
    audit_annotations: BTreeMap<String, String>,
}

fn request(case: &Case) -> &Value {
    awi::admission_request(&case.review)
}

fn original_object(case: &Case) -> Value {
    request(case).get("object").cloned().unwrap_or(Value::Null)
}

/// The core crate called directly: `admission::decide`, as both glues do.
fn native(case: &Case) -> Result<Answer, String> {
    let prepared = Prepared::parse(&case.settings_json()).map_err(|e| e.to_string())?;
    let outcome = native::decide(case, &prepared)?;
    let original = original_object(case);
    Ok(Answer {
        allowed: outcome.allowed,
        message: outcome.message.clone(),
        code: outcome.code.map(u64::from),
        warnings: outcome.warnings.clone(),
        object: outcome.mutated_object(&original).unwrap_or(original),
        log: Some(outcome.log_record().to_json()),
        audit_annotations: outcome.audit_annotations(),
    })
}

/// waPC `validate`; returns the answer and the AdmissionReview Kubewarden would send.
fn wapc(case: &Case) -> Result<(Answer, Value), String> {
    let cluster = Arc::new(RecordedCluster(case.cluster()));
    let instance = common::policy()
        .wapc_instance(cluster)
        .map_err(|e| e.to_string())?;
    let response = instance
        .validate(&case.settings, &case.review)
        .map_err(|e| e.to_string())?;
    let review = response
        .admission_review(&case.review)
        .map_err(|e| e.to_string())?;
    let original = original_object(case);
    // One record per decision, and nothing else logged.
    let log = match &instance.logs()[..] {
        [] => None,
        [record] => Some(recorded::without_location(record)),
        more => return Err(format!("waPC: {} log records, expected one", more.len())),
    };
    let answer = Answer {
        allowed: response.accepted,
        message: response.message.clone(),
        code: response.code.map(u64::from),
        warnings: response.warnings.clone().unwrap_or_default(),
        object: response.mutated_object.clone().unwrap_or(original.clone()),
        log,
        audit_annotations: response
            .audit_annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    };
    if recorded::audit_annotations(&review["response"])? != answer.audit_annotations {
        return Err("waPC: the AdmissionResponse lost the audit annotations".into());
    }
    // The Kubewarden AdmissionResponse must carry the same mutation as the mutated object.
    let patched = apply_response_patch(&original, &review["response"])?;
    if patched != answer.object {
        return Err("waPC: the AdmissionResponse patch does not give the mutated object".into());
    }
    Ok((answer, review))
}

/// WIT `admission.needs` + `admission.review`; returns the answer and the AdmissionReview.
fn wit(case: &Case) -> Result<(Answer, Value), String> {
    let cluster = RecordedCluster(case.cluster());
    let mut instance = common::policy().wit_instance().map_err(|e| e.to_string())?;
    let (review, log) = instance
        .review_logged(&case.settings_json(), &case.review.to_string(), &cluster)
        .map_err(|e| e.to_string())?;
    let response = &review["response"];
    let original = original_object(case);
    let answer = Answer {
        allowed: response["allowed"]
            .as_bool()
            .ok_or("WIT: response.allowed is not a boolean")?,
        message: response
            .pointer("/status/message")
            .and_then(Value::as_str)
            .map(str::to_owned),
        code: response.pointer("/status/code").and_then(Value::as_u64),
        warnings: serde_json::from_value(
            response
                .get("warnings")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|e| format!("WIT: response.warnings: {e}"))?,
        object: apply_response_patch(&original, response)?,
        log: Some(log),
        audit_annotations: recorded::audit_annotations(response)?,
    };
    Ok((answer, review))
}

/// `object` with the base64 JSONPatch of an AdmissionResponse applied.
fn apply_response_patch(object: &Value, response: &Value) -> Result<Value, String> {
    let Some(patch) = response.get("patch") else {
        return Ok(object.clone());
    };
    if response["patchType"] != "JSONPatch" {
        return Err(format!(
            "patchType is {}, expected \"JSONPatch\"",
            response["patchType"]
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch.as_str().ok_or("patch is not a string")?)
        .map_err(|e| format!("patch is not base64: {e}"))?;
    let patch: json_patch::Patch =
        serde_json::from_slice(&bytes).map_err(|e| format!("patch is not a JSONPatch: {e}"))?;
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).map_err(|e| format!("patch does not apply: {e}"))?;
    Ok(patched)
}

/// Checks an answer against the case's expectations.
fn check_expected(case: &Case, answer: &Answer) -> Vec<String> {
    let expect = &case.expect;
    let mut problems = Vec::new();
    if answer.allowed != expect.allowed {
        problems.push(format!(
            "allowed is {}, expected {}",
            answer.allowed, expect.allowed
        ));
    }
    if !expect.allowed && expect.message.is_some() && answer.message != expect.message {
        problems.push(format!(
            "message is {:?}, expected {:?}",
            answer.message, expect.message
        ));
    }
    if answer.warnings != expect.warnings {
        problems.push(format!(
            "warnings are {:?}, expected {:?}",
            answer.warnings, expect.warnings
        ));
    }
    problems.extend(recorded::decision_differences(
        expect,
        answer.log.as_ref(),
        &answer.audit_annotations,
    ));
    match &expect.pod {
        Some(pod) => {
            let differences =
                recorded::pod_differences(pod, &answer.object, case.expiration_range());
            if !differences.is_empty() {
                problems.push(recorded::describe_mismatch(
                    &differences,
                    pod,
                    &answer.object,
                ));
            }
        }
        None => {
            if answer.object != original_object(case) {
                problems.push(format!(
                    "the object was changed, expected it unchanged; got {}",
                    answer.object
                ));
            }
        }
    }
    problems
}

/// Names a part of an ABI's answer that differs from the native answer's.
fn compare<T: PartialEq + Debug>(
    problems: &mut Vec<String>,
    abi: &str,
    what: &str,
    ours: T,
    native: T,
) {
    if ours != native {
        problems.push(format!(
            "{abi} {what} {ours:?} differs from native {native:?}"
        ));
    }
}

/// Checks an ABI's answer against the native one.
fn check_same(abi: &str, native: &Answer, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let verdict = |a: &Answer| (a.allowed, a.message.clone(), a.code);
    compare(
        &mut problems,
        abi,
        "verdict",
        verdict(answer),
        verdict(native),
    );
    compare(
        &mut problems,
        abi,
        "warnings",
        &answer.warnings,
        &native.warnings,
    );
    compare(&mut problems, abi, "log record", &answer.log, &native.log);
    let annotations = (&answer.audit_annotations, &native.audit_annotations);
    compare(
        &mut problems,
        abi,
        "audit annotations",
        annotations.0,
        annotations.1,
    );
    if native.object != answer.object {
        problems.push(format!(
            "{abi} resulting object differs from native:\n{abi}: {}\nnative: {}",
            answer.object, native.object
        ));
    }
    problems
}

/// `validate_settings` of an ABI: whether the settings are valid, and the message.
fn validate_settings(abi: &str, case: &Case) -> Result<awi::SettingsValidationResponse, String> {
    let policy = common::policy();
    let result = match abi {
        "waPC" => policy
            .wapc_instance(Arc::new(awi::Objects::empty()))
            .and_then(|i| i.validate_settings(&case.settings)),
        _ => policy
            .wit_instance()
            .and_then(|mut i| i.validate_settings(&case.settings_json())),
    };
    result.map_err(|e| format!("{abi}: {e}"))
}

/// A case whose settings the policy must refuse: natively and through `abi`, with the
/// recorded message.
fn settings_case(abi: &str, case: &Case, expected: &str) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    match Prepared::parse(&case.settings_json()) {
        Ok(_) => problems.push("native: settings accepted".to_string()),
        Err(e) if e.to_string() != expected => problems.push(format!(
            "native: settings error {:?}, expected {expected:?}",
            e.to_string()
        )),
        Err(_) => {}
    }
    let answer = validate_settings(abi, case)?;
    if answer.valid || answer.message.as_deref() != Some(expected) {
        problems.push(format!(
            "{abi}: validate_settings gave {answer:?}, expected the error {expected:?}"
        ));
    }
    Ok(problems)
}

fn cases() -> Vec<(PathBuf, Case)> {
    let cases = recorded::load_all(&recorded::fixtures_dir());
    assert!(!cases.is_empty(), "no recorded cases found");
    cases
}

fn name(path: &Path) -> String {
    path.strip_prefix(recorded::fixtures_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Runs `replay` on every case and fails with every problem of every failing case.
fn replay_all(abi: &str, replay: impl Fn(&Case) -> Result<Vec<String>, String>) {
    let cases = cases();
    let mut failures = Vec::new();
    for (path, case) in &cases {
        let problems = replay(case).unwrap_or_else(|e| vec![format!("{abi}: {e}")]);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", name(path), problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail through {abi}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Replays every case through one ABI (`run`) and checks its answer against the case's
/// expectations and against the native answer.
fn answers_as_expected_and_as_native(abi: &str, run: fn(&Case) -> Result<(Answer, Value), String>) {
    replay_all(abi, |case| {
        if let Some(expected) = &case.expect.settings_error {
            return settings_case(abi, case, expected);
        }
        let native = native(case).map_err(|e| format!("native: {e}"))?;
        let (answer, _) = run(case)?;
        let mut problems = check_expected(case, &answer);
        problems.extend(check_same(abi, &native, &answer));
        Ok(problems)
    });
}

#[test]
fn wapc_answers_every_case_as_expected_and_as_native() {
    answers_as_expected_and_as_native("waPC", wapc);
}

#[test]
fn wit_answers_every_case_as_expected_and_as_native() {
    answers_as_expected_and_as_native("WIT", wit);
}

/// The AdmissionReview of the WIT world and the one Kubewarden makes of the waPC answer are
/// the same document, except for the patch bytes (an add-only patch vs `json_patch::diff`),
/// which must give the same object.
#[test]
fn wit_and_kubewarden_admission_reviews_agree() {
    replay_all("WIT vs waPC", |case| {
        if case.expect.settings_error.is_some() {
            let (by_wapc, by_wit) = (
                validate_settings("waPC", case)?,
                validate_settings("WIT", case)?,
            );
            // The SDK's type has no PartialEq: its two fields are compared.
            let same = (by_wapc.valid, &by_wapc.message) == (by_wit.valid, &by_wit.message);
            return Ok(if same {
                Vec::new()
            } else {
                vec![format!(
                    "validate_settings: waPC {by_wapc:?}, WIT {by_wit:?}"
                )]
            });
        }
        let (wapc_answer, mut wapc_review) = wapc(case)?;
        let (wit_answer, mut wit_review) = wit(case)?;
        let mut problems = Vec::new();
        if wapc_answer.object != wit_answer.object {
            problems.push("the patches give different objects".to_string());
        }
        for review in [&mut wapc_review, &mut wit_review] {
            if let Some(response) = review["response"].as_object_mut() {
                response.remove("patch");
            }
        }
        if wapc_review != wit_review {
            problems.push(format!(
                "AdmissionReviews differ:\nKubewarden: {wapc_review}\nWIT:        {wit_review}"
            ));
        }
        let uid = request(case).get("uid").cloned().unwrap_or(Value::Null);
        if wit_review["response"]["uid"] != uid {
            problems.push(format!("uid {} not echoed", uid));
        }
        Ok(problems)
    });
}

/// A Pod CREATE for the settings cases that carry no review of their own.
fn pod_review() -> Value {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "settings", "operation": "CREATE", "namespace": "default",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}},
        },
    })
}

/// Both ABIs share one settings cache: every entry of both accepts, or refuses with the same
/// message, the settings of every recorded case, as the native core does.
#[test]
fn both_abis_accept_and_refuse_the_same_settings() {
    replay_all("waPC and WIT settings", |case| {
        let native = Prepared::parse(&case.settings_json())
            .err()
            .map(|e| e.to_string());
        let review = if case.review.is_null() {
            pod_review()
        } else {
            case.review.clone()
        };
        let cluster = Arc::new(RecordedCluster(case.cluster()));
        let wapc = common::policy()
            .wapc_instance(cluster.clone())
            .map_err(|e| e.to_string())?;
        let mut wit = common::policy().wit_instance().map_err(|e| e.to_string())?;
        let refused = |valid: bool, message: Option<String>| (!valid).then_some(message).flatten();

        let by_wapc_settings = wapc
            .validate_settings(&case.settings)
            .map(|v| refused(v.valid, v.message))
            .map_err(|e| e.to_string())?;
        let by_wit_settings = wit
            .validate_settings(&case.settings_json())
            .map(|v| refused(v.valid, v.message))
            .map_err(|e| e.to_string())?;
        let by_wapc_validate = wapc
            .validate(&case.settings, &review)
            .map(|r| refused(r.accepted, r.message))
            .map_err(|e| e.to_string())?;
        let by_wit_review = match wit.review(&case.settings_json(), &review.to_string(), &*cluster)
        {
            Ok(_) => None,
            Err(awi::Error::Guest { message, .. }) => Some(message),
            Err(e) => return Err(e.to_string()),
        };

        let mut problems = Vec::new();
        for (entry, answer) in [
            ("waPC validate_settings", &by_wapc_settings),
            ("WIT validate-settings", &by_wit_settings),
        ] {
            if *answer != native {
                problems.push(format!("{entry}: refused {answer:?}, native {native:?}"));
            }
        }
        // A request may be refused for itself; refused settings must refuse it with their
        // message.
        for (entry, answer) in [
            ("waPC validate", &by_wapc_validate),
            ("WIT review", &by_wit_review),
        ] {
            match (&native, answer) {
                (Some(expected), Some(message)) if message == expected => {}
                (None, None) => {}
                (None, Some(_)) if !case.expect.allowed => {}
                (native, answer) => problems.push(format!(
                    "{entry}: refused {answer:?}, native settings error {native:?}"
                )),
            }
        }
        Ok(problems)
    });
}
