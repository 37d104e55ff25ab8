//! The two documents an issuer publishes for STS, `/.well-known/openid-configuration` and the
//! JWKS it points to: made for `awi setup --issuer`, and checked for `awi oidc check`.
//!
//! What STS needs of them: the discovery document's `issuer` is exactly the provider URL,
//! `jwks_uri` is an https URL under it, `RS256` is among the signing algorithms, `id_token`
//! among the response types, `public` among the subject types; the JWKS holds usable RSA
//! signing keys with a `kid`.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use super::issuer::Issuer;
use super::jwks::{Jwks, RsaKey};

/// One requirement of STS on the published documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rule {
    /// The discovery document's `issuer` is not the provider URL.
    IssuerMismatch,
    /// `jwks_uri` is missing or not a string.
    JwksUriMissing,
    /// `jwks_uri` is not an https URL.
    JwksUriNotHttps,
    /// `jwks_uri` is not under the issuer.
    JwksUriNotUnderIssuer,
    /// `id_token_signing_alg_values_supported` lacks RS256.
    Rs256NotSupported,
    /// `response_types_supported` lacks id_token.
    IdTokenNotSupported,
    /// `subject_types_supported` lacks public.
    PublicSubjectsNotSupported,
    /// A key is not RSA (or not an object).
    KeyNotRsa,
    /// A key has no `kid`.
    KeyWithoutKid,
    /// A key's `n` or `e` is not a base64url unsigned integer.
    KeyNotBase64url,
    /// A key's modulus is under 2048 bits.
    KeyTooSmall,
    /// A key's `use` is not sig or its `alg` not RS256.
    KeyNotForRs256Signatures,
    /// Two keys share a `kid`.
    DuplicateKid,
    /// No key of the JWKS is usable.
    NoUsableKey,
}

impl Rule {
    /// The code printed for the rule, e.g. `ISSUER_MISMATCH`.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// One way the published documents fail STS, with the document and field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule broken (`code` in JSON output).
    #[serde(rename = "code")]
    pub rule: Rule,
    /// What is wrong, naming the document and field.
    pub message: String,
}

impl Violation {
    fn new(rule: Rule, message: impl Into<String>) -> Violation {
        Violation {
            rule,
            message: message.into(),
        }
    }
}

/// The discovery document `awi setup --issuer` publishes: the same fields as the one the
/// Kubernetes API server serves.
pub fn discovery_document(issuer: &Issuer) -> Value {
    json!({
        "issuer": issuer.as_str(),
        "jwks_uri": issuer.jwks_uri(),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

/// The JWKS `awi setup --issuer` publishes: the usable keys, each with `use` and `alg`.
pub fn published_jwks(keys: &[RsaKey]) -> Value {
    json!({ "keys": keys.iter().map(RsaKey::to_jwk).collect::<Vec<_>>() })
}

/// Checks a discovery document against `issuer`, the URL the IAM OIDC provider has.
pub fn check_discovery(document: &Value, issuer: &Issuer) -> Vec<Violation> {
    let mut violations = Vec::new();
    match document.get("issuer") {
        Some(Value::String(theirs)) if theirs == issuer.as_str() => {}
        Some(Value::String(theirs)) => {
            let hint = if theirs.trim_end_matches('/') == issuer.as_str().trim_end_matches('/') {
                " (only the trailing slash differs; STS compares the issuer exactly)"
            } else {
                ""
            };
            violations.push(Violation::new(
                Rule::IssuerMismatch,
                format!(
                    "discovery document: issuer {theirs:?} is not {issuer:?}{hint}",
                    issuer = issuer.as_str()
                ),
            ));
        }
        _ => violations.push(Violation::new(
            Rule::IssuerMismatch,
            format!(
                "discovery document: field \"issuer\" is missing or not a string; expected {:?}",
                issuer.as_str()
            ),
        )),
    }
    match document.get("jwks_uri").and_then(Value::as_str) {
        None => violations.push(Violation::new(
            Rule::JwksUriMissing,
            format!(
                "discovery document: field \"jwks_uri\" is missing or not a string; expected e.g. {:?}",
                issuer.jwks_uri()
            ),
        )),
        Some(uri) if !uri.starts_with("https://") => violations.push(Violation::new(
            Rule::JwksUriNotHttps,
            format!("discovery document: jwks_uri {uri:?} is not an https:// URL"),
        )),
        Some(uri) if issuer.path_below(uri).is_none() => violations.push(Violation::new(
            Rule::JwksUriNotUnderIssuer,
            format!(
                "discovery document: jwks_uri {uri:?} is not under the issuer {:?} (expected e.g. {:?})",
                issuer.as_str(),
                issuer.jwks_uri()
            ),
        )),
        Some(_) => {}
    }
    let listed = [
        (
            "id_token_signing_alg_values_supported",
            "RS256",
            Rule::Rs256NotSupported,
        ),
        (
            "response_types_supported",
            "id_token",
            Rule::IdTokenNotSupported,
        ),
        (
            "subject_types_supported",
            "public",
            Rule::PublicSubjectsNotSupported,
        ),
    ];
    for (field, needed, rule) in listed {
        let present = document
            .get(field)
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(|v| v.as_str() == Some(needed)));
        if !present {
            let found = document
                .get(field)
                .map_or_else(|| "it is missing".to_string(), |v| format!("found {v}"));
            violations.push(Violation::new(
                rule,
                format!("discovery document: field {field:?} must list {needed:?}; {found}"),
            ));
        }
    }
    violations
}

/// Checks every key of a JWKS, then that at least one is usable and kids are unique.
pub fn check_jwks(jwks: &Jwks) -> Vec<Violation> {
    use super::jwks::KeyProblem;
    let mut violations = Vec::new();
    let mut usable = 0;
    for (index, assessed) in jwks.assess().into_iter().enumerate() {
        let problems = match assessed {
            Ok(_) => {
                usable += 1;
                continue;
            }
            Err(problems) => problems,
        };
        for problem in problems {
            let rule = match problem {
                KeyProblem::NotAnObject | KeyProblem::NotRsa(_) => Rule::KeyNotRsa,
                KeyProblem::NoKid => Rule::KeyWithoutKid,
                KeyProblem::Modulus(_) | KeyProblem::Exponent(_) => Rule::KeyNotBase64url,
                KeyProblem::TooSmall(_) => Rule::KeyTooSmall,
                KeyProblem::UseNotSig(_) | KeyProblem::AlgNotRs256(_) => {
                    Rule::KeyNotForRs256Signatures
                }
            };
            violations.push(Violation::new(
                rule,
                format!("JWKS: {} {problem}", jwks.key_label(index)),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for kid in jwks
        .keys
        .iter()
        .filter_map(|k| k.get("kid").and_then(Value::as_str))
    {
        if !seen.insert(kid) {
            violations.push(Violation::new(
                Rule::DuplicateKid,
                format!(
                    "JWKS: kid {kid:?} names more than one key; a token's kid must pick one key"
                ),
            ));
        }
    }
    if usable == 0 {
        violations.push(Violation::new(
            Rule::NoUsableKey,
            format!(
                "JWKS: none of its {} key(s) is a usable RSA signing key, so STS can verify no token",
                jwks.keys.len()
            ),
        ));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_discovery_document_passes() {
        let issuer = Issuer::parse("https://oidc.example.com/c1").unwrap();
        let document = discovery_document(&issuer);
        assert_eq!(check_discovery(&document, &issuer), []);
        assert_eq!(
            document["jwks_uri"],
            "https://oidc.example.com/c1/openid/v1/jwks"
        );
    }

    #[test]
    fn each_discovery_rule_is_named() {
        let issuer = Issuer::parse("https://oidc.example.com/c1").unwrap();
        let rules = |document: Value| -> Vec<Rule> {
            check_discovery(&document, &issuer)
                .into_iter()
                .map(|v| v.rule)
                .collect()
        };
        assert_eq!(
            rules(json!({})),
            [
                Rule::IssuerMismatch,
                Rule::JwksUriMissing,
                Rule::Rs256NotSupported,
                Rule::IdTokenNotSupported,
                Rule::PublicSubjectsNotSupported
            ]
        );
        let mut doc = discovery_document(&issuer);
        doc["jwks_uri"] = json!("http://oidc.example.com/c1/keys");
        assert_eq!(rules(doc), [Rule::JwksUriNotHttps]);
        let mut doc = discovery_document(&issuer);
        doc["jwks_uri"] = json!("https://keys.example.com/c1/keys");
        assert_eq!(rules(doc), [Rule::JwksUriNotUnderIssuer]);
        let mut doc = discovery_document(&issuer);
        doc["issuer"] = json!("https://oidc.example.com/c1/");
        let v = check_discovery(&doc, &issuer);
        assert!(v[0].message.contains("trailing slash"), "{v:?}");
        assert_eq!(Rule::IssuerMismatch.code(), "ISSUER_MISMATCH");
        assert_eq!(Rule::Rs256NotSupported.code(), "RS256_NOT_SUPPORTED");
    }
}
