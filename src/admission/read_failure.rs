//! Why a cluster object named by [`super::needs`] could not be read, and the few words a
//! person reads about it in the Pod's warning.
//!
//! A host reports the failure in its own terms (Kubewarden: an error text, see
//! [`crate::kubewarden::get_resource_failure`]; a WIT host: a status or a network error). The
//! warning gets one short line, never the host's error chain; the host's whole text stays in
//! [`ReadFailure::detail`] for the policy's log.

use awi_trust::k8s::ObjectRef;

/// The longest reason, in characters, a warning quotes from a host's text.
const MAX_REASON: usize = 160;

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// What kind of failure it was.
    pub kind: FailureKind,
    /// The host's whole text (for a log), as it gave it; may span lines.
    pub detail: String,
}

/// The kinds of read failure a person can act on differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The API server answered with an error status.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The Kubernetes reason (`ServiceUnavailable`, `Forbidden`); empty when the answer
        /// was not a Kubernetes Status.
        reason: String,
        /// The Status message.
        message: String,
    },
    /// The API server did not answer: the network error in a few words
    /// (`connection refused`, `timed out`).
    Unreachable(String),
    /// The host does not let the policy read this kind of object (Kubewarden: the policy's
    /// `contextAwareResources` does not name it).
    NotGranted,
    /// Anything else: the first line of the host's text.
    Other(String),
}

impl ReadFailure {
    /// A failure of `kind` with the host's whole text.
    pub fn new(kind: FailureKind, detail: impl Into<String>) -> ReadFailure {
        ReadFailure {
            kind,
            detail: detail.into(),
        }
    }

    /// A failure the host described only by `text`, quoted (first line, shortened) as the
    /// reason.
    pub fn other(text: &str) -> ReadFailure {
        ReadFailure::new(FailureKind::Other(one_line(text)), text)
    }

    /// The reason of a warning about `wanted`: one line, a few words.
    pub fn reason(&self, wanted: &ObjectRef) -> String {
        match &self.kind {
            FailureKind::Status { code: 404, .. } => "not found".to_string(),
            FailureKind::Status { code: 403, .. } => format!(
                "forbidden: the policy server's ServiceAccount may not get {}",
                resource(wanted)
            ),
            FailureKind::Status { code, reason, .. } => {
                let reason = one_line(reason);
                if reason.is_empty() {
                    format!("API server answered {code}")
                } else {
                    format!("API server answered {code} {reason}")
                }
            }
            FailureKind::Unreachable(what) => {
                format!("API server unreachable: {}", one_line(what))
            }
            FailureKind::NotGranted => format!(
                "the policy may not read {}/{}: add it to the policy's contextAwareResources",
                wanted.api_version, wanted.kind
            ),
            FailureKind::Other(text) => one_line(text),
        }
    }
}

/// The resource name RBAC knows `wanted`'s kind by (`serviceaccounts`).
fn resource(wanted: &ObjectRef) -> String {
    format!("{}s", wanted.kind.to_ascii_lowercase())
}

/// The first non-empty line of `text`, without control characters, at most [`MAX_REASON`]
/// characters (a shortened one ends with `...`).
pub fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let clean: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= MAX_REASON {
        return clean;
    }
    let mut short: String = clean.chars().take(MAX_REASON - 3).collect();
    short.truncate(short.trim_end().len());
    short.push_str("...");
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa() -> ObjectRef {
        ObjectRef::service_account("payments", "api")
    }

    fn status(code: u16, reason: &str) -> ReadFailure {
        ReadFailure::new(
            FailureKind::Status {
                code,
                reason: reason.to_string(),
                message: String::new(),
            },
            "",
        )
    }

    #[test]
    fn statuses_name_the_code_and_reason() {
        assert_eq!(
            status(503, "ServiceUnavailable").reason(&sa()),
            "API server answered 503 ServiceUnavailable"
        );
        assert_eq!(status(502, "").reason(&sa()), "API server answered 502");
        assert_eq!(status(404, "NotFound").reason(&sa()), "not found");
        assert_eq!(
            status(403, "Forbidden").reason(&sa()),
            "forbidden: the policy server's ServiceAccount may not get serviceaccounts"
        );
    }

    #[test]
    fn reasons_are_one_short_line() {
        let long = format!("first {}\nsecond", "x".repeat(300));
        let reason = ReadFailure::other(&long).reason(&sa());
        assert!(!reason.contains('\n'), "{reason}");
        assert_eq!(reason.chars().count(), MAX_REASON);
        assert!(reason.ends_with("..."), "{reason}");
        assert_eq!(one_line("\n\n  a\tb  \nc"), "a b");
        let failure = ReadFailure::new(FailureKind::Unreachable("timed\nout".into()), "x");
        assert_eq!(failure.reason(&sa()), "API server unreachable: timed");
    }

    #[test]
    fn not_granted_says_what_to_declare() {
        let failure = ReadFailure::new(FailureKind::NotGranted, "Policy has not been granted");
        assert_eq!(
            failure.reason(&sa()),
            "the policy may not read v1/ServiceAccount: add it to the policy's contextAwareResources"
        );
    }
}
