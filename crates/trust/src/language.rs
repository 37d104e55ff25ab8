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

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Hash maps keyed by internal state ids and position sets. A multiply-rotate hash is several
/// times faster than SipHash for these small keys; every map is capped by [`MAX_STATES`], so
/// even colliding keys only cost time within that cap.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Word-at-a-time multiply-rotate hasher (the scheme of rustc's `FxHasher`).
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (dst, src) in word.iter_mut().zip(chunk) {
                *dst = *src;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

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

/// A glob token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Star,
    Any,
    Lit(char),
}

/// Subset construction for a glob. NFA state `i` means "the first `i` tokens are matched";
/// a star at `i` may also be skipped (epsilon to `i + 1`), and loops on any char.
fn determinise_glob(toks: &[Tok], pattern: &str) -> Result<Language, LanguageError> {
    let what = format!("glob {:?}", abbreviate(pattern));
    let n = toks.len();
    let words = (n + 1).div_ceil(64);
    let mut star = vec![0u64; words];
    let mut any = vec![0u64; words];
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Star => set_bit(&mut star, i),
            Tok::Any => set_bit(&mut any, i),
            Tok::Lit(_) => {}
        }
    }
    // Memory bound: each DFA state keeps its position set.
    let limit = MAX_STATES.min(MAX_GLOB_WORDS / words.max(1)).max(1);
    // The shortest accepted word has one char per non-star token, and a DFA must count up
    // to it: it needs more states than there are such tokens. Refuse before exploring.
    let shortest = toks.iter().filter(|t| !matches!(t, Tok::Star)).count();
    if shortest >= limit {
        return Err(too_complex(&what, limit, "automaton states"));
    }
    let closure = |mut set: Vec<u64>| -> Vec<u64> {
        // Stars are never adjacent, so one pass adds every skip.
        let skipped = shift_left_one(&and(&set, &star));
        or_assign(&mut set, &skipped);
        set
    };
    let mut initial = vec![0u64; words];
    set_bit(&mut initial, 0);
    let mut sets: Interner<Vec<u64>> = Interner::new(limit, &what);
    sets.intern(closure(initial))?;
    let mut states: Vec<State> = Vec::new();
    let mut transitions = 0usize;
    let mut i = 0;
    while let Some(set) = sets.keys.get(i).cloned() {
        i += 1;
        // Moves every char makes: stay on a star, advance over `?`.
        let mut base = and(&set, &star);
        or_assign(&mut base, &shift_left_one(&and(&set, &any)));
        // Extra moves of the literal chars at the current positions.
        let mut lits: Vec<(char, usize)> = Vec::new();
        for pos in bits(&set) {
            if let Some(Tok::Lit(c)) = toks.get(pos) {
                lits.push((*c, pos + 1));
            }
        }
        lits.sort_unstable();
        let default = sets.intern(closure(base.clone()))?;
        let mut edges = Vec::new();
        let mut j = 0;
        while let Some(&(c, _)) = lits.get(j) {
            let mut target = base.clone();
            while let Some(&(c2, next)) = lits.get(j) {
                if c2 != c {
                    break;
                }
                set_bit(&mut target, next);
                j += 1;
            }
            let t = sets.intern(closure(target))?;
            if t != default {
                edges.push((c, t));
            }
        }
        transitions += edges.len();
        if transitions > MAX_TRANSITIONS {
            return Err(too_complex(&what, MAX_TRANSITIONS, "automaton transitions"));
        }
        states.push(State {
            accept: has_bit(&set, n),
            default,
            edges,
        });
    }
    Ok(finish(states))
}

fn set_bit(v: &mut [u64], i: usize) {
    if let Some(w) = v.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

fn has_bit(v: &[u64], i: usize) -> bool {
    v.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

fn and(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

fn or_assign(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= y;
    }
}

/// Position `i` becomes `i + 1`.
fn shift_left_one(v: &[u64]) -> Vec<u64> {
    let mut carry = 0u64;
    v.iter()
        .map(|&w| {
            let out = (w << 1) | carry;
            carry = w >> 63;
            out
        })
        .collect()
}

/// The set bits of `v`, in order. Skips zero words and jumps between set bits: position
/// sets of long patterns are mostly empty, and testing all 64 bits of every word made
/// determinising a 100,000-char pattern take tens of seconds.
fn bits(v: &[u64]) -> impl Iterator<Item = usize> + '_ {
    v.iter()
        .enumerate()
        .filter(|(_, w)| **w != 0)
        .flat_map(|(wi, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let b = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(wi * 64 + b)
            })
        })
}

/// Assigns dense ids to keys in discovery order; `keys` doubles as the work queue.
struct Interner<K> {
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

fn too_complex(what: &str, limit: usize, resource: &'static str) -> LanguageError {
    LanguageError::TooComplex {
        what: what.to_string(),
        limit,
        resource,
    }
}

/// The first 40 chars of a pattern, for error messages.
fn abbreviate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push_str("...");
    }
    out
}

/// `c` plus its single-char case mappings, closed under repetition (bounded).
fn case_variants(c: char) -> Vec<char> {
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

/// Minimises a DFA whose states are all reachable from state 0, and renumbers it.
pub(crate) fn finish(states: Vec<State>) -> Language {
    if states.is_empty() {
        return Language::nothing();
    }
    let block_of = match dense_table(&states) {
        Some((k, table)) => hopcroft(&states, k, &table),
        None => prune_blocks(&states),
    };
    quotient(&states, &block_of)
}

/// The transition table over char classes (chars whose edges agree in every state share a
/// class; class 0 is "any other char"), or `None` when it would be too large.
fn dense_table(states: &[State]) -> Option<(usize, Vec<u32>)> {
    let mut signature: FastMap<char, Vec<(u32, u32)>> = FastMap::default();
    for (s, st) in states.iter().enumerate() {
        for &(c, t) in &st.edges {
            signature.entry(c).or_default().push((s as u32, t));
        }
    }
    let mut class_of_signature: FastMap<Vec<(u32, u32)>, usize> = FastMap::default();
    let mut class_of_char: FastMap<char, usize> = FastMap::default();
    for (c, sig) in signature {
        let next = class_of_signature.len() + 1;
        let class = *class_of_signature.entry(sig).or_insert(next);
        class_of_char.insert(c, class);
    }
    let k = class_of_signature.len() + 1;
    let cells = states.len().checked_mul(k)?;
    if cells > MAX_MINIMISE_CELLS {
        return None;
    }
    let mut table = Vec::with_capacity(cells);
    for st in states {
        table.extend(std::iter::repeat_n(st.default, k));
    }
    for (s, st) in states.iter().enumerate() {
        for &(c, t) in &st.edges {
            if let Some(cell) = class_of_char
                .get(&c)
                .and_then(|&class| table.get_mut(s * k + class))
            {
                *cell = t;
            }
        }
    }
    Some((k, table))
}

/// Hopcroft's algorithm: the coarsest partition of states compatible with acceptance and
/// transitions. Returns the block of each state.
fn hopcroft(states: &[State], k: usize, table: &[u32]) -> Vec<u32> {
    let n = states.len();
    // Inverse transitions per (class, target) in compressed rows.
    let mut start = vec![0usize; k * n + 1];
    for s in 0..n {
        for a in 0..k {
            if let Some(&t) = table.get(s * k + a)
                && let Some(c) = start.get_mut(a * n + t as usize + 1)
            {
                *c += 1;
            }
        }
    }
    for i in 1..start.len() {
        let prev = start.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = start.get_mut(i) {
            *c += prev;
        }
    }
    let mut fill = start.clone();
    let mut preds = vec![0u32; k * n];
    for s in 0..n {
        for a in 0..k {
            if let Some(&t) = table.get(s * k + a)
                && let Some(f) = fill.get_mut(a * n + t as usize)
            {
                if let Some(slot) = preds.get_mut(*f) {
                    *slot = s as u32;
                }
                *f += 1;
            }
        }
    }

    // Partition as ranges of a permutation, so a split costs only the moved elements.
    let mut elems: Vec<u32> = (0..n as u32).collect();
    elems.sort_by_key(|&s| !states.get(s as usize).is_some_and(|st| st.accept));
    let mut pos = vec![0usize; n];
    for (i, &s) in elems.iter().enumerate() {
        if let Some(p) = pos.get_mut(s as usize) {
            *p = i;
        }
    }
    let accepting = states.iter().filter(|s| s.accept).count();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut block_of = vec![0u32; n];
    if accepting > 0 && accepting < n {
        blocks.push((0, accepting));
        blocks.push((accepting, n));
        for &s in elems.get(accepting..).unwrap_or(&[]) {
            if let Some(b) = block_of.get_mut(s as usize) {
                *b = 1;
            }
        }
    } else {
        return block_of;
    }
    let mut marked = vec![0usize; 2];
    let mut in_work = vec![false; 2 * k];
    let smaller = if accepting <= n - accepting { 0 } else { 1 };
    let mut work: Vec<(usize, usize)> = (0..k).map(|a| (smaller, a)).collect();
    for a in 0..k {
        if let Some(w) = in_work.get_mut(smaller * k + a) {
            *w = true;
        }
    }
    let mut touched: Vec<usize> = Vec::new();
    let mut splitter: Vec<u32> = Vec::new();
    while let Some((b, a)) = work.pop() {
        if let Some(w) = in_work.get_mut(b * k + a) {
            *w = false;
        }
        let Some(&(bs, be)) = blocks.get(b) else {
            continue;
        };
        // Copied because marking reorders elements, possibly inside this very block.
        splitter.clear();
        splitter.extend_from_slice(elems.get(bs..be).unwrap_or(&[]));
        for &q in &splitter {
            let row = a * n + q as usize;
            let (ps, pe) = (
                start.get(row).copied().unwrap_or(0),
                start.get(row + 1).copied().unwrap_or(0),
            );
            for &p in preds.get(ps..pe).unwrap_or(&[]) {
                let pb = block_of.get(p as usize).copied().unwrap_or(0) as usize;
                let (Some(&(ys, _)), Some(m)) = (blocks.get(pb), marked.get(pb).copied()) else {
                    continue;
                };
                if m == 0 {
                    touched.push(pb);
                }
                // Move p to the marked front of its block.
                let from = pos.get(p as usize).copied().unwrap_or(0);
                let to = ys + m;
                elems.swap(from, to);
                if let Some(&moved) = elems.get(from)
                    && let Some(pm) = pos.get_mut(moved as usize)
                {
                    *pm = from;
                }
                if let Some(pp) = pos.get_mut(p as usize) {
                    *pp = to;
                }
                if let Some(mm) = marked.get_mut(pb) {
                    *mm += 1;
                }
            }
        }
        for y in touched.drain(..) {
            let m = marked.get(y).copied().unwrap_or(0);
            if let Some(mm) = marked.get_mut(y) {
                *mm = 0;
            }
            let Some(&(ys, ye)) = blocks.get(y) else {
                continue;
            };
            if m == 0 || m == ye - ys {
                continue;
            }
            let new = blocks.len();
            blocks.push((ys, ys + m));
            if let Some(old) = blocks.get_mut(y) {
                *old = (ys + m, ye);
            }
            marked.push(0);
            in_work.extend(std::iter::repeat_n(false, k));
            for &s in elems.get(ys..ys + m).unwrap_or(&[]) {
                if let Some(bo) = block_of.get_mut(s as usize) {
                    *bo = new as u32;
                }
            }
            let rest = ye - ys - m;
            for c in 0..k {
                let pending = in_work.get(y * k + c).copied().unwrap_or(false);
                let add = if pending || m <= rest { new } else { y };
                if let Some(w) = in_work.get_mut(add * k + c)
                    && !*w
                {
                    *w = true;
                    work.push((add, c));
                }
            }
        }
    }
    block_of
}

/// Fallback when minimisation is too expensive: merge only the dead states.
fn prune_blocks(states: &[State]) -> Vec<u32> {
    let lang = Language {
        states: states.to_vec(),
    };
    let live = lang.live();
    let dead = states.len() as u32;
    (0..states.len() as u32)
        .map(|s| {
            if live.get(s as usize) == Some(&true) {
                s
            } else {
                dead
            }
        })
        .collect()
}

/// The quotient automaton by `block_of`, numbered breadth-first from the start.
fn quotient(states: &[State], block_of: &[u32]) -> Language {
    let block = |s: u32| block_of.get(s as usize).copied().unwrap_or(0) as usize;
    let blocks = block_of.iter().max().map_or(0, |&m| m as usize + 1);
    // The smallest state of each block stands for it.
    let mut representative: Vec<Option<u32>> = vec![None; blocks];
    for s in (0..states.len() as u32).rev() {
        if let Some(r) = representative.get_mut(block(s)) {
            *r = Some(s);
        }
    }
    let mut new_id: Vec<Option<u32>> = vec![None; blocks];
    let mut order: Vec<usize> = vec![block(0)];
    if let Some(id) = new_id.get_mut(block(0)) {
        *id = Some(0);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = order.get(i) {
        i += 1;
        let Some(st) = representative
            .get(b)
            .copied()
            .flatten()
            .and_then(|r| states.get(r as usize))
        else {
            continue;
        };
        let mut id_of = |t: u32| -> u32 {
            let tb = block(t);
            match new_id.get_mut(tb) {
                Some(Some(id)) => *id,
                Some(slot) => {
                    let id = order.len() as u32;
                    *slot = Some(id);
                    order.push(tb);
                    id
                }
                None => 0,
            }
        };
        let default_block = block(st.default);
        let mut edges = Vec::with_capacity(st.edges.len());
        for &(c, t) in &st.edges {
            if block(t) != default_block {
                edges.push((c, id_of(t)));
            }
        }
        let default = id_of(st.default);
        out.push(State {
            accept: st.accept,
            default,
            edges,
        });
    }
    Language { states: out }
}

/// The states from which some state marked in `marked` is reachable (those included), given
/// each state's predecessors: a backward search, linear in the edges.
pub(crate) fn backward_closure(preds: &[Vec<u32>], mut marked: Vec<bool>) -> Vec<bool> {
    let mut stack: Vec<u32> = (0..marked.len() as u32)
        .filter(|&s| marked.get(s as usize) == Some(&true))
        .collect();
    while let Some(s) = stack.pop() {
        for &p in preds.get(s as usize).map_or(&[][..], |v| v.as_slice()) {
            if let Some(m) = marked.get_mut(p as usize)
                && !*m
            {
                *m = true;
                stack.push(p);
            }
        }
    }
    marked
}

#[cfg(test)]
mod tests {
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
                vec![
                    "nobody: no valid system:serviceaccount:<namespace>:<name> subject is admitted",
                ],
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
                vec![
                    "unbounded: every namespace matching \"pay*\" (e.g. system:serviceaccount:pay:a)",
                ],
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
}
