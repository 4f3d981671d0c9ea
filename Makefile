# Two commands matter on a fresh machine: `make demo` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: demo test lint fmt bench doc clean

## Runs the course's taxi rides through the example pipeline and prints what comes out.
demo:
	$(CARGO) run --quiet -p streams-examples --bin demo

## Format check, clippy (warnings are errors), then every unit, integration and doc test.
test: lint
	$(CARGO) test --workspace

lint:
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "rustfmt is missing: rustup component add rustfmt"; exit 1; }
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "clippy is missing: rustup component add clippy"; exit 1; }
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Criterion benchmarks (results: target/criterion, summary in docs/benchmarks.md).
bench:
	$(CARGO) bench -p streams-core

doc:
	$(CARGO) doc --workspace --no-deps

clean:
	$(CARGO) clean
