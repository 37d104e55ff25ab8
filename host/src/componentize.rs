//! Making the shipped core module into a component of the WIT world (`wit/policy.wit`).
//!
//! The shipped artifact is one core module that also carries waPC for Kubewarden.
//! [`componentize`] wraps it into a component: the WASI preview1 calls are adapted to WASI
//! preview2 by wasmtime's reactor adapter, and the `wapc` imports are satisfied by a tiny
//! adapter of trapping stubs ([`wapc_stub_adapter`]). The component exports only the world's
//! interfaces, so nothing can reach those stubs; they exist because every core import must
//! be satisfied.

use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, TypeSection,
    ValType,
};

use crate::Error;

/// The waPC functions a guest may import (module `wapc`), with their core signatures.
const WAPC_IMPORTS: &[(&str, &[ValType], &[ValType])] = {
    use ValType::I32;
    &[
        ("__guest_request", &[I32, I32], &[]),
        ("__guest_response", &[I32, I32], &[]),
        ("__guest_error", &[I32, I32], &[]),
        (
            "__host_call",
            &[I32, I32, I32, I32, I32, I32, I32, I32],
            &[I32],
        ),
        ("__host_response_len", &[], &[I32]),
        ("__host_response", &[I32], &[]),
        ("__host_error_len", &[], &[I32]),
        ("__host_error", &[I32], &[]),
        ("__console_log", &[I32, I32], &[]),
    ]
};

/// A core module exporting every waPC import as a function whose body is `unreachable`.
/// wit-component keeps only the stubs the policy module actually imports.
pub fn wapc_stub_adapter() -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, (name, params, results)) in (0u32..).zip(WAPC_IMPORTS) {
        types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        functions.function(index);
        exports.export(name, ExportKind::Func, index);
        let mut body = Function::new([]);
        body.instruction(&Instruction::Unreachable);
        body.instruction(&Instruction::End);
        code.function(&body);
    }
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// Turns the policy's core module into a component of the `awi:policy/policy` world:
/// WASI preview1 through wasmtime's reactor adapter, waPC through trapping stubs.
///
/// This is how the `.component.wasm` for other hosts is made; the bytes are a valid
/// component that any wasmtime (or other component-model) host with WASI preview2 can run.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, Error> {
    use wasi_preview1_component_adapter_provider::{
        WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    let context = "making a component of the policy module";
    let mut encoder = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .map_err(|e| Error::runtime(context, e))?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(|e| Error::runtime(context, e))?
        .adapter("wapc", &wapc_stub_adapter())
        .map_err(|e| Error::runtime(context, e))?;
    encoder.encode().map_err(|e| Error::runtime(context, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_adapter_is_tiny_and_valid() {
        let bytes = wapc_stub_adapter();
        assert!(bytes.len() < 400, "{} bytes", bytes.len());
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, &bytes).unwrap();
        let names: Vec<_> = module.exports().map(|e| e.name().to_string()).collect();
        assert_eq!(names.len(), WAPC_IMPORTS.len());
        assert!(names.iter().any(|n| n == "__host_call"));
    }
}
