//! Findings: one problem of a trust policy, with the code and severity of the catalogue in
//! `reference/iam-trust-policy.md` section 4.2.
//!
//! The codes are `&'static str` constants in [`code`] so that callers (the admission layer,
//! the `awi` tool, the WIT glue) can match on them without a conversion table, and every
//! code's severity is fixed by [`CATALOGUE`]: a finding cannot be raised with a severity
//! that disagrees with the catalogue.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Critical,
    High,
    Medium,
    Low,
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

/// The finding codes of the catalogue (reference section 4.2), exactly as spelled there.
pub mod code {
    pub const INVALID_JSON: &str = "INVALID_JSON";
    pub const MISSING_STATEMENT: &str = "MISSING_STATEMENT";
    pub const MISSING_EFFECT: &str = "MISSING_EFFECT";
    pub const INVALID_EFFECT: &str = "INVALID_EFFECT";
    pub const MISSING_PRINCIPAL: &str = "MISSING_PRINCIPAL";
    pub const NOTPRINCIPAL_NOT_SUPPORTED: &str = "NOTPRINCIPAL_NOT_SUPPORTED";
    pub const WILDCARD_PRINCIPAL_NOT_SUPPORTED: &str = "WILDCARD_PRINCIPAL_NOT_SUPPORTED";
    pub const PRINCIPAL_PARTIAL_WILDCARD: &str = "PRINCIPAL_PARTIAL_WILDCARD";
    pub const INVALID_PRINCIPAL_ARN: &str = "INVALID_PRINCIPAL_ARN";
    pub const RESOURCE_NOT_SUPPORTED: &str = "RESOURCE_NOT_SUPPORTED";
    pub const MISSING_ACTION: &str = "MISSING_ACTION";
    pub const INVALID_VERSION: &str = "INVALID_VERSION";
    pub const UNKNOWN_CONDITION_OPERATOR: &str = "UNKNOWN_CONDITION_OPERATOR";
    pub const EMPTY_CONDITION_VALUES: &str = "EMPTY_CONDITION_VALUES";
    pub const ISSUER_NOT_HTTPS: &str = "ISSUER_NOT_HTTPS";
    pub const SUB_UNRESTRICTED: &str = "SUB_UNRESTRICTED";
    pub const WILDCARD_AWS_PRINCIPAL: &str = "WILDCARD_AWS_PRINCIPAL";
    pub const SUB_WILDCARD_NAMESPACE: &str = "SUB_WILDCARD_NAMESPACE";
    pub const NEGATED_SUB_ALLOW: &str = "NEGATED_SUB_ALLOW";
    pub const VACUOUS_CONDITION: &str = "VACUOUS_CONDITION";
    pub const CONDITION_KEY_PROVIDER_MISMATCH: &str = "CONDITION_KEY_PROVIDER_MISMATCH";
    pub const PLACEHOLDER_NOT_REPLACED: &str = "PLACEHOLDER_NOT_REPLACED";
    pub const SUB_WILDCARD_SERVICEACCOUNT: &str = "SUB_WILDCARD_SERVICEACCOUNT";
    pub const MISSING_AUD_CONDITION: &str = "MISSING_AUD_CONDITION";
    pub const UNKNOWN_OIDC_CLAIM_KEY: &str = "UNKNOWN_OIDC_CLAIM_KEY";
    pub const WILDCARD_WITHOUT_LIKE: &str = "WILDCARD_WITHOUT_LIKE";
    pub const SUB_VALUE_MALFORMED: &str = "SUB_VALUE_MALFORMED";
    pub const FORALLVALUES_ON_SINGLE_VALUED_KEY: &str = "FORALLVALUES_ON_SINGLE_VALUED_KEY";
    pub const FEDERATED_ACCOUNT_MISMATCH: &str = "FEDERATED_ACCOUNT_MISMATCH";
    pub const FEDERATED_ISSUER_MISMATCH: &str = "FEDERATED_ISSUER_MISMATCH";
    pub const ACTION_MISSING_WEB_IDENTITY: &str = "ACTION_MISSING_WEB_IDENTITY";
    pub const NOTACTION_IN_TRUST_POLICY: &str = "NOTACTION_IN_TRUST_POLICY";
    pub const VARIABLE_NOT_SUPPORTED_IN_VERSION: &str = "VARIABLE_NOT_SUPPORTED_IN_VERSION";
    pub const CONTEXT_DEPENDENT_CONDITION: &str = "CONTEXT_DEPENDENT_CONDITION";
    pub const ACTION_WILDCARD: &str = "ACTION_WILDCARD";
    pub const IFEXISTS_ON_ALWAYS_PRESENT_KEY: &str = "IFEXISTS_ON_ALWAYS_PRESENT_KEY";
    pub const AUD_UNEXPECTED_VALUE: &str = "AUD_UNEXPECTED_VALUE";
    pub const ALLOW_NEVER_MATCHES: &str = "ALLOW_NEVER_MATCHES";
    pub const OLD_VERSION: &str = "OLD_VERSION";
    pub const MISSING_VERSION: &str = "MISSING_VERSION";
    pub const POLICY_TOO_LARGE: &str = "POLICY_TOO_LARGE";
    pub const SID_INVALID: &str = "SID_INVALID";
    pub const SID_DUPLICATE: &str = "SID_DUPLICATE";
    pub const PRINCIPAL_NOT_OIDC_PROVIDER: &str = "PRINCIPAL_NOT_OIDC_PROVIDER";
    pub const ISSUER_TRAILING_SLASH: &str = "ISSUER_TRAILING_SLASH";
}

/// Every code of the catalogue with its severity (reference section 4.2).
pub const CATALOGUE: &[(&str, Severity)] = &[
    (code::INVALID_JSON, Severity::Error),
    (code::MISSING_STATEMENT, Severity::Error),
    (code::MISSING_EFFECT, Severity::Error),
    (code::INVALID_EFFECT, Severity::Error),
    (code::MISSING_PRINCIPAL, Severity::Error),
    (code::NOTPRINCIPAL_NOT_SUPPORTED, Severity::Error),
    (code::WILDCARD_PRINCIPAL_NOT_SUPPORTED, Severity::Error),
    (code::PRINCIPAL_PARTIAL_WILDCARD, Severity::Error),
    (code::INVALID_PRINCIPAL_ARN, Severity::Error),
    (code::RESOURCE_NOT_SUPPORTED, Severity::Error),
    (code::MISSING_ACTION, Severity::Error),
    (code::INVALID_VERSION, Severity::Error),
    (code::UNKNOWN_CONDITION_OPERATOR, Severity::Error),
    (code::EMPTY_CONDITION_VALUES, Severity::Error),
    (code::ISSUER_NOT_HTTPS, Severity::Error),
    (code::SUB_UNRESTRICTED, Severity::Critical),
    (code::WILDCARD_AWS_PRINCIPAL, Severity::Critical),
    (code::SUB_WILDCARD_NAMESPACE, Severity::High),
    (code::NEGATED_SUB_ALLOW, Severity::High),
    (code::VACUOUS_CONDITION, Severity::High),
    (code::CONDITION_KEY_PROVIDER_MISMATCH, Severity::High),
    (code::PLACEHOLDER_NOT_REPLACED, Severity::High),
    (code::SUB_WILDCARD_SERVICEACCOUNT, Severity::Medium),
    (code::MISSING_AUD_CONDITION, Severity::Medium),
    (code::UNKNOWN_OIDC_CLAIM_KEY, Severity::Medium),
    (code::WILDCARD_WITHOUT_LIKE, Severity::Medium),
    (code::SUB_VALUE_MALFORMED, Severity::Medium),
    (code::FORALLVALUES_ON_SINGLE_VALUED_KEY, Severity::Medium),
    (code::FEDERATED_ACCOUNT_MISMATCH, Severity::Medium),
    (code::FEDERATED_ISSUER_MISMATCH, Severity::Medium),
    (code::ACTION_MISSING_WEB_IDENTITY, Severity::Medium),
    (code::NOTACTION_IN_TRUST_POLICY, Severity::Medium),
    (code::VARIABLE_NOT_SUPPORTED_IN_VERSION, Severity::Medium),
    (code::CONTEXT_DEPENDENT_CONDITION, Severity::Medium),
    (code::ACTION_WILDCARD, Severity::Low),
    (code::IFEXISTS_ON_ALWAYS_PRESENT_KEY, Severity::Low),
    (code::AUD_UNEXPECTED_VALUE, Severity::Low),
    (code::ALLOW_NEVER_MATCHES, Severity::Low),
    (code::OLD_VERSION, Severity::Low),
    (code::MISSING_VERSION, Severity::Low),
    (code::POLICY_TOO_LARGE, Severity::Low),
    (code::SID_INVALID, Severity::Low),
    (code::SID_DUPLICATE, Severity::Low),
    (code::PRINCIPAL_NOT_OIDC_PROVIDER, Severity::Info),
    (code::ISSUER_TRAILING_SLASH, Severity::Info),
];

/// The catalogue severity of `code`, `None` for a code that is not in the catalogue.
pub fn severity_of(code: &str) -> Option<Severity> {
    CATALOGUE.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
}

/// One problem of a trust policy or of an input.
///
/// Serialises as `{"code", "severity", "message", "statement"}` (the `awi trust check
/// --output json` shape and the WIT `finding` record).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// A code of [`CATALOGUE`].
    pub code: &'static str,
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
    /// use awi_trust::{Finding, Severity};
    /// let f = Finding::new("MISSING_AUD_CONDITION", Some(0), "statement 0: audience not pinned");
    /// assert_eq!(f.severity, Severity::Medium);
    /// ```
    pub fn new(code: &'static str, statement: Option<u32>, message: impl Into<String>) -> Finding {
        Finding {
            code,
            // A code outside the catalogue is a programming error; treating it as an error
            // keeps the engine fail-closed instead of panicking.
            severity: severity_of(code).unwrap_or(Severity::Error),
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
    fn catalogue_codes_are_unique_and_named_like_their_constant() {
        let mut codes: Vec<&str> = CATALOGUE.iter().map(|(c, _)| *c).collect();
        let n = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(n, 45);
    }

    #[test]
    fn sorting_puts_errors_first_then_statement_order() {
        let mut f = vec![
            Finding::new(code::ACTION_WILDCARD, Some(0), "a"),
            Finding::new(code::SUB_UNRESTRICTED, Some(1), "b"),
            Finding::new(code::INVALID_EFFECT, Some(2), "c"),
            Finding::new(code::SUB_UNRESTRICTED, Some(0), "d"),
            Finding::new(code::SUB_UNRESTRICTED, Some(0), "d"),
        ];
        sort_findings(&mut f);
        let got: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(got, ["c", "d", "b", "a"]);
    }

    #[test]
    fn finding_serialises_in_camel_case_with_lowercase_severity() {
        let f = Finding::new(code::MISSING_VERSION, None, "m");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"code":"MISSING_VERSION","severity":"low","message":"m","statement":null}"#
        );
    }
}
