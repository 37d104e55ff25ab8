//! Workloads: the Pod-template kinds (`apps/v1` Deployment, StatefulSet, DaemonSet,
//! ReplicaSet; `batch/v1` Job, CronJob) on CREATE and UPDATE.
//!
//! A workload's Pods are created by a controller, so the person who runs `kubectl apply -f
//! deployment.yaml` never sees a Pod's warnings. This path gives the workload what a Pod of
//! its template would get, at apply time: the template's ServiceAccount (`default` when
//! empty) is read, the mutation is resolved on the template as on a Pod (its patch is
//! discarded: a workload is never mutated), and the role the Pods would be given is checked
//! like the ServiceAccount's ([`trust_checks::review_identity`]): under `trustValidation:
//! enforce` a role that cannot work for the ServiceAccount rejects the workload, otherwise
//! every problem is a warning. A workload whose template cannot be read, or whose
//! ServiceAccount cannot, is admitted with a warning that says so.

use serde_json::Value;

use awi_trust::json::type_name;

use super::envelope::Request;
use super::{
    Action, Context, Decision, ObjectRef, Outcome, Prepared, Read, Target, trust_checks,
    web_identity,
};
use crate::mutation::{self, PodRequest};

/// The Pod template of the workload `req` carries: `spec.template`, or
/// `spec.jobTemplate.spec.template` for a CronJob; an error naming the first field that is
/// missing or not an object.
pub(crate) fn template<'a>(req: &Request<'a>) -> Result<&'a Value, String> {
    let path: &[&str] = if req.kind == "CronJob" {
        &["spec", "jobTemplate", "spec", "template"]
    } else {
        &["spec", "template"]
    };
    let mut at = req.object;
    for (depth, member) in path.iter().enumerate() {
        let field = path[..=depth].join(".");
        at = match at.get(member) {
            None | Some(Value::Null) => return Err(format!("{field} is missing")),
            Some(value @ Value::Object(_)) => value,
            Some(other) => {
                return Err(format!(
                    "{field}: expected an object, got {}",
                    type_name(other)
                ));
            }
        };
    }
    Ok(at)
}

/// The checks a Pod of the workload's template would get, as the workload's verdict.
pub(crate) fn review(prepared: &Prepared, req: &Request, context: &Context) -> Outcome {
    let mut decision = req.decision(Target::WorkloadWrite);
    let who = format!("{} {}", req.kind, req.object_name());
    let about = |message: &str| format!("{who}: {message}");
    let unchecked = |problem: String, decision: Decision| {
        let warning = about(&format!(
            "{problem}: the AWS credentials of its Pods are not checked"
        ));
        Outcome::unchecked(warning, problem, decision)
    };
    let template = match template(req) {
        Ok(template) => template,
        Err(problem) => return unchecked(format!("no Pod template: {problem}"), decision),
    };
    let namespace = req.namespace();
    let name = match mutation::service_account_name(template) {
        Ok(name) => name,
        Err(e) => return unchecked(format!("Pod template: {e}"), decision),
    };
    decision.service_account = Some(format!("{namespace}/{name}"));
    let wanted = ObjectRef::service_account(namespace, name);
    let service_account = match context.read(&wanted) {
        Read::Found(service_account) => service_account,
        Read::Missing => {
            return Outcome::unchecked(
                about(&format!(
                    "ServiceAccount {namespace}/{name} does not exist: the API server refuses the Pods of this workload until it is created"
                )),
                "not found".to_string(),
                decision,
            );
        }
        Read::Failed(failure) => {
            decision.host_error = Some(failure.detail.clone());
            return unchecked(
                format!(
                    "cannot read ServiceAccount {namespace}/{name} ({})",
                    failure.reason(&wanted)
                ),
                decision,
            );
        }
    };
    let pod = PodRequest {
        pod: template,
        namespace,
        uid: req.uid,
        service_account: Some(service_account),
    };
    let injection = match mutation::inject_web_identity(prepared.settings(), &pod) {
        Ok(injection) => injection,
        Err(e) => return unchecked(format!("Pod template: {e}"), decision),
    };
    let mut warnings: Vec<String> = injection.warnings.iter().map(|w| about(w)).collect();
    decision.action = Action::Admitted;
    decision.set_credentials(injection.credentials.as_ref());
    let Some(identity) = web_identity(namespace, injection.credentials.as_ref()) else {
        return Outcome::admit(warnings, decision);
    };
    let report = trust_checks::review_identity(prepared, &identity);
    decision.trust = report.verdict;
    warnings.extend(report.warnings.iter().map(|w| about(w)));
    match report.rejection {
        Some(message) => Outcome::reject(about(&message), 403, warnings, decision),
        None => Outcome::admit(warnings, decision),
    }
}
