//! One admission request in, one decision out.
//!
//! This is what every entry calls: the Kubewarden protocol ([`crate::kubewarden`]), the WIT
//! glue, the replay suites, the hostile-input tests and the fuzz targets. [`decide`] is the
//! whole loop: ask [`needs`] which cluster objects to read, read them through the caller's
//! lookup, and [`review`] with them. Hosts that read the objects themselves (the WIT world
//! is exports-only) call `needs` and `review` apart. The answer is an [`Outcome`]: the
//! verdict, warnings and, for a mutation, the RFC 6902 patch (only `add` operations).
//!
//! Dispatch:
//! - Pod CREATE: inject AWS credentials ([`crate::mutation`]), and warn about the role's
//!   trust problems ([`trust_checks`]); a Pod is never rejected for an IAM problem.
//!   With `validateOnly` ([`stale`]): never mutate; reject a Pod whose credentials are not
//!   the ones its ServiceAccount names now, so the audit scanner reports stale Pods.
//! - ServiceAccount CREATE/UPDATE: validate the role annotation and its trust policy.
//! - Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob CREATE/UPDATE
//!   ([`workloads`]): the checks a Pod of the template would get, decided like its
//!   ServiceAccount; never mutated.
//! - Anything else: admitted untouched.
//!
//! Module map: [`envelope`] reads the AdmissionReview and writes the response, [`decision`]
//! the record of what was decided (log record, audit annotations), [`prepared`]
//! holds validated settings with their parsed trust policies (and the one settings cache),
//! [`read_failure`] why an object could not be read and how a warning says it,
//! [`trust_checks`] the ServiceAccount and Pod role checks, [`workloads`] the Pod templates,
//! [`stale`] the comparison of a Pod's credentials with its ServiceAccount. Mutation and
//! trust checks do not know each other: this module maps the mutation's credentials to the
//! identity checked.

pub mod decision;
pub mod envelope;
pub mod prepared;
pub mod read_failure;
pub mod stale;
pub mod trust_checks;
pub mod workloads;

use json_patch::Patch;
use serde_json::Value;

use awi_trust::json::type_name;
pub use awi_trust::k8s::ObjectRef;

use crate::mutation::{self, Credentials, Injection, PodRequest};
pub use decision::{Action, Decision, Level, LogRecord, Mode, Target};
use envelope::Request;
pub use envelope::{AdmissionError, answer, parse_review, request_of, response};
pub use prepared::{Prepared, SettingsCache};
pub use read_failure::{FailureKind, ReadFailure};
use trust_checks::Identity;

/// What the host answered for one object named by [`needs`].
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The object as the cluster returned it.
    Found(Value),
    /// The object does not exist.
    NotFound,
    /// The object could not be read for another reason, given here.
    Failed(ReadFailure),
}

/// What the host could read of the objects named by [`needs`].
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The objects that exist. An object named by `needs` and absent here does not exist.
    pub objects: Vec<Value>,
    /// Objects that could not be read for another reason than "not found", with the reason.
    pub failures: Vec<(ObjectRef, ReadFailure)>,
}

/// One object named by [`needs`], as the [`Context`] holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Read<'a> {
    /// The object as the cluster returned it.
    Found(&'a Value),
    /// The object does not exist.
    Missing,
    /// The object could not be read.
    Failed(&'a ReadFailure),
}

/// Why an object named by [`needs`] is not in the [`Context`].
#[derive(Debug, Clone, PartialEq)]
pub struct Unread {
    /// In a few words, one line: `not found`, or the failure's [`ReadFailure::reason`].
    pub reason: String,
    /// For a failed read, the host's whole account ([`ReadFailure::detail`]), for the log.
    pub detail: Option<String>,
}

impl Context {
    /// The object `wanted` names: found, missing, or unreadable with the reason.
    pub fn read(&self, wanted: &ObjectRef) -> Read<'_> {
        if let Some(object) = self.objects.iter().find(|o| wanted.matches(o)) {
            return Read::Found(object);
        }
        match self.failures.iter().find(|(r, _)| r == wanted) {
            Some((_, failure)) => Read::Failed(failure),
            None => Read::Missing,
        }
    }

    /// The object `wanted` names, or why it is not there.
    pub fn lookup(&self, wanted: &ObjectRef) -> Result<&Value, Unread> {
        match self.read(wanted) {
            Read::Found(object) => Ok(object),
            Read::Missing => Err(Unread {
                reason: "not found".to_string(),
                detail: None,
            }),
            Read::Failed(failure) => Err(Unread {
                reason: failure.reason(wanted),
                detail: Some(failure.detail.clone()),
            }),
        }
    }
}

/// The policy's answer to one admission request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why the request was rejected.
    pub message: Option<String>,
    /// HTTP status code of a rejection.
    pub code: Option<u16>,
    /// Admission warnings shown to the user by kubectl.
    pub warnings: Vec<String>,
    /// The mutation; empty when the object is admitted unchanged.
    pub patch: Patch,
    /// What was decided and why; see [`Outcome::log_record`] and
    /// [`Outcome::audit_annotations`].
    pub decision: Decision,
}

impl Outcome {
    fn admit(warnings: Vec<String>, decision: Decision) -> Outcome {
        Outcome {
            allowed: true,
            warnings,
            decision,
            ..Outcome::default()
        }
    }

    /// A rejection; the decision's action becomes [`Action::Rejected`] with the message as
    /// its reason.
    fn reject(message: String, code: u16, warnings: Vec<String>, decision: Decision) -> Outcome {
        Outcome {
            allowed: false,
            decision: Decision {
                action: Action::Rejected,
                reason: Some(message.clone()),
                ..decision
            },
            message: Some(message),
            code: Some(code),
            warnings,
            patch: Patch::default(),
        }
    }

    /// Admitted without its checks because of `problem` (the record's reason), with one
    /// warning.
    fn unchecked(warning: String, problem: String, decision: Decision) -> Outcome {
        Outcome::admit(
            vec![warning],
            Decision {
                action: Action::Unchecked,
                reason: Some(problem),
                ..decision
            },
        )
    }

    /// The one log record of this answer.
    pub fn log_record(&self) -> LogRecord {
        self.decision.log_record(&self.warnings)
    }

    /// The `auditAnnotations` of the response (keys without prefix).
    pub fn audit_annotations(&self) -> std::collections::BTreeMap<String, String> {
        self.decision.audit_annotations(self.allowed)
    }

    /// The object with the patch applied, or `None` when there is nothing to change. The
    /// patch is applied by [`mutation::apply`], the applier the Kubewarden protocol uses.
    pub fn mutated_object(&self, object: &Value) -> Option<Value> {
        if self.patch.0.is_empty() {
            return None;
        }
        let mut mutated = object.clone();
        // The patch was built against this very object, so it applies.
        mutation::apply(&mut mutated, self.patch.clone()).ok()?;
        Some(mutated)
    }
}

/// The cluster objects the policy must read to answer `request` (an AdmissionRequest): the
/// ServiceAccount of a Pod, or of a workload's Pod template. The settings do not change
/// which objects are read.
pub fn needs(request: &Value) -> Vec<ObjectRef> {
    let req = Request::read(request);
    let pod = if req.is_pod_create() {
        Some(req.object)
    } else if req.is_workload_write() {
        workloads::template(&req).ok()
    } else {
        None
    };
    match pod.map(mutation::service_account_name) {
        Some(Ok(name)) => vec![ObjectRef::service_account(req.namespace(), name)],
        _ => Vec::new(),
    }
}

/// Decides `request` (an AdmissionRequest) with the objects the host read.
pub fn review(prepared: &Prepared, request: &Value, context: &Context) -> Outcome {
    let req = Request::read(request);
    if req.is_pod_create() {
        if prepared.settings().validate_only {
            stale::review(prepared, &req, context)
        } else {
            review_pod(prepared, &req, context)
        }
    } else if req.is_service_account_write() {
        review_service_account(prepared, &req)
    } else if req.is_workload_write() {
        workloads::review(prepared, &req, context)
    } else {
        Outcome::admit(Vec::new(), req.decision(Target::Other))
    }
}

/// The whole request: the objects [`needs`] names read through `lookup`, then [`review`].
pub fn decide(
    prepared: &Prepared,
    request: &Value,
    mut lookup: impl FnMut(&ObjectRef) -> Lookup,
) -> Outcome {
    let mut context = Context::default();
    for wanted in needs(request) {
        match lookup(&wanted) {
            Lookup::Found(object) => context.objects.push(object),
            Lookup::NotFound => {}
            Lookup::Failed(failure) => context.failures.push((wanted, failure)),
        }
    }
    review(prepared, request, &context)
}

fn review_pod(prepared: &Prepared, req: &Request, context: &Context) -> Outcome {
    let mut decision = req.decision(Target::PodCreate);
    let settings = prepared.settings();
    let pod = req.object;
    let namespace = req.namespace();
    let name = match mutation::service_account_name(pod) {
        Ok(name) => name,
        Err(e) => return Outcome::reject(e.to_string(), 400, Vec::new(), decision),
    };
    decision.service_account = Some(format!("{namespace}/{name}"));
    let wanted = ObjectRef::service_account(namespace, name);
    let mut warnings = Vec::new();
    let mut unread = None;
    let service_account = match context.lookup(&wanted) {
        Ok(sa) => Some(sa),
        Err(Unread { reason, detail }) => {
            warnings.push(format!(
                "cannot read ServiceAccount {namespace}/{name} ({reason}): its IAM role annotations are not applied to this Pod"
            ));
            decision.host_error = detail;
            unread = Some(reason);
            None
        }
    };
    let pod_request = PodRequest {
        pod,
        namespace,
        uid: req.uid,
        service_account,
    };
    match mutation::inject_web_identity(settings, &pod_request) {
        Ok(injection) => {
            record_injection(&mut decision, &injection, unread);
            warnings.extend(injection.warnings);
            if let Some(identity) = web_identity(namespace, injection.credentials.as_ref()) {
                let report = trust_checks::pod_checks(prepared, &identity);
                warnings.extend(report.warnings);
                decision.trust = report.verdict;
            }
            Outcome {
                allowed: true,
                message: None,
                code: None,
                warnings,
                patch: injection.patch,
                decision,
            }
        }
        Err(e) => Outcome::reject(e.to_string(), 400, warnings, decision),
    }
}

/// The identity whose role is checked for a Pod given `credentials`. Container credentials
/// are served by the Pod Identity agent, not by a trust policy on the cluster's OIDC
/// provider, so they have none.
fn web_identity<'a>(
    namespace: &'a str,
    credentials: Option<&'a Credentials>,
) -> Option<Identity<'a>> {
    match credentials? {
        Credentials::WebIdentity {
            service_account,
            role_arn,
            audience,
            ..
        } => Some(Identity {
            namespace,
            name: service_account,
            role_arn,
            audience,
        }),
        Credentials::ContainerCredentials { .. } => None,
    }
}

/// What the injection did, into `decision`; `unread` is why the ServiceAccount could not be
/// read, when it could not.
fn record_injection(decision: &mut Decision, injection: &Injection, unread: Option<String>) {
    decision.skipped_containers = injection.skipped_containers.clone();
    decision.set_credentials(injection.credentials.as_ref());
    decision.action = match (&injection.credentials, unread) {
        // A settings entry can still give the Pod a role without its ServiceAccount; the
        // reason stays on the record.
        (Some(_), unread) => {
            decision.reason = unread;
            if injection.patch.0.is_empty() {
                Action::AlreadyMutated
            } else {
                Action::Mutated
            }
        }
        (None, Some(reason)) => {
            decision.reason = Some(reason);
            Action::NotApplied
        }
        (None, None) => Action::NoRole,
    };
}

fn review_service_account(prepared: &Prepared, req: &Request) -> Outcome {
    let mut decision = req.decision(Target::ServiceAccountWrite);
    let object = match req.object {
        Value::Object(_) => req.object,
        other => {
            return Outcome::reject(
                format!(
                    "request.object: expected a ServiceAccount object, got {}",
                    type_name(other)
                ),
                400,
                Vec::new(),
                decision,
            );
        }
    };
    let report = trust_checks::check_service_account(prepared, req.namespace(), object);
    decision.service_account = Some(report.service_account.clone());
    decision.role_arn = report.role_arn;
    decision.trust = report.verdict;
    decision.action = Action::Admitted;
    match report.rejection {
        Some(message) => Outcome::reject(message, 403, report.warnings, decision),
        None => Outcome::admit(report.warnings, decision),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The one-line reason goes to the warning and the record; the host's whole text only
    /// to the record.
    #[test]
    fn an_unreadable_service_account_is_logged_with_its_reason() {
        let prepared = Prepared::parse("{}").unwrap();
        let request = json!({
            "uid": "u1", "operation": "CREATE", "namespace": "payments",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": {"metadata": {"generateName": "api-"},
                       "spec": {"serviceAccountName": "api", "containers": [{"name": "c"}]}}
        });
        let outcome = decide(&prepared, &request, |_| {
            Lookup::Failed(ReadFailure::other("serviceaccounts \"api\" is forbidden"))
        });
        assert!(outcome.allowed && outcome.patch.0.is_empty());
        let record = outcome.log_record();
        assert_eq!(record.level, Level::Warning);
        assert_eq!(
            record.to_json(),
            json!({
                "level": "warning",
                "message": "Pod admitted unchanged: its ServiceAccount could not be read, so its IAM role is not applied (with warnings)",
                "uid": "u1", "namespace": "payments", "object": "Pod/api-*",
                "service_account": "payments/api", "mode": "none", "action": "not-applied",
                "reason": "serviceaccounts \"api\" is forbidden",
                "host_error": "serviceaccounts \"api\" is forbidden",
                "warnings": outcome.warnings[0],
            })
        );
        let annotations = outcome.audit_annotations();
        assert_eq!(
            json!(annotations),
            json!({"mode": "none", "trust": "not-checked"})
        );
    }
}
