//! The `awi` command: a wasmtime host of the policy module for people and scripts.
//!
//! Every subcommand prints its result on stdout and ends with its exit code (README,
//! "The `awi` command"): 0 yes, 1 no (rejected, not allowed, serious findings), 2 bad input with one
//! line on stderr. The module is loaded only by the subcommands that need it.

mod arn;
mod diff;
mod error;
mod host;
mod input;
mod model;
mod oidc;
mod publish;
mod review;
mod setup;
mod token;
mod trust;

use std::io::Write as _;
use std::path::PathBuf;

use host::RegistryOptions;
use publish::InspectFormat;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use error::{EXIT_BAD_INPUT, Failure, Outcome, one_line};
use model::Subject;
use trust::{Format, Printed};

const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// Preview and check AWS workload identity (IRSA) for Kubernetes, with the same policy
/// module that Kubewarden runs.
#[derive(Debug, Parser)]
#[command(name = "awi", version, propagate_version = true)]
pub struct Cli {
    /// The policy module to run: a .wasm file or registry://HOST[:PORT]/REPOSITORY:TAG;
    /// default: the annotated module embedded in this awi.
    #[arg(long, global = true, value_name = "FILE|URI")]
    module: Option<String>,

    /// Kubewarden's sources.yml for registries: insecure_sources (plain HTTP or unverified
    /// TLS) and source_authorities (CA certificates).
    #[arg(long, global = true, value_name = "FILE")]
    sources_path: Option<PathBuf>,

    /// Registry credentials from a Docker config.json [default: $DOCKER_CONFIG/config.json
    /// or ~/.docker/config.json when present].
    #[arg(long, global = true, value_name = "FILE")]
    docker_config_json_path: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the policy on an AdmissionReview (or bare AdmissionRequest) as Kubewarden would
    /// and print the AdmissionReview response. Exit 0 admitted, 1 rejected, 2 bad input.
    Review {
        /// AdmissionReview or AdmissionRequest, JSON or YAML.
        #[arg(value_name = "REVIEW")]
        review: PathBuf,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Make the read of the Pod's ServiceAccount fail with this host error, as
        /// Kubewarden's policy server reports it (e.g. "Callback evaluation failure:
        /// ApiError: ..."), to see the warning a Pod gets while the API server is down.
        #[arg(long, value_name = "TEXT")]
        service_account_error: Option<String>,
        /// Print the changes for people instead of the AdmissionReview JSON.
        #[arg(long)]
        diff: bool,
        /// Also print the policy's log records (what policy-server logs for this request)
        /// on stderr, one JSON object a line.
        #[arg(long)]
        log: bool,
    },
    /// Print a Pod manifest as the policy would mutate it on creation (YAML); warnings go
    /// to stderr. Exit 0, 2 bad input.
    Mutate {
        /// The Pod manifest, YAML or JSON.
        #[arg(value_name = "POD")]
        pod: PathBuf,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Namespace the Pod is created in, when the manifest does not say [default: default].
        #[arg(long, short = 'n', value_name = "NS")]
        namespace: Option<String>,
    },
    /// Check, lint, explain and render IAM role trust policies.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Print the whole setup of a ServiceAccount's AWS role on a Control Plane cluster
    /// (--cluster) or any self-hosted cluster (--issuer, --jwks, --out-dir), as paste-ready
    /// steps checked by the trust engine. Exit 0, 1 check failed, 2 bad input.
    Setup {
        /// The saved cluster object (`cpln mk8s get NAME -o json`).
        #[arg(long, value_name = "FILE", required_unless_present = "issuer", conflicts_with_all = ["issuer", "jwks", "out_dir"])]
        cluster: Option<PathBuf>,
        #[command(flatten)]
        issuer: oidc::IssuerArgs,
        #[command(flatten)]
        role: setup::RoleArgs,
    },
    /// Check an OIDC issuer's published documents offline against what STS needs.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Explain a ServiceAccount token: would STS let it assume a role, and if not, why.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write the annotated policy module (the file Kubewarden loads; `--module` picks
    /// another). Exit 0, 2 bad input.
    Module {
        /// Where to write the module.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
    /// Print the module's Kubewarden metadata and annotations, as `kwctl inspect` does.
    /// Exit 0, 2 bad input (no metadata).
    Inspect {
        /// `yaml` prints the metadata as YAML.
        #[arg(long, short = 'o', value_enum, default_value_t)]
        output: InspectFormat,
    },
    /// Publish the annotated module as Kubewarden's OCI artifact and print the immutable
    /// reference URI@sha256:... Exit 0, 2 bad input or registry error.
    Push {
        /// registry://HOST[:PORT]/REPOSITORY:TAG
        #[arg(value_name = "URI")]
        uri: String,
    },
    /// Fetch a policy module from an OCI registry. Exit 0, 2 bad input or registry error.
    Pull {
        /// registry://HOST[:PORT]/REPOSITORY:TAG (or @sha256:DIGEST)
        #[arg(value_name = "URI")]
        uri: String,
        /// Where to write the module.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
    /// Write the policy as a WebAssembly component (WIT world awi:policy/policy) for other
    /// wasmtime hosts.
    Component {
        /// Where to write the component.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
}

/// The cluster the policy sees: settings and the objects it can read.
#[derive(Debug, Args)]
struct ClusterArgs {
    /// Policy settings, YAML or JSON (a ClusterAdmissionPolicy manifest works too)
    /// [default: {}].
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// A file of objects the cluster has (ServiceAccounts; YAML may hold several documents).
    /// Repeatable.
    #[arg(long = "service-account", value_name = "FILE")]
    service_accounts: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum TrustCommand {
    /// Decide, as STS would, whether a ServiceAccount may assume the role, and explain why.
    /// Exit 0 allowed, 1 not allowed, 2 bad input.
    Check {
        #[command(flatten)]
        policy: PolicyArgs,
        #[arg(long, value_name = "ARN")]
        role_arn: String,
        #[arg(long, short = 'n', value_name = "NS")]
        namespace: String,
        #[arg(long, value_name = "SA")]
        service_account: String,
        /// Audience of the ServiceAccount token.
        #[arg(long, value_name = "AUD", default_value = DEFAULT_AUDIENCE)]
        audience: String,
        /// A value STS knows but a check offline does not (`aws:SourceIp=203.0.113.7`,
        /// `sts:RoleSessionName=app`); repeat for several keys, or for several values of a
        /// multivalued key.
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// `json` prints one object {"allowed", "validDocument", "findings", "explanation"}.
        #[arg(long, short = 'o', value_enum, default_value_t)]
        output: Format,
    },
    /// List the findings of the lint catalogue. Exit 0 none at high or above, 1 otherwise.
    Lint {
        #[command(flatten)]
        policy: PolicyArgs,
        /// The role the policy belongs to (enables the account checks).
        #[arg(long, value_name = "ARN")]
        role_arn: Option<String>,
        /// `json` prints {"findings": [{"code", "severity", "message", "statement"}]}.
        #[arg(long, short = 'o', value_enum, default_value_t)]
        output: Format,
    },
    /// Print the ServiceAccounts the policy lets assume the role.
    Who {
        #[command(flatten)]
        policy: PolicyArgs,
        #[arg(long, value_name = "ARN")]
        role_arn: String,
        /// Audience of the ServiceAccount tokens.
        #[arg(long, value_name = "AUD", default_value = DEFAULT_AUDIENCE)]
        audience: String,
    },
    /// Fill a trust-policy template (<NAMESPACE>, <SERVICE_ACCOUNT>) and print the policy.
    Render {
        /// The template, or the whole `cpln mk8s get -o json` output.
        #[arg(long, value_name = "FILE")]
        template: PathBuf,
        #[arg(long, short = 'n', value_name = "NS")]
        namespace: String,
        #[arg(long, value_name = "SA")]
        service_account: String,
    },
}

#[derive(Debug, Subcommand)]
enum OidcCommand {
    /// Check the discovery document and the JWKS an issuer publishes: each violation of what
    /// STS needs is named. Exit 0 none, 1 violations, 2 bad input.
    Check {
        /// The published tree: DIR/.well-known/openid-configuration and the JWKS at the path
        /// its jwks_uri names under the issuer.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The discovery document (instead of DIR's).
        #[arg(long, value_name = "FILE")]
        discovery: Option<PathBuf>,
        /// The JWKS (instead of DIR's).
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
        /// The issuer URL the IAM OIDC provider has [default: the discovery document's].
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
        /// `json` prints one object {"issuer", "violations": [{"code", "message"}]}.
        #[arg(long, short = 'o', value_enum, default_value_t)]
        output: Format,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Verify a ServiceAccount token and decide, as STS would for
    /// sts:AssumeRoleWithWebIdentity, whether it may assume the role. Exit 0 allowed,
    /// 1 refused, 2 bad input.
    Explain(token::ExplainArgs),
}

/// A trust policy and the cluster that the policy should trust.
#[derive(Debug, Args)]
struct PolicyArgs {
    /// The trust policy JSON (or `aws iam get-role` output).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The cluster's OIDC issuer URL (https://...).
    #[arg(long, value_name = "URL")]
    issuer: String,
}

/// Parses the command line, runs it, prints, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let registry = RegistryOptions {
        sources_path: cli.sources_path.clone(),
        docker_config_json_path: cli.docker_config_json_path.clone(),
    };
    let mut loader = host::Loader::new(cli.module.clone(), registry);
    let result = run(cli.command, &mut loader);
    let code = match result {
        Ok(printed) => {
            if !printed.stdout.is_empty() {
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (`awi ... | head`) is not an error of ours.
                let _ = stdout.write_all(printed.stdout.as_bytes());
                let _ = stdout.flush();
            }
            printed.code
        }
        Err(failure) => {
            eprintln!("awi: {failure}");
            failure.code
        }
    };
    ExitCode::from(code)
}

/// Help and version exit 0 as usual; usage errors print one line and exit 2.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                EXIT_BAD_INPUT
            } else {
                0
            },
        );
    }
    let rendered = error.render().to_string();
    // clap's message is the part before "Usage:"; the rest is a hint we shorten.
    let message = rendered.split("\nUsage:").next().unwrap_or(&rendered);
    let message = one_line(message.trim_start_matches("error: "));
    eprintln!("awi: {message} (see awi --help)");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn run(command: Command, loader: &mut host::Loader) -> Outcome<Printed> {
    match command {
        Command::Review {
            review: path,
            cluster,
            service_account_error,
            diff,
            log,
        } => {
            let (printed, logs) = review::review(
                loader.wapc()?,
                &review::ReviewArgs {
                    review: &path,
                    settings: cluster.settings.as_deref(),
                    service_accounts: &cluster.service_accounts,
                    service_account_error: service_account_error.as_deref(),
                    diff,
                    log,
                },
            )?;
            for line in logs {
                eprintln!("{line}");
            }
            Ok(printed)
        }
        Command::Mutate {
            pod,
            cluster,
            namespace,
        } => {
            // The Pod's ServiceAccount is what decides the mutation: without it the answer
            // would only be "unchanged, cannot read the ServiceAccount".
            if cluster.service_accounts.is_empty() {
                return Err(Failure::input(
                    "mutate needs --service-account FILE: the Pod's ServiceAccount manifest",
                ));
            }
            let (yaml, warnings) = review::mutate(
                loader.wapc()?,
                &review::MutateArgs {
                    pod: &pod,
                    service_accounts: &cluster.service_accounts,
                    settings: cluster.settings.as_deref(),
                    namespace: namespace.as_deref(),
                },
            )?;
            for warning in warnings {
                eprintln!("warning: {}", one_line(&warning));
            }
            Ok(Printed::ok(yaml))
        }
        Command::Trust(command) => run_trust(command, loader),
        Command::Setup {
            cluster: Some(cluster),
            role,
            ..
        } => setup::setup(loader.wit()?, &cluster, &role).map(Printed::ok),
        Command::Setup {
            cluster: None,
            issuer,
            role,
        } => oidc::setup_issuer(loader.wit()?, &issuer, &role).map(Printed::ok),
        Command::Oidc(OidcCommand::Check {
            dir,
            discovery,
            jwks,
            issuer,
            output,
        }) => oidc::check(&oidc::CheckArgs {
            dir: dir.as_deref(),
            discovery: discovery.as_deref(),
            jwks: jwks.as_deref(),
            issuer: issuer.as_deref(),
            output,
        }),
        Command::Token(TokenCommand::Explain(args)) => token::explain(loader.wit()?, &args),
        Command::Module { output } => publish::write_module(loader, &output),
        Command::Inspect { output } => publish::inspect(loader, output),
        Command::Push { uri } => publish::push(loader, &uri),
        Command::Pull { uri, output } => publish::pull(&loader.registry()?, &uri, &output),
        Command::Component { output } => {
            let bytes = loader.component_bytes()?;
            std::fs::write(&output, &bytes).map_err(|e| {
                Failure::input(format!("--output {}: cannot write: {e}", output.display()))
            })?;
            Ok(Printed::ok(format!(
                "wrote {} ({} bytes): a component of the awi:policy/policy world\n",
                output.display(),
                bytes.len()
            )))
        }
    }
}

fn run_trust(command: TrustCommand, loader: &mut host::Loader) -> Outcome<Printed> {
    match command {
        TrustCommand::Check {
            policy,
            role_arn,
            namespace,
            service_account,
            audience,
            context,
            output,
        } => {
            trust::role_arn_flag(&role_arn)?;
            let context = trust::context_flags(&context)?;
            trust::non_empty("--namespace", &namespace)?;
            trust::non_empty("--service-account", &service_account)?;
            trust::non_empty("--audience", &audience)?;
            let document = policy.read()?;
            let subject = Subject {
                issuer: policy.issuer,
                audience,
                namespace,
                service_account,
            };
            trust::check(
                loader.wit()?,
                &document,
                &role_arn,
                &subject,
                &context,
                output,
            )
        }
        TrustCommand::Lint {
            policy,
            role_arn,
            output,
        } => {
            if let Some(arn) = &role_arn {
                trust::role_arn_flag(arn)?;
            }
            let document = policy.read()?;
            trust::lint(
                loader.wit()?,
                &document,
                role_arn.as_deref(),
                &policy.issuer,
                output,
            )
        }
        TrustCommand::Who {
            policy,
            role_arn,
            audience,
        } => {
            trust::role_arn_flag(&role_arn)?;
            trust::non_empty("--audience", &audience)?;
            let document = policy.read()?;
            trust::who(
                loader.wit()?,
                &document,
                &role_arn,
                &policy.issuer,
                &audience,
            )
        }
        TrustCommand::Render {
            template,
            namespace,
            service_account,
        } => {
            trust::non_empty("--namespace", &namespace)?;
            trust::non_empty("--service-account", &service_account)?;
            let text = input::read_text(&template, "--template")?;
            // Not JSON is bad input here, not something for the module to guess at.
            input::parse_json(&text, &format!("--template {}", template.display()))?;
            trust::render(loader.wit()?, &text, &namespace, &service_account)
        }
    }
}

impl PolicyArgs {
    fn read(&self) -> Outcome<String> {
        trust::non_empty("--issuer", &self.issuer)?;
        trust::read_policy(&self.policy, "--policy")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_are_one_line() {
        let e = Cli::try_parse_from(["awi", "trust", "check", "--policy", "p.json"]).unwrap_err();
        let rendered = e.render().to_string();
        let message = rendered.split("\nUsage:").next().unwrap();
        let line = one_line(message.trim_start_matches("error: "));
        assert!(
            line.starts_with("the following required arguments were not provided"),
            "{line}"
        );
        assert!(line.contains("--role-arn <ARN>"), "{line}");
    }
}
