# The two commands of the README: `make run` and `make test`.
# Each first installs the Debian packages it needs when they are missing.

.PHONY: deps deps-build run test lint

deps-build:
	./scripts/install-deps.sh build

deps:
	./scripts/install-deps.sh all

## Run the product with its embedded default configuration.
run: deps-build
	cargo run --bin gateway -- run

## Run the whole test suite (unit, integration, end-to-end).
test: deps
	cargo test --workspace

## The gates CI adds on top of the tests.
lint: deps-build
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
