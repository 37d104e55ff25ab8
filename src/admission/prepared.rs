//! Settings prepared for admission: validated once, each role's trust policy parsed once.
//!
//! A host sends the same settings with every request, and parsing and linting a trust
//! policy costs more than the Pod mutation itself. So a settings text is turned into a
//! [`Prepared`] once: the validation parses every `roleTrustPolicies` document, the parsed
//! policies are kept, and each role's lint findings are computed on the role's first use.
//! Everything in a `Prepared` is derived from the settings alone.
//!
//! [`SettingsCache`] is the one cache of both ABIs (waPC `validate` and `validate_settings`,
//! WIT `needs`, `review` and `validate-settings`): the same settings text is accepted or
//! refused alike by every entry.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use awi_trust::{Finding, RoleArn, Severity, TrustPolicy};

use crate::settings::{Settings, SettingsError, describe_finding};

/// Valid settings and the parsed trust policy of each role in `roleTrustPolicies`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    settings: Settings,
    /// By the settings key, which is the role ARN.
    roles: BTreeMap<String, RoleTrust>,
}

/// One role of `roleTrustPolicies`: its ARN, its trust policy, and the findings of high or
/// critical severity for the settings' OIDC provider (computed on first use).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleTrust {
    role: RoleArn,
    policy: TrustPolicy,
    lint: OnceLock<Vec<Finding>>,
}

impl RoleTrust {
    /// The role the trust policy belongs to.
    pub fn role(&self) -> &RoleArn {
        &self.role
    }

    /// The parsed trust policy.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// The lint findings of severity high or critical for the cluster `issuer` (the
    /// settings' `oidcProvider`, the same for every call on one `Prepared`).
    pub fn lint(&self, issuer: &str) -> &[Finding] {
        self.lint.get_or_init(|| {
            self.policy
                .lint(Some(&self.role), issuer)
                .into_iter()
                .filter(|f| matches!(f.severity, Severity::Critical | Severity::High))
                .collect()
        })
    }
}

/// The default settings, which are valid and configure no role.
impl Default for Prepared {
    fn default() -> Prepared {
        Prepared {
            settings: Settings::default(),
            roles: BTreeMap::new(),
        }
    }
}

impl Prepared {
    /// Validates `settings`; every trust policy is parsed once, for the validation and for
    /// admission.
    pub fn new(settings: Settings) -> Result<Prepared, SettingsError> {
        let parsed = settings.parse_role_trust_policies();
        settings.validate_given(&parsed)?;
        let roles = parsed
            .into_iter()
            .filter_map(|(arn, policy)| {
                // Validation refused every key that is no role ARN and every document that
                // cannot be read, so nothing is dropped here.
                let role = RoleArn::parse(&arn).ok()?;
                let (policy, _) = policy.ok()?;
                let entry = RoleTrust {
                    role,
                    policy,
                    lint: OnceLock::new(),
                };
                Some((arn, entry))
            })
            .collect();
        Ok(Prepared { settings, roles })
    }

    /// Reads and validates settings JSON (`null`: the defaults).
    pub fn parse(json: &str) -> Result<Prepared, SettingsError> {
        Prepared::new(Settings::parse(json)?)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The trust policy configured for `role`, if `roleTrustPolicies` holds it.
    pub fn role_trust(&self, role: &RoleArn) -> Option<&RoleTrust> {
        self.roles.get(role.as_str())
    }

    /// Lint findings of high or critical severity in the configured trust policies: valid
    /// settings, but worth seeing when the policy is deployed. Empty without `oidcProvider`.
    pub fn deploy_warnings(&self) -> Vec<String> {
        let Some(provider) = &self.settings.oidc_provider else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        for (arn, trust) in &self.roles {
            for f in trust.lint(&provider.provider_url) {
                warnings.push(format!(
                    "roleTrustPolicies.{arn:?}: {}",
                    describe_finding(f)
                ));
            }
        }
        warnings
    }
}

/// The settings of the last call, by their JSON text: prepared, or why they were refused.
///
/// The text is compared as is, so settings that differ only in member order are prepared
/// apart (the order shows in the trust policy a warning proposes).
#[derive(Debug, Default)]
pub struct SettingsCache {
    last: Option<(String, Result<Arc<Prepared>, SettingsError>)>,
}

impl SettingsCache {
    /// An empty cache.
    pub fn new() -> SettingsCache {
        SettingsCache::default()
    }

    /// The prepared settings of `json`, prepared once per distinct settings text.
    pub fn get(&mut self, json: &str) -> Result<Arc<Prepared>, SettingsError> {
        match &self.last {
            Some((text, prepared)) if text == json => prepared.clone(),
            _ => {
                let prepared = Prepared::parse(json).map(Arc::new);
                self.last = Some((json.to_string(), prepared.clone()));
                prepared
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keeps_one_prepared_value_per_text() {
        let mut cache = SettingsCache::new();
        let first = cache.get("{}").unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get("{}").unwrap()));
        let other = cache.get(r#"{"region": "eu-west-1"}"#).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        let refused = cache.get(r#"{"tokenExpiration": 300}"#).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "invalid settings: tokenExpiration: 300 is below the minimum of 600 seconds"
        );
    }
}
