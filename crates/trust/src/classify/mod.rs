//! Classification of a `sub` language into ServiceAccounts: who a trust policy admits.
//!
//! [`classify`] intersects a [`Language`] with the *shape* of a valid subject,
//! `system:serviceaccount:<namespace>:<name>`, and answers who is admitted: nobody, named
//! ServiceAccounts, namespaces, patterns, or an unbounded set. Simplifications, all
//! documented on [`classify`]: lengths are unbounded (a namespace glob `pay*` is
//! "unbounded" although real names stop at 63 chars), and DNS rules are enforced except
//! lengths. The automata themselves are [`crate::language`]'s; this module adds the
//! Kubernetes names and the words a reader sees.

use std::collections::VecDeque;

use crate::language::*;

/// Who a `sub` language admits: `L ∩ {system:serviceaccount:<ns>:<sa>}` with `ns` a DNS-1123
/// label and `sa` a DNS-1123 subdomain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectSet {
    /// No valid subject at all.
    Nobody,
    /// Every ServiceAccount of the cluster, or all but finitely many (co-finite).
    Unrestricted,
    /// Infinitely many namespaces (a wildcard or prefix namespace), or more than
    /// [`ENUMERATION_LIMIT`] of them, but not unrestricted.
    UnboundedNamespaces {
        /// A few admitted subjects (full `sub` strings), shortest namespaces first.
        examples: Vec<String>,
        /// The admitted namespaces, written like [`Scope::Matching`]: a glob such as `pay*`
        /// when one describes them exactly, otherwise a description containing spaces.
        namespaces: String,
    },
    /// Finitely many namespaces, sorted by name.
    Scoped(Vec<NamespaceScope>),
}

/// The ServiceAccounts admitted in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceScope {
    /// The namespace name.
    pub namespace: String,
    /// The ServiceAccount names admitted in it.
    pub service_accounts: Scope,
}

/// Which ServiceAccount names of one namespace are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every valid name.
    Every,
    /// Infinitely many names (or more than [`ENUMERATION_LIMIT`]), but not all. The string
    /// is a glob such as `api-*` when one describes the set exactly (`*` here means any run
    /// of valid name chars); otherwise it is a description containing spaces, such as
    /// `"api-*" or "web-*"`, `anything but "admin"` or
    /// `finitely many names, over the 1000-name listing limit, e.g. "aaa", "aab", "aac"`.
    Matching(String),
    /// Finitely many names, sorted.
    Names(Vec<String>),
}

/// Classifies the admitted subjects of `lang`.
///
/// Simplifications: name lengths are unbounded (so `pay*` admits infinitely many
/// namespaces); otherwise the DNS-1123 rules are enforced (namespace: `[a-z0-9-]`, starting
/// and ending alphanumeric; ServiceAccount: dot-separated labels of that form). Finite sets
/// with more than [`ENUMERATION_LIMIT`] namespaces are reported as
/// [`SubjectSet::UnboundedNamespaces`]; at most [`ENUMERATION_LIMIT`] ServiceAccount names
/// are listed in total, larger finite sets become [`Scope::Matching`] descriptions.
pub fn classify(lang: &Language) -> Result<SubjectSet, LanguageError> {
    let shape = subject_shape();
    let admitted = lang.intersect(&shape)?;
    if admitted.is_empty() {
        return Ok(SubjectSet::Nobody);
    }
    if shape.difference(lang)?.is_finite() {
        return Ok(SubjectSet::Unrestricted);
    }
    let graph = NamespaceGraph::new(&admitted);
    let mut budget = Budget {
        names: ENUMERATION_LIMIT,
        pattern_checks: PATTERN_CHECK_BUDGET,
    };
    let enumerated = if graph.has_cycle() {
        None
    } else {
        graph.namespaces(ENUMERATION_LIMIT)
    };
    let Some(namespaces) = enumerated else {
        let language = graph.namespace_language();
        let namespaces = describe_pattern(&language, &namespace_names(), &mut budget)?;
        return Ok(SubjectSet::UnboundedNamespaces {
            examples: graph.examples(),
            namespaces,
        });
    };
    let names = service_account_names();
    let mut scopes = Vec::with_capacity(namespaces.len());
    // Namespaces often share their ServiceAccount part (`team-?:api`): analyse each once.
    let mut by_state: FastMap<u32, Scope> = FastMap::default();
    for (namespace, state) in namespaces {
        let after_colon = admitted.state(state).map_or(0, |st| st.next(':'));
        let service_accounts = match by_state.get(&after_colon) {
            Some(Scope::Names(list)) if list.len() > budget.names => {
                budget.names = 0;
                Scope::Matching(format!(
                    "finitely many names, over the {ENUMERATION_LIMIT}-name listing limit, e.g. {}",
                    quoted_list(list.iter().take(3))
                ))
            }
            Some(Scope::Names(list)) => {
                budget.names -= list.len();
                Scope::Names(list.clone())
            }
            Some(other) => other.clone(),
            None => {
                let residual = admitted.residual(after_colon);
                let scope = scope_of(&residual, &names, &mut budget)?;
                by_state.insert(after_colon, scope.clone());
                scope
            }
        };
        scopes.push(NamespaceScope {
            namespace,
            service_accounts,
        });
    }
    scopes.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok(SubjectSet::Scoped(scopes))
}

impl SubjectSet {
    /// One human-readable line per admitted namespace scope or name.
    pub fn lines(&self) -> Vec<String> {
        match self {
            SubjectSet::Nobody => vec![
                "nobody: no valid system:serviceaccount:<namespace>:<name> subject is admitted"
                    .to_string(),
            ],
            SubjectSet::Unrestricted => {
                vec!["unrestricted: every ServiceAccount of the cluster".to_string()]
            }
            SubjectSet::UnboundedNamespaces {
                examples,
                namespaces,
            } => {
                let mut line =
                    format!("unbounded: every namespace matching {}", quoted(namespaces));
                if !examples.is_empty() {
                    line.push_str(&format!(" (e.g. {})", examples.join(", ")));
                }
                vec![line]
            }
            SubjectSet::Scoped(scopes) => scopes
                .iter()
                .flat_map(|scope| {
                    let ns = &scope.namespace;
                    match &scope.service_accounts {
                        Scope::Every => vec![format!("every ServiceAccount in namespace {ns}")],
                        Scope::Matching(p) if p.contains(char::is_whitespace) => {
                            vec![format!("ServiceAccounts matching {p} in namespace {ns}")]
                        }
                        Scope::Matching(p) => {
                            vec![format!(
                                "ServiceAccounts matching \"{p}\" in namespace {ns}"
                            )]
                        }
                        Scope::Names(names) => names.iter().map(|n| format!("{ns}/{n}")).collect(),
                    }
                })
                .collect(),
        }
    }
}

/// A glob in quotes; a description (it contains spaces, which names cannot) as it is.
fn quoted(pattern: &str) -> String {
    if pattern.contains(char::is_whitespace) {
        pattern.to_string()
    } else {
        format!("\"{pattern}\"")
    }
}

/// What is left of the per-call enumeration and pattern-search allowances.
struct Budget {
    names: usize,
    pattern_checks: usize,
}

/// The scope of one namespace, from the language of its ServiceAccount names (a subset of
/// `names`, the language of all valid names).
fn scope_of(
    residual: &Language,
    names: &Language,
    budget: &mut Budget,
) -> Result<Scope, LanguageError> {
    let missing = names.difference(residual)?;
    if missing.is_empty() {
        return Ok(Scope::Every);
    }
    if residual.is_finite() {
        let words = residual.words(budget.names);
        if words.len() <= budget.names {
            budget.names -= words.len();
            return Ok(Scope::Names(words));
        }
        budget.names = 0;
        return Ok(Scope::Matching(format!(
            "finitely many names, over the {ENUMERATION_LIMIT}-name listing limit, e.g. {}",
            quoted_list(residual.words_shortest(3).iter())
        )));
    }
    describe_pattern(residual, names, budget).map(Scope::Matching)
}

/// A readable form of an infinite (or very large) set of names within `universe`: a glob,
/// globs joined by `or`, `anything but ...` for co-finite sets, or a description with
/// examples.
fn describe_pattern(
    target: &Language,
    universe: &Language,
    budget: &mut Budget,
) -> Result<String, LanguageError> {
    let missing = universe.difference(target)?;
    if missing.is_finite() && !missing.is_empty() {
        let excluded = missing.words(10);
        let mut text = format!("anything but {}", quoted_list(excluded.iter().take(10)));
        if excluded.len() > 10 {
            text.push_str(" and more");
        }
        return Ok(text);
    }
    if let Some(globs) = glob_cover(target, universe, &mut budget.pattern_checks)? {
        return Ok(match globs.as_slice() {
            [single] => single.clone(),
            _ => globs
                .iter()
                .map(|g| format!("\"{g}\""))
                .collect::<Vec<_>>()
                .join(" or "),
        });
    }
    let examples = target.words_shortest(3);
    Ok(format!(
        "a pattern with no simple glob form, e.g. {}",
        quoted_list(examples.iter())
    ))
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Language {
    /// Up to `count` distinct short strings: the shortest, then shortest ones of what is left.
    fn words_shortest(&self, count: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = self.clone();
        while out.len() < count {
            let Some(w) = rest.shortest_word() else { break };
            match rest.difference(&Language::literal(&w)) {
                Ok(r) => rest = r,
                Err(_) => break,
            }
            out.push(w);
        }
        out
    }
}

/// Tries to write `target` (a subset of `universe`) as a union of at most
/// [`MAX_PATTERN_ALTERNATIVES`] globs, each meant as intersected with `universe`.
///
/// Greedy: take a shortest remaining word `w`; find the most general `x*y` with `x` a prefix
/// and `y` a suffix of `w` that stays inside `target`; widen it further by turning single
/// chars into `*` (or else `?`) or inserting `*` where that still stays inside (`a-api-*`
/// becomes `*-api-*`); subtract it and repeat. Every accepted glob is checked against `target`, so
/// the result is exact whenever it is returned.
fn glob_cover(
    target: &Language,
    universe: &Language,
    checks: &mut usize,
) -> Result<Option<Vec<String>>, LanguageError> {
    /// Whether `glob` (intersected with the universe) lies inside the target; `None` once the
    /// check budget is spent.
    fn fits(
        glob: &[GlobTok],
        target: &Language,
        universe: &Language,
        checks: &mut usize,
    ) -> Result<Option<bool>, LanguageError> {
        if *checks == 0 {
            return Ok(None);
        }
        *checks -= 1;
        let g = Language::glob(&render_glob(glob))?;
        Ok(Some(g.intersect(universe)?.is_subset_of(target)?))
    }

    let mut remaining = target.clone();
    let mut globs = Vec::new();
    while !remaining.is_empty() {
        if globs.len() >= MAX_PATTERN_ALTERNATIVES {
            return Ok(None);
        }
        let Some(w) = remaining.shortest_word() else {
            return Ok(None);
        };
        let chars: Vec<char> = w.chars().collect();
        let len = chars.len();
        if len > 64 {
            return Ok(None);
        }
        let x_star_y = |prefix: usize, suffix: usize| -> Vec<GlobTok> {
            let head = chars.get(..prefix).unwrap_or(&[]).iter();
            let tail = chars.get(len - suffix..).unwrap_or(&[]).iter();
            head.map(|&c| GlobTok::Lit(c))
                .chain(std::iter::once(GlobTok::Star))
                .chain(tail.map(|&c| GlobTok::Lit(c)))
                .collect()
        };
        // Fitting is monotone: a longer prefix or suffix only shrinks `x*y`. Walk the
        // staircase of minimal suffix lengths per prefix length: O(len) checks.
        let mut best: Option<(usize, usize)> = None;
        let mut suffix = len;
        for prefix in 0..=len {
            suffix = suffix.min(len - prefix);
            match fits(&x_star_y(prefix, suffix), target, universe, checks)? {
                None => return Ok(None),
                Some(false) => continue,
                Some(true) => {}
            }
            while suffix > 0 {
                match fits(&x_star_y(prefix, suffix - 1), target, universe, checks)? {
                    None => return Ok(None),
                    Some(true) => suffix -= 1,
                    Some(false) => break,
                }
            }
            // Prefer the most general glob; on ties the longer prefix (`api-*` over `*-api`).
            if best.is_none_or(|(bp, bs)| prefix + suffix <= bp + bs) {
                best = Some((prefix, suffix));
            }
        }
        let mut glob: Vec<GlobTok> = match best {
            Some((p, s)) => x_star_y(p, s),
            None => chars.iter().map(|&c| GlobTok::Lit(c)).collect(),
        };
        // Widen left to right: replace a char by `*`, else insert a `*` before it.
        let mut i = 0;
        while i <= glob.len() {
            if let Some(GlobTok::Lit(_)) = glob.get(i) {
                let mut widened = false;
                for wildcard in [GlobTok::Star, GlobTok::Any] {
                    let mut wider = glob.clone();
                    if let Some(t) = wider.get_mut(i) {
                        *t = wildcard;
                    }
                    // Adjacent stars are one star.
                    wider.dedup_by(|a, b| *a == GlobTok::Star && *b == GlobTok::Star);
                    match fits(&wider, target, universe, checks)? {
                        None => return Ok(None),
                        Some(true) => {
                            glob = wider;
                            widened = true;
                            break;
                        }
                        Some(false) => {}
                    }
                }
                if widened {
                    i += 1;
                    continue;
                }
            }
            let star_near = glob.get(i) == Some(&GlobTok::Star)
                || (i > 0 && glob.get(i - 1) == Some(&GlobTok::Star));
            if !star_near {
                let mut wider = glob.clone();
                wider.insert(i, GlobTok::Star);
                match fits(&wider, target, universe, checks)? {
                    None => return Ok(None),
                    Some(true) => {
                        glob = wider;
                        i += 2;
                        continue;
                    }
                    Some(false) => {}
                }
            }
            i += 1;
        }
        let text = render_glob(&glob);
        remaining = remaining.difference(&Language::glob(&text)?)?;
        globs.push(text);
    }
    Ok(Some(globs))
}

/// A token of a readable glob; names never contain `*` or `?`, so rendering is unambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobTok {
    Star,
    Any,
    Lit(char),
}

fn render_glob(toks: &[GlobTok]) -> String {
    toks.iter()
        .map(|t| match t {
            GlobTok::Star => '*',
            GlobTok::Any => '?',
            GlobTok::Lit(c) => *c,
        })
        .collect()
}

/// The namespace segment of the admitted language: states reached after
/// `system:serviceaccount:` and before the second `:`.
struct NamespaceGraph<'a> {
    lang: &'a Language,
    start: u32,
    /// States on some path from `start` to an exit (the useful namespace states).
    useful: Vec<bool>,
    /// States whose `:` transition leads to at least one valid ServiceAccount name.
    exit: Vec<bool>,
}

impl<'a> NamespaceGraph<'a> {
    fn new(lang: &'a Language) -> Self {
        let n = lang.states.len();
        let live = lang.live();
        let is_live = |t: u32| live.get(t as usize).copied().unwrap_or(false);
        let start = lang.run(0, SUBJECT_PREFIX);
        // Forward: states reachable by namespace chars (anything but ':').
        let mut reach = vec![false; n];
        let mut stack = vec![start];
        if let Some(r) = reach.get_mut(start as usize) {
            *r = true;
        }
        let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
        while let Some(s) = stack.pop() {
            for t in Self::successors(lang, s, &is_live) {
                if let Some(p) = preds.get_mut(t as usize) {
                    p.push(s);
                }
                if let Some(r) = reach.get_mut(t as usize)
                    && !*r
                {
                    *r = true;
                    stack.push(t);
                }
            }
        }
        let exit: Vec<bool> = (0..n as u32)
            .map(|s| {
                reach.get(s as usize) == Some(&true)
                    && lang.state(s).is_some_and(|st| is_live(st.next(':')))
            })
            .collect();
        // Backward from the exits within the reachable part.
        let useful = backward_closure(&preds, exit.clone());
        NamespaceGraph {
            lang,
            start,
            useful,
            exit,
        }
    }

    /// Namespace-char successors leading somewhere live. The default edge is included for
    /// completeness; inside the subject shape it is always dead.
    fn successors(lang: &Language, s: u32, is_live: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let Some(st) = lang.state(s) else {
            return Vec::new();
        };
        let mut out: Vec<u32> = st
            .edges
            .iter()
            .filter(|&&(c, t)| c != ':' && is_live(t))
            .map(|&(_, t)| t)
            .collect();
        if is_live(st.default) {
            out.push(st.default);
        }
        out
    }

    fn is_useful(&self, s: u32) -> bool {
        self.useful.get(s as usize).copied().unwrap_or(false)
    }

    fn is_exit(&self, s: u32) -> bool {
        self.exit.get(s as usize).copied().unwrap_or(false)
    }

    /// Namespace-char edges between useful states, in char order (explicit edges only).
    fn edges(&self, s: u32) -> Vec<(char, u32)> {
        self.lang.state(s).map_or_else(Vec::new, |st| {
            st.edges
                .iter()
                .filter(|&&(c, t)| c != ':' && self.is_useful(t))
                .copied()
                .collect()
        })
    }

    /// The admitted namespaces as a language of their own.
    fn namespace_language(&self) -> Language {
        let n = self.useful.len();
        let mut id: Vec<Option<u32>> = vec![None; n];
        let mut order: Vec<u32> = vec![self.start];
        if let Some(slot) = id.get_mut(self.start as usize) {
            *slot = Some(0);
        }
        let mut i = 0;
        while let Some(&s) = order.get(i) {
            i += 1;
            for (_, t) in self.edges(s) {
                if let Some(slot @ None) = id.get_mut(t as usize) {
                    *slot = Some(order.len() as u32);
                    order.push(t);
                }
            }
        }
        let dead = order.len() as u32;
        let mut states: Vec<State> = order
            .iter()
            .map(|&s| State {
                accept: self.is_exit(s),
                default: dead,
                edges: self
                    .edges(s)
                    .into_iter()
                    .filter_map(|(c, t)| Some((c, id.get(t as usize).copied().flatten()?)))
                    .collect(),
            })
            .collect();
        states.push(State {
            accept: false,
            default: dead,
            edges: Vec::new(),
        });
        finish(states)
    }

    /// A cycle among useful states means infinitely many namespaces.
    fn has_cycle(&self) -> bool {
        let n = self.useful.len();
        let useful_default = |s: u32| {
            self.lang
                .state(s)
                .map(|st| st.default)
                .filter(|&d| self.is_useful(d))
        };
        let successors = |s: u32| {
            self.edges(s)
                .into_iter()
                .map(|(_, t)| t)
                .chain(useful_default(s))
        };
        let mut indegree = vec![0usize; n];
        for s in (0..n as u32).filter(|&s| self.is_useful(s)) {
            for t in successors(s) {
                if let Some(d) = indegree.get_mut(t as usize) {
                    *d += 1;
                }
            }
        }
        let mut queue: Vec<u32> = (0..n as u32)
            .filter(|&s| self.is_useful(s) && indegree.get(s as usize) == Some(&0))
            .collect();
        let mut removed = 0;
        while let Some(s) = queue.pop() {
            removed += 1;
            for t in successors(s) {
                if let Some(d) = indegree.get_mut(t as usize) {
                    *d -= 1;
                    if *d == 0 {
                        queue.push(t);
                    }
                }
            }
        }
        removed != self.useful.iter().filter(|&&u| u).count()
    }

    /// The admitted namespaces (acyclic case) with the state reached after each, or `None`
    /// if there are more than `limit`.
    fn namespaces(&self, limit: usize) -> Option<Vec<(String, u32)>> {
        let mut out = Vec::new();
        if !self.is_useful(self.start) {
            return Some(out);
        }
        let mut stack = vec![(self.start, String::new())];
        // Every useful state leads to an exit, so a DAG walk producing `limit + 1` names
        // pops at most (limit + 1) * states nodes; the cap is a safety net.
        let max_pops = (limit + 1).saturating_mul(self.useful.len() + 1);
        let mut pops = 0usize;
        while let Some((s, name)) = stack.pop() {
            pops += 1;
            if pops > max_pops {
                return None;
            }
            if self.is_exit(s) {
                out.push((name.clone(), s));
                if out.len() > limit {
                    return None;
                }
            }
            for (c, t) in self.edges(s).into_iter().rev() {
                let mut next = name.clone();
                next.push(c);
                stack.push((t, next));
            }
        }
        Some(out)
    }

    /// A few admitted subjects with distinct namespaces, shortest namespaces first (letters
    /// before digits). Iterative deepening over the namespace length, pruned by the distance
    /// to the nearest exit, so long mandatory parts (`*-*`) do not make it search blindly.
    fn examples(&self) -> Vec<String> {
        const WANTED: usize = 3;
        const MAX_POPS: usize = 20_000;
        let dist = self.distance_to_exit();
        let dist_of = |s: u32| dist.get(s as usize).copied().flatten();
        let mut out: Vec<String> = Vec::new();
        let Some(shortest) = dist_of(self.start) else {
            return out;
        };
        let mut pops = 0usize;
        for length in shortest..shortest.saturating_add(8) {
            let mut stack = vec![(self.start, String::new(), 0usize)];
            while let Some((s, ns, len)) = stack.pop() {
                pops += 1;
                if pops > MAX_POPS || out.len() >= WANTED {
                    return out;
                }
                if len == length {
                    if self.is_exit(s) {
                        let after = self.lang.state(s).map_or(0, |st| st.next(':'));
                        if let Some(sa) = self.lang.residual(after).shortest_word() {
                            out.push(format!("{SUBJECT_PREFIX}{ns}:{sa}"));
                        }
                    }
                    continue;
                }
                let mut edges = self.edges(s);
                edges.sort_by_key(|&(c, _)| std::cmp::Reverse(readable_order(c)));
                for (c, t) in edges {
                    if dist_of(t).is_some_and(|d| len + 1 + d <= length) {
                        let mut next = ns.clone();
                        next.push(c);
                        stack.push((t, next, len + 1));
                    }
                }
            }
        }
        out
    }

    /// Fewest namespace chars from each useful state to an exit.
    fn distance_to_exit(&self) -> Vec<Option<usize>> {
        let n = self.useful.len();
        let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
        for s in (0..n as u32).filter(|&s| self.is_useful(s)) {
            for (_, t) in self.edges(s) {
                if let Some(p) = preds.get_mut(t as usize) {
                    p.push(s);
                }
            }
        }
        let mut dist: Vec<Option<usize>> = vec![None; n];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for s in (0..n as u32).filter(|&s| self.is_exit(s)) {
            if let Some(d) = dist.get_mut(s as usize) {
                *d = Some(0);
                queue.push_back(s);
            }
        }
        while let Some(s) = queue.pop_front() {
            let next = dist.get(s as usize).copied().flatten().unwrap_or(0) + 1;
            for &p in preds.get(s as usize).map_or(&[][..], |v| v.as_slice()) {
                if let Some(d) = dist.get_mut(p as usize)
                    && d.is_none()
                {
                    *d = Some(next);
                    queue.push_back(p);
                }
            }
        }
        dist
    }
}

/// Chars allowed in DNS names, in the order their edges are listed.
fn alphanumerics() -> impl Iterator<Item = char> {
    ('0'..='9').chain('a'..='z')
}

fn state_with(accept: bool, default: u32, mut edges: Vec<(char, u32)>) -> State {
    edges.sort_unstable();
    State {
        accept,
        default,
        edges,
    }
}

/// DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, unbounded length) starting at state
/// `base`; `exit` is an extra edge taken after a complete label (the `:` after a namespace).
/// Returns three states: start, "last char alphanumeric", "last char '-'".
fn label_states(base: u32, dead: u32, accept_end: bool, exit: Option<(char, u32)>) -> Vec<State> {
    let (alnum, dash) = (base + 1, base + 2);
    let to_alnum: Vec<(char, u32)> = alphanumerics().map(|c| (c, alnum)).collect();
    let mut after_alnum = to_alnum.clone();
    after_alnum.push(('-', dash));
    after_alnum.extend(exit);
    let mut after_dash = to_alnum.clone();
    after_dash.push(('-', dash));
    vec![
        state_with(false, dead, to_alnum),
        state_with(accept_end, dead, after_alnum),
        state_with(false, dead, after_dash),
    ]
}

/// Valid namespace names: DNS-1123 labels, unbounded length.
fn namespace_names() -> Language {
    // 0 start, 1 alnum (accepting), 2 dash, 3 dead.
    let mut states = label_states(0, 3, true, None);
    states.push(state_with(false, 3, Vec::new()));
    finish(states)
}

/// Valid ServiceAccount names: DNS-1123 subdomains (dot-separated labels), unbounded length.
fn service_account_names() -> Language {
    // 0 start, 1 alnum (accepting), 2 dash, 3 dot, 4 dead.
    let mut states = label_states(0, 4, true, None);
    if let Some(alnum) = states.get_mut(1) {
        alnum.edges.push(('.', 3));
        alnum.edges.sort_unstable();
    }
    states.push(state_with(
        false,
        4,
        alphanumerics().map(|c| (c, 1)).collect(),
    ));
    states.push(state_with(false, 4, Vec::new()));
    finish(states)
}

/// Every valid subject: `system:serviceaccount:<dns-1123 label>:<dns-1123 subdomain>`.
pub(crate) fn subject_shape() -> Language {
    let prefix: Vec<char> = SUBJECT_PREFIX.chars().collect();
    let p = prefix.len() as u32;
    // Layout: prefix states 0..p, namespace label p..p+3, name states p+3..p+7, dead p+7.
    let (sa_start, dead) = (p + 3, p + 7);
    let mut states: Vec<State> = prefix
        .iter()
        .enumerate()
        .map(|(i, &c)| state_with(false, dead, vec![(c, i as u32 + 1)]))
        .collect();
    states.extend(label_states(p, dead, false, Some((':', sa_start))));
    let mut names = label_states(sa_start, dead, true, None);
    if let Some(alnum) = names.get_mut(1) {
        alnum.edges.push(('.', sa_start + 3));
        alnum.edges.sort_unstable();
    }
    states.extend(names);
    states.push(state_with(
        false,
        dead,
        alphanumerics().map(|c| (c, sa_start + 1)).collect(),
    ));
    states.push(state_with(false, dead, Vec::new()));
    finish(states)
}

#[cfg(test)]
mod tests;
