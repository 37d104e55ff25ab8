//! The request context of `sts:AssumeRoleWithWebIdentity` for a Kubernetes ServiceAccount
//! token: one explicit model of every condition key a trust policy can test.
//!
//! A projected ServiceAccount token carries `iss`, `sub`, `aud`, `exp`, `iat`, `nbf` and
//! `kubernetes.io`, and nothing else; AWS's SDKs send the call unsigned. Every key of IAM's
//! global list and of STS's list for this action is classified here ([`KEYS`]) as one of
//! ([`Source`]):
//! - **known**: present, with a value the engine knows (`<provider>:sub`, `<provider>:aud`,
//!   `aws:FederatedProvider`);
//! - **STS only**: present, but only STS knows the value (`aws:CurrentTime`,
//!   `sts:RoleSessionName`, ...), or only STS knows whether it is present at all
//!   (`aws:SourceIp` is absent when the Pod reaches STS through a VPC endpoint);
//! - **absent**: never in such a request, because the token lacks the claim that would set it
//!   (session tags come only from `https://aws.amazon.com/tags`, a source identity only from
//!   `https://aws.amazon.com/source_identity`) or the request is not of the kind that carries
//!   it (signed by an IAM principal, made by a service, from a browser, ...).
//!
//! IAM's rules then decide absent keys deterministically ([`crate::condition`]): `Null: true`
//! holds, `...IfExists` and negated operators match, `ForAllValues` holds and `ForAnyValue`
//! does not. Only a condition that needs a value only STS knows stays undecided, and then the
//! verdict names the key; a caller who knows the value supplies it ([`RequestContext`]).
//!
//! The table with its sources is in `crates/trust/CONTEXT.md`; every row has a test.

use std::collections::BTreeMap;

/// Global condition keys: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>.
const GLOBAL: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html";
/// STS condition keys: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html>.
const STS: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html";

/// Where a key's value comes from in an `AssumeRoleWithWebIdentity` request made with a
/// ServiceAccount token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Present, with a value the engine knows.
    Known(Known),
    /// Present in every such request; only STS knows the value.
    Sts,
    /// Only STS knows whether it is present, and its value.
    StsMaybe,
    /// Never present.
    Absent,
}

/// The values the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// `<provider>:sub`: `system:serviceaccount:<namespace>:<name>`.
    Sub,
    /// `<provider>:aud`: the token audience.
    Aud,
    /// `aws:FederatedProvider`: the OIDC provider ARN of the role's account.
    FederatedProvider,
}

/// One condition key of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key as AWS spells it; a key ending in `/` stands for every key with that prefix
    /// (`aws:RequestTag/` covers `aws:RequestTag/team`).
    pub name: &'static str,
    /// Where the value comes from.
    pub source: Source,
    /// Whether the request can hold several values (`ForAnyValue`/`ForAllValues` keys).
    pub multivalued: bool,
    /// Why it is classified so, one sentence.
    pub why: &'static str,
    /// The AWS documentation the classification rests on.
    pub doc: &'static str,
}

impl Key {
    /// Whether this entry covers `key_lower` (a lowercased key).
    pub fn covers(&self, key_lower: &str) -> bool {
        if self.name.ends_with('/') {
            key_lower.len() > self.name.len()
                && key_lower
                    .get(..self.name.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(self.name))
        } else {
            key_lower.eq_ignore_ascii_case(self.name)
        }
    }

    /// Whether a caller may supply the value (only STS knows it).
    pub fn suppliable(&self) -> bool {
        matches!(self.source, Source::Sts | Source::StsMaybe)
    }
}

macro_rules! key {
    ($name:literal, $source:expr, $multi:literal, $doc:expr, $why:literal) => {
        Key {
            name: $name,
            source: $source,
            multivalued: $multi,
            why: $why,
            doc: $doc,
        }
    };
}

use Source::{Absent, Known as K, Sts, StsMaybe};

/// Every IAM global condition key and every STS condition key, classified for
/// `sts:AssumeRoleWithWebIdentity` with a ServiceAccount token. Provider claim keys
/// (`<provider>:sub`, ...) are classified by [`classify`], not listed here.
pub const KEYS: &[Key] = &[
    // Properties of the principal. The SDKs send the call unsigned, so keys that describe an
    // IAM principal, a service principal or a signed request are absent.
    key!(
        "aws:PrincipalArn",
        Absent,
        false,
        GLOBAL,
        "only in signed requests; the web-identity call is unsigned"
    ),
    key!(
        "aws:PrincipalAccount",
        Sts,
        false,
        GLOBAL,
        "in every request, anonymous ones included; the value for a web-identity caller is STS's"
    ),
    key!(
        "aws:PrincipalOrgPaths",
        Absent,
        true,
        GLOBAL,
        "describes the organization of an IAM principal; a web-identity caller has none"
    ),
    key!(
        "aws:PrincipalOrgID",
        Absent,
        false,
        GLOBAL,
        "describes the organization of an IAM principal; a web-identity caller has none"
    ),
    key!(
        "aws:PrincipalTag/",
        Absent,
        false,
        GLOBAL,
        "tags of an IAM user or role session; a web-identity caller has none"
    ),
    key!(
        "aws:PrincipalIsAWSService",
        Absent,
        false,
        GLOBAL,
        "only in signed requests; the web-identity call is unsigned"
    ),
    key!(
        "aws:PrincipalServiceName",
        Absent,
        false,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:PrincipalServiceNamesList",
        Absent,
        true,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:PrincipalType",
        Sts,
        false,
        GLOBAL,
        "in every request, anonymous ones included; the value for a web-identity caller is STS's"
    ),
    key!(
        "aws:userid",
        Sts,
        false,
        GLOBAL,
        "in every request, anonymous ones included; the value for a web-identity caller is STS's"
    ),
    key!("aws:username", Absent, false, GLOBAL, "only for IAM users"),
    // Properties of a role session: the caller has no session yet.
    key!(
        "aws:AssumedRoot",
        Absent,
        false,
        GLOBAL,
        "only with AssumeRoot credentials"
    ),
    key!(
        "aws:FederatedProvider",
        K(Known::FederatedProvider),
        false,
        GLOBAL,
        "in the trust policy evaluation of AssumeRoleWithWebIdentity: the provider ARN"
    ),
    key!(
        "aws:TokenIssueTime",
        Absent,
        false,
        GLOBAL,
        "only for requests signed with temporary credentials"
    ),
    key!(
        "aws:SignInSessionArn",
        Absent,
        false,
        GLOBAL,
        "only for AWS Sign-In OAuth sessions"
    ),
    key!(
        "aws:MultiFactorAuthAge",
        Absent,
        false,
        GLOBAL,
        "not present for federated identities"
    ),
    key!(
        "aws:MultiFactorAuthPresent",
        Absent,
        false,
        GLOBAL,
        "not present for federated identities"
    ),
    key!(
        "aws:ChatbotSourceArn",
        Absent,
        false,
        GLOBAL,
        "only for sessions of Amazon Q Developer in chat applications"
    ),
    key!(
        "aws:Ec2InstanceSourceVpc",
        Absent,
        false,
        GLOBAL,
        "only for requests signed with EC2 role credentials"
    ),
    key!(
        "aws:Ec2InstanceSourcePrivateIPv4",
        Absent,
        false,
        GLOBAL,
        "only for requests signed with EC2 role credentials"
    ),
    key!(
        "aws:SourceIdentity",
        Absent,
        false,
        GLOBAL,
        "only for sessions with a source identity; the token has no https://aws.amazon.com/source_identity claim"
    ),
    key!(
        "ec2:RoleDelivery",
        Absent,
        false,
        GLOBAL,
        "only for sessions created by an EC2 instance"
    ),
    key!(
        "ec2:SourceInstanceArn",
        Absent,
        false,
        GLOBAL,
        "only for sessions created by an EC2 instance"
    ),
    key!(
        "glue:RoleAssumedBy",
        Absent,
        false,
        GLOBAL,
        "only for requests AWS Glue makes"
    ),
    key!(
        "glue:CredentialIssuingService",
        Absent,
        false,
        GLOBAL,
        "only for requests from AWS Glue jobs"
    ),
    key!(
        "codebuild:BuildArn",
        Absent,
        false,
        GLOBAL,
        "only for roles assumed by CodeBuild"
    ),
    key!(
        "codebuild:ProjectArn",
        Absent,
        false,
        GLOBAL,
        "only for roles assumed by CodeBuild"
    ),
    key!(
        "lambda:SourceFunctionArn",
        Absent,
        false,
        GLOBAL,
        "only for requests from Lambda functions"
    ),
    key!(
        "ssm:SourceInstanceArn",
        Absent,
        false,
        GLOBAL,
        "only for Systems Manager managed instances"
    ),
    key!(
        "identitystore:UserId",
        Absent,
        false,
        GLOBAL,
        "only for IAM Identity Center users"
    ),
    // Properties of the network: which ones are present depends on the Pod's path to STS.
    key!(
        "aws:SourceIp",
        StsMaybe,
        false,
        GLOBAL,
        "present unless the Pod reaches STS through a VPC endpoint; the address is STS's"
    ),
    key!(
        "aws:SourceVpc",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint"
    ),
    key!(
        "aws:SourceVpcArn",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint"
    ),
    key!(
        "aws:SourceVpce",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint"
    ),
    key!(
        "aws:VpceAccount",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint"
    ),
    key!(
        "aws:VpceOrgID",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint of an organization's account"
    ),
    key!(
        "aws:VpceOrgPaths",
        StsMaybe,
        true,
        GLOBAL,
        "present only through a VPC endpoint of an organization's account"
    ),
    key!(
        "aws:VpcSourceIp",
        StsMaybe,
        false,
        GLOBAL,
        "present only through a VPC endpoint"
    ),
    // Properties of the resource (the role).
    key!(
        "aws:ResourceAccount",
        StsMaybe,
        false,
        GLOBAL,
        "documented for most actions, not this one in particular"
    ),
    key!(
        "aws:ResourceOrgID",
        StsMaybe,
        false,
        GLOBAL,
        "present only when the role's account is in an organization"
    ),
    key!(
        "aws:ResourceOrgPaths",
        StsMaybe,
        true,
        GLOBAL,
        "present only when the role's account is in an organization"
    ),
    key!(
        "aws:ResourceTag/",
        StsMaybe,
        false,
        GLOBAL,
        "present when the role carries the tag; the engine does not know the role's tags"
    ),
    // Properties of the request.
    key!(
        "aws:CalledVia",
        Absent,
        true,
        GLOBAL,
        "only when a service calls with an IAM principal's credentials"
    ),
    key!(
        "aws:CalledViaFirst",
        Absent,
        false,
        GLOBAL,
        "only when a service calls with an IAM principal's credentials"
    ),
    key!(
        "aws:CalledViaLast",
        Absent,
        false,
        GLOBAL,
        "only when a service calls with an IAM principal's credentials"
    ),
    key!(
        "aws:CalledViaAWSMCP",
        Absent,
        false,
        GLOBAL,
        "only for requests through the AWS MCP server"
    ),
    key!(
        "aws:ViaAWSService",
        StsMaybe,
        false,
        GLOBAL,
        "documented for signed requests; an unsigned call is not described"
    ),
    key!(
        "aws:ViaAWSMCPService",
        StsMaybe,
        false,
        GLOBAL,
        "documented for signed requests; an unsigned call is not described"
    ),
    key!(
        "aws:CurrentTime",
        Sts,
        false,
        GLOBAL,
        "always in the request; the time is STS's"
    ),
    key!(
        "aws:EpochTime",
        Sts,
        false,
        GLOBAL,
        "always in the request; the time is STS's"
    ),
    key!(
        "aws:referer",
        Absent,
        false,
        GLOBAL,
        "only for browser requests following a link; not in programmatic requests"
    ),
    key!(
        "aws:RequestedRegion",
        Sts,
        false,
        GLOBAL,
        "always in the request; the region is the STS endpoint the SDK calls"
    ),
    key!(
        "aws:RequestTag/",
        Absent,
        false,
        GLOBAL,
        "session tags come only from the token's https://aws.amazon.com/tags claim, which it does not have"
    ),
    key!(
        "aws:TagKeys",
        Absent,
        true,
        GLOBAL,
        "session tags come only from the token's https://aws.amazon.com/tags claim, which it does not have"
    ),
    key!(
        "aws:SecureTransport",
        Sts,
        false,
        GLOBAL,
        "always in the request; whether TLS was used is STS's"
    ),
    key!(
        "aws:SourceAccount",
        Absent,
        false,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:SourceArn",
        Absent,
        false,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:SourceOrgID",
        Absent,
        false,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:SourceOrgPaths",
        Absent,
        true,
        GLOBAL,
        "only when a service principal calls"
    ),
    key!(
        "aws:UserAgent",
        StsMaybe,
        false,
        GLOBAL,
        "present when the client sends a User-Agent header; the text is the SDK's"
    ),
    key!(
        "aws:IsMcpServiceAction",
        StsMaybe,
        false,
        GLOBAL,
        "documented for MCP service actions; this call is not described"
    ),
    // STS keys of AssumeRoleWithWebIdentity.
    key!(
        "sts:RoleSessionName",
        Sts,
        false,
        STS,
        "the RoleSessionName parameter is required; the SDK chooses it (AWS_ROLE_SESSION_NAME or a generated name)"
    ),
    key!(
        "sts:SourceIdentity",
        Absent,
        false,
        STS,
        "set only from the token's https://aws.amazon.com/source_identity claim, which it does not have"
    ),
    key!(
        "sts:TransitiveTagKeys",
        Absent,
        true,
        STS,
        "set only from the token's https://aws.amazon.com/tags claim, which it does not have"
    ),
    key!(
        "sts:RoleAuthorizedByIdp",
        StsMaybe,
        false,
        STS,
        "about the token's https://aws.amazon.com/roles claim; undocumented for a token without it"
    ),
    // STS keys of other actions: never in this request.
    key!(
        "sts:ExternalId",
        Absent,
        false,
        STS,
        "a parameter of AssumeRole only"
    ),
    key!(
        "sts:RequestContext/",
        Absent,
        false,
        STS,
        "a parameter of AssumeRole only (trusted context assertions)"
    ),
    key!(
        "sts:RequestContextProviders",
        Absent,
        true,
        STS,
        "a parameter of AssumeRole only (trusted context assertions)"
    ),
    key!(
        "sts:TaskPolicyArn",
        Absent,
        false,
        STS,
        "a parameter of AssumeRoot only"
    ),
    key!(
        "sts:AWSServiceName",
        Absent,
        true,
        STS,
        "a parameter of GetServiceBearerToken only"
    ),
    key!(
        "sts:DurationSeconds",
        Absent,
        false,
        STS,
        "a parameter of GetWebIdentityToken only"
    ),
    key!(
        "sts:IdentityTokenAudience",
        Absent,
        true,
        STS,
        "a parameter of GetWebIdentityToken only"
    ),
    key!(
        "sts:SigningAlgorithm",
        Absent,
        false,
        STS,
        "a parameter of GetWebIdentityToken only"
    ),
];

/// The provider claim keys AWS documents for OIDC providers, `<provider>:<claim>`, and what a
/// ServiceAccount token gives each (lint reports any other claim as `UNKNOWN_OIDC_CLAIM_KEY`).
/// Documentation: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>.
pub const CLAIMS: &[(&str, Source, &str)] = &[
    (
        "sub",
        K(Known::Sub),
        "system:serviceaccount:<namespace>:<name>",
    ),
    ("aud", K(Known::Aud), "the token audience"),
    ("amr", Absent, "a ServiceAccount token has no amr claim"),
    ("azp", Absent, "a ServiceAccount token has no azp claim"),
    ("oaud", Absent, "a ServiceAccount token has no oaud claim"),
    ("email", Absent, "a ServiceAccount token has no email claim"),
];

/// What a condition key is in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class<'k> {
    /// `<provider>:<claim>` of the cluster's provider (claim lowercased).
    Claim(&'k str),
    /// A key of the model.
    Key(&'static Key),
    /// `<host>:<claim>` of another provider: never in a request from this cluster.
    OtherProvider,
    /// A key neither IAM nor STS lists for this action: absent, as IAM treats every key the
    /// request does not carry.
    Unlisted,
}

impl Class<'_> {
    /// Where the value comes from.
    pub fn source(&self) -> Source {
        match self {
            Class::Claim(claim) => claim_source(claim),
            Class::Key(k) => k.source,
            Class::OtherProvider | Class::Unlisted => Source::Absent,
        }
    }
}

/// How a provider claim key is sourced: only `sub` and `aud` are known; every other claim
/// (`amr`, `kubernetes.io`, `iss`, `exp`, ...) is not exposed as a key and so absent.
pub fn claim_source(claim: &str) -> Source {
    CLAIMS
        .iter()
        .find(|(c, _, _)| *c == claim)
        .map_or(Source::Absent, |(_, s, _)| *s)
}

/// The model's entry for `key_lower` (a lowercased key), if any.
pub fn find(key_lower: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.covers(key_lower))
}

/// Classifies `key_lower` for a request whose provider keys start with one of
/// `prefixes_lower` (`oidc.example.com/id/abc`).
pub fn classify<'k>(key_lower: &'k str, prefixes_lower: &[&str]) -> Class<'k> {
    if let Some((prefix, claim)) = key_lower.rsplit_once(':')
        && prefixes_lower.contains(&prefix)
    {
        return Class::Claim(claim);
    }
    if let Some(k) = find(key_lower) {
        return Class::Key(k);
    }
    match key_lower.rsplit_once(':') {
        // Provider keys are `<host>[/path]:<claim>`; service prefixes have no dot or slash.
        Some((prefix, _)) if prefix.contains(['.', '/']) => Class::OtherProvider,
        _ => Class::Unlisted,
    }
}

/// Why a caller-supplied value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// `KEY=VALUE` without `=`.
    #[error("request context {0:?}: expected KEY=VALUE (e.g. aws:SourceIp=203.0.113.7)")]
    Syntax(String),
    /// The engine already knows the value.
    #[error("request context {key}: the value comes from the subject ({what}); it cannot be given")]
    Known {
        /// The key as given.
        key: String,
        /// Where the value comes from.
        what: &'static str,
    },
    /// The request never carries the key.
    #[error(
        "request context {key}: a request made with a ServiceAccount token never carries this key ({why}); it cannot be given"
    )]
    Absent {
        /// The key as given.
        key: String,
        /// Why.
        why: &'static str,
    },
    /// A second value for a single-valued key.
    #[error("request context {0}: the key is single-valued; give it once")]
    SingleValued(String),
}

/// Values of keys only STS knows, supplied by a caller who knows them (`--context
/// aws:SourceIp=203.0.113.7`). Keys are case-insensitive; a multivalued key may be given
/// several times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    /// No supplied values.
    pub const EMPTY: RequestContext = RequestContext {
        values: BTreeMap::new(),
    };

    /// No supplied values: every key only STS knows stays undecided.
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// Builds a context from `(key, value)` pairs.
    ///
    /// ```
    /// use awi_trust::context::RequestContext;
    /// let ctx = RequestContext::from_pairs([("aws:SourceIp", "203.0.113.7")]).unwrap();
    /// assert_eq!(ctx.get("AWS:SOURCEIP"), Some(&["203.0.113.7".to_string()][..]));
    /// assert!(RequestContext::from_pairs([("aws:username", "x")]).is_err());
    /// ```
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<RequestContext, ContextError> {
        let mut ctx = RequestContext::new();
        for (k, v) in pairs {
            ctx.supply(k.as_ref(), v.as_ref())?;
        }
        Ok(ctx)
    }

    /// Parses one `KEY=VALUE` (the value may contain `=`).
    pub fn parse_pair(text: &str) -> Result<(String, String), ContextError> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(ContextError::Syntax(text.to_string())),
        }
    }

    /// Adds one value; refused for keys whose value the engine knows or the request never
    /// carries, and for a second value of a single-valued key.
    pub fn supply(&mut self, key: &str, value: &str) -> Result<(), ContextError> {
        let lower = key.to_ascii_lowercase();
        let entry = match classify(&lower, &[]) {
            Class::Key(k) => k,
            Class::Claim(_) | Class::OtherProvider if lower.ends_with(":sub") => {
                return Err(ContextError::Known {
                    key: key.to_string(),
                    what: "the namespace and ServiceAccount",
                });
            }
            Class::Claim(_) | Class::OtherProvider if lower.ends_with(":aud") => {
                return Err(ContextError::Known {
                    key: key.to_string(),
                    what: "the audience",
                });
            }
            Class::Claim(_) | Class::OtherProvider => {
                return Err(ContextError::Absent {
                    key: key.to_string(),
                    why: "AWS exposes only the sub and aud claims of a ServiceAccount token",
                });
            }
            Class::Unlisted => {
                return Err(ContextError::Absent {
                    key: key.to_string(),
                    why: "neither IAM nor STS lists it for sts:AssumeRoleWithWebIdentity",
                });
            }
        };
        match entry.source {
            Source::Known(_) => {
                return Err(ContextError::Known {
                    key: key.to_string(),
                    what: "the issuer and the role's account",
                });
            }
            Source::Absent => {
                return Err(ContextError::Absent {
                    key: key.to_string(),
                    why: entry.why,
                });
            }
            Source::Sts | Source::StsMaybe => {}
        }
        let values = self.values.entry(lower).or_default();
        if !entry.multivalued && !values.is_empty() {
            return Err(ContextError::SingleValued(key.to_string()));
        }
        values.push(value.to_string());
        Ok(())
    }

    /// The supplied values of a key (any case).
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// Whether nothing was supplied.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once_with_a_source() {
        for (i, k) in KEYS.iter().enumerate() {
            assert!(
                k.doc.starts_with("https://docs.aws.amazon.com/"),
                "{}",
                k.name
            );
            assert!(!k.why.is_empty(), "{}", k.name);
            let lower = k.name.to_ascii_lowercase();
            let probe = if lower.ends_with('/') {
                format!("{lower}x")
            } else {
                lower
            };
            assert_eq!(find(&probe), Some(&KEYS[i]), "{} found first", k.name);
        }
    }

    #[test]
    fn the_documented_table_is_this_table() {
        let doc = include_str!("../CONTEXT.md");
        for k in KEYS {
            let class = match k.source {
                Source::Known(_) => "known: the provider ARN of the role's account",
                Source::Sts => "STS only",
                Source::StsMaybe => "STS only, may be absent",
                Source::Absent => "absent",
            };
            let multi = if k.multivalued { "yes" } else { "no" };
            let row = format!(
                "| `{}` | {class} | {multi} | {} | <{}",
                k.name, k.why, k.doc
            );
            assert!(doc.contains(&row), "CONTEXT.md lacks or differs for {row}");
        }
        let rows = doc
            .lines()
            .filter(|l| {
                l.starts_with("| `aws:")
                    || l.starts_with("| `sts:")
                    || l.starts_with("| `ec2:")
                    || l.starts_with("| `glue:")
                    || l.starts_with("| `codebuild:")
                    || l.starts_with("| `lambda:")
                    || l.starts_with("| `ssm:")
                    || l.starts_with("| `identitystore:")
            })
            .count();
        assert_eq!(rows, KEYS.len());
    }

    #[test]
    fn classification() {
        let p = ["oidc.example.com/id/abc"];
        assert_eq!(
            classify("oidc.example.com/id/abc:sub", &p),
            Class::Claim("sub")
        );
        assert_eq!(
            classify("oidc.example.com/id/abc:kubernetes.io", &p).source(),
            Source::Absent
        );
        assert_eq!(
            classify("oidc.example.com/id/other:sub", &p),
            Class::OtherProvider
        );
        assert_eq!(classify("aws:sourceip", &p).source(), Source::StsMaybe);
        assert_eq!(classify("aws:requesttag/team", &p).source(), Source::Absent);
        assert_eq!(classify("aws:requesttag/", &p), Class::Unlisted);
        assert_eq!(classify("s3:prefix", &p), Class::Unlisted);
        assert_eq!(
            classify("aws:federatedprovider", &p).source(),
            Source::Known(Known::FederatedProvider)
        );
    }

    #[test]
    fn only_keys_sts_knows_can_be_supplied() {
        let mut ctx = RequestContext::new();
        ctx.supply("aws:SourceIp", "203.0.113.7").unwrap();
        ctx.supply("aws:VpceOrgPaths", "o-1/r-1/").unwrap();
        ctx.supply("AWS:VPCEORGPATHS", "o-1/r-2/").unwrap();
        assert_eq!(ctx.get("aws:vpceorgpaths").map(<[String]>::len), Some(2));
        assert_eq!(
            ctx.supply("aws:sourceip", "x"),
            Err(ContextError::SingleValued("aws:sourceip".into()))
        );
        for key in [
            "aws:username",
            "aws:RequestTag/team",
            "oidc.example.com:amr",
            "x:y",
        ] {
            assert!(
                matches!(ctx.supply(key, "v"), Err(ContextError::Absent { .. })),
                "{key}"
            );
        }
        for key in [
            "oidc.example.com:sub",
            "oidc.example.com:aud",
            "aws:FederatedProvider",
        ] {
            assert!(
                matches!(ctx.supply(key, "v"), Err(ContextError::Known { .. })),
                "{key}"
            );
        }
        assert_eq!(
            RequestContext::parse_pair("aws:UserAgent=a=b").unwrap(),
            ("aws:UserAgent".into(), "a=b".into())
        );
        assert!(RequestContext::parse_pair("aws:SourceIp").is_err());
        assert!(RequestContext::parse_pair("=x").is_err());
    }
}
