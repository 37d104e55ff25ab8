//! The per-container rules (Amazon's webhook): which env vars are already
//! "defined" (by name only, `valueFrom` counts, `envFrom` does not), the early exit, the
//! injection order, and the read-only token mount.

use json_patch::jsonptr::PointerBuf;
use serde_json::{Value, json};

use super::patch::{Ops, has_named};
use super::resolve::{Mode, Plan};
use super::{MutationError, pod};
use awi_trust::json::type_name;

const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
const AWS_REGION: &str = "AWS_REGION";
const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
const AWS_STS_REGIONAL_ENDPOINTS: &str = "AWS_STS_REGIONAL_ENDPOINTS";

/// Mutates every container of the list `key` (`containers` or `initContainers`; ephemeral
/// containers are never touched); the names of those `skip-containers` leaves alone are
/// added to `skipped`.
pub fn containers(
    spec: &serde_json::Map<String, Value>,
    key: &str,
    plan: &Plan,
    ops: &mut Ops,
    skipped: &mut Vec<String>,
) -> Result<(), MutationError> {
    let Some(list) = pod::opt_array(spec, key, || format!("spec.{key}"))? else {
        return Ok(());
    };
    for (index, container) in list.iter().enumerate() {
        let at = Location {
            key,
            index,
            pointer: {
                let mut pointer = PointerBuf::from_tokens(["spec", key]);
                pointer.push_back(index);
                pointer
            },
        };
        container_ops(container, &at, plan, ops, skipped)?;
    }
    Ok(())
}

/// Where a container is: for JSON Pointers and for messages.
struct Location<'a> {
    key: &'a str,
    index: usize,
    /// `/spec/<key>/<index>`.
    pointer: PointerBuf,
}

impl Location<'_> {
    fn field(&self, member: &str) -> String {
        format!("spec.{}[{}]{member}", self.key, self.index)
    }

    fn add(&self, ops: &mut Ops, member: &[&str], value: Value) {
        ops.add_under(&self.pointer, member.iter().copied(), value);
    }
}

fn container_ops(
    container: &Value,
    at: &Location,
    plan: &Plan,
    ops: &mut Ops,
    skipped: &mut Vec<String>,
) -> Result<(), MutationError> {
    let Some(container) = container.as_object() else {
        return Err(MutationError::WrongType {
            field: at.field(""),
            expected: "an object",
            found: type_name(container),
        });
    };
    let name = pod::opt_str(container, "name", || at.field(".name"))?.unwrap_or("");
    if plan.skip.contains(name) {
        skipped.push(name.to_string());
        return Ok(());
    }
    let env = pod::opt_array(container, "env", || at.field(".env"))?;
    // A list, not a set: containers have a handful of env entries, and hashing the names
    // cost more than scanning them.
    let names: Vec<&str> = env
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("name").and_then(Value::as_str))
        .collect();
    let defined = |name: &str| names.contains(&name);
    let any = |names: &[&str]| names.iter().any(|n| defined(n));

    let credentials_defined = match plan.mode {
        Mode::WebIdentity { .. } => any(&[AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE]),
        Mode::ContainerCredentials { .. } => any(&[
            AWS_CONTAINER_CREDENTIALS_FULL_URI,
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
        ]),
    };
    let region_defined = any(&[AWS_REGION, AWS_DEFAULT_REGION]);
    let sts_defined = any(&[AWS_STS_REGIONAL_ENDPOINTS]);
    // The reference's early exit: all three present leaves the container alone, mount
    // included, even where the policy would not inject region or STS itself.
    if credentials_defined && region_defined && sts_defined {
        return Ok(());
    }

    let mut added: Vec<(&str, &str)> = Vec::new();
    if !sts_defined && plan.regional_sts {
        added.push((AWS_STS_REGIONAL_ENDPOINTS, "regional"));
    }
    if let Some(region) = plan.region.as_deref().filter(|r| !r.is_empty())
        && !region_defined
    {
        added.push((AWS_DEFAULT_REGION, region));
        added.push((AWS_REGION, region));
    }
    if !credentials_defined {
        match &plan.mode {
            Mode::WebIdentity { role_arn } => {
                added.push((AWS_ROLE_ARN, role_arn));
                added.push((AWS_WEB_IDENTITY_TOKEN_FILE, &plan.token_file_path));
            }
            Mode::ContainerCredentials { full_uri } => {
                added.push((AWS_CONTAINER_CREDENTIALS_FULL_URI, full_uri));
                added.push((
                    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
                    &plan.token_file_path,
                ));
            }
        }
    }
    if let Some(session_name) = &plan.session_name
        && !defined(AWS_ROLE_SESSION_NAME)
    {
        added.push((AWS_ROLE_SESSION_NAME, session_name));
    }

    let entries = added
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }));
    if env.is_some() {
        for entry in entries {
            at.add(ops, &["env", "-"], entry);
        }
    } else {
        let entries: Vec<Value> = entries.collect();
        if !entries.is_empty() {
            at.add(ops, &["env"], Value::Array(entries));
        }
    }

    let mount = json!({ "name": plan.volume_name, "readOnly": true, "mountPath": plan.mount_path });
    match pod::opt_array(container, "volumeMounts", || at.field(".volumeMounts"))? {
        None => at.add(ops, &["volumeMounts"], json!([mount])),
        Some(mounts) if has_named(mounts, &plan.volume_name) => {}
        Some(_) => at.add(ops, &["volumeMounts", "-"], mount),
    }
    Ok(())
}

/// The credentials the containers and init containers of `spec` not listed in `skip` carry:
/// the first `AWS_ROLE_ARN` for web identity (`""` when set by `valueFrom`), else an
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` for container credentials. `None` when every
/// container is skipped: such a Pod is given no credentials at all.
pub fn injected(
    spec: &serde_json::Map<String, Value>,
    skip: &std::collections::BTreeSet<String>,
) -> Result<Option<Injected>, MutationError> {
    let mut considered = false;
    let mut container_credentials = false;
    for key in ["containers", "initContainers"] {
        let Some(list) = pod::opt_array(spec, key, || format!("spec.{key}"))? else {
            continue;
        };
        for (index, container) in list.iter().enumerate() {
            let field = |member: &str| format!("spec.{key}[{index}]{member}");
            let Some(container) = container.as_object() else {
                return Err(MutationError::WrongType {
                    field: field(""),
                    expected: "an object",
                    found: type_name(container),
                });
            };
            let name = pod::opt_str(container, "name", || field(".name"))?.unwrap_or("");
            if skip.contains(name) {
                continue;
            }
            considered = true;
            let env = pod::opt_array(container, "env", || field(".env"))?;
            for entry in env.into_iter().flatten() {
                match entry.get("name").and_then(Value::as_str) {
                    Some(AWS_ROLE_ARN) => {
                        let role_arn = entry.get("value").and_then(Value::as_str).unwrap_or("");
                        return Ok(Some(Injected::WebIdentity {
                            role_arn: role_arn.to_string(),
                        }));
                    }
                    Some(AWS_CONTAINER_CREDENTIALS_FULL_URI) => container_credentials = true,
                    _ => {}
                }
            }
        }
    }
    Ok(considered.then_some(if container_credentials {
        Injected::ContainerCredentials
    } else {
        Injected::Nothing
    }))
}

/// The AWS credentials a Pod's containers carry (after the mutation, or set by hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injected {
    /// No container has AWS credentials.
    Nothing,
    /// A container has `AWS_ROLE_ARN`, with this value.
    WebIdentity {
        /// The value of the first `AWS_ROLE_ARN`.
        role_arn: String,
    },
    /// A container has `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity).
    ContainerCredentials,
}
