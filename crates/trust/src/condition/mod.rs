//! IAM condition operators and their evaluation, in three-valued logic.
//!
//! Rules encoded here, each from the reference:
//! - several values for one key are OR-ed; under a negated operator (`StringNotEquals`,
//!   `ArnNotLike`, `NotIpAddress`, ...) they are NOR-ed ("matches none");
//! - an absent key makes positive operators false and negated operators true; `...IfExists`
//!   makes any operator true; `ForAnyValue:` is false and `ForAllValues:` true on an absent
//!   key; `Null` tests presence;
//! - key names are case-insensitive, operator names are not (a non-canonical spelling is an
//!   unknown operator, refused at parse time);
//! - `Arn*` operators match the six colon-separated components separately, so `*` never
//!   crosses a `:` outside the resource part;
//! - policy variables (`${key}`, `${key, 'default'}`, `${*}` `${?}` `${$}`) are substituted
//!   only under Version 2012-10-17, only in values of `String*` and `Arn*` operators; a
//!   variable whose key is absent has no value (positive operators do not match it, negated
//!   ones do).
//!
//! A key whose value only STS knows ([`crate::context`]) makes the condition
//! [`Tri::Unknown`] unless IAM's rules decide it anyway: `Null` on a key that is always
//! present is decided.
//!
//! The module's parts: [`operator`] (the operator names and their qualifiers),
//! [`variables`] (policy variables and their substitution), [`values`] (the typed value
//! readers: numbers, dates, booleans, CIDRs); evaluation is here.

pub mod operator;
pub mod values;
pub mod variables;

pub use operator::{BaseOp, Cmp, Kind, Operator, SetOp};
pub use values::{ip_in_cidr, parse_bool, parse_date, parse_number};
pub use variables::{Piece, Resolved, parse_variables, resolve};

use super::glob::{Glob, Token, eq_ignore_case};

/// Three-valued truth: a condition that needs a value only STS knows is neither true nor
/// false offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Depends on a value only known when STS receives the request.
    Unknown,
}

impl Tri {
    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::False,
        }
    }

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }

    /// Kleene AND.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::True,
        }
    }

    fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
}

/// The value of a condition key in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyValue<'a> {
    /// The key is in the request with this (single) value.
    Present(&'a str),
    /// The key is in the request with these values (a multivalued key given as context).
    Many(&'a [String]),
    /// The key is never in this request.
    Absent,
    /// The key is in the request, but only STS knows its value.
    Unknown,
    /// Only STS knows whether the key is in the request, and its value.
    Undetermined,
}

/// Where condition keys are looked up; `key_lower` is already lowercased.
pub trait KeyLookup {
    /// The value of the (lowercased) condition key in this request.
    fn lookup(&self, key_lower: &str) -> KeyValue<'_>;
}

/// One policy value of a condition, compiled for its operator.
#[derive(Debug, Clone, PartialEq)]
pub struct CondValue {
    /// The value as written (numbers and booleans in their JSON text form).
    pub text: String,
    /// Pieces when the value holds variables and they are substituted (2012-10-17).
    pub pieces: Option<Vec<Piece>>,
    glob: Option<Glob>,
    arn: Option<Vec<Glob>>,
}

impl CondValue {
    /// Compiles `text` for `base`; `variables` is whether the Version substitutes them.
    pub fn new(text: &str, base: BaseOp, variables: bool) -> CondValue {
        let pieces = if variables && base.takes_variables() {
            parse_variables(text)
        } else {
            None
        };
        let (glob, arn) = match (pieces.is_some(), base.kind()) {
            (false, Kind::String { like: true, .. }) => (Some(Glob::new(text)), None),
            (false, Kind::Arn) => (
                None,
                Some(arn_components(text).into_iter().map(Glob::new).collect()),
            ),
            _ => (None, None),
        };
        CondValue {
            text: text.to_string(),
            pieces,
            glob,
            arn,
        }
    }

    /// Whether this value refers to the key `key_lower` through a variable.
    pub fn uses_variable(&self, key_lower: &str) -> bool {
        self.pieces.as_ref().is_some_and(|p| {
            p.iter()
                .any(|p| matches!(p, Piece::Variable { key_lower: k, .. } if k == key_lower))
        })
    }
}

fn arn_components(text: &str) -> Vec<&str> {
    text.splitn(6, ':').collect()
}

/// One `Operator: { Key: Values }` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The parsed operator with its qualifiers.
    pub operator: Operator,
    /// The operator as written (canonical, since other spellings are refused).
    pub operator_text: String,
    /// The key as written.
    pub key: String,
    /// The key lowercased, for lookups (key names are case-insensitive).
    pub key_lower: String,
    /// The policy values for the key (OR-ed, NOR-ed under a negated operator).
    pub values: Vec<CondValue>,
}

impl Condition {
    /// Evaluates the condition against the request.
    pub fn evaluate(&self, ctx: &dyn KeyLookup) -> Tri {
        let looked = ctx.lookup(&self.key_lower);
        if self.operator.base == BaseOp::Null {
            // ForAllValues:Null is always true, ForAnyValue:Null always false (IAM's set operators).
            match self.operator.set {
                Some(SetOp::ForAllValues) => return Tri::True,
                Some(SetOp::ForAnyValue) => return Tri::False,
                None => {}
            }
            let present = match looked {
                KeyValue::Present(_) | KeyValue::Many(_) | KeyValue::Unknown => true,
                KeyValue::Absent => false,
                KeyValue::Undetermined => return Tri::Unknown,
            };
            let any = self.values.iter().any(|v| match parse_bool(&v.text) {
                Some(want_absent) => want_absent != present,
                None => false,
            });
            return Tri::from_bool(any);
        }
        match looked {
            KeyValue::Unknown | KeyValue::Undetermined => Tri::Unknown,
            KeyValue::Absent => Tri::from_bool(self.operator.on_absent_key().unwrap_or(false)),
            // One present value: plain, ForAnyValue and ForAllValues agree (a web identity request carries one value per key).
            KeyValue::Present(r) => self.evaluate_value(r, ctx),
            KeyValue::Many(values) => self.evaluate_values(values, ctx),
        }
    }

    /// Several request values: `ForAnyValue` needs one to satisfy the operator,
    /// `ForAllValues` every one. AWS requires a set operator on a multivalued key and does
    /// not document a plain operator over several values, so that is left undecided.
    fn evaluate_values(&self, values: &[String], ctx: &dyn KeyLookup) -> Tri {
        match (self.operator.set, values) {
            (_, [one]) => self.evaluate_value(one, ctx),
            (Some(SetOp::ForAnyValue), _) => values
                .iter()
                .fold(Tri::False, |acc, r| acc.or(self.evaluate_value(r, ctx))),
            (Some(SetOp::ForAllValues), _) => values
                .iter()
                .fold(Tri::True, |acc, r| acc.and(self.evaluate_value(r, ctx))),
            (None, _) => Tri::Unknown,
        }
    }

    /// The operator applied to one request value `r`: OR over the policy values, NOR for
    /// negated operators.
    pub fn evaluate_value(&self, r: &str, ctx: &dyn KeyLookup) -> Tri {
        let mut any = Tri::False;
        for v in &self.values {
            any = any.or(positive_match(self.operator.base, r, v, ctx));
            if any == Tri::True {
                break;
            }
        }
        if self.operator.is_negated() {
            any.not()
        } else {
            any
        }
    }
}

/// Whether request value `r` matches policy value `v` in the positive sense of `base`
/// (`StringNotEquals` uses `StringEquals` here; the caller negates).
fn positive_match(base: BaseOp, r: &str, v: &CondValue, ctx: &dyn KeyLookup) -> Tri {
    let kind = base.kind();
    if let Some(pieces) = &v.pieces {
        return match resolve(pieces, ctx) {
            Resolved::Unknown => Tri::Unknown,
            Resolved::NoValue => Tri::False,
            Resolved::Parts(parts) => Tri::from_bool(match kind {
                Kind::String {
                    like: true,
                    ignore_case,
                } => glob_matches(&parts.glob(), r, ignore_case),
                Kind::String {
                    like: false,
                    ignore_case,
                } => text_equals(&parts.text(), r, ignore_case),
                Kind::Arn => {
                    let joined = parts.text();
                    let globs: Vec<Glob> =
                        arn_components(&joined).into_iter().map(Glob::new).collect();
                    arn_match(&globs, r)
                }
                _ => false,
            }),
        };
    }
    Tri::from_bool(match kind {
        Kind::String { ignore_case, like } => match (&v.glob, like) {
            (Some(g), true) => glob_matches(g, r, ignore_case),
            _ => text_equals(&v.text, r, ignore_case),
        },
        Kind::Numeric(cmp) => match (parse_number(r), parse_number(&v.text)) {
            (Some(a), Some(b)) => compare(cmp, a.partial_cmp(&b)),
            _ => false,
        },
        Kind::Date(cmp) => match (parse_date(r), parse_date(&v.text)) {
            (Some(a), Some(b)) => compare(cmp, Some(a.cmp(&b))),
            _ => false,
        },
        Kind::Bool => match (parse_bool(r), parse_bool(&v.text)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Kind::Binary => r == v.text,
        Kind::Ip => ip_in_cidr(r, &v.text),
        Kind::Arn => v.arn.as_ref().is_some_and(|g| arn_match(g, r)),
        Kind::Null => false,
    })
}

/// `StringLike`: request value `r` against the glob, folding case under `IgnoreCase`.
fn glob_matches(glob: &Glob, r: &str, ignore_case: bool) -> bool {
    if ignore_case {
        glob.is_match_ignore_case(r)
    } else {
        glob.is_match(r)
    }
}

/// `StringEquals`: request value `r` against the policy text, folding case under `IgnoreCase`.
fn text_equals(text: &str, r: &str, ignore_case: bool) -> bool {
    if ignore_case {
        eq_ignore_case(text, r)
    } else {
        text == r
    }
}

fn compare(cmp: Cmp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    matches!(
        (cmp, ord),
        (Cmp::Eq, Some(Equal))
            | (Cmp::Lt, Some(Less))
            | (Cmp::Le, Some(Less | Equal))
            | (Cmp::Gt, Some(Greater))
            | (Cmp::Ge, Some(Greater | Equal))
    )
}

/// ARN matching component by component (IAM's ARN operators): both sides need the same number of
/// colon-separated components (at most six; the resource keeps its colons).
fn arn_match(globs: &[Glob], value: &str) -> bool {
    let parts = arn_components(value);
    parts.len() == globs.len() && globs.iter().zip(parts).all(|(g, p)| g.is_match(p))
}

/// Whether a glob of `tokens` is a plain literal (no wildcard).
pub fn is_literal(tokens: &[Token]) -> bool {
    tokens.iter().all(|t| matches!(t, Token::Char(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-02T00:00:00Z"), Some(86_400_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_date("86400"), Some(86_400_000));
        assert_eq!(parse_date("2024-02-30x"), None);
        assert_eq!(parse_date("system:serviceaccount:a:b"), None);
        assert_eq!(parse_date("2000-03-01"), Some(951_868_800_000));
    }

    #[test]
    fn cidrs() {
        assert!(ip_in_cidr("10.1.2.3", "10.0.0.0/8"));
        assert!(!ip_in_cidr("11.1.2.3", "10.0.0.0/8"));
        assert!(ip_in_cidr("10.1.2.3", "10.1.2.3"));
        assert!(ip_in_cidr("10.1.2.3", "10.1.2.0/25"));
        assert!(!ip_in_cidr("10.1.2.200", "10.1.2.0/25"));
        assert!(ip_in_cidr("2001:db8::1", "2001:db8::/32"));
        assert!(!ip_in_cidr("10.1.2.3", "10.0.0.0/33"));
        assert!(!ip_in_cidr("x", "10.0.0.0/8"));
    }

    #[test]
    fn variables_are_split() {
        let p = parse_variables("a${aws:username}b${*}${k, 'd'}${unterminated").unwrap();
        assert_eq!(p.len(), 6, "{p:?}");
        assert_eq!(p[5], Piece::Text("${unterminated".into()));
        assert_eq!(p[0], Piece::Text("a".into()));
        assert!(
            matches!(&p[1], Piece::Variable { key, default: None, .. } if key == "aws:username")
        );
        assert_eq!(p[3], Piece::Escaped('*'));
        assert!(matches!(&p[4], Piece::Variable { default: Some(d), .. } if d == "d"));
        assert_eq!(parse_variables("plain"), None);
    }
}
