# Kubewarden's reusable workflows (kubewarden/github-actions, .github/workflows/) build the
# module themselves and then call `make annotated-policy.wasm` and `make e2e-tests`; keep
# those two names. The other targets are for development.

CARGO ?= cargo
# The `awi` command runs the module in wasmtime and writes the annotated module it embeds.
# Point AWI at an installed binary (e.g. `make e2e-tests AWI=awi`) to skip building it; the
# annotated module is then the one that binary was built with.
AWI ?= $(CARGO) run --quiet --release --locked -p awi --

# Cargo knows what each product depends on (the sources, and for the annotated module also
# policy-metadata.yml and README.md), so make always asks it rather than guessing from
# timestamps.
.PHONY: policy.wasm annotated-policy.wasm

# The module as `cargo build` writes it, without Kubewarden's metadata.
policy.wasm:
	$(CARGO) build --target wasm32-wasip1 --release --locked
	cp target/wasm32-wasip1/release/aws_workload_identity.wasm $@

# The module Kubewarden loads: annotated with policy-metadata.yml and README.md, as
# `kwctl annotate -m metadata.yml -u README.md` would annotate it.
annotated-policy.wasm:
	$(AWI) module -o $@

# awi end to end on the annotated module with the bundled examples (e2e.bats; Debian
# package `bats`).
.PHONY: e2e-tests
e2e-tests: annotated-policy.wasm
	AWI="$(AWI)" MODULE=annotated-policy.wasm bats e2e.bats

.PHONY: test
test:
	$(CARGO) test --workspace --locked

.PHONY: fmt
fmt:
	$(CARGO) fmt --all -- --check

# Clippy natively and for wasm32-wasip1, where the waPC and WIT glue is compiled.
.PHONY: lint
lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p aws-workload-identity --target wasm32-wasip1 --target-dir target/clippy --locked -- -D warnings

.PHONY: clean
clean:
	$(CARGO) clean
	rm -f policy.wasm annotated-policy.wasm
