"""The suite proves itself: every named sandbox fault is caught by the tests of the
requirement it breaks, every failure names a requirement, a broken target gets its verdict
about as fast as a correct one, and the clean sandbox passes the whole suite - for the
embedded sandbox's default dialect (every fault) and its nordic dialect (a sample covering
every contract section). `make kill-matrix`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sca_conformance.verdict import Kind, TestVerdict, parse_message
from scripts.kill_matrix import (
    EXCESS_BOUND,
    ROOT,
    SECTIONS,
    SLOW_FAILURES,
    Fault,
    Matrix,
    Outcome,
    Run,
    build_matrix,
    judge,
    list_faults,
    parse_probe,
    read_probe,
    reference_seconds,
    sample,
    warns,
    write_reports,
)

# dialect -> (profile, report path): the default dialect runs every fault, the nordic one
# the sample (per section the first MUST and the first SHOULD fault) and the faults whose
# failure used to be noticed only by waiting (its pages render later, from JSON).
DIALECTS = {
    "default": (None, ROOT / "reports" / "kill-matrix"),
    "nordic": (ROOT / "profiles" / "sandbox-nordic.toml",
               ROOT / "reports" / "kill-matrix-sandbox-nordic"),
}


class MatrixSummary:
    """Prints the matrix in pytest's terminal summary, whether the test passed or not."""

    def __init__(self, title: str, lines: list[str]) -> None:
        self.title = title
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section(self.title)
        for line in self.lines:
            terminalreporter.write_line(line)


# The verdict rules, on made-up runs -----------------------------------------------------


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


def test_a_tests_own_time_leaves_out_the_start_up_and_teardown_it_paid_for(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "outcomes.jsonl"
    lines = [
        {"fixture": "session:embedded_sandbox", "seconds": 2.0},
        {"nodeid": "a::one", "when": "setup", "outcome": "passed", "message": "",
         "seconds": 2.5},
        {"nodeid": "a::one", "when": "call", "outcome": "passed", "message": "", "seconds": 1.0},
        {"fixture": "session:browser", "seconds": 1.5},
        {"nodeid": "a::two", "when": "setup", "outcome": "passed", "message": "",
         "seconds": 1.75},
        {"nodeid": "a::two", "when": "call", "outcome": "failed", "message": "x",
         "seconds": 0.5},
        {"nodeid": "a::two", "when": "teardown", "outcome": "passed", "message": "",
         "seconds": 3.0, "last": True},
    ]
    probe.write_text("".join(json.dumps(line) + "\n" for line in lines))

    outcomes, fixtures = read_probe(probe)

    assert outcomes == [Outcome("a::one", "passed", "", 1.5),
                        Outcome("a::two", "failed", "x", 0.75)]
    assert fixtures == {"session:embedded_sandbox": 2.0, "session:browser": 1.5}
    run = Run([], 1, 10.0, outcomes, fixtures=fixtures)
    assert run.fixed_seconds == pytest.approx(10.0 - 2.25 - 3.5)


def test_the_clean_reference_is_the_same_tests_and_start_up_in_the_clean_run() -> None:
    clean = Run([], 0, 20.0, [Outcome("a", "passed", "", 1.0), Outcome("b", "passed", "", 4.0),
                              Outcome("c", "passed", "", 10.0)],
                fixtures={"session:sandbox": 2.0, "session:browser": 1.0})
    api_only = Run([], 1, 6.0, [Outcome("a", "failed", "MUST X-1 violated: x", 3.0)],
                   fixtures={"session:sandbox": 2.5})

    # fixed 20 - 15 - 3 = 2, the sandbox's start 2, test a 1: the browser was not needed
    assert reference_seconds(api_only, clean) == pytest.approx(5.0)
    assert reference_seconds(api_only, None) is None


def test_a_failure_is_attributed_only_when_it_names_a_requirement_first() -> None:
    """Read with the suite's own verdict model (sca_conformance.verdict), the same one the
    terminal summary and the coverage matrix use."""
    def attributed(message: str) -> bool:
        return parse_message(message)[0] in (Kind.VIOLATED, Kind.WARNED)

    assert attributed("sca_conformance.failures.RequirementViolation: MUST PAGE-4 "
                      "violated: the browser ended on http://127.0.0.1:1/")
    assert attributed("AssertionError: SHOULD AFTER-2 violated: x")
    assert attributed("SHOULD warning [AFTER-2,PAGE-5] SHOULD PAGE-5 violated: x")
    assert not attributed("TimeoutError")
    assert not attributed("KeyError: 'consent'")
    assert not attributed("AssertionError: expected 200 (MUST PAGE-4 violated: x)")
    assert not attributed("AssertionError: MUST PAGE-99 violated: no such requirement")


def test_the_probes_verdict_decides_over_the_message() -> None:
    """A test whose verdict the suite recorded is judged by it, whatever its text says."""
    said = TestVerdict("t", ("PAGE-4",), Kind.VIOLATED, ("PAGE-4",), "MUST", completed=False)
    quiet = Outcome("t", "failed", "something else entirely", verdict=said)
    error = Outcome("u", "failed", "MUST PAGE-4 violated: x",
                    verdict=TestVerdict("u", (), Kind.SUITE_ERROR, completed=False))
    run = Run([], 1, 1.0, [quiet, error])
    assert run.unattributed() == [error]
    assert judge(Fault("landing-on-other-port", "PAGE-4", ""), Run([], 1, 1.0, [quiet]),
                 None).killed


def test_a_must_fault_is_killed_only_by_a_failure_naming_its_requirement() -> None:
    fault = Fault("summary-hides-action", "PAGE-1", "")
    named = Run([], 1, 1.0, [Outcome("t", "failed", "MUST PAGE-1 violated: x")])
    other = Run([], 1, 1.0, [Outcome("t", "failed", "MUST PAGE-10 violated: x")])
    assert judge(fault, named, None).killed
    assert not judge(fault, other, None).killed


def test_a_must_fault_is_killed_only_without_suite_errors_and_waits_into_timeouts() -> None:
    fault = Fault("landing-on-other-port", "PAGE-4", "")
    clean = Run([], 0, 10.0, [Outcome("t", "passed", "", 2.0), Outcome("u", "passed", "", 2.0)])
    caught = Outcome("t", "failed", "RequirementViolation: MUST PAGE-4 violated: x", 2.0)
    timeout = Outcome("u", "failed", "TimeoutError", 12.0)

    fast = judge(fault, Run([], 2, 8.0, [caught]), None, clean)
    with_error = judge(fault, Run([], 1, 10.0, [caught, Outcome("u", "error", "KeyError")]),
                       None, clean)
    slow = judge(fault, Run([], 2, 22.0, [caught, timeout]), None, clean)
    # A slow machine: the wall ratio is high, but no test waited into a timeout.
    loaded = judge(fault, Run([], 2, 25.0, [Outcome("t", "failed", caught.message, 4.5)]),
                   None, clean)

    assert fast.killed and fast.ratio == pytest.approx(1.0) and fast.unattributed == 0
    assert with_error.detected and with_error.named and with_error.unattributed == 1
    assert not with_error.killed
    assert slow.detected and slow.unattributed == 1 and slow.ratio == pytest.approx(22 / 10)
    assert not slow.killed and "a wait ran into its timeout" in slow.reason
    assert slow.excess == ("u", 10.0)  # the test that waited into its timeout
    assert loaded.killed and loaded.ratio > 2 and loaded.excesses == [2.5]
    assert EXCESS_BOUND == 3.0  # the control wait
    # measured again beside a clean run of the same tests: the lower excess counts
    late = Run([], 2, 22.0, [Outcome("t", "failed", caught.message, 6.0)])
    noisy = judge(fault, late, None, clean, again=1.1)
    still_slow = judge(fault, late, None, clean, again=3.9)
    assert noisy.killed and noisy.excesses == [4.0, 1.1]
    assert not still_slow.killed
    tolerated = judge(fault, late, None, clean, excess_bound=5.0)
    assert tolerated.killed
    stopped = judge(fault, Run([], 4, 1.0, [caught]), None, clean)  # a usage error
    assert not stopped.killed and stopped.unattributed == 1
    incomplete = judge(fault, Run([], 10, 1.0, [caught]), None, clean)  # a verdict, no crash
    assert incomplete.unattributed == 0


def test_a_should_fault_must_warn_by_default_and_fail_when_strict() -> None:
    fault = Fault("landing-without-status", "PAGE-5", "")
    warned = Run([], 0, 1.0, [Outcome("t", "xfailed", "SHOULD warning [AFTER-2,PAGE-5] x")])
    strict = Run([], 1, 1.0, [Outcome("t", "failed", "SHOULD PAGE-5 violated: x")])
    silent_strict = Run([], 0, 1.0, [Outcome("t", "passed")])
    assert warns(Outcome("t", "xfailed", "SHOULD warning [AFTER-2,PAGE-5] x"), "PAGE-5")
    assert not warns(Outcome("t", "xfailed", "SHOULD warning [PAGE-50] x"), "PAGE-5")
    assert judge(fault, warned, strict).killed
    assert not judge(fault, warned, silent_strict).killed
    assert not judge(fault, Run([], 1, 1.0, strict.outcomes), strict).killed


def test_the_sample_covers_every_section_at_both_levels() -> None:
    faults = list_faults()
    chosen = sample(faults)

    assert {(f.section, f.level) for f in chosen} == {(f.section, f.level) for f in faults}
    assert {f.section for f in chosen} == set(SECTIONS)
    assert len(chosen) <= 2 * len(SECTIONS)


# The matrices ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(DIALECTS))
def matrix(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Matrix:
    profile, out = DIALECTS[request.param]
    jobs = int(os.environ.get("KILL_MATRIX_JOBS", "2"))
    if profile is None:
        faults = None
    else:
        listed = list_faults()
        chosen = {f.name for f in sample(listed)} | set(SLOW_FAILURES)
        faults = [f for f in listed if f.name in chosen]
    bound = float(os.environ.get("KILL_MATRIX_EXCESS_BOUND", EXCESS_BOUND))
    built = build_matrix(faults, jobs=jobs, target=profile, excess_bound=bound,
                         durations_from=out.with_suffix(".json"))
    write_reports(built, out)
    # Under xdist a worker's terminal summary is never shown: there the table goes into
    # each test's report section instead (shown on failure, or with -rA).
    if not hasattr(pytestconfig, "workerinput"):
        pytestconfig.pluginmanager.register(
            MatrixSummary(f"kill matrix ({request.param} dialect)", built.table()),
            f"kill-matrix-summary-{request.param}",
        )
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
def test_no_fault_makes_a_test_fail_without_naming_a_requirement(matrix: Matrix) -> None:
    errors = [f"{v.fault} ({v.requirement}): {v.reason}" for v in matrix.verdicts
              if v.unattributed]
    assert not errors, f"{len(errors)} fault(s) with unattributed failures:\n" + "\n".join(
        errors
    )


@pytest.mark.slow
def test_a_broken_target_gets_its_verdict_about_as_fast_as_a_correct_one(
    matrix: Matrix,
) -> None:
    """No test of a fault's run waits into a timeout: none runs the control wait or more
    over its clean time (the wall ratio is printed beside, as information)."""
    slow = [f"{v.fault} ({v.requirement}): {v.excess[0] if v.excess else ''} "
            f"{'/'.join(f'{e:+.1f}' for e in v.excesses)} s" for v in matrix.verdicts
            if v.excesses and min(v.excesses) >= matrix.excess_bound]
    assert not slow, (f"fault runs with a test {matrix.excess_bound:g} s or more over its "
                      "clean time:\n" + "\n".join(slow))


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
        warned = any(warns(o, v.requirement) for o in default.with_outcome("xfailed"))
        if default.exit_code != 0 or not warned or strict.exit_code == 0:
            wrong.append(f"{v.fault} ({v.requirement}): default exit {default.exit_code}, "
                         f"warned {warned}, strict exit {strict.exit_code}")
    assert not wrong, "SHOULD faults not warning by default or passing strict:\n" + "\n".join(
        wrong
    )
