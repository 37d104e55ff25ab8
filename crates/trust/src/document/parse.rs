//! From JSON to the syntax tree of [`super`]: every element read as far as it goes, and a
//! finding for everything IAM would refuse.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    Actions, BUILT_IN_PROVIDERS, DEFAULT_QUOTA_CHARS, Document, Effect, MAX_DOCUMENT_CHARS,
    Principal, Statement, Version,
};
use crate::arn::{ArnParts, OidcProviderArn, is_saml_provider_arn};
use crate::arn::{PARTITIONS, is_account_id};
use crate::condition::{BaseOp, CondValue, Condition, Operator, parse_bool};
use crate::finding::{Code, Finding};
use crate::glob::Glob;
use crate::json::type_name;

/// Reads the document in `text` (any accepted form, see [`crate::source`]). `Err` only when
/// no JSON object can be found; its message says why.
pub fn parse_text(text: &str) -> Result<(Document, Vec<Finding>), String> {
    let (value, doc_text) = crate::source::extract(text)?;
    Ok(validate(&value, &doc_text))
}

/// Same as [`parse_text`] for a settings value (an object or a string holding the text).
pub fn parse_value(value: &Value) -> Result<(Document, Vec<Finding>), String> {
    let (value, doc_text) = crate::source::extract_value(value)?;
    Ok(validate(&value, &doc_text))
}

/// Builds the syntax tree of `value` and every finding of the document grammar.
pub fn validate(value: &Value, text: &str) -> (Document, Vec<Finding>) {
    let mut v = Collector::default();
    // Byte counting for the usual all-ASCII text; char decoding only when needed.
    let (chars, quota_chars) = if text.is_ascii() {
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        (text.len(), text.bytes().filter(|b| !blank(b)).count())
    } else {
        (
            text.chars().count(),
            text.chars().filter(|c| !c.is_whitespace()).count(),
        )
    };
    if chars > MAX_DOCUMENT_CHARS {
        v.error(
            Code::InvalidJson,
            None,
            format!(
                "the document is {chars} characters long; IAM accepts at most {MAX_DOCUMENT_CHARS}"
            ),
        );
    }
    if quota_chars > DEFAULT_QUOTA_CHARS {
        v.push(Code::PolicyTooLarge, None, format!(
            "the document has {quota_chars} non-whitespace characters; the default role trust policy quota is {DEFAULT_QUOTA_CHARS} (raise the quota or shorten the document)"
        ));
    }
    check_characters(value, &mut v);

    let mut doc = Document {
        version: Version::Missing,
        statements: Vec::new(),
        valid: true,
        chars,
        quota_chars,
    };
    let Some(object) = value.as_object() else {
        v.error(
            Code::InvalidJson,
            None,
            format!(
                "the document is {}, expected a JSON object",
                type_name(value)
            ),
        );
        doc.valid = false;
        return (doc, v.findings);
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            v.error(Code::InvalidJson, None, format!(
                "unknown top-level element {key:?}; a policy has Version, Id and Statement (element names are case-sensitive)"
            ));
        }
    }
    doc.version = match object.get("Version") {
        None => {
            v.push(Code::MissingVersion, None, "no Version: policy variables are not substituted (add \"Version\": \"2012-10-17\")");
            Version::Missing
        }
        Some(Value::String(s)) if s == "2012-10-17" => Version::V2012_10_17,
        Some(Value::String(s)) if s == "2008-10-17" => {
            v.push(
                Code::OldVersion,
                None,
                "Version 2008-10-17: policy variables are not substituted (use 2012-10-17)",
            );
            Version::V2008_10_17
        }
        Some(other) => {
            v.error(
                Code::InvalidVersion,
                None,
                format!(
                    "Version {} is not \"2012-10-17\" or \"2008-10-17\"",
                    show(other)
                ),
            );
            Version::Invalid
        }
    };
    if let Some(id) = object.get("Id")
        && !id.is_string()
    {
        v.error(
            Code::InvalidJson,
            None,
            format!("Id is {}, expected a string", type_name(id)),
        );
    }
    let statements: Vec<&Value> = match object.get("Statement") {
        None => {
            v.error(
                Code::MissingStatement,
                None,
                "the document has no Statement; nothing can be allowed",
            );
            Vec::new()
        }
        Some(Value::Array(items)) => {
            if items.is_empty() {
                v.error(
                    Code::MissingStatement,
                    None,
                    "Statement is an empty array; nothing can be allowed",
                );
            }
            items.iter().collect()
        }
        Some(one @ Value::Object(_)) => vec![one],
        Some(other) => {
            v.error(
                Code::InvalidJson,
                None,
                format!(
                    "Statement is {}, expected an object or an array of objects",
                    type_name(other)
                ),
            );
            Vec::new()
        }
    };
    let mut sids = HashSet::new();
    for (i, st) in statements.into_iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let before = v.errors;
        let mut statement = parse_statement(index, st, doc.version, &mut v);
        statement.valid = v.errors == before;
        if let Some(sid) = &statement.sid
            && !sids.insert(sid.clone())
        {
            v.push(
                Code::SidDuplicate,
                Some(index),
                format!(
                    "{}: Sid {sid:?} is used by an earlier statement; Sids should be unique",
                    statement.label()
                ),
            );
        }
        doc.statements.push(statement);
    }
    doc.valid = v.errors == 0;
    (doc, v.findings)
}

#[derive(Default)]
struct Collector {
    findings: Vec<Finding>,
    errors: usize,
}

impl Collector {
    fn push(&mut self, code: Code, statement: Option<u32>, message: impl Into<String>) {
        self.findings.push(Finding::new(code, statement, message));
    }

    fn error(&mut self, code: Code, statement: Option<u32>, message: impl Into<String>) {
        self.errors += 1;
        self.push(code, statement, message);
    }
}

/// IAM accepts tab, LF, CR and U+0020-U+00FF only (IAM JSON policy grammar). Outside strings JSON is
/// ASCII, so checking every key and string covers the document. Iterative: no recursion.
fn check_characters(value: &Value, v: &mut Collector) {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
    let mut stack = vec![value];
    while let Some(item) = stack.pop() {
        let bad = |s: &str| s.chars().find(|c| !allowed(*c));
        match item {
            Value::String(s) => {
                if let Some(c) = bad(s) {
                    v.error(Code::InvalidJson, None, format!(
                        "the value {s:?} contains {c:?} (U+{:04X}); IAM accepts only tab, LF, CR and U+0020-U+00FF",
                        c as u32
                    ));
                    return;
                }
            }
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => {
                for (k, val) in map {
                    if let Some(c) = bad(k) {
                        v.error(Code::InvalidJson, None, format!(
                            "the key {k:?} contains {c:?} (U+{:04X}); IAM accepts only tab, LF, CR and U+0020-U+00FF",
                            c as u32
                        ));
                        return;
                    }
                    stack.push(val);
                }
            }
            _ => {}
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => type_name(other).to_string(),
    }
}

/// A single value or an array of them (IAM: brackets may be dropped). `Err` names
/// the offending JSON type.
fn one_or_many(value: &Value) -> Result<Vec<&Value>, &'static str> {
    match value {
        Value::Array(items) => {
            if let Some(bad) = items
                .iter()
                .find(|i| i.is_array() || i.is_object() || i.is_null())
            {
                return Err(type_name(bad));
            }
            Ok(items.iter().collect())
        }
        Value::Object(_) | Value::Null => Err(type_name(value)),
        one => Ok(vec![one]),
    }
}

/// String form of a scalar: strings as is, numbers and booleans as their JSON text
/// (IAM: quotes are optional for numbers and booleans).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(value: &Value) -> Result<Vec<String>, &'static str> {
    one_or_many(value)?
        .into_iter()
        .map(|v| v.as_str().map(str::to_string).ok_or(type_name(v)))
        .collect()
}

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(index: u32, value: &Value, version: Version, v: &mut Collector) -> Statement {
    let mut st = Statement {
        index,
        sid: None,
        effect: None,
        principal: Principal::default(),
        actions: Actions::default(),
        conditions: Vec::new(),
        valid: true,
    };
    let Some(object) = value.as_object() else {
        v.error(
            Code::InvalidJson,
            Some(index),
            format!(
                "{}: is {}, expected an object",
                st.label(),
                type_name(value)
            ),
        );
        return st;
    };
    match object.get("Sid") {
        None => {}
        Some(Value::String(s)) => {
            st.sid = Some(s.clone());
            if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                v.push(
                    Code::SidInvalid,
                    Some(index),
                    format!(
                        "{}: Sid {s:?} has characters other than letters and digits",
                        st.label()
                    ),
                );
            }
        }
        Some(other) => v.error(
            Code::InvalidJson,
            Some(index),
            format!(
                "statement {index}: Sid is {}, expected a string",
                type_name(other)
            ),
        ),
    }
    let at = st.label();
    for key in object.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            v.error(Code::InvalidJson, Some(index), format!(
                "{at}: unknown element {key:?}; expected one of {} (element names are case-sensitive)",
                STATEMENT_ELEMENTS.join(", ")
            ));
        }
    }
    st.effect =
        match object.get("Effect") {
            None => {
                v.error(
                    Code::MissingEffect,
                    Some(index),
                    format!("{at}: Effect is missing; it must be \"Allow\" or \"Deny\""),
                );
                None
            }
            Some(Value::String(s)) if s == "Allow" => Some(Effect::Allow),
            Some(Value::String(s)) if s == "Deny" => Some(Effect::Deny),
            Some(other) => {
                v.error(Code::InvalidEffect, Some(index), format!(
                "{at}: Effect {} is not \"Allow\" or \"Deny\" (the value is case-sensitive)",
                show(other)
            ));
                None
            }
        };
    if object.contains_key("NotPrincipal") {
        v.error(Code::NotprincipalNotSupported, Some(index), format!(
            "{at}: NotPrincipal is not supported in role trust policies; name the trusted provider in Principal"
        ));
    }
    match object.get("Principal") {
        None if object.contains_key("NotPrincipal") => {}
        None => v.error(
            Code::MissingPrincipal,
            Some(index),
            format!("{at}: Principal is missing; trust policies must name who may assume the role"),
        ),
        Some(p) => st.principal = parse_principal(&at, index, p, v),
    }
    for key in ["Resource", "NotResource"] {
        if object.contains_key(key) {
            v.error(Code::ResourceNotSupported, Some(index), format!(
                "{at}: {key} is prohibited in role trust policies (IAM: \"Has prohibited field {key}\")"
            ));
        }
    }
    st.actions = parse_actions(&at, index, object, v);
    if let Some(c) = object.get("Condition") {
        st.conditions = parse_conditions(&at, index, c, version, v);
    }
    st
}

fn parse_principal(at: &str, index: u32, value: &Value, v: &mut Collector) -> Principal {
    let mut p = Principal::default();
    let map = match value {
        Value::String(s) if s == "*" => {
            v.error(Code::WildcardPrincipalNotSupported, Some(index), format!(
                "{at}: Principal \"*\" is refused in role trust policies; name the OIDC provider: {{\"Federated\": \"arn:aws:iam::<account>:oidc-provider/<issuer host/path>\"}}"
            ));
            return p;
        }
        Value::Object(map) => map,
        other => {
            v.error(Code::InvalidJson, Some(index), format!(
                "{at}: Principal is {}, expected an object such as {{\"Federated\": \"<provider ARN>\"}}",
                show(other)
            ));
            return p;
        }
    };
    if map.is_empty() {
        v.error(
            Code::MissingPrincipal,
            Some(index),
            format!("{at}: Principal is an empty object"),
        );
    }
    for (kind, values) in map {
        let list =
            match strings(values) {
                Ok(list) => list,
                Err(t) => {
                    v.error(Code::InvalidJson, Some(index), format!(
                    "{at}: Principal {kind} holds {t}, expected a string or an array of strings"
                ));
                    continue;
                }
            };
        if list.is_empty() {
            v.error(
                Code::MissingPrincipal,
                Some(index),
                format!("{at}: Principal {kind} is an empty array"),
            );
        }
        for item in &list {
            check_principal_value(at, index, kind, item, &mut p, v);
        }
        match kind.as_str() {
            "AWS" => p.aws = list,
            "Federated" => p.federated = list,
            "Service" => p.service = list,
            "CanonicalUser" => p.canonical_user = list,
            other => v.error(
                Code::InvalidJson,
                Some(index),
                format!(
                    "{at}: unknown principal type {other:?}; expected AWS, Federated or Service"
                ),
            ),
        }
    }
    p
}

fn check_principal_value(
    at: &str,
    index: u32,
    kind: &str,
    item: &str,
    p: &mut Principal,
    v: &mut Collector,
) {
    if item.contains('*') {
        if item != "*" {
            v.error(Code::PrincipalPartialWildcard, Some(index), format!(
                "{at}: Principal {kind} {item:?}: a wildcard cannot match part of a principal; name it exactly"
            ));
        } else if kind != "AWS" {
            v.error(Code::WildcardPrincipalNotSupported, Some(index), format!(
                "{at}: Principal {kind} \"*\" is refused in role trust policies; name the provider exactly"
            ));
        }
        return;
    }
    let invalid = |v: &mut Collector, why: String| {
        v.error(
            Code::InvalidPrincipalArn,
            Some(index),
            format!("{at}: Principal {kind} {why}"),
        );
    };
    match kind {
        "Federated" => {
            if item.starts_with("arn:") {
                if is_saml_provider_arn(item) {
                    if let Err(why) = check_arn_header(item) {
                        invalid(v, format!("{item:?}: {why}"));
                    }
                } else {
                    match OidcProviderArn::parse(item) {
                        Ok(arn) => p.oidc.push(arn),
                        Err(e) => invalid(v, e.to_string()),
                    }
                }
            } else if !BUILT_IN_PROVIDERS.contains(&item) {
                invalid(
                    v,
                    format!(
                        "{item:?} is not a provider ARN (arn:<partition>:iam::<account>:oidc-provider/<host/path>) or a built-in identity provider ({})",
                        BUILT_IN_PROVIDERS.join(", ")
                    ),
                );
            }
        }
        "AWS" => {
            if item.starts_with("arn:") {
                if let Err(why) = check_arn_header(item) {
                    invalid(v, format!("{item:?}: {why}"));
                }
            } else if !is_account_id(item) && !is_unique_id(item) {
                invalid(
                    v,
                    format!("{item:?} is not an ARN, a 12-digit account ID or a unique ID"),
                );
            }
        }
        "Service" if item.is_empty() || item.chars().any(|c| c.is_whitespace() || c == ':') => {
            invalid(
                v,
                format!("{item:?} is not a service principal such as ec2.amazonaws.com"),
            );
        }
        _ => {}
    }
}

/// IAM replaces ARNs of deleted roles and users with unique IDs (`AROA...`).
fn is_unique_id(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && s.starts_with('A')
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn check_arn_header(arn: &str) -> Result<(), String> {
    let parts = ArnParts::split(arn)
        .ok_or("expected arn:<partition>:<service>:<region>:<account>:<resource>")?;
    if !PARTITIONS.contains(&parts.partition) {
        return Err(format!(
            "partition {:?} is not one of {}",
            parts.partition,
            PARTITIONS.join(", ")
        ));
    }
    if !is_account_id(parts.account) {
        return Err(format!("account {:?} is not 12 digits", parts.account));
    }
    if parts.resource.is_empty() {
        return Err("resource is empty".to_string());
    }
    Ok(())
}

fn parse_actions(at: &str, index: u32, object: &Map<String, Value>, v: &mut Collector) -> Actions {
    let (key, value, negated) = match (object.get("Action"), object.get("NotAction")) {
        (Some(_), Some(_)) => {
            v.error(
                Code::MissingAction,
                Some(index),
                format!("{at}: has both Action and NotAction; exactly one is allowed"),
            );
            return Actions::default();
        }
        (None, None) => {
            v.error(Code::MissingAction, Some(index), format!(
                "{at}: Action is missing; for IRSA use \"Action\": \"sts:AssumeRoleWithWebIdentity\""
            ));
            return Actions::default();
        }
        (Some(a), None) => ("Action", a, false),
        (None, Some(a)) => ("NotAction", a, true),
    };
    let items = match strings(value) {
        Ok(items) => items,
        Err(t) => {
            v.error(
                Code::InvalidJson,
                Some(index),
                format!("{at}: {key} holds {t}, expected a string or an array of strings"),
            );
            return Actions::default();
        }
    };
    if items.is_empty() {
        v.error(
            Code::MissingAction,
            Some(index),
            format!("{at}: {key} is an empty array"),
        );
    }
    for item in &items {
        if !is_action(item) {
            v.error(Code::MissingAction, Some(index), format!(
                "{at}: {key} {item:?} is not \"*\" or <service>:<action> (e.g. sts:AssumeRoleWithWebIdentity)"
            ));
        }
    }
    let globs = items.iter().map(|a| Glob::new(a)).collect();
    Actions {
        negated,
        items,
        globs,
    }
}

fn is_action(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    match s.split_once(':') {
        Some((service, name)) => {
            !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"*?-_".contains(&b))
        }
        None => false,
    }
}

fn parse_conditions(
    at: &str,
    index: u32,
    value: &Value,
    version: Version,
    v: &mut Collector,
) -> Vec<Condition> {
    let mut out = Vec::new();
    let Some(block) = value.as_object() else {
        v.error(Code::InvalidJson, Some(index), format!(
            "{at}: Condition is {}, expected an object {{\"<operator>\": {{\"<key>\": <values>}}}}",
            type_name(value)
        ));
        return out;
    };
    for (op_text, entries) in block {
        let operator = match Operator::parse(op_text) {
            Ok(op) => Some(op),
            Err(why) => {
                v.error(
                    Code::UnknownConditionOperator,
                    Some(index),
                    format!("{at}: {why}"),
                );
                None
            }
        };
        let Some(entries) = entries.as_object() else {
            v.error(
                Code::InvalidJson,
                Some(index),
                format!(
                    "{at}: condition {op_text} is {}, expected an object {{\"<key>\": <values>}}",
                    type_name(entries)
                ),
            );
            continue;
        };
        if entries.is_empty() {
            v.error(
                Code::EmptyConditionValues,
                Some(index),
                format!("{at}: condition {op_text} has no keys"),
            );
        }
        for (key, values) in entries {
            if key.is_empty() {
                v.error(
                    Code::InvalidJson,
                    Some(index),
                    format!("{at}: condition {op_text} has an empty key"),
                );
                continue;
            }
            let list: Vec<String> = match one_or_many(values) {
                Ok(list) => list.into_iter().filter_map(scalar_text).collect(),
                Err(t) => {
                    v.error(Code::InvalidJson, Some(index), format!(
                        "{at}: condition {op_text} {key} holds {t}, expected a string, number or boolean, or an array of them"
                    ));
                    continue;
                }
            };
            if list.is_empty() {
                v.error(Code::EmptyConditionValues, Some(index), format!(
                    "{at}: condition {op_text} {key} has an empty value list; AWS documents contradictory results for it"
                ));
                continue;
            }
            let Some(operator) = operator else { continue };
            if operator.base == BaseOp::Null
                && let Some(bad) = list.iter().find(|x| parse_bool(x).is_none())
            {
                v.error(
                    Code::UnknownConditionOperator,
                    Some(index),
                    format!("{at}: condition Null {key} value {bad:?} is not true or false"),
                );
                continue;
            }
            let variables = version.substitutes_variables();
            out.push(Condition {
                operator,
                operator_text: op_text.clone(),
                key: key.clone(),
                key_lower: key.to_lowercase(),
                values: list
                    .iter()
                    .map(|t| CondValue::new(t, operator.base, variables))
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        match parse_text(text) {
            Ok((_, f)) => f.iter().map(|f| f.code.as_str()).collect(),
            Err(_) => vec!["UNREADABLE"],
        }
    }

    #[test]
    fn minimal_valid_document() {
        let (doc, f) = parse_text(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/h/p"},"Action":"sts:AssumeRoleWithWebIdentity"}}"#,
        )
        .unwrap();
        assert!(doc.valid, "{f:?}");
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].principal.oidc[0].url(), "h/p");
    }

    #[test]
    fn every_problem_of_a_statement_is_reported() {
        let c = codes(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","NotPrincipal":{"AWS":"*"},"Resource":"*","Condition":{"stringequals":{"a":"b"}}}]}"#,
        );
        for want in [
            "INVALID_EFFECT",
            "NOTPRINCIPAL_NOT_SUPPORTED",
            "RESOURCE_NOT_SUPPORTED",
            "MISSING_ACTION",
            "UNKNOWN_CONDITION_OPERATOR",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
    }
}
