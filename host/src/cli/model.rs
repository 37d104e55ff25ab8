//! What the commands ask the policy module, independent of how the module is run.
//!
//! [`Module`] is the seam between the commands and the wasmtime host library, so that the
//! commands' parsing, formatting and exit codes can be unit-tested without wasmtime.

use serde_json::Value;

use super::error::Outcome;

// The WIT records, as the host library maps them.
pub use awi::{Finding, Objects, Subject, Verdict};

/// The module's answer to one review.
pub struct Reviewed {
    /// The AdmissionReview with its response.
    pub answer: Value,
    /// The records the policy sent to Kubewarden's log, as policy-server receives them.
    pub logs: Vec<Value>,
}

/// The policy module's functions the commands use. Errors are the module's own messages
/// (bad input) or a host failure; both end the command with exit 2.
pub trait Module {
    /// `Ok(Err(message))` when the policy refuses the settings.
    fn validate_settings(&mut self, settings: &Value) -> Outcome<Result<(), String>>;

    /// Runs the policy on `review` (an AdmissionReview) as Kubewarden would, answering
    /// `kubernetes/get_resource` from `cluster`; returns the AdmissionReview response and
    /// the records the policy logged.
    fn review(&mut self, settings: &Value, review: &Value, cluster: &Objects) -> Outcome<Reviewed>;

    /// `context`: values of condition keys only STS knows, `(key, value)` each.
    fn check(
        &mut self,
        policy: &str,
        role_arn: &str,
        subject: &Subject,
        context: &[(String, String)],
    ) -> Outcome<Verdict>;

    fn lint(&mut self, policy: &str, role_arn: &str, issuer: &str) -> Outcome<Vec<Finding>>;

    fn render(&mut self, template: &str, namespace: &str, service_account: &str)
    -> Outcome<String>;

    fn who(
        &mut self,
        policy: &str,
        role_arn: &str,
        issuer: &str,
        audience: &str,
    ) -> Outcome<Vec<String>>;
}
