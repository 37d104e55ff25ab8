//! Reading a policy document out of the forms people paste, with duplicate keys refused.
//!
//! `serde_json::Value` silently keeps the last of two equal keys, but IAM refuses a
//! repeated element and parsers disagree on which copy wins (IAM refuses such documents), so the text is
//! read through [`Strict`], which fails on the second occurrence. serde_json's recursion
//! limit (128 levels) bounds the depth.
//!
//! Accepted forms (unwrapped at most [`MAX_UNWRAP`] times):
//! - the document as a JSON object;
//! - a JSON string holding the document;
//! - the URL-encoded document of the raw IAM API (`%7B%22Version%22...`);
//! - the output of `aws iam get-role` (`{"Role": {"AssumeRolePolicyDocument": ...}}`), or
//!   its `Role` object.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::json::type_name;

/// How many wrappers (string, URL encoding, `get-role` output) are peeled off at most.
pub const MAX_UNWRAP: usize = 4;

/// A JSON value read with duplicate object keys refused.
#[derive(Debug)]
pub struct Strict(pub Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key {key:?} (IAM refuses an element that appears twice)"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses JSON text with duplicate keys refused.
pub fn parse_strict(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

/// The policy document found in `text`, with the text that IAM would store (for size and
/// character checks). Errors say why nothing could be read.
pub fn extract(text: &str) -> Result<(Value, Cow<'_, str>), String> {
    // The common case (a JSON object text) is parsed without copying the input.
    let mut owned: Option<String> = None;
    for _ in 0..MAX_UNWRAP {
        let trimmed = owned.as_deref().unwrap_or(text).trim();
        if trimmed.starts_with('%') {
            owned = Some(percent_decode(trimmed)?);
            continue;
        }
        let value = parse_strict(trimmed).map_err(|e| format!("not valid JSON: {e}"))?;
        match value {
            Value::String(inner) => owned = Some(inner),
            Value::Object(_) => match unwrap_role(&value) {
                Some(Value::String(inner)) => owned = Some(inner.clone()),
                Some(doc @ Value::Object(_)) => {
                    let compact = serde_json::to_string(doc).unwrap_or_default();
                    return Ok((doc.clone(), Cow::Owned(compact)));
                }
                Some(other) => {
                    return Err(format!(
                        "AssumeRolePolicyDocument is {}, expected an object or a string",
                        type_name(other)
                    ));
                }
                None => {
                    let doc_text = owned.map_or(Cow::Borrowed(text), Cow::Owned);
                    return Ok((value, doc_text));
                }
            },
            other => {
                return Err(format!(
                    "the policy document is {}, expected a JSON object",
                    type_name(&other)
                ));
            }
        }
    }
    Err(format!(
        "the policy document is wrapped more than {MAX_UNWRAP} times (string in string ...)"
    ))
}

/// Same as [`extract`] for an already parsed value (a settings entry).
pub fn extract_value(value: &Value) -> Result<(Value, Cow<'_, str>), String> {
    match value {
        Value::String(text) => extract(text),
        Value::Object(_) => match unwrap_role(value) {
            Some(Value::String(text)) => extract(text),
            Some(doc @ Value::Object(_)) => Ok((
                doc.clone(),
                Cow::Owned(serde_json::to_string(doc).unwrap_or_default()),
            )),
            Some(other) => Err(format!(
                "AssumeRolePolicyDocument is {}, expected an object or a string",
                type_name(other)
            )),
            None => Ok((
                value.clone(),
                Cow::Owned(serde_json::to_string(value).unwrap_or_default()),
            )),
        },
        other => Err(format!(
            "the policy document is {}, expected a JSON object or a string holding one",
            type_name(other)
        )),
    }
}

/// `{"Role": {"AssumeRolePolicyDocument": D}}` or `{"AssumeRolePolicyDocument": D}` gives D;
/// a document (anything with `Statement`) is never unwrapped.
fn unwrap_role(value: &Value) -> Option<&Value> {
    let object = value.as_object()?;
    if object.contains_key("Statement") {
        return None;
    }
    let role = object.get("Role").unwrap_or(value);
    role.get("AssumeRolePolicyDocument")
}

/// Decodes `%XX` escapes (the IAM API's URL-encoded documents). `+` stays `+`.
pub fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    format!("URL-encoded document: invalid escape at byte {i} (expected %XX)")
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "URL-encoded document: not UTF-8 after decoding".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let e = parse_strict(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(e.contains("duplicate key \"a\""), "{e}");
        let e = parse_strict(r#"{"x": [{"Effect": "Allow", "Effect": "Deny"}]}"#).unwrap_err();
        assert!(e.contains("duplicate key \"Effect\""), "{e}");
        assert!(parse_strict(r#"{"a": {"a": 1}}"#).is_ok());
    }

    #[test]
    fn forms_are_unwrapped() {
        let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let as_string = serde_json::to_string(doc).unwrap();
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let get_role =
            format!(r#"{{"Role": {{"RoleName": "r", "AssumeRolePolicyDocument": {doc}}}}}"#);
        let get_role_encoded =
            format!(r#"{{"Role": {{"AssumeRolePolicyDocument": "{encoded}"}}}}"#);
        for form in [
            doc.to_string(),
            as_string,
            encoded.to_string(),
            get_role,
            get_role_encoded,
        ] {
            let (v, _) = extract(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(v["Version"], "2012-10-17", "{form}");
        }
    }

    #[test]
    fn unreadable_forms_say_why() {
        assert!(extract("[1]").unwrap_err().contains("an array"));
        assert!(extract("{").unwrap_err().contains("not valid JSON"));
        assert!(extract("%7").unwrap_err().contains("invalid escape"));
        assert!(extract("%FF").unwrap_err().contains("UTF-8"));
        let nested = serde_json::to_string(
            &serde_json::to_string(
                &serde_json::to_string(&serde_json::to_string("{}").unwrap()).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(extract(&nested).unwrap_err().contains("wrapped"));
    }
}
