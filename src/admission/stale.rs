//! Stale Pods: Pods whose AWS credentials are no longer what their ServiceAccount names.
//!
//! A Pod is mutated once, at CREATE; when its ServiceAccount's role annotation changes (or
//! goes, or the ServiceAccount moves to container credentials), the running Pod keeps the
//! old `AWS_ROLE_ARN` until it is recreated. With the setting `validateOnly` the policy
//! never mutates; a Pod is answered by comparing the credentials its containers carry with
//! the ones the mutation would give it now (the mutation resolved on the Pod, its patch
//! discarded), and a Pod whose credentials differ is rejected with both. On a policy with
//! `mutating: false` and `backgroundAudit: true`, Kubewarden's audit scanner sends it every
//! stored Pod and reports the rejected ones in PolicyReports.
//!
//! Why a setting and not a signal in the request: the audit scanner's request is an
//! ordinary CREATE of the stored object, and nothing in an AdmissionRequest tells the
//! module whether its policy is `mutating`; the settings are per policy, so the validating
//! policy says it itself, and a module configured so can never return a patch (Kubewarden
//! rejects a mutation from a policy with `mutating: false`).
//!
//! A Pod whose ServiceAccount cannot be read, or that cannot be read itself, is admitted
//! with a warning: there is nothing to compare it with.

use super::envelope::Request;
use super::{Action, Context, Decision, ObjectRef, Outcome, Prepared, Target, Unread};
use crate::mutation::{self, Credentials, Injected, PodRequest};

/// The answer to a Pod under `validateOnly`: admitted when its credentials are current,
/// rejected with the difference when they are stale; never a patch.
pub(crate) fn review(prepared: &Prepared, req: &Request, context: &Context) -> Outcome {
    let mut decision = req.decision(Target::PodValidation);
    let pod = req.object;
    let namespace = req.namespace();
    let who = mutation::pod_display_name(pod, namespace);
    let unchecked = |problem: String, decision: Decision| {
        let warning = format!(
            "{who}: {problem}: its AWS credentials are not compared with its ServiceAccount"
        );
        Outcome::unchecked(warning, problem, decision)
    };
    let name = match mutation::service_account_name(pod) {
        Ok(name) => name,
        Err(e) => return unchecked(e.to_string(), decision),
    };
    decision.service_account = Some(format!("{namespace}/{name}"));
    let wanted = ObjectRef::service_account(namespace, name);
    let service_account = match context.lookup(&wanted) {
        Ok(service_account) => service_account,
        Err(Unread { reason, detail }) => {
            decision.host_error = detail;
            return unchecked(
                format!("cannot read ServiceAccount {namespace}/{name} ({reason})"),
                decision,
            );
        }
    };
    let request = PodRequest {
        pod,
        namespace,
        uid: req.uid,
        service_account: Some(service_account),
    };
    let current = match mutation::inject_web_identity(prepared.settings(), &request) {
        Ok(injection) => injection.credentials,
        Err(e) => return unchecked(e.to_string(), decision),
    };
    decision.action = Action::Admitted;
    decision.set_credentials(current.as_ref());
    let carried = match mutation::injected_credentials(prepared.settings(), pod, namespace) {
        // Every container is skipped: the Pod is given no credentials, nothing is stale.
        Ok(None) => return Outcome::admit(Vec::new(), decision),
        Ok(Some(carried)) => carried,
        Err(e) => return unchecked(e.to_string(), decision),
    };
    let owner = format!("ServiceAccount {namespace}/{name}");
    match difference(current.as_ref(), &carried, &owner) {
        None => Outcome::admit(Vec::new(), decision),
        Some(difference) => Outcome::reject(
            format!(
                "{who}: stale AWS credentials: {difference}; delete the Pod (kubectl rollout restart for a workload's Pods) so that it is created again with the current ones"
            ),
            403,
            Vec::new(),
            decision,
        ),
    }
}

/// How the credentials a Pod carries differ from the ones `owner` (its ServiceAccount)
/// gives now; `None` when they agree.
pub fn difference(
    current: Option<&Credentials>,
    carried: &Injected,
    owner: &str,
) -> Option<String> {
    const CC: &str = "container credentials (EKS Pod Identity)";
    let message = match (current, carried) {
        (None, Injected::Nothing)
        | (Some(Credentials::ContainerCredentials { .. }), Injected::ContainerCredentials) => {
            return None;
        }
        (
            Some(Credentials::WebIdentity { role_arn, .. }),
            Injected::WebIdentity { role_arn: had },
        ) if role_arn == had => {
            return None;
        }
        (
            Some(Credentials::WebIdentity { role_arn, .. }),
            Injected::WebIdentity { role_arn: had },
        ) => {
            format!("AWS_ROLE_ARN is {had}, but {owner} now names the role {role_arn}")
        }
        (Some(Credentials::WebIdentity { role_arn, .. }), Injected::Nothing) => {
            format!("the Pod has no AWS credentials, but {owner} names the role {role_arn}")
        }
        (Some(Credentials::WebIdentity { role_arn, .. }), Injected::ContainerCredentials) => {
            format!("the Pod has {CC}, but {owner} now names the role {role_arn}")
        }
        (
            Some(Credentials::ContainerCredentials { .. }),
            Injected::WebIdentity { role_arn: had },
        ) => {
            format!("AWS_ROLE_ARN is {had}, but {owner} is now served by {CC}")
        }
        (Some(Credentials::ContainerCredentials { .. }), Injected::Nothing) => {
            format!("the Pod has no AWS credentials, but {owner} is served by {CC}")
        }
        (None, Injected::WebIdentity { role_arn: had }) => {
            format!("AWS_ROLE_ARN is {had}, but {owner} no longer names a role")
        }
        (None, Injected::ContainerCredentials) => {
            format!("the Pod has {CC}, but {owner} is no longer served by them")
        }
    };
    Some(message)
}
