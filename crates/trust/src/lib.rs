//! The IAM trust-policy engine for `sts:AssumeRoleWithWebIdentity`.
//!
//! Offline, and with IAM's semantics for `sts:AssumeRoleWithWebIdentity`, it answers:
//! - **check**: does this trust policy let `system:serviceaccount:<ns>:<sa>` of the cluster
//!   with this issuer assume this role, and why (which statement and condition decided)?
//! - **lint**: the finding catalogue ([`Code`]);
//! - **who**: which ServiceAccounts can assume the role at all;
//! - **render**: the Control Plane template filled for one ServiceAccount.
//!
//! A crate of its own so that nothing in it can reach the product's settings, mutation or
//! admission code: the compiler refuses an import back up. The policy, the `awi` host and the
//! tests all use the one definition of ARNs, partitions, findings, subjects and verdicts.
//!
//! Ground floor, importing nothing of the crate: [`json`] (small readers for raw JSON and
//! quoting for messages) and [`k8s`] (Kubernetes name grammars, token lifetime bounds).
//!
//! Pipeline, one concept per module: [`source`] reads the text (duplicate keys refused),
//! [`document`] builds the syntax tree and reports everything IAM would refuse,
//! [`condition`] and [`evaluate`] decide, [`lint`](mod@lint) checks statements, [`subjects`] computes
//! the admitted `sub` set with the automata of [`language`], [`render`](mod@render) fills templates.
//! A document IAM would refuse is never allowed.
//!
//! Every condition key is modelled in [`context`]: known (`sub`, `aud`,
//! `aws:FederatedProvider`), known only to STS (`aws:SourceIp`, `aws:CurrentTime`,
//! `sts:RoleSessionName`, ...) or absent. Decisions are three-valued inside: a condition that
//! needs a value only STS knows, and that IAM's rules do not decide anyway, is Indeterminate,
//! reported as `CONTEXT_DEPENDENT_CONDITION` naming the key and decided as not allowed; a
//! caller who knows the value supplies it as a [`RequestContext`].
//!
//! ```
//! use awi_trust::{check, Subject};
//! let policy = r#"{"Version": "2012-10-17", "Statement": [{
//!     "Effect": "Allow",
//!     "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123"},
//!     "Action": "sts:AssumeRoleWithWebIdentity",
//!     "Condition": {"StringEquals": {
//!         "oidc.example.com/abc123:sub": "system:serviceaccount:payments:api",
//!         "oidc.example.com/abc123:aud": "sts.amazonaws.com"}}}]}"#;
//! let subject = Subject {
//!     issuer: "https://oidc.example.com/abc123".into(),
//!     audience: "sts.amazonaws.com".into(),
//!     namespace: "default".into(),
//!     service_account: "api".into(),
//! };
//! let verdict = check(policy, "arn:aws:iam::111122223333:role/payments-api", &subject).unwrap();
//! assert!(!verdict.allowed);
//! assert_eq!(
//!     verdict.explanation[0],
//!     "statement 0 condition StringEquals oidc.example.com/abc123:sub allows only system:serviceaccount:payments:api"
//! );
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]
// Nothing on an input path may panic; the unit tests may.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod json;
pub mod k8s;

pub mod arn;
pub mod classify;
pub mod condition;
pub mod context;
pub mod document;
pub mod error;
pub mod evaluate;
pub mod finding;
pub mod glob;
pub mod language;
pub mod lint;
pub mod render;
pub mod source;
pub mod subjects;

use std::collections::HashSet;

use serde_json::Value;

pub use arn::{ArnError, OidcProviderArn, RoleArn};
pub use context::{ContextError, RequestContext};
pub use document::Document;
pub use error::TrustError;
pub use evaluate::{STS_AUDIENCE, Subject, Verdict};
pub use finding::{Code, Finding, Severity};
pub use render::{OidcProvider, oidc_provider_config, render};
pub use subjects::Admitted;

/// A trust policy parsed once and evaluated many times (the admission layer keeps parsed
/// policies from its settings).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    document: Document,
    findings: Vec<Finding>,
}

impl TrustPolicy {
    /// Parses a document given as a JSON object, a JSON string holding one, a URL-encoded
    /// document or `aws iam get-role` output. `Err` only when no JSON object can be read;
    /// otherwise the policy and its validation findings (an invalid policy is kept, carries
    /// error findings and never allows anything).
    ///
    /// ```
    /// use awi_trust::TrustPolicy;
    /// let (p, findings) = TrustPolicy::parse(r#"{"Statement": {"Effect": "Allow"}}"#).unwrap();
    /// assert!(!p.is_valid());
    /// assert!(findings.iter().any(|f| f.code == "MISSING_PRINCIPAL"));
    /// assert!(TrustPolicy::parse("not json").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<(TrustPolicy, Vec<Finding>), TrustError> {
        TrustPolicy::from_parsed(document::parse_text(text))
    }

    /// Same as [`TrustPolicy::parse`] for a settings value: an object, or a string holding
    /// the document in any accepted form.
    pub fn parse_value(value: &Value) -> Result<(TrustPolicy, Vec<Finding>), TrustError> {
        TrustPolicy::from_parsed(document::parse_value(value))
    }

    /// Keeps the sorted validation findings with the policy and hands them to the caller.
    fn from_parsed(
        parsed: Result<(Document, Vec<Finding>), String>,
    ) -> Result<(TrustPolicy, Vec<Finding>), TrustError> {
        let (document, mut findings) = parsed.map_err(TrustError::Unreadable)?;
        finding::sort_findings(&mut findings);
        Ok((
            TrustPolicy {
                document,
                findings: findings.clone(),
            },
            findings,
        ))
    }

    /// Whether IAM would accept the document.
    pub fn is_valid(&self) -> bool {
        self.document.valid
    }

    /// The syntax tree.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The findings of parsing (grammar errors and document-level lint).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Decides whether `subject` may assume `role`, as STS would; keys only STS knows stay
    /// undecided.
    pub fn decide(&self, role: &RoleArn, subject: &Subject) -> Verdict {
        self.decide_in(role, subject, &RequestContext::new())
    }

    /// [`TrustPolicy::decide`] with values for keys only STS knows.
    pub fn decide_in(
        &self,
        role: &RoleArn,
        subject: &Subject,
        context: &RequestContext,
    ) -> Verdict {
        evaluate::decide(&self.document, &self.findings, role, subject, context)
    }

    /// Every finding of the catalogue for this policy trusted by the cluster `issuer`, sorted
    /// by severity then statement. `role` enables the account checks.
    pub fn lint(&self, role: Option<&RoleArn>, issuer: &str) -> Vec<Finding> {
        let mut out = self.findings.clone();
        let mut statement_findings = lint::lint(&self.document, role, issuer);
        let target = subjects::Target::new(role, issuer, None);
        // Too complex to analyse (automaton bounds): the set-level findings are left out
        // rather than guessed; the statement-level ones still stand.
        if let Ok((set_findings, bounded)) = subjects::findings(&self.document, &target) {
            // Sets, not scans: a document may have hundreds of statements, each with
            // findings, and the work must stay linear in them.
            let bounded: HashSet<u32> = bounded.into_iter().collect();
            // A deny-list Allow fenced by a Deny down to named ServiceAccounts is safe.
            statement_findings.retain(|f| {
                !(f.code == Code::NegatedSubAllow
                    && f.statement.is_some_and(|s| bounded.contains(&s)))
            });
            let mut never_matches: HashSet<Option<u32>> = statement_findings
                .iter()
                .filter(|g| g.code == Code::AllowNeverMatches)
                .map(|g| g.statement)
                .collect();
            for f in set_findings {
                // `insert` is false for a statement that already has the finding.
                let repeated =
                    f.code == Code::AllowNeverMatches && !never_matches.insert(f.statement);
                if !repeated {
                    statement_findings.push(f);
                }
            }
        }
        out.extend(statement_findings);
        finding::sort_findings(&mut out);
        out
    }

    /// The subjects this policy lets assume `role` on the cluster `issuer` with tokens for
    /// `audience` (an over-approximation when conditions depend on values only STS knows;
    /// see [`Admitted::notes`]). An invalid document admits nobody.
    ///
    /// ```
    /// use awi_trust::{RoleArn, TrustPolicy};
    /// let (p, _) = TrustPolicy::parse(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc"},
    ///   "Action": "sts:AssumeRoleWithWebIdentity",
    ///   "Condition": {"StringLike": {"oidc.example.com/abc:sub": "system:serviceaccount:payments:*"}}}]}"#).unwrap();
    /// let role = RoleArn::parse("arn:aws:iam::111122223333:role/r").unwrap();
    /// let who = p.admitted(&role, "https://oidc.example.com/abc", "sts.amazonaws.com").unwrap();
    /// assert_eq!(who.lines(), ["every ServiceAccount in namespace payments"]);
    /// assert!(who.admits("payments", "api"));
    /// ```
    pub fn admitted(
        &self,
        role: &RoleArn,
        issuer: &str,
        audience: &str,
    ) -> Result<Admitted, TrustError> {
        if !self.document.valid || !issuer.starts_with("https://") {
            return Ok(Admitted {
                language: language::Language::nothing(),
                subjects: classify::SubjectSet::Nobody,
                notes: Vec::new(),
            });
        }
        let target = subjects::Target::new(Some(role), issuer, Some(audience));
        Ok(subjects::admitted(&self.document, &target)?)
    }
}

/// A policy text that cannot be read gives the single `INVALID_JSON` finding.
fn unreadable(message: String) -> Finding {
    Finding::new(
        Code::InvalidJson,
        None,
        format!("the trust policy cannot be read: {message}"),
    )
}

/// Decides whether `subject` may assume the role `role_arn` under `policy`, and reports the
/// lint findings of the policy for the subject's cluster with the decision's own.
///
/// `Err` only for a malformed role ARN or a namespace / ServiceAccount name Kubernetes would
/// refuse (such a subject cannot exist); an invalid or unreadable document gives
/// `Ok` with `allowed: false`, `valid_document: false` and the error findings.
pub fn check(policy: &str, role_arn: &str, subject: &Subject) -> Result<Verdict, TrustError> {
    check_in_context(policy, role_arn, subject, &RequestContext::new())
}

/// [`check`] with values for keys only STS knows (`aws:SourceIp`, `sts:RoleSessionName`...).
pub fn check_in_context(
    policy: &str,
    role_arn: &str,
    subject: &Subject,
    context: &RequestContext,
) -> Result<Verdict, TrustError> {
    let role = RoleArn::parse(role_arn)?;
    check_names(&subject.namespace, &subject.service_account)?;
    match TrustPolicy::parse(policy) {
        Ok((p, _)) => {
            let mut verdict = p.decide_in(&role, subject, context);
            with_lint(&mut verdict, p.lint(Some(&role), &subject.issuer));
            Ok(verdict)
        }
        Err(TrustError::Unreadable(message)) => {
            let f = unreadable(message);
            Ok(Verdict {
                allowed: false,
                valid_document: false,
                explanation: vec![format!(
                    "the document is not a valid IAM trust policy, so it allows nothing: {}",
                    f.message
                )],
                findings: vec![f],
            })
        }
        Err(e) => Err(e),
    }
}

/// Adds the lint findings to a verdict: each finding the decision did not already report
/// (same code on the same statement), then sorted like `lint`'s.
fn with_lint(verdict: &mut Verdict, lint: Vec<Finding>) {
    let decided: Vec<(Code, Option<u32>)> = verdict
        .findings
        .iter()
        .map(|f| (f.code, f.statement))
        .collect();
    verdict.findings.extend(
        lint.into_iter()
            .filter(|f| !decided.contains(&(f.code, f.statement))),
    );
    finding::sort_findings(&mut verdict.findings);
}

/// The findings for `policy` trusted by the cluster `issuer`; `role_arn` may be `None` or
/// empty when unknown. An unreadable document gives `INVALID_JSON`.
pub fn lint(
    policy: &str,
    role_arn: Option<&str>,
    issuer: &str,
) -> Result<Vec<Finding>, TrustError> {
    let role = match role_arn.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(RoleArn::parse(r)?),
        None => None,
    };
    match TrustPolicy::parse(policy) {
        Ok((p, _)) => Ok(p.lint(role.as_ref(), issuer)),
        Err(TrustError::Unreadable(message)) => Ok(vec![unreadable(message)]),
        Err(e) => Err(e),
    }
}

/// Who can assume `role_arn`: one line per admitted ServiceAccount or scope
/// (`payments/api`, `every ServiceAccount in namespace payments`,
/// `ServiceAccounts matching "api-*" in namespace payments`, `unbounded: ...`,
/// `unrestricted: ...`, `nobody: ...`), then `note:` lines for over-approximations.
///
/// `Err` for a malformed role ARN, an unreadable document, or a set too complex to analyse.
pub fn who(
    policy: &str,
    role_arn: &str,
    issuer: &str,
    audience: &str,
) -> Result<Vec<String>, TrustError> {
    let role = RoleArn::parse(role_arn)?;
    let (p, findings) = TrustPolicy::parse(policy)?;
    if !p.is_valid() {
        let first = findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .unwrap_or("");
        return Ok(vec![format!(
            "nobody: the document is not a valid IAM trust policy ({first})"
        )]);
    }
    if !issuer.starts_with("https://") {
        return Ok(vec![format!(
            "nobody: the issuer {issuer:?} is not an https:// URL, so no IAM OIDC provider matches it"
        )]);
    }
    Ok(p.admitted(&role, issuer, audience)?.lines())
}

/// Refuses names that no ServiceAccount can have ([`k8s::check_names`]).
pub fn check_names(namespace: &str, service_account: &str) -> Result<(), TrustError> {
    Ok(k8s::check_names(namespace, service_account)?)
}
