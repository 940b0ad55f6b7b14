"""The suite in pytest's own ways, with the checkout's configuration (pyproject.toml): the
cache plugin's --lf and --sw, Allure's selection by severity, and markers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"

CHECKS = """
import pytest
from sca_conformance import checks

@pytest.mark.requirement("TRIGGER-4")
def test_must_holds():
    checks.consent_is_pending({"status": "pending"})

@pytest.mark.requirement("TRIGGER-4")
def test_must_violation():
    checks.consent_is_pending({"status": "Pending"})

@pytest.mark.requirement("TRIGGER-3")
def test_should_holds():
    checks.consent_id_is_uuid({"id": "3f0c6b1e-8d7a-4c55-9a51-2b8f0e6d9c41"})
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest with the checkout's pyproject.toml, its cache in the pytester folder, and the
    plugin named (these test files are not the suites, which enable it by themselves)."""
    return pytester.runpytest_subprocess(
        "-c", str(PYPROJECT), "--rootdir", str(pytester.path), "-p", "sca_conformance.plugin",
        *args
    )


def test_last_failed_reruns_only_the_last_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    run(pytester).assert_outcomes(passed=2, failed=1)
    again = run(pytester, "--lf")
    again.assert_outcomes(failed=1)  # and nothing else ran
    again.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*"])
    first = run(pytester, "--ff", "-v")
    first.stdout.fnmatch_lines(["*::test_must_violation FAILED*", "*::test_must_holds PASSED*"])


def test_stepwise_stops_at_a_failure_and_goes_on_from_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    run(pytester, "--sw").assert_outcomes(passed=1, failed=1)  # stopped at the failure
    pytester.makepyfile(test_checks=CHECKS.replace('"Pending"', '"pending"'))
    resumed = run(pytester, "--sw")
    resumed.assert_outcomes(passed=2, deselected=1)  # from the failure on
    resumed.stdout.fnmatch_lines(["stepwise: skipping 1 already passed items*"])


def collected(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "--collect-only",
         "-q", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return {line for line in done.stdout.splitlines() if "::" in line}


def test_allure_severity_critical_selects_exactly_the_must_tests() -> None:
    """The requirement marks are Allure labels at collection time, so that allure-pytest's
    own selection works: critical is MUST."""
    must = collected("-m", "must")
    assert must and must != collected()
    assert collected("--allure-severities", "critical") == must
