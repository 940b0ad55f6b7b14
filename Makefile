# Quick start: `make conformance` (suite against the embedded sandbox + HTML report)
# and `make test` (the project's own tests). Both set up what they need first.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST_ARGS ?=
RESULTS := reports/allure-results

.PHONY: setup conformance report test bench flaky sandbox kill-matrix lint clean

setup:
	@scripts/setup.sh

conformance: setup
	@rm -rf $(RESULTS) test-results
	@$(PY) -m pytest suites --alluredir=$(RESULTS) $(PYTEST_ARGS); status=$$?; \
	  $(PY) -m reports.build --results $(RESULTS) --out reports/html || exit $$?; \
	  exit $$status

report: setup
	@$(PY) -m reports.build --results $(RESULTS) --out reports/html

test: setup
	@$(PY) -m pytest tests $(PYTEST_ARGS)

kill-matrix: setup
	@$(PY) -m pytest tests/test_kill_matrix.py $(PYTEST_ARGS)

bench: setup
	@$(PY) -m scripts.bench

flaky: setup
	@$(PY) -m scripts.flaky --runs 10

sandbox: setup
	@$(PY) -m sca_sandbox --host 127.0.0.1 --port 8000 --db sandbox.db --public-url http://localhost:8000

lint: setup
	@$(PY) -m ruff check . && $(PY) -m mypy

clean:
	rm -rf reports/allure-results reports/html reports/allure-report reports/history test-results
