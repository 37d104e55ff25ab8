//! Kubewarden glue: the waPC entry points `validate`, `validate_settings` and
//! `protocol_version` over [`crate::admission`].
//!
//! The only host capability used is `kubernetes/get_resource`, to read what
//! [`admission::needs`] names (the Pod's ServiceAccount). It is called with the cache
//! disabled: a ServiceAccount annotated a moment before its Pod is created must be seen.

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use serde_json::{Value, json};

use crate::admission::{self, Context, ObjectRef};
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

/// Answers every request, also malformed ones, with a ValidationResponse: an `Err` here
/// would become an HTTP 500 on the host.
fn validate(payload: &[u8]) -> CallResult {
    let response = decide(payload).unwrap_or_else(|message| ValidationResponse {
        accepted: false,
        message: Some(message),
        code: Some(400),
        mutated_object: None,
        audit_annotations: None,
        warnings: None,
    });
    Ok(serde_json::to_vec(&response)?)
}

fn decide(payload: &[u8]) -> Result<ValidationResponse, String> {
    let payload: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("validation request: not valid JSON: {e}"))?;
    let settings = Settings::from_value(payload.get("settings").cloned().unwrap_or(Value::Null))
        .map_err(|e| e.to_string())?;
    let request = match payload.get("request") {
        Some(request @ Value::Object(_)) => request,
        _ => return Err("validation request: no AdmissionRequest object".to_string()),
    };
    let mut context = Context::default();
    for wanted in admission::needs(&settings, request) {
        match get_resource(&wanted) {
            Ok(object) => context.objects.push(object),
            // Kubewarden reports a missing object only through this text.
            Err(reason) if reason.contains("Cannot find") => {}
            Err(reason) => context.failures.push((wanted, reason)),
        }
    }
    let outcome = admission::review(&settings, request, &context);
    let mutated_object = request
        .get("object")
        .and_then(|object| outcome.mutated_object(object));
    Ok(ValidationResponse {
        accepted: outcome.allowed,
        message: outcome.message,
        code: outcome.code,
        mutated_object,
        audit_annotations: None,
        warnings: (!outcome.warnings.is_empty()).then_some(outcome.warnings),
    })
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
