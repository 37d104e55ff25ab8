//! The native answer to a recorded case: `admission::decide` on the case's request, with the
//! objects looked up in the case's cluster, and a failing read's error text read as the
//! Kubewarden glue reads it (`kubewarden::get_resource_failure`). Shared (through `#[path]`) by the native replay
//! (`tests/replay.rs`) and the wasm replay (`host/tests/replay.rs`), which compares every
//! ABI's answer with this one.

use aws_workload_identity::admission::{self, Lookup, Outcome, Prepared};
use aws_workload_identity::kubewarden::get_resource_failure;
use recorded::Case;

/// The outcome of `case` under `prepared` (the case's own settings, prepared).
pub fn decide(case: &Case, prepared: &Prepared) -> Result<Outcome, String> {
    let request = admission::request_of(&case.review).map_err(|e| e.to_string())?;
    let cluster = case.cluster();
    Ok(admission::decide(prepared, request, |wanted| {
        if let Some(error) = cluster.error(wanted) {
            return get_resource_failure(error);
        }
        cluster
            .find(wanted)
            .map_or(Lookup::NotFound, |object| Lookup::Found(object.clone()))
    }))
}
