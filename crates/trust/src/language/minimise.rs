//! Minimisation: Hopcroft's partition refinement over char classes, or, when its table
//! would be too large, pruning dead states (exact, only larger).

use super::{FastMap, Language, MAX_MINIMISE_CELLS, State};

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
pub(crate) fn dense_table(states: &[State]) -> Option<(usize, Vec<u32>)> {
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
pub(crate) fn hopcroft(states: &[State], k: usize, table: &[u32]) -> Vec<u32> {
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
pub(crate) fn prune_blocks(states: &[State]) -> Vec<u32> {
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
pub(crate) fn quotient(states: &[State], block_of: &[u32]) -> Language {
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
