//! Building the RFC 6902 patch: `add` operations only, each adding exactly what the policy
//! owns (an env entry, a mount, the volume, the label), so that no field of the Pod is ever
//! rewritten. Pod-level edits (label, volume) live here; per-container edits in
//! [`super::container`].

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation};
use serde_json::{Map, Value, json};

use super::resolve::{POD_IDENTITY_LABEL, Plan};
use super::{MutationError, pod};

/// The operations of one mutation, in the order they are applied.
#[derive(Debug, Default)]
pub struct Ops(Vec<PatchOperation>);

impl Ops {
    /// `add` `value` at the path made of `tokens` (escaped as JSON Pointer tokens).
    pub fn add<'t>(&mut self, tokens: impl IntoIterator<Item = &'t str>, value: Value) {
        self.0.push(PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(tokens),
            value,
        }));
    }

    pub fn into_patch(self) -> Patch {
        Patch(self.0)
    }
}

/// The container-credentials label, unless it already says `enabled`.
pub fn label(pod: &Map<String, Value>, ops: &mut Ops) -> Result<(), MutationError> {
    let entry = || json!({ POD_IDENTITY_LABEL: "enabled" });
    let Some(metadata) = pod::opt_object(pod, "metadata", || "metadata".to_string())? else {
        ops.add(["metadata"], json!({ "labels": entry() }));
        return Ok(());
    };
    match pod::opt_object(metadata, "labels", || "metadata.labels".to_string())? {
        None => ops.add(["metadata", "labels"], entry()),
        Some(labels)
            if labels.get(POD_IDENTITY_LABEL).and_then(Value::as_str) == Some("enabled") => {}
        // `add` on an existing member replaces it: the policy owns this label.
        Some(_) => ops.add(["metadata", "labels", POD_IDENTITY_LABEL], json!("enabled")),
    }
    Ok(())
}

/// The projected token volume, prepended at index 0 like the reference, unless a volume of
/// that name exists (whatever its source).
pub fn volume(spec: &Map<String, Value>, plan: &Plan, ops: &mut Ops) -> Result<(), MutationError> {
    let mut token = Map::new();
    // Go omits an empty audience; the API server then uses its own default audience.
    if !plan.audience.is_empty() {
        token.insert("audience".into(), json!(plan.audience));
    }
    token.insert("expirationSeconds".into(), json!(plan.expiration));
    token.insert("path".into(), json!(plan.token_file));
    let volume = json!({
        "name": plan.volume_name,
        "projected": { "sources": [ { "serviceAccountToken": token } ] },
    });
    match pod::opt_array(spec, "volumes", || "spec.volumes".to_string())? {
        None => ops.add(["spec", "volumes"], json!([volume])),
        Some(volumes) if has_named(volumes, &plan.volume_name) => {}
        Some(_) => ops.add(["spec", "volumes", "0"], volume),
    }
    Ok(())
}

/// Whether `items` has an object whose `name` is `name` (the reference's only test).
pub fn has_named(items: &[Value], name: &str) -> bool {
    items
        .iter()
        .any(|item| item.get("name").and_then(Value::as_str) == Some(name))
}
