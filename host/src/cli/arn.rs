//! Syntax of the IAM identifiers given on the command line (role ARN, account, role name),
//! checked before anything runs so that a typo in a flag is bad input (exit 2), not a
//! "not allowed" answer. The grammars are the trust engine's own (`awi_trust::arn`); this
//! module only words the flag errors.

use awi_trust::RoleArn;
use awi_trust::arn::{MAX_ROLE_NAME, is_account_id, is_role_name};

/// Checks `arn:<partition>:iam::<12 digits>:role<path><name>`; the error says what is wrong.
pub fn parse_role_arn(arn: &str) -> Result<RoleArn, String> {
    RoleArn::parse(arn).map_err(|e| e.to_string())
}

/// An AWS account ID is exactly 12 digits.
pub fn check_account(account: &str) -> Result<(), String> {
    if is_account_id(account) {
        Ok(())
    } else {
        Err(format!("account {account:?} must be exactly 12 digits"))
    }
}

/// A role name is 1 to 64 characters of `[A-Za-z0-9+=,.@_-]`.
pub fn check_role_name(name: &str) -> Result<(), String> {
    if is_role_name(name) {
        Ok(())
    } else {
        Err(format!(
            "role name {name:?} must be 1 to {MAX_ROLE_NAME} characters of A-Z a-z 0-9 + = , . @ _ -"
        ))
    }
}

/// The account in a Federated principal `arn:<p>:iam::<account>:oidc-provider/<host/path>`,
/// with its partition.
pub fn provider_arn_parts(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    resource
        .starts_with("oidc-provider/")
        .then_some((partition, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let arn = parse_role_arn("arn:aws:iam::111122223333:role/payments-api").unwrap();
        assert_eq!(arn.account(), "111122223333");
        assert_eq!(arn.name(), "payments-api");
        assert_eq!(arn.path(), "/");
        let arn = parse_role_arn("arn:aws-cn:iam::012345678901:role/app/x/Name_1").unwrap();
        assert_eq!(arn.path(), "/app/x/");
        assert_eq!(arn.name(), "Name_1");
        for bad in [
            "payments-api",
            "arn:aws:iam::1111:role/x",
            "arn:aws:iam:us-east-1:111122223333:role/x",
            "arn:aws:s3::111122223333:role/x",
            "arn:awz:iam::111122223333:role/x",
            "arn:aws:iam::111122223333:user/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role/a b",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_accounts() {
        assert!(check_role_name("payments-api").is_ok());
        assert!(check_role_name(&"a".repeat(65)).is_err());
        assert!(check_account("11112222333").is_err());
        assert_eq!(
            provider_arn_parts("arn:aws:iam::111122223333:oidc-provider/oidc.example/abc"),
            Some(("aws", "111122223333"))
        );
        assert_eq!(provider_arn_parts("arn:aws:iam::111122223333:role/x"), None);
    }
}
