//! IAM wildcard matching: `*` matches any run of characters (including none), `?` exactly
//! one character (IAM's Action and StringLike wildcards).
//!
//! The matcher keeps a single restart point (the last `*` seen) instead of backtracking
//! through every `*`, so its cost is bounded by pattern length times text length and a
//! hostile pattern such as `*a*a*a*a*b` cannot make it exponential. Patterns are tokenised
//! once, so literal characters that came from an escape (`${*}`) or a policy variable stay
//! literal.

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// This character, literally.
    Char(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Run,
}

/// A compiled wildcard pattern.
///
/// ```
/// use awi_trust::glob::Glob;
/// let g = Glob::new("system:serviceaccount:pay*:api-?");
/// assert!(g.is_match("system:serviceaccount:payments:api-1"));
/// assert!(g.is_match("system:serviceaccount:pay:roll:api-x")); // `*` crosses `:`
/// assert!(!g.is_match("system:serviceaccount:payments:api-10"));
/// assert!(Glob::new("STS:assumerole*").is_match_ignore_case("sts:AssumeRoleWithWebIdentity"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`, where `*` and `?` are wildcards.
    pub fn new(pattern: &str) -> Glob {
        let mut g = Glob::default();
        g.push_pattern(pattern);
        g
    }

    /// A pattern that matches exactly `text` (its `*` and `?` are literal).
    pub fn literal(text: &str) -> Glob {
        let mut g = Glob::default();
        g.push_literal(text);
        g
    }

    /// Appends `pattern` with its wildcards.
    pub fn push_pattern(&mut self, pattern: &str) {
        for c in pattern.chars() {
            match c {
                '*' => self.push(Token::Run),
                '?' => self.push(Token::One),
                c => self.push(Token::Char(c)),
            }
        }
    }

    /// Appends `text` literally.
    pub fn push_literal(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(Token::Char));
    }

    /// Appends one token; consecutive `*` collapse into one.
    pub fn push(&mut self, token: Token) {
        if token == Token::Run && self.tokens.last() == Some(&Token::Run) {
            return;
        }
        self.tokens.push(token);
    }

    /// The tokens, in order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Whether the pattern has a `*` or `?` wildcard.
    pub fn has_wildcards(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Char(_)))
    }

    /// Case-sensitive match of the whole `text`.
    pub fn is_match(&self, text: &str) -> bool {
        run(&self.tokens, text, |c| c)
    }

    /// Match of the whole `text`, ignoring case (actions, `...IgnoreCase` operators).
    pub fn is_match_ignore_case(&self, text: &str) -> bool {
        run(&self.tokens, text, fold_case)
    }
}

/// One-character case folding: lowercase when that gives a single character.
pub fn fold_case(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Case-insensitive string equality with [`fold_case`].
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().map(fold_case).eq(b.chars().map(fold_case))
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

/// Wildcard matching with one restart point. When a literal fails after a `*`, only the
/// most recent `*` needs to absorb one more character: an earlier `*` absorbing more could
/// only move the later segments right, which the later `*` can do by itself.
fn run(tokens: &[Token], text: &str, fold: impl Fn(char) -> char) -> bool {
    let mut t = 0usize;
    let mut i = 0usize;
    let mut restart: Option<(usize, usize)> = None;
    loop {
        let c = char_at(text, i);
        match (tokens.get(t), c) {
            (Some(Token::Run), _) => {
                t += 1;
                restart = Some((t, i));
                continue;
            }
            (Some(Token::One), Some(ch)) => {
                t += 1;
                i += ch.len_utf8();
                continue;
            }
            (Some(Token::Char(p)), Some(ch)) if fold(*p) == fold(ch) => {
                t += 1;
                i += ch.len_utf8();
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        match restart {
            Some((rt, ri)) => match char_at(text, ri) {
                Some(ch) => {
                    let ni = ri + ch.len_utf8();
                    restart = Some((rt, ni));
                    t = rt;
                    i = ni;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// Convenience: does `pattern` (with wildcards) match `text`, case-sensitively.
pub fn matches(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).is_match(text)
}

/// Patterns with texts they match and texts they do not: the glob matcher and the
/// condition-language automaton are both checked against this one table.
#[cfg(test)]
pub(crate) const CASES: &[(&str, &[&str], &[&str])] = &[
    ("", &[""], &["a"]),
    ("*", &["", "anything:at:all", "a:b:c"], &[]),
    ("?", &["é", "x"], &["", "xy"]),
    ("a?c", &["abc"], &["ac"]),
    ("a*c", &["ac", "abbbc"], &["abbbcd"]),
    ("*c", &["abc"], &[]),
    ("a*", &["a"], &[]),
    ("**a**", &["xa", "a"], &[]),
    ("a*b*c", &["aXbYc"], &["aXcYb"]),
    ("abc", &[], &["ABC"]),
    ("*ab", &["aab"], &[]),
    ("*aab", &["aaab"], &[]),
    ("ab*ab", &["abab"], &["aba"]),
    ("a*b", &["ab", "a:::b"], &["a:::bc"]),
    ("*a*a*", &["aa"], &["a"]),
    (
        "system:serviceaccount:*",
        &["system:serviceaccount:a:b"],
        &["system:serviceaccount"],
    ),
    (
        "system:serviceaccount:pay*:api",
        &[
            "system:serviceaccount:payments:api",
            "system:serviceaccount:pay:x:api",
        ],
        &["system:serviceaccount:pay:web"],
    ),
    ("é?ü*", &["éxü"], &[]),
];

/// Every case of [`CASES`] as `(pattern, text, whether it matches)`.
#[cfg(test)]
pub(crate) fn cases() -> impl Iterator<Item = (&'static str, &'static str, bool)> {
    CASES.iter().flat_map(|&(pattern, yes, no)| {
        let yes = yes.iter().map(move |&t| (pattern, t, true));
        yes.chain(no.iter().map(move |&t| (pattern, t, false)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (p, t, want) in cases() {
            assert_eq!(matches(p, t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn literal_keeps_wildcards_literal() {
        assert!(Glob::literal("a*").is_match("a*"));
        assert!(!Glob::literal("a*").is_match("ab"));
        assert!(!Glob::literal("a*").has_wildcards());
    }

    #[test]
    fn ignore_case() {
        assert!(Glob::new("sts:AssumeRole*").is_match_ignore_case("STS:ASSUMEROLEWITHWEBIDENTITY"));
        assert!(!Glob::new("sts:AssumeRole*").is_match("STS:ASSUMEROLE"));
        assert!(eq_ignore_case("ÄbC", "äBc"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = format!("{}b", "*a".repeat(200));
        let text = "a".repeat(100_000);
        let g = Glob::new(&pattern);
        let start = std::time::Instant::now();
        assert!(!g.is_match(&text));
        let mut yes = text.clone();
        yes.push('b');
        assert!(g.is_match(&yes));
        // A generous bound: exponential backtracking would take forever.
        assert!(start.elapsed().as_secs() < 5);
    }
}
