//! ServiceAccount role and trust checks at admission (SPEC section 3).

use serde_json::Value;

use crate::mutation::Credentials;
use crate::settings::Settings;

/// The result of checking a ServiceAccount's role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountReport {
    /// Set when `enforce` rejects the ServiceAccount.
    pub rejection: Option<String>,
    pub warnings: Vec<String>,
}

/// Checks the role annotation of a ServiceAccount being created or updated.
pub fn review_service_account(
    settings: &Settings,
    namespace: &str,
    object: &Value,
) -> ServiceAccountReport {
    let _ = (settings, namespace, object);
    ServiceAccountReport::default()
}

/// Trust problems of the role a Pod was given, as warnings.
pub fn pod_warnings(
    settings: &Settings,
    namespace: &str,
    credentials: &Credentials,
) -> Vec<String> {
    let _ = (settings, namespace, credentials);
    Vec::new()
}
