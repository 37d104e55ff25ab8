//! An issuer's JSON Web Key Set (RFC 7517) and the keys in it STS can verify Kubernetes
//! ServiceAccount tokens with: RSA keys with a `kid`, a modulus of at least 2048 bits, for
//! signatures (`use` sig, `alg` RS256 when given).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

/// The smallest RSA modulus STS accepts for an OIDC provider's signing keys.
pub const MIN_RSA_BITS: usize = 2048;

/// A parsed JWKS: its key entries as published, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwks {
    /// The `keys` array's entries, unchecked.
    pub keys: Vec<Value>,
}

/// Why a text is not a JWKS (RFC 7517 section 5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not JSON; the parser's message.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("not a JWKS: expected an object with a \"keys\" array")]
    NotAnObject,
    /// An object without a `keys` array.
    #[error("not a JWKS: the \"keys\" member is missing or not an array")]
    NoKeysArray,
}

/// An RSA key STS can use, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    /// The key ID tokens name in their header.
    pub kid: String,
    /// `n`, big-endian bytes.
    pub modulus: Vec<u8>,
    /// `e`, big-endian bytes.
    pub exponent: Vec<u8>,
}

/// Why one key of a JWKS cannot verify tokens for STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The entry is not a JSON object.
    NotAnObject,
    /// `kty` is not `RSA`; the `kty` given.
    NotRsa(String),
    /// No `kid`.
    NoKid,
    /// `n` is missing or not base64url; what is wrong.
    Modulus(String),
    /// `e` is missing or not base64url; what is wrong.
    Exponent(String),
    /// The modulus has fewer than [`MIN_RSA_BITS`] bits; its bits.
    TooSmall(usize),
    /// `use` is present and not `sig`; the `use` given.
    UseNotSig(String),
    /// `alg` is present and not `RS256`; the `alg` given.
    AlgNotRs256(String),
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::NotAnObject => f.write_str("is not a JSON object"),
            KeyProblem::NotRsa(kty) => write!(
                f,
                "has kty {kty}; Kubernetes tokens for STS are verified with RSA keys (kty \"RSA\")"
            ),
            KeyProblem::NoKid => f.write_str(
                "has no \"kid\"; tokens name their key by kid, so a key without one is never found",
            ),
            KeyProblem::Modulus(why) => write!(f, "field \"n\" (modulus) {why}"),
            KeyProblem::Exponent(why) => write!(f, "field \"e\" (exponent) {why}"),
            KeyProblem::TooSmall(bits) => write!(
                f,
                "is a {bits}-bit RSA key; STS needs at least {MIN_RSA_BITS} bits"
            ),
            KeyProblem::UseNotSig(use_) => {
                write!(f, "has use {use_:?}; a signing key has use \"sig\"")
            }
            KeyProblem::AlgNotRs256(alg) => {
                write!(f, "has alg {alg:?}; Kubernetes signs with RS256")
            }
        }
    }
}

impl Jwks {
    /// Reads a JWKS document (a leading byte order mark is ignored).
    pub fn parse(text: &str) -> Result<Jwks, JwksError> {
        let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| JwksError::NotJson(e.to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(JwksError::NotAnObject);
        };
        match map.remove("keys") {
            Some(Value::Array(keys)) => Ok(Jwks { keys }),
            _ => Err(JwksError::NoKeysArray),
        }
    }

    /// Each key: usable, or why not.
    pub fn assess(&self) -> Vec<Result<RsaKey, Vec<KeyProblem>>> {
        self.keys.iter().map(assess_key).collect()
    }

    /// The keys STS can verify tokens with, in order.
    pub fn usable_keys(&self) -> Vec<RsaKey> {
        self.assess().into_iter().filter_map(Result::ok).collect()
    }

    /// How a key is named in messages: `key 0 (kid "abc")`.
    pub fn key_label(&self, index: usize) -> String {
        match self
            .keys
            .get(index)
            .and_then(|k| k.get("kid"))
            .and_then(Value::as_str)
        {
            Some(kid) => format!("key {index} (kid {kid:?})"),
            None => format!("key {index}"),
        }
    }
}

fn assess_key(key: &Value) -> Result<RsaKey, Vec<KeyProblem>> {
    let Value::Object(key) = key else {
        return Err(vec![KeyProblem::NotAnObject]);
    };
    let mut problems = Vec::new();
    match key.get("kty") {
        Some(Value::String(kty)) if kty == "RSA" => {}
        Some(other) => problems.push(KeyProblem::NotRsa(other.to_string())),
        None => problems.push(KeyProblem::NotRsa("missing".to_string())),
    }
    let kid = match key.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Some(kid.clone()),
        _ => {
            problems.push(KeyProblem::NoKid);
            None
        }
    };
    let modulus = unsigned_integer(key, "n").map_err(KeyProblem::Modulus);
    let exponent = unsigned_integer(key, "e").map_err(KeyProblem::Exponent);
    if let Ok(n) = &modulus {
        let bits = bit_length(n);
        if bits < MIN_RSA_BITS {
            problems.push(KeyProblem::TooSmall(bits));
        }
    }
    if let Some(use_) = key.get("use").filter(|u| u.as_str() != Some("sig")) {
        problems.push(KeyProblem::UseNotSig(text_of(use_)));
    }
    if let Some(alg) = key.get("alg").filter(|a| a.as_str() != Some("RS256")) {
        problems.push(KeyProblem::AlgNotRs256(text_of(alg)));
    }
    let modulus = modulus.map_err(|p| problems.push(p)).ok();
    let exponent = exponent.map_err(|p| problems.push(p)).ok();
    match (kid, modulus, exponent) {
        (Some(kid), Some(modulus), Some(exponent)) if problems.is_empty() => Ok(RsaKey {
            kid,
            modulus,
            exponent,
        }),
        _ => Err(problems),
    }
}

/// A base64url unsigned integer member (RFC 7518 6.3.1: no padding), decoded.
fn unsigned_integer(key: &Map<String, Value>, field: &str) -> Result<Vec<u8>, String> {
    let text = match key.get(field) {
        Some(Value::String(text)) => text,
        Some(other) => return Err(format!("is {other}, expected a base64url string")),
        None => return Err("is missing".to_string()),
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("is not base64url without padding: {e}"))?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    if first == bytes.len() {
        return Err("is zero".to_string());
    }
    Ok(bytes[first..].to_vec())
}

/// Bits of a big-endian unsigned integer without leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(top) => bytes.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

impl RsaKey {
    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        bit_length(&self.modulus)
    }

    /// The key as `awi setup --issuer` publishes it.
    pub fn to_jwk(&self) -> Value {
        json!({
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
        })
    }
}

fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> String {
        let mut bytes = vec![0xffu8; bits / 8];
        bytes[0] = 0x80;
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_kubernetes_key_is_usable() {
        let text = json!({"keys": [{"use": "sig", "kty": "RSA", "kid": "k1", "alg": "RS256", "n": modulus(2048), "e": "AQAB"}]}).to_string();
        let jwks = Jwks::parse(&text).unwrap();
        let keys = jwks.usable_keys();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].bits(), 2048);
        assert_eq!(keys[0].exponent, vec![1, 0, 1]);
        assert_eq!(keys[0].to_jwk()["n"], modulus(2048));
    }

    #[test]
    fn each_problem_is_named() {
        let jwks = Jwks {
            keys: vec![
                json!({"kty": "EC", "kid": "a", "n": modulus(2048), "e": "AQAB"}),
                json!({"kty": "RSA", "n": modulus(2048), "e": "AQAB"}),
                json!({"kty": "RSA", "kid": "c", "n": modulus(1024), "e": "AQAB"}),
                json!({"kty": "RSA", "kid": "d", "n": "a+b/", "e": "AQAB"}),
                json!({"kty": "RSA", "kid": "e", "n": modulus(2048), "e": 65537}),
                json!({"kty": "RSA", "kid": "f", "n": modulus(2048), "e": "AQAB", "use": "enc", "alg": "RS512"}),
                json!("key"),
            ],
        };
        let problems: Vec<Vec<KeyProblem>> =
            jwks.assess().into_iter().map(|r| r.unwrap_err()).collect();
        assert_eq!(problems[0], [KeyProblem::NotRsa("\"EC\"".into())]);
        assert_eq!(problems[1], [KeyProblem::NoKid]);
        assert_eq!(problems[2], [KeyProblem::TooSmall(1024)]);
        assert!(matches!(problems[3][..], [KeyProblem::Modulus(_)]));
        assert!(matches!(problems[4][..], [KeyProblem::Exponent(_)]));
        assert_eq!(
            problems[5],
            [
                KeyProblem::UseNotSig("enc".into()),
                KeyProblem::AlgNotRs256("RS512".into())
            ]
        );
        assert_eq!(problems[6], [KeyProblem::NotAnObject]);
        assert_eq!(jwks.key_label(2), "key 2 (kid \"c\")");
    }

    #[test]
    fn not_a_jwks() {
        assert!(matches!(Jwks::parse("{"), Err(JwksError::NotJson(_))));
        assert_eq!(Jwks::parse("[]"), Err(JwksError::NotAnObject));
        assert_eq!(Jwks::parse("{}"), Err(JwksError::NoKeysArray));
    }
}
