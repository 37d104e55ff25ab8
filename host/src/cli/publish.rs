//! The module as a release artifact: write it out (`awi module`), show its Kubewarden
//! metadata (`awi inspect`), publish it to and fetch it from an OCI registry (`awi push`,
//! `awi pull`).

use std::fmt::Write as _;
use std::path::Path;

use awi::awi_metadata::{self, Metadata, ProtocolVersion};
use awi::{Reference, Registry};

use super::error::{Failure, Outcome};
use super::host::{Loader, registry_failure};
use super::trust::Printed;

/// How `awi inspect` prints the metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    /// Sections for people, as `kwctl inspect` prints them.
    #[default]
    Text,
    /// The metadata as YAML.
    Yaml,
}

/// `awi module -o FILE`: the module (the embedded annotated one by default) as a file.
pub fn write_module(loader: &mut Loader, output: &Path) -> Outcome<Printed> {
    let (policy, origin) = loader.module()?;
    let annotated = match policy.metadata() {
        Ok(Some(_)) => "annotated",
        _ => "not annotated",
    };
    write_file(output, policy.bytes())?;
    Ok(Printed::ok(format!(
        "wrote {} ({} bytes, {annotated}): {origin}\n",
        output.display(),
        policy.bytes().len()
    )))
}

/// `awi inspect`: the metadata of the module, or bad input when it has none.
pub fn inspect(loader: &mut Loader, format: InspectFormat) -> Outcome<Printed> {
    let (policy, origin) = loader.module()?;
    let metadata = policy
        .metadata()
        .map_err(|e| Failure::input(format!("{origin}: {e}")))?
        .ok_or_else(|| {
            Failure::input(format!(
                "{origin}: no Kubewarden metadata (no {} section); annotate it first",
                awi_metadata::SECTION
            ))
        })?;
    Ok(Printed::ok(match format {
        InspectFormat::Yaml => serde_yaml::to_string(&metadata)
            .map_err(|e| Failure::input(format!("{origin}: {e}")))?,
        InspectFormat::Text => describe(&metadata),
    }))
}

/// `awi push URI`: publishes the module and prints the immutable reference.
pub fn push(loader: &mut Loader, uri: &str) -> Outcome<Printed> {
    let reference = Reference::parse(uri).map_err(registry_failure)?;
    let registry = loader.registry()?;
    let (policy, origin) = loader.module()?;
    // The module is checked here so that the message names the file, not the registry.
    match awi_metadata::read(policy.bytes()) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(Failure::input(format!(
                "{origin}: not annotated (no {} section): Kubewarden cannot load it; push the module `awi module` writes",
                awi_metadata::SECTION
            )));
        }
        Err(e) => return Err(Failure::input(format!("{origin}: {e}"))),
    }
    let pinned = registry
        .push(policy.bytes(), &reference)
        .map_err(registry_failure)?;
    Ok(Printed::ok(format!("{pinned}\n")))
}

/// `awi pull URI -o FILE`: fetches a module; nothing is written when anything fails.
pub fn pull(registry: &Registry, uri: &str, output: &Path) -> Outcome<Printed> {
    let reference = Reference::parse(uri).map_err(registry_failure)?;
    let pulled = registry.pull(&reference).map_err(registry_failure)?;
    write_file(output, &pulled.module)?;
    Ok(Printed::ok(format!(
        "{}\nwrote {} ({} bytes)\n",
        reference.pinned(&pulled.digest),
        output.display(),
        pulled.module.len()
    )))
}

fn write_file(output: &Path, bytes: &[u8]) -> Outcome<()> {
    std::fs::write(output, bytes)
        .map_err(|e| Failure::input(format!("--output {}: cannot write: {e}", output.display())))
}

/// The metadata in sections, as `kwctl inspect` shows it: details, other annotations,
/// rules, the objects the policy reads, and the usage text.
fn describe(metadata: &Metadata) -> String {
    const DETAILS: &[&str] = &["title", "description", "author", "url", "source", "license"];
    let mut out = String::from("Details\n");
    let mut rows: Vec<(String, String)> = Vec::new();
    for key in DETAILS {
        if let Some(value) = metadata.annotation(&format!("io.kubewarden.policy.{key}")) {
            rows.push((format!("{key}:"), value.trim().to_string()));
        }
    }
    let yes_no = |b: bool| b.to_string();
    rows.push(("mutating:".into(), yes_no(metadata.mutating)));
    rows.push((
        "background audit support:".into(),
        yes_no(metadata.background_audit),
    ));
    rows.push((
        "context aware:".into(),
        yes_no(!metadata.context_aware_resources.is_empty()),
    ));
    rows.push(("policy type:".into(), to_yaml_scalar(&metadata.policy_type)));
    rows.push((
        "execution mode:".into(),
        to_yaml_scalar(&metadata.execution_mode),
    ));
    rows.push((
        "protocol version:".into(),
        match metadata.protocol_version {
            Some(ProtocolVersion::V1) => "v1".into(),
            Some(ProtocolVersion::Unknown) => "Unknown".into(),
            None => "not set".into(),
        },
    ));
    if let Some(version) = &metadata.minimum_kubewarden_version {
        rows.push(("minimum kubewarden version:".into(), version.clone()));
    }
    table(&mut out, &rows);

    let others: Vec<(String, String)> = metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| {
            key.as_str() != awi_metadata::USAGE_ANNOTATION
                && !DETAILS
                    .iter()
                    .any(|d| key.as_str() == format!("io.kubewarden.policy.{d}"))
        })
        .map(|(key, value)| (key.clone(), value.trim().to_string()))
        .collect();
    if !others.is_empty() {
        out.push_str("\nAnnotations\n");
        table(&mut out, &others);
    }

    out.push_str("\nRules\n");
    out.push_str(&serde_yaml::to_string(&metadata.rules).unwrap_or_default());
    if !metadata.context_aware_resources.is_empty() {
        out.push_str("\nContext Aware\n");
        out.push_str(
            "The policy requires access to the following Kubernetes resources at evaluation time:\n",
        );
        out.push_str(&serde_yaml::to_string(&metadata.context_aware_resources).unwrap_or_default());
    }
    if let Some(capabilities) = &metadata.host_capabilities {
        out.push_str("\nHost capabilities\n");
        for capability in capabilities {
            let _ = writeln!(out, "- {capability}");
        }
    }
    if let Some(usage) = metadata.annotation(awi_metadata::USAGE_ANNOTATION) {
        out.push_str("\nUsage\n");
        out.push_str(usage.trim_end());
        out.push('\n');
    }
    out
}

/// Rows with the values aligned after the longest key; multi-line values on one line.
fn table(out: &mut String, rows: &[(String, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in rows {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(out, "{key:<width$} {value}");
    }
}

/// A unit enum's serde name (`kubewarden-wapc`, `kubernetes`).
fn to_yaml_scalar(value: &impl serde::Serialize) -> String {
    serde_yaml::to_string(value)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_shows_details_rules_and_usage() {
        let metadata = Metadata::from_yaml(
            "rules:\n  - apiGroups: ['']\n    apiVersions: [v1]\n    resources: [pods]\n    operations: [CREATE]\n\
             mutating: true\nbackgroundAudit: false\ncontextAwareResources:\n  - {apiVersion: v1, kind: ServiceAccount}\n\
             annotations:\n  io.kubewarden.policy.title: demo\n  io.artifacthub.displayName: Demo\n",
        )
        .unwrap()
        .annotated(Some("# Demo\n\nHow to use it.\n"));
        let text = describe(&metadata);
        for line in [
            "Details\n",
            "title:                    demo\n",
            "mutating:                 true\n",
            "background audit support: false\n",
            "context aware:            true\n",
            "execution mode:           kubewarden-wapc\n",
            "protocol version:         v1\n",
            "\nAnnotations\nio.artifacthub.displayName Demo\n",
            "\nRules\n- apiGroups:\n  - ''\n",
            "kind: ServiceAccount\n",
            "\nUsage\n# Demo\n\nHow to use it.\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
    }
}
