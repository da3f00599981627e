# The two commands of the README: `make demo` runs the product, `make test` runs every test.
# Both bootstrap a virtual environment in .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv services chromium bench wrk translations

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

# Two pytest workers (pytest-xdist): this machine has two cores, and each worker gets its
# own databases. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

test: $(STAMP) services chromium wrk lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

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

# The message catalogues (tracker/core/languages.py): extract every wrapped string into the
# template, merge it into each language's .po (created the first time), compile the .mo.
# The compiled .mo is committed, so `make venv`, `make test` and `make demo` never need this.
# The merge keeps the "#. reviewed: no" marks of clinical text (pybabel update would drop
# them: it takes "#." comments from the template), and keeps entries whose string is not
# wrapped yet as obsolete ones ("#~"), so nobody's translation is lost.
POT := tracker/translations/messages.pot
TRANSLATION_LANGUAGES := es

define MERGE_CATALOGUES
import sys
from pathlib import Path
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
root = Path("tracker/translations")
with (root / "messages.pot").open("rb") as f:
    template = read_po(f)
if len(template) < 10:
    sys.exit(f"only {len(template)} messages extracted: check babel.cfg; nothing merged")
for lang in sys.argv[1:]:
    path = root / lang / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=lang, project="recovery-tracker", fuzzy=False)
    # Entries not wrapped in the code (yet) are obsolete; they come back when they are.
    for m in list(catalog.obsolete.values()):
        if m.id not in catalog:
            catalog[m.id] = m
    catalog.obsolete.clear()
    marks = {m.id: [c for c in m.auto_comments if c.startswith("reviewed:")] for m in catalog}
    catalog.update(
        template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False
    )
    for m in [*catalog, *catalog.obsolete.values()]:
        keep = marks.get(m.id) or []
        m.auto_comments = [c for c in m.auto_comments if not c.startswith("reviewed:")] + keep
    with path.open("wb") as f:
        write_po(f, catalog, width=100, no_location=True, sort_output=True)
endef
export MERGE_CATALOGUES

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy_gettext \
	  -k _l -k pgettext:1c,2 -k N_ --no-location --sort-output --omit-header -o $(POT) tracker
	$(BIN)/python -c "$$MERGE_CATALOGUES" $(TRANSLATION_LANGUAGES)
	$(BIN)/pybabel compile --statistics -d tracker/translations
