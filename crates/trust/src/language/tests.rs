//! Unit and property tests of the automaton algebra and of the classification built on it.

use super::minimise::{prune_blocks, quotient};
use super::*;
use crate::classify::*;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Reference `StringLike` matcher: textbook dynamic programming over (pattern, input).
fn reference_glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    // m[i][j]: p[..i] matches s[..j]
    let mut m = vec![vec![false; s.len() + 1]; p.len() + 1];
    m[0][0] = true;
    for i in 1..=p.len() {
        for j in 0..=s.len() {
            m[i][j] = match p[i - 1] {
                '*' => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                '?' => j > 0 && m[i - 1][j - 1],
                c => j > 0 && s[j - 1] == c && m[i - 1][j - 1],
            };
        }
    }
    m[p.len()][s.len()]
}

fn g(p: &str) -> Language {
    Language::glob(p).expect("glob within limits")
}

/// The structural invariants every constructed language keeps.
fn assert_invariants(l: &Language) {
    let n = l.states.len();
    assert!(n > 0);
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut stack = vec![0usize];
    while let Some(s) = stack.pop() {
        let st = &l.states[s];
        assert!((st.default as usize) < n);
        assert!(st.edges.windows(2).all(|w| w[0].0 < w[1].0), "edges sorted");
        for t in st.targets() {
            assert!((t as usize) < n);
            if !seen[t as usize] {
                seen[t as usize] = true;
                stack.push(t as usize);
            }
        }
        assert!(
            st.edges.iter().all(|&(_, t)| t != st.default),
            "no redundant edge"
        );
    }
    assert!(seen.iter().all(|&r| r), "all states reachable");
}

fn sub(ns: &str, sa: &str) -> String {
    format!("system:serviceaccount:{ns}:{sa}")
}

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
fn union_all_is_the_folded_union() {
    let languages = [
        Language::literal(&sub("a", "x")),
        g("system:serviceaccount:b:*"),
        Language::literal(&sub("c", "y")),
        g("system:serviceaccount:*:web-?"),
        Language::literal(&sub("a", "z")).complement(),
    ];
    for n in 0..=languages.len() {
        let operands = languages[..n].to_vec();
        let folded = operands
            .iter()
            .try_fold(Language::nothing(), |u, l| u.union(l))
            .unwrap();
        let balanced = Language::union_all(operands).unwrap();
        assert_invariants(&balanced);
        // Both minimal and numbered breadth-first: the same automaton, state for state.
        assert_eq!(balanced.states, folded.states, "{n} operands");
    }
}

#[test]
fn basic_languages() {
    let cases: &[(Language, &str, bool)] = &[
        (Language::nothing(), "", false),
        (Language::nothing(), "a", false),
        (Language::everything(), "", true),
        (Language::everything(), "any thing \u{1F600}", true),
        (Language::literal(""), "", true),
        (Language::literal(""), "a", false),
        (Language::literal("abc"), "abc", true),
        (Language::literal("abc"), "ab", false),
        (Language::literal("abc"), "abcd", false),
        (Language::literal("a*?"), "a*?", true),
        (Language::literal("a*?"), "abc", false),
        (Language::literal_ignore_case("Pay"), "pAY", true),
        (Language::literal_ignore_case("Pay"), "pay", true),
        (Language::literal_ignore_case("Pay"), "pax", false),
        (Language::literal_ignore_case("straße"), "STRASSE", false),
        (Language::literal_ignore_case("ärger"), "ÄRGER", true),
        (Language::literal_ignore_case("\u{212A}"), "k", true),
    ];
    for (i, (lang, s, want)) in cases.iter().enumerate() {
        assert_eq!(lang.contains(s), *want, "case {i}: {s:?}");
    }
    assert!(Language::nothing().is_empty());
    assert!(!Language::literal("").is_empty());
    assert!(Language::literal("abc").is_finite());
    assert!(!Language::everything().is_finite());
}

#[test]
fn globs() {
    for (p, s, want) in crate::glob::cases() {
        assert_eq!(g(p).contains(s), want, "glob {p:?} on {s:?}");
        assert_eq!(reference_glob(p, s), want, "reference {p:?} on {s:?}");
    }
}

#[test]
fn boolean_operations() {
    let a = g("system:serviceaccount:*");
    let b = g("system:serviceaccount:payments:*");
    let c = Language::literal("system:serviceaccount:payments:api");
    let union = b.union(&Language::literal("x")).unwrap();
    assert!(union.contains("x") && union.contains(&sub("payments", "a")));
    assert!(!union.contains("y"));

    let inter = a.intersect(&g("*:api")).unwrap();
    assert!(inter.contains(&sub("x", "api")));
    assert!(!inter.contains(&sub("x", "web")));
    assert!(!inter.contains("other:api"));

    let diff = b.difference(&c).unwrap();
    assert!(diff.contains(&sub("payments", "web")));
    assert!(!diff.contains(&sub("payments", "api")));

    let comp = b.complement();
    assert!(comp.contains(""));
    assert!(comp.contains(&sub("other", "api")));
    assert!(!comp.contains(&sub("payments", "api")));
    assert!(comp.complement().contains(&sub("payments", "api")));

    assert!(b.is_subset_of(&a).unwrap());
    assert!(!a.is_subset_of(&b).unwrap());
    assert!(c.is_subset_of(&b).unwrap());
    assert!(a.difference(&a).unwrap().is_empty());
    assert!(a.intersect(&a.complement()).unwrap().is_empty());
    assert!(a.union(&a.complement()).unwrap().complement().is_empty());
    // Minimisation: the same language from different constructions has the same size.
    let x = g("a*").union(&g("a*b")).unwrap();
    assert_eq!(x.states.len(), g("a*").states.len());
    assert_eq!(Language::everything().union(&b).unwrap().states.len(), 1);
}

#[test]
fn hostile_globs_are_fast_or_refused() {
    let started = Instant::now();
    let many_stars = g("*a*a*a*a*a*a*a*a*a*a*a*a*b");
    assert!(many_stars.contains("aaaaaaaaaaaab"));
    assert!(!many_stars.contains("aaaaaaaaaaab"));
    assert!(many_stars.states.len() < 64);

    let blowup = format!("*a{}", "?".repeat(20));
    let err = Language::glob(&blowup).unwrap_err();
    let LanguageError::TooComplex { limit, .. } = &err;
    assert_eq!(*limit, MAX_STATES);
    assert!(err.to_string().contains("glob"), "{err}");
    assert!(err.to_string().contains("too complex"), "{err}");

    // Just under the cap is fine: 2^11 subsets.
    assert!(Language::glob(&format!("*a{}", "?".repeat(10))).is_ok());

    let long = "x".repeat(100_000);
    assert!(Language::literal(&long).contains(&long));
    let distinct: String = (0..20_000u32).filter_map(char::from_u32).collect();
    assert!(Language::literal(&distinct).contains(&distinct));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn product_state_cap() {
    // (a|b)* with an `a` 14 chars from the end: the minimal DFA needs 2^14 states.
    let base = Language::glob(&format!("*a{}", "?".repeat(12))).unwrap();
    let ab = g("*").intersect(&base).unwrap();
    let err = ab.intersect(&Language::glob(&format!("*b{}", "?".repeat(12))).unwrap());
    assert!(
        matches!(err, Err(LanguageError::TooComplex { .. })),
        "{err:?}"
    );
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

#[test]
fn pruning_fallback_is_exact() {
    let lang = g("a*b?c")
        .union(&g("*:x"))
        .unwrap()
        .difference(&g("ab*"))
        .unwrap();
    let pruned = quotient(&lang.states, &prune_blocks(&lang.states));
    assert_invariants(&pruned);
    for s in ["azbqc", "abqqc", "a:x", ":x", "abc", "ab:x", "", "zzz"] {
        assert_eq!(pruned.contains(s), lang.contains(s), "{s}");
    }
}

#[test]
fn error_messages_name_the_operation() {
    let pattern = format!("*a{}", "?".repeat(50));
    let err = Language::glob(&pattern).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "glob \"*a{}...\" is too complex to analyse: it needs more than {MAX_STATES} automaton states",
            "?".repeat(38)
        )
    );
}

// ---------------------------------------------------------------- properties

const SMALL: &str = "[ab:*?]{0,7}";

fn small_string() -> impl Strategy<Value = String> {
    "[ab:]{0,8}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn glob_agrees_with_reference(p in SMALL, s in small_string()) {
        let lang = Language::glob(&p).unwrap();
        prop_assert_eq!(lang.contains(&s), reference_glob(&p, &s));
    }

    #[test]
    fn operations_agree_with_booleans(p in SMALL, q in SMALL, s in small_string()) {
        let a = Language::glob(&p).unwrap();
        let b = Language::glob(&q).unwrap();
        let (x, y) = (a.contains(&s), b.contains(&s));
        prop_assert_eq!(a.union(&b).unwrap().contains(&s), x || y);
        prop_assert_eq!(a.intersect(&b).unwrap().contains(&s), x && y);
        prop_assert_eq!(a.difference(&b).unwrap().contains(&s), x && !y);
        prop_assert_eq!(a.complement().contains(&s), !x);
        let l = Language::literal(&q);
        prop_assert_eq!(l.contains(&s), q == s);
        prop_assert_eq!(a.union(&l).unwrap().contains(&s), x || q == s);
    }

    #[test]
    fn results_are_minimal_and_well_formed(p in SMALL, q in SMALL) {
        let a = Language::glob(&p).unwrap();
        let b = Language::glob(&q).unwrap();
        let ab = a.union(&b).unwrap();
        let ba = b.union(&a).unwrap();
        for l in [&a, &b, &ab, &ba, &a.intersect(&b).unwrap(), &a.difference(&b).unwrap()] {
            assert_invariants(l);
        }
        // Minimal DFAs are unique up to renaming, so equal languages have equal sizes.
        prop_assert_eq!(ab.states.len(), ba.states.len());
        prop_assert_eq!(a.intersect(&a).unwrap().states.len(), a.states.len());
        prop_assert_eq!(a.union(&Language::nothing()).unwrap().states.len(), a.states.len());
        prop_assert!(ab.is_subset_of(&ba).unwrap() && ba.is_subset_of(&ab).unwrap());
    }

    #[test]
    fn ignore_case_matches_ascii_folding(p in "[a-zA-Z:*]{0,8}", s in "[a-cA-C:*]{0,8}") {
        let lang = Language::literal_ignore_case(&p);
        prop_assert_eq!(lang.contains(&s), p.eq_ignore_ascii_case(&s));
    }

    #[test]
    fn unicode_globs_agree_with_reference(p in "[aé:*?]{0,6}", s in "[aéE:]{0,6}") {
        prop_assert_eq!(Language::glob(&p).unwrap().contains(&s), reference_glob(&p, &s));
    }

    #[test]
    fn emptiness_and_subsets_agree(p in SMALL, q in SMALL, samples in proptest::collection::vec(small_string(), 0..16)) {
        let a = Language::glob(&p).unwrap();
        let b = Language::glob(&q).unwrap();
        let diff = a.difference(&b).unwrap();
        if diff.is_empty() {
            for s in &samples {
                prop_assert!(!a.contains(s) || b.contains(s));
            }
        } else if let Some(w) = diff.shortest_word() {
            prop_assert!(a.contains(&w) && !b.contains(&w));
        }
        prop_assert_eq!(diff.is_empty(), a.is_subset_of(&b).unwrap());
    }

    #[test]
    fn finite_words_are_exact(p in SMALL, q in SMALL) {
        let lang = Language::glob(&p).unwrap().difference(&Language::glob(&q).unwrap()).unwrap();
        if lang.is_finite() {
            let words = lang.words(10_000);
            for w in &words {
                prop_assert!(lang.contains(w));
            }
            let mut rest = lang.clone();
            for w in &words {
                rest = rest.difference(&Language::literal(w)).unwrap();
            }
            prop_assert!(rest.is_empty());
        }
    }

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
