//! Policy variables (`${key}`, `${key, 'default'}`, and the escapes `${*}` `${?}` `${$}`):
//! splitting a value into pieces, and substituting the request's values.

use super::{KeyLookup, KeyValue};
use crate::glob::Glob;

/// A piece of a condition value under Version 2012-10-17.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Policy text (wildcards active under `Like`).
    Text(String),
    /// `${*}`, `${?}`, `${$}`: a literal character.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        /// The key as written.
        key: String,
        /// The key lowercased, for lookups.
        key_lower: String,
        /// The default after the comma, quotes removed; used when the key is absent.
        default: Option<String>,
    },
}

/// Splits `text` into pieces; `None` when it holds no `${...}` at all. An unterminated
/// `${` is text.
pub fn parse_variables(text: &str) -> Option<Vec<Piece>> {
    if !text.contains("${") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut buffer = String::new();
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        buffer.push_str(&rest[..start]);
        let inner = &after[..end];
        let piece = match inner {
            "*" => Piece::Escaped('*'),
            "?" => Piece::Escaped('?'),
            "$" => Piece::Escaped('$'),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .unwrap_or(d);
                        (k.trim(), Some(d.to_string()))
                    }
                    None => (inner.trim(), None),
                };
                Piece::Variable {
                    key: key.to_string(),
                    key_lower: key.to_lowercase(),
                    default,
                }
            }
        };
        if !buffer.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut buffer)));
        }
        pieces.push(piece);
        rest = &after[end + 1..];
    }
    buffer.push_str(rest);
    if !buffer.is_empty() {
        pieces.push(Piece::Text(buffer));
    }
    Some(pieces)
}

/// A value with its variables substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The value's parts: each part's text and whether its wildcards are active (policy text
    /// keeps them; variable values, defaults and escapes are literal).
    Parts(Parts),
    /// A variable's key is absent and it has no default: the value has none.
    NoValue,
    /// A variable's value only STS knows, or its key has several values.
    Unknown,
}

/// The parts of a substituted value; see [`Resolved::Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts(Vec<(String, bool)>);

impl Parts {
    /// The value as a glob: the policy text's wildcards active, the rest literal.
    pub fn glob(&self) -> Glob {
        let mut g = Glob::default();
        for (text, wild) in &self.0 {
            if *wild {
                g.push_pattern(text)
            } else {
                g.push_literal(text)
            }
        }
        g
    }

    /// The value as one text, wildcards and all.
    pub fn text(&self) -> String {
        self.0.iter().map(|(t, _)| t.as_str()).collect()
    }
}

/// Substitutes the request's values (`ctx`) for the variables of `pieces`.
pub fn resolve(pieces: &[Piece], ctx: &dyn KeyLookup) -> Resolved {
    let mut parts = Vec::with_capacity(pieces.len());
    for p in pieces {
        match p {
            Piece::Text(t) => parts.push((t.clone(), true)),
            Piece::Escaped(c) => parts.push((c.to_string(), false)),
            Piece::Variable {
                key_lower, default, ..
            } => match ctx.lookup(key_lower) {
                KeyValue::Present(v) => parts.push((v.to_string(), false)),
                KeyValue::Absent => match default {
                    Some(d) => parts.push((d.clone(), false)),
                    None => return Resolved::NoValue,
                },
                // Multivalued keys cannot be variables; a value only STS knows is unknown.
                KeyValue::Many(_) | KeyValue::Unknown | KeyValue::Undetermined => {
                    return Resolved::Unknown;
                }
            },
        }
    }
    Resolved::Parts(Parts(parts))
}
