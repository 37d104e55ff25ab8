//! The full admission entry on arbitrary bytes, three ways:
//! - as an AdmissionReview: `parse_review`, `request_of`, `needs`, `review`, `answer`;
//! - as a recorded case (`{"settings", "review", "cluster"}`, the files under
//!   tests/fixtures), settings validated as Kubewarden does at load time;
//! - as the waPC glue's payload `{"settings", "request"}`, with the objects `needs` names
//!   answered from an optional `cluster` list, the glue's steps in its order.
//!
//! Checks: no panic, and every patch applies to the object it was made for.
#![no_main]

use aws_workload_identity::admission::{self, Context, Outcome};
use aws_workload_identity::settings::Settings;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn context(settings: &Settings, request: &Value, cluster: Option<&Value>) -> Context {
    let mut context = Context::default();
    let objects = cluster.and_then(Value::as_array);
    for wanted in admission::needs(settings, request) {
        if let Some(found) = objects.and_then(|o| o.iter().find(|o| wanted.matches(o))) {
            context.objects.push(found.clone());
        }
    }
    context
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

fn run(settings: &Settings, review: &Value, cluster: Option<&Value>) {
    let Ok(request) = admission::request_of(review) else {
        return;
    };
    let context = context(settings, request, cluster);
    let outcome = admission::review(settings, request, &context);
    check_patch(request, &outcome);
    let _ = serde_json::to_vec(&admission::answer(review, &outcome));
}

/// What `abi::wapc::decide` does, minus the host call.
fn wapc(payload: &Value) {
    let Ok(settings) =
        Settings::from_value(payload.get("settings").cloned().unwrap_or(Value::Null))
    else {
        return;
    };
    let Some(request @ Value::Object(_)) = payload.get("request") else {
        return;
    };
    let context = context(&settings, request, payload.get("cluster"));
    let outcome = admission::review(&settings, request, &context);
    check_patch(request, &outcome);
    let mutated = request
        .get("object")
        .and_then(|object| outcome.mutated_object(object));
    let _ = serde_json::to_vec(&(
        outcome.allowed,
        &outcome.message,
        &outcome.warnings,
        mutated,
    ));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = admission::parse_review(text) else {
        return;
    };
    run(&Settings::default(), &value, None);
    if let Some(review) = value.get("review")
        && let Ok(settings) = Settings::parse_valid(
            &value
                .get("settings")
                .cloned()
                .unwrap_or(Value::Null)
                .to_string(),
        )
    {
        run(&settings, review, value.get("cluster"));
    }
    if value.get("request").is_some() {
        wapc(&value);
    }
});
