"""The verdict claims only what was tested, on the real suite against real faults: one
broken control violates its requirement and leaves the others it blocks "not proved", and
a landing in the wrong place is PAGE-4 in every test, whatever step the test was in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_with_fault(tmp_path: Path, fault: str, *args: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "verdict"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q",
         "-n", "2", "--sandbox-fault", fault, "--coverage-matrix", str(out),
         "--output", str(tmp_path / "results"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    summary = json.loads((out / "coverage-matrix.json").read_text(encoding="utf-8"))
    return run.returncode, summary, run.stdout


def rows(summary: dict[str, Any], verdict: str) -> dict[str, str]:
    return {row["id"]: row["reason"] for row in summary["requirements"]
            if row["verdict"] == verdict}


def test_a_missing_decline_violates_page_6_only(tmp_path: Path) -> None:
    code, summary, stdout = run_with_fault(tmp_path, "decline-button-missing")
    assert code == 1 and summary["verdict"] == "NON-CONFORMANT", stdout[-3000:]
    assert list(rows(summary, "violated")) == ["PAGE-6"]
    blocked = rows(summary, "not proved")
    assert blocked, "the requirements of the decline tests are not proved"
    assert all(reason == "blocked by PAGE-6" for reason in blocked.values()), blocked
    assert "AFTER-1" in blocked and "PAGE-9" in blocked


def test_a_landing_on_another_port_is_page_4_in_every_test(tmp_path: Path) -> None:
    code, summary, stdout = run_with_fault(tmp_path, "landing-on-other-port", "-m", "browser")
    assert code == 1, stdout[-3000:]
    assert list(rows(summary, "violated")) == ["PAGE-4"]
    failing = [test for test in summary["tests"] if test["kind"] == "violated"]
    assert len(failing) > 10
    assert {tuple(test["named"]) for test in failing} == {("PAGE-4",)}
