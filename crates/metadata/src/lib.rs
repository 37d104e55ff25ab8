//! # Kubewarden policy metadata
//!
//! Kubewarden reads what a policy is (execution mode, `protocolVersion`, rules, `mutating`,
//! `contextAwareResources`, annotations) from a custom section of the module named
//! `io.kubewarden.metadata`, holding the metadata as JSON. policy-server refuses a waPC
//! module without it, and kwctl, Artifact Hub and the release tooling read it too.
//!
//! This crate is that format, nothing else:
//!
//! - [`Metadata::from_yaml`] reads `policy-metadata.yml` (the file `kwctl annotate -m`
//!   takes), refusing unknown keys and rules Kubewarden would refuse;
//! - [`Metadata::annotated`] adds what `kwctl annotate` adds: `protocolVersion` and the
//!   usage text (`io.kubewarden.policy.usage`, the README);
//! - [`annotate`] writes the section into a module, [`read`] reads it back;
//! - [`Metadata::oci_annotations`] gives the annotations an OCI manifest carries.
//!
//! The host's build script annotates the policy module with it, and `awi inspect`, `awi push`
//! and the tests read the section back with the same code.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
// Nothing on an input path may panic; the unit tests may.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Name of the custom section Kubewarden reads the metadata from.
pub const SECTION: &str = "io.kubewarden.metadata";
/// Annotation that holds the policy's documentation (the README).
pub const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";
/// Annotation naming the policy's source repository.
pub const SOURCE_ANNOTATION: &str = "io.kubewarden.policy.source";
/// The OCI annotation the source repository is also published as.
pub const OCI_SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";

/// Top-level keys of the metadata; `protocolVersion` is set by annotation, never written.
const KEYS: &[&str] = &[
    "rules",
    "annotations",
    "mutating",
    "backgroundAudit",
    "executionMode",
    "policyType",
    "contextAwareResources",
    "hostCapabilities",
    "minimumKubewardenVersion",
];

/// What went wrong with metadata or with the module that carries it.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The metadata file is not YAML of the expected shape.
    #[error("policy metadata: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// A key Kubewarden does not know: a typo would silently drop a setting.
    #[error("policy metadata: unknown key {key:?} (expected one of {})", KEYS.join(", "))]
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// A value Kubewarden would refuse.
    #[error("policy metadata: {field}: {problem}")]
    Invalid {
        /// Where: `rules[0].apiGroups`, `protocolVersion`, ...
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The bytes are not a WebAssembly core module.
    #[error("not a WebAssembly module: {0}")]
    NotAModule(String),
    /// The metadata section is present but is not the metadata JSON.
    #[error("the {SECTION} section is not policy metadata: {0}")]
    Section(#[from] serde_json::Error),
}

/// The policy metadata, with the keys and shapes Kubewarden's policy-evaluator uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The waPC protocol the module speaks; set by [`Metadata::annotated`].
    #[serde(default)]
    pub protocol_version: Option<ProtocolVersion>,
    /// The admission requests the policy is meant for.
    pub rules: Vec<Rule>,
    /// `io.kubewarden.policy.*`, `io.artifacthub.*` and other annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Whether the policy may change the objects it admits.
    pub mutating: bool,
    /// Whether Kubewarden's audit scanner may run the policy on stored objects.
    #[serde(default = "background_audit_default")]
    pub background_audit: bool,
    /// How Kubewarden runs the module.
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    /// Kubernetes admission requests or raw JSON.
    #[serde(default)]
    pub policy_type: PolicyType,
    /// The kinds of cluster object the policy reads at evaluation time.
    #[serde(default)]
    pub context_aware_resources: BTreeSet<ContextAwareResource>,
    /// The host capabilities the policy calls (`kubernetes/get_resource`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_capabilities: Option<BTreeSet<String>>,
    /// The oldest Kubewarden release that can run the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_kubewarden_version: Option<String>,
}

fn background_audit_default() -> bool {
    true
}

/// The waPC protocol version (`protocol_version` export of the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolVersion {
    /// waPC protocol v1, what kubewarden-policy-sdk policies speak.
    #[serde(rename = "v1")]
    V1,
    /// Execution modes without a waPC protocol (OPA, Gatekeeper, WASI).
    #[serde(rename = "Unknown")]
    Unknown,
}

/// How Kubewarden runs the module.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionMode {
    /// A waPC guest (Rust, Go, ... policies built with a Kubewarden SDK).
    #[default]
    KubewardenWapc,
    /// A Rego policy built with `opa build -t wasm`.
    Opa,
    /// A Gatekeeper ConstraintTemplate's Rego.
    Gatekeeper,
    /// A WASI program reading the request on stdin.
    Wasi,
}

/// Whether the policy sees Kubernetes admission requests or raw JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyType {
    /// Kubernetes AdmissionRequests.
    #[default]
    Kubernetes,
    /// Any JSON document.
    Raw,
}

/// One admission rule: which requests the policy is meant for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// API groups (`""` is the core group).
    pub api_groups: Vec<String>,
    /// API versions.
    pub api_versions: Vec<String>,
    /// Resources (plural, lowercase: `pods`).
    pub resources: Vec<String>,
    /// The operations the rule selects.
    pub operations: Vec<Operation>,
}

/// An admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// `CREATE`.
    #[serde(rename = "CREATE")]
    Create,
    /// `UPDATE`.
    #[serde(rename = "UPDATE")]
    Update,
    /// `DELETE`.
    #[serde(rename = "DELETE")]
    Delete,
    /// `CONNECT`.
    #[serde(rename = "CONNECT")]
    Connect,
    /// `*`: every operation.
    #[serde(rename = "*")]
    All,
}

/// A kind of cluster object the policy reads at evaluation time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    /// `v1`, `apps/v1`, ...
    pub api_version: String,
    /// `ServiceAccount`, ...
    pub kind: String,
}

impl Metadata {
    /// Reads `policy-metadata.yml`: the shapes above, no unknown key, no `protocolVersion`
    /// (annotation sets it), and rules Kubewarden accepts.
    pub fn from_yaml(text: &str) -> Result<Metadata, MetadataError> {
        let raw: serde_yaml::Mapping = serde_yaml::from_str(text)?;
        for key in raw.keys() {
            let key = key.as_str().unwrap_or_default();
            if !KEYS.contains(&key) {
                return Err(MetadataError::UnknownKey {
                    key: key.to_string(),
                });
            }
        }
        let metadata: Metadata = serde_yaml::from_value(serde_yaml::Value::Mapping(raw))?;
        metadata.check_rules()?;
        Ok(metadata)
    }

    /// The metadata as `kwctl annotate` writes it: `protocolVersion` for the execution mode
    /// (`v1` for waPC) and, when given, `usage` as `io.kubewarden.policy.usage`.
    pub fn annotated(mut self, usage: Option<&str>) -> Metadata {
        self.protocol_version = Some(match self.execution_mode {
            ExecutionMode::KubewardenWapc => ProtocolVersion::V1,
            _ => ProtocolVersion::Unknown,
        });
        if let Some(usage) = usage {
            self.annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(USAGE_ANNOTATION.to_string(), usage.to_string());
        }
        self
    }

    /// Checks what Kubewarden checks before it runs a policy: valid rules and, for waPC, a
    /// known protocol version.
    pub fn validate(&self) -> Result<(), MetadataError> {
        self.check_rules()?;
        if self.execution_mode == ExecutionMode::KubewardenWapc
            && self.protocol_version != Some(ProtocolVersion::V1)
        {
            return Err(invalid(
                "protocolVersion",
                "a kubewarden-wapc policy needs protocol version v1",
            ));
        }
        Ok(())
    }

    fn check_rules(&self) -> Result<(), MetadataError> {
        for (i, rule) in self.rules.iter().enumerate() {
            for (name, values) in [
                ("apiGroups", &rule.api_groups),
                ("apiVersions", &rule.api_versions),
                ("resources", &rule.resources),
            ] {
                let star = values.iter().any(|v| v == "*");
                check_list(&format!("rules[{i}].{name}"), values.len(), star)?;
            }
            if rule.resources.iter().any(String::is_empty) {
                return Err(invalid(
                    &format!("rules[{i}].resources"),
                    "an empty resource is not allowed",
                ));
            }
            let star = rule.operations.contains(&Operation::All);
            check_list(
                &format!("rules[{i}].operations"),
                rule.operations.len(),
                star,
            )?;
        }
        for (i, resource) in self.context_aware_resources.iter().enumerate() {
            if resource.api_version.is_empty() || resource.kind.is_empty() {
                return Err(invalid(
                    &format!("contextAwareResources[{i}]"),
                    "apiVersion and kind must not be empty",
                ));
            }
        }
        Ok(())
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The annotations an OCI manifest carries, as `kwctl push` sets them: the single-line
    /// ones, trimmed (OCI annotations cannot hold the usage text), plus
    /// `org.opencontainers.image.source` from `io.kubewarden.policy.source`.
    pub fn oci_annotations(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .annotations
            .iter()
            .flatten()
            .filter(|(_, value)| value.lines().count() <= 1)
            .map(|(key, value)| (key.clone(), value.trim().to_string()))
            .collect();
        if let Some(source) = out.get(SOURCE_ANNOTATION).cloned() {
            out.entry(OCI_SOURCE_ANNOTATION.to_string())
                .or_insert(source);
        }
        out
    }
}

/// A rule list is non-empty, and `*` stands alone.
fn check_list(field: &str, len: usize, has_star: bool) -> Result<(), MetadataError> {
    if len == 0 {
        return Err(invalid(field, "must not be empty"));
    }
    if len > 1 && has_star {
        return Err(invalid(field, "no other value may stand beside \"*\""));
    }
    Ok(())
}

fn invalid(field: &str, problem: &str) -> MetadataError {
    MetadataError::Invalid {
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

/// Whether `bytes` start like a WebAssembly core module (magic and version 1; a component
/// has layer 1 in the same place).
pub fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// `module` with `metadata` in its `io.kubewarden.metadata` section: every other section
/// kept as it is, a previous metadata section replaced. The metadata must be valid.
pub fn annotate(module: &[u8], metadata: &Metadata) -> Result<Vec<u8>, MetadataError> {
    metadata.validate()?;
    let mut out = wasm_encoder::Module::new();
    for section in sections(module)? {
        let Section { id, range, name } = section;
        if name.as_deref() == Some(SECTION) {
            continue;
        }
        out.section(&wasm_encoder::RawSection {
            id,
            data: &module[range],
        });
    }
    let data = serde_json::to_vec(metadata)?;
    out.section(&wasm_encoder::CustomSection {
        name: SECTION.into(),
        data: data.into(),
    });
    Ok(out.finish())
}

/// The metadata in `module`'s `io.kubewarden.metadata` section; `None` when it has none.
pub fn read(module: &[u8]) -> Result<Option<Metadata>, MetadataError> {
    match section(module)? {
        Some(data) => Ok(Some(serde_json::from_slice(data)?)),
        None => Ok(None),
    }
}

/// The raw contents of `module`'s `io.kubewarden.metadata` section (the metadata JSON as
/// Kubewarden reads it); the first one when a module has several.
pub fn section(module: &[u8]) -> Result<Option<&[u8]>, MetadataError> {
    let mut found = None;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| MetadataError::NotAModule(e.to_string()))?;
        if let wasmparser::Payload::Version { encoding, .. } = &payload
            && *encoding != wasmparser::Encoding::Module
        {
            return Err(MetadataError::NotAModule(
                "this is a component, not the policy's core module".into(),
            ));
        }
        if let wasmparser::Payload::CustomSection(reader) = payload
            && reader.name() == SECTION
            && found.is_none()
        {
            found = Some(reader.data());
        }
    }
    Ok(found)
}

/// One top-level section of a core module: id, byte range of its contents, custom name.
struct Section {
    id: u8,
    range: std::ops::Range<usize>,
    name: Option<String>,
}

fn sections(module: &[u8]) -> Result<Vec<Section>, MetadataError> {
    if !is_core_module(module) {
        return Err(MetadataError::NotAModule(
            "the file does not start with the WebAssembly core module header".into(),
        ));
    }
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| MetadataError::NotAModule(e.to_string()))?;
        let name = match &payload {
            wasmparser::Payload::CustomSection(reader) => Some(reader.name().to_string()),
            _ => None,
        };
        if let Some((id, range)) = payload.as_section() {
            out.push(Section { id, range, name });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["pods"]
    operations: ["CREATE"]
mutating: true
contextAwareResources:
  - apiVersion: v1
    kind: ServiceAccount
hostCapabilities: [kubernetes/get_resource]
annotations:
  io.kubewarden.policy.title: demo
  io.kubewarden.policy.source: https://example.com/src
  io.kubewarden.policy.description: |
    two
    lines
"#;

    /// The smallest valid core module: header only.
    const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

    #[test]
    fn reads_yaml_with_defaults() {
        let m = Metadata::from_yaml(YAML).unwrap();
        assert!(m.mutating);
        assert!(m.background_audit);
        assert_eq!(m.execution_mode, ExecutionMode::KubewardenWapc);
        assert_eq!(m.policy_type, PolicyType::Kubernetes);
        assert_eq!(m.protocol_version, None);
        assert_eq!(m.rules[0].operations, [Operation::Create]);
    }

    #[test]
    fn refuses_unknown_keys_and_bad_rules() {
        let typo = YAML.replace("mutating:", "mutatting:");
        let e = Metadata::from_yaml(&typo).unwrap_err();
        assert!(e.to_string().contains("unknown key \"mutatting\""), "{e}");

        let written = format!("protocolVersion: v1\n{YAML}");
        assert!(matches!(
            Metadata::from_yaml(&written),
            Err(MetadataError::UnknownKey { .. })
        ));

        let star = YAML.replace(r#"apiGroups: [""]"#, r#"apiGroups: ["", "*"]"#);
        let e = Metadata::from_yaml(&star).unwrap_err();
        assert_eq!(
            e.to_string(),
            "policy metadata: rules[0].apiGroups: no other value may stand beside \"*\""
        );

        let empty = YAML.replace(r#"resources: ["pods"]"#, "resources: []");
        let e = Metadata::from_yaml(&empty).unwrap_err();
        assert_eq!(
            e.to_string(),
            "policy metadata: rules[0].resources: must not be empty"
        );

        let op = YAML.replace(r#"["CREATE"]"#, r#"["CREATE", "PATCH"]"#);
        assert!(matches!(
            Metadata::from_yaml(&op),
            Err(MetadataError::Yaml(_))
        ));
    }

    #[test]
    fn annotation_sets_protocol_version_and_usage() {
        let m = Metadata::from_yaml(YAML).unwrap();
        assert!(
            m.validate().is_err(),
            "waPC metadata needs a protocol version"
        );
        let m = m.annotated(Some("# Usage\n"));
        assert_eq!(m.protocol_version, Some(ProtocolVersion::V1));
        assert_eq!(m.annotation(USAGE_ANNOTATION), Some("# Usage\n"));
        m.validate().unwrap();

        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["protocolVersion"], "v1");
        assert_eq!(json["executionMode"], "kubewarden-wapc");
        assert_eq!(json["policyType"], "kubernetes");
        assert_eq!(json["backgroundAudit"], true);
        assert_eq!(
            json["contextAwareResources"],
            serde_json::json!([{"apiVersion": "v1", "kind": "ServiceAccount"}])
        );
        assert_eq!(json["rules"][0]["apiGroups"], serde_json::json!([""]));
        assert!(json.get("minimumKubewardenVersion").is_none());
    }

    #[test]
    fn annotate_and_read_round_trip() {
        let m = Metadata::from_yaml(YAML).unwrap().annotated(Some("usage"));
        let annotated = annotate(EMPTY_MODULE, &m).unwrap();
        assert!(annotated.starts_with(EMPTY_MODULE));
        assert_eq!(read(&annotated).unwrap(), Some(m.clone()));
        assert_eq!(read(EMPTY_MODULE).unwrap(), None);

        // Annotating again replaces the section instead of adding a second one.
        let mut other = m.clone();
        other.mutating = false;
        let twice = annotate(&annotated, &other).unwrap();
        assert_eq!(read(&twice).unwrap(), Some(other));
        assert_eq!(twice.len(), annotated.len() + 1, "`true` became `false`");
    }

    #[test]
    fn annotate_refuses_what_is_not_a_module() {
        let m = Metadata::from_yaml(YAML).unwrap().annotated(None);
        for bytes in [&b"not wasm"[..], b"\0asm\x0d\0\x01\0", b""] {
            assert!(matches!(
                annotate(bytes, &m),
                Err(MetadataError::NotAModule(_))
            ));
        }
        let truncated = [EMPTY_MODULE, &[0x01, 0x10]].concat();
        assert!(matches!(
            annotate(&truncated, &m),
            Err(MetadataError::NotAModule(_))
        ));
        // Invalid metadata is never written.
        let unannotated = Metadata::from_yaml(YAML).unwrap();
        assert!(annotate(EMPTY_MODULE, &unannotated).is_err());
    }

    #[test]
    fn oci_annotations_are_single_line_with_the_source() {
        let m = Metadata::from_yaml(YAML).unwrap().annotated(Some("a\nb\n"));
        let oci = m.oci_annotations();
        assert_eq!(oci["io.kubewarden.policy.title"], "demo");
        assert_eq!(oci[OCI_SOURCE_ANNOTATION], "https://example.com/src");
        assert!(!oci.contains_key(USAGE_ANNOTATION));
        assert!(!oci.contains_key("io.kubewarden.policy.description"));
    }
}
