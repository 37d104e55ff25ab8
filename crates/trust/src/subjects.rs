//! Who can assume the role: the set of `sub` values a policy admits, as a regular language
//! (semantic, not syntactic).
//!
//! For each statement that applies to the cluster's provider and covers
//! `sts:AssumeRoleWithWebIdentity`, the conditions on `<prefix>:sub` become languages
//! (literals, globs, complements for negated operators) and are intersected; every other
//! condition does not depend on the subject and is evaluated once. The admitted set is the
//! union of the Allow statements minus the union of the Deny statements, so a Deny fence can
//! make a wildcard Allow safe.
//!
//! The set over-approximates soundly ("who *may* assume"): a condition that cannot be decided
//! offline (keys only STS knows, a variable naming `sub` itself) counts as true in an Allow
//! and as false in a Deny. Each such
//! approximation is recorded as a note. On policies without them the set is exact, which the
//! property tests check against [`super::evaluate`].

use super::arn::{RoleArn, issuer_key_prefix};
use super::classify::{Scope, SubjectSet, classify};
use super::condition::{
    BaseOp, Condition, KeyLookup, KeyValue, Kind, Resolved, SetOp, Tri, parse_bool, resolve,
};
use super::context::{self, Known, RequestContext, Source};
use super::document::{Document, Statement};
use super::evaluate::WEB_IDENTITY_ACTION;
use super::finding::{Code, Finding};
use super::glob::{Glob, Token};
use super::language::{Language, LanguageError};

/// Which statements apply: the exact provider ARN of the role's account, or (when the role is
/// unknown, for lint) any provider ARN whose URL is the issuer's.
#[derive(Debug, Clone)]
pub enum PrincipalMatch {
    /// Statements naming exactly this OIDC provider ARN.
    Exact(String),
    /// Statements naming a provider ARN for the issuer, in any account.
    AnyAccount,
}

/// What the analysis knows about the request.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Which statements apply.
    pub principal: PrincipalMatch,
    /// Issuer minus `https://`.
    pub prefix: &'a str,
    prefix_lower: String,
    /// The token audience; `None` when unknown (any audience counts as possible).
    pub audience: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// The request of `role` for `issuer`; `None` role means any account (lint).
    pub fn new(role: Option<&RoleArn>, issuer: &'a str, audience: Option<&'a str>) -> Target<'a> {
        let prefix = issuer_key_prefix(issuer);
        Target {
            principal: match role {
                Some(r) => PrincipalMatch::Exact(r.oidc_provider_arn(issuer)),
                None => PrincipalMatch::AnyAccount,
            },
            prefix,
            prefix_lower: prefix.to_lowercase(),
            audience,
        }
    }

    fn claim<'k>(&self, key_lower: &'k str) -> Option<&'k str> {
        key_lower
            .strip_prefix(self.prefix_lower.as_str())?
            .strip_prefix(':')
    }

    fn applies(&self, st: &Statement) -> bool {
        let principal = match &self.principal {
            PrincipalMatch::Exact(arn) => st.principal.federated.iter().any(|f| f == arn),
            PrincipalMatch::AnyAccount => st.principal.oidc.iter().any(|a| a.url() == self.prefix),
        };
        principal && st.actions.covers(WEB_IDENTITY_ACTION)
    }
}

/// Lookups for everything but `sub`, whose value is the variable of the analysis; the rest
/// as [`context`] models the request, with no supplied values.
impl KeyLookup for Target<'_> {
    fn lookup(&self, key_lower: &str) -> KeyValue<'_> {
        const NONE: &RequestContext = &RequestContext::EMPTY;
        match context::classify(key_lower, &[self.prefix_lower.as_str()]).source() {
            Source::Known(Known::Sub) => KeyValue::Unknown,
            Source::Known(Known::Aud) => self.audience.map_or(KeyValue::Unknown, KeyValue::Present),
            Source::Known(Known::FederatedProvider) => match &self.principal {
                PrincipalMatch::Exact(arn) => KeyValue::Present(arn),
                PrincipalMatch::AnyAccount => KeyValue::Unknown,
            },
            Source::Absent => KeyValue::Absent,
            source @ (Source::Sts | Source::StsMaybe) => {
                super::evaluate::supplied_or(NONE, key_lower, source)
            }
        }
    }
}

/// The subjects a policy admits.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Admitted `sub` strings (not yet restricted to valid ServiceAccount subjects).
    pub language: Language,
    /// The classification into namespaces and ServiceAccounts.
    pub subjects: SubjectSet,
    /// Where the set was over-approximated, one sentence each (empty: exact).
    pub notes: Vec<String>,
}

impl Admitted {
    /// Whether `system:serviceaccount:<namespace>:<service_account>` is admitted.
    pub fn admits(&self, namespace: &str, service_account: &str) -> bool {
        self.language.contains(&format!(
            "system:serviceaccount:{namespace}:{service_account}"
        ))
    }

    /// One line per admitted namespace scope or ServiceAccount, then the notes.
    pub fn lines(&self) -> Vec<String> {
        let mut out = self.subjects.lines();
        out.extend(self.notes.iter().map(|n| format!("note: {n}")));
        out
    }
}

/// The per-statement languages of one analysis.
#[derive(Debug)]
pub struct Analysis {
    /// Allow statements that apply, with their admitted `sub` language.
    pub allows: Vec<(u32, Language)>,
    /// Union of the Deny statements that apply.
    pub deny: Language,
    /// Where the languages were over-approximated, one sentence each.
    pub notes: Vec<String>,
}

/// Builds the languages of every applying statement of a valid document.
pub fn analyse(doc: &Document, target: &Target) -> Result<Analysis, LanguageError> {
    let mut a = Analysis {
        allows: Vec::new(),
        deny: Language::nothing(),
        notes: Vec::new(),
    };
    if !doc.valid {
        return Ok(a);
    }
    let mut denies = Vec::new();
    for st in &doc.statements {
        if !target.applies(st) {
            continue;
        }
        let allow = st.is_allow();
        let lang = statement_language(st, target, allow, &mut a.notes)?;
        if allow {
            a.allows.push((st.index, lang));
        } else {
            denies.push(lang);
        }
    }
    if !denies.is_empty() {
        a.deny = Language::union_all(denies)?;
    }
    Ok(a)
}

impl Analysis {
    /// Union of the Allow statements minus the Deny statements.
    pub fn admitted(&self) -> Result<Language, LanguageError> {
        let allows = self.allows.iter().map(|(_, l)| l.clone()).collect();
        Language::union_all(allows)?.difference(&self.deny)
    }
}

fn statement_language(
    st: &Statement,
    target: &Target,
    allow: bool,
    notes: &mut Vec<String>,
) -> Result<Language, LanguageError> {
    let mut lang = Language::everything();
    let label = st.label();
    for c in &st.conditions {
        // A condition decided neither way is noted and counted in the statement's favour
        // (an Allow admits, a Deny does not deny), so the listing errs towards showing more.
        let undecided = if target.claim(&c.key_lower) == Some("sub") {
            match sub_language(c, target)? {
                Some(l) => {
                    lang = lang.intersect(&l)?;
                    None
                }
                None => Some("cannot be resolved offline"),
            }
        } else {
            match c.evaluate(target) {
                Tri::True => None,
                Tri::False => return Ok(Language::nothing()),
                Tri::Unknown => Some("depends on values only STS knows"),
            }
        };
        if let Some(why) = undecided {
            let counted = if allow { "admitting" } else { "not denying" };
            notes.push(format!(
                "{label} condition {} {} {why}; counted as {counted}",
                c.operator_text, c.key
            ));
            if !allow {
                return Ok(Language::nothing());
            }
        }
        if lang.is_empty() {
            break;
        }
    }
    Ok(lang)
}

/// The `sub` values for which condition `c` on the (always present) `sub` key is true;
/// `None` when a value cannot be resolved offline.
fn sub_language(c: &Condition, target: &Target) -> Result<Option<Language>, LanguageError> {
    if c.operator.base == BaseOp::Null {
        let t = match c.operator.set {
            Some(SetOp::ForAllValues) => true,
            Some(SetOp::ForAnyValue) => false,
            // sub is present: Null "false" holds, Null "true" does not.
            None => c.values.iter().any(|v| parse_bool(&v.text) == Some(false)),
        };
        return Ok(Some(if t {
            Language::everything()
        } else {
            Language::nothing()
        }));
    }
    // One present value: IfExists and the set qualifiers change nothing (a web identity request carries one value per key).
    let mut values = Vec::with_capacity(c.values.len());
    for v in &c.values {
        let glob = match &v.pieces {
            None => Glob::new(&v.text),
            Some(pieces) => match resolve(pieces, target) {
                Resolved::Unknown => return Ok(None),
                Resolved::NoValue => continue,
                Resolved::Parts(parts) => parts.glob(),
            },
        };
        let literal = || {
            glob.tokens()
                .iter()
                .map(|t| match t {
                    Token::Char(c) => *c,
                    Token::One => '?',
                    Token::Run => '*',
                })
                .collect::<String>()
        };
        let l = match c.operator.base.kind() {
            Kind::String {
                like: false,
                ignore_case: false,
            }
            | Kind::Binary => Language::literal(&literal()),
            Kind::String {
                like: false,
                ignore_case: true,
            } => Language::literal_ignore_case(&literal()),
            Kind::String { like: true, .. } => Language::from_glob(&glob, &v.text)?,
            // A subject has exactly three colons; a pattern with the same component count
            // matches it component by component exactly as a glob does, since no wildcard
            // can absorb a colon that the pattern's literal colons have not already taken.
            Kind::Arn if literal().matches(':').count() == 3 => {
                Language::from_glob(&glob, &v.text)?
            }
            // Subjects never parse as ARNs of another shape, numbers, dates, booleans or IPs.
            _ => Language::nothing(),
        };
        values.push(l);
    }
    let positive = if values.is_empty() {
        Language::nothing()
    } else {
        Language::union_all(values)?
    };
    Ok(Some(if c.operator.is_negated() {
        positive.complement()
    } else {
        positive
    }))
}

/// The admitted subjects of a valid document for `target`.
pub fn admitted(doc: &Document, target: &Target) -> Result<Admitted, LanguageError> {
    let analysis = analyse(doc, target)?;
    let language = analysis.admitted()?;
    let subjects = classify(&language)?;
    Ok(Admitted {
        language,
        subjects,
        notes: analysis.notes,
    })
}

/// The `sub` values the policy writes out (lowercased), so that a namespace or ServiceAccount
/// admitted only through a wildcard can be told from one somebody named.
struct Written(Vec<String>);

impl Written {
    fn of(doc: &Document, target: &Target) -> Written {
        Written(
            doc.statements
                .iter()
                .filter(|st| target.applies(st))
                .flat_map(|st| &st.conditions)
                .filter(|c| target.claim(&c.key_lower) == Some("sub"))
                .flat_map(|c| &c.values)
                .map(|v| v.text.to_lowercase())
                .collect(),
        )
    }

    fn namespace(&self, namespace: &str) -> bool {
        let prefix = format!("system:serviceaccount:{namespace}:");
        self.0.iter().any(|v| v.starts_with(&prefix))
    }

    fn subject(&self, namespace: &str, name: &str) -> bool {
        let subject = format!("system:serviceaccount:{namespace}:{name}");
        self.0.contains(&subject)
    }
}

fn is_bounded(set: &SubjectSet) -> bool {
    match set {
        SubjectSet::Nobody => true,
        SubjectSet::Scoped(scopes) => scopes
            .iter()
            .all(|s| matches!(s.service_accounts, Scope::Names(_))),
        _ => false,
    }
}

/// Describes the admitted set briefly for finding messages.
fn describe(set: &SubjectSet) -> String {
    set.lines().join("; ")
}

/// The set-level findings (`SUB_UNRESTRICTED`, `SUB_WILDCARD_NAMESPACE`,
/// `SUB_WILDCARD_SERVICEACCOUNT`, `ALLOW_NEVER_MATCHES`, `SUB_VALUE_MALFORMED` for patterns),
/// and the statements whose admitted set is bounded (so `NEGATED_SUB_ALLOW` does not apply).
pub fn findings(
    doc: &Document,
    target: &Target,
) -> Result<(Vec<Finding>, Vec<u32>), LanguageError> {
    let mut out = Vec::new();
    let mut bounded = Vec::new();
    let analysis = analyse(doc, target)?;
    let written = Written::of(doc, target);
    let mut any_unrestricted = false;
    for (index, lang) in &analysis.allows {
        // Statements are numbered by their position (document::validate): found by index,
        // not by a scan per Allow.
        let Some(st) = usize::try_from(*index)
            .ok()
            .and_then(|i| doc.statements.get(i))
            .filter(|s| s.index == *index)
        else {
            continue;
        };
        let at = st.label();
        let set = classify(&lang.difference(&analysis.deny)?)?;
        let i = Some(*index);
        match &set {
            SubjectSet::Unrestricted => {
                any_unrestricted = true;
                out.push(Finding::new(Code::SubUnrestricted, i, format!(
                    "{at} admits every ServiceAccount of the cluster (sub is not pinned, or only excluded); pin {}:sub to system:serviceaccount:<namespace>:<name>",
                    target.prefix
                )));
            }
            SubjectSet::UnboundedNamespaces { .. } => out.push(Finding::new(Code::SubWildcardNamespace, i, format!(
                "{at} admits ServiceAccounts of namespaces nobody listed: {}; anyone who can create such a namespace can assume the role",
                describe(&set)
            ))),
            SubjectSet::Scoped(scopes) => {
                // `?` admits finitely many names, but names nobody wrote: `pay?` is any
                // namespace of four characters starting with "pay".
                let unnamed: Vec<&str> = scopes
                    .iter()
                    .filter(|s| !written.namespace(&s.namespace))
                    .map(|s| s.namespace.as_str())
                    .collect();
                let wide: Vec<String> = scopes
                    .iter()
                    .filter(|s| match &s.service_accounts {
                        Scope::Names(names) => {
                            !names.iter().all(|n| written.subject(&s.namespace, n))
                        }
                        _ => true,
                    })
                    .map(|s| s.namespace.clone())
                    .collect();
                if !unnamed.is_empty() {
                    out.push(Finding::new(Code::SubWildcardNamespace, i, format!(
                        "{at} admits namespaces that no value names, through a wildcard (? is any one character): {}{}; anyone who can create such a namespace can assume the role",
                        unnamed.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                        if unnamed.len() > 5 { ", ..." } else { "" }
                    )));
                } else if !wide.is_empty() {
                    out.push(Finding::new(Code::SubWildcardServiceaccount, i, format!(
                        "{at} admits more than named ServiceAccounts in namespace {}: {}",
                        wide.join(", "),
                        describe(&set)
                    )));
                }
            }
            SubjectSet::Nobody => out.push(Finding::new(Code::AllowNeverMatches, i, format!(
                "{at} admits no valid system:serviceaccount:<namespace>:<name> subject{}",
                if analysis.deny.is_empty() { "" } else { " that the Deny statements leave" }
            ))),
        }
        if is_bounded(&set) {
            bounded.push(*index);
        }
        for c in &st.conditions {
            if target.claim(&c.key_lower) != Some("sub")
                || c.operator.is_negated()
                || !matches!(c.operator.base.kind(), Kind::String { like: true, .. })
            {
                continue;
            }
            for v in &c.values {
                let glob = match &v.pieces {
                    None => Glob::new(&v.text),
                    Some(pieces) => match resolve(pieces, target) {
                        Resolved::Parts(parts) => parts.glob(),
                        Resolved::NoValue | Resolved::Unknown => continue,
                    },
                };
                if glob.has_wildcards() && super::lint::placeholder_in(&v.text).is_none() {
                    let set = classify(&Language::from_glob(&glob, &v.text)?)?;
                    if set == SubjectSet::Nobody {
                        out.push(Finding::new(Code::SubValueMalformed, i, format!(
                            "{at}: condition {} {} value {:?} can never match a ServiceAccount subject system:serviceaccount:<namespace>:<name> (values are case-sensitive; names are lowercase)",
                            c.operator_text, c.key, v.text
                        )));
                    }
                }
            }
        }
    }
    if !any_unrestricted && analysis.allows.len() > 1 {
        let set = classify(&analysis.admitted()?)?;
        if set == SubjectSet::Unrestricted {
            out.push(Finding::new(Code::SubUnrestricted, None, format!(
                "the Allow statements together admit every ServiceAccount of the cluster; pin {}:sub",
                target.prefix
            )));
        }
    }
    Ok((out, bounded))
}
