//! `awi review` and `awi mutate`: the admission half of the module, run as Kubewarden runs it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};

use super::diff;
use super::error::{EXIT_NO, Failure, Outcome};
use awi_trust::json::type_name;

use super::host::Session;
use super::input::{parse_document, read_document, read_objects, read_text, str_at};
use super::model::Objects;
use super::trust::Printed;

/// The settings of `--settings` (`{}` when absent), already accepted by the module.
pub fn load_settings(module: &mut Session, path: Option<&Path>) -> Outcome<Value> {
    let Some(path) = path else {
        return Ok(json!({}));
    };
    let origin = format!("--settings {}", path.display());
    let mut settings = read_document(path, "--settings")?;
    // A ClusterAdmissionPolicy manifest carries the settings under spec.settings.
    let is_policy = str_at(&settings, "/kind").is_some_and(|k| k.ends_with("AdmissionPolicy"));
    if is_policy {
        settings = settings
            .pointer("/spec/settings")
            .cloned()
            .unwrap_or_else(|| json!({}));
    }
    if settings.is_null() {
        settings = json!({});
    }
    if !settings.is_object() {
        return Err(Failure::input(format!(
            "{origin}: expected a settings object, found {}",
            type_name(&settings)
        )));
    }
    module
        .validate_settings(&settings)?
        .map_err(|message| Failure::input(format!("{origin}: invalid settings: {message}")))?;
    Ok(settings)
}

/// The objects the cluster "has": every `--service-account` file's documents.
pub fn load_cluster(paths: &[PathBuf]) -> Outcome<Objects> {
    let mut objects = Vec::new();
    for path in paths {
        objects.extend(read_objects(path, "--service-account")?);
    }
    Ok(Objects::new(objects))
}

/// Turns the REVIEW file into an AdmissionReview: an AdmissionReview as is, a bare
/// AdmissionRequest wrapped (kwctl accepts both).
pub fn as_review(document: Value, origin: &str) -> Outcome<Value> {
    let Value::Object(map) = &document else {
        return Err(Failure::input(format!(
            "{origin}: expected an AdmissionReview object, found {}",
            type_name(&document)
        )));
    };
    match map.get("kind").and_then(Value::as_str) {
        Some("AdmissionReview") => match map.get("request") {
            Some(Value::Object(_)) => Ok(document),
            _ => Err(Failure::input(format!(
                "{origin}: the AdmissionReview has no request object"
            ))),
        },
        Some(kind) if !map.contains_key("request") && map.contains_key("metadata") => {
            Err(Failure::input(format!(
                "{origin}: this is a {kind}, not an AdmissionReview (use `awi mutate` for a Pod manifest)"
            )))
        }
        _ if map.contains_key("object") || map.contains_key("operation") => Ok(json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": document,
        })),
        _ => Err(Failure::input(format!(
            "{origin}: expected an AdmissionReview or an AdmissionRequest (with operation and object)"
        ))),
    }
}

/// The JSON Patch operations of an AdmissionResponse (empty when there is none).
pub fn patch_ops(response: &Value) -> Outcome<Vec<Value>> {
    let Some(patch) = response.get("patch").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .map_err(|e| {
            Failure::input(format!(
                "the module answered a patch that is not base64: {e}"
            ))
        })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Array(ops)) => Ok(ops),
        _ => Err(Failure::input(
            "the module answered a patch that is not a JSON Patch array",
        )),
    }
}

/// `object` with the patch applied.
pub fn apply(object: &Value, ops: &[Value]) -> Outcome<Value> {
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops.to_vec()))
        .map_err(|e| Failure::input(format!("the module answered an invalid JSON Patch: {e}")))?;
    let mut mutated = object.clone();
    json_patch::patch(&mut mutated, &patch)
        .map_err(|e| Failure::input(format!("the module's patch does not apply: {e}")))?;
    Ok(mutated)
}

pub struct ReviewArgs<'a> {
    pub review: &'a Path,
    pub settings: Option<&'a Path>,
    pub service_accounts: &'a [PathBuf],
    /// The host error every ServiceAccount read fails with, when set.
    pub service_account_error: Option<&'a str>,
    pub diff: bool,
    /// Also return the policy's log records, one JSON line each, for stderr.
    pub log: bool,
}

/// The answer (or the diff) for stdout, and with `--log` the policy's log records as JSON
/// lines for stderr.
pub fn review(module: &mut Session, args: &ReviewArgs) -> Outcome<(Printed, Vec<String>)> {
    let origin = format!("REVIEW {}", args.review.display());
    let text = read_text(args.review, "REVIEW")?;
    let review = as_review(parse_document(&text, &origin)?, &origin)?;
    let mut cluster = load_cluster(args.service_accounts)?;
    if let Some(error) = args.service_account_error {
        cluster.fail_every_read(error);
    }
    let settings = load_settings(module, args.settings)?;
    let reviewed = module.review(&settings, &review, &cluster)?;
    let answer = reviewed.answer;
    let response = answer.get("response").cloned().unwrap_or(Value::Null);
    let allowed = response.get("allowed").and_then(Value::as_bool) == Some(true);
    let stdout = if args.diff {
        let object = review
            .pointer("/request/object")
            .cloned()
            .unwrap_or(Value::Null);
        let ops = patch_ops(&response)?;
        let mutated = if allowed {
            Some(apply(&object, &ops)?)
        } else {
            None
        };
        diff::render(&object, mutated.as_ref(), &response, &ops)
    } else {
        let pretty = serde_json::to_string_pretty(&answer).unwrap_or_else(|_| answer.to_string());
        format!("{pretty}\n")
    };
    let logs = if args.log {
        reviewed.logs.iter().map(Value::to_string).collect()
    } else {
        Vec::new()
    };
    let printed = Printed {
        stdout,
        code: if allowed { 0 } else { EXIT_NO },
    };
    Ok((printed, logs))
}

pub struct MutateArgs<'a> {
    pub pod: &'a Path,
    pub service_accounts: &'a [PathBuf],
    pub settings: Option<&'a Path>,
    pub namespace: Option<&'a str>,
}

/// The mutated Pod as YAML, and the warnings for stderr.
pub fn mutate(module: &mut Session, args: &MutateArgs) -> Outcome<(String, Vec<String>)> {
    let origin = format!("POD {}", args.pod.display());
    let text = read_text(args.pod, "POD")?;
    let mut pod = parse_document(&text, &origin)?;
    if !pod.is_object() {
        return Err(Failure::input(format!(
            "{origin}: expected a Pod object, found {}",
            type_name(&pod)
        )));
    }
    match str_at(&pod, "/kind") {
        Some("Pod") => {}
        Some(other) => {
            return Err(Failure::input(format!(
                "{origin}: expected kind Pod, found {other}"
            )));
        }
        None => {
            return Err(Failure::input(format!(
                "{origin}: expected kind Pod, found no kind"
            )));
        }
    }
    let namespace = pod_namespace(&pod, args.namespace, &origin)?;
    // The API server fills in the namespace before admission; do the same.
    match pod
        .as_object_mut()
        .map(|p| p.entry("metadata").or_insert_with(|| json!({})))
    {
        Some(Value::Object(metadata)) => {
            metadata.insert("namespace".into(), json!(namespace));
        }
        _ => {
            return Err(Failure::input(format!(
                "{origin}: metadata must be an object"
            )));
        }
    }
    let review = creation_review(&pod, &namespace);
    let pod = review["request"]["object"].clone();
    let cluster = load_cluster(args.service_accounts)?;
    let settings = load_settings(module, args.settings)?;
    let answer = module.review(&settings, &review, &cluster)?.answer;
    let response = answer.get("response").cloned().unwrap_or(Value::Null);
    let warnings: Vec<String> = response
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if response.get("allowed").and_then(Value::as_bool) != Some(true) {
        let message = str_at(&response, "/status/message").unwrap_or("no reason given");
        return Err(Failure::input(format!(
            "{origin}: the policy rejects this Pod: {message}"
        )));
    }
    let ops = patch_ops(&response)?;
    // The manifest as written (without the namespace filled in above), unless the patch
    // needs what the API server would have filled in.
    let original = parse_document(&text, &origin)?;
    let mutated = match apply(&original, &ops) {
        Ok(mutated) => mutated,
        Err(_) => apply(&pod, &ops)?,
    };
    // Print in the order the manifest was written, not in sorted-key order.
    let layout = serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap_or_default();
    let yaml = serde_yaml::to_string(&in_order_of(&mutated, &layout))
        .map_err(|e| Failure::input(format!("cannot print the Pod as YAML: {e}")))?;
    Ok((yaml, warnings))
}

/// The namespace the Pod is created in: its own, `--namespace`, or `default`.
fn pod_namespace(pod: &Value, flag: Option<&str>, origin: &str) -> Outcome<String> {
    let own = str_at(pod, "/metadata/namespace").filter(|n| !n.is_empty());
    match (own, flag) {
        (Some(own), Some(flag)) if own != flag => Err(Failure::input(format!(
            "{origin}: the Pod's namespace {own} does not match --namespace {flag}"
        ))),
        (_, Some("")) => Err(Failure::input("--namespace: must not be empty")),
        (Some(ns), _) | (None, Some(ns)) => Ok(ns.to_string()),
        (None, None) => Ok("default".to_string()),
    }
}

/// The AdmissionReview the API server would send for `kubectl create` of `pod`.
pub fn creation_review(pod: &Value, namespace: &str) -> Value {
    let name = str_at(pod, "/metadata/name").unwrap_or("");
    let gvk = json!({"group": "", "version": "v1", "kind": "Pod"});
    let gvr = json!({"group": "", "version": "v1", "resource": "pods"});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            // Fixed so that repeated runs print the same Pod (the jitter derives from it).
            "uid": "00000000-0000-0000-0000-000000000000",
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": name,
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "awi"},
            "object": pod,
            "oldObject": null,
            "dryRun": true,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// `value` as YAML with its mapping keys in the order of `layout` (the document as the user
/// wrote it); keys `layout` lacks come after, sorted. List items are matched by `name`,
/// else by position, so that an item inserted at the front keeps the others' layout; new
/// items follow the layout of the first item.
pub fn in_order_of(value: &Value, layout: &serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    match value {
        Value::Object(map) => {
            let mut out = serde_yaml::Mapping::new();
            let written = layout.as_mapping();
            let known = written
                .into_iter()
                .flat_map(|m| m.keys())
                .filter_map(Y::as_str)
                .filter(|k| map.contains_key(*k));
            let others = map
                .keys()
                .map(String::as_str)
                .filter(|k| written.is_none_or(|m| !m.contains_key(*k)));
            for key in known.chain(others) {
                let child = written.and_then(|m| m.get(key)).unwrap_or(&Y::Null);
                out.insert(Y::String(key.to_string()), in_order_of(&map[key], child));
            }
            Y::Mapping(out)
        }
        Value::Array(items) => {
            let written = layout.as_sequence();
            let by_name = |name: &str| {
                written?
                    .iter()
                    .find(|w| w.get("name").and_then(Y::as_str) == Some(name))
            };
            Y::Sequence(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let child = match item.get("name").and_then(Value::as_str) {
                            Some(name) => by_name(name),
                            None => written.and_then(|w| w.get(i)),
                        };
                        // A new item is laid out like the first item the user wrote.
                        let sibling = written.and_then(|w| w.first());
                        in_order_of(item, child.or(sibling).unwrap_or(&Y::Null))
                    })
                    .collect(),
            )
        }
        other => serde_yaml::to_value(other).unwrap_or(Y::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_requests_are_wrapped_and_pods_refused() {
        let review = as_review(
            json!({"uid": "1", "operation": "CREATE", "object": {}}),
            "R",
        )
        .unwrap();
        assert_eq!(review["kind"], "AdmissionReview");
        assert_eq!(review["request"]["uid"], "1");
        let e = as_review(json!({"kind": "Pod", "metadata": {}}), "R r.yaml").unwrap_err();
        assert!(
            e.message.contains("this is a Pod, not an AdmissionReview"),
            "{e}"
        );
        assert!(as_review(json!([1]), "R").is_err());
        assert!(as_review(json!({"kind": "AdmissionReview"}), "R").is_err());
    }

    #[test]
    fn patches_decode_and_apply() {
        let ops = json!([{"op": "add", "path": "/a", "value": 1}]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(ops.to_string());
        let ops = patch_ops(&json!({"patch": b64})).unwrap();
        assert_eq!(apply(&json!({}), &ops).unwrap(), json!({"a": 1}));
        assert!(patch_ops(&json!({"patch": "!!"})).is_err());
        assert!(patch_ops(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn yaml_keeps_the_order_it_was_written_in() {
        let text = "kind: Pod\nspec:\n  volumes: [{name: a, emptyDir: {}}]\n  containers:\n  - name: app\n    image: x\n";
        let layout: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let mutated = json!({
            "kind": "Pod",
            "metadata": {"labels": {"x": "y"}},
            "spec": {
                "volumes": [{"name": "t", "projected": {}}, {"name": "a", "emptyDir": {}}],
                "containers": [{"name": "app", "image": "x", "env": [{"name": "A", "value": "1"}]}]
            }
        });
        let yaml = serde_yaml::to_string(&in_order_of(&mutated, &layout)).unwrap();
        assert_eq!(
            yaml,
            "kind: Pod\nspec:\n  volumes:\n  - name: t\n    projected: {}\n  - name: a\n    emptyDir: {}\n  containers:\n  - name: app\n    image: x\n    env:\n    - name: A\n      value: '1'\nmetadata:\n  labels:\n    x: y\n"
        );
    }

    #[test]
    fn namespaces() {
        let pod = json!({"metadata": {"namespace": "payments"}});
        assert_eq!(pod_namespace(&pod, None, "P").unwrap(), "payments");
        assert!(pod_namespace(&pod, Some("other"), "P").is_err());
        assert_eq!(pod_namespace(&json!({}), Some("x"), "P").unwrap(), "x");
        assert_eq!(pod_namespace(&json!({}), None, "P").unwrap(), "default");
    }
}
