//! Replays every recorded case under `tests/fixtures` (all groups) through the admission
//! entry natively, as a host would: settings prepared (validated), then `admission::decide`
//! with the objects looked up in the case's cluster (absent ones not found, `hostErrors`
//! failing with their text). Checks the verdict, message, warnings, that the patch only
//! adds, the mutated Pod, and where the case records them the log record and the audit
//! annotations (also in the AdmissionReview answer). All failing cases are reported
//! together, each with its file.

use std::path::Path;

use aws_workload_identity::admission::{self, Prepared};
use json_patch::PatchOperation;
use recorded::Case;

#[path = "support/native.rs"]
mod native;

fn replay(case: &Case) -> Result<(), String> {
    let prepared = Prepared::parse(&case.settings_json());
    let prepared = match (&case.expect.settings_error, prepared) {
        (None, settings) => settings.map_err(|e| e.to_string())?,
        (Some(expected), Err(e)) if e.to_string() == *expected => return Ok(()),
        (Some(expected), Err(e)) => {
            return Err(format!(
                "settings error: expected {expected:?}, got {:?}",
                e.to_string()
            ));
        }
        (Some(expected), Ok(_)) => {
            return Err(format!(
                "settings accepted, expected the error {expected:?}"
            ));
        }
    };
    let request = admission::request_of(&case.review).map_err(|e| e.to_string())?;
    let outcome = native::decide(case, &prepared)?;

    let mut problems = Vec::new();
    if outcome.allowed != case.expect.allowed {
        problems.push(format!(
            "allowed: expected {}, got {}",
            case.expect.allowed, outcome.allowed
        ));
    }
    if outcome.message != case.expect.message {
        problems.push(format!(
            "message: expected {:?}, got {:?}",
            case.expect.message, outcome.message
        ));
    }
    if outcome.warnings != case.expect.warnings {
        problems.push(format!(
            "warnings: expected {:#?}, got {:#?}",
            case.expect.warnings, outcome.warnings
        ));
    }
    let record = outcome.log_record().to_json();
    let annotations = outcome.audit_annotations();
    problems.extend(recorded::decision_differences(
        &case.expect,
        Some(&record),
        &annotations,
    ));
    let answered = admission::answer(&case.review, &outcome);
    let in_answer = recorded::audit_annotations(&answered["response"])?;
    if in_answer != annotations {
        problems.push(format!(
            "the AdmissionReview's auditAnnotations {in_answer:?} are not the outcome's {annotations:?}"
        ));
    }
    for op in &outcome.patch.0 {
        if !matches!(op, PatchOperation::Add(_)) {
            problems.push(format!("patch has a non-add operation: {op}"));
        }
    }
    let object = request.get("object").cloned().unwrap_or_default();
    match (&case.expect.pod, outcome.mutated_object(&object)) {
        (None, None) => {}
        (None, Some(mutated)) => problems.push(format!(
            "expected the object unchanged, got patch {}\nmutated: {mutated:#}",
            serde_json::to_string(&outcome.patch).unwrap_or_default()
        )),
        (Some(_), None) if !outcome.patch.0.is_empty() => {
            problems.push("the patch does not apply to the object".to_string())
        }
        (Some(_), None) => problems.push("expected a mutated Pod, got no patch".to_string()),
        (Some(expected), Some(actual)) => {
            let differences = recorded::pod_differences(expected, &actual, case.expiration_range());
            if !differences.is_empty() {
                problems.push(recorded::describe_mismatch(&differences, expected, &actual));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn replay_all(dir: &Path) -> usize {
    let cases = recorded::load_all(dir);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(path, case)| {
            replay(case)
                .err()
                .map(|e| format!("=== {}\n{}\n{e}", path.display(), case.description))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} recorded cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    cases.len()
}

#[test]
fn every_recorded_case() {
    let count = replay_all(&recorded::fixtures_dir());
    assert!(count > 0, "no recorded cases found");
}

#[test]
fn all_24_reference_fixtures_are_recorded() {
    let cases = recorded::load_all(&recorded::fixtures_dir().join("conformance"));
    assert_eq!(cases.len(), 24);
}

/// Every decision path has at least one recorded case asserting its log record and audit
/// annotations: the record's `action` (and `mode`, `trust`) values seen across the cases.
#[test]
fn every_decision_path_has_a_recorded_record() {
    let cases = recorded::load_all(&recorded::fixtures_dir());
    let mut seen = std::collections::BTreeSet::new();
    for (_, case) in &cases {
        let (Some(log), Some(_)) = (&case.expect.log, &case.expect.audit_annotations) else {
            continue;
        };
        for key in ["action", "mode", "trust"] {
            if let Some(value) = log.get(key).and_then(|v| v.as_str()) {
                seen.insert(format!("{key}={value}"));
            }
        }
        for key in ["skipped_containers", "host_error"] {
            if log.get(key).is_some() {
                seen.insert(key.to_string());
            }
        }
        if let Some(message) = log.get("message").and_then(|v| v.as_str()) {
            let summary = message.trim_end_matches(" (with warnings)");
            seen.insert(format!("message={summary}"));
        }
        if log["level"] == "warning" {
            seen.insert("level=warning".to_string());
        }
    }
    let paths = [
        "action=mutated",
        "action=already-mutated",
        "action=no-role",
        "action=not-applied",
        "action=admitted",
        "action=rejected",
        "action=ignored",
        "mode=web-identity",
        "mode=container-credentials",
        "mode=none",
        "trust=trusted",
        "trust=not-trusted",
        "trust=no-trust-policy",
        "trust=invalid-role-arn",
        "trust=account-not-allowed",
        "trust=role-not-allowed",
        "action=unchecked",
        "skipped_containers",
        "host_error",
        "level=warning",
        // Every kind of request the policy decides, by the record's summary.
        "message=workload admitted",
        "message=workload rejected",
        "message=workload admitted unchecked: its Pods' ServiceAccount could not be checked",
        "message=Pod admitted: its credentials are the ones its ServiceAccount names",
        "message=Pod rejected: stale AWS credentials",
        "message=Pod admitted unchecked: its credentials could not be compared with its ServiceAccount",
    ];
    let missing: Vec<&str> = paths
        .into_iter()
        .filter(|path| !seen.contains(*path))
        .collect();
    assert!(missing.is_empty(), "no recorded case asserts {missing:?}");
}

#[test]
fn own_mutation_cases_are_recorded() {
    let cases = recorded::load_all(&recorded::fixtures_dir().join("mutation"));
    assert!(cases.len() >= 25, "only {} cases", cases.len());
}

#[test]
fn every_host_failure_kind_is_recorded_with_a_one_line_warning() {
    let cases = recorded::load_all(&recorded::fixtures_dir().join("faults"));
    assert!(cases.len() >= 19, "only {} cases", cases.len());
    for (path, case) in &cases {
        assert!(
            !case.host_errors.is_empty(),
            "{}: no host error",
            path.display()
        );
        assert_eq!(case.expect.warnings.len(), 1, "{}", path.display());
        let warning = &case.expect.warnings[0];
        for chain in [
            "\n",
            "Caused by",
            "Host error",
            "Callback evaluation",
            "Status {",
        ] {
            assert!(!warning.contains(chain), "{}: {warning:?}", path.display());
        }
        assert!(
            warning.ends_with("): its IAM role annotations are not applied to this Pod"),
            "{}: {warning:?}",
            path.display()
        );
    }
}
