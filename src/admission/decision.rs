//! The record of one admission decision: what the policy did to which object and why, for
//! the policy's log and for the Kubernetes audit log.
//!
//! Admission warnings go back to the client that created the object, and for Pods that is
//! almost always a controller, so nobody reads them. Every [`super::Outcome`] therefore
//! carries a [`Decision`]. The glue emits its [`LogRecord`] (through Kubewarden's logging host
//! capability, or in the WIT result) and writes its [`Decision::audit_annotations`] into the
//! response. The record is built from what was decided; it never changes the verdict or the
//! patch.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::trust_checks::TrustVerdict;
use crate::mutation::Credentials;

/// How much a [`LogRecord`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// The decision went as configured.
    #[default]
    Info,
    /// The decision came with a problem: a warning returned, a role not applied, a
    /// rejection.
    Warning,
}

impl Level {
    /// The level as Kubewarden's log records spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
        }
    }
}

/// The kind of request decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// A Pod CREATE: the mutation.
    PodCreate,
    /// A ServiceAccount CREATE or UPDATE: the role checks.
    ServiceAccountWrite,
    /// A workload CREATE or UPDATE (a Pod template): the checks its Pods would get.
    WorkloadWrite,
    /// A Pod CREATE under `validateOnly`: its credentials against its ServiceAccount.
    PodValidation,
    /// Anything else, admitted untouched.
    #[default]
    Other,
}

/// The credentials a Pod was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// IRSA: `AWS_ROLE_ARN` and a projected token for `sts:AssumeRoleWithWebIdentity`.
    WebIdentity,
    /// EKS Pod Identity: a projected token for the container credentials endpoint.
    ContainerCredentials,
    /// No credentials apply to the Pod.
    #[default]
    None,
}

impl Mode {
    /// The mode as logged and in the `mode` audit annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::WebIdentity => "web-identity",
            Mode::ContainerCredentials => "container-credentials",
            Mode::None => "none",
        }
    }
}

/// What the policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// The Pod was given its credentials (a patch).
    Mutated,
    /// The Pod already had everything the policy would add: admitted without a patch.
    AlreadyMutated,
    /// Neither the Pod's ServiceAccount nor the settings give it a role: admitted unchanged.
    NoRole,
    /// The Pod's ServiceAccount could not be read, so its role was not applied: admitted
    /// unchanged (the reason is in [`Decision::reason`]).
    NotApplied,
    /// A ServiceAccount or workload write admitted after its checks, or a Pod whose
    /// credentials are the current ones (`validateOnly`).
    Admitted,
    /// Admitted without its checks: the ServiceAccount (or the Pod template) could not be
    /// read (the reason is in [`Decision::reason`]).
    Unchecked,
    /// The request was rejected (the reason is in [`Decision::reason`]).
    Rejected,
    /// Not a request the policy decides on: admitted untouched.
    #[default]
    Ignored,
}

impl Action {
    /// The action as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Mutated => "mutated",
            Action::AlreadyMutated => "already-mutated",
            Action::NoRole => "no-role",
            Action::NotApplied => "not-applied",
            Action::Admitted => "admitted",
            Action::Unchecked => "unchecked",
            Action::Rejected => "rejected",
            Action::Ignored => "ignored",
        }
    }
}

/// What was decided for one admission request, typed; [`Decision::log_record`] and
/// [`Decision::audit_annotations`] are its two renderings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// The kind of request.
    pub target: Target,
    /// `request.uid`.
    pub uid: String,
    /// The namespace of the request (or of its object).
    pub namespace: String,
    /// `<Kind>/<name>`; a Pod named by its controller shows its `generateName` and `*`.
    pub object: String,
    /// The ServiceAccount the decision is about, `<namespace>/<name>`.
    pub service_account: Option<String>,
    /// The role given or checked.
    pub role_arn: Option<String>,
    /// The credentials of a Pod.
    pub mode: Mode,
    /// What was done.
    pub action: Action,
    /// Containers `skip-containers` left alone.
    pub skipped_containers: Vec<String>,
    /// Why the role was not applied, or why the request was rejected.
    pub reason: Option<String>,
    /// The host's whole account of a failed ServiceAccount read (the warning quotes one
    /// line of it, [`Decision::reason`]).
    pub host_error: Option<String>,
    /// The trust checks' verdict, when they ran.
    pub trust: Option<TrustVerdict>,
}

/// One structured log record: level, message and named fields, in order. Kubewarden's log
/// record is this with the fields as key/values; [`LogRecord::to_json`] is that JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// How much it matters.
    pub level: Level,
    /// One line for people.
    pub message: String,
    /// The decision's fields (`uid`, `namespace`, `object`, …), only those that apply.
    pub fields: Vec<(&'static str, String)>,
}

impl LogRecord {
    /// The record as one JSON object: `level`, `message`, then every field.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("level".into(), Value::String(self.level.as_str().into()));
        map.insert("message".into(), Value::String(self.message.clone()));
        for (key, value) in &self.fields {
            map.insert((*key).into(), Value::String(value.clone()));
        }
        Value::Object(map)
    }
}

/// The audit annotation keys: names without a prefix, as the API server wants them (it
/// prefixes each with the webhook's name).
pub mod audit_key {
    /// The role given to the Pod, or checked for the ServiceAccount.
    pub const ROLE_ARN: &str = "role-arn";
    /// [`super::Mode::as_str`] of the Pod.
    pub const MODE: &str = "mode";
    /// [`super::TrustVerdict::as_str`], or `not-checked` when no check ran.
    pub const TRUST: &str = "trust";
}

impl Decision {
    /// The mode and role of `credentials`, the ones a Pod gets (or its template's Pods).
    pub(crate) fn set_credentials(&mut self, credentials: Option<&Credentials>) {
        (self.mode, self.role_arn) = match credentials {
            Some(Credentials::WebIdentity { role_arn, .. }) => {
                (Mode::WebIdentity, Some(role_arn.clone()))
            }
            Some(Credentials::ContainerCredentials { .. }) => (Mode::ContainerCredentials, None),
            None => (Mode::None, None),
        };
    }

    /// The log record of this decision, with `warnings` (the admission warnings returned)
    /// as one field: warning level when there are any, when the role was not applied, and
    /// for a rejection.
    pub fn log_record(&self, warnings: &[String]) -> LogRecord {
        let problem = !warnings.is_empty()
            || matches!(
                self.action,
                Action::NotApplied | Action::Rejected | Action::Unchecked
            );
        let mut fields = vec![
            ("uid", self.uid.clone()),
            ("namespace", self.namespace.clone()),
            ("object", self.object.clone()),
        ];
        let mut optional = |key: &'static str, value: &Option<String>| {
            if let Some(value) = value {
                fields.push((key, value.clone()));
            }
        };
        optional("service_account", &self.service_account);
        optional("role_arn", &self.role_arn);
        if matches!(
            self.target,
            Target::PodCreate | Target::PodValidation | Target::WorkloadWrite
        ) {
            fields.push(("mode", self.mode.as_str().to_string()));
        }
        fields.push(("action", self.action.as_str().to_string()));
        if !self.skipped_containers.is_empty() {
            fields.push(("skipped_containers", self.skipped_containers.join(", ")));
        }
        if let Some(trust) = self.trust {
            fields.push(("trust", trust.as_str().to_string()));
        }
        if let Some(reason) = &self.reason {
            fields.push(("reason", reason.clone()));
        }
        if let Some(detail) = &self.host_error {
            fields.push(("host_error", detail.clone()));
        }
        if !warnings.is_empty() {
            fields.push(("warnings", warnings.join("; ")));
        }
        let mut message = self.summary().to_string();
        if !warnings.is_empty() {
            message.push_str(" (with warnings)");
        }
        LogRecord {
            level: if problem { Level::Warning } else { Level::Info },
            message,
            fields,
        }
    }

    fn summary(&self) -> &'static str {
        match (self.action, self.mode, self.target) {
            (Action::Mutated, Mode::ContainerCredentials, _) => {
                "Pod mutated: container credentials injected"
            }
            (Action::Mutated, _, _) => "Pod mutated: web identity credentials injected",
            (Action::AlreadyMutated, _, _) => {
                "Pod admitted unchanged: it already has its credentials"
            }
            (Action::NoRole, _, _) => "Pod admitted unchanged: no IAM role for its ServiceAccount",
            (Action::NotApplied, _, _) => {
                "Pod admitted unchanged: its ServiceAccount could not be read, so its IAM role is not applied"
            }
            (Action::Admitted, _, Target::WorkloadWrite) => "workload admitted",
            (Action::Admitted, _, Target::PodValidation) => {
                "Pod admitted: its credentials are the ones its ServiceAccount names"
            }
            (Action::Admitted, _, _) => "ServiceAccount admitted",
            (Action::Unchecked, _, Target::WorkloadWrite) => {
                "workload admitted unchecked: its Pods' ServiceAccount could not be checked"
            }
            (Action::Unchecked, _, _) => {
                "Pod admitted unchecked: its credentials could not be compared with its ServiceAccount"
            }
            (Action::Rejected, _, Target::PodCreate) => "Pod rejected",
            (Action::Rejected, _, Target::PodValidation) => "Pod rejected: stale AWS credentials",
            (Action::Rejected, _, Target::ServiceAccountWrite) => "ServiceAccount rejected",
            (Action::Rejected, _, Target::WorkloadWrite) => "workload rejected",
            (Action::Rejected, _, Target::Other) => "request rejected",
            (Action::Ignored, _, _) => {
                "request admitted untouched: not a Pod creation, ServiceAccount or workload write"
            }
        }
    }

    /// The audit annotations of the response: for an admitted Pod its mode, role and trust
    /// verdict (`not-checked` when no check ran); for a ServiceAccount write with a role, the
    /// role and verdict. Empty otherwise.
    pub fn audit_annotations(&self, allowed: bool) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::new();
        let trust = self.trust.map_or("not-checked", TrustVerdict::as_str);
        match self.target {
            Target::PodCreate if allowed => {
                annotations.insert(audit_key::MODE.to_string(), self.mode.as_str().to_string());
                annotations.insert(audit_key::TRUST.to_string(), trust.to_string());
            }
            Target::ServiceAccountWrite | Target::WorkloadWrite if self.role_arn.is_some() => {
                annotations.insert(audit_key::TRUST.to_string(), trust.to_string());
            }
            _ => return annotations,
        }
        if let Some(role_arn) = &self.role_arn {
            annotations.insert(audit_key::ROLE_ARN.to_string(), role_arn.clone());
        }
        annotations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_annotation_keys_are_qualified_names_without_prefix() {
        for key in [audit_key::ROLE_ARN, audit_key::MODE, audit_key::TRUST] {
            assert!(!key.is_empty() && key.len() <= 63, "{key}");
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
                "{key}"
            );
            assert!(
                key.starts_with(|c: char| c.is_ascii_alphanumeric()),
                "{key}"
            );
            assert!(key.ends_with(|c: char| c.is_ascii_alphanumeric()), "{key}");
        }
    }

    #[test]
    fn rejected_pods_and_other_kinds_have_no_audit_annotations() {
        let pod = Decision {
            target: Target::PodCreate,
            action: Action::Rejected,
            ..Decision::default()
        };
        assert!(pod.audit_annotations(false).is_empty());
        assert!(Decision::default().audit_annotations(true).is_empty());
        let sa_without_role = Decision {
            target: Target::ServiceAccountWrite,
            action: Action::Admitted,
            ..Decision::default()
        };
        assert!(sa_without_role.audit_annotations(true).is_empty());
    }

    #[test]
    fn a_problem_is_a_warning_record() {
        let decision = Decision {
            target: Target::PodCreate,
            action: Action::Mutated,
            mode: Mode::WebIdentity,
            ..Decision::default()
        };
        assert_eq!(decision.log_record(&[]).level, Level::Info);
        let warned = decision.log_record(&["w".to_string()]);
        assert_eq!(warned.level, Level::Warning);
        assert_eq!(warned.to_json()["warnings"], "w");
        let not_applied = Decision {
            action: Action::NotApplied,
            ..decision
        };
        assert_eq!(not_applied.log_record(&[]).level, Level::Warning);
    }
}
