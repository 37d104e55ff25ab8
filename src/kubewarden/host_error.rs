//! What Kubewarden's `kubernetes/get_resource` error text says: not found, an API status, a
//! network error, or something else ([`ReadFailure`]).
//!
//! Kubewarden gives the policy only a text. Its policy evaluator reads the object with
//! kube-rs and, on an error, answers `Callback evaluation failure: {error:?}`, the
//! `anyhow` Debug form: the error's Display, then `Caused by:` and the chain of sources, one
//! per line; the waPC guest library prefixes `Host error: `. The kube-rs error is
//! `ApiError: {message}: {reason} ({status:?})` when the API server answered (the Status
//! Debug form is `ErrorResponse { .. }` in older kube-rs, `Status { .. }` in newer), and
//! `ServiceError: client error (Connect)` or `(SendRequest)` with the network error as the
//! last source when it did not. An object that does not exist is an `Ok(None)` in kube-rs,
//! which Kubewarden turns into `Cannot find {apiVersion}/{kind} named '{name}' ...`.

use crate::admission::read_failure::one_line;
use crate::admission::{FailureKind, Lookup, ReadFailure};

/// The prefixes the waPC guest library and Kubewarden's callback put before the error.
const PREFIXES: [&str; 2] = ["Host error: ", "Callback evaluation failure: "];

/// What a Kubewarden `get_resource` error `text` means for the policy. The whole text (less
/// the guest library's `Host error: `) stays in the failure's `detail`.
pub fn get_resource_failure(text: &str) -> Lookup {
    // The wrappers in any order, repeated: a host that passes on a text Kubewarden already
    // wrapped (`awi review --service-account-error`) wraps it again.
    let mut error = text.trim_start();
    while let Some(rest) = PREFIXES
        .iter()
        .find_map(|prefix| error.strip_prefix(prefix))
    {
        error = rest;
    }
    let (head, causes) = chain(error);
    if head.starts_with("Cannot find ") && head.contains(" named '") {
        return Lookup::NotFound;
    }
    let kind = if head.starts_with("Policy has not been granted access to Kubernetes") {
        FailureKind::NotGranted
    } else if let Some(status) = head.strip_prefix("ApiError: ").and_then(api_status) {
        status
    } else if ["ServiceError: ", "HyperError: "]
        .iter()
        .any(|p| head.starts_with(p))
    {
        FailureKind::Unreachable(network_reason(head, &causes))
    } else {
        FailureKind::Other(one_line(error))
    };
    match kind {
        FailureKind::Status { code: 404, .. } => Lookup::NotFound,
        // The detail is the host's text, without the waPC guest library's own wrapper.
        kind => Lookup::Failed(ReadFailure::new(
            kind,
            text.trim_start().strip_prefix(PREFIXES[0]).unwrap_or(text),
        )),
    }
}

/// The anyhow Debug form split: the error's own text and its sources, outermost first.
fn chain(error: &str) -> (&str, Vec<&str>) {
    let Some((head, rest)) = error.split_once("\n\nCaused by:\n") else {
        return (error.trim_end(), Vec::new());
    };
    let causes = rest
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(|line| {
            let line = line.trim();
            // Several sources are numbered `0: `, `1: `...
            match line.split_once(": ") {
                Some((n, cause)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => cause,
                _ => line,
            }
        })
        .collect();
    (head, causes)
}

/// The network error in a few words, from the innermost source that says it.
fn network_reason(head: &str, causes: &[&str]) -> String {
    let all = std::iter::once(head)
        .chain(causes.iter().copied())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>();
    let says = |words: &[&str]| all.iter().any(|t| words.iter().any(|w| t.contains(w)));
    let root = causes.last().copied().unwrap_or(head);
    if says(&["connection refused"]) {
        "connection refused".to_string()
    } else if says(&["connection reset"]) {
        "connection reset".to_string()
    } else if says(&["dns error", "failed to lookup address"]) {
        "DNS lookup failed".to_string()
    } else if says(&["certificate", "tls", "handshake"]) {
        format!("TLS error: {}", one_line(root))
    } else if says(&["timed out", "deadline has elapsed", "timeout"]) {
        "timed out".to_string()
    } else if says(&["connection closed"]) {
        "connection closed".to_string()
    } else {
        one_line(root)
    }
}

/// The status of an `ApiError: ` text: its code, reason and message, read from the Debug
/// form of kube-rs's Status (`ErrorResponse { .. }` or `Status { .. }`).
fn api_status(text: &str) -> Option<FailureKind> {
    let start = ["(ErrorResponse {", "(Status {"]
        .iter()
        .filter_map(|open| text.find(open))
        .min()?;
    let fields = DebugFields::read(&text[start + 1..]);
    let code = fields.code?;
    // kube-rs names an answer that is not a Kubernetes Status by this reason.
    let reason = fields
        .reason
        .filter(|r| r != "Failed to parse error data")
        .unwrap_or_default();
    Some(FailureKind::Status {
        code,
        reason,
        message: fields.message.unwrap_or_default(),
    })
}

/// The `code`, `reason` and `message` fields of a struct's Debug form, at its top level (not
/// those of nested structs such as the Status details' causes).
#[derive(Debug, Default)]
struct DebugFields {
    code: Option<u16>,
    reason: Option<String>,
    message: Option<String>,
}

impl DebugFields {
    fn read(debug: &str) -> DebugFields {
        let mut fields = DebugFields::default();
        let mut depth = 0usize;
        let mut previous = ' ';
        let mut rest = debug;
        while let Some(c) = rest.chars().next() {
            // A field name follows `{ ` or `, ` (not `error_code: `).
            if depth == 1 && previous == ' ' {
                if let Some(after) = rest.strip_prefix("code: ") {
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    fields.code = fields.code.or(after[..digits].parse().ok());
                    rest = &after[digits..];
                    continue;
                }
                if let Some(after) = rest.strip_prefix("reason: \"") {
                    let (value, after) = debug_string(after);
                    fields.reason.get_or_insert(value);
                    rest = after;
                    continue;
                }
                if let Some(after) = rest.strip_prefix("message: \"") {
                    let (value, after) = debug_string(after);
                    fields.message.get_or_insert(value);
                    rest = after;
                    continue;
                }
            }
            previous = c;
            match c {
                '"' => {
                    rest = debug_string(&rest[1..]).1;
                    continue;
                }
                '{' | '[' | '(' => depth += 1,
                '}' | ']' | ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
        }
        fields
    }
}

/// A Debug-quoted string whose opening quote was read: its value and the text after its
/// closing quote.
fn debug_string(text: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &text[i + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '0')) => value.push('\0'),
                Some((j, 'u')) => {
                    // \u{hex}
                    let tail = &text[j + 1..];
                    let hex = tail
                        .strip_prefix('{')
                        .and_then(|t| t.split_once('}'))
                        .map(|(hex, _)| hex);
                    if let Some(c) = hex
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                    {
                        value.push(c);
                    }
                    let skip = hex.map_or(0, |h| h.len() + 2);
                    for _ in 0..skip {
                        chars.next();
                    }
                }
                Some((_, other)) => value.push(other),
                None => break,
            },
            c => value.push(c),
        }
    }
    (value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(text: &str) -> FailureKind {
        match get_resource_failure(text) {
            Lookup::Failed(failure) => {
                let host_text = text.strip_prefix("Host error: ").unwrap_or(text);
                assert_eq!(failure.detail, host_text, "the host's whole text is kept");
                failure.kind
            }
            other => panic!("{text:?}: expected a failure, got {other:?}"),
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> FailureKind {
        FailureKind::Status {
            code,
            reason: reason.to_string(),
            message: message.to_string(),
        }
    }

    #[test]
    fn cannot_find_is_not_found() {
        let text = r#"Host error: Cannot find v1/ServiceAccount named 'api' inside of namespace 'Some("payments")'"#;
        assert_eq!(get_resource_failure(text), Lookup::NotFound);
        // A text wrapped twice (a host passing on Kubewarden's own) reads the same.
        assert_eq!(
            get_resource_failure(&format!("Host error: {text}")),
            Lookup::NotFound
        );
        // The kind itself unknown to the API server is another matter.
        assert_eq!(
            failure("Host error: Callback evaluation failure: Cannot find resource v1/Foo"),
            FailureKind::Other("Cannot find resource v1/Foo".to_string())
        );
    }

    #[test]
    fn older_kube_rs_error_response() {
        let text = "Host error: Callback evaluation failure: ApiError: the server is currently unable to handle the request: ServiceUnavailable (ErrorResponse { status: \"Failure\", message: \"the server is currently unable to handle the request\", reason: \"ServiceUnavailable\", code: 503 })\n\nCaused by:\n    the server is currently unable to handle the request: ServiceUnavailable";
        assert_eq!(
            failure(text),
            status(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request"
            )
        );
    }

    #[test]
    fn newer_kube_rs_status_with_nested_causes() {
        let text = "Host error: Callback evaluation failure: ApiError: Internal error occurred: \"quoted\" (x): InternalError (Status { status: Some(Failure), code: 500, message: \"Internal error occurred: \\\"quoted\\\" (x)\", metadata: Some(ListMeta { continue_: None, remaining_item_count: None, resource_version: None, self_link: None }), reason: \"InternalError\", details: Some(StatusDetails { name: \"\", group: \"\", kind: \"\", uid: \"\", causes: [StatusCause { reason: \"UnexpectedServerResponse\", message: \"code: 7\", field: \"\" }], retry_after_seconds: 0 }) })\n\nCaused by:\n    Internal error occurred: \"quoted\" (x): InternalError";
        assert_eq!(
            failure(text),
            status(
                500,
                "InternalError",
                "Internal error occurred: \"quoted\" (x)"
            )
        );
    }

    #[test]
    fn a_404_status_is_not_found() {
        let text = "ApiError: serviceaccounts \"api\" not found: NotFound (Status { status: Some(Failure), code: 404, message: \"serviceaccounts \\\"api\\\" not found\", metadata: None, reason: \"NotFound\", details: None })";
        assert_eq!(get_resource_failure(text), Lookup::NotFound);
    }

    #[test]
    fn an_answer_that_is_no_status_keeps_its_code() {
        let text = "Host error: Callback evaluation failure: ApiError: upstream connect error: Failed to parse error data (Status { status: Some(Failure), code: 502, message: \"upstream connect error\", metadata: None, reason: \"Failed to parse error data\", details: None })";
        assert_eq!(failure(text), status(502, "", "upstream connect error"));
    }

    #[test]
    fn network_errors_in_a_few_words() {
        let chain = |top: &str, sources: &[&str]| {
            let numbered: Vec<String> = sources
                .iter()
                .enumerate()
                .map(|(i, s)| format!("    {i}: {s}"))
                .collect();
            format!(
                "Host error: Callback evaluation failure: ServiceError: {top}\n\nCaused by:\n{}",
                numbered.join("\n")
            )
        };
        let connect = "client error (Connect)";
        let send = "client error (SendRequest)";
        for (text, expected) in [
            (
                chain(
                    connect,
                    &[
                        connect,
                        "tcp connect error",
                        "Connection refused (os error 111)",
                    ],
                ),
                "connection refused",
            ),
            (
                chain(
                    send,
                    &[
                        send,
                        "connection error",
                        "Connection reset by peer (os error 104)",
                    ],
                ),
                "connection reset",
            ),
            (
                chain(
                    connect,
                    &[
                        connect,
                        "dns error",
                        "failed to lookup address information: Name or service not known",
                    ],
                ),
                "DNS lookup failed",
            ),
            (
                chain(
                    connect,
                    &[connect, "invalid peer certificate: UnknownIssuer"],
                ),
                "TLS error: invalid peer certificate: UnknownIssuer",
            ),
            (
                chain(connect, &[connect, "deadline has elapsed"]),
                "timed out",
            ),
            (
                chain(send, &[send, "connection closed before message completed"]),
                "connection closed",
            ),
            (chain(send, &[send, "something new"]), "something new"),
        ] {
            assert_eq!(
                failure(&text),
                FailureKind::Unreachable(expected.into()),
                "{text}"
            );
        }
    }

    #[test]
    fn not_granted_and_unknown_texts() {
        assert_eq!(
            failure(
                "Host error: Policy has not been granted access to Kubernetes v1/ServiceAccount resources. The violation has been reported."
            ),
            FailureKind::NotGranted
        );
        assert_eq!(
            failure(
                "Host error: Error obtaining response over callback channel\n\nCaused by:\n    x"
            ),
            FailureKind::Other("Error obtaining response over callback channel".to_string())
        );
        assert_eq!(failure(""), FailureKind::Other(String::new()));
        // An ApiError without a readable status is quoted, not guessed.
        assert_eq!(
            failure("ApiError: odd"),
            FailureKind::Other("ApiError: odd".to_string())
        );
    }

    #[test]
    fn debug_strings_unescape() {
        assert_eq!(
            debug_string(r#"a\"b\\c\n\u{e9}d" rest"#),
            ("a\"b\\c\n\u{e9}d".to_string(), " rest")
        );
        assert_eq!(
            debug_string("unterminated"),
            ("unterminated".to_string(), "")
        );
    }
}
