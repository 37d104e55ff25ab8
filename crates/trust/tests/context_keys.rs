//! Every key of the request-context model (`CONTEXT.md`) under every operator family: the
//! decision follows IAM's rules for the key's class, whatever the key.

use awi_trust::context::{CLAIMS, KEYS, Known, RequestContext, Source};
use awi_trust::{RoleArn, Subject, TrustPolicy, Verdict};
use serde_json::json;

const ISSUER: &str = "https://oidc.example.com/abc123";
const PREFIX: &str = "oidc.example.com/abc123";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";
const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123";

/// One operator of each family, with a policy value, and its answer on an absent key.
const FAMILIES: &[(&str, &str, bool)] = &[
    ("StringEquals", "x", false),
    ("StringNotEquals", "x", true),
    ("StringEqualsIgnoreCase", "x", false),
    ("StringNotEqualsIgnoreCase", "x", true),
    ("StringLike", "*", false),
    ("StringNotLike", "x*", true),
    ("StringEqualsIfExists", "x", true),
    ("StringNotLikeIfExists", "*", true),
    ("NumericLessThan", "5", false),
    ("NumericNotEquals", "5", true),
    ("NumericGreaterThanIfExists", "5", true),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", false),
    ("DateNotEquals", "2020-01-01T00:00:00Z", true),
    ("Bool", "true", false),
    ("BoolIfExists", "false", true),
    ("IpAddress", "10.0.0.0/8", false),
    ("NotIpAddress", "10.0.0.0/8", true),
    ("ArnLike", "arn:*:*:*:*:*", false),
    ("ArnNotEquals", "arn:aws:iam::111122223333:root", true),
    ("BinaryEquals", "QmluYXJ5", false),
    ("Null", "true", true),
    ("Null", "false", false),
    ("ForAnyValue:StringEquals", "x", false),
    ("ForAnyValue:StringNotLike", "x", false),
    ("ForAllValues:StringEquals", "x", true),
    ("ForAllValues:StringNotEquals", "x", true),
    ("ForAllValues:Null", "false", true),
    ("ForAnyValue:Null", "true", false),
];

/// What a decision can be.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Answer {
    Allowed,
    NotAllowed,
    /// Not allowed, because the condition needs a value only STS knows.
    Undecided,
}

fn policy(operator: &str, key: &str, value: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {operator: {key: value}}
    }]})
    .to_string()
}

fn subject() -> Subject {
    Subject {
        issuer: ISSUER.into(),
        audience: "sts.amazonaws.com".into(),
        namespace: "payments".into(),
        service_account: "api".into(),
    }
}

fn answer(v: &Verdict, key: &str) -> Answer {
    let undecided = v
        .findings
        .iter()
        .any(|f| f.code == "CONTEXT_DEPENDENT_CONDITION" && f.message.contains(key));
    match (v.allowed, undecided) {
        (true, false) => Answer::Allowed,
        (false, false) => Answer::NotAllowed,
        (false, true) => Answer::Undecided,
        (true, true) => panic!("allowed and undecided: {v:?}"),
    }
}

fn decide(operator: &str, key: &str, value: &str, context: &RequestContext) -> Verdict {
    let (p, findings) = TrustPolicy::parse(&policy(operator, key, value)).unwrap();
    assert!(p.is_valid(), "{operator} {key}: {findings:?}");
    p.decide_in(&RoleArn::parse(ROLE).unwrap(), &subject(), context)
}

/// A concrete key for an entry (`aws:RequestTag/` becomes `aws:RequestTag/team`).
fn concrete(name: &str) -> String {
    if name.ends_with('/') {
        format!("{name}team")
    } else {
        name.to_string()
    }
}

fn expected(source: Source, operator: &str, value: &str, on_absent: bool) -> Answer {
    let decided = |b: bool| {
        if b {
            Answer::Allowed
        } else {
            Answer::NotAllowed
        }
    };
    // The set operators on Null never look at the key.
    if operator.starts_with("ForAllValues:Null") || operator.starts_with("ForAnyValue:Null") {
        return decided(on_absent);
    }
    match source {
        Source::Absent => decided(on_absent),
        Source::Sts if operator == "Null" => decided(value == "false"),
        Source::Sts | Source::StsMaybe => Answer::Undecided,
        Source::Known(_) => unreachable!("known keys have their own tests"),
    }
}

#[test]
fn every_key_follows_its_class_under_every_operator_family() {
    let none = RequestContext::new();
    let mut checked = 0;
    for k in KEYS
        .iter()
        .filter(|k| !matches!(k.source, Source::Known(_)))
    {
        let key = concrete(k.name);
        for (operator, value, on_absent) in FAMILIES {
            let v = decide(operator, &key, value, &none);
            assert_eq!(
                answer(&v, &key),
                expected(k.source, operator, value, *on_absent),
                "{operator} {key} ({:?}): {:?}",
                k.source,
                v.explanation
            );
            // Key names are case-insensitive.
            let upper = decide(operator, &key.to_uppercase(), value, &none);
            assert_eq!(upper.allowed, v.allowed, "{operator} {key} in upper case");
            checked += 1;
        }
    }
    assert!(checked >= 70 * FAMILIES.len());
}

#[test]
fn provider_claims_other_than_sub_and_aud_are_absent() {
    let none = RequestContext::new();
    let mut claims: Vec<&str> = CLAIMS
        .iter()
        .filter(|(_, s, _)| *s == Source::Absent)
        .map(|(c, _, _)| *c)
        .collect();
    claims.extend(["kubernetes.io", "iss", "exp", "sbu"]);
    for claim in claims {
        for key in [
            format!("{PREFIX}:{claim}"),
            format!("other.example.com:{claim}"),
        ] {
            for (operator, value, on_absent) in FAMILIES {
                let v = decide(operator, &key, value, &none);
                assert_eq!(
                    answer(&v, &key),
                    expected(Source::Absent, operator, value, *on_absent),
                    "{operator} {key}"
                );
            }
        }
    }
    // A key no list names is absent too, as IAM treats it.
    let v = decide("StringNotEquals", "s3:prefix", "x", &none);
    assert!(v.allowed, "{:?}", v.explanation);
}

#[test]
fn known_keys_are_evaluated() {
    let none = RequestContext::new();
    let sub = format!("{PREFIX}:sub");
    let aud = format!("{PREFIX}:aud");
    let fed = "aws:FederatedProvider";
    let cases: &[(&str, &str, &str, bool)] = &[
        (
            "StringEquals",
            &sub,
            "system:serviceaccount:payments:api",
            true,
        ),
        ("StringEquals", &sub, "x", false),
        ("StringNotEquals", &sub, "x", true),
        ("StringLike", &sub, "system:serviceaccount:pay*:a?i", true),
        ("StringEqualsIfExists", &sub, "x", false),
        ("Null", &sub, "true", false),
        ("Null", &sub, "false", true),
        ("ForAllValues:StringEquals", &sub, "x", false),
        ("ForAnyValue:StringEquals", &aud, "sts.amazonaws.com", true),
        ("StringEquals", &aud, "other", false),
        ("NumericLessThan", &aud, "5", false),
        ("ArnEquals", fed, PROVIDER, true),
        (
            "ArnLike",
            fed,
            "arn:aws:iam::*:oidc-provider/oidc.example.com/*",
            true,
        ),
        ("ArnLike", fed, "arn:*:*:*:*:*", true),
        ("ArnNotLike", fed, "arn:aws:iam::999999999999:*", true),
        ("StringEquals", fed, PROVIDER, true),
        ("StringEquals", fed, "oidc.example.com/abc123", false),
        ("Null", fed, "true", false),
        ("Null", fed, "false", true),
        ("IpAddress", fed, "10.0.0.0/8", false),
        ("BoolIfExists", fed, "true", false),
    ];
    for (operator, key, value, allowed) in cases {
        let v = decide(operator, key, value, &none);
        assert_eq!(
            answer(&v, key),
            if *allowed {
                Answer::Allowed
            } else {
                Answer::NotAllowed
            },
            "{operator} {key} {value}: {:?}",
            v.explanation
        );
    }
    assert!(
        KEYS.iter()
            .any(|k| k.source == Source::Known(Known::FederatedProvider))
    );
}

#[test]
fn supplied_values_decide_keys_only_sts_knows() {
    for k in KEYS.iter().filter(|k| k.suppliable()) {
        let key = concrete(k.name);
        let ctx = RequestContext::from_pairs([(key.as_str(), "x")]).unwrap();
        for (operator, value, allowed) in [
            ("StringEquals", "x", true),
            ("StringNotEquals", "x", false),
            ("StringLikeIfExists", "y*", false),
            ("Null", "false", true),
            ("Null", "true", false),
            ("ForAnyValue:StringEquals", "x", true),
            ("ForAllValues:StringNotEquals", "x", false),
        ] {
            let v = decide(operator, &key, value, &ctx);
            let want = if allowed {
                Answer::Allowed
            } else {
                Answer::NotAllowed
            };
            assert_eq!(answer(&v, &key), want, "{operator} {key} with x supplied");
        }
        if k.multivalued {
            let ctx =
                RequestContext::from_pairs([(key.as_str(), "x"), (key.as_str(), "y")]).unwrap();
            for (operator, want) in [
                ("ForAnyValue:StringEquals", Answer::Allowed),
                ("ForAllValues:StringEquals", Answer::NotAllowed),
                ("StringEquals", Answer::Undecided),
            ] {
                let v = decide(operator, &key, "x", &ctx);
                assert_eq!(
                    answer(&v, &key),
                    want,
                    "{operator} {key} with x, y supplied"
                );
            }
        }
    }
}

#[test]
fn the_verdict_names_the_key_only_sts_knows() {
    let v = decide(
        "IpAddress",
        "aws:SourceIp",
        "10.0.0.0/8",
        &RequestContext::new(),
    );
    assert!(!v.allowed);
    assert!(
        v.explanation[0].contains("depends on aws:SourceIp, which only STS knows"),
        "{:?}",
        v.explanation
    );
    let ctx = RequestContext::from_pairs([("aws:SourceIp", "10.1.2.3")]).unwrap();
    assert!(decide("IpAddress", "aws:SourceIp", "10.0.0.0/8", &ctx).allowed);
    // A variable naming a key only STS knows leaves the value undecided too.
    let v = decide(
        "StringEquals",
        &format!("{PREFIX}:sub"),
        "system:serviceaccount:payments:${sts:RoleSessionName}",
        &RequestContext::new(),
    );
    assert_eq!(answer(&v, "sts:RoleSessionName"), Answer::Undecided);
    let ctx = RequestContext::from_pairs([("sts:RoleSessionName", "api")]).unwrap();
    assert!(
        decide(
            "StringEquals",
            &format!("{PREFIX}:sub"),
            "system:serviceaccount:payments:${sts:RoleSessionName}",
            &ctx
        )
        .allowed
    );
}
