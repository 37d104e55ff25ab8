//! Replays every recorded case under `tests/fixtures` (all groups) through the admission
//! entry natively, as a host would: settings prepared (validated), then `admission::decide`
//! with the objects looked up in the case's cluster (absent ones not found, `hostErrors`
//! failing with their text). Checks the verdict, message,
//! warnings, that the patch only adds, and the mutated Pod. All failing cases are reported
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
