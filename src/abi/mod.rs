//! ABI glue, compiled only for `wasm32`: waPC for Kubewarden, the WIT world for other hosts.
//! Both are thin: they parse what the host sends and call [`crate::admission`].

#[cfg(feature = "kubewarden")]
mod wapc;
#[cfg(feature = "component")]
mod wit;
