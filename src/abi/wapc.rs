//! Kubewarden glue: the waPC entry points `validate`, `validate_settings` and
//! `protocol_version` over [`crate::kubewarden`].
//!
//! The request itself is answered by [`crate::kubewarden::Validator`]; this glue only reads
//! what [`crate::admission::needs`] names through `kubernetes/get_resource` (the Pod's
//! ServiceAccount), says what Kubewarden's answer means, and sends the decision's log record
//! to `tracing/log`. It is called with the cache disabled: a ServiceAccount annotated a moment before
//! its Pod is created must be seen.

use kubewarden_policy_sdk::logging::KubewardenDrain;
use kubewarden_policy_sdk::wapc_guest::{self as guest, CallResult};
use serde_json::json;

use super::with_validator;
use crate::admission::{Level, LogRecord, Lookup, ObjectRef, ReadFailure};
use crate::kubewarden::get_resource_failure;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function(
        "protocol_version",
        kubewarden_policy_sdk::protocol_version_guest,
    );
}

/// Answers every request, also malformed ones, with a ValidationResponse: an `Err` here
/// would become an HTTP 500 on the host. The decision's record goes to policy-server's log.
fn validate(payload: &[u8]) -> CallResult {
    let (response, record) =
        with_validator(|validator| validator.validate_logged(payload, get_resource));
    if let Some(record) = &record {
        log(record);
    }
    Ok(serde_json::to_vec(&response)?)
}

/// The record's fields as slog key/values, for the SDK's drain.
struct Fields<'a>(&'a [(&'static str, String)]);

impl slog::KV for Fields<'_> {
    fn serialize(
        &self,
        _record: &slog::Record,
        serializer: &mut dyn slog::Serializer,
    ) -> slog::Result {
        for (key, value) in self.0 {
            serializer.emit_str(key, value)?;
        }
        Ok(())
    }
}

/// Sends `record` through Kubewarden's logging host capability (`kubewarden/tracing/log`,
/// the SDK's `KubewardenDrain`). Called on the drain itself, not through a `slog::Logger`:
/// the logger's fuse would panic, and the static level filter drop records, and logging must
/// never change an answer. A host that refuses the record only loses the record.
fn log(record: &LogRecord) {
    use slog::Drain as _;
    static LOCATION: slog::RecordLocation = slog::RecordLocation {
        file: file!(),
        line: line!(),
        column: column!(),
        function: "",
        module: module_path!(),
    };
    let level = match record.level {
        Level::Info => slog::Level::Info,
        Level::Warning => slog::Level::Warning,
    };
    let statics = slog::RecordStatic {
        location: &LOCATION,
        tag: "",
        level,
    };
    let message = format_args!("{}", record.message);
    let fields = Fields(&record.fields);
    let slog_record = slog::Record::new(&statics, &message, slog::BorrowedKV(&fields));
    let _ = KubewardenDrain::default().log(&slog_record, &slog::OwnedKVList::from(slog::o!()));
}

/// Kubewarden's `kubernetes/get_resource`. Kubewarden says why an object could not be read
/// (it does not exist included) only through the text of its error, which
/// [`get_resource_failure`] reads.
fn get_resource(wanted: &ObjectRef) -> Lookup {
    let request = json!({
        "api_version": wanted.api_version,
        "kind": wanted.kind,
        "name": wanted.name,
        "namespace": wanted.namespace,
        "disable_cache": true,
        "field_masks": null,
    });
    match guest::host_call(
        "kubewarden",
        "kubernetes",
        "get_resource",
        request.to_string().as_bytes(),
    ) {
        Ok(answer) => match serde_json::from_slice(&answer) {
            Ok(object) => Lookup::Found(object),
            Err(e) => Lookup::Failed(ReadFailure::other(&format!(
                "host answered with invalid JSON: {e}"
            ))),
        },
        Err(e) => get_resource_failure(&e.to_string()),
    }
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let response = with_validator(|validator| validator.validate_settings(payload));
    Ok(serde_json::to_vec(&response)?)
}
