//! The policy document: grammar (IAM JSON policy grammar), the syntax tree, and validation
//! against everything IAM refuses (IAM policy validation).
//!
//! Parsing never stops at the first problem: every statement is read as far as possible so
//! that one run reports every error, and so that lint can still look at the valid parts.
//! A document with any error-severity finding is invalid and is never allowed.
//!
//! [`parse`] reads a document into the syntax tree defined here.

pub mod parse;

pub use parse::{parse_text, parse_value, validate};

use crate::arn::OidcProviderArn;
use crate::condition::Condition;
use crate::glob::Glob;

/// IAM's bound on `AssumeRolePolicyDocument` (CreateRole API), in characters.
pub const MAX_DOCUMENT_CHARS: usize = 131_072;
/// Default role-trust-policy quota, non-whitespace characters (adjustable per account).
pub const DEFAULT_QUOTA_CHARS: usize = 2_048;

/// Identity providers that `Federated` may name without an ARN.
pub const BUILT_IN_PROVIDERS: &[&str] = &[
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "cognito-identity.amazonaws.com",
];

/// The `Version` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`: `${...}` is literal text.
    V2008_10_17,
    /// No `Version`: as 2008-10-17, `${...}` is literal text.
    Missing,
    /// Anything else (the document is invalid).
    Invalid,
}

impl Version {
    /// Policy variables exist only in 2012-10-17 (IAM policy variables).
    pub fn substitutes_variables(self) -> bool {
        self == Version::V2012_10_17
    }
}

/// The `Effect` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`: a matching statement grants the action.
    Allow,
    /// `Deny`: a matching statement refuses it, whatever the Allows say.
    Deny,
}

impl Effect {
    /// `Allow` or `Deny`, as spelled in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// The `Principal` element, values per type (several types and values are OR-ed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Principal {
    /// `AWS` values: account, user or role ARNs, or `*`.
    pub aws: Vec<String>,
    /// `Federated` values: OIDC or SAML provider ARNs, or built-in provider names.
    pub federated: Vec<String>,
    /// `Service` values, e.g. `ec2.amazonaws.com`.
    pub service: Vec<String>,
    /// `CanonicalUser` values (S3 only, meaningless in a trust policy).
    pub canonical_user: Vec<String>,
    /// The `Federated` values that are well-formed OIDC provider ARNs.
    pub oidc: Vec<OidcProviderArn>,
}

impl Principal {
    /// Whether `{"AWS": "*"}` is among the values.
    pub fn has_aws_wildcard(&self) -> bool {
        self.aws.iter().any(|a| a == "*")
    }
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actions {
    /// `NotAction`: the statement covers every action not listed.
    pub negated: bool,
    /// The actions as written, e.g. `sts:AssumeRoleWithWebIdentity`.
    pub items: Vec<String>,
    globs: Vec<Glob>,
}

impl Actions {
    /// Whether the statement covers `action` (case-insensitive globs, IAM's Action element).
    pub fn covers(&self, action: &str) -> bool {
        let listed = self.globs.iter().any(|g| g.is_match_ignore_case(action));
        listed != self.negated
    }

    /// The listed items with a wildcard.
    pub fn wildcards(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .filter(|a| a.contains(['*', '?']))
            .map(String::as_str)
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in `Statement` (0-based).
    pub index: u32,
    /// The `Sid`, when present.
    pub sid: Option<String>,
    /// `None` when missing or invalid (the document is then invalid).
    pub effect: Option<Effect>,
    /// The `Principal` element.
    pub principal: Principal,
    /// The `Action` or `NotAction` element.
    pub actions: Actions,
    /// In document order, operators first then keys.
    pub conditions: Vec<Condition>,
    /// No error finding concerns this statement.
    pub valid: bool,
}

impl Statement {
    /// `statement 0` or `statement 0 (Sid "TrustPayments")`, the subject of messages.
    pub fn label(&self) -> String {
        label(self.index, self.sid.as_deref())
    }

    /// Whether the `Effect` is `Allow`.
    pub fn is_allow(&self) -> bool {
        self.effect == Some(Effect::Allow)
    }
}

fn label(index: u32, sid: Option<&str>) -> String {
    match sid {
        Some(sid) if !sid.is_empty() => format!("statement {index} (Sid {sid:?})"),
        _ => format!("statement {index}"),
    }
}

/// A parsed trust-policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The `Version` element.
    pub version: Version,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
    /// No error finding at all.
    pub valid: bool,
    /// Characters of the document text.
    pub chars: usize,
    /// Characters that count toward the quota (whitespace excluded).
    pub quota_chars: usize,
}
