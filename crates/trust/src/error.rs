//! The errors of the engine's entry points ([`crate::check`],
//! [`crate::lint`](fn@crate::lint), [`crate::who`], [`crate::render`](fn@crate::render)):
//! inputs that cannot be used at all. Each stage's own error converts into it with `?`. A
//! document IAM would refuse is not an error: it is a
//! verdict with error findings.

use crate::arn::ArnError;
use crate::k8s::InvalidName;
use crate::language::LanguageError;

/// Inputs that cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The role ARN does not follow its grammar.
    #[error(transparent)]
    RoleArn(#[from] ArnError),
    /// No JSON object could be read from the policy text.
    #[error("trust policy: {0}")]
    Unreadable(String),
    /// A namespace or ServiceAccount name that Kubernetes would refuse.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// The template or cluster object cannot be used.
    #[error("trust policy template: {0}")]
    Template(String),
    /// The admitted subject set is too complex to compute within the engine's bounds.
    #[error("who can assume: {0}")]
    Analysis(#[from] LanguageError),
}
