//! The OIDC side of IRSA, checked offline: what STS reads from a cluster's issuer before it
//! ever looks at a role's trust policy.
//!
//! - [`issuer`]: the issuer URL (the token's `iss`, the IAM OIDC provider's URL);
//! - [`jwks`]: the issuer's JSON Web Key Set and which of its keys STS can use;
//! - [`discovery`]: the two documents an issuer publishes
//!   (`/.well-known/openid-configuration` and the JWKS), made and checked;
//! - [`token`]: a ServiceAccount token decoded, its signature verified with `jsonwebtoken`,
//!   and its claims checked as STS checks them for `sts:AssumeRoleWithWebIdentity`.
//!
//! The trust policy itself is decided by the policy module (the WIT `trust` interface); this
//! module only answers what comes before it.

pub mod discovery;
pub mod issuer;
pub mod jwks;
pub mod token;

pub use discovery::{Rule, Violation, check_discovery, check_jwks, discovery_document};
pub use issuer::{Issuer, IssuerError};
pub use jwks::{Jwks, JwksError, RsaKey};
pub use token::{Accepted, Expectations, Refusal, StsVerdict, Token, TokenError};
