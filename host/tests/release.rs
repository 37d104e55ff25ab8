//! The release artifact end to end: the annotated module the build embeds (`awi module`,
//! `awi inspect`), a copy of `awi` outside the checkout, and publishing to and fetching from
//! a real OCI registry (CNCF Distribution, Debian's `docker-registry`) started on loopback
//! by the tests with their own configuration and storage.
//!
//! Without the registry binary the registry tests say they were skipped and how to enable
//! them; with `CI=true` they fail instead.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use awi::awi_metadata::{self, Metadata, ProtocolVersion};
use base64::Engine as _;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use serde_json::Value;

mod common;

use common::cli::{
    EXAMPLE_REVIEW, assert_bad_input, assert_contains, assert_ok, example_review_with, root, words,
};

const REPOSITORY: &str = "policies/aws-workload-identity";

/// A fresh directory for one test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("awi-release-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- the annotated module --------------------------------------------------------------

/// The metadata `kwctl annotate -m policy-metadata.yml -u README.md` would write.
fn expected_metadata() -> Metadata {
    let yaml = std::fs::read_to_string(root().join("policy-metadata.yml")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    Metadata::from_yaml(&yaml).unwrap().annotated(Some(&readme))
}

#[test]
fn the_embedded_module_is_annotated_from_the_metadata_and_readme() {
    let metadata = awi_metadata::read(awi::EMBEDDED_MODULE)
        .expect("a module")
        .expect("an io.kubewarden.metadata section");
    assert_eq!(metadata, expected_metadata());
    assert_eq!(metadata.protocol_version, Some(ProtocolVersion::V1));
    metadata.validate().unwrap();

    // The section holds the keys Kubewarden reads, in its JSON shapes.
    let raw = awi_metadata::section(awi::EMBEDDED_MODULE)
        .unwrap()
        .unwrap();
    let json: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(json["protocolVersion"], "v1");
    assert_eq!(json["executionMode"], "kubewarden-wapc");
    assert_eq!(json["mutating"], true);
    assert_eq!(
        json["contextAwareResources"],
        serde_json::json!([{"apiVersion": "v1", "kind": "ServiceAccount"}])
    );
    assert_eq!(json["rules"][0]["resources"], serde_json::json!(["pods"]));
    assert!(
        json["annotations"][awi_metadata::USAGE_ANNOTATION]
            .as_str()
            .unwrap()
            .starts_with("# aws-workload-identity"),
    );
}

#[test]
fn the_module_says_the_protocol_version_its_metadata_declares() {
    // Kubewarden asks the module itself (`protocol_version`); annotation writes "v1"
    // without asking, so the two must agree.
    let engine = awi::new_engine(None).unwrap();
    let policy = awi::Policy::from_bytes(&engine, awi::EMBEDDED_MODULE).unwrap();
    let instance = policy
        .wapc_instance(std::sync::Arc::new(awi::Objects::empty()))
        .unwrap();
    assert_eq!(instance.protocol_version().unwrap(), "v1");
}

#[test]
fn module_writes_the_embedded_module_and_inspect_reads_it() {
    let dir = Scratch::new("module");
    let file = dir.path("annotated-policy.wasm");
    let r = assert_ok(&["module", "-o", file.to_str().unwrap()]);
    assert_contains(&r.stdout, &["annotated"]);
    assert_eq!(std::fs::read(&file).unwrap(), awi::EMBEDDED_MODULE);

    let r = assert_ok(&["inspect", "--module", file.to_str().unwrap()]);
    for line in [
        "Details\n",
        "title:",
        "aws-workload-identity\n",
        "execution mode:           kubewarden-wapc\n",
        "protocol version:         v1\n",
        "context aware:            true\n",
        "\nAnnotations\n",
        "io.kubewarden.policy.ociUrl",
        "\nRules\n",
        "- serviceaccounts\n",
        "\nContext Aware\n",
        "\nUsage\n# aws-workload-identity\n",
    ] {
        assert!(
            r.stdout.contains(line),
            "missing {line:?} in:\n{}",
            r.stdout
        );
    }
    let r = assert_ok(&["inspect", "-o", "yaml"]);
    let parsed: Metadata = serde_yaml::from_str(&r.stdout).unwrap();
    assert_eq!(parsed, expected_metadata());

    // A module without metadata, a file that is not a module, a file that cannot be written.
    let bare = dir.write("bare.wasm", b"\0asm\x01\0\0\0");
    assert_bad_input(&["inspect", "--module", &bare], "no Kubewarden metadata");
    let text = dir.write("text.wasm", b"hello");
    assert_bad_input(&["inspect", "--module", &text], "not a WebAssembly module");
    assert_bad_input(
        &words("module -o /nonexistent-dir/x.wasm"),
        "--output /nonexistent-dir/x.wasm: cannot write",
    );
}

#[test]
fn a_copied_awi_runs_outside_the_checkout() {
    // What `cargo install --path host` or a copied release binary gets: no checkout, no
    // target directory, only the binary.
    let dir = Scratch::new("copied");
    let binary = dir.path("awi");
    std::fs::copy(env!("CARGO_BIN_EXE_awi"), &binary).unwrap();
    for file in ["review.json", "settings.yaml", "serviceaccount.yaml"] {
        std::fs::copy(root().join("examples").join(file), dir.path(file)).unwrap();
    }
    let args = [
        "review",
        "review.json",
        "--settings",
        "settings.yaml",
        "--service-account",
        "serviceaccount.yaml",
    ];
    // Another test thread forking while the copy was still open for writing keeps the file
    // busy for a moment (ETXTBSY): try again shortly.
    let run_copy = || {
        Command::new(&binary)
            .current_dir(&dir.0)
            .env(
                "AWI_CACHE_DIR",
                root().join("target").join("awi-test-cache"),
            )
            .args(args)
            .output()
    };
    let mut attempt = run_copy();
    for _ in 0..20 {
        match &attempt {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                attempt = run_copy();
            }
            _ => break,
        }
    }
    let copied = attempt.expect("the copied awi runs");
    let stdout = String::from_utf8(copied.stdout).unwrap();
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let here = assert_ok(EXAMPLE_REVIEW);
    assert_eq!(stdout, here.stdout);
    assert!(stdout.contains("\"patch\""), "{stdout}");
}

/// The README's main command, `cargo run -p awi`, right after its test command, `cargo test
/// --workspace`, must reuse the test build: every package the run needs is one the tests
/// built, with the same features (else the run compiles wasmtime a second time). The
/// features that dev-dependencies add are named in host/Cargo.toml for that.
#[test]
fn the_main_command_reuses_the_test_build() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tree = |args: &[&str]| -> std::collections::BTreeSet<String> {
        let output = Process::new(&cargo)
            .current_dir(root())
            .args([
                "tree",
                "--offline",
                "--locked",
                "--prefix",
                "none",
                "-f",
                "{p} [{f}]",
            ])
            .args(args)
            .output()
            .expect("cargo tree runs");
        assert!(
            output.status.success(),
            "cargo tree {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| line.trim_end_matches(" (*)").to_string())
            .collect()
    };
    let tests = tree(&["--workspace", "-e", "normal,build,dev"]);
    let main_command = tree(&["-p", "awi", "-e", "normal,build"]);
    let rebuilt: Vec<&String> = main_command.difference(&tests).collect();
    assert!(
        rebuilt.is_empty(),
        "`cargo run -p awi` would build these again with other features than the tests; \
         name the tests' features in host/Cargo.toml:\n{rebuilt:#?}"
    );
}

// ---- a real registry -------------------------------------------------------------------

/// A Distribution registry on a free loopback port, with its own configuration and storage,
/// stopped (by its PID) when dropped.
struct RegistryServer {
    child: Child,
    host: String,
    dir: Scratch,
}

/// The registry binary: Debian's `docker-registry`, or upstream's `registry`.
fn registry_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["docker-registry", "registry"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Whether the registry tests can run here; `CI=true` makes a missing binary a failure,
/// except on GitHub's runners, where Kubewarden's reusable workflow runs `cargo test` and
/// installs no Debian packages (`.ci/run` does).
fn registry_available(test: &str) -> bool {
    if registry_binary().is_some() {
        return true;
    }
    let set = |name: &str| std::env::var(name).is_ok_and(|v| v == "true");
    if set("CI") && !set("GITHUB_ACTIONS") {
        panic!(
            "{test}: no registry binary (docker-registry) on PATH; CI installs Debian's docker-registry"
        );
    }
    eprintln!(
        "skipped {test}: no OCI registry binary on PATH; `apt-get install docker-registry` \
         (Debian's CNCF Distribution) to run it"
    );
    false
}

/// A registry for `test`, or `None` (the reason printed) where none can run.
fn start_registry(test: &str, access: Access) -> Option<RegistryServer> {
    registry_available(test).then(|| RegistryServer::start(test, access))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How a test registry authenticates.
enum Access {
    Open,
    /// htpasswd with one user (bcrypt, made by Apache's `htpasswd`).
    Password(&'static str, &'static str),
}

impl RegistryServer {
    fn start(name: &str, access: Access) -> RegistryServer {
        let dir = Scratch::new(&format!("registry-{name}"));
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let auth = match access {
            Access::Open => String::new(),
            Access::Password(user, password) => {
                let out = Process::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd (Debian's apache2-utils) makes the password file");
                assert!(out.status.success(), "htpasswd failed");
                let file = dir.write("htpasswd", out.stdout);
                format!("auth:\n  htpasswd:\n    realm: awi-test\n    path: {file}\n")
            }
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n  secret: awi-test-secret\n{auth}",
            dir.path("storage").display()
        );
        let config_path = dir.write("config.yml", config);
        let child = Process::new(registry_binary().expect("registry binary"))
            .args(["serve", &config_path])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path("registry.log")).unwrap())
            .spawn()
            .expect("the registry starts");
        let server = RegistryServer { child, host, dir };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(&self.host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path("registry.log")).unwrap_or_default();
        panic!(
            "the registry did not listen on {} in 20 s: {log}",
            self.host
        );
    }

    fn uri(&self, tag: &str) -> String {
        format!("registry://{}/{REPOSITORY}:{tag}", self.host)
    }

    /// A sources.yml that lets awi use this registry over plain HTTP.
    fn sources(&self) -> String {
        self.dir.write(
            "sources.yml",
            format!("insecure_sources: [\"{}\"]\n", self.host),
        )
    }

    /// A Docker config.json with these credentials for this registry.
    fn docker_config(&self, name: &str, user: &str, password: &str) -> String {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.dir.write(
            name,
            format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, self.host),
        )
    }

    /// Uploads an arbitrary artifact with the OCI client, as a hostile publisher could.
    fn push_raw(&self, tag: &str, layer: &[u8], media_type: &str) {
        let client = plain_http_client();
        let reference: oci_client::Reference =
            format!("{}/{REPOSITORY}:{tag}", self.host).parse().unwrap();
        let layers = vec![ImageLayer::new(
            layer.to_vec(),
            media_type.to_string(),
            None,
        )];
        let config = Config {
            data: b"{}".to_vec().into(),
            media_type: WASM_CONFIG_MEDIA_TYPE.to_string(),
            annotations: None,
        };
        runtime()
            .block_on(client.push(&reference, &layers, config, &RegistryAuth::Anonymous, None))
            .expect("raw push");
    }

    /// The stored manifest, fetched with the OCI client.
    fn manifest(&self, tag: &str) -> oci_client::manifest::OciImageManifest {
        let client = plain_http_client();
        let reference: oci_client::Reference =
            format!("{}/{REPOSITORY}:{tag}", self.host).parse().unwrap();
        runtime()
            .block_on(client.pull_image_manifest(&reference, &RegistryAuth::Anonymous))
            .expect("manifest")
            .0
    }

    /// The file in the registry's storage that holds the blob `digest`.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path("storage")
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OCI client for the test registries (plain HTTP, rustls with ring as awi uses it).
fn plain_http_client() -> oci_client::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    oci_client::Client::try_from(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    })
    .expect("an OCI client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn push_pull_round_trip_through_a_real_registry() {
    let Some(registry) =
        start_registry("push_pull_round_trip_through_a_real_registry", Access::Open)
    else {
        return;
    };
    let sources = registry.sources();
    let uri = registry.uri("v0.1.0");

    // The issue's exact call: the embedded module, plain HTTP allowed by sources.yml.
    let pushed = assert_ok(&["push", &uri, "--sources-path", &sources]);
    let pinned = pushed.stdout.trim_end().to_string();
    let digest = pinned
        .strip_prefix(&format!("{uri}@"))
        .unwrap_or_else(|| panic!("{pinned} is not {uri}@sha256:..."));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    // Kubewarden's artifact format.
    let manifest = registry.manifest("v0.1.0");
    assert_eq!(manifest.config.media_type, WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest.layers.len(), 1);
    assert_eq!(manifest.layers[0].media_type, WASM_LAYER_MEDIA_TYPE);
    assert_eq!(manifest.layers[0].size as usize, awi::EMBEDDED_MODULE.len());
    let config = std::fs::read(registry.blob_file(&manifest.config.digest)).unwrap();
    assert_eq!(config, b"{}");
    let annotations = manifest.annotations.clone().unwrap_or_default();
    let metadata = expected_metadata();
    assert_eq!(annotations, metadata.oci_annotations());
    assert_eq!(
        annotations[awi_metadata::OCI_SOURCE_ANNOTATION],
        metadata
            .annotation(awi_metadata::SOURCE_ANNOTATION)
            .unwrap()
    );
    assert!(!annotations.contains_key(awi_metadata::USAGE_ANNOTATION));
    assert_eq!(
        annotations["io.kubewarden.policy.title"],
        "aws-workload-identity"
    );

    // Pull by tag and by digest: byte-identical, same digest.
    let dir = Scratch::new("round-trip-out");
    for source in [uri.as_str(), pinned.as_str()] {
        let out = dir.path("pulled.wasm");
        let pulled = assert_ok(&[
            "pull",
            source,
            "-o",
            out.to_str().unwrap(),
            "--sources-path",
            &sources,
        ]);
        assert!(pulled.stdout.starts_with(&pinned), "{}", pulled.stdout);
        assert_eq!(std::fs::read(&out).unwrap(), awi::EMBEDDED_MODULE);
        std::fs::remove_file(&out).unwrap();
    }

    // The pulled module answers the recorded reviews like the embedded one, as a file and
    // straight from the registry.
    let local = assert_ok(EXAMPLE_REVIEW);
    let remote = assert_ok(&example_review_with(&[
        "--module",
        &pinned,
        "--sources-path",
        &sources,
    ]));
    assert_eq!(remote.stdout, local.stdout);
    let inspected = assert_ok(&["inspect", "--module", &uri, "--sources-path", &sources]);
    assert!(inspected.stdout.contains("protocol version:         v1"));

    // Pushing the same module again gives the same digest.
    let again = assert_ok(&["push", &uri, "--sources-path", &sources]);
    assert_eq!(again.stdout.trim_end(), pinned);
}

#[test]
fn registry_bad_input_is_one_line_and_writes_nothing() {
    let Some(registry) = start_registry(
        "registry_bad_input_is_one_line_and_writes_nothing",
        Access::Open,
    ) else {
        return;
    };
    let sources = registry.sources();
    let dir = Scratch::new("bad-input-out");
    let out = dir.path("never.wasm");
    let out_arg = out.to_str().unwrap();
    let pull = |uri: &str, needle: &str| {
        assert_bad_input(
            &["pull", uri, "-o", out_arg, "--sources-path", &sources],
            needle,
        );
        assert!(!out.exists(), "{uri}: a failed pull wrote {out_arg}");
    };

    // Nothing listens there.
    let closed = format!("127.0.0.1:{}", free_port());
    let closed_sources = dir.write("closed.yml", format!("insecure_sources: [\"{closed}\"]\n"));
    let closed_uri = format!("registry://{closed}/{REPOSITORY}:v0.1.0");
    assert_bad_input(
        &["push", &closed_uri, "--sources-path", &closed_sources],
        &format!("cannot reach registry {closed}"),
    );
    assert_bad_input(
        &[
            "pull",
            &closed_uri,
            "-o",
            out_arg,
            "--sources-path",
            &closed_sources,
        ],
        &format!("cannot reach registry {closed}"),
    );
    assert!(!out.exists());

    // No such tag; no tag at all; a digest that is not there.
    pull(&registry.uri("v9.9.9"), "not found in the registry");
    let untagged = format!("registry://{}/{REPOSITORY}", registry.host);
    pull(&untagged, "no tag");
    assert_bad_input(&["push", &untagged, "--sources-path", &sources], "no tag");
    let absent = format!(
        "registry://{}/{REPOSITORY}@sha256:{}",
        registry.host,
        "0".repeat(64)
    );
    pull(&absent, "not found in the registry");

    // Artifacts that are not policy modules.
    registry.push_raw("text-layer", b"hello, not wasm", WASM_LAYER_MEDIA_TYPE);
    pull(
        &registry.uri("text-layer"),
        "the artifact's layer is not a WebAssembly module",
    );
    registry.push_raw(
        "tarball",
        b"\0asm\x01\0\0\0",
        "application/vnd.oci.image.layer.v1.tar",
    );
    pull(
        &registry.uri("tarball"),
        "application/vnd.oci.image.layer.v1.tar",
    );

    // A stored blob whose content no longer matches its digest.
    assert_ok(&[
        "push",
        &registry.uri("tampered"),
        "--sources-path",
        &sources,
    ]);
    let layer = registry.manifest("tampered").layers[0].digest.clone();
    let mut bytes = std::fs::read(registry.blob_file(&layer)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(registry.blob_file(&layer), bytes).unwrap();
    pull(&registry.uri("tampered"), "does not match its digest");

    // --module files that are not publishable.
    let push_module = |file: &str, needle: &str| {
        let uri = registry.uri("x");
        let args = ["push", &uri, "--module", file, "--sources-path", &sources];
        assert_bad_input(&args, needle);
    };
    push_module(
        &dir.write("text.wasm", b"not wasm at all"),
        "not a WebAssembly module",
    );
    push_module(&dir.write("bare.wasm", b"\0asm\x01\0\0\0"), "not annotated");

    // Without sources.yml the plain-HTTP registry is not used: TLS only.
    assert_bad_input(
        &["push", &registry.uri("x")],
        &format!("registry {}", registry.host),
    );
    let broken = dir.write("sources-typo.yml", "insecure_source: [x]\n");
    assert_bad_input(
        &["push", &registry.uri("x"), "--sources-path", &broken],
        "unknown field `insecure_source`",
    );
}

#[test]
fn registry_with_htpasswd_refuses_and_accepts_credentials() {
    let Some(registry) = start_registry(
        "registry_with_htpasswd_refuses_and_accepts_credentials",
        Access::Password("publisher", "s3cret"),
    ) else {
        return;
    };
    let sources = registry.sources();
    let uri = registry.uri("v0.1.0");
    let refused = format!("registry {} refused access to {uri}", registry.host);

    // `awi push` with a Docker config.json.
    fn push_with<'a>(uri: &'a str, sources: &'a str, config: &'a str) -> [&'a str; 6] {
        [
            "push",
            uri,
            "--sources-path",
            sources,
            "--docker-config-json-path",
            config,
        ]
    }

    // No credentials, wrong credentials.
    assert_bad_input(&["push", &uri, "--sources-path", &sources], &refused);
    let wrong = registry.docker_config("wrong.json", "publisher", "guess");
    assert_bad_input(&push_with(&uri, &sources, &wrong), &refused);

    // The right ones: push, then pull with and without them.
    let right = registry.docker_config("right.json", "publisher", "s3cret");
    let pushed = assert_ok(&push_with(&uri, &sources, &right));
    assert!(pushed.stdout.starts_with(&format!("{uri}@sha256:")));
    let dir = Scratch::new("auth-out");
    let out = dir.path("pulled.wasm");
    let pull = [
        "pull",
        &uri,
        "-o",
        out.to_str().unwrap(),
        "--sources-path",
        &sources,
    ];
    assert_ok(&[&pull[..], &["--docker-config-json-path", &right]].concat());
    assert_eq!(std::fs::read(&out).unwrap(), awi::EMBEDDED_MODULE);
    std::fs::remove_file(&out).unwrap();
    assert_bad_input(&pull, &refused);
    assert!(!out.exists());

    // An unreadable credentials file is bad input of its own.
    let not_json = registry.dir.write("not.json", "{");
    assert_bad_input(
        &push_with(&uri, &sources, &not_json),
        "not a Docker config.json",
    );
}
