//! The policy module the commands ask, on the host library: loaded once per run, on first
//! use.
//!
//! Admission runs through waPC, as Kubewarden runs it; the trust engine through the WIT
//! world. Each ABI is linked only when a command needs it, so `awi review` never pays for
//! making the component.

use std::path::PathBuf;
use std::sync::Arc;

use awi::{Credentials, Objects, Policy, Reference, Registry, RegistryError, Sources, WitInstance};
use serde_json::Value;

use super::error::{Failure, Outcome};
use super::model::Reviewed;

/// Loads the module named by `--module` (a file or a `registry://` reference), or the
/// embedded one, when first asked.
pub struct Loader {
    flag: Option<String>,
    registry: RegistryOptions,
    session: Option<Session>,
}

/// `--sources-path` and `--docker-config-json-path`, read when a registry is used.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    pub sources_path: Option<PathBuf>,
    pub docker_config_json_path: Option<PathBuf>,
}

impl RegistryOptions {
    /// The registry client these options describe.
    pub fn registry(&self) -> Outcome<Registry> {
        let sources = match &self.sources_path {
            Some(path) => Sources::from_file(path).map_err(registry_failure)?,
            None => Sources::default(),
        };
        let credentials = Credentials::discover(self.docker_config_json_path.as_deref())
            .map_err(registry_failure)?;
        Ok(Registry::new(sources, credentials))
    }
}

impl Loader {
    pub fn new(flag: Option<String>, registry: RegistryOptions) -> Loader {
        Loader {
            flag,
            registry,
            session: None,
        }
    }

    /// The loaded module, for the waPC (admission) functions.
    pub fn wapc(&mut self) -> Outcome<&mut Session> {
        self.session()
    }

    /// The loaded module, for the WIT (trust) functions.
    pub fn wit(&mut self) -> Outcome<&mut Session> {
        self.session()
    }

    /// The component made of the module, for other hosts.
    pub fn component_bytes(&mut self) -> Outcome<Vec<u8>> {
        let session = self.session()?;
        Ok(session.policy.component_bytes()?)
    }

    /// The module itself (not compiled) and where it came from, for the commands that
    /// write, inspect or publish it.
    pub fn module(&mut self) -> Outcome<(&Policy, String)> {
        let origin = self.origin();
        Ok((&self.session()?.policy, origin))
    }

    /// The registry client of the command line's options.
    pub fn registry(&self) -> Outcome<Registry> {
        self.registry.registry()
    }

    fn origin(&self) -> String {
        match &self.flag {
            Some(flag) => format!("--module {flag}"),
            None => "the embedded policy module".to_string(),
        }
    }

    fn session(&mut self) -> Outcome<&mut Session> {
        if self.session.is_none() {
            let policy = match &self.flag {
                None => Policy::embedded()?,
                Some(flag) if Reference::is_registry_uri(flag) => {
                    let reference = Reference::parse(flag).map_err(registry_failure)?;
                    let pulled = self
                        .registry()?
                        .pull(&reference)
                        .map_err(registry_failure)?;
                    Policy::from_module_bytes(pulled.module)
                        .map_err(|e| Failure::input(format!("--module {flag}: {e}")))?
                }
                Some(flag) => {
                    let path = PathBuf::from(flag);
                    if !path.is_file() {
                        return Err(Failure::input(format!(
                            "--module {}: no such file",
                            path.display()
                        )));
                    }
                    Policy::load(&path)
                        .map_err(|e| Failure::input(format!("--module {}: {e}", path.display())))?
                }
            };
            self.session = Some(Session { policy, wit: None });
        }
        // Just set above when it was missing.
        self.session
            .as_mut()
            .ok_or_else(|| Failure::input("the policy module could not be loaded"))
    }
}

/// A registry or reference problem: bad input for the command (exit 2).
pub fn registry_failure(error: RegistryError) -> Failure {
    Failure::input(error.to_string())
}

/// One loaded module and, once a trust command needs it, its component instance.
pub struct Session {
    policy: Policy,
    wit: Option<WitInstance>,
}

/// Errors of the module or the host: the module's own messages name the bad input.
impl From<awi::Error> for Failure {
    fn from(error: awi::Error) -> Failure {
        match error {
            awi::Error::Guest { message, .. } => Failure::input(message),
            other => Failure::input(other.to_string()),
        }
    }
}

/// The policy module's functions the commands use. Errors are the module's own messages
/// (bad input) or a host failure; both end the command with exit 2.
impl Session {
    /// The module's component instance, for the trust engine's functions (`trust.check`,
    /// `trust.lint`, ...); its errors become [`Failure`]s with `?`.
    pub fn trust(&mut self) -> Outcome<&mut WitInstance> {
        if self.wit.is_none() {
            self.wit = Some(self.policy.wit_instance()?);
        }
        self.wit
            .as_mut()
            .ok_or_else(|| Failure::input("the policy component could not be instantiated"))
    }

    /// `Ok(Err(message))` when the policy refuses the settings.
    pub fn validate_settings(&mut self, settings: &Value) -> Outcome<Result<(), String>> {
        let instance = self.policy.wapc_instance(Arc::new(Objects::empty()))?;
        let answer = instance.validate_settings(settings)?;
        Ok(if answer.valid {
            Ok(())
        } else {
            Err(answer
                .message
                .unwrap_or_else(|| "refused without a message".to_string()))
        })
    }

    /// Runs the policy on `review` (an AdmissionReview) as Kubewarden would, answering
    /// `kubernetes/get_resource` from `cluster`; returns the AdmissionReview response and
    /// the records the policy logged.
    pub fn review(
        &mut self,
        settings: &Value,
        review: &Value,
        cluster: &Objects,
    ) -> Outcome<Reviewed> {
        let cluster = Arc::new(cluster.clone());
        let (answer, logs) = self
            .policy
            .kubewarden_review_logged(settings, review, cluster)?;
        Ok(Reviewed { answer, logs })
    }
}
