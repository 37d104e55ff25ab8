//! ARN grammars (IAM identifiers): IAM role ARNs and OIDC provider ARNs.
//!
//! Used by the trust engine (principal matching), by the admission layer (check 1 of
//! a ServiceAccount: its role ARN is well-formed) and by the `awi` tool. Every
//! error names the ARN, the component and what was expected, for example
//! `role ARN "arn:aws:iam::123:role/x": account "123" is not 12 digits`.

use std::fmt;
use std::str::FromStr;

use crate::json::quoted;

/// AWS partitions (SDK partition metadata).
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A 12-digit AWS account ID (leading zeros are significant).
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Longest role name IAM accepts.
pub const MAX_ROLE_NAME: usize = 64;
/// Longest role path IAM accepts (slashes included).
pub const MAX_ROLE_PATH: usize = 512;

/// An ARN that does not follow its grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} ARN {}: {problem}", quoted(arn))]
pub struct ArnError {
    /// What the ARN was meant to be: `role`, `OIDC provider`, ...
    pub kind: &'static str,
    /// The text as given.
    pub arn: String,
    /// Which component is wrong and what was expected.
    pub problem: String,
}

/// The six colon-separated components of an ARN; the resource keeps any further colons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// Partition, e.g. `aws` or `aws-cn`.
    pub partition: &'a str,
    /// Service namespace, e.g. `iam`.
    pub service: &'a str,
    /// Region; empty for global services such as IAM.
    pub region: &'a str,
    /// Account ID; empty for some services.
    pub account: &'a str,
    /// Everything after the fifth colon, further colons included.
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Splits `arn:<partition>:<service>:<region>:<account>:<resource>`; `None` when the text
    /// does not start with `arn:` or has fewer than six components.
    pub fn split(text: &'a str) -> Option<ArnParts<'a>> {
        let mut it = text.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(ArnParts {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        })
    }
}

impl ArnError {
    fn new(kind: &'static str, arn: &str, problem: String) -> ArnError {
        ArnError {
            kind,
            arn: arn.to_string(),
            problem,
        }
    }
}

/// Checks the partition and the account of an IAM ARN (global service: empty region) and
/// that its resource is `<resource_type>/...`; returns the parts and the resource after the
/// slash. `shape` says what the resource should look like.
fn iam_resource<'a>(
    kind: &'static str,
    text: &'a str,
    resource_type: &str,
    shape: &str,
) -> Result<(ArnParts<'a>, &'a str), ArnError> {
    let parts = check_iam_header(kind, text)?;
    match parts
        .resource
        .strip_prefix(resource_type)
        .and_then(|r| r.strip_prefix('/'))
    {
        Some(rest) => Ok((parts, rest)),
        None => Err(ArnError::new(
            kind,
            text,
            format!(
                "resource {} is not {resource_type}/{shape}",
                quoted(parts.resource)
            ),
        )),
    }
}

fn check_iam_header<'a>(kind: &'static str, text: &'a str) -> Result<ArnParts<'a>, ArnError> {
    let err = |problem: String| ArnError::new(kind, text, problem);
    let parts = ArnParts::split(text).ok_or_else(|| {
        err("expected arn:<partition>:iam::<12-digit account>:<resource>".to_string())
    })?;
    if !PARTITIONS.contains(&parts.partition) {
        return Err(err(format!(
            "partition {} is not one of {}",
            quoted(parts.partition),
            PARTITIONS.join(", ")
        )));
    }
    if parts.service != "iam" {
        return Err(err(format!(
            "service {} is not \"iam\"",
            quoted(parts.service)
        )));
    }
    if !parts.region.is_empty() {
        return Err(err(format!(
            "region {} must be empty (IAM is a global service)",
            quoted(parts.region)
        )));
    }
    if !is_account_id(parts.account) {
        return Err(err(format!(
            "account {} is not 12 digits",
            quoted(parts.account)
        )));
    }
    Ok(parts)
}

/// An IAM ARN whose resource has been checked: `arn:<partition>:iam::<account>:<resource>`.
/// The text, partition and account are common to every kind; `R` is what the resource says
/// ([`Role`] or [`OidcProvider`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IamArn<R> {
    arn: String,
    partition: String,
    account: String,
    resource: R,
}

impl<R> IamArn<R> {
    fn new(text: &str, parts: &ArnParts<'_>, resource: R) -> IamArn<R> {
        IamArn {
            arn: text.to_string(),
            partition: parts.partition.to_string(),
            account: parts.account.to_string(),
            resource,
        }
    }

    /// The ARN as given.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The partition (`aws`, `aws-cn`, ...).
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The 12-digit account that owns the resource (a role's account must also own the OIDC
    /// provider it trusts).
    pub fn account(&self) -> &str {
        &self.account
    }
}

impl<R> fmt::Display for IamArn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// A well-formed IAM role ARN: `arn:<partition>:iam::<account>:role<path><name>`.
///
/// ```
/// use awi_trust::RoleArn;
/// let role = RoleArn::parse("arn:aws:iam::111122223333:role/team/payments-api").unwrap();
/// assert_eq!(role.partition(), "aws");
/// assert_eq!(role.account(), "111122223333");
/// assert_eq!(role.path(), "/team/");
/// assert_eq!(role.name(), "payments-api");
///
/// let err = RoleArn::parse("arn:aws:iam::123:role/x").unwrap_err();
/// assert_eq!(err.to_string(), r#"role ARN "arn:aws:iam::123:role/x": account "123" is not 12 digits"#);
/// ```
pub type RoleArn = IamArn<Role>;

/// The resource of a role ARN: `role<path><name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role {
    path: String,
    name: String,
}

impl IamArn<Role> {
    /// Parses and checks every component (partition, service, region, account, path, name).
    pub fn parse(text: &str) -> Result<RoleArn, ArnError> {
        let err = |problem: String| ArnError::new("role", text, problem);
        let (parts, rest) = iam_resource("role", text, "role", "<path><name>")?;
        // The path is everything up to and including the last slash: "role/a/b/name".
        let (path, name) = match rest.rfind('/') {
            Some(i) => (&parts.resource[4..i + 6], &rest[i + 1..]),
            None => ("/", rest),
        };
        if name.is_empty() {
            return Err(err("role name is empty".to_string()));
        }
        if name.chars().count() > MAX_ROLE_NAME {
            return Err(err(format!(
                "role name {} is longer than {MAX_ROLE_NAME} characters",
                quoted(name)
            )));
        }
        if let Some(c) = name.chars().find(|c| !is_role_name_char(*c)) {
            return Err(err(format!(
                "role name {} contains {c:?}; allowed are letters, digits and +=,.@_-",
                quoted(name)
            )));
        }
        if path.len() > MAX_ROLE_PATH {
            return Err(err(format!(
                "role path is longer than {MAX_ROLE_PATH} characters"
            )));
        }
        if path.contains("//") {
            return Err(err(format!(
                "role path {} contains an empty segment",
                quoted(path)
            )));
        }
        if let Some(c) = path.chars().find(|c| !('!'..='~').contains(c)) {
            return Err(err(format!(
                "role path {} contains {c:?}; allowed are printable ASCII characters without spaces",
                quoted(path)
            )));
        }
        let role = Role {
            path: path.to_string(),
            name: name.to_string(),
        };
        Ok(IamArn::new(text, &parts, role))
    }

    /// `/` or `/a/b/`: begins and ends with a slash.
    pub fn path(&self) -> &str {
        &self.resource.path
    }

    /// The role name (what error messages call the role).
    pub fn name(&self) -> &str {
        &self.resource.name
    }

    /// The ARN of the OIDC provider for `issuer` in this role's account and partition: the
    /// principal STS evaluates for `AssumeRoleWithWebIdentity` (STS matches it exactly).
    ///
    /// ```
    /// use awi_trust::RoleArn;
    /// let role = RoleArn::parse("arn:aws:iam::111122223333:role/r").unwrap();
    /// assert_eq!(
    ///     role.oidc_provider_arn("https://oidc.example.com/abc123"),
    ///     "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123"
    /// );
    /// ```
    pub fn oidc_provider_arn(&self, issuer: &str) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{}",
            self.partition,
            self.account,
            issuer_key_prefix(issuer)
        )
    }
}

impl FromStr for RoleArn {
    type Err = ArnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoleArn::parse(s)
    }
}

/// A role name IAM accepts: 1 to [`MAX_ROLE_NAME`] letters, digits and `+=,.@_-`.
///
/// ```
/// use awi_trust::arn::is_role_name;
/// assert!(is_role_name("payments-api"));
/// assert!(!is_role_name("payments api"));
/// ```
pub fn is_role_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= MAX_ROLE_NAME && name.chars().all(is_role_name_char)
}

fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// An IAM OIDC provider ARN: `arn:<partition>:iam::<account>:oidc-provider/<url without https://>`.
///
/// ```
/// use awi_trust::OidcProviderArn;
/// let p = OidcProviderArn::parse("arn:aws:iam::111122223333:oidc-provider/oidc.example.com/id/ABC").unwrap();
/// assert_eq!(p.url(), "oidc.example.com/id/ABC");
/// assert_eq!(p.account(), "111122223333");
/// ```
pub type OidcProviderArn = IamArn<OidcProvider>;

/// The resource of an OIDC provider ARN: `oidc-provider/<url>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OidcProvider {
    url: String,
}

impl IamArn<OidcProvider> {
    /// Parses and checks partition, account and provider URL.
    pub fn parse(text: &str) -> Result<OidcProviderArn, ArnError> {
        let err = |problem: String| ArnError::new("OIDC provider", text, problem);
        let (parts, url) = iam_resource(
            "OIDC provider",
            text,
            "oidc-provider",
            "<provider URL without https://>",
        )?;
        if url.is_empty() {
            return Err(err("provider URL is empty".to_string()));
        }
        if url.contains("://") {
            return Err(err(format!(
                "provider URL {} must not carry a scheme (IAM stores it without https://)",
                quoted(url)
            )));
        }
        if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(format!("provider URL {} contains {c:?}", quoted(url))));
        }
        let provider = OidcProvider {
            url: url.to_string(),
        };
        Ok(IamArn::new(text, &parts, provider))
    }

    /// Host and path, without `https://`: also the prefix of its condition keys.
    pub fn url(&self) -> &str {
        &self.resource.url
    }
}

/// Whether a `Federated` value is a SAML provider ARN (`...:saml-provider/<name>`).
pub fn is_saml_provider_arn(text: &str) -> bool {
    ArnParts::split(text)
        .is_some_and(|p| p.service == "iam" && p.resource.starts_with("saml-provider/"))
}

/// The condition-key prefix of an issuer: the URL minus `https://`, path and trailing slash
/// included, as STS forms the condition keys. Other schemes are kept, so an `http://` issuer never matches.
///
/// ```
/// use awi_trust::arn::issuer_key_prefix;
/// assert_eq!(issuer_key_prefix("https://oidc.example.com/abc/"), "oidc.example.com/abc/");
/// ```
pub fn issuer_key_prefix(issuer: &str) -> &str {
    issuer.strip_prefix("https://").unwrap_or(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_components() {
        let r = RoleArn::parse("arn:aws-us-gov:iam::000011112222:role/a/b/c/Name+=,.@_-").unwrap();
        assert_eq!(r.partition(), "aws-us-gov");
        assert_eq!(r.account(), "000011112222");
        assert_eq!(r.path(), "/a/b/c/");
        assert_eq!(r.name(), "Name+=,.@_-");
        let r = RoleArn::parse("arn:aws:iam::123456789012:role/x").unwrap();
        assert_eq!(r.path(), "/");
        assert_eq!(r.name(), "x");
    }

    #[test]
    fn role_arn_errors_name_the_component() {
        let cases = [
            (
                "arn:aws:iam::123:role/x",
                "account \"123\" is not 12 digits",
            ),
            (
                "arn:aws-moon:iam::123456789012:role/x",
                "partition \"aws-moon\" is not one of",
            ),
            (
                "arn:aws:sts::123456789012:role/x",
                "service \"sts\" is not \"iam\"",
            ),
            (
                "arn:aws:iam:us-east-1:123456789012:role/x",
                "region \"us-east-1\" must be empty",
            ),
            (
                "arn:aws:iam::123456789012:user/x",
                "resource \"user/x\" is not role/",
            ),
            ("arn:aws:iam::123456789012:role/", "role name is empty"),
            (
                "arn:aws:iam::123456789012:role/a b",
                "role name \"a b\" contains ' '",
            ),
            ("arn:aws:iam::123456789012:role/a//b", "empty segment"),
            ("role/x", "expected arn:<partition>"),
            ("", "expected arn:<partition>"),
        ];
        for (arn, want) in cases {
            let e = RoleArn::parse(arn).unwrap_err().to_string();
            assert!(e.starts_with(&format!("role ARN {arn:?}: ")), "{e}");
            assert!(e.contains(want), "{arn}: {e}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "n".repeat(65));
        assert!(
            RoleArn::parse(&long)
                .unwrap_err()
                .to_string()
                .contains("longer than 64")
        );
        let ok = format!("arn:aws:iam::123456789012:role/{}", "n".repeat(64));
        assert!(RoleArn::parse(&ok).is_ok());
    }

    #[test]
    fn role_arn_never_panics_on_odd_text() {
        for s in [
            "arn:",
            "arn:aws:iam::123456789012:role",
            "arn:aws:iam::123456789012:rolé/é",
            "arn:aws:iam::123456789012:role/é/x",
        ] {
            let _ = RoleArn::parse(s);
        }
    }

    #[test]
    fn oidc_provider_arn() {
        let p = OidcProviderArn::parse("arn:aws-cn:iam::123456789012:oidc-provider/h/p/").unwrap();
        assert_eq!(p.url(), "h/p/");
        assert_eq!(p.partition(), "aws-cn");
        for bad in [
            "arn:aws:iam::123456789012:oidc-provider/",
            "arn:aws:iam::123456789012:oidc-provider/https://h",
            "arn:aws:iam::12345678901:oidc-provider/h",
            "arn:aws:iam::123456789012:saml-provider/h",
        ] {
            assert!(OidcProviderArn::parse(bad).is_err(), "{bad}");
        }
        assert!(is_saml_provider_arn(
            "arn:aws:iam::123456789012:saml-provider/okta"
        ));
    }
}
