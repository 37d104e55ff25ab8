//! WIT glue: the `awi:policy/policy` world of `wit/policy.wit` over the core.
//!
//! The world is exports-only, so this glue never calls the host: the host reads what
//! `admission.needs` names and passes it to `admission.review`, the objects it found and why
//! it could not read the others. Every input problem is an `err` string, never a trap.

use std::sync::Arc;

use serde_json::Value;

use super::with_validator;
use crate::admission::{self, FailureKind, Lookup, ObjectRef, Prepared, ReadFailure};
use crate::kubewarden::get_resource_failure;
use awi_trust as trust;

wit_bindgen::generate!({
    path: "wit",
    world: "policy",
});

use awi::policy::types::{
    LogLevel as WitLogLevel, LogRecord as WitLogRecord, Severity as WitSeverity,
};
use exports::awi::policy::admission as wit_admission;
use exports::awi::policy::trust as wit_trust;

struct Policy;

export!(Policy);

/// The prepared settings of `json`, from the cache the waPC entries use too.
fn settings(json: &str) -> Result<Arc<Prepared>, String> {
    with_validator(|validator| validator.settings_cache().get(json)).map_err(|e| e.to_string())
}

fn object_ref(r: wit_admission::ObjectRef) -> ObjectRef {
    ObjectRef {
        api_version: r.api_version,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
    }
}

/// What a failed read of the host means: a 404 is "does not exist", a host text is read as
/// Kubewarden's. The host's detail, when it gives one, is what the log gets.
fn lookup(error: wit_admission::ReadError, detail: String) -> Lookup {
    let kind = match error {
        wit_admission::ReadError::Status(status) if status.code == 404 => return Lookup::NotFound,
        wit_admission::ReadError::Status(status) => FailureKind::Status {
            code: status.code,
            reason: status.reason,
            message: status.message,
        },
        wit_admission::ReadError::Unreachable(what) => FailureKind::Unreachable(what),
        wit_admission::ReadError::HostText(text) => {
            return match get_resource_failure(&text) {
                Lookup::Failed(failure) if !detail.is_empty() => {
                    Lookup::Failed(ReadFailure { detail, ..failure })
                }
                lookup => lookup,
            };
        }
    };
    Lookup::Failed(ReadFailure::new(kind, detail))
}

impl wit_admission::Guest for Policy {
    fn needs(
        settings_json: String,
        review: String,
    ) -> Result<Vec<wit_admission::ObjectRef>, String> {
        // The settings do not change what is read, but refused settings are an error here
        // as in every other entry.
        settings(&settings_json)?;
        let review = admission::parse_review(&review).map_err(|e| e.to_string())?;
        let request = admission::request_of(&review).map_err(|e| e.to_string())?;
        Ok(admission::needs(request)
            .into_iter()
            .map(|r| wit_admission::ObjectRef {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
            })
            .collect())
    }

    fn review(
        settings_json: String,
        review: String,
        context: Vec<wit_admission::Read>,
    ) -> Result<wit_admission::Reviewed, String> {
        let prepared = settings(&settings_json)?;
        let review = admission::parse_review(&review).map_err(|e| e.to_string())?;
        let request = admission::request_of(&review).map_err(|e| e.to_string())?;
        let mut objects = Vec::new();
        let mut failed = Vec::new();
        for (i, read) in context.into_iter().enumerate() {
            match read {
                wit_admission::Read::Found(json) => objects.push(
                    serde_json::from_str::<Value>(&json)
                        .map_err(|e| format!("context[{i}]: not valid JSON: {e}"))?,
                ),
                wit_admission::Read::Failed(read) => {
                    failed.push((object_ref(read.object), lookup(read.error, read.detail)))
                }
            }
        }
        // The host read what `needs` named; an object it did not pass does not exist.
        let outcome = admission::decide(&prepared, request, |wanted| {
            if let Some((_, lookup)) = failed.iter().find(|(r, _)| r == wanted) {
                return lookup.clone();
            }
            objects
                .iter()
                .find(|object| wanted.matches(object))
                .map_or(Lookup::NotFound, |object| Lookup::Found(object.clone()))
        });
        Ok(wit_admission::Reviewed {
            review: admission::answer(&review, &outcome).to_string(),
            log: log_record(outcome.log_record()),
        })
    }

    fn validate_settings(settings_json: String) -> Result<(), String> {
        settings(&settings_json).map(|_| ())
    }
}

fn log_record(record: admission::LogRecord) -> WitLogRecord {
    WitLogRecord {
        level: match record.level {
            admission::Level::Info => WitLogLevel::Info,
            admission::Level::Warning => WitLogLevel::Warning,
        },
        message: record.message,
        fields: record
            .fields
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    }
}

fn severity(s: trust::Severity) -> WitSeverity {
    match s {
        trust::Severity::Error => WitSeverity::Error,
        trust::Severity::Critical => WitSeverity::Critical,
        trust::Severity::High => WitSeverity::High,
        trust::Severity::Medium => WitSeverity::Medium,
        trust::Severity::Low => WitSeverity::Low,
        trust::Severity::Info => WitSeverity::Info,
    }
}

fn finding(f: trust::Finding) -> wit_trust::Finding {
    wit_trust::Finding {
        code: f.code.to_string(),
        severity: severity(f.severity),
        message: f.message,
        statement: f.statement,
    }
}

/// `trust.check` and `trust.check-in-context`: one decision, two ways to call it.
fn check(
    policy: &str,
    role_arn: &str,
    subject: wit_trust::Subject,
    context: &trust::RequestContext,
) -> Result<wit_trust::Verdict, String> {
    let subject = trust::Subject {
        issuer: subject.issuer,
        audience: subject.audience,
        namespace: subject.namespace,
        service_account: subject.service_account,
    };
    let verdict =
        trust::check_in_context(policy, role_arn, &subject, context).map_err(|e| e.to_string())?;
    Ok(wit_trust::Verdict {
        allowed: verdict.allowed,
        valid_document: verdict.valid_document,
        findings: verdict.findings.into_iter().map(finding).collect(),
        explanation: verdict.explanation,
    })
}

impl wit_trust::Guest for Policy {
    fn check(
        policy: String,
        role_arn: String,
        subject: wit_trust::Subject,
    ) -> Result<wit_trust::Verdict, String> {
        check(&policy, &role_arn, subject, &trust::RequestContext::new())
    }

    fn check_in_context(
        policy: String,
        role_arn: String,
        subject: wit_trust::Subject,
        context: Vec<(String, String)>,
    ) -> Result<wit_trust::Verdict, String> {
        let context = trust::RequestContext::from_pairs(context).map_err(|e| e.to_string())?;
        check(&policy, &role_arn, subject, &context)
    }

    fn lint(
        policy: String,
        role_arn: String,
        issuer: String,
    ) -> Result<Vec<wit_trust::Finding>, String> {
        // The interface spells "role unknown" as the empty string.
        let role_arn = Some(role_arn.as_str()).filter(|arn| !arn.is_empty());
        let findings = trust::lint(&policy, role_arn, &issuer).map_err(|e| e.to_string())?;
        Ok(findings.into_iter().map(finding).collect())
    }

    fn render(
        template: String,
        namespace: String,
        service_account: String,
    ) -> Result<String, String> {
        trust::render(&template, &namespace, &service_account).map_err(|e| e.to_string())
    }

    fn who(
        policy: String,
        role_arn: String,
        issuer: String,
        audience: String,
    ) -> Result<Vec<String>, String> {
        trust::who(&policy, &role_arn, &issuer, &audience).map_err(|e| e.to_string())
    }
}
