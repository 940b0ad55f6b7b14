# Quick start: `make conformance` (suite against the embedded sandbox + HTML report),
# `make check` (the quick loop: lint and the project's fast tests) and `make test` (all of the
# project's tests). Each sets up what it needs first (scripts/setup.sh: `runtime` for the
# suite, `dev` for the rest).
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=
RESULTS := reports/allure-results

# The quick loop's tests: all but the kill matrix, the wheel's install test and the `slow` ones.
CHECK_TESTS := tests -m "not slow" --ignore tests/test_kill_matrix.py --ignore tests/test_install.py

.PHONY: setup setup-runtime conformance report check test bench flaky flaky-load sandbox \
	kill-matrix lint lock clean

# Development: requirements/dev.txt, the browser, Java, the Allure 2 generator, actionlint.
setup:
	@scripts/setup.sh dev

# Running the suite: requirements/runtime.txt only (a development venv already has it).
setup-runtime:
	@scripts/setup.sh runtime

# The suite, then the report: what the `sca-conformance` command does (sca_conformance/cli.py).
conformance: setup-runtime
	@$(PY) -m sca_conformance.cli run --output reports -- $(PYTEST_ARGS)

report: setup-runtime
	@$(PY) -m sca_conformance.publish.builder --results $(RESULTS) --out reports/html

# A few minutes: ruff, mypy, then the fast tests on two workers. `make test` is the whole proof.
check: setup
	@$(PY) -m ruff check . && $(PY) -m mypy
	@$(PY) -m pytest $(CHECK_TESTS) -n 2 $(PYTEST_ARGS)

test: setup
	@$(PY) -m pytest tests --durations=15 $(PYTEST_ARGS)

kill-matrix: setup
	@$(PY) -m pytest tests/test_kill_matrix.py $(PYTEST_ARGS)

bench: setup
	@$(PY) -m scripts.bench $(BENCH_ARGS)

flaky: setup
	@$(PY) -m scripts.flaky --runs 10

# The browser tests 10 times with both cores kept busy by a bounded load generator.
flaky-load: setup
	@$(PY) -m scripts.flaky --runs 10 --load 2 --workers 1 -m browser

sandbox: setup-runtime
	@$(PY) -m sca_sandbox --host 127.0.0.1 --port 8000 --db sandbox.db --public-url http://localhost:8000

lint: setup
	@$(PY) -m ruff check . && $(PY) -m mypy

# Renew the locks (exact versions and hashes, for every platform and Python 3.11 on) from the
# ranges in pyproject.toml: requirements/runtime.txt (the package and its [sandbox] and
# [report] extras: what `sca-conformance` needs), then requirements/dev.txt (everything, the
# runtime packages held at runtime.txt's versions). Versions already locked are kept while the
# ranges allow them; `make lock LOCK_ARGS=--upgrade` takes the newest. `uv` is fetched into the
# virtual environment for this.
LOCK_ARGS ?=
UV_COMPILE = $(PY) -m uv pip compile --quiet pyproject.toml --generate-hashes --universal \
	--python-version 3.11 --no-emit-package sca-conformance --custom-compile-command "make lock"

lock: setup
	@$(PY) -m pip install --quiet uv
	@$(UV_COMPILE) $(LOCK_ARGS) --extra sandbox --extra report -o requirements/runtime.txt
	@$(UV_COMPILE) $(LOCK_ARGS) --extra dev -c requirements/runtime.txt -o requirements/dev.txt

clean:
	rm -rf reports/allure-results reports/html reports/allure-report reports/history test-results
