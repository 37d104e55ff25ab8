//! Kubewarden packaging: `policy-metadata.yml`, `artifacthub-pkg.yml`, the crate version and
//! the example ClusterAdmissionPolicies must agree (README, "Deploying on Kubewarden").

use std::path::Path;

use serde::Deserialize as _;
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
    assert_eq!(ops(rule_for("deployments")), ["CREATE", "UPDATE"]);
    assert_eq!(ops(rule_for("jobs")), ["CREATE", "UPDATE"]);
    let resources: Vec<&str> = rules
        .iter()
        .flat_map(|r| r["resources"].as_sequence().unwrap())
        .map(|r| r.as_str().unwrap())
        .collect();
    for workload in [
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "jobs",
        "cronjobs",
    ] {
        assert!(resources.contains(&workload), "no rule for {workload}");
    }
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
    // (file, mutating, first resource, reads ServiceAccounts)
    for (file, mutating, resource, reads) in [
        ("examples/pod-policy.yaml", true, "pods", true),
        (
            "examples/serviceaccount-policy.yaml",
            false,
            "serviceaccounts",
            false,
        ),
        ("examples/workload-policy.yaml", false, "deployments", true),
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
        if reads {
            assert_eq!(
                spec["contextAwareResources"], m["contextAwareResources"],
                "{file}"
            );
        }
        if !mutating {
            assert_eq!(spec["backgroundAudit"].as_bool(), Some(true), "{file}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Kubewarden's conventions: the files its tools and reusable GitHub workflows expect.

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    let path = root().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The tag of kubewarden/github-actions the workflows call (its latest release).
const ACTIONS: &str = "kubewarden/github-actions/.github/workflows";
const ACTIONS_TAG: &str = "v7.0.1";

/// The make targets the reusable workflows of `ACTIONS_TAG` call: its `policy-build-rust`
/// action runs `make annotated-policy.wasm`, `reusable-test-policy-rust.yml` and
/// `reusable-release-policy-rust.yml` run `make e2e-tests`.
const WORKFLOW_MAKE_TARGETS: [&str; 2] = ["annotated-policy.wasm", "e2e-tests"];

fn reusable(workflow: &str) -> String {
    format!("{ACTIONS}/{workflow}@{ACTIONS_TAG}")
}

fn seq_of_str(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn test_workflow_calls_kubewarden_rust_tests_at_the_pinned_tag() {
    let w = load(".github/workflows/test.yml");
    let jobs = w["jobs"].as_mapping().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job: {jobs:?}");
    let job = jobs.values().next().unwrap();
    assert_eq!(text(job, "uses"), reusable("reusable-test-policy-rust.yml"));
    assert!(
        w["on"].get("pull_request").is_some(),
        "runs on pull requests"
    );
}

#[test]
fn release_workflow_publishes_v_tags_to_the_metadata_oci_url_with_signing_permissions() {
    let w = load(".github/workflows/release.yml");
    assert_eq!(seq_of_str(&w["on"]["push"]["tags"]), ["v*"]);
    assert!(
        w["on"]["push"].get("branches").is_none(),
        "releases only from tags"
    );
    let jobs = &w["jobs"];
    assert_eq!(
        text(&jobs["test"], "uses"),
        reusable("reusable-test-policy-rust.yml")
    );
    let release = &jobs["release"];
    assert_eq!(
        text(release, "uses"),
        reusable("reusable-release-policy-rust.yml")
    );
    assert_eq!(text(release, "needs"), "test");
    for (scope, level) in [
        ("contents", "write"),
        ("packages", "write"),
        ("id-token", "write"),
    ] {
        assert_eq!(
            release["permissions"][scope].as_str(),
            Some(level),
            "release job permission {scope}"
        );
    }
    // The inputs reusable-release-policy-rust.yml of ACTIONS_TAG declares.
    for input in release["with"].as_mapping().expect("with").keys() {
        let input = input.as_str().unwrap_or("");
        assert!(
            ["oci-target", "artifacthub"].contains(&input),
            "the release workflow has no input {input}"
        );
    }
    let target = text(&release["with"], "oci-target");
    assert_eq!(
        target,
        "ghcr.io/${{ github.repository_owner }}/policies/aws-workload-identity"
    );
    // In the project's own repository the target is the metadata's ociUrl.
    let m = load("policy-metadata.yml");
    let source = annotation(&m, "io.kubewarden.policy.source");
    let owner = source
        .strip_prefix("https://github.com/")
        .and_then(|rest| rest.split('/').next())
        .expect("io.kubewarden.policy.source is a GitHub URL");
    assert_eq!(
        target.replace("${{ github.repository_owner }}", owner),
        annotation(&m, "io.kubewarden.policy.ociUrl")
    );
}

/// The rule names of a Makefile: `name:` at the start of a line (not `:=` assignments).
fn makefile_targets(makefile: &str) -> Vec<String> {
    makefile
        .lines()
        .filter(|l| !l.starts_with(['\t', '#', ' ', '.']))
        .filter_map(|l| {
            let (names, rest) = l.split_once(':')?;
            (!rest.starts_with('=')).then_some(names)
        })
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

/// `make -n TARGET` (prints the recipe, runs nothing). None when make is not installed.
fn make_dry_run(target: &str) -> Option<String> {
    let out = std::process::Command::new("make")
        .args(["--no-print-directory", "-n", target])
        .current_dir(root())
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("cannot run make: {e}"),
        Ok(out) => {
            assert!(
                out.status.success(),
                "make -n {target} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
    }
}

#[test]
fn makefile_has_the_targets_the_workflows_call_and_the_usual_ones() {
    let targets = makefile_targets(&read("Makefile"));
    for target in
        WORKFLOW_MAKE_TARGETS
            .iter()
            .chain(&["policy.wasm", "test", "fmt", "lint", "clean"])
    {
        assert!(
            targets.iter().any(|t| t == target),
            "Makefile has no target {target}: {targets:?}"
        );
    }
    let Some(policy) = make_dry_run("policy.wasm") else {
        assert!(!in_ci(), "make is not installed (CI=true)");
        eprintln!("skipped the make -n checks: make is not installed");
        return;
    };
    // The same build as Kubewarden's policy-build-rust action, and the crate's module.
    let module = format!(
        "target/wasm32-wasip1/release/{}.wasm",
        env!("CARGO_PKG_NAME").replace('-', "_")
    );
    assert!(
        policy.contains("cargo build --target wasm32-wasip1 --release --locked"),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("cp {module} policy.wasm")),
        "{policy}"
    );

    let annotated = make_dry_run("annotated-policy.wasm").unwrap();
    assert!(
        annotated.contains("-p awi -- module -o annotated-policy.wasm"),
        "{annotated}"
    );
    // e2e-tests builds the annotated module first, then runs e2e.bats on it.
    let e2e = make_dry_run("e2e-tests").unwrap();
    let (build, run) = e2e.split_once("bats e2e.bats").expect("runs bats e2e.bats");
    assert!(build.contains("module -o annotated-policy.wasm"), "{e2e}");
    assert!(build.contains("MODULE=annotated-policy.wasm"), "{e2e}");
    assert!(run.trim().is_empty(), "{e2e}");
    let bats = read("e2e.bats");
    assert!(bats.matches("--module \"$MODULE\"").count() >= 4, "{bats}");
    assert!(
        bats.contains("[ \"$status\" -eq 1 ]"),
        "a refusal is expected"
    );
}

/// The version checks the reusable workflows run on a tag, done the same way: the test
/// workflow reads `version = "..."` lines of Cargo.toml with sed, the release workflow the
/// `io.kubewarden.policy.version` line of metadata.yml with grep and awk.
#[test]
fn the_workflows_version_checks_find_the_crate_version() {
    let manifest = read("Cargo.toml");
    let cargo: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
        .collect();
    assert_eq!(cargo, [version()]);
    let metadata = read("metadata.yml");
    let lines: Vec<&str> = metadata
        .lines()
        .filter(|l| l.contains("io.kubewarden.policy.version"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let field = lines[0].split_whitespace().nth(1).unwrap_or("");
    assert_eq!(field.replace('"', ""), version());
}

#[test]
fn metadata_yml_is_a_symlink_to_policy_metadata() {
    let link = root().join("metadata.yml");
    let kind = std::fs::symlink_metadata(&link).expect("metadata.yml exists");
    assert!(kind.file_type().is_symlink(), "metadata.yml is a symlink");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("policy-metadata.yml")
    );
    assert!(
        std::fs::symlink_metadata(root().join("policy-metadata.yml"))
            .unwrap()
            .file_type()
            .is_file()
    );
    assert_eq!(read("metadata.yml"), read("policy-metadata.yml"));
}

#[test]
fn license_is_the_full_apache_2_0_text() {
    assert_eq!(env!("CARGO_PKG_LICENSE"), "Apache-2.0");
    let license = read("LICENSE");
    let mut rest = license.as_str();
    // The standard text, in order: title, the nine sections, the appendix.
    for part in [
        "Apache License",
        "Version 2.0, January 2004",
        "http://www.apache.org/licenses/",
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "1. Definitions.",
        "2. Grant of Copyright License.",
        "3. Grant of Patent License.",
        "4. Redistribution.",
        "5. Submission of Contributions.",
        "6. Trademarks.",
        "7. Disclaimer of Warranty.",
        "8. Limitation of Liability.",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        "APPENDIX: How to apply the Apache License to your work.",
        "Copyright [yyyy] [name of copyright owner]",
        "limitations under the License.",
    ] {
        let at = rest
            .find(part)
            .unwrap_or_else(|| panic!("LICENSE lacks {part:?} (or it is out of order)"));
        rest = &rest[at + part.len()..];
    }
    assert!(rest.trim().is_empty(), "LICENSE goes on after the appendix");
    assert!(
        license.lines().count() >= 200,
        "the full text is about 200 lines"
    );
    // Only the appendix's placeholder: no other project's copyright line.
    assert!(
        license
            .lines()
            .filter(|l| l.trim_start().starts_with("Copyright"))
            .all(|l| l.contains("[yyyy]")),
        "a copyright line that is not the appendix's placeholder"
    );
}

#[test]
fn artifacthub_repo_owner_is_the_metadata_author() {
    let repo = load("artifacthub-repo.yml");
    let m = load("policy-metadata.yml");
    let author = annotation(&m, "io.kubewarden.policy.author");
    let (name, email) = author
        .strip_suffix('>')
        .and_then(|a| a.split_once(" <"))
        .expect("author is \"Name <email>\"");
    let owners = repo["owners"].as_sequence().expect("owners");
    assert_eq!(owners.len(), 1);
    assert_eq!(text(&owners[0], "name"), name);
    assert_eq!(text(&owners[0], "email"), email);
    let known = ["owners", "repositoryID", "ignore"];
    for key in repo.as_mapping().unwrap().keys() {
        assert!(
            known.contains(&key.as_str().unwrap_or("")),
            "unknown key {key:?}"
        );
    }
    if let Some(id) = repo.get("repositoryID") {
        let id = id.as_str().expect("repositoryID is a string");
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert!(
            groups == [8, 4, 4, 4, 12] && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "repositoryID {id:?} is not a UUID"
        );
    }
}

#[test]
fn metadata_does_not_audit_pods_and_the_serviceaccount_policy_does_audit() {
    let m = load("policy-metadata.yml");
    assert_eq!(m["backgroundAudit"].as_bool(), Some(false));
    assert_eq!(
        load("examples/pod-policy.yaml")["spec"]["backgroundAudit"].as_bool(),
        Some(false)
    );
    assert_eq!(
        load("examples/serviceaccount-policy.yaml")["spec"]["backgroundAudit"].as_bool(),
        Some(true)
    );
}

/// Kubewarden refuses a mutation from a policy with `mutating: false`: every example policy
/// that is not mutating and covers Pods tells the module so with `validateOnly`, and the
/// one that audits Pods is that one.
#[test]
fn a_validating_policy_on_pods_sets_validate_only() {
    let mut pod_validators = 0;
    for (file, doc) in example_documents() {
        if kind_of(&doc).1 != "ClusterAdmissionPolicy" {
            continue;
        }
        let spec = &doc["spec"];
        let covers_pods = spec["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|r| seq_of_str(&r["resources"]).contains(&"pods"));
        let mutating = spec["mutating"].as_bool() == Some(true);
        let validate_only = spec["settings"]["validateOnly"].as_bool() == Some(true);
        assert_eq!(validate_only, covers_pods && !mutating, "{file}");
        if covers_pods && spec["backgroundAudit"].as_bool() == Some(true) {
            assert!(!mutating && validate_only, "{file} audits Pods");
            pod_validators += 1;
        }
    }
    assert_eq!(pod_validators, 1);
}

#[test]
fn artifacthub_install_text_uses_the_example_policies_and_policy_server() {
    let pkg = load("artifacthub-pkg.yml");
    let install = text(&pkg, "install");
    for file in [
        "examples/policy-server.yaml",
        "examples/pod-policy.yaml",
        "examples/serviceaccount-policy.yaml",
        "examples/workload-policy.yaml",
    ] {
        assert!(install.contains(file), "install text does not name {file}");
    }
    assert!(
        !install.contains("scaffold manifest"),
        "one scaffolded policy would cover Pods and ServiceAccounts together"
    );
    for name in [
        "aws-workload-identity",
        "aws-workload-identity-trust",
        "aws-workload-identity-workloads",
    ] {
        assert!(install.contains(&format!("clusteradmissionpolicy/{name}")));
    }
}

// ---------------------------------------------------------------------------------------
// Deployment objects: the example manifests against the CRDs and the policy's settings.

/// Every YAML document of every `examples/*.yaml` file, with its file name.
fn example_documents() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for path in files {
        let name = format!("examples/{}", path.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                docs.push((name.clone(), value));
            }
        }
    }
    docs
}

fn kind_of(doc: &Value) -> (&str, &str) {
    (
        doc["apiVersion"].as_str().unwrap_or(""),
        doc["kind"].as_str().unwrap_or(""),
    )
}

fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).expect("YAML that is JSON")
}

/// The directory of Kubewarden's CRDs: `shared/` beside the repository. None (and a printed
/// reason) when it is missing on a developer's machine; a failure in CI (`CI=true`), except
/// in GitHub Actions, where Kubewarden's reusable test workflow runs `cargo test` on a bare
/// clone without `shared/`.
fn crd_dir() -> Option<std::path::PathBuf> {
    let dir = root().join("../shared/reference/kubewarden-crds");
    if dir.is_dir() {
        return Some(dir);
    }
    let github_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    assert!(
        !in_ci() || github_actions,
        "the Kubewarden CRDs are missing: expected {} (shared/ beside the clone)",
        dir.display()
    );
    eprintln!(
        "skipped: no Kubewarden CRDs at {} (shared/ beside the clone); CI=true makes this a failure",
        dir.display()
    );
    None
}

/// Kubewarden's CRD schemas by (apiVersion, kind), each made strict about unknown fields as
/// the API server is with field validation Strict (kubectl's default).
struct Crds(Vec<(String, String, serde_json::Value)>);

impl Crds {
    fn load(dir: &Path) -> Crds {
        let mut schemas = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if crd["kind"].as_str() != Some("CustomResourceDefinition") {
                continue;
            }
            let group = text(&crd["spec"], "group");
            let kind = text(&crd["spec"]["names"], "kind");
            for version in crd["spec"]["versions"].as_sequence().unwrap() {
                let mut schema = to_json(&version["schema"]["openAPIV3Schema"]);
                strict(&mut schema);
                schemas.push((
                    format!("{group}/{}", text(version, "name")),
                    kind.to_string(),
                    schema,
                ));
            }
        }
        assert!(
            schemas.len() >= 3,
            "no CRD versions found in {}",
            dir.display()
        );
        Crds(schemas)
    }

    fn schema(&self, api_version: &str, kind: &str) -> Option<&serde_json::Value> {
        self.0
            .iter()
            .find(|(v, k, _)| v == api_version && k == kind)
            .map(|(_, _, s)| s)
    }

    /// The schema's complaints about `doc` (empty: valid). Panics for a kind it lacks.
    fn errors(&self, doc: &serde_json::Value) -> Vec<String> {
        let api_version = doc["apiVersion"].as_str().unwrap_or("");
        let kind = doc["kind"].as_str().unwrap_or("");
        let schema = self
            .schema(api_version, kind)
            .unwrap_or_else(|| panic!("no CRD for {api_version} {kind}"));
        let validator = jsonschema::validator_for(schema)
            .unwrap_or_else(|e| panic!("the CRD schema of {kind} does not compile: {e}"));
        validator
            .iter_errors(doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }
}

/// Refuses fields a structural schema does not declare, except where the schema keeps
/// unknown fields (`x-kubernetes-preserve-unknown-fields`, e.g. spec.settings) or declares
/// a map (`additionalProperties`).
fn strict(schema: &mut serde_json::Value) {
    let Some(node) = schema.as_object_mut() else {
        return;
    };
    let preserves = node
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    if node.contains_key("properties") && !node.contains_key("additionalProperties") && !preserves {
        node.insert("additionalProperties".into(), false.into());
    }
    if let Some(serde_json::Value::Object(props)) = node.get_mut("properties") {
        props.values_mut().for_each(strict);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = node.get_mut(key) {
            strict(sub);
        }
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(serde_json::Value::Array(subs)) = node.get_mut(key) {
            subs.iter_mut().for_each(strict);
        }
    }
}

fn is_kubewarden(doc: &Value) -> bool {
    kind_of(doc).0.starts_with("policies.kubewarden.io/")
}

#[test]
fn every_example_kubewarden_resource_validates_against_its_crd() {
    let Some(dir) = crd_dir() else { return };
    let crds = Crds::load(&dir);
    let mut checked = Vec::new();
    for (file, doc) in example_documents().iter().filter(|(_, d)| is_kubewarden(d)) {
        let errors = crds.errors(&to_json(doc));
        assert!(
            errors.is_empty(),
            "{file} {:?} does not match its CRD:\n{}",
            kind_of(doc),
            errors.join("\n")
        );
        checked.push(format!("{file} {}", kind_of(doc).1));
    }
    assert_eq!(
        checked,
        [
            "examples/pod-policy.yaml ClusterAdmissionPolicy",
            "examples/policy-server.yaml PolicyServer",
            "examples/serviceaccount-policy.yaml ClusterAdmissionPolicy",
            "examples/workload-policy.yaml ClusterAdmissionPolicy",
        ]
    );
}

#[test]
fn the_crd_validation_refuses_broken_manifests() {
    let Some(dir) = crd_dir() else { return };
    let crds = Crds::load(&dir);
    let policy = to_json(&load("examples/pod-policy.yaml"));
    let server = example_documents()
        .into_iter()
        .find(|(_, d)| kind_of(d).1 == "PolicyServer")
        .map(|(_, d)| to_json(&d))
        .expect("a PolicyServer example");
    assert!(crds.errors(&policy).is_empty());
    assert!(crds.errors(&server).is_empty());

    type Edit = fn(&mut serde_json::Value);
    let broken: [(&str, &serde_json::Value, Edit, &str); 7] = [
        (
            "misspelt field",
            &policy,
            |p| {
                let spec = p["spec"].as_object_mut().unwrap();
                let v = spec.remove("policyServer").unwrap();
                spec.insert("policyserver".into(), v);
            },
            "policyserver",
        ),
        (
            "no module",
            &policy,
            |p| {
                p["spec"].as_object_mut().unwrap().remove("module");
            },
            "module",
        ),
        (
            "mode outside the enum",
            &policy,
            |p| p["spec"]["mode"] = "enforce".into(),
            "enforce",
        ),
        (
            "timeout above 30",
            &policy,
            |p| p["spec"]["timeoutSeconds"] = 60.into(),
            "60",
        ),
        (
            "boolean as a string",
            &policy,
            |p| p["spec"]["backgroundAudit"] = "yes".into(),
            "yes",
        ),
        (
            "PolicyServer without image",
            &server,
            |s| {
                s["spec"].as_object_mut().unwrap().remove("image");
            },
            "image",
        ),
        (
            "replicas as a string",
            &server,
            |s| s["spec"]["replicas"] = "2".into(),
            "2",
        ),
    ];
    for (what, original, edit, mention) in broken {
        let mut doc = original.clone();
        edit(&mut doc);
        let errors = crds.errors(&doc);
        assert!(!errors.is_empty(), "{what}: accepted");
        assert!(
            errors.iter().any(|e| e.contains(mention)),
            "{what}: {errors:?} does not mention {mention}"
        );
    }
    // Settings are free-form for the CRD (the policy checks them): unknown keys pass here.
    let mut doc = policy.clone();
    doc["spec"]["settings"]["anyKey"] = true.into();
    assert!(crds.errors(&doc).is_empty());
}

#[test]
fn the_example_policies_run_on_the_example_policy_server_with_least_privilege() {
    let docs = example_documents();
    let find = |kind: &str| -> Vec<&Value> {
        docs.iter()
            .filter(|(f, d)| f == "examples/policy-server.yaml" && kind_of(d).1 == kind)
            .map(|(_, d)| d)
            .collect()
    };
    let [server] = find("PolicyServer")[..] else {
        panic!("policy-server.yaml has one PolicyServer")
    };
    let [account] = find("ServiceAccount")[..] else {
        panic!("policy-server.yaml has one ServiceAccount")
    };
    let [role] = find("ClusterRole")[..] else {
        panic!("policy-server.yaml has one ClusterRole")
    };
    let [binding] = find("ClusterRoleBinding")[..] else {
        panic!("policy-server.yaml has one ClusterRoleBinding")
    };
    let server_name = text(&server["metadata"], "name");
    assert_ne!(server_name, "default");
    for file in [
        "examples/pod-policy.yaml",
        "examples/serviceaccount-policy.yaml",
        "examples/workload-policy.yaml",
    ] {
        assert_eq!(
            text(&load(file)["spec"], "policyServer"),
            server_name,
            "{file}"
        );
    }
    let account_name = text(&account["metadata"], "name");
    assert_eq!(text(&server["spec"], "serviceAccountName"), account_name);

    // get on serviceaccounts, nothing else.
    let rules = role["rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(seq_of_str(&rules[0]["apiGroups"]), [""]);
    assert_eq!(seq_of_str(&rules[0]["resources"]), ["serviceaccounts"]);
    assert_eq!(seq_of_str(&rules[0]["verbs"]), ["get"]);
    assert!(rules[0].get("resourceNames").is_none());

    assert_eq!(text(&binding["roleRef"], "kind"), "ClusterRole");
    assert_eq!(
        text(&binding["roleRef"], "name"),
        text(&role["metadata"], "name")
    );
    let subjects = binding["subjects"].as_sequence().unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(text(&subjects[0], "kind"), "ServiceAccount");
    assert_eq!(text(&subjects[0], "name"), account_name);
    assert_eq!(
        text(&subjects[0], "namespace"),
        text(&account["metadata"], "namespace")
    );
}

/// The settings as the policy's own validate_settings sees them.
fn check_settings(settings: &Value) -> Result<(), aws_workload_identity::settings::SettingsError> {
    aws_workload_identity::settings::Settings::from_value(to_json(settings))?.validate()
}

#[test]
fn every_example_policys_settings_are_accepted_by_the_policy() {
    let mut checked = 0;
    for (file, doc) in example_documents().iter().filter(|(_, d)| is_kubewarden(d)) {
        if kind_of(doc).1.ends_with("AdmissionPolicy") {
            check_settings(&doc["spec"]["settings"])
                .unwrap_or_else(|e| panic!("{file}: spec.settings refused: {e}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
    check_settings(&load("examples/settings.yaml")).expect("examples/settings.yaml");
}

#[test]
fn settings_the_policy_would_refuse_are_refused() {
    use aws_workload_identity::settings::SettingsError;
    let invalid = load("host/tests/data/settings-invalid.yaml");
    match check_settings(&invalid) {
        Err(SettingsError::Invalid(problems)) => {
            assert!(
                problems.iter().any(|p| p.contains("tokenExpiration")),
                "{problems:?}"
            )
        }
        other => panic!("settings-invalid.yaml: {other:?}"),
    }
    let pod_policy = load("examples/pod-policy.yaml");
    let mut settings = pod_policy["spec"]["settings"].clone();
    settings["tokenExpiration"] = 300.into();
    assert!(matches!(
        check_settings(&settings),
        Err(SettingsError::Invalid(_))
    ));
    let mut settings = pod_policy["spec"]["settings"].clone();
    settings["regoin"] = "eu-central-1".into();
    assert!(matches!(
        check_settings(&settings),
        Err(SettingsError::Malformed(_))
    ));
    let mut settings = pod_policy["spec"]["settings"].clone();
    settings["oidcProvider"]["providerUrl"] = "http://oidc.cpln.example/abc123".into();
    assert!(check_settings(&settings).is_err());
}

/// The README's "Install" section: from Kubewarden's charts to the dedicated PolicyServer
/// and the pinned module, and no Helm values that would replace the default PolicyServer's
/// permission list.
#[test]
fn readme_install_section_uses_the_policy_server_and_the_pinned_module() {
    let readme = read("README.md");
    let start = readme.find("\n## Install\n").expect("a section Install");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let m = load("policy-metadata.yml");
    let module = format!(
        "registry://{}:v{}",
        annotation(&m, "io.kubewarden.policy.ociUrl"),
        version()
    );
    for needed in [
        "https://charts.kubewarden.io",
        "kubewarden/kubewarden-crds",
        "kubewarden/kubewarden-controller",
        "kubewarden/kubewarden-defaults",
        "kwctl verify --github-owner",
        "verificationConfig",
        "kubectl apply -f examples/policy-server.yaml",
        "examples/pod-policy.yaml -f examples/serviceaccount-policy.yaml",
        "-f examples/workload-policy.yaml",
        "status.policyStatus",
        module.as_str(),
    ] {
        assert!(
            section.contains(needed),
            "Install does not mention {needed}"
        );
    }
    assert!(
        !readme.contains("policyServer:\n  permissions:"),
        "a Helm values snippet that replaces the default PolicyServer's permissions"
    );
}

/// README, "When the API server is down or slow": while the ServiceAccount read is slow, the
/// API server's webhook deadline must pass before policy-server's evaluation limit can
/// strike, so that `failurePolicy: Ignore` admits the Pod instead of policy-server rejecting
/// it (code 500, which no failure policy covers).
#[test]
fn a_slow_serviceaccount_read_ends_in_ignore_not_in_a_rejection() {
    let docs = example_documents();
    let [server] = docs
        .iter()
        .filter(|(f, d)| f == "examples/policy-server.yaml" && kind_of(d).1 == "PolicyServer")
        .map(|(_, d)| d)
        .collect::<Vec<_>>()[..]
    else {
        panic!("policy-server.yaml has one PolicyServer")
    };
    let env = server["spec"]["env"]
        .as_sequence()
        .expect("PolicyServer env");
    let limit: u64 = env
        .iter()
        .find(|e| text(e, "name") == "KUBEWARDEN_POLICY_TIMEOUT")
        .map(|e| {
            text(e, "value")
                .parse()
                .expect("KUBEWARDEN_POLICY_TIMEOUT is seconds")
        })
        .expect("the PolicyServer sets KUBEWARDEN_POLICY_TIMEOUT");

    // Both policies that read ServiceAccounts through the API server.
    let mut timeout = 0;
    for file in ["examples/pod-policy.yaml", "examples/workload-policy.yaml"] {
        let policy = load(file);
        let spec = &policy["spec"];
        assert_eq!(text(spec, "failurePolicy"), "Ignore", "{file}");
        timeout = spec["timeoutSeconds"].as_u64().expect("timeoutSeconds");
        assert!((2..=30).contains(&timeout), "{file}: {timeout}");
        // Kubewarden refuses a timeoutEvalSeconds above timeoutSeconds, and one equal to it
        // may strike first; the server's limit applies instead.
        assert!(
            spec.get("timeoutEvalSeconds").is_none(),
            "{file} must use the PolicyServer's evaluation limit"
        );
        // The limit is counted in whole-second ticks, so N ticks may strike after N - 1
        // seconds.
        assert!(
            limit >= timeout + 2,
            "{file}: KUBEWARDEN_POLICY_TIMEOUT {limit} must be at least timeoutSeconds {timeout} + 2"
        );
    }
    // The README states the numbers.
    let readme = read("README.md");
    for needle in [
        format!("`timeoutSeconds: {timeout}`"),
        format!("`KUBEWARDEN_POLICY_TIMEOUT: \"{limit}\"`"),
    ] {
        assert!(readme.contains(&needle), "README lacks {needle}");
    }

    // Kubewarden's own rule for every example policy.
    for (file, doc) in &docs {
        if kind_of(doc).1 != "ClusterAdmissionPolicy" {
            continue;
        }
        if let Some(eval) = doc["spec"]["timeoutEvalSeconds"].as_u64() {
            let webhook = doc["spec"]["timeoutSeconds"].as_u64().unwrap_or(10);
            assert!(
                eval <= webhook,
                "{file}: timeoutEvalSeconds above timeoutSeconds"
            );
        }
    }
}
