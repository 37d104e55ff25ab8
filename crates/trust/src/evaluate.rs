//! The decision for `sts:AssumeRoleWithWebIdentity` (IAM policy evaluation as STS applies it) and its explanation.
//!
//! The request is modelled as STS would see it for an IRSA token:
//! - principal: the OIDC provider ARN for the issuer in the role's account and partition,
//!   compared as an exact string;
//! - keys `<prefix>:sub` = `system:serviceaccount:<ns>:<sa>` and `<prefix>:aud` = the
//!   audience (a one-element set), where the prefix is the issuer minus `https://`, path and
//!   trailing slash included; every other claim key is absent;
//! - every other key as [`super::context`] models it: `aws:FederatedProvider` is the
//!   principal, keys only STS knows take the caller's [`RequestContext`] values or stay
//!   unknown, all others are absent.
//!
//! Deny wins over Allow; an Indeterminate statement makes the decision Indeterminate, which
//! is reported as `CONTEXT_DEPENDENT_CONDITION` naming the keys only STS knows, and decided
//! as not allowed.

use super::arn::{RoleArn, issuer_key_prefix};
use super::condition::{BaseOp, Condition, KeyLookup, KeyValue, Kind, Tri, parse_bool};
use super::context::{self, Class, Known, RequestContext, Source};
use super::document::{Document, Statement};
use super::finding::{Code, Finding};
use serde::{Deserialize, Serialize};

/// The audience IRSA tokens carry by default, and the only one STS accepts for
/// `AssumeRoleWithWebIdentity` unless the provider lists another client ID.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The only action IRSA needs (`sts:AssumeRoleWithWebIdentity`).
pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// The web-identity caller STS would see for a ServiceAccount of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// The cluster's OIDC issuer URL, with `https://`.
    pub issuer: String,
    /// The token audience (`sts.amazonaws.com` unless the ServiceAccount overrides it).
    pub audience: String,
    /// The ServiceAccount's namespace.
    pub namespace: String,
    /// The ServiceAccount's name.
    pub service_account: String,
}

impl Subject {
    /// `system:serviceaccount:<namespace>:<name>`, the token's `sub`.
    pub fn sub(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }
}

/// Whether a trust policy lets a subject assume a role, and why.
///
/// Serialises as `{"allowed", "validDocument", "findings", "explanation"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// Whether `sts:AssumeRoleWithWebIdentity` is allowed (false when Indeterminate).
    pub allowed: bool,
    /// False when IAM would refuse the document; `allowed` is then false too.
    pub valid_document: bool,
    /// Error findings of an invalid document, or findings about the decision itself
    /// (`CONTEXT_DEPENDENT_CONDITION` naming the keys only STS knows, `ISSUER_NOT_HTTPS`);
    /// [`crate::check`] adds the lint findings of the policy.
    pub findings: Vec<Finding>,
    /// Which statement and condition decided, one sentence each.
    pub explanation: Vec<String>,
}

/// The request context of one web-identity call.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `arn:<partition>:iam::<account>:oidc-provider/<prefix>`.
    pub principal: String,
    /// The key prefix as given (issuer minus `https://`).
    pub prefix: &'a str,
    prefix_lower: String,
    /// `system:serviceaccount:<ns>:<sa>`.
    pub sub: String,
    /// The token audience, the value of `<prefix>:aud`.
    pub aud: &'a str,
    /// Values the caller supplied for keys only STS knows.
    pub supplied: &'a RequestContext,
    // The role's partition and account, for explanations of a provider that does not apply.
    role_partition: String,
    role_account: String,
}

impl<'a> Request<'a> {
    /// The request of a ServiceAccount's token issued by `issuer`, for `role`.
    pub fn new(
        role: &RoleArn,
        issuer: &'a str,
        namespace: &str,
        service_account: &str,
        audience: &'a str,
        supplied: &'a RequestContext,
    ) -> Request<'a> {
        let prefix = issuer_key_prefix(issuer);
        Request {
            principal: role.oidc_provider_arn(issuer),
            prefix,
            prefix_lower: prefix.to_lowercase(),
            sub: format!("system:serviceaccount:{namespace}:{service_account}"),
            aud: audience,
            supplied,
            role_partition: role.partition().to_string(),
            role_account: role.account().to_string(),
        }
    }

    /// What the key is in this request ([`context::classify`]).
    pub fn class<'k>(&self, key_lower: &'k str) -> Class<'k> {
        context::classify(key_lower, &[self.prefix_lower.as_str()])
    }

    /// Which claim of this cluster's provider a key names (`sub`, `aud`, `sbu`...), if any.
    pub fn claim<'k>(&self, key_lower: &'k str) -> Option<&'k str> {
        key_lower
            .strip_prefix(self.prefix_lower.as_str())?
            .strip_prefix(':')
    }
}

impl KeyLookup for Request<'_> {
    fn lookup(&self, key_lower: &str) -> KeyValue<'_> {
        match self.class(key_lower).source() {
            Source::Known(Known::Sub) => KeyValue::Present(&self.sub),
            Source::Known(Known::Aud) => KeyValue::Present(self.aud),
            Source::Known(Known::FederatedProvider) => KeyValue::Present(&self.principal),
            Source::Absent => KeyValue::Absent,
            Source::Sts | Source::StsMaybe => {
                supplied_or(self.supplied, key_lower, self.class(key_lower).source())
            }
        }
    }
}

/// A supplied value of a key only STS knows, else unknown (or undetermined when STS also
/// decides whether the key is there).
pub fn supplied_or<'c>(
    supplied: &'c RequestContext,
    key_lower: &str,
    source: Source,
) -> KeyValue<'c> {
    match supplied.get(key_lower) {
        Some([one]) => KeyValue::Present(one),
        Some(values) if !values.is_empty() => KeyValue::Many(values),
        _ if source == Source::Sts => KeyValue::Unknown,
        _ => KeyValue::Undetermined,
    }
}

/// Why one statement does or does not apply.
#[derive(Debug, Clone)]
struct StatementResult {
    applies: Tri,
    /// For `False`: the reason; for `Unknown`: the undecidable conditions; for `True`: a summary.
    reason: String,
}

fn evaluate_statement(st: &Statement, req: &Request) -> StatementResult {
    let label = st.label();
    if !st.principal.federated.contains(&req.principal) {
        return StatementResult {
            applies: Tri::False,
            reason: principal_mismatch(st, req),
        };
    }
    if !st.actions.covers(WEB_IDENTITY_ACTION) {
        let reason = if st.actions.negated {
            format!("{label} does not apply: its NotAction excludes {WEB_IDENTITY_ACTION}")
        } else {
            format!(
                "{label} does not apply: its Action {} does not include {WEB_IDENTITY_ACTION}",
                st.actions.items.join(", ")
            )
        };
        return StatementResult {
            applies: Tri::False,
            reason,
        };
    }
    let mut unknown: Vec<String> = Vec::new();
    for cond in &st.conditions {
        match cond.evaluate(req) {
            Tri::True => {}
            Tri::False => {
                return StatementResult {
                    applies: Tri::False,
                    reason: describe_false(&label, cond, req),
                };
            }
            Tri::Unknown => {
                for key in unknown_keys(cond, req) {
                    if !unknown.contains(&key) {
                        unknown.push(key);
                    }
                }
            }
        }
    }
    if !unknown.is_empty() {
        let them = if unknown.len() == 1 {
            "its value"
        } else {
            "their values"
        };
        return StatementResult {
            applies: Tri::Unknown,
            reason: format!(
                "{label} depends on {}, which only STS knows (give {them} as request context to decide)",
                unknown.join(", ")
            ),
        };
    }
    let held = if st.conditions.is_empty() {
        "it has no conditions".to_string()
    } else {
        let names: Vec<String> = st
            .conditions
            .iter()
            .map(|c| format!("{} {}", c.operator_text, c.key))
            .collect();
        format!("{} hold", names.join(" and "))
    };
    StatementResult {
        applies: Tri::True,
        reason: held,
    }
}

/// The keys only STS knows that leave `cond` undecided: its own key, or the variables of its
/// values.
fn unknown_keys(cond: &Condition, req: &Request) -> Vec<String> {
    let undecided = |k: &str| {
        matches!(
            req.lookup(&k.to_ascii_lowercase()),
            KeyValue::Unknown | KeyValue::Undetermined | KeyValue::Many(_)
        )
    };
    let mut keys = Vec::new();
    if undecided(&cond.key) {
        keys.push(cond.key.clone());
    }
    for v in &cond.values {
        for p in v.pieces.iter().flatten() {
            if let super::condition::Piece::Variable { key, .. } = p
                && undecided(key)
                && !keys.contains(key)
            {
                keys.push(key.clone());
            }
        }
    }
    if keys.is_empty() {
        keys.push(cond.key.clone());
    }
    keys
}

fn principal_mismatch(st: &Statement, req: &Request) -> String {
    let label = st.label();
    let p = &st.principal;
    if p.oidc.is_empty() {
        let what = if !p.federated.is_empty() {
            format!("Federated {}", p.federated.join(", "))
        } else if !p.aws.is_empty() {
            format!("AWS {}", p.aws.join(", "))
        } else if !p.service.is_empty() {
            format!("Service {}", p.service.join(", "))
        } else {
            "empty".to_string()
        };
        return format!(
            "{label} does not apply: its principal ({what}) is not an OIDC provider; a web-identity caller is {}",
            req.principal
        );
    }
    let want_prefix = req.prefix;
    let role_part = req.role_account.as_str();
    let role_partition = req.role_partition.as_str();
    // Prefer the explanation of the closest provider: same URL in another account first.
    for arn in &p.oidc {
        if arn.url() == want_prefix && arn.account() != role_part {
            return format!(
                "{label} does not apply: it trusts the provider in account {} but the role is in account {role_part}, and STS uses the provider of the role's account ({})",
                arn.account(),
                req.principal
            );
        }
        if arn.url() == want_prefix && arn.partition() != role_partition {
            return format!(
                "{label} does not apply: it trusts a provider in partition {} but the role is in partition {role_partition}",
                arn.partition()
            );
        }
    }
    let urls: Vec<&str> = p.oidc.iter().map(|a| a.url()).collect();
    let mut hint = String::new();
    if urls
        .iter()
        .any(|u| u.trim_end_matches('/') == want_prefix.trim_end_matches('/'))
    {
        hint = " (only the trailing slash differs, and it is part of the provider identity)"
            .to_string();
    } else if urls.iter().any(|u| u.eq_ignore_ascii_case(want_prefix)) {
        hint = " (only letter case differs; provider ARNs are compared exactly)".to_string();
    }
    format!(
        "{label} does not apply: it trusts provider {} but this cluster's issuer is {want_prefix}{hint}",
        urls.join(", ")
    )
}

/// One line saying why a condition is false, in the words `awi trust check` prints:
/// `statement 0 condition StringEquals <key> allows only <values>`.
fn describe_false(label: &str, cond: &Condition, req: &Request) -> String {
    let head = format!("{label} condition {} {}", cond.operator_text, cond.key);
    let values: Vec<&str> = cond.values.iter().map(|v| v.text.as_str()).collect();
    let shown = values.join(", ");
    let looked = req.lookup(&cond.key_lower);
    if cond.operator.base == BaseOp::Null {
        let wants_absent = values.iter().any(|v| parse_bool(v) == Some(true));
        return if wants_absent {
            format!("{head} requires the key to be absent, but the request carries it")
        } else {
            format!("{head} requires the key to be present, but the request does not carry it")
        };
    }
    match looked {
        KeyValue::Present(r) => match (cond.operator.base.kind(), cond.operator.is_negated()) {
            (
                Kind::String {
                    like: false,
                    ignore_case,
                },
                false,
            ) => {
                let case = if ignore_case { " (ignoring case)" } else { "" };
                format!("{head} allows only {shown}{case}")
            }
            (Kind::String { like: true, .. }, false) => {
                format!("{head} allows only values matching {shown}")
            }
            (_, true) => format!("{head} excludes {r} (policy values: {shown})"),
            _ => format!("{head} is false for {r} (policy values: {shown})"),
        },
        _ => format!(
            "{head} is false: the request has no key {} ({})",
            cond.key,
            absent_reason(req.class(&cond.key_lower), req.prefix)
        ),
    }
}

/// Why a web-identity request from this cluster does not carry a key.
fn absent_reason(class: Class, prefix: &str) -> String {
    match class {
        Class::Key(k) => k.why.to_string(),
        Class::Claim(claim) => context::CLAIMS
            .iter()
            .find(|(c, _, _)| *c == claim)
            .map(|(_, _, why)| why.to_string())
            .unwrap_or_else(|| {
                format!("AWS exposes only {prefix}:sub and {prefix}:aud of a ServiceAccount token")
            }),
        Class::OtherProvider => format!(
            "it names another provider; a request from this cluster carries {prefix}:sub and {prefix}:aud"
        ),
        Class::Unlisted => {
            "neither IAM nor STS lists it for sts:AssumeRoleWithWebIdentity".to_string()
        }
    }
}

/// The verdict for `subject` assuming `role` under `doc`. `doc_findings` are the findings of
/// parsing (returned when the document is invalid).
pub fn decide(
    doc: &Document,
    doc_findings: &[Finding],
    role: &RoleArn,
    subject: &Subject,
    supplied: &RequestContext,
) -> Verdict {
    let mut verdict = Verdict {
        allowed: false,
        valid_document: doc.valid,
        findings: Vec::new(),
        explanation: Vec::new(),
    };
    if !doc.valid {
        verdict.findings = doc_findings
            .iter()
            .filter(|f| f.severity == super::Severity::Error)
            .cloned()
            .collect();
        let first = verdict
            .findings
            .first()
            .map(|f| f.message.as_str())
            .unwrap_or("invalid document");
        verdict.explanation.push(format!(
            "the document is not a valid IAM trust policy ({} error(s)), so it allows nothing: {first}",
            verdict.findings.len()
        ));
        return verdict;
    }
    if !subject.issuer.starts_with("https://") {
        verdict.findings.push(Finding::new(
            Code::IssuerNotHttps,
            None,
            format!(
                "issuer {:?} does not start with https://; IAM OIDC providers are https-only",
                subject.issuer
            ),
        ));
        verdict.explanation.push(format!(
            "no statement can apply: the issuer {:?} is not an https:// URL, so no IAM OIDC provider matches it",
            subject.issuer
        ));
        return verdict;
    }
    let req = Request::new(
        role,
        &subject.issuer,
        &subject.namespace,
        &subject.service_account,
        &subject.audience,
        supplied,
    );

    let mut allow_true: Option<(&Statement, String)> = None;
    let mut allow_unknown: Vec<(&Statement, String)> = Vec::new();
    let mut deny_true: Option<(&Statement, String)> = None;
    let mut deny_unknown: Vec<(&Statement, String)> = Vec::new();
    let mut allow_misses: Vec<String> = Vec::new();
    for st in &doc.statements {
        let r = evaluate_statement(st, &req);
        match (st.is_allow(), r.applies) {
            (true, Tri::True) => {
                if allow_true.is_none() {
                    allow_true = Some((st, r.reason));
                }
            }
            (true, Tri::Unknown) => allow_unknown.push((st, r.reason)),
            (true, Tri::False) => allow_misses.push(r.reason),
            (false, Tri::True) => {
                if deny_true.is_none() {
                    deny_true = Some((st, r.reason));
                }
            }
            (false, Tri::Unknown) => deny_unknown.push((st, r.reason)),
            (false, Tri::False) => {}
        }
    }
    let sub = &req.sub;
    if let Some((st, why)) = deny_true {
        verdict.explanation.push(format!(
            "{} denies {sub} (Deny wins over any Allow): {why}",
            st.label()
        ));
        return verdict;
    }
    let context_finding = |(st, why): &(&Statement, String)| {
        Finding::new(
            Code::ContextDependentCondition,
            Some(st.index),
            format!("{why}; the decision is indeterminate and treated as not allowed"),
        )
    };
    if let Some((st, why)) = &allow_true {
        if deny_unknown.is_empty() {
            verdict.allowed = true;
            verdict
                .explanation
                .push(format!("{} allows {sub}: {why}", st.label()));
        } else {
            verdict.explanation.push(format!(
                "{} allows {sub} ({why}), but a Deny may apply depending on values only STS knows; treated as not allowed",
                st.label()
            ));
            for d in &deny_unknown {
                verdict.explanation.push(d.1.clone());
                verdict.findings.push(context_finding(d));
            }
        }
        return verdict;
    }
    if !allow_unknown.is_empty() {
        for a in &allow_unknown {
            verdict
                .explanation
                .push(format!("{}; treated as not allowed", a.1));
            verdict.findings.push(context_finding(a));
        }
        return verdict;
    }
    if doc.statements.iter().all(|s| !s.is_allow()) {
        verdict.explanation.push(format!(
            "no statement allows {sub}: the policy has no Allow statement"
        ));
    } else {
        verdict.explanation.extend(allow_misses);
    }
    verdict
}
