# The two commands of the README: `make run` and `make test`.
# Each first installs the Debian packages it needs when they are missing.

.PHONY: deps deps-build run install test lint lab-up lab-down

deps-build:
	./scripts/install-deps.sh build

deps:
	./scripts/install-deps.sh all

## Run the product: the desktop softphone in demo mode (the demo office's
## gateway in-process, this app registered as 201 "at home", 202 a virtual
## party). Without a display the same demo runs headless and prints the
## command that calls in.
run: deps-build
	cargo run --bin softphone -- --demo

## Install the softphone for this user: binary, .desktop entry, tel: links.
install: deps-build
	cargo build --bin softphone
	./scripts/install-desktop.sh

## Run the whole test suite (unit, integration, end-to-end).
test: deps
	cargo test --workspace

## The gates CI adds on top of the tests.
lint: deps-build
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## The home-to-company lab for QA and demos (root): the guide's Figure 1 in
## network namespaces with real NAT, port forwards and coturn. Prints how
## to run the gateway and softphones in it. LAB_ARGS e.g.
## "--home-nat symmetric" or "--impair 10,60,0.05" (40 ± 30 ms, 5 % loss).
LAB_PREFIX ?= lab-
lab-up: deps
	cargo build -q --bin gateway --bin softphone --bin netlab
	cargo run -q --bin netlab -- up --prefix $(LAB_PREFIX) $(LAB_ARGS)

## Tears the lab down: its namespaces, processes and rules.
lab-down:
	cargo run -q --bin netlab -- down --prefix $(LAB_PREFIX)
