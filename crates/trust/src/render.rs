//! The Control Plane trust-policy template: filling `<NAMESPACE>` / `<SERVICE_ACCOUNT>`, and
//! reading the OIDC provider configuration of a cluster object.
//!
//! Control Plane publishes both under `.status.addOns.awsWorkloadIdentity` of the cluster
//! (`cpln mk8s get -o json`): `trustPolicy` (an object or a string holding one) and
//! `oidcProviderConfig` (`{providerUrl, audience}`). Either the bare template or the whole
//! cluster object is accepted. Names are checked against the Kubernetes grammars before they
//! are substituted, so nothing can be injected into the JSON or widen a `StringLike`.

use serde_json::Value;

use super::lint::PLACEHOLDERS;
use crate::error::TrustError;
use crate::json::type_name;
use crate::source::parse_strict;
use serde::{Deserialize, Serialize};

use crate::evaluate::STS_AUDIENCE;

/// The cluster's OIDC provider as Control Plane publishes it at
/// `.status.addOns.awsWorkloadIdentity.oidcProviderConfig`: the issuer the engine evaluates
/// against, and the audience its tokens carry. The settings key `oidcProvider` holds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcProvider {
    /// The issuer URL, with `https://` (`providerUrl`).
    pub provider_url: String,
    #[serde(default = "default_audience")]
    /// The token audience; `sts.amazonaws.com` when not given.
    pub audience: String,
}

fn default_audience() -> String {
    STS_AUDIENCE.to_string()
}

const ADDON_PATH: [&str; 3] = ["status", "addOns", "awsWorkloadIdentity"];

/// Fills the template for a namespace and ServiceAccount; returns pretty-printed JSON.
///
/// ```
/// use awi_trust::render;
/// let t = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///   "Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc"},
///   "Action":"sts:AssumeRoleWithWebIdentity",
///   "Condition":{"StringEquals":{"oidc.example.com/abc:sub":"system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>"}}}]}"#;
/// let out = render(t, "payments", "api").unwrap();
/// assert!(out.contains("system:serviceaccount:payments:api"));
/// assert!(render(t, "Payments", "api").is_err());
/// ```
pub fn render(
    template: &str,
    namespace: &str,
    service_account: &str,
) -> Result<String, TrustError> {
    crate::k8s::check_names(namespace, service_account)?;
    let mut policy = find_template(template)?;
    let mut replaced = 0usize;
    let mut stack = vec![&mut policy];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if PLACEHOLDERS.iter().any(|p| s.contains(p)) => {
                *s = s
                    .replace("<NAMESPACE>", namespace)
                    .replace("<SERVICE_ACCOUNT>", service_account);
                replaced += 1;
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
    if replaced == 0 {
        return Err(TrustError::Template(
            "the trust policy has no <NAMESPACE> or <SERVICE_ACCOUNT> placeholder; is it already rendered?".to_string(),
        ));
    }
    serde_json::to_string_pretty(&policy).map_err(|e| TrustError::Template(e.to_string()))
}

/// The template in `text`: the bare template (object or JSON string) or the cluster object.
pub fn find_template(text: &str) -> Result<Value, TrustError> {
    let value = parse_strict(text.trim())
        .map_err(|e| TrustError::Template(format!("not valid JSON: {e}")))?;
    let value = match value {
        Value::String(inner) => parse_strict(inner.trim())
            .map_err(|e| TrustError::Template(format!("the string does not hold JSON: {e}")))?,
        other => other,
    };
    let cluster = single_item(&value);
    let addon = ADDON_PATH.iter().try_fold(cluster, |v, k| v.get(k));
    let policy = match addon {
        Some(addon) => addon.get("trustPolicy").ok_or_else(|| {
            TrustError::Template(
                ".status.addOns.awsWorkloadIdentity.trustPolicy is missing from the cluster object"
                    .to_string(),
            )
        })?,
        None if value.get("Statement").is_some() => &value,
        None => {
            return Err(TrustError::Template(
                "expected a trust-policy template (an object with Statement) or a cluster object with .status.addOns.awsWorkloadIdentity.trustPolicy".to_string(),
            ));
        }
    };
    match policy {
        Value::Object(_) => Ok(policy.clone()),
        Value::String(s) => match parse_strict(s.trim()) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(other) => Err(TrustError::Template(format!(
                "trustPolicy holds {}, expected an object",
                type_name(&other)
            ))),
            Err(e) => Err(TrustError::Template(format!(
                "trustPolicy is not valid JSON: {e}"
            ))),
        },
        other => Err(TrustError::Template(format!(
            "trustPolicy is {}, expected an object or a string",
            type_name(other)
        ))),
    }
}

/// A `List` with exactly one item stands for that item.
fn single_item(value: &Value) -> &Value {
    match value.get("items").and_then(Value::as_array) {
        Some(items) if items.len() == 1 => items.first().unwrap_or(value),
        _ => value,
    }
}

/// Reads `.status.addOns.awsWorkloadIdentity.oidcProviderConfig` from a cluster object
/// (`cpln mk8s get -o json`); the audience defaults to `sts.amazonaws.com`.
///
/// ```
/// use awi_trust::oidc_provider_config;
/// let c = r#"{"status":{"addOns":{"awsWorkloadIdentity":{"oidcProviderConfig":
///   {"providerUrl":"https://oidc.example.com/abc","audience":"sts.amazonaws.com"}}}}}"#;
/// let p = oidc_provider_config(c).unwrap();
/// assert_eq!(p.provider_url, "https://oidc.example.com/abc");
/// ```
pub fn oidc_provider_config(cluster: &str) -> Result<OidcProvider, TrustError> {
    let value = parse_strict(cluster.trim())
        .map_err(|e| TrustError::Template(format!("cluster object: not valid JSON: {e}")))?;
    let cluster = single_item(&value);
    let config = ADDON_PATH
        .iter()
        .try_fold(cluster, |v, k| v.get(k))
        .and_then(|a| a.get("oidcProviderConfig"))
        .ok_or_else(|| {
            TrustError::Template(
                ".status.addOns.awsWorkloadIdentity.oidcProviderConfig is missing; is the awsWorkloadIdentity add-on enabled on the cluster?".to_string(),
            )
        })?;
    let field = |name: &str| -> Result<Option<String>, TrustError> {
        match config.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(TrustError::Template(format!(
                "oidcProviderConfig.{name} is {}, expected a string",
                type_name(other)
            ))),
        }
    };
    let provider_url = field("providerUrl")?.ok_or_else(|| {
        TrustError::Template("oidcProviderConfig.providerUrl is missing".to_string())
    })?;
    if !provider_url.starts_with("https://") {
        return Err(TrustError::Template(format!(
            "oidcProviderConfig.providerUrl {provider_url:?} is not an https:// URL"
        )));
    }
    let audience = field("audience")?
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| STS_AUDIENCE.to_string());
    Ok(OidcProvider {
        provider_url,
        audience,
    })
}
