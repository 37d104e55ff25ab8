//! ServiceAccount role and trust checks at admission (README, "ServiceAccount and trust validation").
//!
//! A ServiceAccount carrying `<prefix>/role-arn` is checked, in order:
//! 1. the role ARN is well-formed;
//! 2. its account is in `allowedAccounts` (when set), and the role matches a pattern of the
//!    namespace's `allowedRoles` entry (its own, else `*`; when there is one);
//! 3. when `roleTrustPolicies` holds the role and `oidcProvider` is set, the role's trust
//!    policy lets `system:serviceaccount:<ns>:<sa>` with the ServiceAccount's audience assume
//!    it, decided as STS would;
//! 4. the trust policy's lint findings of severity high or critical.
//!
//! `trustValidation: enforce` rejects on 1–3 and warns on 4, `warn` admits with every
//! problem as a warning, `off` skips. Pods get the same checks for their ServiceAccount's
//! role, as warnings only: a Pod is never rejected for an IAM problem. A workload (a Pod
//! template) is decided like its ServiceAccount ([`review_identity`]), so `kubectl apply` of
//! a Deployment shows what its Pods will meet.
//!
//! Every message names the ServiceAccount and the role, and for a trust decision the
//! statement and condition that decided, plus the fix when a `trustPolicy` template is set.

use serde_json::Value;

use awi_trust::glob::Glob;
use awi_trust::json::str_at;
use awi_trust::{self as trust, RoleArn, Subject};

use super::prepared::Prepared;
use crate::settings::{Settings, TrustValidation};

/// What checks 1–3 concluded about a role for a ServiceAccount: the first check that
/// failed, else whether the role's trust policy lets it in. Logged and written to the audit
/// log; absent when no check ran (`trustValidation: off`, no role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustVerdict {
    /// Check 3 ran: the trust policy lets the ServiceAccount assume the role.
    Trusted,
    /// Checks 1–2 passed; the role is not in `roleTrustPolicies` or no `oidcProvider` is
    /// set, so its trust policy was not decided.
    NoTrustPolicy,
    /// Check 1 failed: the role ARN is not well-formed.
    InvalidRoleArn,
    /// Check 2 failed: the role's account is not in `allowedAccounts`.
    AccountNotAllowed,
    /// Check 2 failed: the role is not in the namespace's `allowedRoles`.
    RoleNotAllowed,
    /// Check 3 failed: the trust policy does not let the ServiceAccount assume the role.
    NotTrusted,
}

impl TrustVerdict {
    /// The verdict as logged and in the `trust` audit annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustVerdict::Trusted => "trusted",
            TrustVerdict::NoTrustPolicy => "no-trust-policy",
            TrustVerdict::InvalidRoleArn => "invalid-role-arn",
            TrustVerdict::AccountNotAllowed => "account-not-allowed",
            TrustVerdict::RoleNotAllowed => "role-not-allowed",
            TrustVerdict::NotTrusted => "not-trusted",
        }
    }
}

/// The result of checking a ServiceAccount's role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountReport {
    /// Set when `enforce` rejects the ServiceAccount.
    pub rejection: Option<String>,
    /// Problems that do not reject, as admission warnings.
    pub warnings: Vec<String>,
    /// The ServiceAccount, `<namespace>/<name>`.
    pub service_account: String,
    /// The role, as composed from the annotation; `None` without one.
    pub role_arn: Option<String>,
    /// What the checks concluded; `None` when none ran.
    pub verdict: Option<TrustVerdict>,
}

/// The trust checks of the role a Pod was given: warnings only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodReport {
    /// Every problem, as admission warnings.
    pub warnings: Vec<String>,
    /// What the checks concluded; `None` when none ran.
    pub verdict: Option<TrustVerdict>,
}

/// What the checks found, before the mode decides what each problem does.
#[derive(Debug)]
struct Problems {
    /// Checks 1–3: the role cannot work for this ServiceAccount.
    blocking: Vec<String>,
    /// Check 4: the role works, but its trust policy is too open or fragile.
    lint: Vec<String>,
    verdict: TrustVerdict,
}

/// The ServiceAccount whose role is checked, and the audience its tokens carry.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// The ServiceAccount's namespace.
    pub namespace: &'a str,
    /// The ServiceAccount's name.
    pub name: &'a str,
    /// The role it is given, as composed from its annotation.
    pub role_arn: &'a str,
    /// The audience of its tokens.
    pub audience: &'a str,
}

impl Identity<'_> {
    fn label(&self) -> String {
        format!("ServiceAccount {}/{}", self.namespace, self.name)
    }
}

/// Checks the role annotation of a ServiceAccount being created or updated.
pub fn check_service_account(
    prepared: &Prepared,
    namespace: &str,
    object: &Value,
) -> ServiceAccountReport {
    let settings = prepared.settings();
    let annotation = |suffix: &str| {
        let key = format!("{}/{suffix}", settings.annotation_prefix);
        object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(&key))
            .and_then(Value::as_str)
    };
    let namespace = str_at(object, &["metadata", "namespace"])
        .filter(|ns| !ns.is_empty())
        .unwrap_or(namespace);
    let name = str_at(object, &["metadata", "name"]).unwrap_or("");
    let Some(role) = annotation("role-arn").filter(|r| !r.is_empty()) else {
        return ServiceAccountReport {
            service_account: format!("{namespace}/{name}"),
            ..ServiceAccountReport::default()
        };
    };
    let role_arn = settings.compose_role_arn(role);
    // `trustValidation: off` is decided there, after the report names the role.
    let identity = Identity {
        namespace,
        name,
        role_arn: &role_arn,
        audience: annotation("audience").unwrap_or(&settings.token_audience),
    };
    review_identity(prepared, &identity)
}

/// The checks for `identity`, decided by `trustValidation`: under `enforce` checks 1–3
/// reject, otherwise every problem is a warning.
pub fn review_identity(prepared: &Prepared, identity: &Identity) -> ServiceAccountReport {
    let report = ServiceAccountReport {
        service_account: format!("{}/{}", identity.namespace, identity.name),
        role_arn: Some(identity.role_arn.to_string()),
        ..ServiceAccountReport::default()
    };
    let settings = prepared.settings();
    if settings.trust_validation == TrustValidation::Off {
        return report;
    }
    let problems = check(prepared, identity);
    let report = ServiceAccountReport {
        verdict: Some(problems.verdict),
        ..report
    };
    match settings.trust_validation {
        TrustValidation::Enforce if !problems.blocking.is_empty() => ServiceAccountReport {
            rejection: Some(problems.blocking.join("; ")),
            warnings: problems.lint,
            ..report
        },
        _ => ServiceAccountReport {
            warnings: problems.blocking.into_iter().chain(problems.lint).collect(),
            ..report
        },
    }
}

/// Trust problems of the role a Pod was given, as warnings, and the verdict.
pub fn pod_checks(prepared: &Prepared, identity: &Identity) -> PodReport {
    if prepared.settings().trust_validation == TrustValidation::Off {
        return PodReport::default();
    }
    let problems = check(prepared, identity);
    PodReport {
        warnings: problems.blocking.into_iter().chain(problems.lint).collect(),
        verdict: Some(problems.verdict),
    }
}

fn check(prepared: &Prepared, identity: &Identity) -> Problems {
    let settings = prepared.settings();
    let mut problems = Problems {
        blocking: Vec::new(),
        lint: Vec::new(),
        verdict: TrustVerdict::NoTrustPolicy,
    };
    let who = identity.label();
    let role = match RoleArn::parse(identity.role_arn) {
        Ok(role) => role,
        Err(e) => {
            problems.blocking.push(format!(
                "{who}: {}/role-arn is not a valid IAM role ARN: {e}",
                settings.annotation_prefix
            ));
            problems.verdict = TrustVerdict::InvalidRoleArn;
            return problems;
        }
    };
    if !settings.allowed_accounts.is_empty()
        && !settings
            .allowed_accounts
            .iter()
            .any(|a| a == role.account())
    {
        problems.blocking.push(format!(
            "{who}: role {} is in account {}, which is not in allowedAccounts ({})",
            role,
            role.account(),
            settings.allowed_accounts.join(", ")
        ));
        problems.verdict = TrustVerdict::AccountNotAllowed;
    }
    if let Some((key, patterns)) = settings.allowed_roles_for(identity.namespace)
        && !patterns
            .iter()
            .any(|p| Glob::new(p).is_match(role.as_str()))
    {
        let allowed = if patterns.is_empty() {
            "none".to_string()
        } else {
            patterns.join(", ")
        };
        problems.blocking.push(format!(
            "{who}: role {role} is not allowed in namespace {}: allowedRoles.{key:?} lists {allowed}",
            identity.namespace
        ));
        if problems.verdict == TrustVerdict::NoTrustPolicy {
            problems.verdict = TrustVerdict::RoleNotAllowed;
        }
    }
    let (Some(trust), Some(provider)) = (prepared.role_trust(&role), &settings.oidc_provider)
    else {
        return problems;
    };
    let subject = Subject {
        issuer: provider.provider_url.clone(),
        audience: identity.audience.to_string(),
        namespace: identity.namespace.to_string(),
        service_account: identity.name.to_string(),
    };
    let verdict = trust.policy().decide(&role, &subject);
    // The first failed check names the verdict.
    if problems.verdict == TrustVerdict::NoTrustPolicy {
        problems.verdict = if verdict.allowed {
            TrustVerdict::Trusted
        } else {
            TrustVerdict::NotTrusted
        };
    }
    if !verdict.allowed {
        let mut message = format!(
            "{who}: role {} does not trust system:serviceaccount:{}:{} with audience {}",
            role.name(),
            identity.namespace,
            identity.name,
            identity.audience
        );
        if !verdict.explanation.is_empty() {
            message.push_str(": ");
            message.push_str(&verdict.explanation.join("; "));
        }
        if let Some(fix) = suggested_policy(settings, identity) {
            message.push_str(&format!("; a trust policy that works: {fix}"));
        }
        problems.blocking.push(message);
    }
    for finding in trust.lint(&provider.provider_url) {
        let at = finding
            .statement
            .map(|s| format!(" statement {s}"))
            .unwrap_or_default();
        problems.lint.push(format!(
            "{who}: role {} trust policy{at}: {} ({}): {}",
            role.name(),
            finding.code,
            finding.severity.as_str(),
            finding.message
        ));
    }
    problems
}

/// The `trustPolicy` template filled for this ServiceAccount, as compact JSON.
fn suggested_policy(settings: &Settings, identity: &Identity) -> Option<String> {
    let template = match settings.trust_policy.as_ref()? {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let rendered = trust::render(&template, identity.namespace, identity.name).ok()?;
    let value: Value = serde_json::from_str(&rendered).ok()?;
    Some(value.to_string())
}
