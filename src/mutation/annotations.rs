//! The value grammars of the annotations the reference webhook reads, reproduced exactly:
//! Go's `strconv.ParseBool`, `strconv.ParseInt(s, 10, 64)` and one record of
//! `encoding/csv` with its default options (as the webhook reads its annotations).
//!
//! Invalid values are not errors of the Pod: the caller falls back like the reference does
//! and turns the reason into an admission warning.

use awi_trust::k8s::MIN_TOKEN_EXPIRATION;

/// Go's `strconv.ParseBool`: exactly these twelve spellings, nothing trimmed.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Why a token-expiration value was not taken as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// A valid value at or above the floor.
    Valid(i64),
    /// A valid integer below the floor, raised to it.
    Clamped(i64),
    /// Not a base-10 64-bit integer: the caller keeps its fallback.
    Invalid,
}

/// Go's `strconv.ParseInt(value, 10, 64)` followed by the reference's 600 s floor. There is
/// deliberately no ceiling: the reference has none.
pub fn parse_expiration(value: &str) -> Expiration {
    match parse_go_int64(value) {
        Some(n) if n < MIN_TOKEN_EXPIRATION => Expiration::Clamped(MIN_TOKEN_EXPIRATION),
        Some(n) => Expiration::Valid(n),
        None => Expiration::Invalid,
    }
}

/// Base-10 int64 as Go parses it: an optional `+` or `-`, then one or more ASCII digits, no
/// spaces, no underscores, in range.
pub fn parse_go_int64(value: &str) -> Option<i64> {
    let digits = value
        .strip_prefix('+')
        .or_else(|| value.strip_prefix('-'))
        .unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Rust's i64 parser accepts the same sign forms, and refuses out-of-range values.
    value.parse::<i64>().ok()
}

/// Why a skip-containers value is not a CSV record (the texts of Go's `encoding/csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvError {
    /// Nothing but empty lines.
    Empty,
    /// A `"` inside a field that did not start with one.
    BareQuote,
    /// A quoted field not closed, or followed by something else than `,` or a line end.
    Quote,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CsvError::Empty => "empty value",
            CsvError::BareQuote => "bare \" in non-quoted field",
            CsvError::Quote => "extraneous or missing \" in quoted-field",
        })
    }
}

/// The first record of `value` read as CSV the way Go's `csv.Reader.Read` does with its
/// defaults: `,` separator, quotes honoured (`""` is a literal quote, a quoted field may span
/// lines), whitespace kept, empty lines skipped, `\r\n` read as `\n`.
pub fn parse_csv_record(value: &str) -> Result<Vec<String>, CsvError> {
    let mut lines = Lines { rest: value };
    // Skip empty lines, as Go does before a record.
    let (mut line, at_eof) = loop {
        let (line, at_eof) = lines.next_line();
        if !at_eof && (line.is_empty() || line == "\n") {
            continue;
        }
        break (line, at_eof);
    };
    if at_eof {
        return Err(CsvError::Empty);
    }
    let mut fields = Vec::new();
    // What is left of the current line is `line[at..]`: fields are sliced off it, never
    // copied out of it, so a record of many fields is read in one pass.
    let mut at = 0;
    'fields: loop {
        let rest = &line[at..];
        if !rest.starts_with('"') {
            let (field, next) = match rest.find(',') {
                Some(i) => (&rest[..i], Some(at + i + 1)),
                None => (rest.strip_suffix('\n').unwrap_or(rest), None),
            };
            if field.contains('"') {
                return Err(CsvError::BareQuote);
            }
            fields.push(field.to_string());
            match next {
                Some(next) => {
                    at = next;
                    continue 'fields;
                }
                None => break 'fields,
            }
        }
        // A quoted field.
        let mut field = String::new();
        at += 1;
        loop {
            let rest = &line[at..];
            if let Some(i) = rest.find('"') {
                field.push_str(&rest[..i]);
                let after = &rest[i + 1..];
                if after.starts_with('"') {
                    field.push('"');
                    at += i + 2;
                } else if after.starts_with(',') {
                    fields.push(field);
                    at += i + 2;
                    continue 'fields;
                } else if after.is_empty() || after == "\n" {
                    fields.push(field);
                    break 'fields;
                } else {
                    return Err(CsvError::Quote);
                }
            } else if !rest.is_empty() {
                // The quoted field goes on on the next line.
                field.push_str(rest);
                (line, _) = lines.next_line();
                at = 0;
                if line.is_empty() {
                    return Err(CsvError::Quote);
                }
            } else {
                return Err(CsvError::Quote);
            }
        }
    }
    Ok(fields)
}

/// Go's `csv.Reader.readLine`: one line with its `\n` (none on the last line), `\r\n`
/// normalised to `\n`, and a `\r` right before the end of input dropped.
struct Lines<'a> {
    rest: &'a str,
}

impl Lines<'_> {
    /// The next line, and whether the input was already exhausted (nothing read).
    fn next_line(&mut self) -> (String, bool) {
        if self.rest.is_empty() {
            return (String::new(), true);
        }
        let (mut line, rest) = match self.rest.find('\n') {
            Some(i) => (self.rest[..=i].to_string(), &self.rest[i + 1..]),
            None => {
                let mut last = self.rest.to_string();
                if last.ends_with('\r') {
                    last.pop();
                }
                (last, "")
            }
        };
        self.rest = rest;
        if line.ends_with("\r\n") {
            line.truncate(line.len() - 2);
            line.push('\n');
        }
        (line, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", " true", "2", "on"] {
            assert_eq!(parse_go_bool(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn go_int64() {
        assert_eq!(parse_go_int64("3600"), Some(3600));
        assert_eq!(parse_go_int64("+3600"), Some(3600));
        assert_eq!(parse_go_int64("-5"), Some(-5));
        assert_eq!(parse_go_int64("9223372036854775807"), Some(i64::MAX));
        for bad in [
            "",
            "+",
            "-",
            "abc",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "1e3",
            "9223372036854775808",
            "99999999999999999999",
            "+-1",
        ] {
            assert_eq!(parse_go_int64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn expiration_floor_without_ceiling() {
        assert_eq!(parse_expiration("0"), Expiration::Clamped(600));
        assert_eq!(parse_expiration("-5"), Expiration::Clamped(600));
        assert_eq!(parse_expiration("600"), Expiration::Valid(600));
        assert_eq!(
            parse_expiration("999999999"),
            Expiration::Valid(999_999_999)
        );
        assert_eq!(parse_expiration("abc"), Expiration::Invalid);
    }

    fn csv(s: &str) -> Result<Vec<String>, CsvError> {
        parse_csv_record(s)
    }

    #[test]
    fn csv_plain_fields_keep_whitespace() {
        assert_eq!(csv("sidecar").unwrap(), ["sidecar"]);
        assert_eq!(csv("a, b").unwrap(), ["a", " b"]);
        assert_eq!(csv("a,,b,").unwrap(), ["a", "", "b", ""]);
        assert_eq!(csv(" ").unwrap(), [" "]);
    }

    #[test]
    fn csv_reads_only_the_first_record() {
        assert_eq!(csv("a,b\nc").unwrap(), ["a", "b"]);
        assert_eq!(csv("\n\na\nb").unwrap(), ["a"]);
        assert_eq!(csv("a\r\nb").unwrap(), ["a"]);
        assert_eq!(csv("a\r").unwrap(), ["a"]);
        assert_eq!(csv("\r"), Err(CsvError::Empty));
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(csv(r#""a,b",c"#).unwrap(), ["a,b", "c"]);
        assert_eq!(csv(r#""say ""hi""""#).unwrap(), [r#"say "hi""#]);
        assert_eq!(csv("\"multi\nline\",x").unwrap(), ["multi\nline", "x"]);
        assert_eq!(csv("\"\"").unwrap(), [""]);
        assert_eq!(csv("\"a\"\nnext").unwrap(), ["a"]);
    }

    #[test]
    fn csv_errors() {
        assert_eq!(csv(""), Err(CsvError::Empty));
        assert_eq!(csv("\n\n"), Err(CsvError::Empty));
        assert_eq!(csv("a\"b"), Err(CsvError::BareQuote));
        assert_eq!(csv("a,b\""), Err(CsvError::BareQuote));
        assert_eq!(csv("\"open"), Err(CsvError::Quote));
        assert_eq!(csv("\"open\n"), Err(CsvError::Quote));
        assert_eq!(csv("\"a\"b"), Err(CsvError::Quote));
        assert_eq!(csv(" \"a\""), Err(CsvError::BareQuote));
    }
}
