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

use std::net::IpAddr;

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

/// Comparison of typed operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// The request value equals a policy value (`...Equals`).
    Eq,
    /// The request value is less than a policy value (`...LessThan`).
    Lt,
    /// The request value is at most a policy value (`...LessThanEquals`).
    Le,
    /// The request value is greater than a policy value (`...GreaterThan`).
    Gt,
    /// The request value is at least a policy value (`...GreaterThanEquals`).
    Ge,
}

/// What an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `String*`: text compared as written, or case-folded, or as globs.
    String {
        /// `...IgnoreCase`: compared case-insensitively.
        ignore_case: bool,
        /// `StringLike` / `StringNotLike`: the values are globs.
        like: bool,
    },
    /// `Numeric*`: numbers compared with the given comparison.
    Numeric(Cmp),
    /// `Date*`: dates compared with the given comparison.
    Date(Cmp),
    /// `Bool`: `true`/`false`.
    Bool,
    /// `BinaryEquals`: base64 text compared exactly.
    Binary,
    /// `IpAddress` / `NotIpAddress`: an address against CIDR ranges.
    Ip,
    /// `Arn*`: the six ARN components globbed separately.
    Arn,
    /// `Null`: whether the key is present.
    Null,
}

macro_rules! base_ops {
    ($($name:ident),* $(,)?) => {
        /// An operator without qualifiers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BaseOp {
            $(
                #[doc = concat!("The `", stringify!($name), "` condition operator.")]
                $name
            ),*
        }
        impl BaseOp {
            /// Every IAM condition operator.
            pub const ALL: &'static [BaseOp] = &[$(BaseOp::$name),*];
            /// The canonical (and only accepted) spelling.
            pub fn name(self) -> &'static str {
                match self { $(BaseOp::$name => stringify!($name)),* }
            }
        }
    };
}

base_ops!(
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
);

impl BaseOp {
    /// Case-sensitive lookup of an operator name.
    pub fn from_name(name: &str) -> Option<BaseOp> {
        BaseOp::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Negated operators: true on an absent key, NOR over several values.
    pub fn is_negated(self) -> bool {
        use BaseOp::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// What the operator compares (negation removed).
    pub fn kind(self) -> Kind {
        use BaseOp::*;
        match self {
            StringEquals | StringNotEquals => Kind::String {
                ignore_case: false,
                like: false,
            },
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => Kind::String {
                ignore_case: true,
                like: false,
            },
            StringLike | StringNotLike => Kind::String {
                ignore_case: false,
                like: true,
            },
            NumericEquals | NumericNotEquals => Kind::Numeric(Cmp::Eq),
            NumericLessThan => Kind::Numeric(Cmp::Lt),
            NumericLessThanEquals => Kind::Numeric(Cmp::Le),
            NumericGreaterThan => Kind::Numeric(Cmp::Gt),
            NumericGreaterThanEquals => Kind::Numeric(Cmp::Ge),
            DateEquals | DateNotEquals => Kind::Date(Cmp::Eq),
            DateLessThan => Kind::Date(Cmp::Lt),
            DateLessThanEquals => Kind::Date(Cmp::Le),
            DateGreaterThan => Kind::Date(Cmp::Gt),
            DateGreaterThanEquals => Kind::Date(Cmp::Ge),
            Bool => Kind::Bool,
            BinaryEquals => Kind::Binary,
            IpAddress | NotIpAddress => Kind::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Kind::Arn,
            Null => Kind::Null,
        }
    }

    /// Whether `*` and `?` in values are wildcards.
    pub fn has_wildcards(self) -> bool {
        matches!(self.kind(), Kind::String { like: true, .. } | Kind::Arn)
    }

    /// Whether values may hold policy variables (IAM: string and ARN operators).
    pub fn takes_variables(self) -> bool {
        matches!(self.kind(), Kind::String { .. } | Kind::Arn)
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// `ForAnyValue:`: some request value satisfies the operator; false on an absent key.
    ForAnyValue,
    /// `ForAllValues:`: every request value satisfies the operator; true on an absent key.
    ForAllValues,
}

/// An operator with its qualifiers, e.g. `ForAllValues:StringLikeIfExists`.
///
/// ```
/// use awi_trust::condition::{Operator, BaseOp, SetOp};
/// let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
/// assert_eq!((op.base, op.if_exists, op.set), (BaseOp::StringLike, true, Some(SetOp::ForAnyValue)));
/// assert!(Operator::parse("stringequals").is_err());
/// assert!(Operator::parse("NullIfExists").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The operator without qualifiers.
    pub base: BaseOp,
    /// `...IfExists`: true when the key is absent.
    pub if_exists: bool,
    /// The `ForAnyValue:` / `ForAllValues:` qualifier, if any.
    pub set: Option<SetOp>,
}

impl Operator {
    /// Parses an operator name (case-sensitive); the error says what is wrong.
    pub fn parse(name: &str) -> Result<Operator, String> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOp::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetOp::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(base) if !base.is_empty() => (true, base),
            _ => (false, rest),
        };
        let Some(base) = BaseOp::from_name(base_name) else {
            let hint = BaseOp::ALL
                .iter()
                .find(|op| op.name().eq_ignore_ascii_case(base_name))
                .map(|op| {
                    format!(
                        " (operator names are case-sensitive: did you mean {}?)",
                        op.name()
                    )
                })
                .unwrap_or_default();
            return Err(format!("unknown condition operator {name:?}{hint}"));
        };
        if base == BaseOp::Null && if_exists {
            return Err(format!(
                "{name:?}: Null cannot take IfExists (it already tests presence)"
            ));
        }
        Ok(Operator {
            base,
            if_exists,
            set,
        })
    }

    /// Positive operators are false on an absent key; negated ones true.
    pub fn is_negated(&self) -> bool {
        self.base.is_negated()
    }

    /// The result when the key is absent from the request (IAM's rules for a missing key).
    pub fn on_absent_key(&self) -> Option<bool> {
        if self.base == BaseOp::Null {
            return None;
        }
        Some(if self.if_exists {
            true
        } else {
            match self.set {
                Some(SetOp::ForAllValues) => true,
                Some(SetOp::ForAnyValue) => false,
                None => self.base.is_negated(),
            }
        })
    }
}

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
                } => {
                    let mut g = Glob::default();
                    for (text, wild) in &parts {
                        if *wild {
                            g.push_pattern(text)
                        } else {
                            g.push_literal(text)
                        }
                    }
                    if ignore_case {
                        g.is_match_ignore_case(r)
                    } else {
                        g.is_match(r)
                    }
                }
                Kind::String {
                    like: false,
                    ignore_case,
                } => {
                    let joined: String = parts.iter().map(|(t, _)| t.as_str()).collect();
                    if ignore_case {
                        eq_ignore_case(&joined, r)
                    } else {
                        joined == r
                    }
                }
                Kind::Arn => {
                    let joined: String = parts.iter().map(|(t, _)| t.as_str()).collect();
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
            (Some(g), true) => {
                if ignore_case {
                    g.is_match_ignore_case(r)
                } else {
                    g.is_match(r)
                }
            }
            _ => {
                if ignore_case {
                    eq_ignore_case(&v.text, r)
                } else {
                    v.text == r
                }
            }
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

enum Resolved {
    /// (text, wildcards active)
    Parts(Vec<(String, bool)>),
    NoValue,
    Unknown,
}

fn resolve(pieces: &[Piece], ctx: &dyn KeyLookup) -> Resolved {
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
    Resolved::Parts(parts)
}

/// ARN matching component by component (IAM's ARN operators): both sides need the same number of
/// colon-separated components (at most six; the resource keeps its colons).
fn arn_match(globs: &[Glob], value: &str) -> bool {
    let parts = arn_components(value);
    parts.len() == globs.len() && globs.iter().zip(parts).all(|(g, p)| g.is_match(p))
}

/// `true` / `false` (any case), as Bool and Null values.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A decimal number (integers and fractions).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A date as milliseconds since the epoch: ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`,
/// with optional fraction and offset) or epoch seconds.
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok()?.checked_mul(1000);
    }
    let num = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (date, time) = match t.split_once(['T', 't']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut dp = date.splitn(3, '-');
    let (y, m, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y > 9999 {
        return None;
    }
    let mut millis = days_from_civil(y, m, d) * 86_400_000;
    if let Some(time) = time {
        let (clock, offset_ms) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(i) = time.rfind(['+', '-']) {
            let (c, off) = time.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let (oh, om) = off
                .get(1..)?
                .split_once(':')
                .unwrap_or((off.get(1..)?, "0"));
            (c, sign * (num(oh)? * 3_600_000 + num(om)? * 60_000))
        } else {
            (time, 0)
        };
        let mut cp = clock.splitn(3, ':');
        let h = num(cp.next()?)?;
        let mi = num(cp.next().unwrap_or("0"))?;
        let (s, frac) = match cp.next() {
            Some(sec) => match sec.split_once('.') {
                Some((s, f)) => (num(s)?, f),
                None => (num(sec)?, ""),
            },
            None => (0, ""),
        };
        if h > 24 || mi > 59 || s > 60 {
            return None;
        }
        let frac_ms = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            num(&digits)?
        };
        millis += h * 3_600_000 + mi * 60_000 + s * 1000 + frac_ms - offset_ms;
    }
    Some(millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a single address).
pub fn ip_in_cidr(ip: &str, cidr: &str) -> bool {
    let Ok(addr) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => prefix_eq(&a.octets(), &n.octets(), bits.unwrap_or(32)),
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_eq(&a.octets(), &n.octets(), bits.unwrap_or(128)),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
    if bits as usize > a.len() * 8 {
        return false;
    }
    let full = (bits / 8) as usize;
    let rest = bits % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    matches!((a.get(full), b.get(full)), (Some(x), Some(y)) if x & mask == y & mask)
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
