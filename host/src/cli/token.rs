//! `awi token explain`: why STS would accept or refuse a ServiceAccount token for a role.
//!
//! The token is checked as STS checks it (`awi::identity::token`), then the trust policy is
//! decided by the policy module's trust engine with the token's `iss`, `aud` and `sub` as the
//! subject, exactly as `awi trust check` decides it. Only `sub` and `aud` are condition keys
//! of the decision: other claims (`kubernetes.io`, `amr`, custom ones) are shown, not decided.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use awi::identity::token::{MAX_TOKEN_CHARS, rfc3339, verify};
use awi::identity::{Accepted, Expectations, Refusal, StsVerdict, Token};
use serde_json::{Map, Value, json};

use super::arn::parse_role_arn;
use super::error::{EXIT_NO, Failure, Outcome};
use super::host::Session;
use super::model::{Subject, Verdict};
use super::oidc::{issuer_flag, read_json, read_jwks};
use super::trust::{Format, Printed, read_policy, role_arn_flag};

/// What `awi token explain` reads.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The token (a file, e.g. the Pod's projected token file).
    #[arg(long, value_name = "FILE")]
    pub token: PathBuf,
    /// The role's trust policy JSON (or `aws iam get-role` output).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The issuer's JWKS.
    #[arg(long, value_name = "FILE")]
    pub jwks: PathBuf,
    /// The IAM OIDC provider's URL (the issuer STS expects as iss).
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    /// The provider's client IDs (repeatable).
    #[arg(long = "audience", value_name = "AUD", default_value = super::DEFAULT_AUDIENCE)]
    pub audiences: Vec<String>,
    /// The issuer's discovery document, checked too when given.
    #[arg(long, value_name = "FILE")]
    pub discovery: Option<PathBuf>,
    /// The time of the call, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// `json` prints one object {"verdict", "reason", "fix", "claims"}.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: Format,
}

/// The answer: verdict, the first failing reason, the fix, and the token's claims.
struct Explanation {
    verdict: StsVerdict,
    reason: String,
    fix: Option<String>,
    claims: Option<Map<String, Value>>,
    checked: Vec<String>,
}

pub fn explain(module: &mut Session, args: &ExplainArgs) -> Outcome<Printed> {
    let issuer = issuer_flag(&args.issuer)?;
    role_arn_flag(&args.role_arn)?;
    let role = parse_role_arn(&args.role_arn).map_err(Failure::input)?;
    if args.audiences.iter().any(|a| a.trim().is_empty()) {
        return Err(Failure::input("--audience: must not be empty"));
    }
    let now = match args.now.as_deref() {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| {
                Failure::input(format!(
                    "--now {text:?}: not an RFC 3339 date-time (e.g. 2026-01-01T12:00:00Z): {e}"
                ))
            })?
            .timestamp(),
        None => chrono::Utc::now().timestamp(),
    };
    let text = read_token(&args.token)?;
    let jwks = read_jwks(&args.jwks, "--jwks")?;
    let policy = read_policy(&args.policy, "--policy")?;
    let discovery = args
        .discovery
        .as_deref()
        .map(|file| read_json(file, "--discovery"))
        .transpose()?;
    let provider_arn = role.oidc_provider_arn(issuer.as_str());

    let decoded = text.and_then(|t| Token::decode(&t).map_err(|e| e.to_string()));
    let explanation = match decoded {
        Err(reason) => refused(
            Refusal {
                verdict: StsVerdict::InvalidIdentityToken,
                reason: format!("token: {reason}"),
                fix: "pass the token file itself: three base64url parts separated by dots, as the API server issues it (the Pod's projected token file, or `kubectl create token`)".to_string(),
            },
            None,
        ),
        Ok(token) => {
            let expect = Expectations {
                issuer: &issuer,
                audiences: &args.audiences,
                provider_arn: &provider_arn,
                discovery: discovery.as_ref(),
                now,
            };
            let outcome = verify(&token, &jwks, &expect)
                .map_err(|e| Failure::input(format!("--token {}: {e}", args.token.display())))?;
            match outcome {
                Err(refusal) => refused(refusal, Some(token.claims)),
                Ok(accepted) => {
                    let subject = Subject {
                        issuer: issuer.to_string(),
                        audience: accepted.audience.clone(),
                        namespace: accepted.namespace.clone(),
                        service_account: accepted.service_account.clone(),
                    };
                    let role = Role {
                        policy: &policy,
                        arn: &args.role_arn,
                        provider_arn: &provider_arn,
                    };
                    decided(module, &role, &subject, &accepted, token.claims)?
                }
            }
        }
    };
    let stdout = match args.output {
        Format::Json => format!(
            "{}\n",
            json!({
                "verdict": explanation.verdict.as_str(),
                "reason": explanation.reason,
                "fix": explanation.fix,
                "claims": explanation.claims,
            })
        ),
        Format::Text => text_of(&explanation, now),
    };
    Ok(Printed {
        stdout,
        code: if explanation.verdict == StsVerdict::Allowed {
            0
        } else {
            EXIT_NO
        },
    })
}

/// The token file's text: unreadable is bad input (exit 2); a file too long or not UTF-8 is
/// a token STS would refuse, so it is a reason (`Err`), read only as far as needed.
fn read_token(path: &Path) -> Outcome<Result<String, String>> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::input(format!("--token {}: cannot read: {e}", path.display())))?;
    // Whitespace around the token is allowed; more than a few KiB of it is not a token.
    let limit = MAX_TOKEN_CHARS + 4096;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("--token {}: cannot read: {e}", path.display())))?;
    if bytes.len() > limit {
        return Ok(Err(format!(
            "the token file is larger than {limit} bytes; STS takes tokens of at most {MAX_TOKEN_CHARS} characters"
        )));
    }
    Ok(String::from_utf8(bytes).map_err(|_| "the token is not UTF-8 text".to_string()))
}

fn refused(refusal: Refusal, claims: Option<Map<String, Value>>) -> Explanation {
    Explanation {
        verdict: refusal.verdict,
        reason: refusal.reason,
        fix: Some(refusal.fix),
        claims,
        checked: Vec::new(),
    }
}

/// The trust engine's decision in STS's terms, with the fix for a refusal.
/// The role the token is for: its trust policy, its ARN, and the IAM OIDC provider of the
/// issuer in the role's account.
struct Role<'a> {
    policy: &'a str,
    arn: &'a str,
    provider_arn: &'a str,
}

fn decided(
    module: &mut Session,
    role: &Role,
    subject: &Subject,
    accepted: &Accepted,
    claims: Map<String, Value>,
) -> Outcome<Explanation> {
    let verdict = module.trust()?.check(role.policy, role.arn, subject)?;
    let checked = vec![
        format!("iss {} (the IAM OIDC provider)", subject.issuer),
        format!("aud {} (a client ID of the provider)", subject.audience),
        format!("signature {}", accepted.signed_with),
        "exp, nbf, iat".to_string(),
        format!(
            "sub system:serviceaccount:{}:{}",
            subject.namespace, subject.service_account
        ),
    ];
    let why = verdict.explanation.join("; ");
    if verdict.allowed {
        return Ok(Explanation {
            verdict: StsVerdict::Allowed,
            reason: why,
            fix: None,
            claims: Some(claims),
            checked,
        });
    }
    let admitted =
        module
            .trust()?
            .who(role.policy, role.arn, &subject.issuer, &subject.audience)?;
    Ok(Explanation {
        verdict: StsVerdict::AccessDenied,
        reason: format!(
            "trust policy: Not authorized to perform sts:AssumeRoleWithWebIdentity: {why}"
        ),
        fix: Some(access_fix(&verdict, role, subject, &admitted)),
        claims: Some(claims),
        checked,
    })
}

/// The trust-policy line or the annotation to change, from what decided.
fn access_fix(verdict: &Verdict, role: &Role, subject: &Subject, admitted: &[String]) -> String {
    let (role_arn, provider_arn) = (role.arn, role.provider_arn);
    let sub = format!(
        "system:serviceaccount:{}:{}",
        subject.namespace, subject.service_account
    );
    let decided = verdict
        .explanation
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let others = if admitted.is_empty() {
        String::new()
    } else {
        format!(
            "; or run the Pod as a ServiceAccount the policy admits ({}) annotated eks.amazonaws.com/role-arn: {role_arn}",
            admitted.join(", ")
        )
    };
    if !verdict.valid_document {
        return "fix the trust policy's errors first (awi trust check lists them): IAM would not store this document".to_string();
    }
    if decided.contains(":sub ") {
        return format!(
            "in the trust policy, let the condition on {}:sub allow {sub}{others}",
            subject.issuer.trim_start_matches("https://")
        );
    }
    if decided.contains(":aud ") {
        return format!(
            "in the trust policy, let the condition on {}:aud allow {aud}, or give the ServiceAccount the audience the policy expects (annotation eks.amazonaws.com/audience)",
            subject.issuer.trim_start_matches("https://"),
            aud = subject.audience
        );
    }
    if decided.contains("does not apply") {
        return format!("in the trust policy, set Principal.Federated to {provider_arn}");
    }
    format!(
        "change the trust policy so that an Allow statement admits {sub} and no Deny does{others}"
    )
}

fn text_of(e: &Explanation, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verdict: {}", e.verdict.as_str());
    let _ = writeln!(out, "reason:  {}", e.reason);
    if let Some(fix) = &e.fix {
        let _ = writeln!(out, "fix:     {fix}");
    }
    if !e.checked.is_empty() {
        out.push_str("checked:\n");
        for line in &e.checked {
            let _ = writeln!(out, "  {line}");
        }
    }
    if let Some(claims) = &e.claims {
        let _ = writeln!(out, "claims (at {}):", rfc3339(now));
        let width = claims.keys().map(String::len).max().unwrap_or(0);
        for (name, value) in claims {
            let shown = match (name.as_str(), value.as_i64()) {
                ("exp" | "nbf" | "iat", Some(seconds)) => {
                    format!("{seconds} ({})", rfc3339(seconds))
                }
                _ => value.to_string(),
            };
            let _ = writeln!(out, "  {name:<width$}  {shown}");
        }
        let undecided: Vec<&str> = claims
            .keys()
            .map(String::as_str)
            .filter(|k| !["iss", "sub", "aud", "exp", "nbf", "iat"].contains(k))
            .collect();
        if !undecided.is_empty() {
            let _ = writeln!(
                out,
                "note: not part of the decision: {} (STS gives a trust policy only the :sub and :aud of this provider)",
                undecided.join(", ")
            );
        }
    }
    out
}
