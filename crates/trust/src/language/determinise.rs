//! Globs to automata: subset construction over pattern positions, a bitset per state.

use super::{
    Interner, Language, LanguageError, MAX_GLOB_WORDS, MAX_STATES, MAX_TRANSITIONS, State,
    abbreviate, finish, too_complex,
};

/// A glob token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Star,
    Any,
    Lit(char),
}

/// Subset construction for a glob. NFA state `i` means "the first `i` tokens are matched";
/// a star at `i` may also be skipped (epsilon to `i + 1`), and loops on any char.
pub(crate) fn determinise_glob(toks: &[Tok], pattern: &str) -> Result<Language, LanguageError> {
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

pub(crate) fn set_bit(v: &mut [u64], i: usize) {
    if let Some(w) = v.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

pub(crate) fn has_bit(v: &[u64], i: usize) -> bool {
    v.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

pub(crate) fn and(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

pub(crate) fn or_assign(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= y;
    }
}

/// Position `i` becomes `i + 1`.
pub(crate) fn shift_left_one(v: &[u64]) -> Vec<u64> {
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
pub(crate) fn bits(v: &[u64]) -> impl Iterator<Item = usize> + '_ {
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
