//! Policy settings: the `settings` object of the ClusterAdmissionPolicy.
//!
//! Every key is optional and `{}` is valid; the defaults are those of Amazon's pod identity
//! webhook flags. Unknown keys are refused, because a typo (`tokenExpiraton`) must not
//! silently switch a feature off. [`Settings::parse`] turns JSON into settings (type errors
//! name the key), [`Settings::validate`] checks the values and names every bad key with what
//! is accepted. The settings are plain data: what admission derives from them (parsed trust
//! policies) lives in `admission::Prepared`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use awi_trust::OidcProvider;
use awi_trust::arn::{PARTITIONS, is_account_id};
use awi_trust::json::type_name;
use awi_trust::k8s::{MAX_TOKEN_EXPIRATION, MIN_TOKEN_EXPIRATION, is_dns_label, is_dns_subdomain};
use awi_trust::{self as trust, Finding, RoleArn, Severity, TrustError, TrustPolicy};

/// Default `annotationPrefix`.
pub const DEFAULT_ANNOTATION_PREFIX: &str = "eks.amazonaws.com";
/// Default `tokenAudience`: the STS audience.
pub const DEFAULT_TOKEN_AUDIENCE: &str = awi_trust::STS_AUDIENCE;
/// Default `tokenMountPath`.
pub const DEFAULT_TOKEN_MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
/// Default `tokenExpiration` in seconds (one day).
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 86400;

/// Default `containerCredentials.audience`.
pub const DEFAULT_CC_AUDIENCE: &str = "pods.eks.amazonaws.com";
/// Default `containerCredentials.mountPath`.
pub const DEFAULT_CC_MOUNT_PATH: &str = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount";
/// Default `containerCredentials.volumeName`.
pub const DEFAULT_CC_VOLUME_NAME: &str = "eks-pod-identity-token";
/// Default `containerCredentials.tokenPath`.
pub const DEFAULT_CC_TOKEN_PATH: &str = "eks-pod-identity-token";
/// Default `containerCredentials.fullUri`: the EKS Pod Identity agent.
pub const DEFAULT_CC_FULL_URI: &str = "http://169.254.170.23/v1/credentials";

/// All settings of the policy. Field docs name the reference webhook flag they replace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Prefix of every ServiceAccount and Pod annotation (`--annotation-prefix`).
    pub annotation_prefix: String,
    /// Default token audience (`--token-audience`).
    pub token_audience: String,
    /// Where the web-identity token volume is mounted (`--token-mount-path`).
    pub token_mount_path: String,
    /// Default projected token lifetime in seconds (`--token-expiration`).
    pub token_expiration: i64,
    /// Injected as `AWS_DEFAULT_REGION` and `AWS_REGION` (`--aws-default-region`).
    pub region: Option<String>,
    /// Default for `AWS_STS_REGIONAL_ENDPOINTS=regional` (`--sts-regional-endpoint`).
    pub sts_regional_endpoints: bool,
    /// `"<namespace>/<serviceaccount>"` (namespace may be `*`) to a role: the reference's
    /// ConfigMap mode, used when the ServiceAccount has no role annotation.
    pub service_account_roles: BTreeMap<String, ServiceAccountRole>,
    /// Turns bare role names in the role annotation into full ARNs (`--compose-role-arn`).
    pub compose_role_arn: Option<ComposeRoleArn>,
    /// EKS Pod Identity mode for the listed ServiceAccounts.
    pub container_credentials: Option<ContainerCredentials>,
    /// Inject `AWS_ROLE_SESSION_NAME` derived from the Pod.
    pub role_session_name: bool,
    /// The cluster's OIDC provider, as Control Plane publishes it.
    pub oidc_provider: Option<OidcProvider>,
    /// Trust-policy template with `<NAMESPACE>`/`<SERVICE_ACCOUNT>` placeholders (a JSON
    /// object, or a string holding one).
    pub trust_policy: Option<Value>,
    /// Role ARN to that role's trust policy document.
    pub role_trust_policies: BTreeMap<String, Value>,
    /// When non-empty, role ARNs must be in one of these AWS accounts.
    pub allowed_accounts: Vec<String>,
    /// What trust problems do at admission.
    pub trust_validation: TrustValidation,
    /// Namespace (or `*`) to the role ARN patterns (IAM `*` and `?`) its ServiceAccounts may
    /// name; a namespace without an entry, when there is no `*` entry, may name any role.
    pub allowed_roles: BTreeMap<String, Vec<String>>,
    /// Never mutate: Pods are checked for credentials their ServiceAccount no longer names
    /// instead. Set on a policy with `mutating: false` (Kubewarden refuses a mutation from
    /// it), such as the one the audit scanner runs on stored Pods.
    pub validate_only: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            annotation_prefix: DEFAULT_ANNOTATION_PREFIX.to_string(),
            token_audience: DEFAULT_TOKEN_AUDIENCE.to_string(),
            token_mount_path: DEFAULT_TOKEN_MOUNT_PATH.to_string(),
            token_expiration: DEFAULT_TOKEN_EXPIRATION,
            region: None,
            sts_regional_endpoints: false,
            service_account_roles: BTreeMap::new(),
            compose_role_arn: None,
            container_credentials: None,
            role_session_name: false,
            oidc_provider: None,
            trust_policy: None,
            role_trust_policies: BTreeMap::new(),
            allowed_accounts: Vec::new(),
            trust_validation: TrustValidation::Warn,
            allowed_roles: BTreeMap::new(),
            validate_only: false,
        }
    }
}

/// One entry of `serviceAccountRoles`. Omitted fields take the top-level settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountRole {
    /// The role (an ARN, or a role name with `composeRoleArn`).
    pub role_arn: String,
    /// Overrides `tokenAudience`.
    #[serde(default)]
    pub audience: Option<String>,
    /// Overrides `stsRegionalEndpoints`.
    #[serde(default)]
    pub sts_regional_endpoints: Option<bool>,
    /// Overrides `tokenExpiration`.
    #[serde(default)]
    pub token_expiration: Option<i64>,
}

/// `composeRoleArn`: the account and partition that bare role names live in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComposeRoleArn {
    /// The 12-digit account of bare role names.
    pub account_id: String,
    /// Their partition; `aws` when omitted.
    #[serde(default = "default_partition")]
    pub partition: String,
}

fn default_partition() -> String {
    "aws".to_string()
}

/// `containerCredentials`: EKS Pod Identity mode, with the reference webhook's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ContainerCredentials {
    /// The ServiceAccounts served in this mode.
    pub identities: Vec<ContainerIdentity>,
    /// Audience of the projected token.
    pub audience: String,
    /// Where the token volume is mounted.
    pub mount_path: String,
    /// Name of the token volume.
    pub volume_name: String,
    /// File name of the token in the volume.
    pub token_path: String,
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub full_uri: String,
}

impl Default for ContainerCredentials {
    fn default() -> Self {
        ContainerCredentials {
            identities: Vec::new(),
            audience: DEFAULT_CC_AUDIENCE.to_string(),
            mount_path: DEFAULT_CC_MOUNT_PATH.to_string(),
            volume_name: DEFAULT_CC_VOLUME_NAME.to_string(),
            token_path: DEFAULT_CC_TOKEN_PATH.to_string(),
            full_uri: DEFAULT_CC_FULL_URI.to_string(),
        }
    }
}

impl ContainerCredentials {
    /// Whether the ServiceAccount `namespace/name` is served in container-credentials mode.
    pub fn covers(&self, namespace: &str, service_account: &str) -> bool {
        self.identities
            .iter()
            .any(|i| i.namespace == namespace && i.service_account == service_account)
    }
}

/// A ServiceAccount served in container-credentials mode (exact match, no wildcards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerIdentity {
    /// The ServiceAccount's namespace.
    pub namespace: String,
    /// The ServiceAccount's name.
    pub service_account: String,
}

/// What trust problems do at admission (README, "ServiceAccount and trust validation").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TrustValidation {
    /// No ServiceAccount or trust checks.
    Off,
    /// Admit, and return every problem as an admission warning.
    #[default]
    Warn,
    /// Reject ServiceAccounts whose role is malformed, in a foreign account or not trusted.
    Enforce,
}

/// The `roleTrustPolicies` documents parsed, by their key (the role ARN).
pub type RolePolicies = BTreeMap<String, Result<(TrustPolicy, Vec<Finding>), TrustError>>;

/// Settings that could not be read or are not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Not JSON, a wrong type or an unknown key.
    #[error("settings: {0}")]
    Malformed(String),
    /// Values that parse but are not accepted; one message per problem.
    #[error("invalid settings: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl Settings {
    /// Reads settings from JSON. `null` and `{}` give the defaults. Errors name the key path.
    pub fn parse(json: &str) -> Result<Settings, SettingsError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| SettingsError::Malformed(format!("not valid JSON: {e}")))?;
        Settings::from_value(value)
    }

    /// Reads settings from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Settings, SettingsError> {
        match value {
            Value::Null => Ok(Settings::default()),
            Value::Object(_) => serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                if path == "." {
                    SettingsError::Malformed(inner)
                } else {
                    SettingsError::Malformed(format!("{path}: {inner}"))
                }
            }),
            other => Err(SettingsError::Malformed(format!(
                "expected an object, got {}",
                type_name(&other)
            ))),
        }
    }

    /// Parses and validates in one step.
    pub fn parse_valid(json: &str) -> Result<Settings, SettingsError> {
        let settings = Settings::parse(json)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value; the error lists each problem with the key and what is accepted.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.validate_given(&self.parse_role_trust_policies())
    }

    /// [`Settings::validate`] with the `roleTrustPolicies` documents already parsed, so that
    /// the caller can keep them (see `admission::Prepared`).
    pub fn validate_given(&self, role_policies: &RolePolicies) -> Result<(), SettingsError> {
        let problems = self.problems_given(role_policies);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }

    /// Every `roleTrustPolicies` document parsed, by its key.
    pub fn parse_role_trust_policies(&self) -> RolePolicies {
        self.role_trust_policies
            .iter()
            .map(|(arn, document)| (arn.clone(), TrustPolicy::parse_value(document)))
            .collect()
    }

    /// Every problem, as messages naming the key and what is accepted.
    pub fn problems(&self) -> Vec<String> {
        self.problems_given(&self.parse_role_trust_policies())
    }

    fn problems_given(&self, role_policies: &RolePolicies) -> Vec<String> {
        let mut p = Vec::new();
        if !is_dns_subdomain(&self.annotation_prefix) {
            p.push(format!(
                "annotationPrefix: {:?} is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
                self.annotation_prefix
            ));
        }
        if self.token_audience.is_empty() {
            p.push("tokenAudience: must not be empty".to_string());
        }
        check_mount_path("tokenMountPath", &self.token_mount_path, &mut p);
        check_expiration("tokenExpiration", self.token_expiration, &mut p);
        if let Some(region) = &self.region
            && !is_region(region)
        {
            p.push(format!(
                "region: {region:?} is not a region name (letters, digits and '-', e.g. us-east-1)"
            ));
        }
        for (key, role) in &self.service_account_roles {
            let at = format!("serviceAccountRoles.{key:?}");
            match key.split_once('/') {
                Some((ns, sa)) if (ns == "*" || is_dns_label(ns)) && is_dns_subdomain(sa) => {}
                _ => p.push(format!(
                    "{at}: key must be \"<namespace>/<serviceaccount>\" (namespace may be \"*\")"
                )),
            }
            if role.role_arn.trim().is_empty() {
                p.push(format!("{at}.roleArn: must not be empty"));
            }
            if let Some(aud) = &role.audience
                && aud.is_empty()
            {
                p.push(format!("{at}.audience: must not be empty"));
            }
            if let Some(exp) = role.token_expiration {
                check_expiration(&format!("{at}.tokenExpiration"), exp, &mut p);
            }
        }
        if let Some(compose) = &self.compose_role_arn {
            if !is_account_id(&compose.account_id) {
                p.push(format!(
                    "composeRoleArn.accountId: {:?} is not a 12-digit AWS account ID",
                    compose.account_id
                ));
            }
            if !PARTITIONS.contains(&compose.partition.as_str()) {
                p.push(format!(
                    "composeRoleArn.partition: {:?} is not one of {}",
                    compose.partition,
                    PARTITIONS.join(", ")
                ));
            }
        }
        if let Some(cc) = &self.container_credentials {
            if cc.identities.is_empty() {
                p.push("containerCredentials.identities: must list at least one {namespace, serviceAccount}".to_string());
            }
            for (i, id) in cc.identities.iter().enumerate() {
                if !is_dns_label(&id.namespace) {
                    p.push(format!(
                        "containerCredentials.identities[{i}].namespace: {:?} is not a namespace name",
                        id.namespace
                    ));
                }
                if !is_dns_subdomain(&id.service_account) {
                    p.push(format!(
                        "containerCredentials.identities[{i}].serviceAccount: {:?} is not a ServiceAccount name",
                        id.service_account
                    ));
                }
            }
            if cc.audience.is_empty() {
                p.push("containerCredentials.audience: must not be empty".to_string());
            }
            check_mount_path("containerCredentials.mountPath", &cc.mount_path, &mut p);
            if !is_dns_label(&cc.volume_name) {
                p.push(format!(
                    "containerCredentials.volumeName: {:?} is not a volume name (DNS label)",
                    cc.volume_name
                ));
            }
            if cc.token_path.is_empty() || cc.token_path.starts_with('/') {
                p.push(format!(
                    "containerCredentials.tokenPath: {:?} must be a relative file name",
                    cc.token_path
                ));
            }
            // Any text, like the reference's flag, but never one that could break the env value.
            if cc.full_uri.is_empty()
                || cc
                    .full_uri
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            {
                p.push(format!(
                    "containerCredentials.fullUri: {:?} must be a non-empty URL without spaces",
                    cc.full_uri
                ));
            }
        }
        self.trust_problems(role_policies, &mut p);
        self.allowed_roles_problems(&mut p);
        for (i, account) in self.allowed_accounts.iter().enumerate() {
            if !is_account_id(account) {
                p.push(format!(
                    "allowedAccounts[{i}]: {account:?} is not a 12-digit AWS account ID"
                ));
            }
        }
        p
    }

    /// Problems of the trust keys: the provider URL, the role ARNs and their documents, the
    /// template's placeholders.
    fn trust_problems(&self, role_policies: &RolePolicies, p: &mut Vec<String>) {
        if let Some(provider) = &self.oidc_provider {
            if let Err(problem) = check_provider_url(&provider.provider_url) {
                p.push(format!(
                    "oidcProvider.providerUrl: {:?} {problem}",
                    provider.provider_url
                ));
            }
            if provider.audience.is_empty() {
                p.push("oidcProvider.audience: must not be empty".to_string());
            }
        }
        for (arn, parsed) in role_policies {
            let at = format!("roleTrustPolicies.{arn:?}");
            if let Err(e) = RoleArn::parse(arn) {
                p.push(format!("{at}: key is not a valid IAM role ARN: {e}"));
            }
            match parsed {
                Ok((_, findings)) => {
                    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
                        p.push(format!("{at}: {}", describe_finding(f)));
                    }
                }
                Err(e) => p.push(format!("{at}: not a trust policy document: {e}")),
            }
        }
        if let Some(template) = &self.trust_policy {
            let text = match template {
                Value::String(text) => text.clone(),
                Value::Object(_) => template.to_string(),
                other => {
                    p.push(format!(
                        "trustPolicy: expected a trust policy object or a string holding one, got {}",
                        type_name(other)
                    ));
                    return;
                }
            };
            let missing: Vec<&str> = ["<NAMESPACE>", "<SERVICE_ACCOUNT>"]
                .into_iter()
                .filter(|placeholder| !text.contains(placeholder))
                .collect();
            if !missing.is_empty() {
                p.push(format!(
                    "trustPolicy: the template must contain the placeholders <NAMESPACE> and <SERVICE_ACCOUNT>; missing {}",
                    missing.join(" and ")
                ));
                return;
            }
            match trust::render(&text, "namespace", "serviceaccount")
                .map_err(|e| e.to_string())
                .and_then(|rendered| TrustPolicy::parse(&rendered).map_err(|e| e.to_string()))
            {
                Ok((_, findings)) => {
                    for f in findings.iter().filter(|f| f.severity == Severity::Error) {
                        p.push(format!("trustPolicy: {}", describe_finding(f)));
                    }
                }
                Err(e) => p.push(format!("trustPolicy: not a trust policy template: {e}")),
            }
        }
    }

    /// Problems of `allowedRoles`: keys that are neither a namespace name nor `*`, and
    /// patterns that are not role ARN patterns.
    fn allowed_roles_problems(&self, p: &mut Vec<String>) {
        for (namespace, patterns) in &self.allowed_roles {
            let at = format!("allowedRoles.{namespace:?}");
            if namespace != "*" && !is_dns_label(namespace) {
                p.push(format!("{at}: key must be a namespace name or \"*\""));
            }
            for (i, pattern) in patterns.iter().enumerate() {
                if let Err(problem) = check_role_pattern(pattern) {
                    p.push(format!(
                        "{at}[{i}]: {pattern:?} is not a role ARN pattern ({problem}); expected arn:<partition>:iam::<account>:role/<name>, where * and ? are wildcards"
                    ));
                }
            }
        }
    }

    /// The `allowedRoles` entry that restricts `namespace`: its own, else `*`; `None` when
    /// the namespace may name any role.
    pub fn allowed_roles_for(&self, namespace: &str) -> Option<(&str, &[String])> {
        self.allowed_roles
            .get_key_value(namespace)
            .or_else(|| self.allowed_roles.get_key_value("*"))
            .map(|(key, patterns)| (key.as_str(), patterns.as_slice()))
    }

    /// The role ARN a `<prefix>/role-arn` annotation value names: with `composeRoleArn`, a
    /// value without `arn:` is a role name in the configured account and partition.
    pub fn compose_role_arn(&self, value: &str) -> String {
        match &self.compose_role_arn {
            Some(compose) if !value.contains("arn:") => format!(
                "arn:{}:iam::{}:role/{}",
                compose.partition, compose.account_id, value
            ),
            _ => value.to_string(),
        }
    }

    /// The role entry of `serviceAccountRoles` for a ServiceAccount: exact `ns/sa` first,
    /// then `*/sa`.
    pub fn service_account_role(&self, namespace: &str, name: &str) -> Option<&ServiceAccountRole> {
        self.service_account_roles
            .get(&format!("{namespace}/{name}"))
            .or_else(|| self.service_account_roles.get(&format!("*/{name}")))
    }
}

/// "statement 2: MISSING_EFFECT (error): ..." for settings messages.
pub(crate) fn describe_finding(finding: &Finding) -> String {
    let at = finding
        .statement
        .map(|s| format!("statement {s}: "))
        .unwrap_or_default();
    format!(
        "{at}{} ({}): {}",
        finding.code,
        finding.severity.as_str(),
        finding.message
    )
}

/// IAM OIDC providers are https URLs with a host, an optional path, no query or fragment.
fn check_provider_url(url: &str) -> Result<(), &'static str> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("must start with https:// (IAM OIDC providers are https only)");
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host");
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment");
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace");
    }
    Ok(())
}

/// A role ARN pattern of `allowedRoles`: the six ARN fields, the service `iam`, no region,
/// a resource `role/...`; the partition and account may be wildcards, and when they are
/// not they must be a partition and a 12-digit account.
fn check_role_pattern(pattern: &str) -> Result<(), String> {
    if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains whitespace".to_string());
    }
    let fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = fields[..] else {
        return Err("it does not have the six fields of an ARN".to_string());
    };
    let wild = |field: &str| field.contains(['*', '?']);
    if arn != "arn" {
        return Err("it does not start with arn:".to_string());
    }
    if !wild(partition) && !PARTITIONS.contains(&partition) {
        return Err(format!(
            "partition {partition:?} is not one of {}",
            PARTITIONS.join(", ")
        ));
    }
    if service != "iam" || !region.is_empty() {
        return Err("an IAM role ARN has the service iam and an empty region".to_string());
    }
    if !wild(account) && !is_account_id(account) {
        return Err(format!("account {account:?} is not 12 digits"));
    }
    match resource.strip_prefix("role/") {
        Some(name) if !name.is_empty() => Ok(()),
        _ => Err(format!("resource {resource:?} is not role/<name>")),
    }
}

fn check_expiration(key: &str, seconds: i64, problems: &mut Vec<String>) {
    if seconds < MIN_TOKEN_EXPIRATION {
        problems.push(format!(
            "{key}: {seconds} is below the minimum of {MIN_TOKEN_EXPIRATION} seconds"
        ));
    } else if seconds > MAX_TOKEN_EXPIRATION {
        problems.push(format!(
            "{key}: {seconds} is above the maximum of {MAX_TOKEN_EXPIRATION} seconds (2^32)"
        ));
    }
}

fn check_mount_path(key: &str, path: &str, problems: &mut Vec<String>) {
    if !path.starts_with('/') || path.chars().any(|c| c.is_control()) {
        problems.push(format!("{key}: {path:?} must be an absolute path"));
    }
}

fn is_region(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_and_null_give_defaults() {
        assert_eq!(Settings::parse("{}").unwrap(), Settings::default());
        assert_eq!(Settings::parse("null").unwrap(), Settings::default());
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn unknown_key_is_refused_and_named() {
        let err = Settings::parse(r#"{"tokenExpiraton": 3600}"#).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown field `tokenExpiraton`"), "{msg}");
        assert!(msg.contains("tokenExpiration"), "{msg}");
    }

    #[test]
    fn nested_unknown_key_names_its_path() {
        let err =
            Settings::parse(r#"{"containerCredentials": {"identities": [], "audiance": "x"}}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("containerCredentials"), "{err}");
        assert!(err.contains("audiance"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = Settings::parse(r#"{"tokenExpiration": "soon"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("settings: tokenExpiration: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn not_an_object_is_refused() {
        let err = Settings::parse("[1]").unwrap_err().to_string();
        assert_eq!(err, "settings: expected an object, got an array");
        let err = Settings::parse("{").unwrap_err().to_string();
        assert!(err.starts_with("settings: not valid JSON"), "{err}");
    }

    #[test]
    fn expiration_below_minimum_is_named() {
        let err = Settings::parse_valid(r#"{"tokenExpiration": 300}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid settings: tokenExpiration: 300 is below the minimum of 600 seconds"
        );
    }

    #[test]
    fn expiration_above_maximum_is_named() {
        let err = Settings::parse_valid(r#"{"tokenExpiration": 4294967297}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("above the maximum"), "{err}");
    }

    #[test]
    fn every_problem_is_listed() {
        let s = Settings::parse(
            r#"{"annotationPrefix": "Bad Prefix", "tokenAudience": "", "tokenMountPath": "relative",
                "region": "us east", "allowedAccounts": ["123"],
                "composeRoleArn": {"accountId": "1", "partition": "aws-moon"},
                "serviceAccountRoles": {"nosep": {"roleArn": ""}},
                "containerCredentials": {"identities": [{"namespace": "A", "serviceAccount": "b"}],
                    "volumeName": "Bad", "tokenPath": "/abs", "fullUri": "http://a b"}}"#,
        )
        .unwrap();
        let problems = s.problems();
        for key in [
            "annotationPrefix",
            "tokenAudience",
            "tokenMountPath",
            "region",
            "allowedAccounts[0]",
            "composeRoleArn.accountId",
            "composeRoleArn.partition",
            "serviceAccountRoles.\"nosep\": key",
            "serviceAccountRoles.\"nosep\".roleArn",
            "containerCredentials.identities[0].namespace",
            "containerCredentials.volumeName",
            "containerCredentials.tokenPath",
            "containerCredentials.fullUri",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "no problem for {key}: {problems:#?}"
            );
        }
        assert_eq!(problems.len(), 13, "{problems:#?}");
    }

    #[test]
    fn trust_validation_values() {
        for (text, want) in [
            ("off", TrustValidation::Off),
            ("warn", TrustValidation::Warn),
            ("enforce", TrustValidation::Enforce),
        ] {
            let s = Settings::parse(&format!(r#"{{"trustValidation": "{text}"}}"#)).unwrap();
            assert_eq!(s.trust_validation, want);
        }
        let err = Settings::parse(r#"{"trustValidation": "strict"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trustValidation"), "{err}");
        assert!(err.contains("`off`, `warn`, `enforce`"), "{err}");
    }

    #[test]
    fn container_credentials_defaults_match_the_reference() {
        let s = Settings::parse(
            r#"{"containerCredentials": {"identities": [{"namespace": "default", "serviceAccount": "default"}]}}"#,
        )
        .unwrap();
        let cc = s.container_credentials.unwrap();
        assert_eq!(cc.audience, "pods.eks.amazonaws.com");
        assert_eq!(cc.full_uri, "http://169.254.170.23/v1/credentials");
        assert!(cc.covers("default", "default"));
        assert!(!cc.covers("default", "other"));
    }

    #[test]
    fn service_account_role_prefers_exact_namespace() {
        let s = Settings::parse(
            r#"{"serviceAccountRoles": {"*/api": {"roleArn": "any"}, "payments/api": {"roleArn": "exact"}}}"#,
        )
        .unwrap();
        assert_eq!(
            s.service_account_role("payments", "api").unwrap().role_arn,
            "exact"
        );
        assert_eq!(
            s.service_account_role("other", "api").unwrap().role_arn,
            "any"
        );
        assert!(s.service_account_role("other", "web").is_none());
    }

    #[test]
    fn allowed_roles_own_entry_then_star() {
        let s = Settings::parse(
            r#"{"allowedRoles": {"*": ["arn:aws:iam::*:role/shared-*"], "team-a": ["arn:aws:iam::111122223333:role/team-a-*"]}}"#,
        )
        .unwrap();
        assert!(s.validate().is_ok(), "{:?}", s.problems());
        assert_eq!(s.allowed_roles_for("team-a").unwrap().0, "team-a");
        assert_eq!(s.allowed_roles_for("team-b").unwrap().0, "*");
        let only_a = Settings::parse(r#"{"allowedRoles": {"team-a": []}}"#).unwrap();
        assert!(only_a.allowed_roles_for("team-b").is_none());
        assert_eq!(
            only_a.allowed_roles_for("team-a").unwrap().1,
            [] as [String; 0]
        );
    }

    #[test]
    fn role_patterns_accept_wildcards_in_every_field_that_may_vary() {
        for ok in [
            "arn:aws:iam::111122223333:role/team-a-*",
            "arn:*:iam::*:role/*",
            "arn:aws-cn:iam::11112222333?:role/ops/deploy-?",
        ] {
            assert_eq!(check_role_pattern(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("*", "six fields"),
            ("team-a-*", "six fields"),
            ("arn:aws:iam::111122223333:role/", "not role/<name>"),
            ("arn:aws:s3::111122223333:role/x", "service iam"),
            ("arn:aws:iam:eu-west-1:111122223333:role/x", "service iam"),
            ("arn:aws-moon:iam::111122223333:role/x", "partition"),
            ("arn:aws:iam::111122223333:role/a b", "whitespace"),
            ("urn:aws:iam::111122223333:role/x", "arn:"),
        ] {
            let err = check_role_pattern(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
