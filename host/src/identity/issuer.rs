//! The issuer URL: the API server's `--service-account-issuer`, every token's `iss`, and the
//! URL of the IAM OIDC provider. STS compares it as an exact string, so it is kept exactly as
//! given (a trailing slash is part of it).

use url::Url;

/// Where Kubernetes serves an issuer's discovery document, below the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Where Kubernetes serves an issuer's JWKS, below the issuer (`kubectl get --raw
/// /openid/v1/jwks`); `awi setup --issuer` publishes it at the same path.
pub const JWKS_PATH: &str = "/openid/v1/jwks";

/// An issuer URL IAM accepts for an OIDC provider: https, a host, no query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    url: String,
}

/// Why a text is not an issuer IAM and STS accept. `url` is the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(
    missing_docs,
    reason = "every field is the issuer text or the parser's reason"
)]
pub enum IssuerError {
    /// Not a URL at all (or one without a host).
    #[error("issuer {url:?} is not a URL: {reason}")]
    NotUrl { url: String, reason: String },
    /// Another scheme than `https`.
    #[error(
        "issuer {url:?} must start with https:// (IAM OIDC providers and STS accept https issuers only)"
    )]
    NotHttps { url: String },
    /// A `?query` or `#fragment`.
    #[error("issuer {url:?} has a query or a fragment; an OIDC issuer URL has neither")]
    QueryOrFragment { url: String },
    /// A `user:password@` part.
    #[error("issuer {url:?} carries a user name or password; an OIDC issuer URL has none")]
    Credentials { url: String },
}

impl Issuer {
    /// Checks `text` as IAM checks an OIDC provider URL: https, a host, no query, fragment
    /// or credentials. The text is kept as given (a trailing slash is significant).
    pub fn parse(text: &str) -> Result<Issuer, IssuerError> {
        let url = text.to_string();
        if !text.starts_with("https://") {
            return Err(IssuerError::NotHttps { url });
        }
        let parsed = Url::parse(text).map_err(|e| IssuerError::NotUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(IssuerError::QueryOrFragment { url });
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(IssuerError::Credentials { url });
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(IssuerError::NotUrl {
                url,
                reason: "no host".to_string(),
            });
        }
        Ok(Issuer { url })
    }

    /// The issuer URL, exactly as tokens carry it in `iss`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The issuer without `https://`: the IAM OIDC provider's identity in its ARN and the
    /// prefix of the `:sub`/`:aud` condition keys.
    pub fn provider_id(&self) -> &str {
        awi_trust::arn::issuer_key_prefix(&self.url)
    }

    /// The URL of a document published at `path` (starting with `/`) below the issuer.
    pub fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }

    /// Where Kubernetes publishes the signing keys: `<issuer>/openid/v1/jwks`.
    pub fn jwks_uri(&self) -> String {
        self.url_of(JWKS_PATH)
    }

    /// Where STS reads the discovery document: `<issuer>/.well-known/openid-configuration`.
    pub fn discovery_uri(&self) -> String {
        self.url_of(DISCOVERY_PATH)
    }

    /// The path of `uri` below the issuer (starting with `/`), when `uri` lies under it.
    pub fn path_below<'a>(&self, uri: &'a str) -> Option<&'a str> {
        let base = self.url.trim_end_matches('/');
        uri.strip_prefix(base)
            .filter(|rest| rest.starts_with('/') && rest.len() > 1)
    }
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_iam_accepts() {
        let issuer = Issuer::parse("https://oidc.example.com/cluster-1").unwrap();
        assert_eq!(issuer.provider_id(), "oidc.example.com/cluster-1");
        assert_eq!(
            issuer.jwks_uri(),
            "https://oidc.example.com/cluster-1/openid/v1/jwks"
        );
        let slash = Issuer::parse("https://oidc.example.com/").unwrap();
        assert_eq!(slash.provider_id(), "oidc.example.com/");
        assert_eq!(
            slash.discovery_uri(),
            "https://oidc.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            issuer.path_below("https://oidc.example.com/cluster-1/openid/v1/jwks"),
            Some("/openid/v1/jwks")
        );
        assert_eq!(
            issuer.path_below("https://oidc.example.com/cluster-10/keys"),
            None
        );
        assert_eq!(issuer.path_below("https://elsewhere.example/keys"), None);
    }

    #[test]
    fn issuers_iam_refuses() {
        type IsExpected = fn(&IssuerError) -> bool;
        let refused: [(&str, IsExpected); 4] = [
            ("http://oidc.example.com", |e| {
                matches!(e, IssuerError::NotHttps { .. })
            }),
            ("https://oidc.example.com/?x=1", |e| {
                matches!(e, IssuerError::QueryOrFragment { .. })
            }),
            ("https://oidc.example.com/#top", |e| {
                matches!(e, IssuerError::QueryOrFragment { .. })
            }),
            ("https://user@oidc.example.com", |e| {
                matches!(e, IssuerError::Credentials { .. })
            }),
        ];
        for (url, expected) in refused {
            let e = Issuer::parse(url).unwrap_err();
            assert!(expected(&e), "{url}: {e:?}");
        }
        assert!(Issuer::parse("https://").is_err());
        let e = Issuer::parse("oidc.example.com").unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
    }
}
