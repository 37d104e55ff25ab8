//! Kubewarden glue: the waPC entry points `validate`, `validate_settings` and
//! `protocol_version` over [`crate::kubewarden`].
//!
//! The request itself is answered by [`crate::kubewarden::Validator`]; this glue only reads
//! what [`crate::admission::needs`] names through the one host capability it uses,
//! `kubernetes/get_resource` (the Pod's ServiceAccount), and says what Kubewarden's answer
//! means. It is called with the cache disabled: a ServiceAccount annotated a moment before
//! its Pod is created must be seen.

use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use serde_json::json;

use super::with_validator;
use crate::admission::{Lookup, ObjectRef, ReadFailure};
use crate::kubewarden::get_resource_failure;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// Answers every request, also malformed ones, with a ValidationResponse: an `Err` here
/// would become an HTTP 500 on the host.
fn validate(payload: &[u8]) -> CallResult {
    let response = with_validator(|validator| validator.validate(payload, get_resource));
    Ok(serde_json::to_vec(&response)?)
}

/// Kubewarden's `kubernetes/get_resource`. Kubewarden says why an object could not be read
/// (it does not exist included) only through the text of its error, which
/// [`get_resource_failure`] reads.
fn get_resource(wanted: &ObjectRef) -> Lookup {
    let request = json!({
        "api_version": wanted.api_version,
        "kind": wanted.kind,
        "name": wanted.name,
        "namespace": wanted.namespace,
        "disable_cache": true,
        "field_masks": null,
    });
    match guest::host_call(
        "kubewarden",
        "kubernetes",
        "get_resource",
        request.to_string().as_bytes(),
    ) {
        Ok(answer) => match serde_json::from_slice(&answer) {
            Ok(object) => Lookup::Found(object),
            Err(e) => Lookup::Failed(ReadFailure::other(&format!(
                "host answered with invalid JSON: {e}"
            ))),
        },
        Err(e) => get_resource_failure(&e.to_string()),
    }
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let response = with_validator(|validator| validator.validate_settings(payload));
    Ok(serde_json::to_vec(&response)?)
}
