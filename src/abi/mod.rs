//! ABI glue, compiled only for `wasm32`: waPC for Kubewarden, the WIT world for other hosts.
//! Both are thin: they decode what the host sends and call [`crate::kubewarden`] and
//! [`crate::admission`].
//!
//! Both ABIs are compiled into one module and share one settings cache (inside the waPC
//! [`Validator`]), so that every entry accepts and refuses the same settings alike.

use std::cell::RefCell;

use crate::kubewarden::Validator;

#[cfg(feature = "kubewarden")]
mod wapc;
#[cfg(feature = "component")]
mod wit;

thread_local! {
    /// Kept across calls: the instance is reused, and with it the prepared settings.
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new());
}

/// Runs `f` on the module's validator and its settings cache.
fn with_validator<R>(f: impl FnOnce(&mut Validator) -> R) -> R {
    VALIDATOR.with(|validator| match validator.try_borrow_mut() {
        Ok(mut validator) => f(&mut validator),
        // Not reentrant; should the host ever nest calls, answer without the cache.
        Err(_) => f(&mut Validator::new()),
    })
}
