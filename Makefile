# Depictio — the project's commands. Everything installs into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(wildcard protos/depictio/v1/*.proto)

.PHONY: install run test lint protos protos-check bench system-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py data_svc/kernels.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/depictio up

# System packages the test suite needs, installed only when missing: redis-server for the
# data service's query cache, chromium for the browser tests (driven by Playwright).
system-deps:
	@bash scripts/install-system-deps.sh redis-server chromium

test: install system-deps lint
	$(BIN)/python -m pytest tests -q --ignore=tests/bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint
	$(MAKE) --no-print-directory protos-check

protos: install
	bash scripts/gen-protos.sh depictio/v1

# Fails when the committed generated code differs from what the protos generate.
protos-check: install
	@tmp=$$(mktemp -d) && bash scripts/gen-protos.sh $$tmp/depictio/v1 >/dev/null && \
	if diff -r -q -x __pycache__ $$tmp/depictio/v1 depictio/v1; then echo "generated code is up to date"; \
	else echo "generated code is stale: run 'make protos' and commit depictio/v1"; rm -rf $$tmp; exit 1; fi; \
	rm -rf $$tmp

bench: install system-deps
	$(BIN)/python -m pytest tests/bench -q -s

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
