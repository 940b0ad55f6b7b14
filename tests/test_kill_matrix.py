"""The suite proves itself: every named sandbox fault is caught by the tests of the
requirement it breaks, and the clean sandbox passes the whole suite (`make kill-matrix`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scripts.kill_matrix import (
    ROOT,
    Fault,
    Matrix,
    Outcome,
    Run,
    build_matrix,
    judge,
    parse_probe,
    warns,
    write_reports,
)


class MatrixSummary:
    """Prints the matrix in pytest's terminal summary, whether the test passed or not."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("kill matrix")
        for line in self.lines:
            terminalreporter.write_line(line)


def test_the_worst_phase_of_a_test_is_its_outcome(tmp_path: Path) -> None:
    probe = tmp_path / "outcomes.jsonl"
    lines = [
        {"nodeid": "a::ok", "when": "call", "outcome": "passed", "message": ""},
        {"nodeid": "a::bad", "when": "call", "outcome": "failed", "message": "MUST PAGE-1 x"},
        {"nodeid": "a::bad", "when": "teardown", "outcome": "error", "message": "boom"},
        {"nodeid": "a::warn", "when": "call", "outcome": "xfailed", "message": "SHOULD x"},
    ]
    probe.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert parse_probe(probe) == [
        Outcome("a::ok", "passed"),
        Outcome("a::bad", "failed", "MUST PAGE-1 x"),
        Outcome("a::warn", "xfailed", "SHOULD x"),
    ]


def test_a_must_fault_is_killed_only_by_a_failure_naming_its_requirement() -> None:
    fault = Fault("summary-hides-action", "PAGE-1", "")
    named = Run([], 1, 1.0, [Outcome("t", "failed", "MUST PAGE-1 violated: x")])
    other = Run([], 1, 1.0, [Outcome("t", "failed", "MUST PAGE-10 violated: x")])
    assert judge(fault, named, None).killed
    assert not judge(fault, other, None).killed


def test_a_should_fault_must_warn_by_default_and_fail_when_strict() -> None:
    fault = Fault("landing-without-status", "PAGE-5", "")
    warned = Run([], 0, 1.0, [Outcome("t", "xfailed", "SHOULD warning [AFTER-2,PAGE-5] x")])
    strict = Run([], 1, 1.0, [Outcome("t", "failed", "SHOULD PAGE-5 violated: x")])
    silent_strict = Run([], 0, 1.0, [Outcome("t", "passed")])
    assert warns("SHOULD warning [AFTER-2,PAGE-5] x", "PAGE-5")
    assert not warns("SHOULD warning [PAGE-50] x", "PAGE-5")
    assert judge(fault, warned, strict).killed
    assert not judge(fault, warned, silent_strict).killed
    assert not judge(fault, Run([], 1, 1.0, strict.outcomes), strict).killed


@pytest.fixture(scope="module")
def matrix(pytestconfig: pytest.Config) -> Matrix:
    jobs = int(os.environ.get("KILL_MATRIX_JOBS", "2"))
    out = ROOT / "reports" / "kill-matrix"
    built = build_matrix(jobs=jobs, durations_from=out.with_suffix(".json"))
    write_reports(built, out)
    # Under xdist a worker's terminal summary is never shown: there the table goes into
    # each test's report section instead (shown on failure, or with -rA).
    if not hasattr(pytestconfig, "workerinput"):
        pytestconfig.pluginmanager.register(MatrixSummary(built.table()), "kill-matrix-summary")
    return built


@pytest.fixture(autouse=True)
def _matrix_in_report(request: pytest.FixtureRequest) -> None:
    if "matrix" in request.fixturenames:
        table = request.getfixturevalue("matrix").table()
        request.node.add_report_section("call", "kill matrix", "\n".join(table))


@pytest.mark.slow
def test_the_clean_sandbox_passes_the_whole_suite(matrix: Matrix) -> None:
    assert matrix.clean is not None
    assert matrix.clean_passed, "the clean sandbox does not pass:\n" + "\n".join(
        matrix.clean_problems()
    )


@pytest.mark.slow
def test_every_fault_is_killed(matrix: Matrix) -> None:
    survivors = [f"{v.fault} ({v.requirement} {v.level}): {v.reason}" for v in matrix.survivors]
    assert not survivors, f"{len(survivors)} fault(s) survived:\n" + "\n".join(survivors)


@pytest.mark.slow
def test_must_faults_fail_the_default_run(matrix: Matrix) -> None:
    passing = [f"{v.fault} ({v.requirement})" for v in matrix.verdicts
               if v.level == "MUST" and v.runs["default"].exit_code == 0]
    assert not passing, "MUST faults the default run lets pass: " + ", ".join(passing)


@pytest.mark.slow
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
