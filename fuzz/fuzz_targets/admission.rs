//! The full admission entry on arbitrary bytes, three ways:
//! - as an AdmissionReview: `parse_review`, `request_of`, `admission::decide`, `answer`;
//! - as a recorded case (`{"settings", "review", "cluster"}`, the files under
//!   tests/fixtures), settings prepared as Kubewarden does at load time;
//! - as the waPC payload `{"settings", "request"}` through `kubewarden::Validator`, the code
//!   the module runs, with the objects `needs` names answered from an optional `cluster`
//!   list.
//!
//! Checks: no panic, and every patch applies to the object it was made for.
#![no_main]

use aws_workload_identity::admission::{self, Lookup, ObjectRef, Outcome, Prepared};
use aws_workload_identity::kubewarden::Validator;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The object of `cluster` (a JSON array, if any) that `wanted` names.
fn lookup(cluster: Option<&Value>, wanted: &ObjectRef) -> Lookup {
    match cluster
        .and_then(Value::as_array)
        .and_then(|objects| objects.iter().find(|o| wanted.matches(o)))
    {
        Some(found) => Lookup::Found(found.clone()),
        None => Lookup::NotFound,
    }
}

fn check_patch(request: &Value, outcome: &Outcome) {
    if outcome.patch.0.is_empty() {
        return;
    }
    assert!(outcome.allowed, "a rejection carries a patch");
    let object = request.get("object").cloned().unwrap_or(Value::Null);
    assert!(
        outcome.mutated_object(&object).is_some(),
        "the patch does not apply: {}",
        serde_json::to_string(&outcome.patch).unwrap_or_default()
    );
}

fn run(prepared: &Prepared, review: &Value, cluster: Option<&Value>) {
    let Ok(request) = admission::request_of(review) else {
        return;
    };
    let outcome = admission::decide(prepared, request, |wanted| lookup(cluster, wanted));
    check_patch(request, &outcome);
    let _ = serde_json::to_vec(&admission::answer(review, &outcome));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = admission::parse_review(text) else {
        return;
    };
    run(&Prepared::default(), &value, None);
    if let Some(review) = value.get("review")
        && let Ok(prepared) = Prepared::parse(
            &value
                .get("settings")
                .cloned()
                .unwrap_or(Value::Null)
                .to_string(),
        )
    {
        run(&prepared, review, value.get("cluster"));
    }
    if value.get("request").is_some() {
        let cluster = value.get("cluster");
        let response = Validator::new().validate(data, |wanted| lookup(cluster, wanted));
        assert!(
            response.accepted || response.mutated_object.is_none(),
            "a rejection carries a mutated object"
        );
        let _ = serde_json::to_vec(&response);
    }
});
