//! Kubewarden packaging: `policy-metadata.yml`, `artifacthub-pkg.yml`, the crate version and
//! the example ClusterAdmissionPolicies must agree (SPEC section 7).

use std::path::Path;

use serde_yaml::Value;

fn load(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string {key}"))
}

fn annotation<'a>(metadata: &'a Value, key: &str) -> &'a str {
    text(&metadata["annotations"], key)
}

/// Artifact Hub keeps some lists as YAML text inside annotations.
fn embedded_yaml(pkg: &Value, key: &str) -> Value {
    serde_yaml::from_str(text(&pkg["annotations"], key))
        .unwrap_or_else(|e| panic!("annotation {key} is not YAML: {e}"))
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[test]
fn metadata_declares_what_the_policy_does() {
    let m = load("policy-metadata.yml");
    let rules = m["rules"].as_sequence().expect("rules");
    let rule_for = |resource: &str| {
        rules
            .iter()
            .find(|r| r["resources"][0].as_str() == Some(resource))
            .unwrap_or_else(|| panic!("no rule for {resource}"))
    };
    let ops = |r: &Value| -> Vec<String> {
        r["operations"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ops(rule_for("pods")), ["CREATE"]);
    assert_eq!(ops(rule_for("serviceaccounts")), ["CREATE", "UPDATE"]);
    assert_eq!(m["mutating"].as_bool(), Some(true));
    assert_eq!(text(&m, "executionMode"), "kubewarden-wapc");
    assert!(m["backgroundAudit"].as_bool().is_some());
    let car = &m["contextAwareResources"][0];
    assert_eq!(
        (text(car, "apiVersion"), text(car, "kind")),
        ("v1", "ServiceAccount")
    );
    assert_eq!(
        m["hostCapabilities"][0].as_str(),
        Some("kubernetes/get_resource")
    );
    for key in [
        "io.kubewarden.policy.title",
        "io.kubewarden.policy.description",
        "io.kubewarden.policy.url",
        "io.kubewarden.policy.source",
        "io.kubewarden.policy.license",
        "io.kubewarden.policy.severity",
        "io.kubewarden.policy.category",
        "io.artifacthub.resources",
    ] {
        assert!(!annotation(&m, key).is_empty(), "{key} is empty");
    }
    // kwctl scaffold artifacthub needs RFC 5322 "Name <email>".
    let author = annotation(&m, "io.kubewarden.policy.author");
    assert!(author.contains(" <") && author.ends_with('>') && author.contains('@'));
}

#[test]
fn metadata_version_is_the_crate_version() {
    let m = load("policy-metadata.yml");
    assert_eq!(annotation(&m, "io.kubewarden.policy.version"), version());
}

#[test]
fn artifacthub_package_agrees_with_metadata_and_crate() {
    let m = load("policy-metadata.yml");
    let pkg = load("artifacthub-pkg.yml");
    assert_eq!(text(&pkg, "version"), version());
    assert_eq!(
        text(&pkg, "name"),
        annotation(&m, "io.kubewarden.policy.title")
    );
    assert_eq!(
        text(&pkg, "displayName"),
        annotation(&m, "io.artifacthub.displayName")
    );
    assert_eq!(
        text(&pkg, "description").trim(),
        annotation(&m, "io.kubewarden.policy.description").trim()
    );
    assert_eq!(
        text(&pkg, "license"),
        annotation(&m, "io.kubewarden.policy.license")
    );
    assert_eq!(
        text(&pkg, "homeURL"),
        annotation(&m, "io.kubewarden.policy.url")
    );
    let image = text(&pkg["containersImages"][0], "image");
    assert_eq!(
        image,
        format!(
            "{}:v{}",
            annotation(&m, "io.kubewarden.policy.ociUrl"),
            version()
        )
    );
    let keywords: Vec<&str> = pkg["keywords"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let declared: Vec<&str> = annotation(&m, "io.artifacthub.keywords")
        .split(',')
        .map(str::trim)
        .collect();
    assert_eq!(keywords, declared);
    let policy_link = pkg["links"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|l| l["name"].as_str() == Some("policy"))
        .expect("policy link");
    assert!(text(policy_link, "url").contains(&format!("/v{}/", version())));
    assert!(text(&pkg, "install").contains(image));

    let annotations = &pkg["annotations"];
    assert_eq!(
        text(annotations, "kubewarden/mutation"),
        m["mutating"].as_bool().unwrap().to_string()
    );
    assert_eq!(
        text(annotations, "kubewarden/resources"),
        annotation(&m, "io.artifacthub.resources")
    );
    assert_eq!(embedded_yaml(&pkg, "kubewarden/rules"), m["rules"]);
    assert_eq!(
        embedded_yaml(&pkg, "kubewarden/contextAwareResources"),
        m["contextAwareResources"]
    );
}

#[test]
fn example_policies_load_this_version_and_read_serviceaccounts() {
    let m = load("policy-metadata.yml");
    let module = format!(
        "registry://{}:v{}",
        annotation(&m, "io.kubewarden.policy.ociUrl"),
        version()
    );
    for (file, mutating, resource) in [
        ("examples/pod-policy.yaml", true, "pods"),
        (
            "examples/serviceaccount-policy.yaml",
            false,
            "serviceaccounts",
        ),
    ] {
        let policy = load(file);
        assert_eq!(text(&policy, "kind"), "ClusterAdmissionPolicy", "{file}");
        let spec = &policy["spec"];
        assert_eq!(text(spec, "module"), module, "{file}");
        assert_eq!(spec["mutating"].as_bool(), Some(mutating), "{file}");
        assert_eq!(
            spec["rules"][0]["resources"][0].as_str(),
            Some(resource),
            "{file}"
        );
        if mutating {
            assert_eq!(
                spec["contextAwareResources"], m["contextAwareResources"],
                "{file}"
            );
        } else {
            assert_eq!(spec["backgroundAudit"].as_bool(), Some(true), "{file}");
        }
    }
}
