//! `awi trust check|lint|who|render`: the trust-policy engine of the module, on files.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::arn::parse_role_arn;
use super::error::{EXIT_NO, Failure, Outcome};
use super::host::Session;
use super::input::{parse_json, read_text};
use super::model::{Finding, Subject, Verdict};

/// `--output` of the trust commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// What a command prints on stdout and the exit code it ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub stdout: String,
    pub code: u8,
}

impl Printed {
    pub fn ok(stdout: String) -> Printed {
        Printed { stdout, code: 0 }
    }
}

/// Reads a trust policy: the document itself, or `aws iam get-role` output (the document is
/// then taken from `Role.AssumeRolePolicyDocument`). Not JSON is bad input; a JSON value IAM
/// would refuse is left to the engine, which fails closed with a finding.
pub fn read_policy(path: &Path, flag: &str) -> Outcome<String> {
    let text = read_text(path, flag)?;
    let origin = format!("{flag} {}", path.display());
    let value = parse_json(&text, &origin)?;
    let wrapped = value
        .pointer("/Role/AssumeRolePolicyDocument")
        .or_else(|| value.get("AssumeRolePolicyDocument"));
    Ok(match wrapped {
        Some(Value::String(document)) => document.clone(),
        Some(document) => document.to_string(),
        None => text,
    })
}

/// Checks `--role-arn` before the module sees it.
pub fn role_arn_flag(arn: &str) -> Outcome<()> {
    parse_role_arn(arn)
        .map(|_| ())
        .map_err(|e| Failure::input(format!("--role-arn: {e}")))
}

/// Checks that a name flag is not empty (clap accepts `--namespace ""`).
pub fn non_empty(flag: &str, value: &str) -> Outcome<()> {
    if value.trim().is_empty() {
        return Err(Failure::input(format!("{flag}: must not be empty")));
    }
    Ok(())
}

/// Reads `--context KEY=VALUE` flags into pairs; which keys may be given is the module's
/// to say.
pub fn context_flags(flags: &[String]) -> Outcome<Vec<(String, String)>> {
    flags
        .iter()
        .map(|f| {
            awi_trust::RequestContext::parse_pair(f)
                .map_err(|e| Failure::input(format!("--context: {e}")))
        })
        .collect()
}

pub fn check(
    module: &mut Session,
    policy: &str,
    role_arn: &str,
    subject: &Subject,
    context: &[(String, String)],
    format: Format,
) -> Outcome<Printed> {
    let verdict = module
        .trust()?
        .check_in_context(policy, role_arn, subject, context)?;
    let stdout = match format {
        Format::Json => format!("{}\n", verdict_json(&verdict)),
        Format::Text => verdict_text(&verdict, role_arn, subject),
    };
    Ok(Printed {
        stdout,
        code: if verdict.allowed { 0 } else { EXIT_NO },
    })
}

/// The `--output json` object of `trust check`, with exactly the documented keys.
pub fn verdict_json(verdict: &Verdict) -> Value {
    json!({
        "allowed": verdict.allowed,
        "validDocument": verdict.valid_document,
        "findings": verdict.findings,
        "explanation": verdict.explanation,
    })
}

pub fn verdict_text(verdict: &Verdict, role_arn: &str, subject: &Subject) -> String {
    let who = format!(
        "system:serviceaccount:{}:{} (issuer {}, audience {})",
        subject.namespace, subject.service_account, subject.issuer, subject.audience
    );
    let mut out = String::new();
    if verdict.allowed {
        let _ = writeln!(out, "ALLOWED: {who} may assume {role_arn}");
    } else if !verdict.valid_document {
        let _ = writeln!(
            out,
            "NOT ALLOWED: the trust policy of {role_arn} is not a valid IAM document, so nobody may assume the role"
        );
    } else {
        let _ = writeln!(out, "NOT ALLOWED: {who} may not assume {role_arn}");
    }
    if !verdict.explanation.is_empty() {
        out.push_str("why:\n");
        for line in &verdict.explanation {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !verdict.findings.is_empty() {
        out.push_str("findings:\n");
        out.push_str(&findings_text(&verdict.findings, "  "));
    }
    out
}

/// One finding a line: severity, code, statement and message, aligned.
pub fn findings_text(findings: &[Finding], indent: &str) -> String {
    let code_width = findings
        .iter()
        .map(|f| f.code.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for f in findings {
        // The module's messages often name the statement already ("statement 0: ...",
        // "statement 0 depends on ...", "statement 0 (Sid A) ...").
        let statement = f
            .statement
            .filter(|s| !names_statement(&f.message, *s))
            .map(|s| format!("statement {s}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}{:<8} {:<code_width$}  {statement}{}",
            f.severity.as_str(),
            f.code.as_str(),
            f.message
        );
    }
    out
}

/// Whether `message` starts by naming statement `index`.
fn names_statement(message: &str, index: u32) -> bool {
    message
        .strip_prefix(&format!("statement {index}"))
        .is_some_and(|rest| rest.starts_with([':', ' ']))
}

pub fn lint(
    module: &mut Session,
    policy: &str,
    role_arn: Option<&str>,
    issuer: &str,
    format: Format,
) -> Outcome<Printed> {
    let findings = module.trust()?.lint(policy, role_arn, issuer)?;
    let serious = findings
        .iter()
        .filter(|f| f.severity.is_high_or_above())
        .count();
    let stdout = match format {
        Format::Json => format!("{}\n", json!({ "findings": findings })),
        Format::Text if findings.is_empty() => "no findings\n".to_string(),
        Format::Text => format!(
            "{}{} finding(s), {serious} at high or above\n",
            findings_text(&findings, ""),
            findings.len()
        ),
    };
    Ok(Printed {
        stdout,
        code: if serious > 0 { EXIT_NO } else { 0 },
    })
}

pub fn who(
    module: &mut Session,
    policy: &str,
    role_arn: &str,
    issuer: &str,
    audience: &str,
) -> Outcome<Printed> {
    let lines = module.trust()?.who(policy, role_arn, issuer, audience)?;
    let mut stdout = String::new();
    if lines.is_empty() {
        stdout.push_str("nobody: no ServiceAccount of this cluster may assume the role\n");
    }
    for line in lines {
        let _ = writeln!(stdout, "{line}");
    }
    Ok(Printed::ok(stdout))
}

pub fn render(
    module: &mut Session,
    template: &str,
    namespace: &str,
    service_account: &str,
) -> Outcome<Printed> {
    let rendered = module
        .trust()?
        .render(template, namespace, service_account)?;
    Ok(Printed::ok(format!("{}\n", pretty_json(&rendered))))
}

/// `text` pretty-printed when it is JSON, else as is. The text is re-indented token by
/// token rather than parsed into a map, so that the keys keep the order the policy's
/// author chose (a parsed map would print them sorted).
pub fn pretty_json(text: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return text.trim_end().to_string();
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    // Keep empty containers as {} and [].
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::input::TempFile;
    use super::*;
    use awi::Severity;

    fn finding(code: &str, severity: Severity, statement: Option<u32>) -> Finding {
        Finding {
            code: code.parse().unwrap(),
            severity,
            message: format!("{code} message"),
            statement,
        }
    }

    fn subject() -> Subject {
        Subject {
            issuer: "https://oidc.example/abc".into(),
            audience: "sts.amazonaws.com".into(),
            namespace: "payments".into(),
            service_account: "api".into(),
        }
    }

    #[test]
    fn verdict_json_has_exactly_the_documented_keys() {
        let verdict = Verdict {
            allowed: false,
            valid_document: true,
            findings: vec![
                finding("MISSING_AUD_CONDITION", Severity::Medium, Some(0)),
                finding("OLD_VERSION", Severity::Low, None),
            ],
            explanation: vec!["statement 0 ...".into()],
        };
        let v = verdict_json(&verdict);
        let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["allowed", "explanation", "findings", "validDocument"]
        );
        assert_eq!(v["findings"][0]["severity"], "medium");
        assert_eq!(v["findings"][0]["statement"], 0);
        assert!(v["findings"][1]["statement"].is_null());
    }

    #[test]
    fn verdict_text_says_who_and_why() {
        let verdict = Verdict {
            allowed: false,
            valid_document: true,
            findings: vec![finding("SUB_VALUE_MALFORMED", Severity::Medium, Some(1))],
            explanation: vec!["statement 0 condition ... allows only x".into()],
        };
        let text = verdict_text(&verdict, "arn:aws:iam::111122223333:role/r", &subject());
        assert!(text.starts_with("NOT ALLOWED: system:serviceaccount:payments:api"));
        assert!(text.contains("why:\n  statement 0 condition"));
        assert!(
            text.contains("medium   SUB_VALUE_MALFORMED  statement 1: SUB_VALUE_MALFORMED message")
        );
    }

    #[test]
    fn findings_name_their_statement_once() {
        let mut f = finding("CONTEXT_DEPENDENT_CONDITION", Severity::Medium, Some(1));
        f.message = "statement 1 depends on aws:SourceIp, which only STS knows".into();
        let text = findings_text(&[f.clone()], "");
        assert!(text.contains("  statement 1 depends on"), "{text}");
        assert!(!text.contains("statement 1: statement 1"), "{text}");
        f.statement = Some(10);
        assert!(findings_text(&[f], "").contains("statement 10: statement 1 depends"));
    }

    #[test]
    fn severities_rank() {
        assert!(Severity::Error.is_high_or_above());
        assert!(Severity::High.is_high_or_above());
        assert!(!Severity::Medium.is_high_or_above());
    }

    #[test]
    fn policy_is_unwrapped_from_get_role_output() {
        let file = TempFile::new(
            "role.json",
            r#"{"Role": {"RoleName": "r", "AssumeRolePolicyDocument": {"Version": "2012-10-17"}}}"#,
        );
        assert_eq!(
            read_policy(&file.path, "--policy").unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        std::fs::write(&file.path, "Version: x").unwrap();
        let e = read_policy(&file.path, "--policy").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn pretty_json_keeps_key_order() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","A":{},"B":[],"S":"a\\\"{,:"}]}"#;
        assert_eq!(
            pretty_json(text),
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"A\": {},\n      \"B\": [],\n      \"S\": \"a\\\\\\\"{,:\"\n    }\n  ]\n}"
        );
        assert_eq!(pretty_json("not json\n"), "not json");
    }
}
