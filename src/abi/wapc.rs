//! Kubewarden glue: the waPC entry points `validate`, `validate_settings` and
//! `protocol_version` over [`crate::admission`].
//!
//! The request itself is answered by [`Validator`]; this glue only reads what
//! [`crate::admission::needs`] names through the one host capability it uses,
//! `kubernetes/get_resource` (the Pod's ServiceAccount). It is called with the cache
//! disabled: a ServiceAccount annotated a moment before its Pod is created must be seen.

use std::cell::RefCell;

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use serde_json::{Value, json};

use crate::admission::{ObjectRef, Validator};
use crate::settings::Settings;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

thread_local! {
    /// Kept across calls: the instance is reused, and with it the parsed settings.
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new());
}

/// Answers every request, also malformed ones, with a ValidationResponse: an `Err` here
/// would become an HTTP 500 on the host.
fn validate(payload: &[u8]) -> CallResult {
    let response = VALIDATOR.with(|validator| match validator.try_borrow_mut() {
        Ok(mut validator) => validator.validate(payload, get_resource),
        // Not reentrant; should the host ever nest calls, answer without the cache.
        Err(_) => Validator::new().validate(payload, get_resource),
    });
    Ok(serde_json::to_vec(&response)?)
}

fn get_resource(wanted: &ObjectRef) -> Result<Value, String> {
    let request = json!({
        "api_version": wanted.api_version,
        "kind": wanted.kind,
        "name": wanted.name,
        "namespace": wanted.namespace,
        "disable_cache": true,
        "field_masks": null,
    });
    let answer = guest::host_call(
        "kubewarden",
        "kubernetes",
        "get_resource",
        request.to_string().as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    serde_json::from_slice(&answer).map_err(|e| format!("host answered with invalid JSON: {e}"))
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let response = match std::str::from_utf8(payload)
        .map_err(|e| format!("settings: not UTF-8: {e}"))
        .and_then(|text| Settings::parse_valid(text).map_err(|e| e.to_string()))
    {
        // Valid, but a configured trust policy that is too open is worth seeing at deploy time.
        Ok(settings) => {
            let warnings = settings.trust_warnings();
            SettingsValidationResponse {
                valid: true,
                message: (!warnings.is_empty()).then(|| warnings.join("; ")),
            }
        }
        Err(message) => SettingsValidationResponse {
            valid: false,
            message: Some(message),
        },
    };
    Ok(serde_json::to_vec(&response)?)
}
