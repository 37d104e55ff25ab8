//! ABI glue, compiled only for `wasm32`: waPC for Kubewarden, the WIT world for other hosts.
