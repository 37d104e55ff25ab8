//! `awi setup`: the whole IRSA setup for one ServiceAccount of a Control Plane cluster, as
//! paste-ready steps. Nothing is printed that the trust engine has not checked: the rendered
//! trust policy must let exactly that ServiceAccount assume the role.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::arn::{check_account, check_role_name, provider_arn_parts};
use super::error::{Failure, Outcome};
use super::host::Session;
use super::input::{parse_document, read_text, str_at};
use super::model::Subject;
use super::trust::{findings_text, non_empty, pretty_json};

/// What setup needs from a saved `cpln mk8s get -o json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFacts {
    pub name: String,
    pub provider_url: String,
    pub audience: String,
    /// Partition and account of the template's Federated principal, when it names one.
    pub federated: Option<(String, String)>,
}

/// Reads the facts out of the cluster object with the trust engine's readers of the
/// add-on (the OIDC provider and the trust-policy template); the error names the missing
/// field.
pub fn cluster_facts(cluster: &Value, origin: &str) -> Outcome<ClusterFacts> {
    let text = cluster.to_string();
    let failure = |e: awi_trust::TrustError| Failure::input(format!("{origin}: {e}"));
    let provider = awi_trust::oidc_provider_config(&text).map_err(failure)?;
    let template = awi_trust::render::find_template(&text).map_err(failure)?;
    Ok(ClusterFacts {
        name: str_at(cluster, "/name")
            .or_else(|| str_at(cluster, "/metadata/name"))
            .unwrap_or("(unnamed)")
            .to_string(),
        provider_url: provider.provider_url,
        audience: provider.audience,
        federated: federated_account(&template),
    })
}

/// The first Federated OIDC provider ARN of a template. Its account may still be a
/// placeholder (`<AWS_ACCOUNT_ID>`), which setup fills in, so it is not checked here.
fn federated_account(template: &Value) -> Option<(String, String)> {
    let statements = match template.get("Statement")? {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        single => vec![single],
    };
    statements.into_iter().find_map(|s| {
        let federated = s.pointer("/Principal/Federated")?;
        let arns: Vec<&str> = match federated {
            Value::String(arn) => vec![arn.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        arns.into_iter()
            .find_map(|arn| provider_arn_parts(arn).map(|(p, a)| (p.to_string(), a.to_string())))
    })
}

/// The ServiceAccount and the IAM role `awi setup` connects, on either kind of cluster.
#[derive(Debug, clap::Args)]
pub struct RoleArgs {
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: String,
    #[arg(long, value_name = "SA")]
    pub service_account: String,
    /// Name of the IAM role to create.
    #[arg(long, value_name = "NAME")]
    pub role_name: String,
    /// AWS account of the role, when the cluster's trust policy template does not name it.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

impl RoleArgs {
    /// Namespace, ServiceAccount, role name and (when given) account are well-formed.
    pub fn check(&self) -> Outcome<()> {
        non_empty("--namespace", &self.namespace)?;
        non_empty("--service-account", &self.service_account)?;
        check_role_name(&self.role_name)
            .map_err(|e| Failure::input(format!("--role-name: {e}")))?;
        if let Some(account) = &self.account {
            check_account(account).map_err(|e| Failure::input(format!("--account: {e}")))?;
        }
        Ok(())
    }
}

/// Setup on a Control Plane cluster, from its saved cluster object.
pub fn setup(module: &mut Session, cluster: &Path, args: &RoleArgs) -> Outcome<String> {
    args.check()?;
    let origin = format!("--cluster {}", cluster.display());
    let text = read_text(cluster, "--cluster")?;
    let cluster = parse_document(&text, &origin)?;
    let facts = cluster_facts(&cluster, &origin)?;

    // The role lives in the account of the OIDC provider the template trusts; an explicit
    // --account that disagrees would create a role that can never be assumed.
    let known = facts
        .federated
        .as_ref()
        .filter(|(_, account)| check_account(account).is_ok());
    let (partition, account) = match (known, args.account.as_deref()) {
        (Some((_, theirs)), Some(ours)) if theirs != ours => {
            return Err(Failure::input(format!(
                "--account {ours}: the cluster's trust policy trusts the OIDC provider of account {theirs}; the role must be in that account"
            )));
        }
        (Some((p, a)), _) => (p.clone(), a.clone()),
        (None, Some(a)) => (
            facts
                .federated
                .as_ref()
                .map_or("aws".to_string(), |(p, _)| p.clone()),
            a.to_string(),
        ),
        (None, None) => {
            return Err(Failure::input(format!(
                "{origin}: the trust policy template names no AWS account; pass --account"
            )));
        }
    };
    let role_arn = format!("arn:{partition}:iam::{account}:role/{}", args.role_name);

    let mut rendered = module
        .trust()?
        .render(&text, &args.namespace, &args.service_account)?;
    if let Some((_, placeholder)) = facts.federated.as_ref().filter(|(_, a)| *a != account) {
        // A template whose Federated ARN holds an account placeholder: fill it in.
        rendered = rendered.replace(
            &format!(":iam::{placeholder}:oidc-provider/"),
            &format!(":iam::{account}:oidc-provider/"),
        );
    }
    let rendered = pretty_json(&rendered);

    let subject = Subject {
        issuer: facts.provider_url.clone(),
        audience: facts.audience.clone(),
        namespace: args.namespace.to_string(),
        service_account: args.service_account.to_string(),
    };
    check_rendered(module, &rendered, &role_arn, &subject)?;
    Ok(steps(&facts, args, &role_arn, &rendered))
}

/// What setup prints is checked first: the rendered trust policy lets exactly the subject's
/// ServiceAccount assume the role, with no finding at high or above.
pub fn check_rendered(
    module: &mut Session,
    rendered: &str,
    role_arn: &str,
    subject: &Subject,
) -> Outcome<()> {
    let verdict = module.trust()?.check(rendered, role_arn, subject)?;
    let sa = format!("{}/{}", subject.namespace, subject.service_account);
    if !verdict.allowed {
        let why = verdict.explanation.join("; ");
        return Err(Failure::refused(format!(
            "the rendered trust policy does not let {sa} assume {role_arn}: {why}"
        )));
    }
    let who = module
        .trust()?
        .who(rendered, role_arn, &subject.issuer, &subject.audience)?;
    if who != [sa.clone()] {
        return Err(Failure::refused(format!(
            "the rendered trust policy admits {} instead of exactly {sa}",
            who.join(", ")
        )));
    }
    let serious: Vec<_> = module
        .trust()?
        .lint(rendered, Some(role_arn), &subject.issuer)?
        .into_iter()
        .filter(|f| f.severity.is_high_or_above())
        .collect();
    if !serious.is_empty() {
        return Err(Failure::refused(format!(
            "the rendered trust policy has findings at high or above: {}",
            findings_text(&serious, "")
        )));
    }
    Ok(())
}

fn steps(facts: &ClusterFacts, args: &RoleArgs, role_arn: &str, policy: &str) -> String {
    let (ns, sa, role) = (&args.namespace, &args.service_account, &args.role_name);
    let provider = &facts.provider_url;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# AWS workload identity for ServiceAccount {ns}/{sa} of cluster {}",
        facts.name
    );
    let _ = writeln!(
        out,
        "# Checked: the trust policy below lets exactly {ns}/{sa} (audience {}) assume {role_arn}.",
        facts.audience
    );
    let _ = writeln!(
        out,
        "\n# 1. Register the cluster's OIDC provider in IAM (once per cluster and AWS account).\n#    Provider URL: {provider}"
    );
    let _ = writeln!(
        out,
        "aws iam create-open-id-connect-provider \\\n  --url {provider} \\\n  --client-id-list {}",
        facts.audience
    );
    role_step(&mut out, 2, role, policy);
    workload_steps(&mut out, ns, sa, role_arn, 3);
    out
}

/// The step that creates the role with its checked trust policy.
pub fn role_step(out: &mut String, number: usize, role: &str, policy: &str) {
    let _ = writeln!(
        out,
        "\n# {number}. Create the role {role} with this trust policy, then attach the permissions it needs\n#    (aws iam attach-role-policy --role-name {role} --policy-arn ...)."
    );
    let _ = writeln!(out, "cat > trust-policy.json <<'EOF'\n{policy}\nEOF");
    let _ = writeln!(
        out,
        "aws iam create-role \\\n  --role-name {role} \\\n  --assume-role-policy-document file://trust-policy.json"
    );
}

/// The last steps of every setup: the ServiceAccount with the role and a Pod that checks it.
pub fn workload_steps(out: &mut String, ns: &str, sa: &str, role_arn: &str, first: usize) {
    let second = first + 1;
    let _ = writeln!(
        out,
        "\n# {first}. Create the ServiceAccount that carries the role."
    );
    let _ = writeln!(
        out,
        "kubectl apply -f - <<'EOF'\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n  namespace: {ns}\n  annotations:\n    eks.amazonaws.com/role-arn: {role_arn}\nEOF"
    );
    let _ = writeln!(
        out,
        "\n# {second}. Run a Pod as that ServiceAccount; the policy injects AWS_ROLE_ARN and the token.\n#    It should print the role's assumed identity."
    );
    let _ = writeln!(
        out,
        "kubectl apply -f - <<'EOF'\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {sa}-aws-identity-check\n  namespace: {ns}\nspec:\n  serviceAccountName: {sa}\n  restartPolicy: Never\n  containers:\n  - name: aws\n    image: public.ecr.aws/aws-cli/aws-cli:latest\n    args: [\"sts\", \"get-caller-identity\"]\nEOF"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(federated: &str) -> Value {
        json!({
            "kind": "mk8s",
            "name": "prod",
            "status": {"addOns": {"awsWorkloadIdentity": {
                "oidcProviderConfig": {"providerUrl": "https://oidc.example/abc", "audience": "sts.amazonaws.com"},
                "trustPolicy": {"Version": "2012-10-17", "Statement": [{"Principal": {"Federated": federated}}]}
            }}}
        })
    }

    #[test]
    fn facts_come_from_the_add_on() {
        let facts = cluster_facts(
            &cluster("arn:aws:iam::111122223333:oidc-provider/oidc.example/abc"),
            "C",
        )
        .unwrap();
        assert_eq!(facts.name, "prod");
        assert_eq!(facts.provider_url, "https://oidc.example/abc");
        assert_eq!(
            facts.federated,
            Some(("aws".to_string(), "111122223333".to_string()))
        );
        let e = cluster_facts(&json!({"kind": "mk8s"}), "--cluster c.json").unwrap_err();
        assert!(e.message.contains("oidcProviderConfig"), "{e}");
    }

    #[test]
    fn template_as_a_string() {
        let mut c = cluster("");
        c["status"]["addOns"]["awsWorkloadIdentity"]["trustPolicy"] = json!(
            r#"{"Statement": {"Principal": {"Federated": ["arn:aws-cn:iam::000011112222:oidc-provider/x"]}}}"#
        );
        assert_eq!(
            cluster_facts(&c, "C").unwrap().federated,
            Some(("aws-cn".to_string(), "000011112222".to_string()))
        );
    }
}
