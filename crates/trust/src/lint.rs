//! The finding catalogue (lint, [`crate::Code`]), except the grammar findings, which come
//! from [`super::document`], and the set-level `SUB_*` findings, which come from
//! [`super::subjects`].
//!
//! Statement-level checks look at one statement with the cluster's issuer in mind. Keys are
//! classified against the statement's own OIDC providers (the key prefix a provider's
//! requests carry), falling back to the cluster's issuer when the statement names none.

use super::arn::{RoleArn, issuer_key_prefix};
use super::condition::{
    BaseOp, CondValue, Condition, KeyLookup, KeyValue, Kind, Piece, SetOp, Tri, parse_bool,
};
use super::context::{self, Class, Source};
use super::document::{Document, Statement, Version};
use super::evaluate::WEB_IDENTITY_ACTION;
use super::finding::{Code, Finding};

/// The audience IRSA tokens carry by default.
pub const DEFAULT_AUDIENCE: &str = crate::evaluate::STS_AUDIENCE;

/// Placeholders of the Control Plane template.
pub const PLACEHOLDERS: &[&str] = &["<NAMESPACE>", "<SERVICE_ACCOUNT>"];

/// A context where every key is absent: for questions about policy values alone.
struct NoKeys;

impl KeyLookup for NoKeys {
    fn lookup(&self, _: &str) -> KeyValue<'_> {
        KeyValue::Absent
    }
}

/// How a condition key relates to the statement's providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass<'a> {
    /// `<provider>:<claim>` of one of the statement's providers (claim lowercased).
    Claim(&'a str),
    /// Looks like an OIDC claim key of another provider (its prefix has `.` or `/`).
    OtherProvider,
    /// Only STS knows the value (`aws:SourceIp`, `sts:RoleSessionName`, ...).
    RequestTime,
    /// Present with a value known offline (`aws:FederatedProvider`).
    Known,
    /// A key that a web-identity request made with a ServiceAccount token never carries
    /// (`aws:username`, `aws:RequestTag/...`, ...).
    Absent,
}

/// Lowercased key prefixes of a statement's OIDC providers, or the issuer's when it names none.
pub fn provider_prefixes(st: &Statement, issuer: &str) -> Vec<String> {
    if st.principal.oidc.is_empty() {
        vec![issuer_key_prefix(issuer).to_lowercase()]
    } else {
        st.principal
            .oidc
            .iter()
            .map(|a| a.url().to_lowercase())
            .collect()
    }
}

/// Classifies `key_lower` against `prefixes` (lowercased) with the request model of
/// [`context`].
pub fn classify_key<'a>(key_lower: &'a str, prefixes: &[String]) -> KeyClass<'a> {
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    match context::classify(key_lower, &prefixes) {
        Class::Claim(claim) => KeyClass::Claim(claim),
        Class::OtherProvider => KeyClass::OtherProvider,
        class => match class.source() {
            Source::Sts | Source::StsMaybe => KeyClass::RequestTime,
            Source::Known(_) => KeyClass::Known,
            Source::Absent => KeyClass::Absent,
        },
    }
}

/// Whether a condition is true on an absent key (negated, IfExists, ForAllValues, Null true).
fn true_when_absent(c: &Condition) -> bool {
    if c.operator.base == BaseOp::Null {
        return match c.operator.set {
            Some(SetOp::ForAllValues) => true,
            Some(SetOp::ForAnyValue) => false,
            None => c.values.iter().any(|v| parse_bool(&v.text) == Some(true)),
        };
    }
    c.operator.on_absent_key().unwrap_or(false)
}

/// Whether a condition pins the key to listed values (a positive test that fails when absent).
pub fn is_positive(c: &Condition) -> bool {
    c.operator.base != BaseOp::Null
        && !c.operator.is_negated()
        && !c.operator.if_exists
        && c.operator.set != Some(SetOp::ForAllValues)
}

/// Lint findings for the whole document (the grammar findings not included).
pub fn lint(doc: &Document, role: Option<&RoleArn>, issuer: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if !issuer.starts_with("https://") {
        out.push(Finding::new(Code::IssuerNotHttps, None, format!(
            "issuer {issuer:?} does not start with https://; IAM OIDC providers are https-only, so no request can match"
        )));
    }
    if issuer.ends_with('/') {
        out.push(Finding::new(Code::IssuerTrailingSlash, None, format!(
            "issuer {issuer:?} ends with a slash; the provider ARN and the condition keys must keep it ({}:sub)",
            issuer_key_prefix(issuer)
        )));
    }
    for st in &doc.statements {
        lint_statement(doc, st, role, issuer, &mut out);
    }
    out
}

/// One statement being linted, with what every check family needs to know about it.
struct StatementCtx<'a> {
    doc: &'a Document,
    st: &'a Statement,
    role: Option<&'a RoleArn>,
    /// The statement's label for messages (`statement 0`, with its Sid).
    at: String,
    allow: bool,
    /// The cluster issuer's key prefix.
    prefix: &'a str,
    /// The statement's provider key prefixes (lowercased), or the issuer's.
    prefixes: Vec<String>,
}

impl StatementCtx<'_> {
    fn finding(&self, code: Code, message: String) -> Finding {
        Finding::new(code, Some(self.st.index), message)
    }
}

/// What the conditions of a statement say about `aud` and `sub` together.
#[derive(Debug, Default)]
struct SubjectPins {
    aud_pinned: bool,
    sub_positive: bool,
    sub_negated: bool,
}

/// Every statement-level check, one family at a time, in the order findings are reported.
fn lint_statement(
    doc: &Document,
    st: &Statement,
    role: Option<&RoleArn>,
    issuer: &str,
    out: &mut Vec<Finding>,
) {
    let cx = StatementCtx {
        doc,
        st,
        role,
        at: st.label(),
        allow: st.is_allow(),
        prefix: issuer_key_prefix(issuer),
        prefixes: provider_prefixes(st, issuer),
    };
    principal(&cx, out);
    action(&cx, out);
    principal_placeholders(&cx, out);
    conditions(&cx, out);
}

/// The principal: who the statement trusts, against the role and the cluster's issuer.
fn principal(cx: &StatementCtx, out: &mut Vec<Finding>) {
    let (at, st, allow, oidc) = (&cx.at, cx.st, cx.allow, &cx.st.principal.oidc);
    let (role, prefix) = (cx.role, cx.prefix);
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    if allow && st.principal.has_aws_wildcard() {
        push(
            Code::WildcardAwsPrincipal,
            format!(
                "{at}: Principal {{\"AWS\": \"*\"}} lets every AWS principal of every account assume the role"
            ),
        );
    }
    if oidc.is_empty() {
        push(
            Code::PrincipalNotOidcProvider,
            format!(
                "{at}: its principal is not an OIDC provider, so it never applies to a ServiceAccount token"
            ),
        );
    } else {
        if let Some(role) = role {
            for arn in oidc {
                if arn.account() != role.account() || arn.partition() != role.partition() {
                    push(
                        Code::FederatedAccountMismatch,
                        format!(
                            "{at}: provider {} is in {}:{} but role {} is in {}:{}; STS only uses the provider of the role's own account, so this never matches",
                            arn.as_str(),
                            arn.partition(),
                            arn.account(),
                            role.name(),
                            role.partition(),
                            role.account()
                        ),
                    );
                }
            }
        }
        if !oidc.iter().any(|a| a.url() == prefix) {
            let urls: Vec<&str> = oidc.iter().map(|a| a.url()).collect();
            let hint = if urls
                .iter()
                .any(|u| u.trim_end_matches('/') == prefix.trim_end_matches('/'))
            {
                " (only the trailing slash differs, and it is part of the provider identity)"
            } else if urls.iter().any(|u| u.eq_ignore_ascii_case(prefix)) {
                " (only letter case differs)"
            } else {
                ""
            };
            push(
                Code::FederatedIssuerMismatch,
                format!(
                    "{at}: trusts provider {} but this cluster's issuer is {prefix}{hint}",
                    urls.join(", ")
                ),
            );
        }
    }
}

/// The action: whether the statement grants the web-identity call, and no more.
fn action(cx: &StatementCtx, out: &mut Vec<Finding>) {
    let (at, st, allow, oidc) = (&cx.at, cx.st, cx.allow, &cx.st.principal.oidc);
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    if allow
        && !oidc.is_empty()
        && !st.actions.items.is_empty()
        && !st.actions.covers(WEB_IDENTITY_ACTION)
    {
        push(
            Code::ActionMissingWebIdentity,
            format!(
                "{at}: trusts an OIDC provider but its {} {} does not cover {WEB_IDENTITY_ACTION}",
                if st.actions.negated {
                    "NotAction"
                } else {
                    "Action"
                },
                st.actions.items.join(", ")
            ),
        );
    }
    if allow && st.actions.negated {
        push(
            Code::NotactionInTrustPolicy,
            format!(
                "{at}: Allow with NotAction grants every action not listed ({}); list the actions instead",
                st.actions.items.join(", ")
            ),
        );
    }
    if allow && !st.actions.negated {
        let wild: Vec<&str> = st.actions.wildcards().collect();
        if !wild.is_empty() && st.actions.covers(WEB_IDENTITY_ACTION) {
            push(
                Code::ActionWildcard,
                format!(
                    "{at}: Action {} is broader than needed; use {WEB_IDENTITY_ACTION}",
                    wild.join(", ")
                ),
            );
        }
    }
}

/// Template placeholders left in the principal.
fn principal_placeholders(cx: &StatementCtx, out: &mut Vec<Finding>) {
    let (at, st) = (&cx.at, cx.st);
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    for (kind, values) in [
        ("AWS", &st.principal.aws),
        ("Federated", &st.principal.federated),
    ] {
        for v in values.iter() {
            if let Some(ph) = placeholder_in(v) {
                push(
                    Code::PlaceholderNotReplaced,
                    format!("{at}: Principal {kind} {v:?} still holds the placeholder {ph}"),
                );
            }
        }
    }
}

/// The conditions, one at a time, then what they pin together (`aud`, `sub`).
fn conditions(cx: &StatementCtx, out: &mut Vec<Finding>) {
    let mut summary = SubjectPins::default();
    for c in &cx.st.conditions {
        condition(cx, c, &mut summary, out);
    }
    let (at, allow, oidc, prefix, prefixes) = (
        &cx.at,
        cx.allow,
        &cx.st.principal.oidc,
        cx.prefix,
        &cx.prefixes,
    );
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    if allow && !oidc.is_empty() && !summary.aud_pinned {
        push(
            Code::MissingAudCondition,
            format!(
                "{at}: no condition pins {}:aud; add \"StringEquals\": {{\"{}:aud\": \"{DEFAULT_AUDIENCE}\"}}",
                prefixes.first().map(String::as_str).unwrap_or(prefix),
                prefixes.first().map(String::as_str).unwrap_or(prefix)
            ),
        );
    }
    if allow && !oidc.is_empty() && summary.sub_negated && !summary.sub_positive {
        push(
            Code::NegatedSubAllow,
            format!(
                "{at}: sub is restricted only by negated operators, a deny-list: every other ServiceAccount of the cluster is admitted"
            ),
        );
    }
}

/// One condition: its key against the statement's providers and its operator, its values,
/// and what it pins of `aud` and `sub`.
fn condition(cx: &StatementCtx, c: &Condition, summary: &mut SubjectPins, out: &mut Vec<Finding>) {
    let claim = match classify_key(&c.key_lower, &cx.prefixes) {
        KeyClass::Claim(claim) => Some(claim),
        _ => None,
    };
    condition_key(cx, c, out);
    condition_values(cx, c, out);
    condition_pins(cx, c, claim, summary, out);
}

/// The key and the operator: keys a web-identity request never (or always) carries, keys of
/// other providers or known only at request time, operators that do not fit the key.
fn condition_key(cx: &StatementCtx, c: &Condition, out: &mut Vec<Finding>) {
    let (at, allow, oidc, prefixes) = (&cx.at, cx.allow, &cx.st.principal.oidc, &cx.prefixes);
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    let op = &c.operator_text;
    let key = &c.key;
    let class = classify_key(&c.key_lower, prefixes);
    let claim = match class {
        KeyClass::Claim(claim) => Some(claim),
        _ => None,
    };
    match class {
        KeyClass::OtherProvider if !oidc.is_empty() => push(
            Code::ConditionKeyProviderMismatch,
            format!(
                "{at}: condition {op} {key} names another provider than the statement's ({}); requests from that provider never carry this key",
                prefixes.join(", ")
            ),
        ),
        KeyClass::Claim(claim) if !context::CLAIMS.iter().any(|(c, _, _)| *c == claim) => push(
            Code::UnknownOidcClaimKey,
            format!(
                "{at}: condition {op} {key}: {claim:?} is not a claim AWS exposes as a key (only sub and aud for Kubernetes tokens); the key is always absent"
            ),
        ),
        // Null on a key that is always there is decided without its value.
        KeyClass::RequestTime
            if !(c.operator.base == BaseOp::Null
                && context::find(&c.key_lower).map(|k| k.source) == Some(Source::Sts)) =>
        {
            push(
                Code::ContextDependentCondition,
                format!(
                    "{at}: condition {op} {key} depends on a value only STS knows; admission cannot decide it"
                ),
            )
        }
        _ => {}
    }
    let never_present = match class {
        KeyClass::Claim(claim) => claim != "sub" && claim != "aud",
        KeyClass::OtherProvider | KeyClass::Absent => true,
        KeyClass::RequestTime | KeyClass::Known => false,
    };
    if !oidc.is_empty() && never_present && true_when_absent(c) {
        push(
            Code::VacuousCondition,
            format!(
                "{at}: condition {op} {key} is always true: a web-identity request never carries this key, and {op} is true when the key is absent"
            ),
        );
    }
    if allow && !oidc.is_empty() && never_present && !true_when_absent(c) {
        push(
            Code::AllowNeverMatches,
            format!(
                "{at}: condition {op} {key} is always false: a web-identity request never carries this key, so the statement never allows anything"
            ),
        );
    }
    let always_present = matches!(claim, Some("sub" | "aud"));
    if always_present && c.operator.if_exists {
        push(
            Code::IfexistsOnAlwaysPresentKey,
            format!(
                "{at}: condition {op} {key}: the key is always present, so IfExists only hides typos in the key; use {}",
                op.trim_end_matches("IfExists")
            ),
        );
    }
    if allow && always_present && c.operator.base == BaseOp::Null {
        let wants_absent = c.values.iter().all(|v| parse_bool(&v.text) == Some(true));
        if wants_absent && c.operator.set.is_none() {
            push(
                Code::AllowNeverMatches,
                format!(
                    "{at}: condition {op} {key} requires the key to be absent, but every web-identity request carries it"
                ),
            );
        }
    }
    if c.operator.set == Some(SetOp::ForAllValues) && c.key_lower.ends_with(":sub") {
        push(
            Code::ForallvaluesOnSingleValuedKey,
            format!(
                "{at}: condition {op} {key}: sub is single-valued, and ForAllValues is true when the key is absent; use {}",
                op.trim_start_matches("ForAllValues:")
            ),
        );
    }
}

/// The values: wildcards outside `StringLike`, policy variables where IAM does not substitute
/// them, template placeholders.
fn condition_values(cx: &StatementCtx, c: &Condition, out: &mut Vec<Finding>) {
    let (at, doc) = (&cx.at, cx.doc);
    let op = &c.operator_text;
    let key = &c.key;
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    if let Kind::String { like: false, .. } = c.operator.base.kind() {
        for v in &c.values {
            if literal_text(v.pieces.as_deref(), &v.text).contains(['*', '?']) {
                push(
                    Code::WildcardWithoutLike,
                    format!(
                        "{at}: condition {op} {key} value {:?}: * and ? are literal in {op}; use StringLike for wildcards",
                        v.text
                    ),
                );
            }
        }
    }
    for v in &c.values {
        if v.text.contains("${") {
            if doc.version != Version::V2012_10_17 {
                push(
                    Code::VariableNotSupportedInVersion,
                    format!(
                        "{at}: condition {op} {key} value {:?}: policy variables are literal text without \"Version\": \"2012-10-17\"",
                        v.text
                    ),
                );
            } else if !c.operator.base.takes_variables() {
                push(
                    Code::VariableNotSupportedInVersion,
                    format!(
                        "{at}: condition {op} {key} value {:?}: policy variables are substituted only in String and Arn operators",
                        v.text
                    ),
                );
            }
        }
        if let Some(ph) = placeholder_in(&v.text) {
            push(
                Code::PlaceholderNotReplaced,
                format!(
                    "{at}: condition {op} {key} value {:?} still holds the template placeholder {ph}; render the template for a namespace and ServiceAccount",
                    v.text
                ),
            );
        }
    }
}

/// What the condition pins of `aud` (an unexpected audience) and `sub` (values that can never
/// be a ServiceAccount), noted in `summary` for the statement-level checks.
fn condition_pins(
    cx: &StatementCtx,
    c: &Condition,
    claim: Option<&str>,
    summary: &mut SubjectPins,
    out: &mut Vec<Finding>,
) {
    let at = &cx.at;
    let op = &c.operator_text;
    let key = &c.key;
    let mut push = |code, message: String| out.push(cx.finding(code, message));
    if claim == Some("aud") && is_positive(c) {
        summary.aud_pinned = true;
        if c.evaluate_value(DEFAULT_AUDIENCE, &NoKeys) == Tri::False {
            push(
                Code::AudUnexpectedValue,
                format!(
                    "{at}: condition {op} {key} does not admit {DEFAULT_AUDIENCE}, the audience of IRSA tokens; check for a typo or make sure the ServiceAccount sets this audience"
                ),
            );
        }
    }
    if claim == Some("sub") {
        if c.operator.is_negated() {
            summary.sub_negated = true;
        } else if c.operator.base != BaseOp::Null {
            summary.sub_positive = true;
        }
        if matches!(c.operator.base.kind(), Kind::String { .. }) && !c.operator.is_negated() {
            for v in &c.values {
                if placeholder_in(&v.text).is_none()
                    && let Some(why) = malformed_sub(c, v)
                {
                    push(
                        Code::SubValueMalformed,
                        format!(
                            "{at}: condition {op} {key} value {:?} can never match a ServiceAccount: {why}",
                            v.text
                        ),
                    );
                }
            }
        }
    }
}

/// The value text outside `${...}` escapes and variables (wildcards there are not policy text).
fn literal_text(pieces: Option<&[Piece]>, text: &str) -> String {
    match pieces {
        None => text.to_string(),
        Some(pieces) => pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect(),
    }
}

/// The value with its escapes resolved to the characters they stand for (variables kept as
/// written).
fn unescaped(v: &CondValue) -> String {
    match &v.pieces {
        None => v.text.clone(),
        Some(pieces) => pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Escaped(c) => c.to_string(),
                Piece::Variable { key, default, .. } => match default {
                    Some(d) => format!("${{{key}, '{d}'}}"),
                    None => format!("${{{key}}}"),
                },
            })
            .collect(),
    }
}

/// The template placeholder in `text`, if any.
pub fn placeholder_in(text: &str) -> Option<&'static str> {
    PLACEHOLDERS.iter().copied().find(|p| text.contains(p))
}

/// Why a literal `sub` value (or a wildcard-free pattern) cannot be a ServiceAccount subject.
/// `${*}`, `${?}` and `${$}` are the literal characters; only `*` and `?` of the policy text
/// are wildcards.
fn malformed_sub(c: &Condition, v: &CondValue) -> Option<String> {
    let Kind::String { like, ignore_case } = c.operator.base.kind() else {
        return None;
    };
    if like && literal_text(v.pieces.as_deref(), &v.text).contains(['*', '?']) {
        return None;
    }
    let value = unescaped(v);
    let v = if ignore_case {
        value.to_lowercase()
    } else {
        value
    };
    let Some(rest) = v.strip_prefix("system:serviceaccount:") else {
        return Some(
            "it does not start with system:serviceaccount: (values are case-sensitive)".to_string(),
        );
    };
    let Some((ns, sa)) = rest.split_once(':') else {
        return Some("expected system:serviceaccount:<namespace>:<serviceaccount>".to_string());
    };
    if !crate::k8s::is_dns_label(ns) {
        return Some(format!(
            "namespace {ns:?} is not a valid namespace name (lowercase letters, digits and '-')"
        ));
    }
    if !crate::k8s::is_dns_subdomain(sa) {
        return Some(format!(
            "ServiceAccount {sa:?} is not a valid name (lowercase letters, digits, '-' and '.')"
        ));
    }
    None
}
