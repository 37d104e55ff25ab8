//! `awi setup --issuer URL --jwks FILE` (any self-hosted cluster) and `awi oidc check`: the
//! two documents an issuer publishes for STS, written and checked offline.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use awi::identity::discovery::published_jwks;
use awi::identity::issuer::DISCOVERY_PATH;
use awi::identity::{Issuer, Jwks, Violation, check_discovery, check_jwks, discovery_document};
use serde_json::{Value, json};

use super::arn::parse_role_arn;
use super::error::{EXIT_NO, Failure, Outcome};
use super::host::Session;
use super::input::{parse_json, read_text};
use super::model::Subject;
use super::setup::{RoleArgs, check_rendered, role_step, workload_steps};
use super::trust::{Format, Printed, non_empty, pretty_json};

/// `--issuer` checked: the one line names the flag and what IAM expects.
pub fn issuer_flag(text: &str) -> Outcome<Issuer> {
    Issuer::parse(text).map_err(|e| Failure::input(format!("--issuer: {e}")))
}

/// Reads a JWKS file; not JSON or not a JWKS is bad input.
pub fn read_jwks(path: &Path, flag: &str) -> Outcome<Jwks> {
    let text = read_text(path, flag)?;
    Jwks::parse(&text).map_err(|e| Failure::input(format!("{flag} {}: {e}", path.display())))
}

/// Reads a JSON document (a discovery document); not JSON is bad input.
pub fn read_json(path: &Path, what: &str) -> Outcome<Value> {
    let text = read_text(path, what)?;
    parse_json(&text, &format!("{what} {}", path.display()))
}

/// A self-hosted cluster's issuer for `awi setup`, and where its documents are written.
#[derive(Debug, clap::Args)]
pub struct IssuerArgs {
    /// A self-hosted cluster's OIDC issuer (https://...): the API server's
    /// --service-account-issuer and the IAM OIDC provider URL.
    #[arg(long, value_name = "URL", requires_all = ["jwks", "out_dir"])]
    pub issuer: Option<String>,
    /// The cluster's JWKS (`kubectl get --raw /openid/v1/jwks`).
    #[arg(long, value_name = "FILE", requires = "issuer")]
    pub jwks: Option<PathBuf>,
    /// Where to write the documents to publish (.well-known/openid-configuration and the
    /// JWKS, laid out as served under the issuer).
    #[arg(long, value_name = "DIR", requires = "issuer")]
    pub out_dir: Option<PathBuf>,
    /// Audience of the ServiceAccount tokens (the OIDC provider's client ID), with --issuer.
    #[arg(long, value_name = "AUD", default_value = super::DEFAULT_AUDIENCE, conflicts_with = "cluster")]
    pub audience: String,
}

/// Writes the documents to publish into `out_dir` and returns the steps, after the trust
/// engine has checked the trust policy they print.
pub fn setup_issuer(module: &mut Session, args: &IssuerArgs, role: &RoleArgs) -> Outcome<String> {
    let (Some(issuer), Some(jwks_file), Some(out_dir)) = (
        args.issuer.as_deref(),
        args.jwks.as_deref(),
        args.out_dir.as_deref(),
    ) else {
        return Err(Failure::input(
            "setup needs --cluster FILE, or --issuer URL with --jwks FILE and --out-dir DIR",
        ));
    };
    let issuer = issuer_flag(issuer)?;
    role.check()?;
    non_empty("--audience", &args.audience)?;
    let account = role.account.as_deref().ok_or_else(|| {
        Failure::input(
            "--issuer needs --account: the AWS account of the OIDC provider and the role",
        )
    })?;
    let jwks = read_jwks(jwks_file, "--jwks")?;
    let keys = jwks.usable_keys();
    if keys.is_empty() {
        let why: Vec<String> = check_jwks(&jwks).into_iter().map(|v| v.message).collect();
        return Err(Failure::input(format!(
            "--jwks {}: no usable RSA signing key: {}",
            jwks_file.display(),
            why.join("; ")
        )));
    }

    let provider = issuer.provider_id();
    let role_arn = format!("arn:aws:iam::{account}:role/{}", role.role_name);
    let provider_arn = parse_role_arn(&role_arn)
        .map_err(|e| Failure::input(format!("--role-name: {e}")))?
        .oidc_provider_arn(issuer.as_str());
    let template = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{provider}:sub"): "system:serviceaccount:<NAMESPACE>:<SERVICE_ACCOUNT>",
                format!("{provider}:aud"): args.audience.as_str(),
            }}
        }]
    });
    let rendered = module.trust()?.render(
        &template.to_string(),
        &role.namespace,
        &role.service_account,
    )?;
    let rendered = pretty_json(&rendered);
    let subject = Subject {
        issuer: issuer.to_string(),
        audience: args.audience.clone(),
        namespace: role.namespace.clone(),
        service_account: role.service_account.clone(),
    };
    check_rendered(module, &rendered, &role_arn, &subject)?;

    let discovery = discovery_document(&issuer);
    let published = published_jwks(&keys);
    let written = write_documents(out_dir, &issuer, &discovery, &published)?;
    // What is written must pass what `awi oidc check` asks of it.
    let mut violations = check_discovery(&discovery, &issuer);
    violations
        .extend(check_jwks(&Jwks::parse(&published.to_string()).map_err(
            |e| Failure::input(format!("the JWKS to publish: {e}")),
        )?));
    if let Some(v) = violations.first() {
        return Err(Failure::refused(format!(
            "the documents to publish fail a check of STS: {}",
            v.message
        )));
    }
    let skipped = jwks.keys.len() - keys.len();
    Ok(issuer_steps(&IssuerSteps {
        issuer: &issuer,
        jwks: jwks_file,
        out_dir,
        audience: &args.audience,
        role,
        written: &written,
        skipped,
        provider_arn: &provider_arn,
        role_arn: &role_arn,
        policy: &rendered,
    }))
}

/// Writes `DIR/.well-known/openid-configuration` and the JWKS at its path under the issuer;
/// returns the files written.
fn write_documents(
    out_dir: &Path,
    issuer: &Issuer,
    discovery: &Value,
    jwks: &Value,
) -> Outcome<[PathBuf; 2]> {
    let jwks_path = issuer
        .path_below(&issuer.jwks_uri())
        .unwrap_or(awi::identity::issuer::JWKS_PATH)
        .to_string();
    let files = [
        (local_path(out_dir, DISCOVERY_PATH), discovery),
        (local_path(out_dir, &jwks_path), jwks),
    ];
    for (file, document) in &files {
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Failure::input(format!(
                    "--out-dir: cannot create {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let text = format!("{}\n", pretty_json(&document.to_string()));
        std::fs::write(file, text).map_err(|e| {
            Failure::input(format!("--out-dir: cannot write {}: {e}", file.display()))
        })?;
    }
    let [(discovery, _), (jwks, _)] = files;
    Ok([discovery, jwks])
}

/// The file under `dir` that is served at `path` below the issuer.
fn local_path(dir: &Path, path: &str) -> PathBuf {
    path.trim_start_matches('/')
        .split('/')
        .fold(dir.to_path_buf(), |file, part| file.join(part))
}

struct IssuerSteps<'a> {
    issuer: &'a Issuer,
    jwks: &'a Path,
    out_dir: &'a Path,
    audience: &'a str,
    role: &'a RoleArgs,
    written: &'a [PathBuf; 2],
    skipped: usize,
    provider_arn: &'a str,
    role_arn: &'a str,
    policy: &'a str,
}

fn issuer_steps(s: &IssuerSteps) -> String {
    let issuer = s.issuer;
    let (ns, sa, aud) = (&s.role.namespace, &s.role.service_account, s.audience);
    let dir = s.out_dir.display();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# AWS workload identity for ServiceAccount {ns}/{sa} of the cluster with issuer {issuer}"
    );
    let _ = writeln!(
        out,
        "# Checked: the documents below meet what STS needs (awi oidc check {dir}), and the trust\n# policy lets exactly {ns}/{sa} (audience {aud}) assume {}.",
        s.role_arn
    );
    let _ = writeln!(
        out,
        "\n# 1. Publish the issuer's two documents, public and over https, exactly at these URLs\n#    (any static https host: an S3 bucket with public read, a CDN, a web server):"
    );
    let _ = writeln!(
        out,
        "#    {}  <-  {}\n#    {}  <-  {}",
        issuer.discovery_uri(),
        s.written[0].display(),
        issuer.jwks_uri(),
        s.written[1].display()
    );
    if s.skipped > 0 {
        let _ = writeln!(
            out,
            "#    {} key(s) of {} are not usable RSA signing keys and were left out (awi oidc check --jwks {} names why).",
            s.skipped,
            s.jwks.display(),
            s.jwks.display()
        );
    }
    let _ = writeln!(
        out,
        "#    e.g. aws s3 cp --recursive {dir} s3://BUCKET/PATH --content-type application/json"
    );
    let _ = writeln!(
        out,
        "\n# 2. Start the API server with this issuer (kubeadm: the kube-apiserver static Pod's flags;\n#    k3s/RKE2: --kube-apiserver-arg=service-account-issuer=... and so on). The issuer must\n#    be the first --service-account-issuer: tokens carry it as iss. Keep the old issuer as a\n#    second --service-account-issuer while existing tokens expire."
    );
    let _ = writeln!(
        out,
        "--service-account-issuer={issuer}\n--service-account-jwks-uri={}\n--api-audiences={issuer}",
        issuer.jwks_uri()
    );
    let _ = writeln!(
        out,
        "#    --api-audiences are the audiences the API server itself accepts (default: the issuer);\n#    keep any you already have. Pods get tokens for {aud} from their projected volume."
    );
    let _ = writeln!(
        out,
        "\n# 3. Register the issuer as an IAM OIDC provider (once per cluster and AWS account).\n#    Provider ARN: {}",
        s.provider_arn
    );
    let _ = writeln!(
        out,
        "aws iam create-open-id-connect-provider \\\n  --url {issuer} \\\n  --client-id-list {aud}"
    );
    role_step(&mut out, 4, &s.role.role_name, s.policy);
    workload_steps(&mut out, ns, sa, s.role_arn, 5);
    out
}

/// What `awi oidc check` reads.
pub struct CheckArgs<'a> {
    pub dir: Option<&'a Path>,
    pub discovery: Option<&'a Path>,
    pub jwks: Option<&'a Path>,
    pub issuer: Option<&'a str>,
    pub output: Format,
}

pub fn check(args: &CheckArgs) -> Outcome<Printed> {
    if args.dir.is_none() && args.discovery.is_none() && args.jwks.is_none() {
        return Err(Failure::input(
            "oidc check needs DIR (the published tree) or --discovery FILE and/or --jwks FILE",
        ));
    }
    let discovery_file = match (args.discovery, args.dir) {
        (Some(file), _) => Some(file.to_path_buf()),
        (None, Some(dir)) => {
            if !dir.is_dir() {
                return Err(Failure::input(format!(
                    "DIR {}: no such directory",
                    dir.display()
                )));
            }
            Some(local_path(dir, DISCOVERY_PATH))
        }
        (None, None) => None,
    };
    let discovery = discovery_file
        .as_deref()
        .map(|file| read_json(file, "discovery document"))
        .transpose()?;
    let issuer = match (args.issuer, &discovery) {
        (Some(flag), _) => Some(issuer_flag(flag)?),
        (None, Some(document)) => {
            let stated = document
                .get("issuer")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Failure::input(
                        "the discovery document has no \"issuer\" string; pass --issuer URL",
                    )
                })?;
            Some(
                Issuer::parse(stated)
                    .map_err(|e| Failure::refused(format!("discovery document: {e}")))?,
            )
        }
        (None, None) => None,
    };
    let mut violations: Vec<Violation> = Vec::new();
    if let (Some(document), Some(issuer)) = (&discovery, &issuer) {
        violations.extend(check_discovery(document, issuer));
    }
    let jwks_file = match (args.jwks, args.dir, &discovery, &issuer) {
        (Some(file), ..) => Some(file.to_path_buf()),
        (None, Some(dir), Some(document), Some(issuer)) => document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .and_then(|uri| issuer.path_below(uri))
            .map(|path| local_path(dir, path)),
        _ => None,
    };
    let mut keys = None;
    if let Some(file) = &jwks_file {
        let jwks = read_jwks(file, "JWKS")?;
        violations.extend(check_jwks(&jwks));
        keys = Some(jwks.usable_keys().len());
    }
    let subject = issuer
        .as_ref()
        .map_or_else(|| "the JWKS".to_string(), |i| i.to_string());
    let stdout = match args.output {
        Format::Json => format!(
            "{}\n",
            json!({
                "issuer": issuer.as_ref().map(Issuer::as_str),
                "violations": violations,
            })
        ),
        Format::Text => check_text(&subject, &violations, keys, jwks_file.is_none()),
    };
    Ok(Printed {
        stdout,
        code: if violations.is_empty() { 0 } else { EXIT_NO },
    })
}

fn check_text(
    subject: &str,
    violations: &[Violation],
    keys: Option<usize>,
    no_jwks: bool,
) -> String {
    let mut out = String::new();
    if violations.is_empty() {
        let keys = keys.map_or_else(String::new, |n| format!(", {n} usable RSA key(s)"));
        let _ = writeln!(
            out,
            "ok: {subject}: the documents meet what STS needs{keys}"
        );
    } else {
        let width = violations
            .iter()
            .map(|v| v.rule.code().len())
            .max()
            .unwrap_or(0);
        for v in violations {
            let _ = writeln!(out, "{:<width$}  {}", v.rule.code(), v.message);
        }
        let _ = writeln!(out, "{} violation(s) of what STS needs", violations.len());
    }
    if no_jwks {
        let _ = writeln!(
            out,
            "note: no JWKS was checked (jwks_uri is not under the issuer, or no --jwks FILE)"
        );
    }
    out
}
