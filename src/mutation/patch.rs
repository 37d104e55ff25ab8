//! Building the RFC 6902 patch: `add` operations only, each adding exactly what the policy
//! owns (an env entry, a mount, the volume, the label), so that no field of the Pod is ever
//! rewritten. Pod-level edits (label, volume) live here; per-container edits in
//! [`super::container`].

use json_patch::jsonptr::index::Index;
use json_patch::jsonptr::{Pointer, PointerBuf, Token};
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
        self.add_under(Pointer::root(), tokens, value);
    }

    /// `add` `value` at `tokens` under `prefix` (a container's pointer, made once for all
    /// its operations).
    pub fn add_under<'t>(
        &mut self,
        prefix: &Pointer,
        tokens: impl IntoIterator<Item = &'t str>,
        value: Value,
    ) {
        // One buffer sized up front: growing the prefix's copy token by token reallocates
        // on almost every operation, and a Pod patch has several per container.
        let mut text = String::with_capacity(prefix.as_str().len() + 32);
        text.push_str(prefix.as_str());
        for token in tokens {
            text.push('/');
            text.push_str(Token::new(token).encoded());
        }
        let path = PointerBuf::parse(text).unwrap_or_else(|e| unreachable!("encoded tokens: {e}"));
        self.0
            .push(PatchOperation::Add(AddOperation { path, value }));
    }

    pub fn into_patch(self) -> Patch {
        Patch(self.0)
    }
}

/// Why a patch does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("patch operation {index} at {path:?}: {reason}")]
pub struct ApplyError {
    /// Index of the operation in the patch.
    pub index: usize,
    /// The operation's path.
    pub path: String,
    /// Why it does not apply.
    pub reason: &'static str,
}

impl ApplyError {
    fn new(index: usize, path: &Pointer, reason: &'static str) -> ApplyError {
        ApplyError {
            index,
            path: path.to_string(),
            reason,
        }
    }
}

/// Applies the `add` operations of `patch` to `target` as RFC 6902 does, moving each value
/// into place: `json_patch::patch` borrows the patch and so copies every value, which is a
/// sizeable part of a request when the answer is the whole mutated Pod.
pub fn apply(target: &mut Value, patch: Patch) -> Result<(), ApplyError> {
    let mut operations = patch.0.into_iter().enumerate().peekable();
    while let Some((index, operation)) = operations.next() {
        let failed = |path: &Pointer, reason| ApplyError::new(index, path, reason);
        let PatchOperation::Add(AddOperation { path, value }) = operation else {
            return Err(failed(operation.path(), "only add operations are applied"));
        };
        let Some((parent, last)) = path.split_back() else {
            *target = value;
            continue;
        };
        let node = walk(target, parent).map_err(|reason| failed(&path, reason))?;
        insert(node, &last, value).map_err(|reason| failed(&path, reason))?;
        // The operations that follow under the same parent (a container's env entries)
        // reuse the walk.
        while let Some((index, PatchOperation::Add(next))) = operations.next_if(
            |(_, op)| matches!(op, PatchOperation::Add(add) if add.path.parent() == Some(parent)),
        ) {
            let last = next
                .path
                .last()
                .unwrap_or_else(|| unreachable!("has a parent"));
            insert(node, &last, next.value)
                .map_err(|reason| ApplyError::new(index, &next.path, reason))?;
        }
    }
    Ok(())
}

/// The value at `path`, which must exist.
fn walk<'v>(target: &'v mut Value, path: &Pointer) -> Result<&'v mut Value, &'static str> {
    let mut node = target;
    for token in path.tokens() {
        node = match node {
            Value::Object(members) => members.get_mut(token.decoded().as_ref()),
            Value::Array(items) => match token.to_index() {
                Ok(Index::Num(i)) => items.get_mut(i),
                _ => None,
            },
            _ => None,
        }
        .ok_or("the parent path does not exist")?;
    }
    Ok(node)
}

/// RFC 6902 `add` of `value` as member or index `last` of `parent`.
fn insert(parent: &mut Value, last: &Token, value: Value) -> Result<(), &'static str> {
    match parent {
        Value::Object(members) => {
            members.insert(last.decoded().into_owned(), value);
        }
        Value::Array(items) => match last.to_index() {
            Ok(Index::Next) => items.push(value),
            Ok(Index::Num(i)) if i <= items.len() => items.insert(i, value),
            _ => return Err("not an index of the array"),
        },
        _ => return Err("the parent is neither an object nor an array"),
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(ops: Value) -> Patch {
        serde_json::from_value(ops).unwrap()
    }

    #[test]
    fn pointers_escape_only_what_needs_it() {
        let mut ops = Ops::default();
        ops.add(
            ["metadata", "labels", "eks.amazonaws.com/pod-identity"],
            json!("enabled"),
        );
        ops.add(["spec", "containers", "0", "env", "-"], json!({}));
        ops.add(["a~b"], json!(1));
        let paths: Vec<String> = ops.0.iter().map(|op| op.path().to_string()).collect();
        assert_eq!(
            paths,
            [
                "/metadata/labels/eks.amazonaws.com~1pod-identity",
                "/spec/containers/0/env/-",
                "/a~0b"
            ]
        );
    }

    #[test]
    fn apply_adds_like_rfc_6902() {
        let mut pod =
            json!({"metadata": {"labels": {"a": "1"}}, "spec": {"volumes": [{"name": "v"}]}});
        let ops = patch(json!([
            {"op": "add", "path": "/metadata/labels/eks.amazonaws.com~1pod-identity", "value": "enabled"},
            {"op": "add", "path": "/metadata/labels/a", "value": "2"},
            {"op": "add", "path": "/spec/volumes/0", "value": {"name": "token"}},
            {"op": "add", "path": "/spec/volumes/-", "value": {"name": "last"}},
            {"op": "add", "path": "/spec/volumes/3", "value": {"name": "end"}}
        ]));
        apply(&mut pod, ops).unwrap();
        assert_eq!(
            pod.to_string(),
            json!({"metadata": {"labels": {"a": "2", "eks.amazonaws.com/pod-identity": "enabled"}},
                "spec": {"volumes": [{"name": "token"}, {"name": "v"}, {"name": "last"}, {"name": "end"}]}})
            .to_string()
        );
        let mut whole = json!({"a": 1});
        apply(
            &mut whole,
            patch(json!([{"op": "add", "path": "", "value": [1]}])),
        )
        .unwrap();
        assert_eq!(whole, json!([1]));
    }

    #[test]
    fn apply_refuses_what_does_not_apply() {
        let refused = |ops: Value| {
            let mut pod = json!({"spec": {"containers": [{"name": "c"}], "n": 1}});
            apply(&mut pod, patch(ops)).unwrap_err().to_string()
        };
        assert_eq!(
            refused(json!([{"op": "add", "path": "/spec/missing/x", "value": 1}])),
            "patch operation 0 at \"/spec/missing/x\": the parent path does not exist"
        );
        assert_eq!(
            refused(json!([{"op": "add", "path": "/spec/containers/2", "value": 1}])),
            "patch operation 0 at \"/spec/containers/2\": not an index of the array"
        );
        // The second operation reuses the walk of the first and still names itself.
        assert_eq!(
            refused(json!([
                {"op": "add", "path": "/spec/containers/-", "value": 1},
                {"op": "add", "path": "/spec/containers/3", "value": 1}
            ])),
            "patch operation 1 at \"/spec/containers/3\": not an index of the array"
        );
        assert_eq!(
            refused(json!([{"op": "add", "path": "/spec/n/x", "value": 1}])),
            "patch operation 0 at \"/spec/n/x\": the parent is neither an object nor an array"
        );
        assert_eq!(
            refused(
                json!([{"op": "add", "path": "/spec/a", "value": 1}, {"op": "remove", "path": "/spec/n"}])
            ),
            "patch operation 1 at \"/spec/n\": only add operations are applied"
        );
    }
}
