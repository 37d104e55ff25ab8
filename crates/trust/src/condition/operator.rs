//! Condition operators: the base operators IAM defines, what each compares, and the
//! `ForAnyValue:` / `ForAllValues:` and `...IfExists` qualifiers.

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
