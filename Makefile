# The two commands of the README: `make demo` runs the product, `make test` runs every test.
# Both bootstrap a virtual environment in .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv services chromium bench wrk

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/tracker demo

# PostgreSQL is required by the test suite; start the local cluster if it is installed but down.
services:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	fi
	@# Redis holds the shared rate-limit counts in the multi-worker tests (tests/hardening).
	@command -v redis-server >/dev/null || (apt-get update && apt-get install -y redis-server)
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
	  (echo "starting Redis" && redis-server --bind 127.0.0.1 --port 6379 --daemonize yes)

# The browser tests drive Debian's chromium through Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) services chromium wrk lint
	$(BIN)/python -m pytest

# Benchmarks (README "Performance"): every benchmark on SQLite and PostgreSQL, each figure a
# ratio against a limit measured in the same run. BENCH_SIZE=quick (under a minute) or full;
# BENCH_ARGS passes more, e.g. BENCH_ARGS="--only pain_post --backends sqlite".
BENCH_SIZE ?= quick
BENCH_ARGS ?=

# wrk loads the server in the HTTP benchmarks (and in their smoke test, part of `make test`).
wrk:
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

bench: $(STAMP) services wrk
	$(BIN)/python -m benchmarks --size $(BENCH_SIZE) $(BENCH_ARGS)
