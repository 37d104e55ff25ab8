//! `awi`: preview and check AWS workload identity with the policy module (see `cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
