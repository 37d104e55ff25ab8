//! Small readers for raw JSON: the policy edits objects as `serde_json::Value` so that no
//! field it does not own is ever dropped, and these keep that code short.

use serde_json::Value;

/// "an object", "a string", ... for messages that say what was found instead.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The string at `path` (object keys), if every step exists and the leaf is a string.
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, k| v.get(k))
        .and_then(Value::as_str)
}

/// Longest part of a value quoted in a message; hostile values can be megabytes long.
pub const QUOTE_MAX_CHARS: usize = 80;

/// `value` Debug-quoted for a message (control characters escaped), cut after
/// [`QUOTE_MAX_CHARS`] characters with `...` after the closing quote.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTE_MAX_CHARS) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut() {
        assert_eq!(quoted("abc"), "\"abc\"");
        let long = quoted(&"é".repeat(200));
        assert!(long.ends_with("\"..."), "{long}");
        assert_eq!(long.chars().filter(|&c| c == 'é').count(), 80);
    }
}
