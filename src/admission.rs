//! One admission request in, one decision out.
