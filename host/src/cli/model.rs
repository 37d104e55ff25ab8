//! The records the commands exchange with the policy module: the WIT records as the host
//! library maps them, and the answer to one review.

use serde_json::Value;

// The WIT records, as the host library maps them.
pub use awi::{Finding, Objects, Subject, Verdict};

/// The module's answer to one review.
pub struct Reviewed {
    /// The AdmissionReview with its response.
    pub answer: Value,
    /// The records the policy sent to Kubewarden's log, as policy-server receives them.
    pub logs: Vec<Value>,
}
