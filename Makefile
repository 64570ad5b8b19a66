# The two commands of README.md, and the pieces they are made of.
# Each target installs what it needs (.venv at the root, node_modules via npm ci)
# and reuses it while pyproject.toml and package-lock.json are unchanged.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` / `make pytest` (one per core by default); tests that
# share a module (or a listed directory) run on one worker (tests/conftest.py).
PYTEST_WORKERS ?= auto

.PHONY: run test lint pytest deps bench clean

run: deps
	$(BIN)/carbonledger up --demo

# Prints the ten slowest tests and the total time (lint included).
test: deps
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory lint pytest || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in all, exit $$status"; \
	exit $$status

pytest: deps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --durations=10 $(PYTEST_ARGS)

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: deps
	$(BIN)/python scripts/bench

deps: $(VENV)/.installed node_modules/.installed

# Two distributions, both editable: carbon-verify (the verifier and ledger/core,
# packaging/carbon-verify) and carbonledger (the rest), which depends on it; one pip run so
# the dependency resolves to this checkout, never to an index.
$(VENV)/.installed: pyproject.toml packaging/carbon-verify/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q \
		-e ./packaging/carbon-verify -e '.[dev]'
	@# Upgrading a checkout from one distribution to two: uninstalling the old carbonledger
	@# takes the carbon-verify script with it; put it back.
	test -x $(BIN)/carbon-verify || $(BIN)/python -m pip install --disable-pip-version-check \
		-q --no-deps --force-reinstall -e ./packaging/carbon-verify
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
