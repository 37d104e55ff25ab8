//! Table cases for the trust-policy engine. Every case names the IAM or STS rule
//! it checks.
//!
//! Conditions are written with `$SUB`, `$AUD` and `$P` for this cluster's
//! `oidc.example.com/abc123:sub`, `...:aud` and the bare prefix.

use aws_workload_identity::trust::{self, Severity, Subject, TrustPolicy};

const ISSUER: &str = "https://oidc.example.com/abc123";
const PREFIX: &str = "oidc.example.com/abc123";
const ROLE: &str = "arn:aws:iam::111122223333:role/payments-api";
const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123";

fn expand(s: &str) -> String {
    s.replace("$SUB", &format!("{PREFIX}:sub"))
        .replace("$AUD", &format!("{PREFIX}:aud"))
        .replace("$PROVIDER", PROVIDER)
        .replace("$P", PREFIX)
}

/// One Allow statement for this cluster's provider with `condition`.
fn with_condition(version: &str, condition: &str) -> String {
    let version = if version.is_empty() {
        String::new()
    } else {
        format!(r#""Version":"{version}","#)
    };
    expand(&format!(
        r#"{{{version}"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"$PROVIDER"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}]}}"#
    ))
}

fn subject(ns: &str, sa: &str, aud: &str) -> Subject {
    Subject {
        issuer: ISSUER.into(),
        audience: aud.into(),
        namespace: ns.into(),
        service_account: sa.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Allow,
    Deny,
    /// Not allowed because a value only STS knows is needed, said in the explanation and a
    /// CONTEXT_DEPENDENT_CONDITION finding.
    Unknown,
}
use Want::*;

fn run_decision(rule: &str, policy: &str, role: &str, s: &Subject, want: Want) {
    let v = trust::check(policy, role, s).unwrap_or_else(|e| panic!("{rule}: {e}"));
    // The findings hold lint's CONTEXT_DEPENDENT_CONDITION too; the explanation says whether
    // the decision itself was left open.
    let indeterminate = v.explanation.iter().any(|l| l.contains("only STS knows"));
    assert_eq!(
        indeterminate,
        v.findings
            .iter()
            .any(|f| f.code == "CONTEXT_DEPENDENT_CONDITION"
                && f.message.contains("the decision is indeterminate")),
        "rule: {rule}: {v:#?}"
    );
    let got = match (v.allowed, indeterminate) {
        (true, _) => Allow,
        (false, true) => Unknown,
        (false, false) => Deny,
    };
    assert_eq!(got, want, "rule: {rule}\npolicy: {policy}\nverdict: {v:#?}");
    assert!(!v.explanation.is_empty(), "rule: {rule}: no explanation");
    if v.allowed {
        assert!(v.valid_document, "{rule}");
    }
}

/// (rule, condition, audience, want) with subject payments/api.
type CondCase = (&'static str, &'static str, &'static str, Want);

const STS: &str = "sts.amazonaws.com";

#[rustfmt::skip]
const CONDITION_CASES: &[CondCase] = &[
    // StringEquals
    ("1.6 StringEquals present, value listed -> true", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Allow),
    ("1.6 StringEquals present, value not listed -> false", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:web"}}"#, STS, Deny),
    ("1.6 several values for one key are OR-ed", r#"{"StringEquals":{"$SUB":["system:serviceaccount:x:y","system:serviceaccount:payments:api"]}}"#, STS, Allow),
    ("1.6 StringEquals absent key -> false", r#"{"StringEquals":{"$P:amr":"x"}}"#, STS, Deny),
    ("1.6 values are case-sensitive", r#"{"StringEquals":{"$SUB":"system:serviceaccount:Payments:api"}}"#, STS, Deny),
    ("1.6 condition key names are case-insensitive", r#"{"StringEquals":{"OIDC.EXAMPLE.COM/ABC123:SUB":"system:serviceaccount:payments:api"}}"#, STS, Allow),
    ("1.6 wildcards in StringEquals are literal", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:*"}}"#, STS, Deny),
    ("1.6 several keys under one operator are AND-ed (one false)", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api","$AUD":"other"}}"#, STS, Deny),
    ("1.6 several keys under one operator are AND-ed (both true)", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api","$AUD":"sts.amazonaws.com"}}"#, STS, Allow),
    ("1.6 several operators are AND-ed", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api"},"StringLike":{"$AUD":"nope*"}}"#, STS, Deny),
    ("2.4 aud is the token audience", r#"{"StringEquals":{"$AUD":"custom-aud"}}"#, "custom-aud", Allow),
    ("2.4 aud of another audience does not match", r#"{"StringEquals":{"$AUD":"sts.amazonaws.com"}}"#, "custom-aud", Deny),
    ("2.4 other claims (azp) are absent", r#"{"StringEquals":{"$P:azp":"x"}}"#, STS, Deny),
    ("2.4 keys of a prefix without the path are absent", r#"{"StringEquals":{"oidc.example.com:sub":"system:serviceaccount:payments:api"}}"#, STS, Deny),
    // StringNotEquals
    ("1.6 StringNotEquals present, value not listed -> true", r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:x:y"}}"#, STS, Allow),
    ("1.6 StringNotEquals present, value listed -> false", r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Deny),
    ("1.6 StringNotEquals several values are NOR-ed (one matches)", r#"{"StringNotEquals":{"$SUB":["system:serviceaccount:x:y","system:serviceaccount:payments:api"]}}"#, STS, Deny),
    ("1.6 StringNotEquals several values are NOR-ed (none matches)", r#"{"StringNotEquals":{"$SUB":["system:serviceaccount:x:y","system:serviceaccount:x:z"]}}"#, STS, Allow),
    ("1.6 StringNotEquals absent key -> true", r#"{"StringNotEquals":{"$P:amr":"x"}}"#, STS, Allow),
    ("1.6 StringNotEquals is case-sensitive", r#"{"StringNotEquals":{"$SUB":"SYSTEM:SERVICEACCOUNT:PAYMENTS:API"}}"#, STS, Allow),
    // StringEqualsIgnoreCase
    ("1.6 StringEqualsIgnoreCase ignores case", r#"{"StringEqualsIgnoreCase":{"$SUB":"SYSTEM:ServiceAccount:PAYMENTS:Api"}}"#, STS, Allow),
    ("1.6 StringEqualsIgnoreCase different value -> false", r#"{"StringEqualsIgnoreCase":{"$SUB":"system:serviceaccount:payments:web"}}"#, STS, Deny),
    ("1.6 StringEqualsIgnoreCase absent key -> false", r#"{"StringEqualsIgnoreCase":{"$P:amr":"x"}}"#, STS, Deny),
    ("1.6 StringEqualsIgnoreCase several values OR", r#"{"StringEqualsIgnoreCase":{"$SUB":["a","SYSTEM:SERVICEACCOUNT:PAYMENTS:API"]}}"#, STS, Allow),
    // StringNotEqualsIgnoreCase
    ("1.6 StringNotEqualsIgnoreCase equal ignoring case -> false", r#"{"StringNotEqualsIgnoreCase":{"$SUB":"SYSTEM:SERVICEACCOUNT:PAYMENTS:API"}}"#, STS, Deny),
    ("1.6 StringNotEqualsIgnoreCase different -> true", r#"{"StringNotEqualsIgnoreCase":{"$SUB":"system:serviceaccount:x:y"}}"#, STS, Allow),
    ("1.6 StringNotEqualsIgnoreCase absent key -> true", r#"{"StringNotEqualsIgnoreCase":{"$P:amr":"x"}}"#, STS, Allow),
    ("1.6 StringNotEqualsIgnoreCase NOR over values", r#"{"StringNotEqualsIgnoreCase":{"$SUB":["x","System:ServiceAccount:Payments:Api"]}}"#, STS, Deny),
    // StringLike
    ("1.6 StringLike * matches any run", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:*"}}"#, STS, Allow),
    ("1.6 StringLike * crosses ':'", r#"{"StringLike":{"$SUB":"system:serviceaccount:pay*"}}"#, STS, Allow),
    ("1.6 StringLike ? matches exactly one char", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:ap?"}}"#, STS, Allow),
    ("1.6 StringLike ? does not match zero chars", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:api?"}}"#, STS, Deny),
    ("1.6 StringLike is case-sensitive", r#"{"StringLike":{"$SUB":"system:serviceaccount:PAYMENTS:*"}}"#, STS, Deny),
    ("1.6 StringLike absent key -> false", r#"{"StringLike":{"$P:amr":"*"}}"#, STS, Deny),
    ("1.6 StringLike several values OR", r#"{"StringLike":{"$SUB":["system:serviceaccount:x:*","system:serviceaccount:payments:a*"]}}"#, STS, Allow),
    ("1.6 StringLike * matches the empty run", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:api*"}}"#, STS, Allow),
    // StringNotLike
    ("1.6 StringNotLike matching -> false", r#"{"StringNotLike":{"$SUB":"system:serviceaccount:payments:*"}}"#, STS, Deny),
    ("1.6 StringNotLike not matching -> true", r#"{"StringNotLike":{"$SUB":"system:serviceaccount:kube-system:*"}}"#, STS, Allow),
    ("1.6 StringNotLike absent key -> true", r#"{"StringNotLike":{"$P:amr":"*"}}"#, STS, Allow),
    ("1.6 StringNotLike NOR over values", r#"{"StringNotLike":{"$SUB":["system:serviceaccount:x:*","system:serviceaccount:payments:*"]}}"#, STS, Deny),
    // Numeric (aud "42")
    ("1.6 NumericEquals present equal -> true", r#"{"NumericEquals":{"$AUD":"42"}}"#, "42", Allow),
    ("1.6 NumericEquals present different -> false", r#"{"NumericEquals":{"$AUD":"41"}}"#, "42", Deny),
    ("1.6 NumericEquals absent key -> false", r#"{"NumericEquals":{"$P:amr":"42"}}"#, "42", Deny),
    ("1.6 NumericEquals compares numbers, not text", r#"{"NumericEquals":{"$AUD":"42.0"}}"#, "42", Allow),
    ("1.6 values may be JSON numbers", r#"{"NumericEquals":{"$AUD":42}}"#, "42", Allow),
    ("1.6 NumericEquals on a non-numeric value -> false", r#"{"NumericEquals":{"$SUB":"42"}}"#, "42", Deny),
    ("1.6 NumericNotEquals different -> true", r#"{"NumericNotEquals":{"$AUD":"41"}}"#, "42", Allow),
    ("1.6 NumericNotEquals equal -> false", r#"{"NumericNotEquals":{"$AUD":"42"}}"#, "42", Deny),
    ("1.6 NumericNotEquals absent key -> true", r#"{"NumericNotEquals":{"$P:amr":"1"}}"#, "42", Allow),
    ("1.6 NumericNotEquals NOR over values", r#"{"NumericNotEquals":{"$AUD":["41","42"]}}"#, "42", Deny),
    ("1.6 NumericLessThan 42 < 43", r#"{"NumericLessThan":{"$AUD":"43"}}"#, "42", Allow),
    ("1.6 NumericLessThan 42 < 42 is false", r#"{"NumericLessThan":{"$AUD":"42"}}"#, "42", Deny),
    ("1.6 NumericLessThanEquals 42 <= 42", r#"{"NumericLessThanEquals":{"$AUD":"42"}}"#, "42", Allow),
    ("1.6 NumericGreaterThan 42 > 41", r#"{"NumericGreaterThan":{"$AUD":"41"}}"#, "42", Allow),
    ("1.6 NumericGreaterThan 42 > 42 is false", r#"{"NumericGreaterThan":{"$AUD":"42"}}"#, "42", Deny),
    ("1.6 NumericGreaterThanEquals 42 >= 42", r#"{"NumericGreaterThanEquals":{"$AUD":"42"}}"#, "42", Allow),
    ("1.6 NumericLessThan absent key -> false", r#"{"NumericLessThan":{"$P:amr":"1"}}"#, "42", Deny),
    ("1.6 NumericGreaterThanEqualsIfExists absent key -> true", r#"{"NumericGreaterThanEqualsIfExists":{"$P:amr":"1"}}"#, "42", Allow),
    // Date (aud is a date)
    ("1.6 DateEquals ISO 8601", r#"{"DateEquals":{"$AUD":"2024-01-01T00:00:00Z"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateEquals epoch seconds equal the ISO date", r#"{"DateEquals":{"$AUD":"1704067200"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateNotEquals different -> true", r#"{"DateNotEquals":{"$AUD":"2023-01-01"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateNotEquals equal -> false", r#"{"DateNotEquals":{"$AUD":"2024-01-01"}}"#, "2024-01-01T00:00:00Z", Deny),
    ("1.6 DateLessThan earlier", r#"{"DateLessThan":{"$AUD":"2025-01-01T00:00:00Z"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateLessThanEquals equal", r#"{"DateLessThanEquals":{"$AUD":"2024-01-01T01:00:00+01:00"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateGreaterThan later is false", r#"{"DateGreaterThan":{"$AUD":"2025-01-01"}}"#, "2024-01-01T00:00:00Z", Deny),
    ("1.6 DateGreaterThanEquals", r#"{"DateGreaterThanEquals":{"$AUD":"2023-12-31T23:59:59Z"}}"#, "2024-01-01T00:00:00Z", Allow),
    ("1.6 DateLessThan absent key -> false", r#"{"DateLessThan":{"$P:amr":"2025-01-01"}}"#, STS, Deny),
    ("1.6 DateNotEquals absent key -> true", r#"{"DateNotEquals":{"$P:amr":"2025-01-01"}}"#, STS, Allow),
    // Bool
    ("1.6 Bool true matches true", r#"{"Bool":{"$AUD":"true"}}"#, "true", Allow),
    ("1.6 Bool false does not match true", r#"{"Bool":{"$AUD":"false"}}"#, "true", Deny),
    ("1.6 Bool values may be JSON booleans", r#"{"Bool":{"$AUD":true}}"#, "true", Allow),
    ("1.6 Bool absent key -> false", r#"{"Bool":{"$P:amr":"true"}}"#, STS, Deny),
    ("1.6 BoolIfExists absent key -> true", r#"{"BoolIfExists":{"$P:amr":"true"}}"#, STS, Allow),
    // Binary
    ("1.6 BinaryEquals equal", r#"{"BinaryEquals":{"$AUD":"QmluYXJ5"}}"#, "QmluYXJ5", Allow),
    ("1.6 BinaryEquals different", r#"{"BinaryEquals":{"$AUD":"QmluYXJ6"}}"#, "QmluYXJ5", Deny),
    ("1.6 BinaryEquals absent key -> false", r#"{"BinaryEquals":{"$P:amr":"QmluYXJ5"}}"#, STS, Deny),
    // IpAddress
    ("1.6 IpAddress inside the CIDR", r#"{"IpAddress":{"$AUD":"10.0.0.0/8"}}"#, "10.1.2.3", Allow),
    ("1.6 IpAddress outside the CIDR", r#"{"IpAddress":{"$AUD":"11.0.0.0/8"}}"#, "10.1.2.3", Deny),
    ("1.6 IpAddress absent key -> false", r#"{"IpAddress":{"$P:amr":"10.0.0.0/8"}}"#, STS, Deny),
    ("1.6 IpAddress several values OR", r#"{"IpAddress":{"$AUD":["192.168.0.0/16","10.1.2.3/32"]}}"#, "10.1.2.3", Allow),
    ("1.6 IpAddress IPv6", r#"{"IpAddress":{"$AUD":"2001:db8::/32"}}"#, "2001:db8::1", Allow),
    ("1.6 NotIpAddress outside -> true", r#"{"NotIpAddress":{"$AUD":"11.0.0.0/8"}}"#, "10.1.2.3", Allow),
    ("1.6 NotIpAddress inside -> false", r#"{"NotIpAddress":{"$AUD":"10.0.0.0/8"}}"#, "10.1.2.3", Deny),
    ("1.6 NotIpAddress absent key -> true", r#"{"NotIpAddress":{"$P:amr":"10.0.0.0/8"}}"#, STS, Allow),
    ("1.6 NotIpAddress NOR over values", r#"{"NotIpAddress":{"$AUD":["11.0.0.0/8","10.0.0.0/8"]}}"#, "10.1.2.3", Deny),
    // Arn
    ("1.6 ArnEquals exact", r#"{"ArnEquals":{"$AUD":"arn:aws:iam::111122223333:role/x"}}"#, "arn:aws:iam::111122223333:role/x", Allow),
    ("1.6 ArnLike per-component glob", r#"{"ArnLike":{"$AUD":"arn:aws:iam::*:role/*"}}"#, "arn:aws:iam::111122223333:role/x", Allow),
    ("1.6 ArnLike * does not cross ':' (component count differs)", r#"{"ArnLike":{"$AUD":"arn:aws:*:role/x"}}"#, "arn:aws:iam::111122223333:role/x", Deny),
    ("1.6 ArnEquals == ArnLike: wildcards work in ArnEquals", r#"{"ArnEquals":{"$AUD":"arn:aws:iam::1111222233?3:role/x"}}"#, "arn:aws:iam::111122223333:role/x", Allow),
    ("1.6 ArnLike component mismatch", r#"{"ArnLike":{"$AUD":"arn:aws:iam::*:user/*"}}"#, "arn:aws:iam::111122223333:role/x", Deny),
    ("1.6 ArnNotEquals different -> true", r#"{"ArnNotEquals":{"$AUD":"arn:aws:iam::111122223333:role/y"}}"#, "arn:aws:iam::111122223333:role/x", Allow),
    ("1.6 ArnNotLike matching -> false", r#"{"ArnNotLike":{"$AUD":"arn:aws:iam::*:role/*"}}"#, "arn:aws:iam::111122223333:role/x", Deny),
    ("1.6 ArnLike absent key -> false", r#"{"ArnLike":{"$P:amr":"arn:*"}}"#, STS, Deny),
    ("1.6 ArnNotLike absent key -> true", r#"{"ArnNotLike":{"$P:amr":"arn:*"}}"#, STS, Allow),
    ("1.6 ArnNotEquals NOR over values", r#"{"ArnNotEquals":{"$AUD":["arn:aws:iam::111122223333:role/y","arn:aws:iam::111122223333:role/x"]}}"#, "arn:aws:iam::111122223333:role/x", Deny),
    // Null
    ("1.6 Null true on an absent key -> true", r#"{"Null":{"$P:amr":"true"}}"#, STS, Allow),
    ("1.6 Null false on an absent key -> false", r#"{"Null":{"$P:amr":"false"}}"#, STS, Deny),
    ("1.6 Null false on a present key -> true", r#"{"Null":{"$SUB":"false"}}"#, STS, Allow),
    ("1.6 Null true on a present key -> false", r#"{"Null":{"$SUB":"true"}}"#, STS, Deny),
    ("1.6 Null takes JSON booleans", r#"{"Null":{"$P:amr":true}}"#, STS, Allow),
    ("1.6 ForAllValues:Null is always true", r#"{"ForAllValues:Null":{"$SUB":"true"}}"#, STS, Allow),
    ("1.6 ForAnyValue:Null is always false", r#"{"ForAnyValue:Null":{"$P:amr":"true"}}"#, STS, Deny),
    // IfExists
    ("1.6 StringEqualsIfExists present, listed -> true", r#"{"StringEqualsIfExists":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Allow),
    ("1.6 StringEqualsIfExists present, not listed -> false", r#"{"StringEqualsIfExists":{"$SUB":"system:serviceaccount:payments:web"}}"#, STS, Deny),
    ("1.6 StringEqualsIfExists absent key -> true", r#"{"StringEqualsIfExists":{"$P:amr":"x"}}"#, STS, Allow),
    ("1.6 StringLikeIfExists absent key -> true", r#"{"StringLikeIfExists":{"$P:amr":"x*"}}"#, STS, Allow),
    ("1.6 StringNotEqualsIfExists present, listed -> false", r#"{"StringNotEqualsIfExists":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Deny),
    ("1.6 ArnLikeIfExists absent key -> true", r#"{"ArnLikeIfExists":{"$P:amr":"arn:*:*:*:*:*"}}"#, STS, Allow),
    // ForAnyValue / ForAllValues
    ("1.6 ForAnyValue:StringEquals present, listed -> true", r#"{"ForAnyValue:StringEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Allow),
    ("1.6 ForAnyValue:StringEquals absent key -> false", r#"{"ForAnyValue:StringEquals":{"$P:amr":"x"}}"#, STS, Deny),
    ("1.6 ForAnyValue:StringLike on aud (one-element set)", r#"{"ForAnyValue:StringLike":{"$AUD":"sts.*"}}"#, STS, Allow),
    ("1.6 ForAnyValue:StringNotEquals present, listed -> false", r#"{"ForAnyValue:StringNotEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Deny),
    ("1.6 ForAnyValue:StringEqualsIfExists absent key -> true", r#"{"ForAnyValue:StringEqualsIfExists":{"$P:amr":"x"}}"#, STS, Allow),
    ("1.6 ForAllValues:StringEquals present, listed -> true", r#"{"ForAllValues:StringEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#, STS, Allow),
    ("1.6 ForAllValues:StringEquals present, not listed -> false", r#"{"ForAllValues:StringEquals":{"$SUB":"system:serviceaccount:x:y"}}"#, STS, Deny),
    ("1.6 ForAllValues:StringEquals absent key -> true", r#"{"ForAllValues:StringEquals":{"$P:amr":"x"}}"#, STS, Allow),
    ("1.6 ForAllValues:StringLike absent key -> true", r#"{"ForAllValues:StringLike":{"$P:amr":"x*"}}"#, STS, Allow),
    ("2.4 aud as a one-element set: ForAllValues equals plain", r#"{"ForAllValues:StringEquals":{"$AUD":"sts.amazonaws.com"}}"#, STS, Allow),
    // Request-time keys
    ("0.2 aws:SourceIp is request-time -> Indeterminate", r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, STS, Unknown),
    ("0.2 aws:CurrentTime is request-time -> Indeterminate", r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#, STS, Unknown),
    ("2.4 sts:RoleSessionName is request-time -> Indeterminate", r#"{"StringLike":{"sts:RoleSessionName":"ci-*"}}"#, STS, Unknown),
    ("context aws:FederatedProvider is the provider ARN while the trust policy is evaluated", r#"{"StringEquals":{"aws:FederatedProvider":"$PROVIDER"}}"#, STS, Allow),
    ("context aws:FederatedProvider of another account does not match", r#"{"ArnLike":{"aws:FederatedProvider":"arn:aws:iam::999999999999:oidc-provider/*"}}"#, STS, Deny),
    ("context session tags come only from the tags claim: Null aws:RequestTag/team holds", r#"{"Null":{"aws:RequestTag/team":"true"}}"#, STS, Allow),
    ("context an absent session tag fails StringEquals", r#"{"StringEquals":{"aws:RequestTag/team":"payments"}}"#, STS, Deny),
    ("context ForAllValues on the absent aws:TagKeys holds", r#"{"ForAllValues:StringEquals":{"aws:TagKeys":"team"}}"#, STS, Allow),
    ("context ForAnyValue on the absent aws:TagKeys fails", r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#, STS, Deny),
    ("context no source identity claim: StringNotEquals sts:SourceIdentity holds", r#"{"StringNotEquals":{"sts:SourceIdentity":"alice"}}"#, STS, Allow),
    ("context IfExists on the absent aws:SourceIdentity holds", r#"{"StringEqualsIfExists":{"aws:SourceIdentity":"alice"}}"#, STS, Allow),
    ("context an unsigned call has no aws:PrincipalArn", r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#, STS, Deny),
    ("context Null false on the always-present aws:CurrentTime holds", r#"{"Null":{"aws:CurrentTime":"false"}}"#, STS, Allow),
    ("context Null true on the always-present sts:RoleSessionName fails", r#"{"Null":{"sts:RoleSessionName":"true"}}"#, STS, Deny),
    ("context NotIpAddress on aws:SourceIp, which STS may omit, is Indeterminate", r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, STS, Unknown),
    ("0.2 aws:SecureTransport is request-time", r#"{"Bool":{"aws:SecureTransport":"true"}}"#, STS, Unknown),
    ("0.2 aws:SourceVpce is request-time (key case-insensitive)", r#"{"StringEquals":{"AWS:SOURCEVPCE":"vpce-1"}}"#, STS, Unknown),
    ("0.2 IfExists on a request-time key stays Indeterminate", r#"{"StringEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}}"#, STS, Unknown),
    ("0.2 Null on a request-time key stays Indeterminate", r#"{"Null":{"aws:SourceIp":"false"}}"#, STS, Unknown),
    ("2.2 a false condition decides even next to an Indeterminate one", r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"$SUB":"system:serviceaccount:x:y"}}"#, STS, Deny),
    ("1.2 identity keys are absent for web identity (aws:username)", r#"{"StringEquals":{"aws:username":"api"}}"#, STS, Deny),
    ("1.2 aws:PrincipalTag is absent for web identity, negated -> true", r#"{"StringNotEquals":{"aws:PrincipalTag/team":"x"}}"#, STS, Allow),
];

#[test]
fn condition_operator_cases() {
    for (rule, cond, aud, want) in CONDITION_CASES {
        let policy = with_condition("2012-10-17", cond);
        run_decision(rule, &policy, ROLE, &subject("payments", "api", aud), *want);
    }
}

#[rustfmt::skip]
/// (rule, Version, condition, want) for policy variables (subject payments/api).
const VARIABLE_CASES: &[(&str, &str, &str, Want)] = &[
    ("1.2 2012-10-17: ${key, 'default'} uses the default for an absent key", "2012-10-17", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:${aws:username, 'api'}"}}"#, Allow),
    ("1.2 2008-10-17: variables are literal text", "2008-10-17", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:${aws:username, 'api'}"}}"#, Deny),
    ("1.2 no Version: variables are literal text", "", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:${aws:username, 'api'}"}}"#, Deny),
    ("1.2 absent variable without default has no value: StringEquals false", "2012-10-17", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:${aws:username}"}}"#, Deny),
    ("1.2 absent variable without default: negated operators match", "2012-10-17", r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:payments:${aws:username}"}}"#, Allow),
    ("1.2 ${*} is a literal * even under StringLike", "2012-10-17", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:api${*}"}}"#, Deny),
    ("1.2 ${?} is a literal ?", "2012-10-17", r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:ap${?}"}}"#, Deny),
    ("1.2 ${$} is a literal $", "2012-10-17", r#"{"StringEquals":{"$AUD":"a${$}b"}}"#, Deny),
    ("1.2 a variable value is substituted literally into StringLike", "2012-10-17", r#"{"StringLike":{"$SUB":"system:serviceaccount:${aws:username, 'payments'}:*"}}"#, Allow),
    ("1.2 a variable naming a request key resolves to its value", "2012-10-17", r#"{"StringEquals":{"$SUB":"${$SUB}"}}"#, Allow),
    ("1.2 a variable naming a request-time key is Indeterminate", "2012-10-17", r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:${aws:SourceIp}"}}"#, Unknown),
    ("1.2 variables are not substituted in Numeric operators", "2012-10-17", r#"{"NumericEquals":{"$AUD":"${aws:username, '42'}"}}"#, Deny),
    ("1.2 variables in ArnLike values", "2012-10-17", r#"{"ArnLike":{"$AUD":"arn:aws:iam::${aws:username, '111122223333'}:role/*"}}"#, Deny),
];

#[test]
fn policy_variable_cases() {
    for (rule, version, cond, want) in VARIABLE_CASES {
        let policy = with_condition(version, cond);
        run_decision(rule, &policy, ROLE, &subject("payments", "api", STS), *want);
    }
    // The ArnLike case with an ARN audience.
    let policy = with_condition(
        "2012-10-17",
        r#"{"ArnLike":{"$AUD":"arn:aws:iam::${aws:username, '111122223333'}:role/*"}}"#,
    );
    run_decision(
        "1.2 variables in ArnLike values (matching)",
        &policy,
        ROLE,
        &subject("payments", "api", "arn:aws:iam::111122223333:role/x"),
        Allow,
    );
}

fn statement(effect: &str, principal: &str, action: &str, condition: &str) -> String {
    let cond = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(r#"{{"Effect":"{effect}","Principal":{principal},"Action":{action}{cond}}}"#)
}

fn doc(statements: &[String]) -> String {
    expand(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
}

const FED: &str = r#"{"Federated":"$PROVIDER"}"#;
const WEB: &str = r#""sts:AssumeRoleWithWebIdentity""#;
const SUB_API: &str = r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#;

#[rustfmt::skip]
#[test]
fn statement_level_cases() {
    let allow = statement("Allow", FED, WEB, SUB_API);
    let cases: Vec<(&str, String, &str, Subject, Want)> = vec![
        ("2.2 Deny wins over Allow", doc(&[allow.clone(), statement("Deny", FED, WEB, r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:*"}}"#)]), ROLE, subject("payments", "api", STS), Deny),
        ("2.2 a Deny that does not match leaves the Allow", doc(&[allow.clone(), statement("Deny", FED, WEB, r#"{"StringLike":{"$SUB":"system:serviceaccount:kube-system:*"}}"#)]), ROLE, subject("payments", "api", STS), Allow),
        ("2.2 Deny order does not matter", doc(&[statement("Deny", FED, WEB, ""), allow.clone()]), ROLE, subject("payments", "api", STS), Deny),
        ("2.2 no Allow statement -> implicit deny", doc(&[statement("Deny", FED, WEB, r#"{"StringEquals":{"$SUB":"x"}}"#)]), ROLE, subject("payments", "api", STS), Deny),
        ("2.2 any matching Allow suffices", doc(&[statement("Allow", FED, WEB, r#"{"StringEquals":{"$SUB":"x"}}"#), allow.clone()]), ROLE, subject("payments", "api", STS), Allow),
        ("2.2 an Allow without conditions admits every subject of the provider", doc(&[statement("Allow", FED, WEB, "")]), ROLE, subject("other", "x", STS), Allow),
        ("2.2 an Indeterminate Deny next to a matching Allow is Indeterminate", doc(&[allow.clone(), statement("Deny", FED, WEB, r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)]), ROLE, subject("payments", "api", STS), Unknown),
        ("2.2 a true Allow beats another Indeterminate Allow", doc(&[statement("Allow", FED, WEB, r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#), allow.clone()]), ROLE, subject("payments", "api", STS), Allow),
        ("2.3 provider of another account never matches", doc(&[statement("Allow", r#"{"Federated":"arn:aws:iam::999999999999:oidc-provider/oidc.example.com/abc123"}"#, WEB, SUB_API)]), ROLE, subject("payments", "api", STS), Deny),
        ("2.3 role in another partition needs that partition's provider", doc(std::slice::from_ref(&allow)), "arn:aws-cn:iam::111122223333:role/payments-api", subject("payments", "api", STS), Deny),
        ("2.3 trailing slash is part of the provider identity", doc(&[statement("Allow", r#"{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123/"}"#, WEB, SUB_API)]), ROLE, subject("payments", "api", STS), Deny),
        ("2.3 provider URL is compared exactly (case)", doc(&[statement("Allow", r#"{"Federated":"arn:aws:iam::111122223333:oidc-provider/OIDC.example.com/abc123"}"#, WEB, SUB_API)]), ROLE, subject("payments", "api", STS), Deny),
        ("1.4 principal values are OR-ed", doc(&[statement("Allow", r#"{"Federated":["arn:aws:iam::111122223333:oidc-provider/other.example.com","$PROVIDER"]}"#, WEB, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.4 principal types are OR-ed", doc(&[statement("Allow", r#"{"AWS":"arn:aws:iam::111122223333:root","Federated":"$PROVIDER"}"#, WEB, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.4 {AWS:*} is not relied on for web identity", doc(&[statement("Allow", r#"{"AWS":"*"}"#, WEB, "")]), ROLE, subject("payments", "api", STS), Deny),
        ("1.4 a Service principal never applies to web identity", doc(&[statement("Allow", r#"{"Service":"pods.eks.amazonaws.com"}"#, r#"["sts:AssumeRole","sts:TagSession"]"#, "")]), ROLE, subject("payments", "api", STS), Deny),
        ("1.5 sts:* covers AssumeRoleWithWebIdentity", doc(&[statement("Allow", FED, r#""sts:*""#, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 * covers every action", doc(&[statement("Allow", FED, r#""*""#, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 action names are case-insensitive", doc(&[statement("Allow", FED, r#""STS:assumerolewithwebidentity""#, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 ? matches one char in actions", doc(&[statement("Allow", FED, r#""sts:AssumeRoleWith?ebIdentity""#, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 sts:AssumeRole does not cover web identity", doc(&[statement("Allow", FED, r#""sts:AssumeRole""#, SUB_API)]), ROLE, subject("payments", "api", STS), Deny),
        ("1.5 action arrays are OR-ed", doc(&[statement("Allow", FED, r#"["sts:TagSession","sts:AssumeRoleWithWebIdentity"]"#, SUB_API)]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 NotAction covers every unlisted action", doc(&[statement("Allow", FED, r#""sts:AssumeRole""#, SUB_API).replace("\"Action\"", "\"NotAction\"")]), ROLE, subject("payments", "api", STS), Allow),
        ("1.5 NotAction excluding the action", doc(&[statement("Allow", FED, r#""sts:AssumeRoleWith*""#, SUB_API).replace("\"Action\"", "\"NotAction\"")]), ROLE, subject("payments", "api", STS), Deny),
        ("1.1 Statement may be a single object", expand(&format!(r#"{{"Version":"2012-10-17","Statement":{allow}}}"#)), ROLE, subject("payments", "api", STS), Allow),
        ("2.4 key prefix keeps the issuer path", doc(std::slice::from_ref(&allow)), ROLE, Subject { issuer: "https://oidc.example.com/abc123/".into(), ..subject("payments", "api", STS) }, Deny),
        ("2.4 sub is system:serviceaccount:<ns>:<sa>", doc(std::slice::from_ref(&allow)), ROLE, subject("api", "payments", STS), Deny),
    ];
    for (rule, policy, role, s, want) in cases {
        run_decision(rule, &policy, role, &s, want);
    }
}

#[rustfmt::skip]
#[test]
fn input_forms() {
    let policy = doc(&[statement("Allow", FED, WEB, SUB_API)]);
    let s = subject("payments", "api", STS);
    let as_string = serde_json::to_string(&policy).unwrap();
    let get_role = format!(r#"{{"Role":{{"RoleName":"payments-api","AssumeRolePolicyDocument":{policy}}}}}"#);
    let encoded: String = policy
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    for (rule, text) in [
        ("input: JSON object", policy.clone()),
        ("input: JSON string holding the document", as_string),
        ("input: aws iam get-role output", get_role),
        ("input: URL-encoded IAM API form", encoded.clone()),
        ("input: get-role with the URL-encoded document", format!(r#"{{"Role":{{"AssumeRolePolicyDocument":"{encoded}"}}}}"#)),
    ] {
        run_decision(rule, &text, ROLE, &s, Allow);
    }
}

#[rustfmt::skip]
/// (rule, policy, expected error code)
fn validation_cases() -> Vec<(&'static str, String, &'static str)> {
    let ok = statement("Allow", FED, WEB, SUB_API);
    let with = |extra: &str| doc(&[ok.replacen('{', &format!("{{{extra},"), 1)]);
    let without = |field: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&expand(&ok)).unwrap();
        v.as_object_mut().unwrap().remove(field);
        doc(&[v.to_string()])
    };
    let principal = |p: &str| doc(&[statement("Allow", p, WEB, SUB_API)]);
    let condition = |c: &str| doc(&[statement("Allow", FED, WEB, c)]);
    vec![
        ("3.2 not JSON", "{\"Version\": ".to_string(), "INVALID_JSON"),
        ("3.2 not an object", "[1, 2]".to_string(), "INVALID_JSON"),
        ("1.1 duplicate keys are refused", doc(&[ok.replacen('{', r#"{"Effect":"Deny","#, 1)]), "INVALID_JSON"),
        ("1.1 duplicate keys inside Condition are refused", condition(r#"{"StringEquals":{"$SUB":"a","$SUB":"b"}}"#), "INVALID_JSON"),
        ("3.2 missing Statement", r#"{"Version":"2012-10-17"}"#.to_string(), "MISSING_STATEMENT"),
        ("3.2 empty Statement", r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(), "MISSING_STATEMENT"),
        ("3.2 missing Effect", without("Effect"), "MISSING_EFFECT"),
        ("3.2 Effect values are Allow/Deny only (case)", doc(&[ok.replace("\"Allow\"", "\"allow\"")]), "INVALID_EFFECT"),
        ("3.2 Effect must be a string", doc(&[ok.replace("\"Allow\"", "true")]), "INVALID_EFFECT"),
        ("3.2 missing Principal", without("Principal"), "MISSING_PRINCIPAL"),
        ("3.2 empty Principal object", principal("{}"), "MISSING_PRINCIPAL"),
        ("3.2 empty principal value list", principal(r#"{"Federated":[]}"#), "MISSING_PRINCIPAL"),
        ("3.2 NotPrincipal is not supported", with(r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}"#), "NOTPRINCIPAL_NOT_SUPPORTED"),
        ("3.2 Principal \"*\" is rejected", principal(r#""*""#), "WILDCARD_PRINCIPAL_NOT_SUPPORTED"),
        ("3.2 Federated \"*\" is rejected", principal(r#"{"Federated":"*"}"#), "WILDCARD_PRINCIPAL_NOT_SUPPORTED"),
        ("3.2 partial wildcard in a provider ARN", principal(r#"{"Federated":"arn:aws:iam::111122223333:oidc-provider/*"}"#), "PRINCIPAL_PARTIAL_WILDCARD"),
        ("3.2 partial wildcard in an AWS principal", principal(r#"{"AWS":"arn:aws:iam::*:root"}"#), "PRINCIPAL_PARTIAL_WILDCARD"),
        ("3.2 provider ARN account not 12 digits", principal(r#"{"Federated":"arn:aws:iam::11112222333:oidc-provider/oidc.example.com/abc123"}"#), "INVALID_PRINCIPAL_ARN"),
        ("3.2 provider ARN with an unknown partition", principal(r#"{"Federated":"arn:aws-mars:iam::111122223333:oidc-provider/oidc.example.com/abc123"}"#), "INVALID_PRINCIPAL_ARN"),
        ("3.2 Federated value that is neither ARN nor built-in IdP", principal(r#"{"Federated":"oidc.example.com/abc123"}"#), "INVALID_PRINCIPAL_ARN"),
        ("3.2 provider ARN with a scheme", principal(r#"{"Federated":"arn:aws:iam::111122223333:oidc-provider/https://oidc.example.com"}"#), "INVALID_PRINCIPAL_ARN"),
        ("3.2 AWS principal that is not an ARN or account", principal(r#"{"AWS":"someone"}"#), "INVALID_PRINCIPAL_ARN"),
        ("3.2 Resource is prohibited", with(r#""Resource":"*""#), "RESOURCE_NOT_SUPPORTED"),
        ("3.2 NotResource is prohibited", with(r#""NotResource":"*""#), "RESOURCE_NOT_SUPPORTED"),
        ("3.2 missing Action", without("Action"), "MISSING_ACTION"),
        ("1.3 exactly one of Action/NotAction", with(r#""NotAction":"sts:TagSession""#), "MISSING_ACTION"),
        ("3.2 empty Action list", doc(&[statement("Allow", FED, "[]", SUB_API)]), "MISSING_ACTION"),
        ("1.5 action without a service prefix", doc(&[statement("Allow", FED, r#""AssumeRoleWithWebIdentity""#, SUB_API)]), "MISSING_ACTION"),
        ("3.2 unknown Version", doc(std::slice::from_ref(&ok)).replace("2012-10-17", "2012-10-18"), "INVALID_VERSION"),
        ("3.2 Version must be a string", doc(std::slice::from_ref(&ok)).replace("\"2012-10-17\"", "2012"), "INVALID_VERSION"),
        ("3.2 unknown condition operator", condition(r#"{"StringEqual":{"$SUB":"x"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 operator names are case-sensitive", condition(r#"{"stringequals":{"$SUB":"x"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("3.2 NullIfExists is invalid", condition(r#"{"NullIfExists":{"$SUB":"true"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 unknown set qualifier", condition(r#"{"ForSomeValues:StringEquals":{"$SUB":"x"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 qualifier names are case-sensitive", condition(r#"{"forallvalues:StringEquals":{"$SUB":"x"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 Null takes true or false only", condition(r#"{"Null":{"$SUB":"maybe"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 empty value array is refused (fail closed)", condition(r#"{"StringEquals":{"$SUB":[]}}"#), "EMPTY_CONDITION_VALUES"),
        ("1.6 operator without keys is refused", condition(r#"{"StringEquals":{}}"#), "EMPTY_CONDITION_VALUES"),
        ("1.1 characters outside U+0020-U+00FF are refused", condition(r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api\u2028"}}"#), "INVALID_JSON"),
        ("3.1 documents over 131,072 characters are refused", condition(&format!(r#"{{"StringEquals":{{"$SUB":"{}"}}}}"#, "a".repeat(131_100))), "INVALID_JSON"),
        ("1.3 unknown statement element", with(r#""Effects":"Allow""#), "INVALID_JSON"),
        ("1.1 unknown top-level element", doc(std::slice::from_ref(&ok)).replacen('{', r#"{"Statements":[],"#, 1), "INVALID_JSON"),
        ("1.6 condition values must be scalars", condition(r#"{"StringEquals":{"$SUB":{"a":"b"}}}"#), "INVALID_JSON"),
        ("1.6 Condition must be an object", condition(r#""StringEquals""#), "INVALID_JSON"),
        ("1.1 Statement must be an object or array", r#"{"Version":"2012-10-17","Statement":"Allow"}"#.to_string(), "INVALID_JSON"),
    ]
}

#[test]
fn documents_iam_refuses_are_never_allowed() {
    let s = subject("payments", "api", STS);
    for (rule, policy, code) in validation_cases() {
        let v = trust::check(&policy, ROLE, &s).unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert!(!v.allowed, "{rule}: allowed");
        assert!(!v.valid_document, "{rule}: valid");
        assert!(
            v.findings
                .iter()
                .any(|f| f.code == code && f.severity == Severity::Error),
            "rule: {rule}: no {code} in {:#?}",
            v.findings
        );
        // check reports the lint findings too: exactly lint's set.
        assert_eq!(
            v.findings,
            trust::lint(&policy, Some(ROLE), ISSUER).unwrap(),
            "{rule}"
        );
        // The same document without the defect is valid (the case is close).
        if let Ok((p, _)) = TrustPolicy::parse(&policy) {
            assert!(!p.is_valid(), "{rule}");
        }
    }
    let ok = doc(&[statement("Allow", FED, WEB, SUB_API)]);
    let v = trust::check(&ok, ROLE, &s).unwrap();
    assert!(v.allowed && v.valid_document, "{v:#?}");
    let codes: Vec<&str> = v.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["MISSING_AUD_CONDITION"], "{v:#?}");
}

fn lint_codes(policy: &str, role: Option<&str>, issuer: &str) -> Vec<&'static str> {
    trust::lint(policy, role, issuer)
        .unwrap()
        .iter()
        .map(|f| f.code.as_str())
        .collect()
}

/// (rule, policy, role, issuer, code, raised?)
type LintCase = (
    &'static str,
    String,
    Option<&'static str>,
    &'static str,
    &'static str,
    bool,
);

#[rustfmt::skip]
fn lint_cases() -> Vec<LintCase> {
    let aud = r#""$AUD":"sts.amazonaws.com""#;
    let good_cond = format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}}}}"#);
    let good = doc(&[statement("Allow", FED, WEB, &good_cond)]);
    let cond = |c: &str| doc(&[statement("Allow", FED, WEB, c)]);
    let r = Some(ROLE);
    vec![
        ("4.2 clean IRSA policy raises nothing", good.clone(), r, ISSUER, "ANY", false),
        ("4.2 ISSUER_NOT_HTTPS", good.clone(), r, "http://oidc.example.com/abc123", "ISSUER_NOT_HTTPS", true),
        ("4.2 ISSUER_NOT_HTTPS not for https", good.clone(), r, ISSUER, "ISSUER_NOT_HTTPS", false),
        ("4.2 ISSUER_TRAILING_SLASH", good.replace("abc123", "abc123/"), r, "https://oidc.example.com/abc123/", "ISSUER_TRAILING_SLASH", true),
        ("4.2 ISSUER_TRAILING_SLASH not without slash", good.clone(), r, ISSUER, "ISSUER_TRAILING_SLASH", false),
        ("4.2 WILDCARD_AWS_PRINCIPAL", doc(&[statement("Allow", r#"{"AWS":"*"}"#, WEB, "")]), r, ISSUER, "WILDCARD_AWS_PRINCIPAL", true),
        ("4.2 WILDCARD_AWS_PRINCIPAL not for an account root", doc(&[statement("Allow", r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, r#""sts:AssumeRole""#, "")]), r, ISSUER, "WILDCARD_AWS_PRINCIPAL", false),
        ("4.2 VACUOUS_CONDITION negated op on an absent key", cond(&format!(r#"{{"StringEquals":{{{aud}}},"StringNotEquals":{{"$P:subject":"x"}}}}"#)), r, ISSUER, "VACUOUS_CONDITION", true),
        ("4.2 VACUOUS_CONDITION IfExists on an absent key", cond(&format!(r#"{{"StringEquals":{{{aud}}},"StringLikeIfExists":{{"kubernetes.io/namespace":"x"}}}}"#)), r, ISSUER, "VACUOUS_CONDITION", true),
        ("4.2 VACUOUS_CONDITION ForAllValues on an absent key", cond(&format!(r#"{{"StringEquals":{{{aud}}},"ForAllValues:StringEquals":{{"$P:groups":"x"}}}}"#)), r, ISSUER, "VACUOUS_CONDITION", true),
        ("4.2 VACUOUS_CONDITION not for a negated op on sub", cond(&format!(r#"{{"StringEquals":{{{aud}}},"StringNotEquals":{{"$SUB":"x"}}}}"#)), r, ISSUER, "VACUOUS_CONDITION", false),
        ("4.2 CONDITION_KEY_PROVIDER_MISMATCH host without path", cond(&format!(r#"{{"StringEquals":{{"oidc.example.com:sub":"system:serviceaccount:payments:api",{aud}}}}}"#)), r, ISSUER, "CONDITION_KEY_PROVIDER_MISMATCH", true),
        ("4.2 CONDITION_KEY_PROVIDER_MISMATCH not for the provider's prefix", good.clone(), r, ISSUER, "CONDITION_KEY_PROVIDER_MISMATCH", false),
        ("4.2 PLACEHOLDER_NOT_REPLACED", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>",{aud}}}}}"#)), r, ISSUER, "PLACEHOLDER_NOT_REPLACED", true),
        ("4.2 PLACEHOLDER_NOT_REPLACED not after rendering", good.clone(), r, ISSUER, "PLACEHOLDER_NOT_REPLACED", false),
        ("4.2 MISSING_AUD_CONDITION", cond(SUB_API), r, ISSUER, "MISSING_AUD_CONDITION", true),
        ("4.2 MISSING_AUD_CONDITION not when aud is pinned", good.clone(), r, ISSUER, "MISSING_AUD_CONDITION", false),
        ("4.2 MISSING_AUD_CONDITION: a negated aud test does not pin", cond(r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api"},"StringNotEquals":{"$AUD":"x"}}"#), r, ISSUER, "MISSING_AUD_CONDITION", true),
        ("4.2 UNKNOWN_OIDC_CLAIM_KEY typo :sbu", cond(&format!(r#"{{"StringEquals":{{"$P:sbu":"system:serviceaccount:payments:api",{aud}}}}}"#)), r, ISSUER, "UNKNOWN_OIDC_CLAIM_KEY", true),
        ("4.2 UNKNOWN_OIDC_CLAIM_KEY not for :sub (any case)", cond(&format!(r#"{{"StringEquals":{{"$P:SUB":"system:serviceaccount:payments:api",{aud}}}}}"#)), r, ISSUER, "UNKNOWN_OIDC_CLAIM_KEY", false),
        ("4.2 WILDCARD_WITHOUT_LIKE", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:*",{aud}}}}}"#)), r, ISSUER, "WILDCARD_WITHOUT_LIKE", true),
        ("4.2 WILDCARD_WITHOUT_LIKE not under StringLike", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "WILDCARD_WITHOUT_LIKE", false),
        ("4.2 WILDCARD_WITHOUT_LIKE not for an escaped ${*}", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api${{*}}",{aud}}}}}"#)), r, ISSUER, "WILDCARD_WITHOUT_LIKE", false),
        ("4.2 SUB_VALUE_MALFORMED stray space", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount: payments:api",{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 SUB_VALUE_MALFORMED uppercase namespace", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:Payments:api",{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 SUB_VALUE_MALFORMED wrong prefix", cond(&format!(r#"{{"StringEquals":{{"$SUB":"serviceaccount:payments:api",{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 SUB_VALUE_MALFORMED not for a valid subject", good.clone(), r, ISSUER, "SUB_VALUE_MALFORMED", false),
        ("4.2 FORALLVALUES_ON_SINGLE_VALUED_KEY", cond(&format!(r#"{{"ForAllValues:StringEquals":{{"$SUB":"system:serviceaccount:payments:api"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "FORALLVALUES_ON_SINGLE_VALUED_KEY", true),
        ("4.2 FORALLVALUES_ON_SINGLE_VALUED_KEY not for ForAnyValue", cond(&format!(r#"{{"ForAnyValue:StringEquals":{{"$SUB":"system:serviceaccount:payments:api"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "FORALLVALUES_ON_SINGLE_VALUED_KEY", false),
        ("4.2 FEDERATED_ACCOUNT_MISMATCH", good.replace("111122223333:oidc", "999999999999:oidc"), r, ISSUER, "FEDERATED_ACCOUNT_MISMATCH", true),
        ("4.2 FEDERATED_ACCOUNT_MISMATCH not without a role", good.replace("111122223333:oidc", "999999999999:oidc"), None, ISSUER, "FEDERATED_ACCOUNT_MISMATCH", false),
        ("4.2 FEDERATED_ISSUER_MISMATCH other region/cluster", good.clone(), r, "https://oidc.example.com/zzz999", "FEDERATED_ISSUER_MISMATCH", true),
        ("4.2 FEDERATED_ISSUER_MISMATCH trailing slash", good.clone(), r, "https://oidc.example.com/abc123/", "FEDERATED_ISSUER_MISMATCH", true),
        ("4.2 FEDERATED_ISSUER_MISMATCH not for the same issuer", good.clone(), r, ISSUER, "FEDERATED_ISSUER_MISMATCH", false),
        ("4.2 ACTION_MISSING_WEB_IDENTITY", doc(&[statement("Allow", FED, r#""sts:AssumeRole""#, &good_cond)]), r, ISSUER, "ACTION_MISSING_WEB_IDENTITY", true),
        ("4.2 ACTION_MISSING_WEB_IDENTITY not for sts:AssumeRoleWith*", doc(&[statement("Allow", FED, r#""sts:AssumeRoleWith*""#, &good_cond)]), r, ISSUER, "ACTION_MISSING_WEB_IDENTITY", false),
        ("4.2 NOTACTION_IN_TRUST_POLICY", doc(&[statement("Allow", FED, r#""sts:TagSession""#, &good_cond).replace("\"Action\"", "\"NotAction\"")]), r, ISSUER, "NOTACTION_IN_TRUST_POLICY", true),
        ("4.2 NOTACTION_IN_TRUST_POLICY not for Deny", doc(&[good_cond_stmt(&good_cond), statement("Deny", FED, r#""sts:AssumeRoleWithWebIdentity""#, r#"{"StringEquals":{"$SUB":"x"}}"#).replace("\"Action\"", "\"NotAction\"")]), r, ISSUER, "NOTACTION_IN_TRUST_POLICY", false),
        ("4.2 VARIABLE_NOT_SUPPORTED_IN_VERSION 2008", doc(&[statement("Allow", FED, WEB, &good_cond.replace("api", "${aws:username}"))]).replace("2012-10-17", "2008-10-17"), r, ISSUER, "VARIABLE_NOT_SUPPORTED_IN_VERSION", true),
        ("4.2 VARIABLE_NOT_SUPPORTED_IN_VERSION Bool + variable", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"Bool":{{"$P:amr":"${{aws:username}}"}}}}"#)), r, ISSUER, "VARIABLE_NOT_SUPPORTED_IN_VERSION", true),
        ("4.2 VARIABLE_NOT_SUPPORTED_IN_VERSION not in 2012 String ops", doc(&[statement("Allow", FED, WEB, &good_cond.replace("api", "${aws:username, 'api'}"))]), r, ISSUER, "VARIABLE_NOT_SUPPORTED_IN_VERSION", false),
        ("4.2 CONTEXT_DEPENDENT_CONDITION", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}"#)), r, ISSUER, "CONTEXT_DEPENDENT_CONDITION", true),
        ("4.2 CONTEXT_DEPENDENT_CONDITION not for sub/aud", good.clone(), r, ISSUER, "CONTEXT_DEPENDENT_CONDITION", false),
        ("4.2 ACTION_WILDCARD sts:*", doc(&[statement("Allow", FED, r#""sts:*""#, &good_cond)]), r, ISSUER, "ACTION_WILDCARD", true),
        ("4.2 ACTION_WILDCARD sts:AssumeRoleWith*", doc(&[statement("Allow", FED, r#""sts:AssumeRoleWith*""#, &good_cond)]), r, ISSUER, "ACTION_WILDCARD", true),
        ("4.2 ACTION_WILDCARD not for the exact action", good.clone(), r, ISSUER, "ACTION_WILDCARD", false),
        ("4.2 IFEXISTS_ON_ALWAYS_PRESENT_KEY", cond(&format!(r#"{{"StringEqualsIfExists":{{"$SUB":"system:serviceaccount:payments:api"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "IFEXISTS_ON_ALWAYS_PRESENT_KEY", true),
        ("4.2 IFEXISTS_ON_ALWAYS_PRESENT_KEY not without IfExists", good.clone(), r, ISSUER, "IFEXISTS_ON_ALWAYS_PRESENT_KEY", false),
        ("4.2 AUD_UNEXPECTED_VALUE typo sts.amazon.com", good.replace("sts.amazonaws.com", "sts.amazon.com"), r, ISSUER, "AUD_UNEXPECTED_VALUE", true),
        ("4.2 AUD_UNEXPECTED_VALUE not when sts.amazonaws.com is listed", good.replace("\"sts.amazonaws.com\"", "[\"x\",\"sts.amazonaws.com\"]"), r, ISSUER, "AUD_UNEXPECTED_VALUE", false),
        ("4.2 ALLOW_NEVER_MATCHES Null sub true", cond(&format!(r#"{{"Null":{{"$SUB":"true"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", true),
        ("4.2 ALLOW_NEVER_MATCHES positive test on an absent key", cond(&format!(r#"{{"StringEquals":{{"$P:amr":"x",{aud}}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", true),
        ("4.2 ALLOW_NEVER_MATCHES not for Null sub false", cond(&format!(r#"{{"Null":{{"$SUB":"false"}},"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", false),
        ("4.2 OLD_VERSION", good.replace("2012-10-17", "2008-10-17"), r, ISSUER, "OLD_VERSION", true),
        ("4.2 OLD_VERSION not for 2012-10-17", good.clone(), r, ISSUER, "OLD_VERSION", false),
        ("4.2 MISSING_VERSION", good.replace(r#""Version":"2012-10-17","#, ""), r, ISSUER, "MISSING_VERSION", true),
        ("4.2 MISSING_VERSION not when present", good.clone(), r, ISSUER, "MISSING_VERSION", false),
        ("3.1 POLICY_TOO_LARGE over 2,048 non-whitespace chars", doc(&(0..12).map(|i| statement("Allow", FED, WEB, &good_cond.replace("api", &format!("api{i}")))).collect::<Vec<_>>()), r, ISSUER, "POLICY_TOO_LARGE", true),
        ("3.1 POLICY_TOO_LARGE: whitespace does not count", good.replace(',', &format!(",{}", " ".repeat(400))), r, ISSUER, "POLICY_TOO_LARGE", false),
        ("4.2 SID_INVALID", doc(&[good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"trust-payments","#, 1)]), r, ISSUER, "SID_INVALID", true),
        ("4.2 SID_INVALID not for alphanumerics", doc(&[good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"TrustPayments1","#, 1)]), r, ISSUER, "SID_INVALID", false),
        ("4.2 SID_DUPLICATE", doc(&[good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"A","#, 1), good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"A","#, 1)]), r, ISSUER, "SID_DUPLICATE", true),
        ("4.2 SID_DUPLICATE not for distinct Sids", doc(&[good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"A","#, 1), good_cond_stmt(&good_cond).replacen('{', r#"{"Sid":"B","#, 1)]), r, ISSUER, "SID_DUPLICATE", false),
        ("4.2 PRINCIPAL_NOT_OIDC_PROVIDER", doc(&[good_cond_stmt(&good_cond), statement("Allow", r#"{"Service":"ec2.amazonaws.com"}"#, r#""sts:AssumeRole""#, "")]), r, ISSUER, "PRINCIPAL_NOT_OIDC_PROVIDER", true),
        ("4.2 PRINCIPAL_NOT_OIDC_PROVIDER not for the provider", good.clone(), r, ISSUER, "PRINCIPAL_NOT_OIDC_PROVIDER", false),
        ("4.2 NEGATED_SUB_ALLOW deny-list", cond(&format!(r#"{{"StringNotEquals":{{"$SUB":["system:serviceaccount:kube-system:default"]}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "NEGATED_SUB_ALLOW", true),
        ("4.2 NEGATED_SUB_ALLOW not with a positive sub test", cond(&format!(r#"{{"StringNotEquals":{{"$SUB":"system:serviceaccount:payments:web"}},"StringLike":{{"$SUB":"system:serviceaccount:payments:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "NEGATED_SUB_ALLOW", false),
        ("4.2 SUB_UNRESTRICTED no sub condition", cond(&format!(r#"{{"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", true),
        ("4.2 SUB_UNRESTRICTED system:serviceaccount:*", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", true),
        ("4.2 SUB_UNRESTRICTED negated-only (co-finite)", cond(&format!(r#"{{"StringNotEquals":{{"$SUB":"system:serviceaccount:kube-system:default"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", true),
        ("4.2 SUB_UNRESTRICTED vacuous key whatever its text", cond(&format!(r#"{{"StringNotLike":{{"$P:subject":"*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", true),
        ("4.2 SUB_UNRESTRICTED Null-only sub test", cond(&format!(r#"{{"Null":{{"$SUB":"false"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", true),
        ("4.2 SUB_UNRESTRICTED not for a pinned sub", good.clone(), r, ISSUER, "SUB_UNRESTRICTED", false),
        ("4.2 SUB_UNRESTRICTED: a Deny fence makes a wildcard Allow safe", doc(&[statement("Allow", FED, WEB, &format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:*"}},"StringEquals":{{{aud}}}}}"#)), statement("Deny", FED, WEB, r#"{"StringNotEquals":{"$SUB":["system:serviceaccount:payments:api","system:serviceaccount:payments:web"]}}"#)]), r, ISSUER, "SUB_UNRESTRICTED", false),
        ("4.2 SUB_WILDCARD_NAMESPACE *:name", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:*:api"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_NAMESPACE", true),
        ("4.2 SUB_WILDCARD_NAMESPACE prefix pattern pay*", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:pay*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_NAMESPACE", true),
        ("4.2 SUB_WILDCARD_NAMESPACE not for one namespace", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_NAMESPACE", false),
        ("4.2 SUB_WILDCARD_NAMESPACE fenced by a Deny to one namespace", doc(&[statement("Allow", FED, WEB, &format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:*:api"}},"StringEquals":{{{aud}}}}}"#)), statement("Deny", FED, WEB, r#"{"StringNotLike":{"$SUB":"system:serviceaccount:payments:*"}}"#)]), r, ISSUER, "SUB_WILDCARD_NAMESPACE", false),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT ns:*", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", true),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT name pattern api-*", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", true),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT not for listed names", cond(&format!(r#"{{"StringEquals":{{"$SUB":["system:serviceaccount:payments:api","system:serviceaccount:payments:web"],{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", false),
        ("4.2 NEGATED_SUB_ALLOW suppressed when a Deny fence bounds the set", doc(&[statement("Allow", FED, WEB, &format!(r#"{{"StringNotEquals":{{"$SUB":"system:serviceaccount:kube-system:default"}},"StringEquals":{{{aud}}}}}"#)), statement("Deny", FED, WEB, r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#)]), r, ISSUER, "NEGATED_SUB_ALLOW", false),
        ("4.2 ALLOW_NEVER_MATCHES contradictory sub conditions", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"StringLike":{{"$SUB":"system:serviceaccount:web:*"}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", true),
        ("4.2 SUB_VALUE_MALFORMED pattern that no subject matches", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:Payments:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 SUB_VALUE_MALFORMED not for a lowercase pattern", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:*"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", false),
        // `?` is a wildcard like `*`: it admits names nobody wrote.
        ("4.2 SUB_WILDCARD_NAMESPACE ? in the namespace", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:pay?:api"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_NAMESPACE", true),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT ? in the name", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-?"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", true),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT ? in the name, not the namespace", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-?"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_NAMESPACE", false),
        ("4.2 SUB_WILDCARD_NAMESPACE ? fenced by a Deny to a named subject", doc(&[statement("Allow", FED, WEB, &format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:pay?:api"}},"StringEquals":{{{aud}}}}}"#)), statement("Deny", FED, WEB, r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:pay1:api"}}"#)]), r, ISSUER, "SUB_WILDCARD_NAMESPACE", false),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT not for IgnoreCase of a named subject", cond(&format!(r#"{{"StringEqualsIgnoreCase":{{"$SUB":"system:serviceaccount:payments:API"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", false),
        // `${*}`, `${?}`, `${$}` are literal characters, not wildcards.
        ("4.2 SUB_UNRESTRICTED not for an escaped ${*}", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:${{*}}"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_UNRESTRICTED", false),
        ("4.2 SUB_WILDCARD_SERVICEACCOUNT not for an escaped ${*}", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:${{*}}"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_WILDCARD_SERVICEACCOUNT", false),
        ("4.2 SUB_VALUE_MALFORMED an escaped ${?} is a literal ?", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api${{?}}"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 SUB_VALUE_MALFORMED an escaped ${$} is a literal $", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api${{$}}",{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        ("4.2 ALLOW_NEVER_MATCHES an escaped ${*} matches no ServiceAccount", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:${{*}}"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", true),
        ("4.2 SUB_VALUE_MALFORMED a pattern ending in an escaped $ matches no subject", cond(&format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-*${{$}}"}},"StringEquals":{{{aud}}}}}"#)), r, ISSUER, "SUB_VALUE_MALFORMED", true),
        // The request-context model: keys the token never sets are absent, not request-time.
        ("context CONTEXT_DEPENDENT_CONDITION not for a key the token never sets", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"Null":{{"aws:SourceIdentity":"true"}}}}"#)), r, ISSUER, "CONTEXT_DEPENDENT_CONDITION", false),
        ("context ALLOW_NEVER_MATCHES a session tag the token never carries", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud},"aws:RequestTag/team":"payments"}}}}"#)), r, ISSUER, "ALLOW_NEVER_MATCHES", true),
        ("context VACUOUS_CONDITION StringNotEquals on sts:SourceIdentity", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"StringNotEquals":{{"sts:SourceIdentity":"x"}}}}"#)), r, ISSUER, "VACUOUS_CONDITION", true),
        ("context CONTEXT_DEPENDENT_CONDITION not for Null on an always-present key", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"Null":{{"aws:CurrentTime":"false"}}}}"#)), r, ISSUER, "CONTEXT_DEPENDENT_CONDITION", false),
        ("context CONTEXT_DEPENDENT_CONDITION sts:RoleSessionName", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"StringLike":{{"sts:RoleSessionName":"app-*"}}}}"#)), r, ISSUER, "CONTEXT_DEPENDENT_CONDITION", true),
        ("context nothing for aws:FederatedProvider", cond(&format!(r#"{{"StringEquals":{{"$SUB":"system:serviceaccount:payments:api",{aud}}},"ArnEquals":{{"aws:FederatedProvider":"$PROVIDER"}}}}"#)), r, ISSUER, "ANY", false),
    ]
}

fn good_cond_stmt(cond: &str) -> String {
    statement("Allow", FED, WEB, cond)
}

#[test]
fn lint_catalogue_cases() {
    for (rule, policy, role, issuer, code, raised) in lint_cases() {
        let got = lint_codes(&policy, role, issuer);
        if code == "ANY" {
            assert!(got.is_empty(), "rule: {rule}: {got:?}");
            continue;
        }
        assert_eq!(
            got.contains(&code),
            raised,
            "rule: {rule}\npolicy: {policy}\nfindings: {:#?}",
            trust::lint(&policy, role, issuer).unwrap()
        );
    }
}

#[rustfmt::skip]
#[test]
fn catalogue_severities_are_exactly_the_reference() {
    use aws_workload_identity::trust::Code;
    let expected = [
        ("INVALID_JSON", "error"), ("MISSING_STATEMENT", "error"), ("MISSING_EFFECT", "error"), ("INVALID_EFFECT", "error"),
        ("MISSING_PRINCIPAL", "error"), ("NOTPRINCIPAL_NOT_SUPPORTED", "error"), ("WILDCARD_PRINCIPAL_NOT_SUPPORTED", "error"),
        ("PRINCIPAL_PARTIAL_WILDCARD", "error"), ("INVALID_PRINCIPAL_ARN", "error"), ("RESOURCE_NOT_SUPPORTED", "error"),
        ("MISSING_ACTION", "error"), ("INVALID_VERSION", "error"), ("UNKNOWN_CONDITION_OPERATOR", "error"),
        ("EMPTY_CONDITION_VALUES", "error"), ("ISSUER_NOT_HTTPS", "error"), ("SUB_UNRESTRICTED", "critical"),
        ("WILDCARD_AWS_PRINCIPAL", "critical"), ("SUB_WILDCARD_NAMESPACE", "high"), ("NEGATED_SUB_ALLOW", "high"),
        ("VACUOUS_CONDITION", "high"), ("CONDITION_KEY_PROVIDER_MISMATCH", "high"), ("PLACEHOLDER_NOT_REPLACED", "high"),
        ("SUB_WILDCARD_SERVICEACCOUNT", "medium"), ("MISSING_AUD_CONDITION", "medium"), ("UNKNOWN_OIDC_CLAIM_KEY", "medium"),
        ("WILDCARD_WITHOUT_LIKE", "medium"), ("SUB_VALUE_MALFORMED", "medium"), ("FORALLVALUES_ON_SINGLE_VALUED_KEY", "medium"),
        ("FEDERATED_ACCOUNT_MISMATCH", "medium"), ("FEDERATED_ISSUER_MISMATCH", "medium"), ("ACTION_MISSING_WEB_IDENTITY", "medium"),
        ("NOTACTION_IN_TRUST_POLICY", "medium"), ("VARIABLE_NOT_SUPPORTED_IN_VERSION", "medium"), ("CONTEXT_DEPENDENT_CONDITION", "medium"),
        ("ACTION_WILDCARD", "low"), ("IFEXISTS_ON_ALWAYS_PRESENT_KEY", "low"), ("AUD_UNEXPECTED_VALUE", "low"),
        ("ALLOW_NEVER_MATCHES", "low"), ("OLD_VERSION", "low"), ("MISSING_VERSION", "low"), ("POLICY_TOO_LARGE", "low"),
        ("SID_INVALID", "low"), ("SID_DUPLICATE", "low"), ("PRINCIPAL_NOT_OIDC_PROVIDER", "info"), ("ISSUER_TRAILING_SLASH", "info"),
    ];
    assert_eq!(Code::ALL.len(), expected.len());
    for (code, sev) in expected {
        assert_eq!(code.parse::<Code>().map(|c| c.severity().as_str()), Ok(sev), "{code}");
    }
}

#[rustfmt::skip]
#[test]
fn explanation_names_statement_operator_key_and_values() {
    let s = subject("default", "api", STS);
    let policy = doc(&[statement("Allow", FED, WEB, SUB_API)]);
    let v = trust::check(&policy, ROLE, &s).unwrap();
    assert_eq!(v.explanation, [format!("statement 0 condition StringEquals {PREFIX}:sub allows only system:serviceaccount:payments:api")]);

    let with_sid = doc(&[statement("Allow", FED, WEB, SUB_API).replacen('{', r#"{"Sid":"Payments","#, 1)]);
    let v = trust::check(&with_sid, ROLE, &s).unwrap();
    assert!(v.explanation[0].starts_with("statement 0 (Sid \"Payments\") condition StringEquals"), "{:?}", v.explanation);

    let absent = doc(&[statement("Allow", FED, WEB, r#"{"StringEquals":{"oidc.example.com:sub":"system:serviceaccount:default:api"}}"#)]);
    let v = trust::check(&absent, ROLE, &s).unwrap();
    assert!(v.explanation[0].contains("the request has no key oidc.example.com:sub"), "{:?}", v.explanation);

    let other_account = policy.replace("111122223333:oidc", "999999999999:oidc");
    let v = trust::check(&other_account, ROLE, &s).unwrap();
    assert!(v.explanation[0].contains("account 999999999999 but the role is in account 111122223333"), "{:?}", v.explanation);

    let deny = doc(&[statement("Allow", FED, WEB, ""), statement("Deny", FED, WEB, r#"{"StringLike":{"$SUB":"system:serviceaccount:default:*"}}"#)]);
    let v = trust::check(&deny, ROLE, &s).unwrap();
    assert!(v.explanation[0].starts_with("statement 1 denies system:serviceaccount:default:api"), "{:?}", v.explanation);

    let action = doc(&[statement("Allow", FED, r#""sts:AssumeRole""#, "")]);
    let v = trust::check(&action, ROLE, &s).unwrap();
    assert!(v.explanation[0].contains("does not include sts:AssumeRoleWithWebIdentity"), "{:?}", v.explanation);

    let ok = trust::check(&doc(&[statement("Allow", FED, WEB, "")]), ROLE, &s).unwrap();
    assert!(ok.explanation[0].starts_with("statement 0 allows system:serviceaccount:default:api"), "{:?}", ok.explanation);
}

#[test]
fn bad_inputs_are_errors() {
    let s = subject("payments", "api", STS);
    let e = trust::check("{}", "arn:aws:iam::123:role/x", &s)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        r#"role ARN "arn:aws:iam::123:role/x": account "123" is not 12 digits"#
    );
    let v = trust::check("not json", ROLE, &s).unwrap();
    assert!(!v.allowed && !v.valid_document && v.findings[0].code == "INVALID_JSON");
    assert_eq!(
        trust::lint("not json", None, ISSUER).unwrap()[0].code,
        "INVALID_JSON"
    );
    // 2.4 / 3.4: a name with ':' or '*' would forge another sub; Kubernetes refuses it.
    for (ns, sa) in [
        ("pay:ments", "api"),
        ("payments", "api:x"),
        ("*", "api"),
        ("Payments", "api"),
        ("", "api"),
    ] {
        let e = trust::check("{}", ROLE, &subject(ns, sa, STS)).unwrap_err();
        assert!(
            matches!(e, trust::TrustError::InvalidName { .. }),
            "{ns}/{sa}: {e}"
        );
    }
}

#[test]
fn verdict_json_shape() {
    let s = subject("payments", "api", STS);
    let v = trust::check(&doc(&[statement("Allow", FED, WEB, SUB_API)]), ROLE, &s).unwrap();
    let json = serde_json::to_value(&v).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["allowed", "validDocument", "findings", "explanation"]
    );
}

const TEMPLATE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.example.com/abc123:sub":"system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>","oidc.example.com/abc123:aud":"sts.amazonaws.com"}}}]}"#;

#[rustfmt::skip]
#[test]
fn control_plane_template_rendered_and_checked() {
    let unrendered = trust::lint(TEMPLATE, Some(ROLE), ISSUER).unwrap();
    assert!(unrendered.iter().any(|f| f.code == "PLACEHOLDER_NOT_REPLACED"), "{unrendered:#?}");

    let rendered = trust::render(TEMPLATE, "payments", "api").unwrap();
    assert!(rendered.contains("\n"), "pretty printed");
    let v = trust::check(&rendered, ROLE, &subject("payments", "api", STS)).unwrap();
    assert!(v.allowed && v.valid_document, "{v:#?}");
    let v = trust::check(&rendered, ROLE, &subject("payments", "web", STS)).unwrap();
    assert!(!v.allowed);
    let findings = trust::lint(&rendered, Some(ROLE), ISSUER).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");

    // The whole cluster object, with the template as an object or as a string.
    for policy in [TEMPLATE.to_string(), serde_json::to_string(TEMPLATE).unwrap()] {
        let cluster = format!(
            r#"{{"kind":"mk8s","name":"c","status":{{"addOns":{{"awsWorkloadIdentity":{{"oidcProviderConfig":{{"providerUrl":"{ISSUER}","audience":"sts.amazonaws.com"}},"trustPolicy":{policy}}}}}}}}}"#
        );
        let from_cluster = trust::render(&cluster, "payments", "api").unwrap();
        assert_eq!(from_cluster, rendered);
        let p = trust::oidc_provider_config(&cluster).unwrap();
        assert_eq!((p.provider_url.as_str(), p.audience.as_str()), (ISSUER, "sts.amazonaws.com"));
    }
    // The bare template given as a JSON string.
    assert_eq!(trust::render(&serde_json::to_string(TEMPLATE).unwrap(), "payments", "api").unwrap(), rendered);
}

#[rustfmt::skip]
#[test]
fn render_refuses_bad_names_and_missing_templates() {
    for (ns, sa) in [("Payments", "api"), ("pay\"ments", "api"), ("payments", "api\",\"x"), ("", "api"), ("payments", "a*")] {
        assert!(matches!(trust::render(TEMPLATE, ns, sa), Err(trust::TrustError::InvalidName { .. })), "{ns}/{sa}");
    }
    assert!(trust::render(r#"{"status":{}}"#, "a", "b").is_err());
    assert!(trust::render(r#"{"status":{"addOns":{"awsWorkloadIdentity":{}}}}"#, "a", "b").unwrap_err().to_string().contains("trustPolicy is missing"));
    assert!(trust::render("nope", "a", "b").is_err());
    let rendered = trust::render(TEMPLATE, "a", "b").unwrap();
    assert!(trust::render(&rendered, "a", "b").unwrap_err().to_string().contains("no <NAMESPACE>"));
    assert!(trust::oidc_provider_config(r#"{"status":{}}"#).is_err());
    let p = trust::oidc_provider_config(r#"{"status":{"addOns":{"awsWorkloadIdentity":{"oidcProviderConfig":{"providerUrl":"https://h/x"}}}}}"#).unwrap();
    assert_eq!(p.audience, "sts.amazonaws.com");
}

#[rustfmt::skip]
#[test]
fn who_can_assume() {
    let aud = r#""$AUD":"sts.amazonaws.com""#;
    let who = |cond: &str| trust::who(&doc(&[statement("Allow", FED, WEB, cond)]), ROLE, ISSUER, STS).unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("4.2 who: exact names", format!(r#"{{"StringEquals":{{"$SUB":["system:serviceaccount:payments:api","system:serviceaccount:payments:web"],{aud}}}}}"#), vec!["payments/api", "payments/web"]),
        ("4.2 who: a whole namespace", format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:*"}},"StringEquals":{{{aud}}}}}"#), vec!["every ServiceAccount in namespace payments"]),
        ("4.2 who: a name pattern", format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:payments:api-*"}},"StringEquals":{{{aud}}}}}"#), vec!["ServiceAccounts matching \"api-*\" in namespace payments"]),
        ("4.2 who: aud mismatch admits nobody", r#"{"StringEquals":{"$AUD":"other"}}"#.to_string(), vec!["nobody"]),
        ("4.2 who: wildcard namespace is unbounded", format!(r#"{{"StringLike":{{"$SUB":"system:serviceaccount:*:api"}},"StringEquals":{{{aud}}}}}"#), vec!["unbounded"]),
        ("4.2 who: no sub condition is unrestricted", format!(r#"{{"StringEquals":{{{aud}}}}}"#), vec!["unrestricted"]),
    ];
    for (rule, cond, want) in cases {
        let got = who(&cond);
        assert_eq!(got.len(), want.len(), "{rule}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(g.starts_with(w), "{rule}: {got:?}");
        }
    }
    // Allow minus Deny.
    let fenced = doc(&[
        statement("Allow", FED, WEB, r#"{"StringLike":{"$SUB":"system:serviceaccount:payments:*"}}"#),
        statement("Deny", FED, WEB, r#"{"StringNotEquals":{"$SUB":"system:serviceaccount:payments:api"}}"#),
    ]);
    assert_eq!(trust::who(&fenced, ROLE, ISSUER, STS).unwrap(), ["payments/api"]);
    // Request-time conditions over-approximate, with a note.
    let ip = doc(&[statement("Allow", FED, WEB, r#"{"StringEquals":{"$SUB":"system:serviceaccount:payments:api"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)]);
    let lines = trust::who(&ip, ROLE, ISSUER, STS).unwrap();
    assert_eq!(lines[0], "payments/api");
    assert!(lines[1].starts_with("note: statement 0 condition IpAddress aws:SourceIp"), "{lines:?}");
    // Invalid documents admit nobody; unreadable ones are errors.
    assert!(trust::who(r#"{"Statement":[]}"#, ROLE, ISSUER, STS).unwrap()[0].starts_with("nobody: the document is not a valid"));
    assert!(trust::who("nope", ROLE, ISSUER, STS).is_err());
    assert!(trust::who(&fenced, "bad", ISSUER, STS).is_err());
}

/// Close cases of the grammar rules: near misses that IAM accepts, so the code must not be
/// raised and the document stays valid.
#[rustfmt::skip]
#[test]
fn grammar_close_cases_are_valid() {
    let ok = statement("Allow", FED, WEB, SUB_API);
    let principal = |p: &str| doc(&[statement("Allow", p, WEB, SUB_API)]);
    let condition = |c: &str| doc(&[statement("Allow", FED, WEB, c)]);
    let cases: Vec<(&str, String, &str)> = vec![
        ("1.1 JSON with whitespace and Latin-1 text is fine", condition(r#"{"StringEquals":{"$SUB":"système"}}"#), "INVALID_JSON"),
        ("1.1 the same key in two different objects is not a duplicate", doc(&[ok.clone(), ok.clone()]), "INVALID_JSON"),
        ("1.1 a single Statement object is a statement", expand(&format!(r#"{{"Version":"2012-10-17","Statement":{ok}}}"#)), "MISSING_STATEMENT"),
        ("1.3 Effect Deny is valid", doc(&[ok.clone(), statement("Deny", FED, WEB, r#"{"StringEquals":{"$SUB":"x"}}"#)]), "INVALID_EFFECT"),
        ("1.3 Effect present", doc(std::slice::from_ref(&ok)), "MISSING_EFFECT"),
        ("1.4 Principal with one type is enough", principal(r#"{"Federated":["$PROVIDER"]}"#), "MISSING_PRINCIPAL"),
        ("1.4 Principal without NotPrincipal", doc(std::slice::from_ref(&ok)), "NOTPRINCIPAL_NOT_SUPPORTED"),
        ("1.4 {\"AWS\": \"*\"} is accepted by IAM (lint, not error)", principal(r#"{"AWS":"*"}"#), "WILDCARD_PRINCIPAL_NOT_SUPPORTED"),
        ("1.4 a full provider ARN has no partial wildcard", doc(std::slice::from_ref(&ok)), "PRINCIPAL_PARTIAL_WILDCARD"),
        ("1.4 SAML provider and built-in IdPs are valid Federated values", principal(r#"{"Federated":["arn:aws:iam::111122223333:saml-provider/okta","accounts.google.com","$PROVIDER"]}"#), "INVALID_PRINCIPAL_ARN"),
        ("1.4 AWS account IDs and role ARNs are valid", principal(r#"{"AWS":["111122223333","arn:aws:iam::111122223333:role/x"],"Federated":"$PROVIDER"}"#), "INVALID_PRINCIPAL_ARN"),
        ("1.4 provider ARN in another partition is well-formed", principal(r#"{"Federated":"arn:aws-us-gov:iam::111122223333:oidc-provider/h"}"#), "INVALID_PRINCIPAL_ARN"),
        ("1.3 Condition is not a Resource", doc(std::slice::from_ref(&ok)), "RESOURCE_NOT_SUPPORTED"),
        ("1.5 NotAction alone satisfies the Action rule", doc(&[ok.replace("\"Action\"", "\"NotAction\"")]), "MISSING_ACTION"),
        ("1.5 * alone is a valid action", doc(&[statement("Allow", FED, r#""*""#, SUB_API)]), "MISSING_ACTION"),
        ("1.2 2008-10-17 is a valid Version", doc(std::slice::from_ref(&ok)).replace("2012-10-17", "2008-10-17"), "INVALID_VERSION"),
        ("1.2 Version may be absent", doc(std::slice::from_ref(&ok)).replace(r#""Version":"2012-10-17","#, ""), "INVALID_VERSION"),
        ("1.6 qualified operators are known", condition(r#"{"ForAnyValue:StringNotLikeIfExists":{"$SUB":"x"}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 Null with a boolean value", condition(r#"{"Null":{"$SUB":false}}"#), "UNKNOWN_CONDITION_OPERATOR"),
        ("1.6 an empty string is a value", condition(r#"{"StringEquals":{"$SUB":[""]}}"#), "EMPTY_CONDITION_VALUES"),
    ];
    for (rule, policy, code) in cases {
        let (p, findings) = TrustPolicy::parse(&policy).unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert!(p.is_valid(), "rule: {rule}: {findings:#?}");
        assert!(findings.iter().all(|f| f.code != code), "rule: {rule}: {findings:#?}");
    }
}

/// Every IAM condition operator, generated: the absent-key row of the table for each
/// qualifier, and several values (one matching, one not) on a present key.
#[test]
fn every_operator_absent_key_and_several_values() {
    use aws_workload_identity::trust::condition::{BaseOp, Kind};
    // For an ordered kind: the request value `at` and, in ascending order, a value far below,
    // just below, equal to, just above and far above it.
    fn ordered(
        c: condition::Cmp,
        at: &'static str,
        [far_below, below, equal, above, far_above]: [&'static str; 5],
    ) -> (&'static str, &'static str, &'static str) {
        use condition::Cmp;
        let hit = match c {
            Cmp::Eq | Cmp::Le | Cmp::Ge => equal,
            Cmp::Lt => above,
            Cmp::Gt => below,
        };
        let miss = match c {
            Cmp::Lt | Cmp::Le => far_below,
            _ => far_above,
        };
        (at, hit, miss)
    }
    // (request value carried as aud, a policy value it matches, one it does not)
    let sample = |kind: Kind| -> (&str, &str, &str) {
        match kind {
            Kind::String { like: true, .. } => ("sts.amazonaws.com", "sts.*", "x*"),
            Kind::String {
                ignore_case: true, ..
            } => ("sts.amazonaws.com", "STS.amazonaws.COM", "x"),
            Kind::String { .. } | Kind::Binary => ("sts.amazonaws.com", "sts.amazonaws.com", "x"),
            Kind::Numeric(c) => ordered(c, "42", ["1", "41", "42", "43", "100"]),
            Kind::Date(c) => ordered(
                c,
                "2024-01-01T00:00:00Z",
                [
                    "2000-01-01",
                    "2023-01-01",
                    "2024-01-01",
                    "2025-01-01",
                    "2100-01-01",
                ],
            ),
            Kind::Bool => ("true", "true", "false"),
            Kind::Ip => ("10.1.2.3", "10.0.0.0/8", "11.0.0.0/8"),
            Kind::Arn => (
                "arn:aws:iam::111122223333:role/x",
                "arn:aws:iam::*:role/*",
                "arn:aws:iam::*:user/*",
            ),
            Kind::Null => ("sts.amazonaws.com", "false", "true"),
        }
    };
    use aws_workload_identity::trust::condition;
    let mut n = 0;
    for &op in BaseOp::ALL {
        let name = op.name();
        let (request, hit, miss) = sample(op.kind());
        let negated = op.is_negated();
        let mut check = |rule: String, cond: String, aud: &str, want: bool| {
            let policy = with_condition("2012-10-17", &cond);
            run_decision(
                &rule,
                &policy,
                ROLE,
                &subject("payments", "api", aud),
                if want { Allow } else { Deny },
            );
            n += 1;
        };
        if op == BaseOp::Null {
            check(
                "1.6 Null true: absent key -> true".into(),
                r#"{"Null":{"$P:amr":["true"]}}"#.into(),
                STS,
                true,
            );
            check(
                "1.6 Null several values are OR-ed".into(),
                r#"{"Null":{"$AUD":["true","false"]}}"#.into(),
                STS,
                true,
            );
            continue;
        }
        // Absent key: plain, IfExists, ForAnyValue, ForAllValues (IAM's rules for a missing key).
        check(
            format!("1.6 {name} absent key -> {negated}"),
            format!(r#"{{"{name}":{{"$P:amr":"{hit}"}}}}"#),
            request,
            negated,
        );
        check(
            format!("1.6 {name}IfExists absent key -> true"),
            format!(r#"{{"{name}IfExists":{{"$P:amr":"{hit}"}}}}"#),
            request,
            true,
        );
        check(
            format!("1.6 ForAnyValue:{name} absent key -> false"),
            format!(r#"{{"ForAnyValue:{name}":{{"$P:amr":"{hit}"}}}}"#),
            request,
            false,
        );
        check(
            format!("1.6 ForAllValues:{name} absent key -> true"),
            format!(r#"{{"ForAllValues:{name}":{{"$P:amr":"{hit}"}}}}"#),
            request,
            true,
        );
        // Present key, several values: OR for positive operators, NOR for negated ones.
        check(
            format!("1.6 {name} several values, one matching -> {}", !negated),
            format!(r#"{{"{name}":{{"$AUD":["{miss}","{hit}"]}}}}"#),
            request,
            !negated,
        );
        check(
            format!("1.6 {name} several values, none matching -> {negated}"),
            format!(r#"{{"{name}":{{"$AUD":["{miss}","{miss}x"]}}}}"#),
            request,
            negated,
        );
        check(
            format!("1.6 {name}IfExists present key behaves as {name}"),
            format!(r#"{{"{name}IfExists":{{"$AUD":"{hit}"}}}}"#),
            request,
            !negated,
        );
    }
    assert_eq!(n, 26 * 7 + 2);
}
