//! Regular-language algebra over the `sub` values a trust policy admits.
//!
//! A role trust policy admits a *set* of `sub` strings: the union of its Allow statements'
//! `sub` conditions (`StringEquals` literals, `StringLike` globs, negated operators as
//! complements, `IgnoreCase` variants) minus the union of its Deny statements. Findings such
//! as `SUB_UNRESTRICTED` or `SUB_WILDCARD_NAMESPACE` are properties of that set, not of the
//! policy text: Allow `system:serviceaccount:*` fenced by a Deny on everything outside one
//! namespace is as narrow as the fence. Every such set is a regular language, so it is
//! represented here as a deterministic finite automaton (DFA) and combined exactly.
//!
//! # Representation
//!
//! [`Language`] is a complete DFA over Unicode scalar values. Each state stores sparse
//! transitions: a sorted list of explicit `(char, target)` edges plus one *default* target for
//! every other char. Policies only ever name a few dozen distinct chars, so this keeps every
//! automaton small while still covering the whole of Unicode, and a literal of `n` chars costs
//! `n + 2` states no matter how many distinct chars it uses. State 0 is the start state.
//!
//! - Globs are determinised by subset construction over pattern positions (a bitset of
//!   positions per DFA state).
//! - Union, intersection and difference are product constructions that walk the merged
//!   explicit edges of the two operand states.
//! - Every constructed automaton is minimised (Hopcroft's partition refinement over the
//!   char classes that behave alike). If the dense table Hopcroft needs would exceed
//!   [`MAX_MINIMISE_CELLS`], the automaton is only pruned (dead states merged), which is
//!   still exact, merely larger.
//!
//! # Limits
//!
//! Determinisation can be exponential (`*a` followed by 18 `?` needs 2^19 states), so every
//! construction that explores states stops at [`MAX_STATES`] states or [`MAX_TRANSITIONS`]
//! explicit edges and returns [`LanguageError::TooComplex`]. Enumeration stops at
//! [`ENUMERATION_LIMIT`] names. No recursion is used anywhere, so input cannot exhaust the
//! stack.
//!
//! # Classification
//!
//! Which ServiceAccounts a language admits is answered apart, by [`crate::classify`]: this
//! module knows automata, not Kubernetes.
//!
//! The module's parts: [`determinise`] (a glob to an automaton), [`minimise`] (every constructed
//! automaton minimised and renumbered), [`hash`] (the fast hash maps of the constructions).

pub mod determinise;
pub mod hash;
pub mod minimise;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::VecDeque;
use std::hash::Hash;

pub(crate) use determinise::{Tok, determinise_glob};
pub(crate) use hash::FastMap;
pub(crate) use minimise::{backward_closure, finish};

/// Most DFA states any single construction (glob determinisation, product, classification
/// step) may create before giving up with [`LanguageError::TooComplex`].
pub const MAX_STATES: usize = 8192;

/// Most explicit transitions any single construction may create.
pub const MAX_TRANSITIONS: usize = 1 << 20;

/// Most names (namespaces, or ServiceAccount names in total) [`crate::classify::classify`] enumerates.
pub const ENUMERATION_LIMIT: usize = 1000;

/// Largest dense `states x char-classes` table built for minimisation; above it the result is
/// only pruned. Keeps minimisation memory to a few tens of MiB at worst.
pub const MAX_MINIMISE_CELLS: usize = 1 << 20;

/// Largest number of bitset words held by glob determinisation (memory bound for very long
/// patterns: 32 MiB).
const MAX_GLOB_WORDS: usize = 1 << 22;

/// Candidate globs tested while looking for readable namespace or ServiceAccount patterns,
/// per [`crate::classify::classify`] call. Each test is a small product construction.
pub(crate) const PATTERN_CHECK_BUDGET: usize = 1024;

/// Globs a readable pattern may consist of (`"api-*" or "web-*"`).
pub(crate) const MAX_PATTERN_ALTERNATIVES: usize = 6;

/// The fixed part of every ServiceAccount subject.
pub(crate) const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// Why an operation gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    /// The automaton for `what` would exceed `limit` `resource` (states or transitions).
    #[error("{what} is too complex to analyse: it needs more than {limit} {resource}")]
    TooComplex {
        /// The operation or pattern, e.g. `glob "*a???..."` or `union`.
        what: String,
        /// The limit that was hit.
        limit: usize,
        /// What the limit counts: `"automaton states"` or `"automaton transitions"`.
        resource: &'static str,
    },
}

/// One DFA state: explicit edges (sorted by char, never pointing at `default`) and the
/// target for every other char.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) accept: bool,
    pub(crate) default: u32,
    pub(crate) edges: Vec<(char, u32)>,
}

impl State {
    pub(crate) fn next(&self, c: char) -> u32 {
        match self.edges.binary_search_by(|&(e, _)| e.cmp(&c)) {
            Ok(i) => self.edges.get(i).map_or(self.default, |&(_, t)| t),
            Err(_) => self.default,
        }
    }

    /// Every successor, explicit edges first (in char order), then the default.
    fn targets(&self) -> impl Iterator<Item = u32> + '_ {
        self.edges
            .iter()
            .map(|&(_, t)| t)
            .chain(std::iter::once(self.default))
    }
}

/// A regular language over Unicode strings, as a complete minimised (or at least pruned) DFA.
///
/// Invariants: at least one state; state 0 is the start; every state is reachable from the
/// start; every target index is in range. Two equal languages need not compare equal
/// structurally, so there is no `PartialEq`; use [`Language::is_subset_of`].
#[derive(Debug, Clone)]
pub struct Language {
    pub(crate) states: Vec<State>,
}

impl Language {
    /// The empty language.
    pub fn nothing() -> Self {
        Self::single_state(false)
    }

    /// Every string, including the empty one.
    pub fn everything() -> Self {
        Self::single_state(true)
    }

    fn single_state(accept: bool) -> Self {
        Language {
            states: vec![State {
                accept,
                default: 0,
                edges: Vec::new(),
            }],
        }
    }

    /// Exactly `s` (IAM `StringEquals`).
    pub fn literal(s: &str) -> Self {
        Self::chain(s.chars().map(|c| vec![c]))
    }

    /// `s` compared case-insensitively (IAM `StringEqualsIgnoreCase`).
    ///
    /// Each char of `s` matches itself and its single-char upper- and lowercase mappings as
    /// given by `char::to_uppercase`/`to_lowercase`, closed under repeating them (so `k`
    /// matches `k` and `K`). Mappings that expand to several chars (`ß` -> `SS`) are ignored,
    /// and many-to-one folds are followed only in the direction the mappings go (the Kelvin
    /// sign matches `k`, but `k` does not match the Kelvin sign). Valid `sub` values are ASCII,
    /// where this is exactly ASCII case-insensitivity.
    pub fn literal_ignore_case(s: &str) -> Self {
        Self::chain(s.chars().map(case_variants))
    }

    /// A chain of positions, each accepting any char of its set; already minimal.
    fn chain(positions: impl Iterator<Item = Vec<char>>) -> Self {
        let sets: Vec<Vec<char>> = positions.collect();
        let n = sets.len();
        let accept_state = n as u32;
        let dead = accept_state + 1;
        let mut states = Vec::with_capacity(n + 2);
        for (i, set) in sets.into_iter().enumerate() {
            let next = i as u32 + 1;
            states.push(State {
                accept: false,
                default: dead,
                edges: set.into_iter().map(|c| (c, next)).collect(),
            });
        }
        states.push(State {
            accept: true,
            default: dead,
            edges: Vec::new(),
        });
        states.push(State {
            accept: false,
            default: dead,
            edges: Vec::new(),
        });
        Language { states }
    }

    /// The strings an IAM `StringLike` glob matches: `*` is any run of chars (including
    /// none, and including `:`), `?` is exactly one char, everything else is literal.
    ///
    /// IAM has no escape for `*`/`?` other than the policy variables `${*}`/`${?}`; resolving
    /// variables is the caller's job (build those parts with [`Language::literal`]).
    pub fn glob(pattern: &str) -> Result<Self, LanguageError> {
        Self::from_glob(&crate::glob::Glob::new(pattern), pattern)
    }

    /// The strings a compiled [`Glob`](crate::glob::Glob) matches: a pattern whose literal
    /// `*`/`?` came from `${*}`/`${?}` escapes or variables keeps them literal. `shown` names
    /// the pattern in errors.
    pub fn from_glob(glob: &crate::glob::Glob, shown: &str) -> Result<Self, LanguageError> {
        use crate::glob::Token;
        let mut toks: Vec<Tok> = Vec::new();
        for t in glob.tokens() {
            match t {
                // Consecutive stars are one star; this also keeps the closure a single pass.
                Token::Run if matches!(toks.last(), Some(Tok::Star)) => {}
                Token::Run => toks.push(Tok::Star),
                Token::One => toks.push(Tok::Any),
                Token::Char(c) => toks.push(Tok::Lit(*c)),
            }
        }
        if let Some(text) = toks
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect::<Option<String>>()
        {
            return Ok(Self::literal(&text));
        }
        determinise_glob(&toks, shown)
    }

    /// Strings in `self` or `other`.
    pub fn union(&self, other: &Self) -> Result<Self, LanguageError> {
        self.product(other, "union", |a, b| a || b)
    }

    /// Strings in any of `languages` (none: [`Language::nothing`]). The operands are
    /// combined pairwise in rounds, a balanced tree, so each takes part in about log2(n)
    /// products: folding them one by one into a growing union rebuilds that union once per
    /// operand, which is quadratic in a policy's statements or a condition's values. The
    /// result is the same minimal automaton either way.
    pub fn union_all(languages: Vec<Language>) -> Result<Self, LanguageError> {
        let mut round = languages;
        if round.len() < 2 {
            // As a fold from `nothing` gives it: through one product, minimised and numbered.
            return Language::nothing().union(&round.pop().unwrap_or_else(Language::nothing));
        }
        while round.len() > 1 {
            let mut next = Vec::with_capacity(round.len().div_ceil(2));
            let mut operands = round.into_iter();
            while let Some(a) = operands.next() {
                next.push(match operands.next() {
                    Some(b) => a.union(&b)?,
                    None => a,
                });
            }
            round = next;
        }
        Ok(round.pop().unwrap_or_else(Language::nothing))
    }

    /// Strings in both.
    pub fn intersect(&self, other: &Self) -> Result<Self, LanguageError> {
        self.product(other, "intersection", |a, b| a && b)
    }

    /// Strings in `self` but not in `other`.
    pub fn difference(&self, other: &Self) -> Result<Self, LanguageError> {
        self.product(other, "difference", |a, b| a && !b)
    }

    /// Every string not in `self`. Exact because the DFA is complete.
    pub fn complement(&self) -> Self {
        let mut out = self.clone();
        for s in &mut out.states {
            s.accept = !s.accept;
        }
        out
    }

    /// Whether no string is in the language.
    pub fn is_empty(&self) -> bool {
        // All states are reachable (invariant), so any accepting state means a word.
        !self.states.iter().any(|s| s.accept)
    }

    /// Whether `s` is in the language.
    pub fn contains(&self, s: &str) -> bool {
        let end = self.run(0, s);
        self.states.get(end as usize).is_some_and(|st| st.accept)
    }

    /// Whether every string of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Self) -> Result<bool, LanguageError> {
        self.product_is_empty(other, "inclusion test", |a, b| a && !b)
    }

    /// Whether the language has finitely many strings.
    ///
    /// A word position that admits "any char not named in the policy" counts as infinitely
    /// many strings (there are over a million chars; no policy can mean to list them).
    pub fn is_finite(&self) -> bool {
        let live = self.live();
        let is_live = |t: u32| live.get(t as usize).copied().unwrap_or(false);
        let mut indegree = vec![0usize; self.states.len()];
        for (s, st) in self.states.iter().enumerate() {
            if !is_live(s as u32) {
                continue;
            }
            if is_live(st.default) {
                return false;
            }
            for &(_, t) in &st.edges {
                if is_live(t)
                    && let Some(d) = indegree.get_mut(t as usize)
                {
                    *d += 1;
                }
            }
        }
        // Kahn's algorithm on the live subgraph: a cycle among live states means infinitely
        // many words, because every live state is reachable and co-reachable.
        let mut queue: Vec<u32> = (0..self.states.len() as u32)
            .filter(|&s| is_live(s) && indegree.get(s as usize) == Some(&0))
            .collect();
        let mut removed = 0usize;
        while let Some(s) = queue.pop() {
            removed += 1;
            let Some(st) = self.states.get(s as usize) else {
                continue;
            };
            for &(_, t) in &st.edges {
                if is_live(t)
                    && let Some(d) = indegree.get_mut(t as usize)
                {
                    *d -= 1;
                    if *d == 0 {
                        queue.push(t);
                    }
                }
            }
        }
        removed == live.iter().filter(|&&l| l).count()
    }

    /// The state reached from `from` after reading `s`.
    pub(crate) fn run(&self, from: u32, s: &str) -> u32 {
        let mut cur = from;
        for c in s.chars() {
            match self.states.get(cur as usize) {
                Some(st) => cur = st.next(c),
                None => return cur,
            }
        }
        cur
    }

    pub(crate) fn state(&self, s: u32) -> Option<&State> {
        self.states.get(s as usize)
    }

    /// States from which an accepting state is reachable.
    pub(crate) fn live(&self) -> Vec<bool> {
        let n = self.states.len();
        let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (s, st) in self.states.iter().enumerate() {
            for t in st.targets() {
                if let Some(p) = preds.get_mut(t as usize) {
                    p.push(s as u32);
                }
            }
        }
        backward_closure(&preds, self.states.iter().map(|s| s.accept).collect())
    }

    /// The language of the strings read from state `from` (its residual), re-minimised.
    pub(crate) fn residual(&self, from: u32) -> Language {
        let mut map: FastMap<u32, u32> = FastMap::default();
        let mut order: Vec<u32> = vec![from];
        map.insert(from, 0);
        let mut i = 0;
        while let Some(&s) = order.get(i) {
            i += 1;
            if let Some(st) = self.state(s) {
                for t in st.targets() {
                    if let std::collections::hash_map::Entry::Vacant(e) = map.entry(t) {
                        e.insert(order.len() as u32);
                        order.push(t);
                    }
                }
            }
        }
        let remap = |t: u32| map.get(&t).copied().unwrap_or(0);
        let states = order
            .iter()
            .filter_map(|&s| self.state(s))
            .map(|st| State {
                accept: st.accept,
                default: remap(st.default),
                edges: st.edges.iter().map(|&(c, t)| (c, remap(t))).collect(),
            })
            .collect();
        finish(states)
    }

    /// Product construction: pairs of states reachable from the pair of starts.
    fn product(
        &self,
        other: &Self,
        what: &str,
        accept: impl Fn(bool, bool) -> bool,
    ) -> Result<Self, LanguageError> {
        let mut pairs: Interner<(u32, u32)> = Interner::new(MAX_STATES, what);
        pairs.intern((0, 0))?;
        let mut states: Vec<State> = Vec::new();
        let mut transitions = 0usize;
        let mut i = 0;
        while let Some(&(p, q)) = pairs.keys.get(i) {
            i += 1;
            let (Some(a), Some(b)) = (self.state(p), other.state(q)) else {
                // Unreachable by the invariants; keep a well-formed dead state anyway.
                states.push(State {
                    accept: false,
                    default: 0,
                    edges: Vec::new(),
                });
                continue;
            };
            let default = pairs.intern((a.default, b.default))?;
            let mut edges = Vec::new();
            for (c, tp, tq) in merged_edges(a, b) {
                let t = pairs.intern((tp, tq))?;
                if t != default {
                    edges.push((c, t));
                }
            }
            transitions += edges.len();
            if transitions > MAX_TRANSITIONS {
                return Err(too_complex(what, MAX_TRANSITIONS, "automaton transitions"));
            }
            states.push(State {
                accept: accept(a.accept, b.accept),
                default,
                edges,
            });
        }
        Ok(finish(states))
    }

    /// Whether the product language is empty, decided on the fly: stops at the first
    /// accepting pair and never builds or minimises the product.
    fn product_is_empty(
        &self,
        other: &Self,
        what: &str,
        accept: impl Fn(bool, bool) -> bool,
    ) -> Result<bool, LanguageError> {
        let mut pairs: Interner<(u32, u32)> = Interner::new(MAX_STATES, what);
        pairs.intern((0, 0))?;
        let mut i = 0;
        while let Some(&(p, q)) = pairs.keys.get(i) {
            i += 1;
            let (Some(a), Some(b)) = (self.state(p), other.state(q)) else {
                continue;
            };
            if accept(a.accept, b.accept) {
                return Ok(false);
            }
            pairs.intern((a.default, b.default))?;
            for (_, tp, tq) in merged_edges(a, b) {
                pairs.intern((tp, tq))?;
            }
        }
        Ok(true)
    }

    /// All strings of a finite language, in lexicographic order, stopping after `limit + 1`
    /// (so the caller can tell "more than `limit`"). Follows explicit edges only.
    pub(crate) fn words(&self, limit: usize) -> Vec<String> {
        let live = self.live();
        let is_live = |t: u32| live.get(t as usize).copied().unwrap_or(false);
        let mut out = Vec::new();
        if !is_live(0) {
            return out;
        }
        // Iterative DFS; children pushed in reverse so they pop in char order.
        let mut stack: Vec<(u32, String)> = vec![(0, String::new())];
        // Safety net against cycles: every live node has a word below it, so a finite
        // language needs at most (limit + 1) * states pops.
        let mut pops = 0usize;
        let max_pops = (limit + 1).saturating_mul(self.states.len() + 1);
        while let Some((s, w)) = stack.pop() {
            pops += 1;
            if pops > max_pops {
                break;
            }
            let Some(st) = self.state(s) else { continue };
            if st.accept {
                out.push(w.clone());
                if out.len() > limit {
                    break;
                }
            }
            for &(c, t) in st.edges.iter().rev() {
                if is_live(t) {
                    let mut next = w.clone();
                    next.push(c);
                    stack.push((t, next));
                }
            }
        }
        out
    }

    /// A shortest string, preferring letters, then digits, then other chars; explicit edges
    /// only (a string needing an unnamed char has no readable example).
    pub(crate) fn shortest_word(&self) -> Option<String> {
        let live = self.live();
        let is_live = |t: u32| live.get(t as usize).copied().unwrap_or(false);
        let n = self.states.len();
        let mut parent: Vec<Option<(u32, char)>> = vec![None; n];
        let mut seen = vec![false; n];
        let mut queue = VecDeque::from([0u32]);
        if let Some(s) = seen.get_mut(0) {
            *s = true;
        }
        while let Some(s) = queue.pop_front() {
            let Some(st) = self.state(s) else { continue };
            if st.accept {
                let mut chars = Vec::new();
                let mut cur = s;
                while let Some(Some((p, c))) = parent.get(cur as usize) {
                    chars.push(*c);
                    cur = *p;
                }
                chars.reverse();
                return Some(chars.into_iter().collect());
            }
            let mut edges: Vec<(char, u32)> = st.edges.clone();
            edges.sort_by_key(|&(c, _)| readable_order(c));
            for (c, t) in edges {
                if is_live(t)
                    && let Some(flag) = seen.get_mut(t as usize)
                    && !*flag
                {
                    *flag = true;
                    if let Some(slot) = parent.get_mut(t as usize) {
                        *slot = Some((s, c));
                    }
                    queue.push_back(t);
                }
            }
        }
        None
    }
}

/// The explicit edges of a pair of states, merged by char: `(char, target in a, target in
/// b)` for every char that either state names (the other uses its default).
fn merged_edges<'a>(a: &'a State, b: &'a State) -> impl Iterator<Item = (char, u32, u32)> + 'a {
    let (mut x, mut y) = (0, 0);
    std::iter::from_fn(move || match (a.edges.get(x), b.edges.get(y)) {
        (None, None) => None,
        (Some(&(c, t)), None) => {
            x += 1;
            Some((c, t, b.default))
        }
        (None, Some(&(c, t))) => {
            y += 1;
            Some((c, a.default, t))
        }
        (Some(&(ca, ta)), Some(&(cb, tb))) => {
            if ca < cb {
                x += 1;
                Some((ca, ta, b.default))
            } else if cb < ca {
                y += 1;
                Some((cb, a.default, tb))
            } else {
                x += 1;
                y += 1;
                Some((ca, ta, tb))
            }
        }
    })
}

/// Assigns dense ids to keys in discovery order; `keys` doubles as the work queue.
pub(crate) struct Interner<K> {
    ids: FastMap<K, u32>,
    keys: Vec<K>,
    limit: usize,
    what: String,
}

impl<K: Hash + Eq + Clone> Interner<K> {
    fn new(limit: usize, what: &str) -> Self {
        Interner {
            ids: FastMap::default(),
            keys: Vec::new(),
            limit,
            what: what.to_string(),
        }
    }

    fn intern(&mut self, key: K) -> Result<u32, LanguageError> {
        if let Some(&id) = self.ids.get(&key) {
            return Ok(id);
        }
        if self.keys.len() >= self.limit {
            return Err(too_complex(&self.what, self.limit, "automaton states"));
        }
        let id = self.keys.len() as u32;
        self.ids.insert(key.clone(), id);
        self.keys.push(key);
        Ok(id)
    }
}

pub(crate) fn too_complex(what: &str, limit: usize, resource: &'static str) -> LanguageError {
    LanguageError::TooComplex {
        what: what.to_string(),
        limit,
        resource,
    }
}

/// The first 40 chars of a pattern, for error messages.
pub(crate) fn abbreviate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push_str("...");
    }
    out
}

/// `c` plus its single-char case mappings, closed under repetition (bounded).
pub(crate) fn case_variants(c: char) -> Vec<char> {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
    let mut out = vec![c];
    let mut i = 0;
    while let Some(&x) = out.get(i) {
        i += 1;
        if out.len() >= 8 {
            break;
        }
        for m in [single(x.to_lowercase()), single(x.to_uppercase())]
            .into_iter()
            .flatten()
        {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Sort key for example strings: letters, then digits, then anything else.
pub(crate) fn readable_order(c: char) -> (u8, char) {
    let rank = if c.is_ascii_lowercase() {
        0
    } else if c.is_ascii_digit() {
        1
    } else {
        2
    };
    (rank, c)
}
