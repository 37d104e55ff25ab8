//! The trust-policy engine on arbitrary text: parse, then decide, lint, admitted and who.
//!
//! Input: the policy text, then optionally `0xFF`-separated namespace, ServiceAccount,
//! audience and role ARN (0xFF never occurs in UTF-8, so the policy text is unrestricted).
#![no_main]

use aws_workload_identity::trust::{self, RoleArn, Subject, TrustPolicy};
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://oidc.example.com/abc123";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xFF).map(String::from_utf8_lossy);
    let policy = parts.next().unwrap_or_default();
    let namespace = parts.next().unwrap_or("payments".into());
    let service_account = parts.next().unwrap_or("api".into());
    let audience = parts.next().unwrap_or("sts.amazonaws.com".into());
    let role_text = parts.next().unwrap_or(ROLE.into());
    let role = RoleArn::parse(&role_text)
        .unwrap_or_else(|_| RoleArn::parse(ROLE).expect("the default role ARN parses"));
    let subject = Subject {
        issuer: ISSUER.to_string(),
        audience: audience.to_string(),
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
    };

    let _ = trust::check(&policy, &role_text, &subject);
    let _ = trust::lint(&policy, Some(&role_text), ISSUER);
    let _ = trust::who(&policy, role.as_str(), ISSUER, &audience);
    let _ = trust::render(&policy, &namespace, &service_account);
    let Ok((parsed, _)) = TrustPolicy::parse(&policy) else {
        return;
    };
    let verdict = parsed.decide(&role, &subject);
    // Fail closed: a document IAM would refuse never allows anything.
    assert!(
        parsed.is_valid() || !verdict.allowed,
        "an invalid document allowed {subject:?}"
    );
    let _ = parsed.lint(Some(&role), ISSUER);
    let _ = parsed.lint(None, "http://not-https.example.com");
    if let Ok(admitted) = parsed.admitted(&role, ISSUER, &audience) {
        let _ = admitted.lines();
        let _ = admitted.admits(&namespace, &service_account);
    }
});
