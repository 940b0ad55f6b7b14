# Quick start: `make conformance` (suite against the embedded sandbox + HTML report)
# and `make test` (the project's own tests). Both set up what they need first.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=
RESULTS := reports/allure-results

.PHONY: setup conformance report test bench flaky flaky-load sandbox kill-matrix lint lock clean

setup:
	@scripts/setup.sh

# The suite, then the report: what the `sca-conformance` command does (sca_conformance/cli.py).
conformance: setup
	@$(PY) -m sca_conformance.cli --results $(RESULTS) $(PYTEST_ARGS)

report: setup
	@$(PY) -m reports.build --results $(RESULTS) --out reports/html

test: setup
	@$(PY) -m pytest tests $(PYTEST_ARGS)

kill-matrix: setup
	@$(PY) -m pytest tests/test_kill_matrix.py $(PYTEST_ARGS)

bench: setup
	@$(PY) -m scripts.bench $(BENCH_ARGS)

flaky: setup
	@$(PY) -m scripts.flaky --runs 10

# The browser tests 10 times with both cores kept busy by a bounded load generator.
flaky-load: setup
	@$(PY) -m scripts.flaky --runs 10 --load 2 --workers 1 -m browser

sandbox: setup
	@$(PY) -m sca_sandbox --host 127.0.0.1 --port 8000 --db sandbox.db --public-url http://localhost:8000

lint: setup
	@$(PY) -m ruff check . && $(PY) -m mypy

# Renew requirements/dev.txt (exact versions and hashes, for development and CI) from the
# ranges in pyproject.toml; `uv` is fetched into the virtual environment for this.
lock: setup
	@$(PY) -m pip install --quiet uv
	@$(PY) -m uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	  --python-version 3.11 --no-emit-package sca-conformance \
	  --custom-compile-command "make lock" -o requirements/dev.txt

clean:
	rm -rf reports/allure-results reports/html reports/allure-report reports/history test-results
