"""The suite proves itself: every named sandbox fault is caught by the tests of the
requirement it breaks, and the clean sandbox passes the whole suite (`make kill-matrix`)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from scripts.kill_matrix import ROOT, Matrix, build_matrix, warns, write_reports

pytestmark = pytest.mark.slow


class MatrixSummary:
    """Prints the matrix in pytest's terminal summary, whether the test passed or not."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("kill matrix")
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def matrix(pytestconfig: pytest.Config) -> Matrix:
    jobs = int(os.environ.get("KILL_MATRIX_JOBS", "2"))
    out = ROOT / "reports" / "kill-matrix"
    built = build_matrix(jobs=jobs, durations_from=out.with_suffix(".json"))
    write_reports(built, out)
    lines = built.table()
    if pytestconfig.pluginmanager.get_plugin("terminalreporter") is not None:
        pytestconfig.pluginmanager.register(MatrixSummary(lines), "kill-matrix-summary")
    return built


def test_the_clean_sandbox_passes_the_whole_suite(matrix: Matrix) -> None:
    assert matrix.clean is not None
    assert matrix.clean_passed, "the clean sandbox does not pass:\n" + "\n".join(
        matrix.clean_problems()
    )


def test_every_fault_is_killed(matrix: Matrix) -> None:
    survivors = [f"{v.fault} ({v.requirement} {v.level}): {v.reason}" for v in matrix.survivors]
    assert not survivors, f"{len(survivors)} fault(s) survived:\n" + "\n".join(survivors)


def test_must_faults_fail_the_default_run(matrix: Matrix) -> None:
    passing = [f"{v.fault} ({v.requirement})" for v in matrix.verdicts
               if v.level == "MUST" and v.runs["default"].exit_code == 0]
    assert not passing, "MUST faults the default run lets pass: " + ", ".join(passing)


def test_should_faults_warn_by_default_and_fail_in_strict_mode(matrix: Matrix) -> None:
    wrong = []
    for v in (v for v in matrix.verdicts if v.level == "SHOULD"):
        default, strict = v.runs["default"], v.runs["strict"]
        warned = any(warns(o.message, v.requirement) for o in default.with_outcome("xfailed"))
        if default.exit_code != 0 or not warned or strict.exit_code == 0:
            wrong.append(f"{v.fault} ({v.requirement}): default exit {default.exit_code}, "
                         f"warned {warned}, strict exit {strict.exit_code}")
    assert not wrong, "SHOULD faults not warning by default or passing strict:\n" + "\n".join(
        wrong
    )
