//! A ServiceAccount token checked as STS checks it for `sts:AssumeRoleWithWebIdentity`,
//! before the trust policy: the token's form, its algorithm, `iss` (which IAM OIDC provider),
//! `aud` (the provider's client IDs), the signing key by `kid`, the signature (verified with
//! `jsonwebtoken`), then `exp`, `nbf` and `iat`, and last the `sub` form of a ServiceAccount.
//!
//! The first check that fails is the answer, in STS's terms: [`StsVerdict`] with a reason
//! and a fix. A token that passes is [`Accepted`]: what the trust policy is decided on.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use super::discovery::check_discovery;
use super::issuer::Issuer;
use super::jwks::{Jwks, RsaKey};

/// The longest web identity token STS takes (the `WebIdentityToken` parameter's limit).
pub const MAX_TOKEN_CHARS: usize = 20_000;

/// STS's answer, with the error codes STS uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StsVerdict {
    /// STS would issue credentials.
    #[serde(rename = "allowed")]
    Allowed,
    /// The token itself is refused (form, signature, issuer, audience, not yet valid).
    InvalidIdentityToken,
    /// The token has expired.
    ExpiredTokenException,
    /// The token is good; the role's trust policy does not admit it.
    AccessDenied,
}

impl StsVerdict {
    /// The name STS uses (`allowed` for success).
    pub fn as_str(self) -> &'static str {
        match self {
            StsVerdict::Allowed => "allowed",
            StsVerdict::InvalidIdentityToken => "InvalidIdentityToken",
            StsVerdict::ExpiredTokenException => "ExpiredTokenException",
            StsVerdict::AccessDenied => "AccessDenied",
        }
    }
}

/// Why a token is refused before the trust policy, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error STS answers with.
    pub verdict: StsVerdict,
    /// Why, in STS's terms.
    pub reason: String,
    /// What to change.
    pub fix: String,
}

impl Refusal {
    fn invalid(reason: impl Into<String>, fix: impl Into<String>) -> Refusal {
        Refusal {
            verdict: StsVerdict::InvalidIdentityToken,
            reason: reason.into(),
            fix: fix.into(),
        }
    }
}

/// Why a text is not a JWS compact token (RFC 7515 7.1) at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Nothing but white space.
    #[error("the token is empty")]
    Empty,
    /// Longer than [`MAX_TOKEN_CHARS`]; its length.
    #[error("the token is {0} characters long; STS takes at most {MAX_TOKEN_CHARS}")]
    TooLong(usize),
    /// Not three dot-separated parts; how many there are.
    #[error(
        "the token has {0} dot-separated part(s); a signed JWT has three (header.payload.signature)"
    )]
    Parts(usize),
    /// A part (`header`, `payload`, `signature`) is not base64url.
    #[error("the token's {0} is not base64url")]
    Base64(&'static str),
    /// The header or payload is not a JSON object; the part and why.
    #[error("the token's {0} is not a JSON object: {1}")]
    NotJsonObject(&'static str, String),
}

/// A token split and decoded, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The JOSE header (`alg`, `kid`, ...).
    pub header: Map<String, Value>,
    /// The payload's claims.
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: String,
}

impl Token {
    /// Decodes `text` (surrounding whitespace, as in a token file, is ignored).
    pub fn decode(text: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TokenError::Empty);
        }
        if text.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::TooLong(text.len()));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err(TokenError::Parts(parts.len()));
        };
        Ok(Token {
            header: json_part(header, "header")?,
            claims: json_part(payload, "payload")?,
            signing_input: format!("{header}.{payload}"),
            signature: signature.to_string(),
        })
    }

    fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

fn json_part(part: &str, what: &'static str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Base64(what))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TokenError::NotJsonObject(what, "not an object".to_string())),
        Err(e) => Err(TokenError::NotJsonObject(what, e.to_string())),
    }
}

/// What the token must match: the IAM OIDC provider and the moment of the call.
pub struct Expectations<'a> {
    /// The provider URL (the issuer the provider was registered for).
    pub issuer: &'a Issuer,
    /// The provider's client IDs (audiences).
    pub audiences: &'a [String],
    /// The provider's ARN, for the fixes that name it.
    pub provider_arn: &'a str,
    /// The issuer's discovery document, when known.
    pub discovery: Option<&'a Value>,
    /// Seconds since the Unix epoch.
    pub now: i64,
}

/// A token STS would accept: what the trust policy is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The audience that matched a client ID of the provider.
    pub audience: String,
    /// The ServiceAccount's namespace, from `sub`.
    pub namespace: String,
    /// The ServiceAccount's name, from `sub`.
    pub service_account: String,
    /// `RS256 with key "kid" (2048-bit RSA)`, for people.
    pub signed_with: String,
}

/// Why a valid token cannot be explained as a ServiceAccount's: its `sub` is not
/// `system:serviceaccount:<namespace>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the token's sub {0:?} is not a ServiceAccount subject system:serviceaccount:<namespace>:<name>; awi decides trust policies for ServiceAccount tokens"
)]
pub struct NotServiceAccount(pub String);

/// Runs STS's checks in order; the first failure is the answer.
pub fn verify(
    token: &Token,
    jwks: &Jwks,
    expect: &Expectations,
) -> Result<Result<Accepted, Refusal>, NotServiceAccount> {
    let checked = (|| {
        let algorithm = algorithm(token)?;
        check_issuer(token, expect)?;
        let audience = check_audience(token, expect)?;
        if let Some(discovery) = expect.discovery {
            check_published(discovery, expect.issuer)?;
        }
        let key = signing_key(token, jwks)?;
        check_signature(token, &key, algorithm)?;
        check_times(token, expect.now)?;
        Ok((
            audience,
            format!(
                "{algorithm:?} with key {:?} ({}-bit RSA)",
                key.kid,
                key.bits()
            ),
        ))
    })();
    let (audience, signed_with) = match checked {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let sub = token.claim_str("sub").unwrap_or_default();
    let (namespace, service_account) =
        service_account_of(sub).ok_or_else(|| NotServiceAccount(sub.to_string()))?;
    Ok(Ok(Accepted {
        audience,
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
        signed_with,
    }))
}

const FIX_USE_THE_TOKEN: &str = "pass the token the API server issued: the projected token file of the Pod (/var/run/secrets/eks.amazonaws.com/serviceaccount/token) or `kubectl create token SA -n NS --audience sts.amazonaws.com`";

fn algorithm(token: &Token) -> Result<Algorithm, Refusal> {
    match token.header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Ok(Algorithm::RS256),
        Some("RS384") => Ok(Algorithm::RS384),
        Some("RS512") => Ok(Algorithm::RS512),
        Some(alg) if alg.eq_ignore_ascii_case("none") => Err(Refusal::invalid(
            "alg: the token's header says alg \"none\": it is unsigned, and STS accepts only signed tokens",
            FIX_USE_THE_TOKEN,
        )),
        Some(alg) => Err(Refusal::invalid(
            format!(
                "alg: the token is signed with {alg}; the issuer's keys are RSA keys for RS256 (awi verifies RS256, RS384 and RS512)"
            ),
            FIX_USE_THE_TOKEN,
        )),
        None => Err(Refusal::invalid(
            "alg: the token's header has no \"alg\"",
            FIX_USE_THE_TOKEN,
        )),
    }
}

fn check_issuer(token: &Token, expect: &Expectations) -> Result<(), Refusal> {
    let ours = expect.issuer.as_str();
    let Some(iss) = token.claim_str("iss") else {
        return Err(Refusal::invalid(
            "iss: Missing a required claim: iss",
            FIX_USE_THE_TOKEN,
        ));
    };
    if iss == ours {
        return Ok(());
    }
    let why = if iss.trim_end_matches('/') == ours.trim_end_matches('/') {
        "only the trailing slash differs, and STS compares the issuer exactly"
    } else if iss.strip_prefix("http://") == ours.strip_prefix("https://") {
        "the token's issuer is http://; IAM OIDC providers are https only"
    } else {
        "STS finds the provider by the token's iss"
    };
    Err(Refusal::invalid(
        format!(
            "iss: No OpenIDConnect provider found in your account for {iss} (the provider is {ours}: {why})"
        ),
        format!(
            "make the API server's --service-account-issuer and the IAM OIDC provider URL the same string: either set --service-account-issuer={ours} (and republish the documents with awi setup --issuer {ours}), or register a provider for the token's issuer (aws iam create-open-id-connect-provider --url {iss} --client-id-list sts.amazonaws.com)"
        ),
    ))
}

fn check_audience(token: &Token, expect: &Expectations) -> Result<String, Refusal> {
    let audiences: Vec<&str> = match token.claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if audiences.is_empty() {
        return Err(Refusal::invalid(
            "aud: Missing a required claim: aud",
            "request the token with an audience: the projected volume's audience (the webhook sets sts.amazonaws.com)",
        ));
    }
    if let Some(found) = audiences
        .iter()
        .find(|aud| expect.audiences.iter().any(|client| client == *aud))
    {
        return Ok(found.to_string());
    }
    let theirs = audiences.join(", ");
    let ours = expect.audiences.join(", ");
    Err(Refusal::invalid(
        format!(
            "aud: Incorrect token audience: the token is for {theirs}; the provider's client IDs are {ours}"
        ),
        format!(
            "annotate the ServiceAccount with eks.amazonaws.com/audience: {first} (or remove the annotation: the default is sts.amazonaws.com), or add the audience to the provider: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {aud}",
            first = expect
                .audiences
                .first()
                .map_or("sts.amazonaws.com", String::as_str),
            arn = expect.provider_arn,
            aud = audiences[0],
        ),
    ))
}

fn check_published(discovery: &Value, issuer: &Issuer) -> Result<(), Refusal> {
    match check_discovery(discovery, issuer).into_iter().next() {
        None => Ok(()),
        Some(violation) => Err(Refusal::invalid(
            format!(
                "discovery: Couldn't retrieve verification key from your identity provider: {} ({})",
                violation.message,
                violation.rule.code()
            ),
            format!(
                "publish the documents awi setup --issuer {issuer} writes; awi oidc check names every problem"
            ),
        )),
    }
}

fn signing_key(token: &Token, jwks: &Jwks) -> Result<RsaKey, Refusal> {
    let keys = jwks.usable_keys();
    let republish = "publish the issuing cluster's current keys at the jwks_uri: kubectl get --raw /openid/v1/jwks > jwks.json, then awi setup --issuer ... --jwks jwks.json";
    let kid = match token.header.get("kid") {
        Some(Value::String(kid)) => kid,
        Some(_) => {
            return Err(Refusal::invalid(
                "kid: the token's header field \"kid\" is not a string",
                FIX_USE_THE_TOKEN,
            ));
        }
        None => {
            return match keys.as_slice() {
                [only] => Ok(only.clone()),
                _ => Err(Refusal::invalid(
                    format!(
                        "kid: the token names no key (no \"kid\") and the JWKS has {} usable keys",
                        keys.len()
                    ),
                    FIX_USE_THE_TOKEN,
                )),
            };
        }
    };
    if let Some(key) = keys.iter().find(|k| &k.kid == kid) {
        return Ok(key.clone());
    }
    let listed = jwks
        .keys
        .iter()
        .position(|k| k.get("kid").and_then(Value::as_str) == Some(kid));
    let reason = match listed {
        Some(index) => format!(
            "kid: Couldn't retrieve verification key from your identity provider: {} is not a usable RSA signing key",
            jwks.key_label(index)
        ),
        None => {
            let known: Vec<String> = keys.iter().map(|k| format!("{:?}", k.kid)).collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            format!(
                "kid: Couldn't retrieve verification key from your identity provider: the token's kid {kid:?} is not in the JWKS (its usable kids: {known})"
            )
        }
    };
    Err(Refusal::invalid(reason, republish))
}

fn check_signature(token: &Token, key: &RsaKey, algorithm: Algorithm) -> Result<(), Refusal> {
    let decoding = DecodingKey::from_rsa_raw_components(&key.modulus, &key.exponent);
    let verified = jsonwebtoken::crypto::verify(
        &token.signature,
        token.signing_input.as_bytes(),
        &decoding,
        algorithm,
    );
    match verified {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::invalid(
            format!(
                "signature: the token's {algorithm:?} signature does not verify with key {:?} of the JWKS",
                key.kid
            ),
            "the token was signed by another key than the published one with its kid: publish the JWKS of the cluster that issued the token (kubectl get --raw /openid/v1/jwks)",
        )),
        Err(e) => Err(Refusal::invalid(
            format!(
                "signature: the token's signature cannot be checked with key {:?}: {e}",
                key.kid
            ),
            FIX_USE_THE_TOKEN,
        )),
    }
}

/// A NumericDate claim (RFC 7519 2): seconds, possibly with a fraction.
fn numeric_date(token: &Token, name: &str) -> Result<Option<i64>, Refusal> {
    match token.claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| {
                Refusal::invalid(
                    format!("{name}: the claim is {value}, not a NumericDate (seconds since 1970)"),
                    FIX_USE_THE_TOKEN,
                )
            }),
    }
}

/// `1767225600` as `2026-01-01T00:00:00Z`.
pub fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn check_times(token: &Token, now: i64) -> Result<(), Refusal> {
    let clock = "compare the clocks of the API server and the machine that called STS (NTP)";
    let Some(exp) = numeric_date(token, "exp")? else {
        return Err(Refusal::invalid(
            "exp: Missing a required claim: exp",
            FIX_USE_THE_TOKEN,
        ));
    };
    if now >= exp {
        return Err(Refusal {
            verdict: StsVerdict::ExpiredTokenException,
            reason: format!(
                "exp: Token expired: current date/time {} must be before the expiration date/time {}",
                rfc3339(now),
                rfc3339(exp)
            ),
            fix: "use a fresh token: the kubelet rotates the projected token file and the AWS SDKs reread it; a copied token expires (kubectl create token --duration)".to_string(),
        });
    }
    // A token dated in the future (not yet valid, or issued later than now) is invalid.
    let now_text = rfc3339(now);
    if let Some(nbf) = numeric_date(token, "nbf")?.filter(|nbf| now < *nbf) {
        let reason = format!(
            "nbf: the token is not valid before {} and it is {now_text}",
            rfc3339(nbf)
        );
        return Err(Refusal::invalid(reason, clock));
    }
    if let Some(iat) = numeric_date(token, "iat")?.filter(|iat| now < *iat) {
        let reason = format!(
            "iat: the token was issued at {}, after the current date/time {now_text}",
            rfc3339(iat)
        );
        return Err(Refusal::invalid(reason, clock));
    }
    Ok(())
}

/// `system:serviceaccount:<namespace>:<name>` split, when `sub` has that form.
pub fn service_account_of(sub: &str) -> Option<(&str, &str)> {
    let rest = sub.strip_prefix("system:serviceaccount:")?;
    let (namespace, name) = rest.split_once(':')?;
    let valid = |part: &str| !part.is_empty() && !part.contains(':');
    (valid(namespace) && valid(name)).then_some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &str) -> String {
        URL_SAFE_NO_PAD.encode(value)
    }

    #[test]
    fn decoding_names_what_is_malformed() {
        assert_eq!(Token::decode("  \n"), Err(TokenError::Empty));
        assert_eq!(Token::decode("a.b"), Err(TokenError::Parts(2)));
        assert_eq!(Token::decode("a.b.c.d"), Err(TokenError::Parts(4)));
        assert_eq!(Token::decode("*.b.c"), Err(TokenError::Base64("header")));
        let header = encode(r#"{"alg":"RS256"}"#);
        assert!(matches!(
            Token::decode(&format!("{header}.{}.c", encode("[1]"))),
            Err(TokenError::NotJsonObject("payload", _))
        ));
        let huge = "a".repeat(5 * 1024 * 1024);
        assert_eq!(Token::decode(&huge), Err(TokenError::TooLong(huge.len())));
        let token = Token::decode(&format!("{header}.{}.c\n", encode(r#"{"sub":"x"}"#))).unwrap();
        assert_eq!(token.claim_str("sub"), Some("x"));
    }

    #[test]
    fn service_account_subjects() {
        assert_eq!(
            service_account_of("system:serviceaccount:payments:api"),
            Some(("payments", "api"))
        );
        assert_eq!(service_account_of("system:serviceaccount:payments"), None);
        assert_eq!(service_account_of("system:serviceaccount::api"), None);
        assert_eq!(service_account_of("system:serviceaccount:a:b:c"), None);
        assert_eq!(service_account_of("repo:org/x:ref:main"), None);
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}
