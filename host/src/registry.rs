//! OCI registries: the policy published and fetched as Kubewarden's artifact.
//!
//! Kubewarden loads a policy from `registry://HOST[:PORT]/REPOSITORY:TAG`: an OCI image
//! manifest whose config is `{}` (media type `application/vnd.wasm.config.v1+json`) and
//! whose one layer is the annotated module (`application/vnd.wasm.content.layer.v1+wasm`),
//! with the metadata's single-line annotations on the manifest. [`Registry::push`] writes
//! exactly that, [`Registry::pull`] reads it back and checks it is a module.
//!
//! Registry options have Kubewarden's file formats, so the files kwctl and policy-server
//! use work here unchanged:
//!
//! - [`Sources`] (`sources.yml`): `insecure_sources` are hosts that may be reached over plain
//!   HTTP or HTTPS without certificate checks; `source_authorities` adds CA certificates per
//!   host. As Kubewarden does, an insecure host is tried over HTTPS, then HTTPS without
//!   verification, then HTTP.
//! - [`Credentials`] (a Docker `config.json`): `auths.<host>.auth` (base64 `user:password`)
//!   or `username`/`password`. Without a file, `$DOCKER_CONFIG/config.json` or
//!   `~/.docker/config.json` is read when it exists; otherwise the registry is used
//!   anonymously.
//!
//! Every failure is a [`RegistryError`] whose message is one line naming the reference and
//! what went wrong.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::client::{
    Certificate, CertificateEncoding, ClientConfig, ClientProtocol, Config, ImageLayer,
};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciImageManifest, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

/// The URI scheme Kubewarden uses for OCI registries.
pub const SCHEME: &str = "registry://";

/// What can go wrong with a registry, a reference or the registry options. `uri` is the
/// reference as given, `host` the registry's, `cause` or `problem` what went wrong.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs, reason = "the fields are described once, above")]
pub enum RegistryError {
    /// The reference is not `registry://HOST[:PORT]/REPOSITORY:TAG` (or `@sha256:...`).
    #[error("{uri}: {problem}")]
    Reference { uri: String, problem: String },
    /// An options file (`--sources-path`, `--docker-config-json-path`) cannot be used.
    #[error("{}: {problem}", path.display())]
    Options { path: PathBuf, problem: String },
    /// The registry could not be reached.
    #[error("cannot reach registry {host}: {cause}")]
    Unreachable { host: String, cause: String },
    /// The registry refused the credentials (or asked for some and got none).
    #[error("registry {host} refused access to {uri}: {cause}")]
    Unauthorized {
        host: String,
        uri: String,
        cause: String,
    },
    /// No manifest for that tag or digest.
    #[error("{uri}: not found in the registry")]
    NotFound { uri: String },
    /// The artifact is not a policy module.
    #[error("{uri}: {problem}")]
    NotAPolicy { uri: String, problem: String },
    /// A blob's content does not match its digest.
    #[error("{uri}: {cause}")]
    Digest { uri: String, cause: String },
    /// Anything else the registry answered.
    #[error("{uri}: the registry answered: {cause}")]
    Registry { uri: String, cause: String },
}

/// A `registry://` reference to a policy.
#[derive(Debug, Clone)]
pub struct Reference {
    uri: String,
    inner: oci_client::Reference,
}

impl Reference {
    /// Parses `registry://HOST[:PORT]/REPOSITORY:TAG` or `...@sha256:DIGEST`. A reference
    /// without a tag or digest is refused: an implicit `latest` is never what a release
    /// pipeline meant.
    pub fn parse(uri: &str) -> Result<Reference, RegistryError> {
        let problem = |problem: &str| RegistryError::Reference {
            uri: uri.to_string(),
            problem: problem.to_string(),
        };
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| problem("expected registry://HOST[:PORT]/REPOSITORY:TAG"))?;
        let Some((_, last)) = rest.rsplit_once('/') else {
            return Err(problem("expected registry://HOST[:PORT]/REPOSITORY:TAG"));
        };
        if !last.contains(':') && !last.contains('@') {
            return Err(problem(
                "no tag: name one, e.g. registry://HOST/REPOSITORY:v0.1.0",
            ));
        }
        let inner = oci_client::Reference::try_from(rest).map_err(|e| problem(&e.to_string()))?;
        Ok(Reference {
            uri: uri.to_string(),
            inner,
        })
    }

    /// Whether `text` is meant as a registry reference rather than a file.
    pub fn is_registry_uri(text: &str) -> bool {
        text.starts_with(SCHEME)
    }

    /// The URI as given.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// `HOST[:PORT]`.
    pub fn host(&self) -> &str {
        self.inner.resolve_registry()
    }

    /// The tag, when the reference names one.
    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    /// The reference pinned to a manifest digest: `URI@sha256:...`.
    pub fn pinned(&self, digest: &str) -> String {
        let base = self.uri.split_once('@').map_or(&*self.uri, |(b, _)| b);
        format!("{base}@{digest}")
    }
}

/// A module fetched from a registry.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The module's bytes (the artifact's one layer).
    pub module: Vec<u8>,
    /// The digest of the artifact's manifest (`sha256:...`).
    pub digest: String,
}

/// `sources.yml`: which hosts are insecure and which CA certificates each host has.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    insecure: HashSet<String>,
    authorities: HashMap<String, Vec<Certificate>>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SourcesFile {
    insecure_sources: Vec<String>,
    source_authorities: HashMap<String, Vec<Authority>>,
    /// Accepted so that Kubewarden's file works as is; this client takes its proxies from
    /// the environment (`HTTPS_PROXY`, `NO_PROXY`), as reqwest does.
    #[serde(rename = "proxies")]
    _proxies: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum Authority {
    Path { path: PathBuf },
    Data { data: String },
}

impl Sources {
    /// Reads a `sources.yml` (YAML or JSON).
    pub fn from_file(path: &Path) -> Result<Sources, RegistryError> {
        let problem = |problem: String| options_problem(path, problem);
        let text = read_options(path)?;
        let file: SourcesFile = if text.trim().is_empty() {
            SourcesFile::default()
        } else {
            serde_yaml::from_str(&text).map_err(|e| problem(format!("not a sources file: {e}")))?
        };
        let mut authorities = HashMap::new();
        for (host, list) in file.source_authorities {
            let mut certificates = Vec::new();
            for authority in list {
                let (data, origin) = match authority {
                    Authority::Data { data } => (data.into_bytes(), "data".to_string()),
                    Authority::Path { path: cert } => {
                        let bytes = std::fs::read(&cert).map_err(|e| {
                            problem(format!(
                                "source_authorities {host}: cannot read {}: {e}",
                                cert.display()
                            ))
                        })?;
                        (bytes, cert.display().to_string())
                    }
                };
                certificates.push(certificate(data).ok_or_else(|| {
                    problem(format!(
                        "source_authorities {host}: {origin} is not a PEM or DER certificate"
                    ))
                })?);
            }
            authorities.insert(host, certificates);
        }
        Ok(Sources {
            insecure: file.insecure_sources.into_iter().collect(),
            authorities,
        })
    }

    fn is_insecure(&self, host: &str) -> bool {
        self.insecure.contains(host)
    }
}

/// A problem with the options file at `path`.
fn options_problem(path: &Path, problem: String) -> RegistryError {
    RegistryError::Options {
        path: path.to_path_buf(),
        problem,
    }
}

/// The text of an options file (`--sources-path`, `--docker-config-json-path`).
fn read_options(path: &Path) -> Result<String, RegistryError> {
    std::fs::read_to_string(path).map_err(|e| options_problem(path, format!("cannot read: {e}")))
}

/// A PEM certificate starts with its armour; anything else is taken as DER (an ASN.1
/// SEQUENCE), which rustls checks when the client is built.
fn certificate(data: Vec<u8>) -> Option<Certificate> {
    let text = String::from_utf8_lossy(&data);
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return Some(Certificate {
            encoding: CertificateEncoding::Pem,
            data,
        });
    }
    (data.first() == Some(&0x30)).then_some(Certificate {
        encoding: CertificateEncoding::Der,
        data,
    })
}

/// Registry credentials from a Docker `config.json`.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_host: HashMap<String, (String, String)>,
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, DockerAuth>,
}

#[derive(Deserialize)]
struct DockerAuth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl Credentials {
    /// Reads a Docker `config.json`.
    pub fn from_file(path: &Path) -> Result<Credentials, RegistryError> {
        let problem = |problem: String| options_problem(path, problem);
        let text = read_options(path)?;
        let config: DockerConfig = serde_json::from_str(&text)
            .map_err(|e| problem(format!("not a Docker config.json: {e}")))?;
        let mut by_host = HashMap::new();
        for (key, auth) in config.auths {
            let pair = match (auth.auth, auth.username, auth.password) {
                (Some(encoded), _, _) => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(encoded.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| {
                            problem(format!("auths {key}: auth is not base64 of user:password"))
                        })?;
                    let (user, password) = decoded.split_once(':').ok_or_else(|| {
                        problem(format!("auths {key}: auth is not base64 of user:password"))
                    })?;
                    (user.to_string(), password.to_string())
                }
                (None, Some(user), Some(password)) => (user, password),
                // Identity tokens and entries without secrets: anonymous, as Kubewarden does.
                _ => continue,
            };
            by_host.insert(host_of_auth_key(&key), pair);
        }
        Ok(Credentials { by_host })
    }

    /// `--docker-config-json-path` when given, else the user's Docker config when it
    /// exists, else none.
    pub fn discover(explicit: Option<&Path>) -> Result<Credentials, RegistryError> {
        if let Some(path) = explicit {
            return Credentials::from_file(path);
        }
        let dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
        match dir.map(|d| d.join("config.json")) {
            Some(path) if path.is_file() => Credentials::from_file(&path),
            _ => Ok(Credentials::default()),
        }
    }

    fn auth(&self, host: &str) -> RegistryAuth {
        match self.by_host.get(host) {
            Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            None => RegistryAuth::Anonymous,
        }
    }
}

/// Docker keys its `auths` by host, sometimes as a URL (`https://index.docker.io/v1/`).
fn host_of_auth_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key).to_string()
}

/// A registry client with Kubewarden's registry options.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    sources: Sources,
    credentials: Credentials,
}

/// How one attempt connects: Kubewarden's order for insecure hosts.
#[derive(Debug, Clone, Copy)]
enum Transport {
    Https,
    HttpsUnverified,
    Http,
}

impl Registry {
    /// A client that reaches registries as `sources` says, authenticating with
    /// `credentials`.
    pub fn new(sources: Sources, credentials: Credentials) -> Registry {
        Registry {
            sources,
            credentials,
        }
    }

    /// Publishes the annotated `module` at `reference` (which must name a tag) and returns
    /// the immutable reference `URI@sha256:...`. A module without Kubewarden metadata is
    /// refused, as `kwctl push` refuses it.
    pub fn push(&self, module: &[u8], reference: &Reference) -> Result<String, RegistryError> {
        let not_a_policy = |problem: String| RegistryError::NotAPolicy {
            uri: reference.uri.clone(),
            problem,
        };
        if reference.inner.digest().is_some() {
            return Err(RegistryError::Reference {
                uri: reference.uri.clone(),
                problem: "push needs a tag, not a digest".into(),
            });
        }
        let metadata = awi_metadata::read(module)
            .map_err(|e| not_a_policy(e.to_string()))?
            .ok_or_else(|| {
                not_a_policy(format!(
                    "the module is not annotated (no {} section); use the module `awi module` writes",
                    awi_metadata::SECTION
                ))
            })?;
        let layers = vec![ImageLayer::new(
            module.to_vec(),
            WASM_LAYER_MEDIA_TYPE.to_string(),
            None,
        )];
        let config = Config {
            data: b"{}".to_vec().into(),
            media_type: WASM_CONFIG_MEDIA_TYPE.to_string(),
            annotations: None,
        };
        let manifest = OciImageManifest::build(&layers, &config, Some(metadata.oci_annotations()));
        let auth = self.credentials.auth(reference.host());
        let manifest_url = self.attempt(reference, |client| {
            let (layers, config, manifest, auth) = (
                layers.clone(),
                config.clone(),
                manifest.clone(),
                auth.clone(),
            );
            async move {
                client
                    .push(&reference.inner, &layers, config, &auth, Some(manifest))
                    .await
                    .map(|response| response.manifest_url)
            }
        })?;
        // Distribution answers with the manifest's URL, which ends in its digest.
        let digest = match manifest_url.rsplit_once('/') {
            Some((_, digest)) if digest.starts_with("sha256:") => digest.to_string(),
            _ => self.attempt(reference, |client| {
                let auth = auth.clone();
                async move { client.fetch_manifest_digest(&reference.inner, &auth).await }
            })?,
        };
        Ok(reference.pinned(&digest))
    }

    /// Fetches the module at `reference` and checks that the artifact is a policy: one
    /// WebAssembly layer whose content matches its digest.
    pub fn pull(&self, reference: &Reference) -> Result<Pulled, RegistryError> {
        let auth = self.credentials.auth(reference.host());
        let image = self.attempt(reference, |client| {
            let auth = auth.clone();
            async move {
                client
                    .pull(&reference.inner, &auth, vec![WASM_LAYER_MEDIA_TYPE])
                    .await
            }
        })?;
        let not_a_policy = |problem: String| RegistryError::NotAPolicy {
            uri: reference.uri.clone(),
            problem,
        };
        let mut layers = image.layers.into_iter();
        let (Some(layer), None) = (layers.next(), layers.next()) else {
            return Err(not_a_policy(
                "a policy artifact has exactly one layer, the module".into(),
            ));
        };
        let module = layer.data.to_vec();
        if !awi_metadata::is_core_module(&module) {
            return Err(not_a_policy(
                "the artifact's layer is not a WebAssembly module".into(),
            ));
        }
        Ok(Pulled {
            module,
            digest: image.digest.unwrap_or_default(),
        })
    }

    /// Runs `operation` with a client for each transport Kubewarden would try, in order,
    /// until one succeeds; the last error is the one reported.
    fn attempt<'a, T, F, Fut>(
        &self,
        reference: &'a Reference,
        operation: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(oci_client::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>> + 'a,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Unreachable {
                host: reference.host().to_string(),
                cause: format!("cannot start the network runtime: {e}"),
            })?;
        // TLS uses ring (see Cargo.toml); a provider the process already chose is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transports: &[Transport] = if self.sources.is_insecure(reference.host()) {
            &[
                Transport::Https,
                Transport::HttpsUnverified,
                Transport::Http,
            ]
        } else {
            &[Transport::Https]
        };
        let mut last = None;
        for transport in transports {
            // Not Client::new: it replaces a configuration it cannot use (a bad CA
            // certificate) with the defaults, silently dropping the options.
            let client =
                oci_client::Client::try_from(self.client_config(reference.host(), *transport))
                    .map_err(|e| RegistryError::Registry {
                        uri: reference.uri.clone(),
                        cause: format!("cannot configure the client: {}", root_cause(&e)),
                    })?;
            match runtime.block_on(operation(client)) {
                Ok(value) => return Ok(value),
                Err(error) => last = Some(error),
            }
        }
        Err(describe(reference, last))
    }

    fn client_config(&self, host: &str, transport: Transport) -> ClientConfig {
        let mut config = ClientConfig {
            protocol: match transport {
                Transport::Http => ClientProtocol::Http,
                Transport::Https | Transport::HttpsUnverified => ClientProtocol::Https,
            },
            accept_invalid_certificates: matches!(transport, Transport::HttpsUnverified),
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        };
        if let Some(certificates) = self.sources.authorities.get(host) {
            config.extra_root_certificates = certificates.clone();
        }
        config
    }
}

/// One line for an error of the OCI client: what happened, in a user's words.
fn describe(reference: &Reference, error: Option<OciDistributionError>) -> RegistryError {
    let uri = reference.uri.clone();
    let host = reference.host().to_string();
    let Some(error) = error else {
        return RegistryError::Unreachable {
            host,
            cause: "no transport was tried".into(),
        };
    };
    match &error {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => RegistryError::Unauthorized {
            host,
            uri,
            cause: "authentication required or credentials refused (see --docker-config-json-path)"
                .into(),
        },
        OciDistributionError::ImageManifestNotFoundError(_)
        | OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound { uri },
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
                )
            }) =>
        {
            RegistryError::NotFound { uri }
        }
        OciDistributionError::IncompatibleLayerMediaTypeError(media_type) => {
            RegistryError::NotAPolicy {
                uri,
                problem: format!(
                    "the artifact's layer has media type {media_type}, not {WASM_LAYER_MEDIA_TYPE}: not a policy module"
                ),
            }
        }
        OciDistributionError::DigestError(cause) => RegistryError::Digest {
            uri,
            cause: format!("a blob does not match its digest ({cause})"),
        },
        OciDistributionError::RequestError(request)
            if request.is_connect() || request.is_timeout() =>
        {
            RegistryError::Unreachable {
                host,
                cause: root_cause(request),
            }
        }
        other => RegistryError::Registry {
            uri,
            cause: root_cause(other),
        },
    }
}

/// The innermost message of an error chain ("Connection refused (os error 111)"), which
/// says more than the wrappers around it, on one line.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_host_repository_and_tag() {
        let r = Reference::parse("registry://127.0.0.1:5000/policies/awi:v0.1.0").unwrap();
        assert_eq!(r.host(), "127.0.0.1:5000");
        assert_eq!(r.tag(), Some("v0.1.0"));
        assert_eq!(
            r.pinned("sha256:ab"),
            "registry://127.0.0.1:5000/policies/awi:v0.1.0@sha256:ab"
        );
        let digest = format!("registry://h:1/p/a@sha256:{}", "0".repeat(64));
        assert!(Reference::parse(&digest).is_ok());
    }

    #[test]
    fn references_without_tag_or_scheme_are_refused() {
        for (uri, expected) in [
            ("registry://127.0.0.1:5000/policies/awi", "no tag"),
            ("ghcr.io/policies/awi:v1", "expected registry://"),
            ("registry://localhost", "expected registry://"),
            ("registry://h/p/a@sha256:12", "invalid reference format"),
        ] {
            let e = Reference::parse(uri).unwrap_err().to_string();
            assert!(e.starts_with(uri), "{e}");
            assert!(e.contains(expected), "{uri}: {e}");
        }
    }

    #[test]
    fn docker_config_auths() {
        let dir = std::env::temp_dir().join(format!("awi-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        let encoded = base64::engine::general_purpose::STANDARD.encode("alice:s3:cret");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{encoded}"}},
                   "https://index.docker.io/v1/": {{"username": "bob", "password": "pw"}},
                   "ghcr.io": {{"identitytoken": "x"}}}}}}"#
            ),
        )
        .unwrap();
        let creds = Credentials::from_file(&path).unwrap();
        assert!(matches!(creds.auth("127.0.0.1:5000"),
            RegistryAuth::Basic(u, p) if u == "alice" && p == "s3:cret"));
        assert!(matches!(creds.auth("index.docker.io"), RegistryAuth::Basic(u, _) if u == "bob"));
        assert!(matches!(creds.auth("ghcr.io"), RegistryAuth::Anonymous));

        std::fs::write(&path, r#"{"auths": {"h": {"auth": "%%%"}}}"#).unwrap();
        let e = Credentials::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("auths h: auth is not base64"), "{e}");
        std::fs::write(&path, "not json").unwrap();
        assert!(Credentials::from_file(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sources_file() {
        let dir = std::env::temp_dir().join(format!("awi-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sources.yml");
        std::fs::write(&path, "insecure_sources: [\"127.0.0.1:5000\"]\n").unwrap();
        let sources = Sources::from_file(&path).unwrap();
        assert!(sources.is_insecure("127.0.0.1:5000"));
        assert!(!sources.is_insecure("127.0.0.1:5001"));

        std::fs::write(
            &path,
            "source_authorities:\n  h:5443:\n    - type: Data\n      data: not a certificate\n",
        )
        .unwrap();
        let e = Sources::from_file(&path).unwrap_err().to_string();
        assert!(
            e.contains("source_authorities h:5443: data is not a PEM or DER certificate"),
            "{e}"
        );

        std::fs::write(&path, "insecure_source: [\"h\"]\n").unwrap();
        let e = Sources::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("unknown field `insecure_source`"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
