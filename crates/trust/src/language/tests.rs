//! Unit and property tests of the automaton algebra (the classification's are in
//! `classify/tests.rs`).

use super::minimise::{prune_blocks, quotient};
use super::*;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// Reference `StringLike` matcher: textbook dynamic programming over (pattern, input).
pub(crate) fn reference_glob(pattern: &str, s: &str) -> bool {
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

pub(crate) fn g(p: &str) -> Language {
    Language::glob(p).expect("glob within limits")
}

/// The `sub` of ServiceAccount `sa` in namespace `ns`.
pub(crate) fn sub(ns: &str, sa: &str) -> String {
    format!("system:serviceaccount:{ns}:{sa}")
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
    // Each language with strings it contains and strings it does not.
    let cases: &[(Language, &[&str], &[&str])] = &[
        (Language::nothing(), &[], &["", "a"]),
        (Language::everything(), &["", "any thing \u{1F600}"], &[]),
        (Language::literal(""), &[""], &["a"]),
        (Language::literal("abc"), &["abc"], &["ab", "abcd"]),
        (Language::literal("a*?"), &["a*?"], &["abc"]),
        (
            Language::literal_ignore_case("Pay"),
            &["pAY", "pay"],
            &["pax"],
        ),
        (Language::literal_ignore_case("straße"), &[], &["STRASSE"]),
        (Language::literal_ignore_case("ärger"), &["ÄRGER"], &[]),
        (Language::literal_ignore_case("\u{212A}"), &["k"], &[]),
    ];
    for (i, (lang, yes, no)) in cases.iter().enumerate() {
        for s in *yes {
            assert!(lang.contains(s), "case {i}: {s:?}");
        }
        for s in *no {
            assert!(!lang.contains(s), "case {i}: {s:?}");
        }
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
