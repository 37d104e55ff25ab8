//! How a command ends when it does not succeed: one line for the user and an exit code.

use std::fmt;

/// Exit code of a negative answer (rejected, not allowed, findings at high or above).
pub const EXIT_NO: u8 = 1;
/// Exit code of input the command cannot use (missing file, not JSON, malformed flag).
pub const EXIT_BAD_INPUT: u8 = 2;

/// A command that stops early: `message` is printed on stderr as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Input the command cannot use (exit 2).
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_BAD_INPUT,
            message: message.into(),
        }
    }

    /// A check that did not pass (exit 1).
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_NO,
            message: message.into(),
        }
    }

    /// The message on a single line: newlines from nested errors would break the
    /// "one line on stderr" contract that scripts rely on.
    pub fn one_line(&self) -> String {
        one_line(&self.message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// Joins the lines of `text` with "; " and trims the whitespace around each.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Outcome<T> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_flattened_to_one_line() {
        let f = Failure::input("first\n  second\n\nthird  ");
        assert_eq!(f.to_string(), "first; second; third");
        assert_eq!(f.code, EXIT_BAD_INPUT);
        assert_eq!(Failure::refused("x").code, EXIT_NO);
    }
}
