//! ServiceAccount role and trust checks at admission (SPEC section 3).
//!
//! A ServiceAccount carrying `<prefix>/role-arn` is checked, in order:
//! 1. the role ARN is well-formed;
//! 2. its account is in `allowedAccounts` (when set);
//! 3. when `roleTrustPolicies` holds the role and `oidcProvider` is set, the role's trust
//!    policy lets `system:serviceaccount:<ns>:<sa>` with the ServiceAccount's audience assume
//!    it, decided as STS would;
//! 4. the trust policy's lint findings of severity high or critical.
//!
//! `trustValidation: enforce` rejects on 1–3 and warns on 4, `warn` admits with every
//! problem as a warning, `off` skips. Pods get the same checks for their ServiceAccount's
//! role, as warnings only: a Pod is never rejected for an IAM problem.
//!
//! Every message names the ServiceAccount and the role, and for a trust decision the
//! statement and condition that decided, plus the fix when a `trustPolicy` template is set.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::json::str_at;
use crate::mutation::Credentials;
use crate::settings::{Settings, TrustValidation};
use crate::trust::{self, Finding, RoleArn, Severity, Subject, TrustPolicy};

/// The result of checking a ServiceAccount's role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountReport {
    /// Set when `enforce` rejects the ServiceAccount.
    pub rejection: Option<String>,
    pub warnings: Vec<String>,
}

/// What the checks found, before the mode decides what each problem does.
#[derive(Debug, Default)]
struct Problems {
    /// Checks 1–3: the role cannot work for this ServiceAccount.
    blocking: Vec<String>,
    /// Check 4: the role works, but its trust policy is too open or fragile.
    lint: Vec<String>,
}

/// The ServiceAccount whose role is checked, and the audience its tokens carry.
struct Identity<'a> {
    namespace: &'a str,
    name: &'a str,
    role_arn: &'a str,
    audience: &'a str,
}

impl Identity<'_> {
    fn label(&self) -> String {
        format!("ServiceAccount {}/{}", self.namespace, self.name)
    }
}

/// Checks the role annotation of a ServiceAccount being created or updated.
pub fn review_service_account(
    settings: &Settings,
    namespace: &str,
    object: &Value,
) -> ServiceAccountReport {
    if settings.trust_validation == TrustValidation::Off {
        return ServiceAccountReport::default();
    }
    let annotation = |suffix: &str| {
        let key = format!("{}/{suffix}", settings.annotation_prefix);
        object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(&key))
            .and_then(Value::as_str)
    };
    let Some(role) = annotation("role-arn").filter(|r| !r.is_empty()) else {
        return ServiceAccountReport::default();
    };
    let role_arn = settings.compose_role_arn(role);
    let namespace = str_at(object, &["metadata", "namespace"])
        .filter(|ns| !ns.is_empty())
        .unwrap_or(namespace);
    let identity = Identity {
        namespace,
        name: str_at(object, &["metadata", "name"]).unwrap_or(""),
        role_arn: &role_arn,
        audience: annotation("audience").unwrap_or(&settings.token_audience),
    };
    let problems = check(settings, &identity);
    match settings.trust_validation {
        TrustValidation::Enforce if !problems.blocking.is_empty() => ServiceAccountReport {
            rejection: Some(problems.blocking.join("; ")),
            warnings: problems.lint,
        },
        _ => ServiceAccountReport {
            rejection: None,
            warnings: problems.blocking.into_iter().chain(problems.lint).collect(),
        },
    }
}

/// Trust problems of the role a Pod was given, as warnings.
pub fn pod_warnings(
    settings: &Settings,
    namespace: &str,
    credentials: &Credentials,
) -> Vec<String> {
    let Credentials::WebIdentity {
        service_account,
        role_arn,
        audience,
        ..
    } = credentials
    else {
        // Container credentials are served by the Pod Identity agent, not by a trust policy
        // on the cluster's OIDC provider.
        return Vec::new();
    };
    if settings.trust_validation == TrustValidation::Off {
        return Vec::new();
    }
    let identity = Identity {
        namespace,
        name: service_account,
        role_arn,
        audience,
    };
    let problems = check(settings, &identity);
    problems.blocking.into_iter().chain(problems.lint).collect()
}

fn check(settings: &Settings, identity: &Identity) -> Problems {
    let mut problems = Problems::default();
    let who = identity.label();
    let role = match RoleArn::parse(identity.role_arn) {
        Ok(role) => role,
        Err(e) => {
            problems.blocking.push(format!(
                "{who}: {}/role-arn is not a valid IAM role ARN: {e}",
                settings.annotation_prefix
            ));
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
    }
    let (Some(document), Some(provider)) = (
        settings.role_trust_policies.get(role.as_str()),
        &settings.oidc_provider,
    ) else {
        return problems;
    };
    let trust = settings.trust_cache.get(role.as_str(), || {
        RoleTrust::new(document, &role, &provider.provider_url)
    });
    let policy = match &trust.policy {
        Ok(policy) => policy,
        Err(e) => {
            // validate_settings refuses such settings; stay fail-closed if one slips through.
            problems.blocking.push(format!(
                "{who}: the trust policy of role {} in roleTrustPolicies cannot be read: {e}",
                role.name()
            ));
            return problems;
        }
    };
    let subject = Subject {
        issuer: provider.provider_url.clone(),
        audience: identity.audience.to_string(),
        namespace: identity.namespace.to_string(),
        service_account: identity.name.to_string(),
    };
    let verdict = policy.decide(&role, &subject);
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
    for finding in &trust.lint {
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

/// One role of `roleTrustPolicies`, parsed and linted for the settings' OIDC provider.
#[derive(Debug)]
pub(crate) struct RoleTrust {
    policy: Result<TrustPolicy, trust::TrustError>,
    /// The findings of severity high or critical (lint check 4).
    lint: Vec<Finding>,
}

impl RoleTrust {
    fn new(document: &Value, role: &RoleArn, issuer: &str) -> RoleTrust {
        match TrustPolicy::parse_value(document) {
            Ok((policy, _)) => {
                let lint = policy
                    .lint(Some(role), issuer)
                    .into_iter()
                    .filter(|f| f.severity >= Severity::High && f.severity != Severity::Error)
                    .collect();
                RoleTrust {
                    policy: Ok(policy),
                    lint,
                }
            }
            Err(e) => RoleTrust {
                policy: Err(e),
                lint: Vec::new(),
            },
        }
    }
}

/// The roles of `roleTrustPolicies` parsed and linted on first use, kept with the settings:
/// settings serve many requests, and parsing and linting a trust policy costs more than the
/// Pod mutation itself. Everything in an entry is derived from the settings alone.
#[derive(Debug, Default)]
pub struct TrustCache(Mutex<BTreeMap<String, Arc<RoleTrust>>>);

impl TrustCache {
    fn get(&self, role: &str, make: impl FnOnce() -> RoleTrust) -> Arc<RoleTrust> {
        let Ok(mut roles) = self.0.lock() else {
            // Poisoned by a panic elsewhere: compute without the cache.
            return Arc::new(make());
        };
        Arc::clone(
            roles
                .entry(role.to_string())
                .or_insert_with(|| Arc::new(make())),
        )
    }
}

/// A copy of settings starts with an empty cache.
impl Clone for TrustCache {
    fn clone(&self) -> TrustCache {
        TrustCache::default()
    }
}

/// A cache never makes settings differ.
impl PartialEq for TrustCache {
    fn eq(&self, _: &TrustCache) -> bool {
        true
    }
}
