//! `awi`: preview and check AWS workload identity with the policy module (see `cli`).

// Nothing on an input path may panic; the unit tests may.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
