//! Kubewarden's protocol, natively: the `validate` call on its payload bytes and the
//! `validate_settings` call, answered with the policy SDK's own `ValidationResponse` and
//! `SettingsValidationResponse` (the SDK without its default features, so natively too).
//!
//! Kept out of the admission core (which knows nothing of Kubewarden) and out of the wasm32
//! glue (which only answers the host capability), so that the whole per-request work of a
//! Kubewarden call is compiled and measured natively. The waPC glue in `abi` holds a
//! [`Validator`] and maps Kubewarden's `get_resource` answers to [`Lookup`], its error texts
//! with [`get_resource_failure`] ([`host_error`]).

pub mod host_error;

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::admission::{self, LogRecord, Lookup, ObjectRef, SettingsCache};
use crate::mutation;
pub use host_error::get_resource_failure;

/// A request the policy cannot read: rejected with code 400. An error would become an HTTP
/// 500 on the host instead.
fn unreadable(message: String) -> ValidationResponse {
    ValidationResponse {
        accepted: false,
        message: Some(message),
        code: Some(400),
        mutated_object: None,
        audit_annotations: None,
        warnings: None,
    }
}

/// Kubewarden's `validate` call: payload `{"settings": …, "request": …}` in, a
/// [`ValidationResponse`] out; `lookup` reads the objects [`admission::needs`] names.
///
/// A policy server sends the same settings with every request, so the settings of the last
/// call are kept, prepared, and reused while the payload carries the same settings text;
/// the settings are not even parsed into a tree then, only scanned.
#[derive(Debug, Default)]
pub struct Validator {
    settings: SettingsCache,
}

/// The `validate` payload, settings left as text for [`Validator::settings`].
struct Payload<'a> {
    settings: Option<&'a RawValue>,
    request: Option<Value>,
}

impl<'de> Deserialize<'de> for Payload<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // By hand: a derived struct would also accept a JSON array of the two values.
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Payload<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object with settings and request")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Payload<'de>, A::Error> {
                let mut payload = Payload {
                    settings: None,
                    request: None,
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "settings" => payload.settings = Some(map.next_value()?),
                        "request" => payload.request = Some(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(payload)
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl Validator {
    /// A validator with an empty settings cache.
    pub fn new() -> Validator {
        Validator::default()
    }

    /// A validator on a settings cache the caller shares with other entries.
    pub fn with_cache(settings: SettingsCache) -> Validator {
        Validator { settings }
    }

    /// The settings cache, for the other entries of the same module.
    pub fn settings_cache(&mut self) -> &mut SettingsCache {
        &mut self.settings
    }

    /// Answers one `validate` payload; `lookup` reads the Pod's ServiceAccount.
    pub fn validate(
        &mut self,
        payload: &[u8],
        lookup: impl FnMut(&ObjectRef) -> Lookup,
    ) -> ValidationResponse {
        self.validate_logged(payload, lookup).0
    }

    /// [`Validator::validate`], with the log record of the decision for the glue to emit;
    /// `None` for a payload that is not a request (it never reached a decision).
    pub fn validate_logged(
        &mut self,
        payload: &[u8],
        lookup: impl FnMut(&ObjectRef) -> Lookup,
    ) -> (ValidationResponse, Option<LogRecord>) {
        match self.answer(payload, lookup) {
            Ok((response, record)) => (response, Some(record)),
            Err(message) => (unreadable(message), None),
        }
    }

    /// Kubewarden's `validate_settings` call on the settings JSON: valid, with the
    /// deploy-time warnings (high or critical findings of the configured trust policies) as
    /// the message, or refused with why.
    pub fn validate_settings(&mut self, payload: &[u8]) -> SettingsValidationResponse {
        let prepared = std::str::from_utf8(payload)
            .map_err(|e| format!("settings: not UTF-8: {e}"))
            .and_then(|text| self.settings.get(text).map_err(|e| e.to_string()));
        match prepared {
            Ok(prepared) => {
                // Valid, but a configured trust policy that is too open is worth seeing at
                // deploy time.
                let warnings = prepared.deploy_warnings();
                SettingsValidationResponse {
                    valid: true,
                    message: (!warnings.is_empty()).then(|| warnings.join("; ")),
                }
            }
            Err(message) => SettingsValidationResponse {
                valid: false,
                message: Some(message),
            },
        }
    }

    fn answer(
        &mut self,
        payload: &[u8],
        lookup: impl FnMut(&ObjectRef) -> Lookup,
    ) -> Result<(ValidationResponse, LogRecord), String> {
        let payload: Payload = serde_json::from_slice(payload).map_err(|e| {
            if e.is_data() {
                format!("validation request: {e}")
            } else {
                format!("validation request: not valid JSON: {e}")
            }
        })?;
        let prepared = self
            .settings
            .get(payload.settings.map_or("null", RawValue::get))
            .map_err(|e| e.to_string())?;
        let mut request = match payload.request {
            Some(request @ Value::Object(_)) => request,
            _ => return Err("validation request: no AdmissionRequest object".to_string()),
        };
        let outcome = admission::decide(&prepared, &request, lookup);
        let record = outcome.log_record();
        let annotations = outcome.audit_annotations();
        // The request is ours: the object is patched in place instead of copied.
        let mutated_object = match request.get_mut("object") {
            Some(object) if !outcome.patch.0.is_empty() => {
                let mut object = object.take();
                // The patch was built against this very object, so it applies.
                mutation::apply(&mut object, outcome.patch)
                    .ok()
                    .map(|()| object)
            }
            _ => None,
        };
        let response = ValidationResponse {
            accepted: outcome.allowed,
            message: outcome.message,
            code: outcome.code,
            mutated_object,
            audit_annotations: (!annotations.is_empty()).then(|| annotations.into_iter().collect()),
            warnings: (!outcome.warnings.is_empty()).then_some(outcome.warnings),
        };
        Ok((response, record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload(settings: Value) -> Vec<u8> {
        let request = json!({
            "uid": "u1",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE",
            "namespace": "ns",
            "object": {"metadata": {"name": "p"}, "spec": {"serviceAccountName": "sa", "containers": [{"name": "c"}]}}
        });
        serde_json::to_vec(&json!({"settings": settings, "request": request})).unwrap()
    }

    fn service_account(_: &ObjectRef) -> Lookup {
        Lookup::Found(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "sa", "namespace": "ns",
                "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r"}}
        }))
    }

    fn env_names(response: &ValidationResponse) -> Vec<String> {
        let object = response.mutated_object.as_ref().expect("mutated");
        object["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn validator_follows_changed_settings() {
        let mut validator = Validator::new();
        let first = validator.validate(&payload(json!({})), service_account);
        assert!(first.accepted);
        assert!(!env_names(&first).contains(&"AWS_REGION".to_string()));
        let second = validator.validate(&payload(json!({"region": "eu-west-1"})), service_account);
        assert!(env_names(&second).contains(&"AWS_REGION".to_string()));
        let bad = validator.validate(&payload(json!({"tokenExpiraton": 1})), service_account);
        assert!(!bad.accepted);
        assert_eq!(bad.code, Some(400));
        let again = validator.validate(&payload(json!({"region": "eu-west-1"})), service_account);
        assert_eq!(json!(again), json!(second));
    }

    #[test]
    fn validator_answers_unreadable_payloads() {
        let mut validator = Validator::new();
        let not_json = validator.validate(b"{", service_account);
        assert!(!not_json.accepted);
        assert!(
            not_json
                .message
                .unwrap()
                .starts_with("validation request: not valid JSON")
        );
        for no_request in [&b"{}"[..], br#"{"settings": {}, "request": [1]}"#] {
            let answer = validator.validate(no_request, service_account);
            assert_eq!(
                answer.message.as_deref(),
                Some("validation request: no AdmissionRequest object")
            );
        }
        // Not the object the protocol sends, also as an array of settings and request.
        let array = validator.validate(br#"[{}, {"uid": "u"}]"#, service_account);
        assert_eq!(array.code, Some(400));
        let message = array.message.unwrap();
        assert!(
            message.starts_with(
                "validation request: invalid type: sequence, expected an object with settings and request"
            ),
            "{message}"
        );
    }

    #[test]
    fn missing_service_account_is_a_warning() {
        let mut validator = Validator::new();
        let answer = validator.validate(&payload(json!({})), |_: &ObjectRef| Lookup::NotFound);
        assert!(answer.accepted);
        assert!(answer.mutated_object.is_none());
        assert_eq!(answer.warnings.unwrap().len(), 1);
    }

    /// Settings whose trust-policy template lists its members in another order, for a role
    /// whose trust policy does not trust `ns/sa`.
    fn template_settings(statement: Value) -> Value {
        let provider = "arn:aws:iam::111122223333:oidc-provider/oidc.example/x";
        json!({
            "trustValidation": "warn",
            "oidcProvider": {"providerUrl": "https://oidc.example/x"},
            "trustPolicy": {"Version": "2012-10-17", "Statement": [statement]},
            "roleTrustPolicies": {"arn:aws:iam::111122223333:role/r": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"oidc.example/x:sub": "system:serviceaccount:other:sa"}}}]
            }}
        })
    }

    #[test]
    fn member_order_counts_for_the_settings_cache() {
        // The order shows in the trust policy the warning proposes, so settings that differ
        // only in order must not share a cache entry.
        let provider = "arn:aws:iam::111122223333:oidc-provider/oidc.example/x";
        let condition = json!({"StringEquals": {"oidc.example/x:sub": "system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>"}});
        let effect_first = template_settings(json!({"Effect": "Allow",
            "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition}));
        let action_first = template_settings(json!({"Action": "sts:AssumeRoleWithWebIdentity",
            "Effect": "Allow", "Principal": {"Federated": provider}, "Condition": condition}));
        let mut validator = Validator::new();
        let warning = |validator: &mut Validator, settings: &Value| {
            let answer = validator.validate(&payload(settings.clone()), service_account);
            assert!(answer.accepted);
            answer
                .warnings
                .expect("the untrusted role is reported")
                .join("\n")
        };
        let first = warning(&mut validator, &effect_first);
        assert!(
            first.contains(r#"{"Effect":"Allow","Principal""#),
            "{first}"
        );
        let second = warning(&mut validator, &action_first);
        assert!(
            second.contains(r#"{"Action":"sts:AssumeRoleWithWebIdentity","Effect""#),
            "{second}"
        );
        assert_eq!(warning(&mut validator, &effect_first), first);
    }
}
