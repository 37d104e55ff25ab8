//! The IAM trust-policy engine for `sts:AssumeRoleWithWebIdentity`.
