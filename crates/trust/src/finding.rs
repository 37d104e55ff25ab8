//! Findings: one problem of a trust policy, with the code and severity of the lint
//! catalogue.
//!
//! The codes are the enum [`Code`]: callers (the admission layer, the `awi` tool, the WIT
//! glue) match on them, every code's severity is fixed by [`Code::severity`], and a finding
//! can neither carry a code outside the catalogue nor a severity that disagrees with it.

use std::cmp::Ordering;
use std::fmt;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a finding is. `Error` means the document or an input is invalid (fail closed).
///
/// Ordered by gravity: `Error > Critical > High > Medium > Low > Info`, so
/// `finding.severity >= Severity::High` reads "high or worse".
///
/// ```
/// use awi_trust::Severity;
/// assert!(Severity::Error > Severity::Critical);
/// assert!(Severity::Medium >= Severity::Low);
/// assert_eq!(Severity::High.as_str(), "high");
/// assert_eq!(serde_json::to_string(&Severity::Critical).unwrap(), "\"critical\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Invalid document or input: fail closed.
    Error,
    /// Lint: the role is open to every ServiceAccount of the cluster or to any AWS principal.
    Critical,
    /// Lint: likely admits more than intended, or is silently open.
    High,
    /// Lint: a likely mistake; the policy may never match or be wider than meant.
    Medium,
    /// Lint: broader than needed, or hygiene (Version, Sid, size).
    Low,
    /// Lint: worth knowing, not a problem by itself.
    Info,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 6] = [
        Severity::Error,
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name used in JSON and in the WIT `severity` enum.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Whether this is `high` or worse (`error` and `critical` included).
    pub fn is_high_or_above(self) -> bool {
        self >= Severity::High
    }

    fn rank(self) -> u8 {
        match self {
            Severity::Error => 5,
            Severity::Critical => 4,
            Severity::High => 3,
            Severity::Medium => 2,
            Severity::Low => 1,
            Severity::Info => 0,
        }
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The finding codes of the catalogue, spelled as
/// `SCREAMING_SNAKE_CASE` ([`Code::as_str`], and so in JSON). Each code's severity is fixed
/// by [`Code::severity`], an exhaustive match: a code outside the catalogue cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// `INVALID_JSON` (error): not parseable, or not a JSON object.
    InvalidJson,
    /// `MISSING_STATEMENT` (error): no statements, so nothing can allow.
    MissingStatement,
    /// `MISSING_EFFECT` (error): a statement without `Effect`.
    MissingEffect,
    /// `INVALID_EFFECT` (error): `Effect` other than `Allow` or `Deny`.
    InvalidEffect,
    /// `MISSING_PRINCIPAL` (error): trust policies require `Principal`.
    MissingPrincipal,
    /// `NOTPRINCIPAL_NOT_SUPPORTED` (error): `NotPrincipal` is unsupported in role trust policies.
    NotprincipalNotSupported,
    /// `WILDCARD_PRINCIPAL_NOT_SUPPORTED` (error): bare `"Principal": "*"` is rejected.
    WildcardPrincipalNotSupported,
    /// `PRINCIPAL_PARTIAL_WILDCARD` (error): wildcards cannot match part of a principal.
    PrincipalPartialWildcard,
    /// `INVALID_PRINCIPAL_ARN` (error): bad partition, non-12-digit account or bad provider ARN.
    InvalidPrincipalArn,
    /// `RESOURCE_NOT_SUPPORTED` (error): `Resource`/`NotResource` are prohibited in trust policies.
    ResourceNotSupported,
    /// `MISSING_ACTION` (error): `Action` or `NotAction` is required.
    MissingAction,
    /// `INVALID_VERSION` (error): `Version` is neither `2012-10-17` nor `2008-10-17`.
    InvalidVersion,
    /// `UNKNOWN_CONDITION_OPERATOR` (error): unknown operator, `NullIfExists` or bad qualifier.
    UnknownConditionOperator,
    /// `EMPTY_CONDITION_VALUES` (error): an empty value list under an operator (fail closed).
    EmptyConditionValues,
    /// `ISSUER_NOT_HTTPS` (error): the issuer is not https, so no IAM provider can match it.
    IssuerNotHttps,
    /// `SUB_UNRESTRICTED` (critical): an Allow path admits every ServiceAccount of the cluster.
    SubUnrestricted,
    /// `WILDCARD_AWS_PRINCIPAL` (critical): `{"AWS": "*"}` lets any AWS principal in.
    WildcardAwsPrincipal,
    /// `SUB_WILDCARD_NAMESPACE` (high): the namespace segment of `sub` is wildcarded or
    /// prefix-matched.
    SubWildcardNamespace,
    /// `NEGATED_SUB_ALLOW` (high): an Allow restricted only by `NotEquals`/`NotLike` on `sub`, a
    /// deny-list.
    NegatedSubAllow,
    /// `VACUOUS_CONDITION` (high): a negated, `IfExists` or `ForAllValues` condition on an absent
    /// key, always true.
    VacuousCondition,
    /// `CONDITION_KEY_PROVIDER_MISMATCH` (high): the key prefix is not the statement's provider.
    ConditionKeyProviderMismatch,
    /// `PLACEHOLDER_NOT_REPLACED` (high): `<NAMESPACE>`/`<SERVICE_ACCOUNT>` left in the template.
    PlaceholderNotReplaced,
    /// `SUB_WILDCARD_SERVICEACCOUNT` (medium): any ServiceAccount (or a name pattern) within one
    /// namespace.
    SubWildcardServiceaccount,
    /// `MISSING_AUD_CONDITION` (medium): the audience is not pinned.
    MissingAudCondition,
    /// `UNKNOWN_OIDC_CLAIM_KEY` (medium): a key under the provider's prefix that names no claim AWS
    /// exposes.
    UnknownOidcClaimKey,
    /// `WILDCARD_WITHOUT_LIKE` (medium): `*`/`?` under a non-`Like` operator are literal.
    WildcardWithoutLike,
    /// `SUB_VALUE_MALFORMED` (medium): a literal `sub` not of the form
    /// `system:serviceaccount:<ns>:<name>`.
    SubValueMalformed,
    /// `FORALLVALUES_ON_SINGLE_VALUED_KEY` (medium): `ForAllValues` on a single-valued key, true
    /// when absent.
    ForallvaluesOnSingleValuedKey,
    /// `FEDERATED_ACCOUNT_MISMATCH` (medium): the provider ARN's account is not the role's, so it
    /// never matches.
    FederatedAccountMismatch,
    /// `FEDERATED_ISSUER_MISMATCH` (medium): the provider ARN is not this cluster's issuer (region,
    /// path, slash).
    FederatedIssuerMismatch,
    /// `ACTION_MISSING_WEB_IDENTITY` (medium): an OIDC-principal Allow whose actions exclude
    /// `sts:AssumeRoleWithWebIdentity`.
    ActionMissingWebIdentity,
    /// `NOTACTION_IN_TRUST_POLICY` (medium): Allow with `NotAction` grants every unlisted STS
    /// action.
    NotactionInTrustPolicy,
    /// `VARIABLE_NOT_SUPPORTED_IN_VERSION` (medium): `${...}` under 2008-10-17 or no `Version` is
    /// literal.
    VariableNotSupportedInVersion,
    /// `CONTEXT_DEPENDENT_CONDITION` (medium): the decision depends on keys only STS knows, so
    /// it is Indeterminate.
    ContextDependentCondition,
    /// `ACTION_WILDCARD` (low): `sts:*`, `*` or `sts:AssumeRoleWith*`, broader than needed.
    ActionWildcard,
    /// `IFEXISTS_ON_ALWAYS_PRESENT_KEY` (low): `IfExists` on `sub`/`aud` is pointless and invites
    /// typos.
    IfexistsOnAlwaysPresentKey,
    /// `AUD_UNEXPECTED_VALUE` (low): the `aud` values exclude `sts.amazonaws.com`.
    AudUnexpectedValue,
    /// `ALLOW_NEVER_MATCHES` (low): an Allow statement is unsatisfiable.
    AllowNeverMatches,
    /// `OLD_VERSION` (low): `Version` 2008-10-17, without policy variables.
    OldVersion,
    /// `MISSING_VERSION` (low): no `Version`, so 2008 semantics for variables.
    MissingVersion,
    /// `POLICY_TOO_LARGE` (low): more than the default quota of 2,048 non-whitespace characters.
    PolicyTooLarge,
    /// `SID_INVALID` (low): a `Sid` that is not alphanumeric.
    SidInvalid,
    /// `SID_DUPLICATE` (low): a `Sid` used by an earlier statement.
    SidDuplicate,
    /// `PRINCIPAL_NOT_OIDC_PROVIDER` (info): the statement cannot apply to web identity (AWS,
    /// Service or SAML principal).
    PrincipalNotOidcProvider,
    /// `ISSUER_TRAILING_SLASH` (info): the provider identity includes a trailing slash, easy to get
    /// inconsistent.
    IssuerTrailingSlash,
}

impl Code {
    /// Every code, in catalogue order.
    pub const ALL: [Code; 45] = [
        Code::InvalidJson,
        Code::MissingStatement,
        Code::MissingEffect,
        Code::InvalidEffect,
        Code::MissingPrincipal,
        Code::NotprincipalNotSupported,
        Code::WildcardPrincipalNotSupported,
        Code::PrincipalPartialWildcard,
        Code::InvalidPrincipalArn,
        Code::ResourceNotSupported,
        Code::MissingAction,
        Code::InvalidVersion,
        Code::UnknownConditionOperator,
        Code::EmptyConditionValues,
        Code::IssuerNotHttps,
        Code::SubUnrestricted,
        Code::WildcardAwsPrincipal,
        Code::SubWildcardNamespace,
        Code::NegatedSubAllow,
        Code::VacuousCondition,
        Code::ConditionKeyProviderMismatch,
        Code::PlaceholderNotReplaced,
        Code::SubWildcardServiceaccount,
        Code::MissingAudCondition,
        Code::UnknownOidcClaimKey,
        Code::WildcardWithoutLike,
        Code::SubValueMalformed,
        Code::ForallvaluesOnSingleValuedKey,
        Code::FederatedAccountMismatch,
        Code::FederatedIssuerMismatch,
        Code::ActionMissingWebIdentity,
        Code::NotactionInTrustPolicy,
        Code::VariableNotSupportedInVersion,
        Code::ContextDependentCondition,
        Code::ActionWildcard,
        Code::IfexistsOnAlwaysPresentKey,
        Code::AudUnexpectedValue,
        Code::AllowNeverMatches,
        Code::OldVersion,
        Code::MissingVersion,
        Code::PolicyTooLarge,
        Code::SidInvalid,
        Code::SidDuplicate,
        Code::PrincipalNotOidcProvider,
        Code::IssuerTrailingSlash,
    ];

    /// The code as the catalogue spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJson => "INVALID_JSON",
            Code::MissingStatement => "MISSING_STATEMENT",
            Code::MissingEffect => "MISSING_EFFECT",
            Code::InvalidEffect => "INVALID_EFFECT",
            Code::MissingPrincipal => "MISSING_PRINCIPAL",
            Code::NotprincipalNotSupported => "NOTPRINCIPAL_NOT_SUPPORTED",
            Code::WildcardPrincipalNotSupported => "WILDCARD_PRINCIPAL_NOT_SUPPORTED",
            Code::PrincipalPartialWildcard => "PRINCIPAL_PARTIAL_WILDCARD",
            Code::InvalidPrincipalArn => "INVALID_PRINCIPAL_ARN",
            Code::ResourceNotSupported => "RESOURCE_NOT_SUPPORTED",
            Code::MissingAction => "MISSING_ACTION",
            Code::InvalidVersion => "INVALID_VERSION",
            Code::UnknownConditionOperator => "UNKNOWN_CONDITION_OPERATOR",
            Code::EmptyConditionValues => "EMPTY_CONDITION_VALUES",
            Code::IssuerNotHttps => "ISSUER_NOT_HTTPS",
            Code::SubUnrestricted => "SUB_UNRESTRICTED",
            Code::WildcardAwsPrincipal => "WILDCARD_AWS_PRINCIPAL",
            Code::SubWildcardNamespace => "SUB_WILDCARD_NAMESPACE",
            Code::NegatedSubAllow => "NEGATED_SUB_ALLOW",
            Code::VacuousCondition => "VACUOUS_CONDITION",
            Code::ConditionKeyProviderMismatch => "CONDITION_KEY_PROVIDER_MISMATCH",
            Code::PlaceholderNotReplaced => "PLACEHOLDER_NOT_REPLACED",
            Code::SubWildcardServiceaccount => "SUB_WILDCARD_SERVICEACCOUNT",
            Code::MissingAudCondition => "MISSING_AUD_CONDITION",
            Code::UnknownOidcClaimKey => "UNKNOWN_OIDC_CLAIM_KEY",
            Code::WildcardWithoutLike => "WILDCARD_WITHOUT_LIKE",
            Code::SubValueMalformed => "SUB_VALUE_MALFORMED",
            Code::ForallvaluesOnSingleValuedKey => "FORALLVALUES_ON_SINGLE_VALUED_KEY",
            Code::FederatedAccountMismatch => "FEDERATED_ACCOUNT_MISMATCH",
            Code::FederatedIssuerMismatch => "FEDERATED_ISSUER_MISMATCH",
            Code::ActionMissingWebIdentity => "ACTION_MISSING_WEB_IDENTITY",
            Code::NotactionInTrustPolicy => "NOTACTION_IN_TRUST_POLICY",
            Code::VariableNotSupportedInVersion => "VARIABLE_NOT_SUPPORTED_IN_VERSION",
            Code::ContextDependentCondition => "CONTEXT_DEPENDENT_CONDITION",
            Code::ActionWildcard => "ACTION_WILDCARD",
            Code::IfexistsOnAlwaysPresentKey => "IFEXISTS_ON_ALWAYS_PRESENT_KEY",
            Code::AudUnexpectedValue => "AUD_UNEXPECTED_VALUE",
            Code::AllowNeverMatches => "ALLOW_NEVER_MATCHES",
            Code::OldVersion => "OLD_VERSION",
            Code::MissingVersion => "MISSING_VERSION",
            Code::PolicyTooLarge => "POLICY_TOO_LARGE",
            Code::SidInvalid => "SID_INVALID",
            Code::SidDuplicate => "SID_DUPLICATE",
            Code::PrincipalNotOidcProvider => "PRINCIPAL_NOT_OIDC_PROVIDER",
            Code::IssuerTrailingSlash => "ISSUER_TRAILING_SLASH",
        }
    }

    /// The catalogue severity of the code.
    pub fn severity(self) -> Severity {
        match self {
            Code::InvalidJson
            | Code::MissingStatement
            | Code::MissingEffect
            | Code::InvalidEffect
            | Code::MissingPrincipal
            | Code::NotprincipalNotSupported
            | Code::WildcardPrincipalNotSupported
            | Code::PrincipalPartialWildcard
            | Code::InvalidPrincipalArn
            | Code::ResourceNotSupported
            | Code::MissingAction
            | Code::InvalidVersion
            | Code::UnknownConditionOperator
            | Code::EmptyConditionValues
            | Code::IssuerNotHttps => Severity::Error,
            Code::SubUnrestricted | Code::WildcardAwsPrincipal => Severity::Critical,
            Code::SubWildcardNamespace
            | Code::NegatedSubAllow
            | Code::VacuousCondition
            | Code::ConditionKeyProviderMismatch
            | Code::PlaceholderNotReplaced => Severity::High,
            Code::SubWildcardServiceaccount
            | Code::MissingAudCondition
            | Code::UnknownOidcClaimKey
            | Code::WildcardWithoutLike
            | Code::SubValueMalformed
            | Code::ForallvaluesOnSingleValuedKey
            | Code::FederatedAccountMismatch
            | Code::FederatedIssuerMismatch
            | Code::ActionMissingWebIdentity
            | Code::NotactionInTrustPolicy
            | Code::VariableNotSupportedInVersion
            | Code::ContextDependentCondition => Severity::Medium,
            Code::ActionWildcard
            | Code::IfexistsOnAlwaysPresentKey
            | Code::AudUnexpectedValue
            | Code::AllowNeverMatches
            | Code::OldVersion
            | Code::MissingVersion
            | Code::PolicyTooLarge
            | Code::SidInvalid
            | Code::SidDuplicate => Severity::Low,
            Code::PrincipalNotOidcProvider | Code::IssuerTrailingSlash => Severity::Info,
        }
    }
}

/// Honours width and alignment, as `str` does.
impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A text that is no code of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a finding code of the catalogue")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(text: &str) -> Result<Code, UnknownCode> {
        Code::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| UnknownCode(text.to_string()))
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem of a trust policy or of an input.
///
/// Serialises as `{"code", "severity", "message", "statement"}` (the `awi trust check
/// --output json` shape and the WIT `finding` record).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// What kind of problem; it fixes the severity.
    pub code: Code,
    /// The code's severity ([`Code::severity`]).
    pub severity: Severity,
    /// What is wrong, naming the statement, element or key and what was expected.
    pub message: String,
    /// Index of the statement in `Statement` (0-based), `None` for the document or an input.
    pub statement: Option<u32>,
}

impl Finding {
    /// A finding with the catalogue severity of `code`.
    ///
    /// ```
    /// use awi_trust::{Code, Finding, Severity};
    /// let f = Finding::new(Code::MissingAudCondition, Some(0), "statement 0: audience not pinned");
    /// assert_eq!(f.severity, Severity::Medium);
    /// assert_eq!(f.code, "MISSING_AUD_CONDITION");
    /// ```
    pub fn new(code: Code, statement: Option<u32>, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            message: message.into(),
            statement,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

/// Sorts most severe first, then by statement (document-level findings first), and drops
/// exact duplicates. Stable, so equal keys keep the order they were found in.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    if findings.len() < 2 {
        return;
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.statement.cmp(&b.statement))
    });
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.code, f.statement, f.message.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_serialises_as_spelled() {
        let mut texts: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 45);
        for code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("{:?}", code.as_str())
            );
        }
        assert!("NOT_A_CODE".parse::<Code>().is_err());
    }

    #[test]
    fn sorting_puts_errors_first_then_statement_order() {
        let mut f = vec![
            Finding::new(Code::ActionWildcard, Some(0), "a"),
            Finding::new(Code::SubUnrestricted, Some(1), "b"),
            Finding::new(Code::InvalidEffect, Some(2), "c"),
            Finding::new(Code::SubUnrestricted, Some(0), "d"),
            Finding::new(Code::SubUnrestricted, Some(0), "d"),
        ];
        sort_findings(&mut f);
        let got: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(got, ["c", "d", "b", "a"]);
    }

    #[test]
    fn finding_serialises_in_camel_case_with_lowercase_severity() {
        let f = Finding::new(Code::MissingVersion, None, "m");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"code":"MISSING_VERSION","severity":"low","message":"m","statement":null}"#
        );
    }
}
