//! Property tests of the trust-policy engine: invariants of IAM evaluation that must hold for
//! any policy (IAM's condition operators and policy evaluation) and agreement between the evaluator and the admitted set.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use aws_workload_identity::trust::{RoleArn, Subject, TrustPolicy, Verdict};

const ISSUER: &str = "https://oidc.example.com/abc123";
const PREFIX: &str = "oidc.example.com/abc123";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";

#[derive(Debug, Clone)]
struct Cond {
    op: String,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone)]
struct Stmt {
    allow: bool,
    principal: Value,
    action: (&'static str, Value),
    conds: Vec<Cond>,
}

/// One of `values`, as a `String`.
fn one_of(values: &[&'static str]) -> impl Strategy<Value = String> + use<> {
    prop::sample::select(values.to_vec()).prop_map(str::to_string)
}

fn sub_values() -> impl Strategy<Value = String> {
    one_of(&[
        "system:serviceaccount:payments:api",
        "system:serviceaccount:payments:*",
        "system:serviceaccount:*:api",
        "system:serviceaccount:*",
        "system:serviceaccount:pay*",
        "*",
        "system:serviceaccount:default:default",
        "system:serviceaccount:payments:a?i",
        "SYSTEM:SERVICEACCOUNT:PAYMENTS:API",
        "system:serviceaccount:kube-system:*",
        "system:serviceaccount:*:web",
    ])
}

fn aud_values() -> impl Strategy<Value = String> {
    one_of(&["sts.amazonaws.com", "sts.*", "other", "STS.AMAZONAWS.COM"])
}

fn string_op() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ]);
    let qual = prop::sample::select(vec!["", "", "", "ForAnyValue:", "ForAllValues:"]);
    (qual, base, any::<bool>())
        .prop_map(|(q, b, if_exists)| format!("{q}{b}{}", if if_exists { "IfExists" } else { "" }))
}

/// Conditions on sub, aud and an absent claim; `request_time` adds aws:SourceIp.
fn cond(request_time: bool) -> impl Strategy<Value = Cond> {
    let sub =
        (string_op(), prop::collection::vec(sub_values(), 1..3)).prop_map(|(op, values)| Cond {
            op,
            key: format!("{PREFIX}:sub"),
            values,
        });
    let aud =
        (string_op(), prop::collection::vec(aud_values(), 1..3)).prop_map(|(op, values)| Cond {
            op,
            key: format!("{PREFIX}:aud"),
            values,
        });
    let absent =
        (string_op(), prop::collection::vec(sub_values(), 1..2)).prop_map(|(op, values)| Cond {
            op,
            key: format!("{PREFIX}:amr"),
            values,
        });
    let null = (
        prop::sample::select(vec!["sub", "aud", "amr"]),
        any::<bool>(),
    )
        .prop_map(|(claim, b)| Cond {
            op: "Null".into(),
            key: format!("{PREFIX}:{claim}"),
            values: vec![b.to_string()],
        });
    let ip = Just(Cond {
        op: "IpAddress".into(),
        key: "aws:SourceIp".into(),
        values: vec!["10.0.0.0/8".into()],
    });
    if request_time {
        prop_oneof![3 => sub, 2 => aud, 1 => absent, 1 => null, 1 => ip, 2 => modelled_key(), 2 => sts_key()]
            .boxed()
    } else {
        prop_oneof![3 => sub, 2 => aud, 1 => absent, 1 => null, 2 => modelled_key()].boxed()
    }
}

/// Conditions on keys the request-context model decides offline: `aws:FederatedProvider`
/// (known), keys a ServiceAccount token never sets (absent), and `Null` on a key that is
/// always present.
fn modelled_key() -> impl Strategy<Value = Cond> {
    let op = prop::sample::select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringEqualsIfExists",
        "ArnLike",
        "ArnNotEquals",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringLike",
        "Null",
        "Bool",
        "NumericLessThan",
    ]);
    let key = prop::sample::select(vec![
        "aws:FederatedProvider",
        "aws:SourceIdentity",
        "sts:SourceIdentity",
        "aws:RequestTag/team",
        "aws:TagKeys",
        "sts:TransitiveTagKeys",
        "aws:PrincipalArn",
        "aws:MultiFactorAuthPresent",
    ]);
    let value = prop::sample::select(vec![
        "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123",
        "arn:aws:iam::*:oidc-provider/*",
        "x",
        "true",
        "false",
        "5",
    ]);
    let null_always_present = (
        prop::sample::select(vec!["aws:CurrentTime", "sts:RoleSessionName"]),
        any::<bool>(),
    )
        .prop_map(|(key, b)| Cond {
            op: "Null".into(),
            key: key.into(),
            values: vec![b.to_string()],
        });
    prop_oneof![
        4 => (op, key, value).prop_map(|(op, key, value)| Cond {
            op: op.into(),
            key: key.into(),
            values: vec![value.into()],
        }),
        1 => null_always_present,
    ]
}

/// Conditions that need a value only STS knows.
fn sts_key() -> impl Strategy<Value = Cond> {
    prop::sample::select(vec![
        ("StringLike", "sts:RoleSessionName", "app-*"),
        ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),
        ("StringEqualsIfExists", "aws:SourceVpce", "vpce-1"),
        ("Bool", "aws:SecureTransport", "true"),
        ("Null", "aws:SourceIp", "false"),
    ])
    .prop_map(|(op, key, value)| Cond {
        op: op.into(),
        key: key.into(),
        values: vec![value.into()],
    })
}

fn stmt(request_time: bool) -> impl Strategy<Value = Stmt> {
    let principal = prop::sample::select(vec![
        json!({"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{PREFIX}")}),
        json!({"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{PREFIX}")}),
        json!({"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{PREFIX}")}),
        json!({"Federated": format!("arn:aws:iam::999999999999:oidc-provider/{PREFIX}")}),
        json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/other.example.com"}),
        json!({"AWS": "arn:aws:iam::111122223333:root"}),
    ]);
    let action = prop::sample::select(vec![
        ("Action", json!("sts:AssumeRoleWithWebIdentity")),
        ("Action", json!("sts:AssumeRoleWithWebIdentity")),
        ("Action", json!("sts:*")),
        ("Action", json!(["sts:AssumeRole", "sts:TagSession"])),
        ("NotAction", json!("sts:AssumeRole")),
    ]);
    (
        prop::bool::weighted(0.7),
        principal,
        action,
        prop::collection::vec(cond(request_time), 0..4),
    )
        .prop_map(|(allow, principal, action, conds)| Stmt {
            allow,
            principal,
            action,
            conds,
        })
}

fn to_json(st: &Stmt, key_case: &dyn Fn(&str) -> String) -> Value {
    let mut o = Map::new();
    o.insert(
        "Effect".into(),
        json!(if st.allow { "Allow" } else { "Deny" }),
    );
    o.insert("Principal".into(), st.principal.clone());
    o.insert(st.action.0.into(), st.action.1.clone());
    if !st.conds.is_empty() {
        let mut block: Map<String, Value> = Map::new();
        for c in &st.conds {
            let entry = block.entry(c.op.clone()).or_insert_with(|| json!({}));
            if let Some(m) = entry.as_object_mut() {
                m.insert(key_case(&c.key), json!(c.values));
            }
        }
        o.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(o)
}

fn policy(stmts: &[Stmt], key_case: &dyn Fn(&str) -> String) -> String {
    json!({"Version": "2012-10-17", "Statement": stmts.iter().map(|s| to_json(s, key_case)).collect::<Vec<_>>()}).to_string()
}

fn same(k: &str) -> String {
    k.to_string()
}

fn subjects() -> impl Strategy<Value = Subject> {
    (
        prop::sample::select(vec!["payments", "default", "kube-system", "pay", "payroll"]),
        prop::sample::select(vec!["api", "web", "default", "a-i"]),
        prop::sample::select(vec!["sts.amazonaws.com", "other"]),
    )
        .prop_map(|(ns, sa, aud)| Subject {
            issuer: ISSUER.into(),
            audience: aud.into(),
            namespace: ns.into(),
            service_account: sa.into(),
        })
}

fn decide(text: &str, s: &Subject) -> Verdict {
    let role = RoleArn::parse(ROLE).unwrap();
    let (p, _) = TrustPolicy::parse(text).unwrap();
    p.decide(&role, s)
}

/// The decision and whether it was Indeterminate.
fn outcome(v: &Verdict) -> (bool, bool) {
    (
        v.allowed,
        v.findings
            .iter()
            .any(|f| f.code == "CONTEXT_DEPENDENT_CONDITION"),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// 2.2: statements are a set; their order never changes a decision.
    #[test]
    fn statement_order_never_changes_a_decision(
        stmts in prop::collection::vec(stmt(true), 1..5),
        perm in any::<prop::sample::Index>(),
        s in subjects(),
    ) {
        let a = decide(&policy(&stmts, &same), &s);
        let mut shuffled = stmts.clone();
        let n = shuffled.len();
        shuffled.rotate_left(perm.index(n));
        shuffled.reverse();
        let b = decide(&policy(&shuffled, &same), &s);
        prop_assert_eq!(outcome(&a), outcome(&b));
    }

    /// 1.6: condition key names are case-insensitive.
    #[test]
    fn key_case_never_changes_a_decision(
        stmts in prop::collection::vec(stmt(true), 1..4),
        mask in any::<u64>(),
        s in subjects(),
    ) {
        let flip = |k: &str| -> String {
            k.chars().enumerate().map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
        };
        let a = decide(&policy(&stmts, &same), &s);
        let b = decide(&policy(&stmts, &flip), &s);
        prop_assert_eq!(outcome(&a), outcome(&b));
    }

    /// 2.2: a Deny can only take permissions away.
    #[test]
    fn adding_a_deny_never_allows_more(
        stmts in prop::collection::vec(stmt(true), 1..4),
        mut deny in stmt(true),
        s in subjects(),
    ) {
        deny.allow = false;
        let before = decide(&policy(&stmts, &same), &s);
        let mut more = stmts.clone();
        more.push(deny);
        let after = decide(&policy(&more, &same), &s);
        prop_assert!(before.allowed || !after.allowed);
    }

    /// 0 (contract 1): a document that fails validation is never allowed.
    #[test]
    fn invalid_documents_are_never_allowed(
        stmts in prop::collection::vec(stmt(true), 1..4),
        which in 0usize..12,
        at in any::<prop::sample::Index>(),
        s in subjects(),
    ) {
        let mut doc: Value = serde_json::from_str(&policy(&stmts, &same)).unwrap();
        let list = doc["Statement"].as_array_mut().unwrap();
        let i = at.index(list.len());
        let st = list[i].as_object_mut().unwrap();
        match which {
            0 => { st.remove("Effect"); }
            1 => { st.insert("Effect".into(), json!("allow")); }
            2 => { st.remove("Principal"); }
            3 => { st.insert("Principal".into(), json!("*")); }
            4 => { st.insert("Resource".into(), json!("*")); }
            5 => { st.remove("Action"); st.remove("NotAction"); }
            6 => { st.insert("NotPrincipal".into(), json!({"AWS": "arn:aws:iam::111122223333:root"})); }
            7 => { st.insert("Condition".into(), json!({"StringEqualz": {"k": "v"}})); }
            8 => { st.insert("Condition".into(), json!({"StringEquals": {"k": []}})); }
            9 => { st.insert("Principal".into(), json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/*"})); }
            10 => { doc["Version"] = json!("2012-10-18"); }
            _ => { st.insert("Principal".into(), json!({"Federated": "arn:aws:iam::1:oidc-provider/x"})); }
        }
        let text = doc.to_string();
        let (p, findings) = TrustPolicy::parse(&text).unwrap();
        prop_assert!(!p.is_valid());
        prop_assert!(findings.iter().any(|f| f.severity == aws_workload_identity::trust::Severity::Error));
        let v = decide(&text, &s);
        prop_assert!(!v.allowed);
        prop_assert!(!v.valid_document);
    }
}

proptest! {
    // Each case builds automata; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// 4.2: the admitted set is exactly what the evaluator allows (no request-time keys), and
    /// with them still contains every allowed subject (over-approximation).
    #[test]
    fn admitted_set_agrees_with_the_evaluator(
        stmts in prop::collection::vec(stmt(false), 1..4),
        with_ip in prop::collection::vec(stmt(true), 0..2),
        probes in prop::collection::vec(subjects(), 1..6),
    ) {
        let role = RoleArn::parse(ROLE).unwrap();
        for (docs, exact) in [(stmts.clone(), true), ([stmts.clone(), with_ip.clone()].concat(), false)] {
            let text = policy(&docs, &same);
            let (p, _) = TrustPolicy::parse(&text).unwrap();
            for s in &probes {
                let admitted = p.admitted(&role, ISSUER, &s.audience).unwrap();
                let allowed = p.decide(&role, s).allowed;
                let admits = admitted.admits(&s.namespace, &s.service_account);
                if exact {
                    prop_assert_eq!(admits, allowed, "policy {} subject {:?}", text, s);
                } else {
                    prop_assert!(admits || !allowed, "policy {} subject {:?}", text, s);
                }
            }
        }
    }
}

/// Arbitrary JSON built from policy-like pieces: keys of the grammar, near misses and junk.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "Allow",
            "Deny",
            "*",
            "2012-10-17",
            "2008-10-17",
            "sts:AssumeRoleWithWebIdentity",
            "sts:*",
            "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123",
            "arn:aws:iam::1:oidc-provider/x",
            "system:serviceaccount:payments:*",
            "${aws:username}",
            "${",
            "true",
            "10.0.0.0/8",
            "arn:aws:iam::*:role/*",
            "",
            "é\u{2028}",
        ])
        .prop_map(|s| json!(s)),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop::sample::select(vec![
            "Version",
            "Statement",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Federated",
            "AWS",
            "Action",
            "NotAction",
            "Resource",
            "Condition",
            "StringEquals",
            "StringLikeIfExists",
            "ForAllValues:StringLike",
            "Null",
            "NullIfExists",
            "ArnLike",
            "NumericLessThan",
            "oidc.example.com/abc123:sub",
            "oidc.example.com/abc123:aud",
            "aws:SourceIp",
            "Sid",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// No input makes the engine panic, and an invalid document is never allowed.
    #[test]
    fn arbitrary_documents_never_panic(doc in json_value(), s in subjects()) {
        let text = doc.to_string();
        let verdict = aws_workload_identity::trust::check(&text, ROLE, &s).unwrap();
        prop_assert!(verdict.valid_document || !verdict.allowed);
        let _ = aws_workload_identity::trust::lint(&text, Some(ROLE), ISSUER).unwrap();
        let _ = aws_workload_identity::trust::who(&text, ROLE, ISSUER, &s.audience);
        let _ = TrustPolicy::parse_value(&doc);
        let _ = aws_workload_identity::trust::render(&text, &s.namespace, &s.service_account);
    }

    /// Arbitrary text (including URL-encoded and string-wrapped junk) never panics.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}", pct in "(%[0-9A-Fa-f]{0,2}|[a-z{}\":,])*") {
        for t in [text.as_str(), pct.as_str()] {
            let s = Subject { issuer: ISSUER.into(), audience: "a".into(), namespace: "a".into(), service_account: "b".into() };
            let _ = aws_workload_identity::trust::check(t, ROLE, &s).unwrap();
            let _ = aws_workload_identity::trust::lint(t, None, t).unwrap();
            let _ = aws_workload_identity::trust::who(t, ROLE, t, t);
            let _ = aws_workload_identity::trust::render(t, "a", "b");
            let _ = aws_workload_identity::trust::oidc_provider_config(t);
            let _ = RoleArn::parse(t);
        }
    }
}
