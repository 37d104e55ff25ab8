//! Reading the files the user names: JSON or YAML, one or several documents.
//!
//! Every error names the file (or flag) and what was expected, on one line.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use awi_trust::json::type_name;

use super::error::{Failure, Outcome};

/// The text of `path`; `what` says which argument it came from (e.g. `--settings`).
pub fn read_text(path: &Path, what: &str) -> Outcome<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::input(format!("{what} {}: cannot read: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::input(format!("{what} {}: not UTF-8 text", path.display())))
}

/// Whether `text` looks like JSON rather than YAML: JSON gets serde_json's error messages,
/// which point at the exact line and column.
fn looks_like_json(text: &str) -> bool {
    matches!(
        text.trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next(),
        Some('{' | '[')
    )
}

/// Parses `text` as one JSON value.
pub fn parse_json(text: &str, origin: &str) -> Outcome<Value> {
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| Failure::input(format!("{origin}: not valid JSON: {e}")))
}

/// Parses `text` as one JSON or YAML document.
pub fn parse_document(text: &str, origin: &str) -> Outcome<Value> {
    let mut docs = parse_documents(text, origin)?;
    match docs.len() {
        0 => Err(Failure::input(format!("{origin}: the file is empty"))),
        1 => Ok(docs.remove(0)),
        n => Err(Failure::input(format!(
            "{origin}: expected one document, found {n}"
        ))),
    }
}

/// Parses `text` as JSON or as a YAML stream; empty YAML documents are skipped.
pub fn parse_documents(text: &str, origin: &str) -> Outcome<Vec<Value>> {
    if looks_like_json(text) {
        return parse_json(text, origin).map(|v| vec![v]);
    }
    let mut docs = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let yaml = serde_yaml::Value::deserialize(document)
            .map_err(|e| Failure::input(format!("{origin}: not valid JSON or YAML: {e}")))?;
        if yaml.is_null() {
            continue;
        }
        let json = serde_json::to_value(&yaml).map_err(|e| {
            Failure::input(format!(
                "{origin}: document {}: cannot be represented as JSON: {e}",
                index + 1
            ))
        })?;
        docs.push(json);
    }
    Ok(docs)
}

/// Reads and parses one JSON or YAML document from `path`.
pub fn read_document(path: &Path, what: &str) -> Outcome<Value> {
    let text = read_text(path, what)?;
    parse_document(&text, &format!("{what} {}", path.display()))
}

/// Reads the Kubernetes objects of `path`: every document, with `kind: List` expanded.
pub fn read_objects(path: &Path, what: &str) -> Outcome<Vec<Value>> {
    let text = read_text(path, what)?;
    let origin = format!("{what} {}", path.display());
    let mut objects = Vec::new();
    for doc in parse_documents(&text, &origin)? {
        let is_list = doc
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k == "List" || k.ends_with("List"));
        match doc {
            Value::Object(mut map) if is_list => match map.remove("items") {
                Some(Value::Array(items)) => objects.extend(items),
                _ => {
                    return Err(Failure::input(format!(
                        "{origin}: a List needs an items array"
                    )));
                }
            },
            Value::Object(_) => objects.push(doc),
            other => {
                return Err(Failure::input(format!(
                    "{origin}: expected Kubernetes objects, found {}",
                    type_name(&other)
                )));
            }
        }
    }
    if objects.is_empty() {
        return Err(Failure::input(format!("{origin}: holds no object")));
    }
    for object in &objects {
        if !object.is_object() {
            return Err(Failure::input(format!(
                "{origin}: expected Kubernetes objects, found {}",
                type_name(object)
            )));
        }
    }
    Ok(objects)
}

/// The string at `pointer` in `value`, if any.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A file of a unit test, in a directory of its own that is removed when it is dropped.
#[cfg(test)]
pub(crate) struct TempFile {
    pub path: std::path::PathBuf,
}

#[cfg(test)]
impl TempFile {
    pub fn new(name: &str, contents: &str) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("awi-unit-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        TempFile { path }
    }
}

#[cfg(test)]
impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_yaml_documents() {
        assert_eq!(parse_document("{\"a\": 1}", "f").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_document("a: 1\nb: [x]\n", "f").unwrap(),
            json!({"a": 1, "b": ["x"]})
        );
        let docs = parse_documents("---\na: 1\n---\n---\nb: 2\n", "f").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn errors_name_the_origin_on_one_line() {
        let e = parse_document("{\"a\": ", "--settings s.json").unwrap_err();
        assert!(
            e.message.starts_with("--settings s.json: not valid JSON"),
            "{e}"
        );
        let e = parse_document("a: [1\n", "POD p.yaml").unwrap_err();
        assert!(
            e.message.starts_with("POD p.yaml: not valid JSON or YAML"),
            "{e}"
        );
        assert!(!e.to_string().contains('\n'));
        let e = parse_document("a: 1\n---\nb: 2\n", "f").unwrap_err();
        assert!(e.message.contains("expected one document, found 2"));
        assert!(
            parse_document("", "f")
                .unwrap_err()
                .message
                .contains("empty")
        );
    }

    #[test]
    fn missing_files_are_named() {
        let e = read_text(Path::new("/nonexistent/x.yaml"), "--settings").unwrap_err();
        assert!(
            e.message
                .starts_with("--settings /nonexistent/x.yaml: cannot read")
        );
    }

    #[test]
    fn lists_are_expanded() {
        let file = TempFile::new(
            "sa.yaml",
            "kind: List\nitems:\n- kind: ServiceAccount\n  metadata: {name: a}\n---\nkind: ServiceAccount\nmetadata: {name: b}\n",
        );
        let objects = read_objects(&file.path, "--service-account").unwrap();
        assert_eq!(objects.len(), 2);
        std::fs::write(&file.path, "- 1\n").unwrap();
        assert!(read_objects(&file.path, "--service-account").is_err());
    }
}
