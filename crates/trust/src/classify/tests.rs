//! Tests of the classification: which ServiceAccounts a `sub` language admits, as a table,
//! at its limits, and against membership for random policies.

use super::*;
use crate::language::tests::{g, reference_glob, sub};
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn scoped(items: &[(&str, Scope)]) -> SubjectSet {
    SubjectSet::Scoped(
        items
            .iter()
            .map(|(ns, scope)| NamespaceScope {
                namespace: ns.to_string(),
                service_accounts: scope.clone(),
            })
            .collect(),
    )
}

fn names(v: &[&str]) -> Scope {
    Scope::Names(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn classification_table() {
    let payments_api = sub("payments", "api");
    let cases: Vec<(&str, Language, SubjectSet)> = vec![
        (
            "literal",
            Language::literal(&payments_api),
            scoped(&[("payments", names(&["api"]))]),
        ),
        (
            "every SA in a namespace",
            g("system:serviceaccount:payments:*"),
            scoped(&[("payments", Scope::Every)]),
        ),
        (
            "prefix namespace",
            g("system:serviceaccount:pay*"),
            SubjectSet::UnboundedNamespaces {
                examples: vec![sub("pay", "a"), sub("paya", "a"), sub("payb", "a")],
                namespaces: "pay*".into(),
            },
        ),
        (
            "namespace with a mandatory dash",
            g("system:*-*:*"),
            SubjectSet::UnboundedNamespaces {
                examples: vec![sub("a-a", "a"), sub("a-b", "a"), sub("a-c", "a")],
                namespaces: "*-*".into(),
            },
        ),
        (
            "all SAs",
            g("system:serviceaccount:*"),
            SubjectSet::Unrestricted,
        ),
        ("star", g("*"), SubjectSet::Unrestricted),
        (
            "everything",
            Language::everything(),
            SubjectSet::Unrestricted,
        ),
        (
            "co-finite",
            g("*")
                .difference(&Language::literal(&payments_api))
                .unwrap(),
            SubjectSet::Unrestricted,
        ),
        (
            "deny fence",
            g("system:serviceaccount:*:*")
                .difference(&g("system:serviceaccount:payments:*").complement())
                .unwrap(),
            scoped(&[("payments", Scope::Every)]),
        ),
        (
            "question marks",
            g("system:serviceaccount:team-?:api"),
            scoped(
                &('0'..='9')
                    .chain('a'..='z')
                    .map(|c| (format!("team-{c}"), names(&["api"])))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|(n, s)| (n.as_str(), s.clone()))
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "sa question mark",
            g("system:serviceaccount:payments:api-?"),
            SubjectSet::Scoped(vec![NamespaceScope {
                namespace: "payments".into(),
                service_accounts: Scope::Names(
                    ('0'..='9')
                        .chain('a'..='z')
                        .map(|c| format!("api-{c}"))
                        .collect(),
                ),
            }]),
        ),
        (
            "ignore case literal",
            Language::literal_ignore_case("SYSTEM:ServiceAccount:payments:API"),
            scoped(&[("payments", names(&["api"]))]),
        ),
        (
            "uppercase literal never matches",
            Language::literal("system:serviceaccount:Payments:api"),
            SubjectSet::Nobody,
        ),
        (
            "space never matches",
            Language::literal("system:serviceaccount:payments: api"),
            SubjectSet::Nobody,
        ),
        (
            "extra colon never matches",
            Language::literal("system:serviceaccount:payments:api:x"),
            SubjectSet::Nobody,
        ),
        (
            "leading dash never matches",
            Language::literal("system:serviceaccount:-payments:api"),
            SubjectSet::Nobody,
        ),
        ("nothing", Language::nothing(), SubjectSet::Nobody),
        (
            "wrong prefix",
            g("system:serviceaccounts:*"),
            SubjectSet::Nobody,
        ),
        (
            "name prefix",
            g("system:serviceaccount:payments:api-*"),
            scoped(&[("payments", Scope::Matching("api-*".into()))]),
        ),
        (
            "name suffix",
            g("system:serviceaccount:payments:*-reader"),
            scoped(&[("payments", Scope::Matching("*-reader".into()))]),
        ),
        (
            "two prefixes",
            g("system:serviceaccount:payments:api-*")
                .union(&g("system:serviceaccount:payments:web-*"))
                .unwrap(),
            scoped(&[("payments", Scope::Matching("\"api-*\" or \"web-*\"".into()))]),
        ),
        (
            "infix",
            g("system:serviceaccount:payments:*-api-*"),
            scoped(&[("payments", Scope::Matching("*-api-*".into()))]),
        ),
        (
            "prefix and suffix",
            g("system:serviceaccount:payments:api-*-reader"),
            scoped(&[("payments", Scope::Matching("api-*-reader".into()))]),
        ),
        (
            "prefix with a required char",
            g("system:serviceaccount:payments:api-?*"),
            scoped(&[("payments", Scope::Matching("api-*".into()))]),
        ),
        (
            "question mark inside",
            g("system:serviceaccount:payments:*a?b*"),
            scoped(&[("payments", Scope::Matching("*a?b*".into()))]),
        ),
        (
            "all but one name",
            g("system:serviceaccount:payments:*")
                .difference(&Language::literal(&payments_api))
                .unwrap(),
            scoped(&[("payments", Scope::Matching("anything but \"api\"".into()))]),
        ),
        (
            "several namespaces",
            Language::literal(&sub("b", "y"))
                .union(&Language::literal(&sub("a", "x")))
                .unwrap()
                .union(&Language::literal(&sub("a", "w")))
                .unwrap()
                .union(&g("system:serviceaccount:c:*"))
                .unwrap(),
            scoped(&[
                ("a", names(&["w", "x"])),
                ("b", names(&["y"])),
                ("c", Scope::Every),
            ]),
        ),
        (
            "namespace wildcard with fixed name",
            g("system:serviceaccount:*:api"),
            SubjectSet::UnboundedNamespaces {
                examples: vec![sub("a", "api"), sub("b", "api"), sub("c", "api")],
                namespaces: "*".into(),
            },
        ),
        (
            "every namespace but one",
            g("system:serviceaccount:*")
                .difference(&g("system:serviceaccount:kube-system:*"))
                .unwrap(),
            SubjectSet::UnboundedNamespaces {
                examples: vec![sub("a", "a"), sub("b", "a"), sub("c", "a")],
                namespaces: "anything but \"kube-system\"".into(),
            },
        ),
    ];
    for (name, lang, want) in cases {
        let got = classify(&lang).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn many_namespaces_are_unbounded() {
    // 36 * 36 = 1296 finite namespaces > ENUMERATION_LIMIT.
    let lang = g("system:serviceaccount:??:api");
    let SubjectSet::UnboundedNamespaces { namespaces, .. } = classify(&lang).unwrap() else {
        panic!("unbounded expected");
    };
    assert_eq!(namespaces, "??");
}

#[test]
fn name_listing_is_capped() {
    let lang = g("system:serviceaccount:payments:a??");
    let SubjectSet::Scoped(scopes) = classify(&lang).unwrap() else {
        panic!("scoped expected");
    };
    let [scope] = scopes.as_slice() else {
        panic!("one namespace expected");
    };
    let Scope::Matching(text) = &scope.service_accounts else {
        panic!("matching expected");
    };
    assert!(text.contains("1000-name listing limit"), "{text}");
    assert!(text.ends_with("e.g. \"aaa\", \"aab\", \"aac\""), "{text}");
}

#[test]
fn lines() {
    let cases: Vec<(SubjectSet, Vec<&str>)> = vec![
        (
            SubjectSet::Nobody,
            vec!["nobody: no valid system:serviceaccount:<namespace>:<name> subject is admitted"],
        ),
        (
            SubjectSet::Unrestricted,
            vec!["unrestricted: every ServiceAccount of the cluster"],
        ),
        (
            SubjectSet::UnboundedNamespaces {
                examples: vec![sub("pay", "a")],
                namespaces: "pay*".into(),
            },
            vec!["unbounded: every namespace matching \"pay*\" (e.g. system:serviceaccount:pay:a)"],
        ),
        (
            scoped(&[
                ("a", names(&["w", "x"])),
                ("b", Scope::Every),
                ("c", Scope::Matching("api-*".into())),
                ("d", Scope::Matching("anything but \"x\"".into())),
            ]),
            vec![
                "a/w",
                "a/x",
                "every ServiceAccount in namespace b",
                "ServiceAccounts matching \"api-*\" in namespace c",
                "ServiceAccounts matching anything but \"x\" in namespace d",
            ],
        ),
    ];
    for (set, want) in cases {
        assert_eq!(set.lines(), want);
    }
}

#[test]
fn classify_hostile_is_bounded() {
    let started = Instant::now();
    let lang = g("system:serviceaccount:*a*a*a*a*a*a*a*a*a*a*a*a*b");
    assert!(matches!(
        classify(&lang).unwrap(),
        SubjectSet::UnboundedNamespaces { .. }
    ));
    let lang = g("system:serviceaccount:payments:*a?b?c?d?e");
    let got = classify(&lang).unwrap();
    assert!(matches!(got, SubjectSet::Scoped(_)), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

proptest! {
    // Each case classifies a random policy; fewer cases keep debug test runs short.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn classify_agrees_with_contains(
        allow in proptest::collection::vec(subject_pattern(), 1..3),
        deny in proptest::collection::vec(subject_pattern(), 0..2),
        negate_deny in any::<bool>(),
        samples in proptest::collection::vec(("[ab]([ab-]{0,2}[ab])?", "[ab]([ab-]?[ab])?([.][ab]([ab-]?[ab])?)?"), 24),
    ) {
        let mut lang = Language::nothing();
        for p in &allow {
            lang = lang.union(&Language::glob(p).unwrap()).unwrap();
        }
        let mut fence = Language::nothing();
        for p in &deny {
            fence = fence.union(&Language::glob(p).unwrap()).unwrap();
        }
        if negate_deny && !deny.is_empty() {
            fence = fence.complement();
        }
        lang = lang.difference(&fence).unwrap();
        let set = classify(&lang).unwrap();
        let shape = subject_shape();
        for (ns, sa) in &samples {
            let s = sub(ns, sa);
            prop_assert!(shape.contains(&s), "sample {} must be valid", s);
            let admitted = lang.contains(&s);
            match &set {
                SubjectSet::Nobody => prop_assert!(!admitted, "{}", s),
                SubjectSet::Unrestricted => {
                    // Co-finite: whatever is refused is in the finite complement. (By
                    // membership: the complement of `?????*` has more words than an
                    // enumeration lists.)
                    let missing = shape.difference(&lang).unwrap();
                    prop_assert!(missing.is_finite());
                    if !admitted {
                        prop_assert!(missing.contains(&s), "{}", s);
                    }
                }
                SubjectSet::UnboundedNamespaces { namespaces, .. } => {
                    // A glob answer covers exactly the namespaces with admitted names.
                    if admitted && !namespaces.contains(' ') {
                        prop_assert!(reference_glob(namespaces, ns), "{} vs {}", s, namespaces);
                    }
                }
                SubjectSet::Scoped(scopes) => {
                    let scope = scopes.iter().find(|sc| &sc.namespace == ns);
                    match scope.map(|sc| &sc.service_accounts) {
                        None => prop_assert!(!admitted, "{} admitted but namespace unlisted", s),
                        Some(Scope::Every) => prop_assert!(admitted, "{}", s),
                        Some(Scope::Names(list)) => prop_assert_eq!(admitted, list.contains(sa), "{}", s),
                        Some(Scope::Matching(p)) if !p.contains(' ') => {
                            prop_assert_eq!(admitted, reference_glob(p, sa), "{} vs {}", s, p)
                        }
                        Some(Scope::Matching(p)) if p.starts_with('"') => {
                            let any = p.split(" or ").any(|g| reference_glob(g.trim_matches('"'), sa));
                            prop_assert_eq!(admitted, any, "{} vs {}", s, p)
                        }
                        Some(Scope::Matching(_)) => {}
                    }
                }
            }
        }
        match &set {
            SubjectSet::UnboundedNamespaces { examples, .. } => {
                prop_assert!(!examples.is_empty());
                for e in examples {
                    prop_assert!(lang.contains(e) && shape.contains(e), "{}", e);
                }
            }
            SubjectSet::Scoped(scopes) => {
                let mut sorted: Vec<&str> = scopes.iter().map(|s| s.namespace.as_str()).collect();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(sorted.len(), scopes.len());
                for sc in scopes {
                    if let Scope::Names(list) = &sc.service_accounts {
                        for n in list {
                            prop_assert!(lang.contains(&sub(&sc.namespace, n)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Random subject-ish globs: mostly with the fixed prefix, over a tiny alphabet.
fn subject_pattern() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            4 => Just("system:serviceaccount:"),
            1 => Just("system:*"),
            1 => Just("*"),
            1 => Just(""),
        ],
        "[ab:*?.-]{0,6}",
    )
        .prop_map(|(prefix, tail)| format!("{prefix}{tail}"))
}
