//! `awi review --diff`: what the policy changed in a Pod, for people (no base64, no JSON
//! Patch): per container the added env and volume mounts, then added volumes, labels and
//! annotations, then the warnings.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::input::str_at;

const CONTAINER_LISTS: &[(&str, &str)] = &[
    ("initContainers", "init container"),
    ("containers", "container"),
    ("ephemeralContainers", "ephemeral container"),
];

/// The change from `original` to `mutated` (`None` when the request was rejected), with the
/// response's status and warnings. `patch_ops` are the raw JSON Patch operations, used to
/// report any change outside the sections above so that nothing is hidden.
pub fn render(
    original: &Value,
    mutated: Option<&Value>,
    response: &Value,
    patch_ops: &[Value],
) -> String {
    let mut out = String::new();
    let title = title(original);
    let allowed = response.get("allowed").and_then(Value::as_bool) == Some(true);
    if !allowed {
        let message = str_at(response, "/status/message").unwrap_or("no reason given");
        let code = response
            .pointer("/status/code")
            .and_then(Value::as_u64)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let _ = writeln!(out, "{title}: REJECTED{code}: {message}");
    } else {
        let body = mutated
            .map(|m| changes(original, m, patch_ops))
            .unwrap_or_default();
        if body.is_empty() {
            let _ = writeln!(out, "{title}: admitted unchanged");
        } else {
            let _ = writeln!(out, "{title}: admitted with changes");
            out.push_str(&body);
        }
    }
    let warnings: Vec<&str> = response
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !warnings.is_empty() {
        out.push_str("warnings:\n");
        for w in warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    out
}

/// "Pod payments/web (ServiceAccount api)".
fn title(object: &Value) -> String {
    let kind = str_at(object, "/kind").unwrap_or("object");
    let name = str_at(object, "/metadata/name")
        .map(str::to_string)
        .or_else(|| str_at(object, "/metadata/generateName").map(|g| format!("{g}*")))
        .unwrap_or_else(|| "(unnamed)".to_string());
    let name = match str_at(object, "/metadata/namespace") {
        Some(ns) => format!("{ns}/{name}"),
        None => name,
    };
    if kind == "Pod" {
        let sa = str_at(object, "/spec/serviceAccountName")
            .filter(|s| !s.is_empty())
            .unwrap_or("default");
        format!("Pod {name} (ServiceAccount {sa})")
    } else {
        format!("{kind} {name}")
    }
}

fn changes(original: &Value, mutated: &Value, patch_ops: &[Value]) -> String {
    let mut out = String::new();
    for (list, label) in CONTAINER_LISTS {
        let pointer = format!("/spec/{list}");
        let after = mutated.pointer(&pointer).and_then(Value::as_array);
        for container in after.into_iter().flatten() {
            let name = str_at(container, "/name").unwrap_or("(unnamed)");
            let before = original
                .pointer(&pointer)
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| str_at(c, "/name") == Some(name)));
            let lines = container_changes(before, container);
            if !lines.is_empty() {
                let _ = writeln!(out, "  {label} {name}");
                for line in lines {
                    let _ = writeln!(out, "    + {line}");
                }
            }
        }
    }
    for volume in added(original, mutated, "/spec/volumes", volume_key) {
        let _ = writeln!(out, "  + volume {}", describe_volume(volume));
    }
    for (field, label) in [("labels", "label"), ("annotations", "annotation")] {
        let pointer = format!("/metadata/{field}");
        let before = original.pointer(&pointer).and_then(Value::as_object);
        let after = mutated.pointer(&pointer).and_then(Value::as_object);
        for (key, value) in after.into_iter().flatten() {
            let old = before.and_then(|b| b.get(key));
            if old != Some(value) {
                let value = value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(value.to_string());
                let _ = writeln!(out, "  + {label} {key}={value}");
            }
        }
    }
    for op in patch_ops.iter().filter(|op| !is_described(op)) {
        let verb = str_at(op, "/op").unwrap_or("?");
        let path = str_at(op, "/path").unwrap_or("?");
        match op.get("value") {
            Some(value) => {
                let _ = writeln!(out, "  + {verb} {path}: {value}");
            }
            None => {
                let _ = writeln!(out, "  + {verb} {path}");
            }
        }
    }
    out
}

fn container_changes(before: Option<&Value>, after: &Value) -> Vec<String> {
    let empty = Value::Null;
    let before = before.unwrap_or(&empty);
    let mut lines = Vec::new();
    for env in added(before, after, "/env", |e| {
        str_at(e, "/name").map(str::to_string)
    }) {
        lines.push(format!("env {}", describe_env(env)));
    }
    let mount_key = |m: &Value| {
        Some(format!(
            "{}@{}",
            str_at(m, "/name")?,
            str_at(m, "/mountPath").unwrap_or("")
        ))
    };
    for mount in added(before, after, "/volumeMounts", mount_key) {
        let name = str_at(mount, "/name").unwrap_or("?");
        let path = str_at(mount, "/mountPath").unwrap_or("?");
        let ro = if mount.get("readOnly").and_then(Value::as_bool) == Some(true) {
            " (read-only)"
        } else {
            ""
        };
        lines.push(format!("volumeMount {name} at {path}{ro}"));
    }
    lines
}

/// Items of the array at `pointer` in `after` whose key is not among those in `before`.
fn added<'a>(
    before: &Value,
    after: &'a Value,
    pointer: &str,
    key: impl Fn(&Value) -> Option<String>,
) -> Vec<&'a Value> {
    let old: Vec<Option<String>> = before
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| items.iter().map(&key).collect())
        .unwrap_or_default();
    after
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|item| !old.contains(&key(item)))
                .collect()
        })
        .unwrap_or_default()
}

fn volume_key(volume: &Value) -> Option<String> {
    str_at(volume, "/name").map(str::to_string)
}

fn describe_env(env: &Value) -> String {
    let name = str_at(env, "/name").unwrap_or("?");
    match (env.get("value"), env.get("valueFrom")) {
        (Some(Value::String(v)), _) => format!("{name}={v}"),
        (_, Some(from)) => format!("{name} from {from}"),
        (Some(other), _) => format!("{name}={other}"),
        (None, None) => format!("{name}="),
    }
}

fn describe_volume(volume: &Value) -> String {
    let name = str_at(volume, "/name").unwrap_or("?");
    let tokens: Vec<String> = volume
        .pointer("/projected/sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("serviceAccountToken").and_then(Value::as_object))
        .map(describe_token)
        .collect();
    if tokens.is_empty() {
        let mut rest = volume.as_object().cloned().unwrap_or_default();
        rest.remove("name");
        format!("{name}: {}", Value::Object(rest))
    } else {
        format!(
            "{name}: projected ServiceAccount token {}",
            tokens.join(", ")
        )
    }
}

fn describe_token(token: &Map<String, Value>) -> String {
    ["audience", "expirationSeconds", "path"]
        .iter()
        .filter_map(|k| {
            token.get(*k).map(|v| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the summary above already shows what `op` changed.
fn is_described(op: &Value) -> bool {
    let Some(path) = str_at(op, "/path") else {
        return false;
    };
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    match parts.as_slice() {
        ["spec", "volumes", ..] | ["metadata", "labels" | "annotations", ..] => true,
        ["spec", list, index, field, ..] => {
            CONTAINER_LISTS.iter().any(|(l, _)| l == list)
                && index.parse::<usize>().is_ok()
                && matches!(*field, "env" | "volumeMounts")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "payments", "labels": {"app": "web"}},
            "spec": {
                "serviceAccountName": "api",
                "containers": [{"name": "app", "env": [{"name": "KEEP", "value": "1"}]}],
                "volumes": [{"name": "data", "emptyDir": {}}]
            }
        })
    }

    #[test]
    fn shows_added_env_mounts_volumes_labels_and_warnings() {
        let original = pod();
        let mut mutated = pod();
        let c = &mut mutated["spec"]["containers"][0];
        c["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/r"}));
        c["volumeMounts"] =
            json!([{"name": "aws-iam-token", "mountPath": "/var/run/x", "readOnly": true}]);
        mutated["spec"]["volumes"].as_array_mut().unwrap().insert(0, json!({
            "name": "aws-iam-token",
            "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}
        }));
        mutated["metadata"]["labels"]["eks.amazonaws.com/pod-identity"] = json!("true");
        let ops = vec![
            json!({"op": "add", "path": "/spec/containers/0/env/1", "value": {}}),
            json!({"op": "add", "path": "/spec/priority", "value": 5}),
        ];
        let response = json!({"allowed": true, "warnings": ["careful"]});
        let text = render(&original, Some(&mutated), &response, &ops);
        assert!(
            text.starts_with("Pod payments/web (ServiceAccount api): admitted with changes\n"),
            "{text}"
        );
        assert!(text.contains(
            "  container app\n    + env AWS_ROLE_ARN=arn:aws:iam::111122223333:role/r\n"
        ));
        assert!(text.contains("    + volumeMount aws-iam-token at /var/run/x (read-only)\n"));
        assert!(text.contains("  + volume aws-iam-token: projected ServiceAccount token audience=sts.amazonaws.com expirationSeconds=86400 path=token\n"));
        assert!(text.contains("  + label eks.amazonaws.com/pod-identity=true\n"));
        assert!(text.contains("  + add /spec/priority: 5\n"));
        assert!(!text.contains("KEEP"));
        assert!(text.ends_with("warnings:\n  ! careful\n"));
    }

    #[test]
    fn unchanged_and_rejected() {
        let response = json!({"allowed": true});
        assert_eq!(
            render(&pod(), Some(&pod()), &response, &[]),
            "Pod payments/web (ServiceAccount api): admitted unchanged\n"
        );
        let response = json!({"allowed": false, "status": {"message": "no", "code": 403}});
        let sa =
            json!({"kind": "ServiceAccount", "metadata": {"name": "api", "namespace": "payments"}});
        assert_eq!(
            render(&sa, None, &response, &[]),
            "ServiceAccount payments/api: REJECTED (403): no\n"
        );
    }

    #[test]
    fn env_from_sources_are_shown() {
        let env = json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}});
        assert_eq!(
            describe_env(&env),
            r#"X from {"fieldRef":{"fieldPath":"metadata.name"}}"#
        );
    }
}
