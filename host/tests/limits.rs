//! The built `.wasm` under resource limits like a Kubewarden policy server's: each guest
//! instance's linear memory capped, and every call bounded by an epoch deadline. The
//! hostile inputs of `recorded::hostile` (shared with `tests/hostile.rs`) go in through the
//! waPC `validate` and `validate_settings` entries; each must come back as a clear answer (a rejection with a
//! message, or an admission), never a trap, an out-of-memory or an interrupted call.
//!
//! The guest runs on the library's own waPC runner with [`awi::Limits`], which configures
//! `wasmtime-provider` the way the policy server does (`enable_resource_limits`, epoch
//! deadlines at `rehydrate`). Fuel is not offered by that crate, so the instruction budget is
//! an epoch deadline: generous in wall time (a noisy machine must not fail it), still far
//! below "loops forever".

use std::sync::Arc;
use std::time::Duration;

use awi::wasmtime::Module;
use awi::{EpochTicker, Limits, Objects, WapcInstance, WapcPolicy};
use recorded::hostile::{settings_rows, validate_rows};
use serde_json::{Value, json};

/// Linear-memory cap per instance (policy servers run policies with a few hundred MiB).
const MAX_MEMORY: usize = 256 << 20;
/// One tick every 10 ms.
const TICK: Duration = Duration::from_millis(10);
/// Ticks a call may take: 60 s, orders of magnitude above what any answer here needs.
const DEADLINE_TICKS: u64 = 6_000;

/// The policy under the limits, on an engine ticked while the test runs.
struct Limited {
    policy: WapcPolicy,
    _ticker: EpochTicker,
}

impl Limited {
    fn new() -> Limited {
        let engine = awi::new_engine_with_epochs(None).expect("engine with epoch interruption");
        let module =
            Module::from_file(&engine, awi::default_module_path()).expect("the policy module");
        let limits = Limits::none()
            .max_memory(MAX_MEMORY)
            .epoch_deadline(DEADLINE_TICKS);
        let policy = WapcPolicy::with_limits(&engine, &module, limits).expect("linking the guest");
        Limited {
            policy,
            _ticker: EpochTicker::start(&engine, TICK),
        }
    }

    /// A fresh guest whose `get_resource` calls are answered from `cluster`.
    fn instance(&self, cluster: Vec<Value>) -> WapcInstance {
        self.policy
            .instantiate(Arc::new(Objects::new(cluster)))
            .expect("instantiating the guest")
    }
}

#[test]
fn hostile_reviews_answer_within_limits() {
    let limited = Limited::new();
    let mut wrong = Vec::new();
    for (row, payload, cluster, accepted, text) in validate_rows() {
        let guest = limited.instance(cluster);
        let answer = match guest.call("validate", &payload) {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes).expect("JSON answer"),
            Err(e) => {
                wrong.push(format!("{row}: no answer: {e}"));
                continue;
            }
        };
        let said = format!("{} {}", answer["message"], answer["warnings"]);
        if answer["accepted"] != json!(accepted) || !said.contains(&text) {
            let shown: String = answer.to_string().chars().take(600).collect();
            wrong.push(format!(
                "{row}: expected accepted={accepted} mentioning {text:?}, got {shown}"
            ));
        }
        // What goes back to the API server stays proportionate: messages are cut.
        if said.len() > 64 << 10 {
            wrong.push(format!(
                "{row}: {} bytes of message and warnings",
                said.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn hostile_settings_answer_within_limits() {
    let limited = Limited::new();
    let rows = settings_rows();
    let mut wrong = Vec::new();
    for (row, settings, valid) in rows {
        let guest = limited.instance(Vec::new());
        match guest.call("validate_settings", settings.as_bytes()) {
            Ok(bytes) => {
                let answer: Value = serde_json::from_slice(&bytes).expect("JSON answer");
                let explained = valid || answer["message"].as_str().is_some_and(|m| !m.is_empty());
                if answer["valid"] != json!(valid) || !explained {
                    wrong.push(format!("{row}: got {:.400}", answer.to_string()));
                }
            }
            Err(e) => wrong.push(format!("{row}: no answer: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
