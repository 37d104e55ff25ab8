//! Kubewarden's `get_resource` error texts, arbitrary ones included: reading one never
//! panics, and the reason a Pod's warning quotes is always one short line.

use aws_workload_identity::admission::{Lookup, ObjectRef};
use aws_workload_identity::kubewarden::get_resource_failure;
use proptest::prelude::*;

/// Pieces of the texts Kubewarden and kube-rs write, to assemble near-misses from.
const FRAGMENTS: &[&str] = &[
    "Host error: ",
    "Callback evaluation failure: ",
    "ApiError: ",
    "ServiceError: ",
    "client error (Connect)",
    " (Status { ",
    " (ErrorResponse { ",
    "code: ",
    "503",
    "99999999",
    "reason: \"",
    "message: \"",
    "\\\"",
    "\\u{",
    "\\u{1F600}",
    "}",
    ")",
    "\"",
    ", ",
    "\n\nCaused by:\n",
    "    0: ",
    "Connection refused",
    "Cannot find v1/ServiceAccount named '",
    "Policy has not been granted access to Kubernetes",
    "é",
    "\r\n",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(FRAGMENTS).prop_map(str::to_string),
                "[a-z ]{0,8}",
            ],
            0..24
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_gives_one_short_line(text in text()) {
        let wanted = ObjectRef::service_account("payments", "api");
        match get_resource_failure(&text) {
            Lookup::Failed(failure) => {
                // The host's whole text, less the waPC guest library's wrapper.
                let host_text = text.trim_start().strip_prefix("Host error: ").unwrap_or(&text);
                prop_assert_eq!(failure.detail.as_str(), host_text);
                let reason = failure.reason(&wanted);
                prop_assert!(!reason.chars().any(char::is_control), "{:?}", reason);
                prop_assert!(reason.chars().count() <= 200, "{:?}", reason);
            }
            Lookup::NotFound => {}
            Lookup::Found(_) => prop_assert!(false, "an error text is never an object"),
        }
    }
}
