//! Pod mutation: Amazon's pod identity webhook, reproduced on the raw Pod JSON.
//!
//! [`inject_web_identity`] decides which credentials a Pod gets (web identity from the
//! ServiceAccount's role, or container credentials for the ServiceAccounts listed in the
//! settings) and returns an RFC 6902 patch of `add` operations only, each adding exactly
//! one thing the policy owns. The Pod is never decoded into a typed model, so fields this
//! code does not know (newer Kubernetes versions, other mutators) survive untouched.
//!
//! Every rule of Amazon's webhook (`aws/amazon-eks-pod-identity-webhook`, `pkg/handler`) holds,
//! quirks included; the deliberate differences are:
//! - admitting an already mutated Pod gives an empty patch (the label is only set when it
//!   is not already `enabled`);
//! - Windows is also recognised from `spec.os.name: windows`;
//! - the container-credentials jitter is a hash of the request UID, so a review is
//!   reproducible;
//! - the ServiceAccount annotation `<prefix>/region` overrides the `region` setting;
//! - `AWS_ROLE_SESSION_NAME` on request (setting `roleSessionName`);
//! - `serviceAccountRoles` entries take the top-level settings for omitted fields;
//! - invalid annotation values fall back like the reference, and say so in a warning.
//!
//! Module map: [`annotations`] holds the value grammars, `resolve` the parameter
//! precedence, `container` the per-container rules, `patch` the Pod-level operations and
//! [`apply`], and `pod` the typed reads of the raw JSON.

pub mod annotations;
mod container;
mod patch;
mod pod;
mod resolve;

use json_patch::Patch;
use serde_json::Value;

pub use container::Injected;
pub use patch::{ApplyError, apply};

use crate::settings::Settings;

/// One Pod to mutate, with what the host read for it.
#[derive(Debug, Clone, Copy)]
pub struct PodRequest<'a> {
    /// `request.object`.
    pub pod: &'a Value,
    /// `request.namespace`, or the Pod's own.
    pub namespace: &'a str,
    /// `request.uid`; seeds the container-credentials jitter.
    pub uid: &'a str,
    /// The ServiceAccount as the cluster returned it; `None` when it does not exist or could
    /// not be read.
    pub service_account: Option<&'a Value>,
}

/// The mutation of one Pod.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Injection {
    /// `add` operations only; empty when the Pod is admitted unchanged.
    pub patch: Patch,
    /// What the Pod is given; `None` when nothing applies to it.
    pub credentials: Option<Credentials>,
    /// Invalid annotation values that were ignored or adjusted, naming object, key and value.
    pub warnings: Vec<String>,
    /// Containers and init containers left alone because `skip-containers` names them, in
    /// Pod order.
    pub skipped_containers: Vec<String>,
}

/// The credentials a Pod is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// IRSA: `AWS_ROLE_ARN` and a projected token for `sts:AssumeRoleWithWebIdentity`.
    WebIdentity {
        /// The Pod's ServiceAccount.
        service_account: String,
        /// `AWS_ROLE_ARN`.
        role_arn: String,
        /// The projected token's audience.
        audience: String,
        /// The projected token's lifetime in seconds.
        expiration: i64,
    },
    /// EKS Pod Identity: a projected token for the container credentials endpoint.
    ContainerCredentials {
        /// The Pod's ServiceAccount.
        service_account: String,
        /// The projected token's audience.
        audience: String,
        /// The projected token's lifetime in seconds.
        expiration: i64,
    },
}

/// A Pod the policy cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MutationError {
    /// `request.object` is not a JSON object.
    #[error("Pod: expected an object, got {found}")]
    NotAnObject {
        /// What it is instead.
        found: &'static str,
    },
    /// A field the mutation reads has the wrong JSON type.
    #[error("Pod {field}: expected {expected}, got {found}")]
    WrongType {
        /// Dotted path of the field, e.g. `spec.containers[0].env`.
        field: String,
        /// What the Pod schema wants there.
        expected: &'static str,
        /// What the field holds.
        found: &'static str,
    },
}

/// `spec.serviceAccountName`, `default` when absent or empty (the ServiceAccount admission
/// plugin sets it so before webhooks run).
pub fn service_account_name(pod: &Value) -> Result<&str, MutationError> {
    let object = pod::object(pod)?;
    let Some(spec) = pod::opt_object(object, "spec", || "spec".to_string())? else {
        return Ok("default");
    };
    let name = pod::opt_str(spec, "serviceAccountName", || {
        "spec.serviceAccountName".to_string()
    })?;
    Ok(name.filter(|n| !n.is_empty()).unwrap_or("default"))
}

/// The credentials for the Pod of `request` and the patch that injects them.
pub fn inject_web_identity(
    settings: &Settings,
    request: &PodRequest,
) -> Result<Injection, MutationError> {
    let service_account = service_account_name(request.pod)?;
    let pod = pod::object(request.pod)?;
    let mut warnings = Vec::new();
    let Some(plan) = resolve::plan(settings, request, pod, service_account, &mut warnings)? else {
        return Ok(Injection {
            warnings,
            ..Injection::default()
        });
    };
    let spec = pod::spec(pod)?;
    let mut ops = patch::Ops::default();
    // The reference's order: label, volume, containers, init containers.
    if plan.label {
        patch::label(pod, &mut ops)?;
    }
    patch::volume(spec, &plan, &mut ops)?;
    let mut skipped_containers = Vec::new();
    container::containers(spec, "containers", &plan, &mut ops, &mut skipped_containers)?;
    container::containers(
        spec,
        "initContainers",
        &plan,
        &mut ops,
        &mut skipped_containers,
    )?;
    Ok(Injection {
        patch: ops.into_patch(),
        credentials: Some(plan.credentials()),
        warnings,
        skipped_containers,
    })
}

/// The AWS credentials the containers of `pod` carry now (what an earlier admission
/// injected, or the Pod's author set), in the containers its `<prefix>/skip-containers`
/// annotation does not name; `None` when it names them all.
pub fn injected_credentials(
    settings: &Settings,
    pod: &Value,
    namespace: &str,
) -> Result<Option<Injected>, MutationError> {
    let object = pod::object(pod)?;
    let Some(spec) = pod::opt_object(object, "spec", || "spec".to_string())? else {
        return Ok(None);
    };
    // The mutation has warned about an unreadable list already.
    let skip = resolve::skipped_containers(
        object,
        &settings.annotation_prefix,
        namespace,
        &mut Vec::new(),
    )?;
    container::injected(spec, &skip)
}

/// How messages name the Pod: `Pod <namespace>/<name>`, its generateName, or its namespace.
pub fn pod_display_name(pod: &Value, namespace: &str) -> String {
    match pod.as_object() {
        Some(object) => pod::display_name(object, namespace),
        None => format!("Pod in namespace {namespace}"),
    }
}
