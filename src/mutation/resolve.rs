//! Parameter resolution (Amazon's webhook, `pkg/handler/handler.go`): which mode applies to the Pod, and the
//! audience, token lifetime, regional-STS flag, region, paths and skip list it gets.
//!
//! Precedence, as the reference implements it:
//! - container credentials (EKS Pod Identity) first, when the ServiceAccount is listed;
//! - else the ServiceAccount's `<prefix>/role-arn` (composed into an ARN with
//!   `composeRoleArn`), with the ServiceAccount's own audience, regional-STS and expiration
//!   annotations over the settings;
//! - else the `serviceAccountRoles` entry `ns/sa`, then `*/sa`.
//!
//! The Pod's `<prefix>/token-expiration` overrides in every mode.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::annotations::{CsvError, Expiration, parse_csv_record, parse_expiration, parse_go_bool};
use super::{Credentials, MutationError, PodRequest, pod};
use crate::settings::{
    ContainerCredentials, DEFAULT_TOKEN_EXPIRATION, ServiceAccountRole, Settings,
};
use awi_trust::json::quoted;
use awi_trust::k8s::{MAX_TOKEN_EXPIRATION, MIN_TOKEN_EXPIRATION};

/// Name of the web-identity token volume; hard-coded in the reference.
pub const WEB_IDENTITY_VOLUME: &str = "aws-iam-token";
/// File name of the web-identity token inside its volume; hard-coded in the reference.
pub const WEB_IDENTITY_TOKEN_FILE: &str = "token";
/// The label that marks a Pod served by container credentials. Hard-coded in the reference:
/// `annotationPrefix` does not change it.
pub const POD_IDENTITY_LABEL: &str = "eks.amazonaws.com/pod-identity";
/// The container-credentials lifetime that gets jitter (Amazon's webhook, `pkg/containercredentials`).
const JITTERED_EXPIRATION: i64 = 86400;
const JITTER_FLOOR: i64 = 79200;

/// How the credentials reach the containers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`.
    WebIdentity { role_arn: String },
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
    ContainerCredentials { full_uri: String },
}

/// Everything the patch needs, resolved once per Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub mode: Mode,
    pub service_account: String,
    /// Empty means "no audience field" (the reference omits an empty one).
    pub audience: String,
    pub expiration: i64,
    pub regional_sts: bool,
    pub region: Option<String>,
    pub volume_name: String,
    pub mount_path: String,
    /// The token's file name inside the volume (the projection `path`).
    pub token_file: String,
    /// The token file as containers see it: the env var value (Windows form on Windows).
    pub token_file_path: String,
    pub session_name: Option<String>,
    /// Names of the containers left untouched; a set, because a Pod with thousands of
    /// containers may list thousands of them.
    pub skip: BTreeSet<String>,
    /// Whether the CC label must be set.
    pub label: bool,
}

impl Plan {
    pub fn credentials(&self) -> Credentials {
        match &self.mode {
            Mode::WebIdentity { role_arn } => Credentials::WebIdentity {
                service_account: self.service_account.clone(),
                role_arn: role_arn.clone(),
                audience: self.audience.clone(),
                expiration: self.expiration,
            },
            Mode::ContainerCredentials { .. } => Credentials::ContainerCredentials {
                service_account: self.service_account.clone(),
                audience: self.audience.clone(),
                expiration: self.expiration,
            },
        }
    }
}

/// The ServiceAccount's annotations, read leniently: the API server returns string values
/// only, anything else is treated as absent.
struct ServiceAccount<'a> {
    annotations: Option<&'a Map<String, Value>>,
    namespace: &'a str,
    name: &'a str,
    prefix: &'a str,
}

impl<'a> ServiceAccount<'a> {
    /// The annotation `<prefix>/<suffix>` and its key.
    fn annotation(&self, suffix: &str) -> Option<(&'a str, &'a str)> {
        let annotations = self.annotations?;
        let key = pod::prefixed_key(annotations, self.prefix, suffix)?;
        Some((key, annotations.get(key)?.as_str()?))
    }

    /// How warnings name it; built only when one is written.
    fn display(&self) -> String {
        format!("ServiceAccount {}/{}", self.namespace, self.name)
    }
}

/// What the resolution found: `None` when nothing applies to the Pod.
pub fn plan(
    settings: &Settings,
    request: &PodRequest,
    pod: &Map<String, Value>,
    service_account: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Plan>, MutationError> {
    let namespace = request.namespace;
    let prefix = settings.annotation_prefix.as_str();
    // Built only when a warning names the Pod.
    let pod_display = || pod::display_name(pod, namespace);
    let sa = request.service_account.map(|object| ServiceAccount {
        annotations: object
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object),
        namespace,
        name: service_account,
        prefix,
    });

    let cc = settings
        .container_credentials
        .as_ref()
        .filter(|cc| cc.covers(namespace, service_account));
    let mut plan = if let Some(cc) = cc {
        container_credentials(
            settings,
            cc,
            sa.as_ref(),
            namespace,
            service_account,
            warnings,
        )
    } else if let Some(plan) =
        web_identity(settings, sa.as_ref(), namespace, service_account, warnings)
    {
        plan
    } else {
        return Ok(None);
    };

    // The Pod's own lifetime overrides (the webhook's `token-expiration` Pod annotation), before the jitter.
    if let Some((key, value)) = pod::prefixed_annotation(pod, prefix, "token-expiration")? {
        plan.expiration =
            expiration_annotation(&pod_display(), key, value, plan.expiration, warnings);
    }
    if matches!(plan.mode, Mode::ContainerCredentials { .. })
        && plan.expiration == JITTERED_EXPIRATION
    {
        plan.expiration = JITTER_FLOOR + (fnv1a64(request.uid.as_bytes()) % 7201) as i64;
    }

    // SA annotation `<prefix>/region` overrides the setting for that ServiceAccount.
    if let Some((_, region)) = sa.as_ref().and_then(|sa| sa.annotation("region"))
        && !region.is_empty()
    {
        plan.region = Some(region.to_string());
    }

    plan.skip = skipped_containers(pod, prefix, namespace, warnings)?;

    let spec = pod::spec(pod)?;
    let token_file_path = join_path(&plan.mount_path, &plan.token_file);
    plan.token_file_path = if pod::is_windows(spec) {
        format!("C:{}", token_file_path.replace('/', "\\"))
    } else {
        token_file_path
    };

    if settings.role_session_name && matches!(plan.mode, Mode::WebIdentity { .. }) {
        plan.session_name = Some(session_name(pod, namespace, service_account));
    }
    Ok(Some(plan))
}

/// The containers the Pod's `<prefix>/skip-containers` annotation names (one CSV record);
/// none, with a warning, when the value is not CSV.
pub fn skipped_containers(
    pod: &Map<String, Value>,
    prefix: &str,
    namespace: &str,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<String>, MutationError> {
    let Some((key, value)) = pod::prefixed_annotation(pod, prefix, "skip-containers")? else {
        return Ok(BTreeSet::new());
    };
    match parse_csv_record(value) {
        Ok(names) => Ok(names.into_iter().collect()),
        Err(CsvError::Empty) => Ok(BTreeSet::new()),
        Err(e) => {
            warnings.push(format!(
                "{}: ignoring annotation {key}={}: not a CSV list of container names ({e}); no container is skipped",
                pod::display_name(pod, namespace),
                quoted(value)
            ));
            Ok(BTreeSet::new())
        }
    }
}

fn container_credentials(
    settings: &Settings,
    cc: &ContainerCredentials,
    sa: Option<&ServiceAccount>,
    namespace: &str,
    service_account: &str,
    warnings: &mut Vec<String>,
) -> Plan {
    // The reference reads the ServiceAccount's cached values; when it does not know the
    // ServiceAccount it takes the exact settings entry, else `false` and a constant 86400.
    let (regional_sts, expiration) = match sa {
        Some(sa) => (
            sts_annotation(sa, settings.sts_regional_endpoints, warnings),
            sa_expiration(sa, settings.token_expiration, warnings),
        ),
        None => match settings
            .service_account_roles
            .get(&format!("{namespace}/{service_account}"))
        {
            Some(entry) => (
                entry
                    .sts_regional_endpoints
                    .unwrap_or(settings.sts_regional_endpoints),
                entry.token_expiration.unwrap_or(settings.token_expiration),
            ),
            None => (false, DEFAULT_TOKEN_EXPIRATION),
        },
    };
    Plan {
        mode: Mode::ContainerCredentials {
            full_uri: cc.full_uri.clone(),
        },
        service_account: service_account.to_string(),
        audience: cc.audience.clone(),
        expiration,
        regional_sts,
        region: settings.region.clone(),
        volume_name: cc.volume_name.clone(),
        mount_path: cc.mount_path.clone(),
        token_file: cc.token_path.clone(),
        token_file_path: String::new(),
        session_name: None,
        skip: BTreeSet::new(),
        label: true,
    }
}

fn web_identity(
    settings: &Settings,
    sa: Option<&ServiceAccount>,
    namespace: &str,
    service_account: &str,
    warnings: &mut Vec<String>,
) -> Option<Plan> {
    let from_annotation = sa.and_then(|sa| {
        let (_, role) = sa.annotation("role-arn")?;
        (!role.is_empty()).then(|| (sa, settings.compose_role_arn(role)))
    });
    let (role_arn, audience, regional_sts, expiration) = match from_annotation {
        Some((sa, role_arn)) => (
            role_arn,
            sa.annotation("audience")
                .map_or_else(|| settings.token_audience.clone(), |(_, a)| a.to_string()),
            sts_annotation(sa, settings.sts_regional_endpoints, warnings),
            sa_expiration(sa, settings.token_expiration, warnings),
        ),
        None => {
            let entry = settings.service_account_role(namespace, service_account)?;
            entry_parameters(settings, entry)
        }
    };
    Some(Plan {
        mode: Mode::WebIdentity { role_arn },
        service_account: service_account.to_string(),
        audience,
        expiration,
        regional_sts,
        region: settings.region.clone(),
        volume_name: WEB_IDENTITY_VOLUME.to_string(),
        mount_path: settings.token_mount_path.clone(),
        token_file: WEB_IDENTITY_TOKEN_FILE.to_string(),
        token_file_path: String::new(),
        session_name: None,
        skip: BTreeSet::new(),
        label: false,
    })
}

/// A `serviceAccountRoles` entry. Omitted fields take the top-level settings; the
/// reference's ConfigMap leaves the audience empty instead, which gives a token without the
/// `sts.amazonaws.com` audience that STS then refuses.
fn entry_parameters(
    settings: &Settings,
    entry: &ServiceAccountRole,
) -> (String, String, bool, i64) {
    (
        entry.role_arn.clone(),
        entry
            .audience
            .clone()
            .unwrap_or_else(|| settings.token_audience.clone()),
        entry
            .sts_regional_endpoints
            .unwrap_or(settings.sts_regional_endpoints),
        entry.token_expiration.unwrap_or(settings.token_expiration),
    )
}

fn sts_annotation(sa: &ServiceAccount, default: bool, warnings: &mut Vec<String>) -> bool {
    let Some((key, value)) = sa.annotation("sts-regional-endpoints") else {
        return default;
    };
    parse_go_bool(value).unwrap_or_else(|| {
        warnings.push(format!(
            "{}: ignoring annotation {key}={}: not a boolean (true, false, 1, 0, t, f); using the default {default}",
            sa.display(),
            quoted(value)
        ));
        default
    })
}

fn sa_expiration(sa: &ServiceAccount, default: i64, warnings: &mut Vec<String>) -> i64 {
    match sa.annotation("token-expiration") {
        Some((key, value)) => expiration_annotation(&sa.display(), key, value, default, warnings),
        None => default,
    }
}

/// A token-expiration annotation over `fallback`, with the reference's parsing and floor.
fn expiration_annotation(
    object: &str,
    key: &str,
    value: &str,
    fallback: i64,
    warnings: &mut Vec<String>,
) -> i64 {
    match parse_expiration(value) {
        Expiration::Valid(seconds) => {
            if seconds > MAX_TOKEN_EXPIRATION {
                warnings.push(format!(
                    "{object}: annotation {key}={} is above the {MAX_TOKEN_EXPIRATION} seconds the API server accepts for a projected token",
                    quoted(value)
                ));
            }
            seconds
        }
        Expiration::Clamped(seconds) => {
            warnings.push(format!(
                "{object}: annotation {key}={} is below the minimum of {MIN_TOKEN_EXPIRATION} seconds; using {seconds}",
                quoted(value)
            ));
            seconds
        }
        Expiration::Invalid => {
            warnings.push(format!(
                "{object}: ignoring annotation {key}={}: not a base-10 64-bit integer; using {fallback} seconds",
                quoted(value)
            ));
            fallback
        }
    }
}

/// Go's `path.Join`: the non-empty elements joined with `/`, then lexically cleaned.
pub fn join_path(dir: &str, file: &str) -> String {
    let joined = match (dir.is_empty(), file.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => file.to_string(),
        (false, true) => dir.to_string(),
        (false, false) => format!("{dir}/{file}"),
    };
    clean_path(&joined)
}

/// Go's `path.Clean`: no duplicate or trailing slashes, no `.`, `..` resolved lexically.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// STS accepts role session names of 2 to 64 characters from `[A-Za-z0-9+=,.@_-]`.
const SESSION_NAME_MAX: usize = 64;

/// `AWS_ROLE_SESSION_NAME`: the Pod name, else its generateName, else `<namespace>-<sa>`;
/// other characters become `-`, cut at 64. A source shorter than STS's minimum of two
/// characters is passed over.
fn session_name(pod: &Map<String, Value>, namespace: &str, service_account: &str) -> String {
    let fallback = format!("{namespace}-{service_account}");
    [
        pod::metadata_str(pod, "name"),
        pod::metadata_str(pod, "generateName"),
        Some(fallback.as_str()),
    ]
    .into_iter()
    .flatten()
    .map(sanitize_session_name)
    .find(|name| name.len() >= 2)
    .unwrap_or_else(|| sanitize_session_name(&fallback))
}

fn sanitize_session_name(source: &str) -> String {
    source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(SESSION_NAME_MAX)
        .collect()
}

/// FNV-1a, 64 bits: a stable hash (the same on every platform and release) for the jitter.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_join() {
        assert_eq!(
            join_path("/var/run/secrets/eks.amazonaws.com/serviceaccount", "token"),
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
        );
        assert_eq!(join_path("/a//b/", "token"), "/a/b/token");
        assert_eq!(join_path("/a/./b/../c", "t"), "/a/c/t");
        assert_eq!(join_path("/../a", "t"), "/a/t");
        assert_eq!(join_path("a", "../../t"), "../t");
        assert_eq!(join_path("", ""), "");
        assert_eq!(join_path("/", ""), "/");
        assert_eq!(join_path("", "t"), "t");
    }

    #[test]
    fn fnv1a64_reference_values() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn session_names_are_sanitised_and_cut() {
        assert_eq!(sanitize_session_name("web-0"), "web-0");
        assert_eq!(sanitize_session_name("a b/c:d"), "a-b-c-d");
        assert_eq!(sanitize_session_name("é"), "-");
        assert_eq!(sanitize_session_name(&"x".repeat(100)).len(), 64);
    }
}
