"""The requirement coverage matrix, built where every report arrives (the controller under
xdist): one line in the terminal summary (the whole table with ``-v`` or ``--sca-matrix``),
the run's verdict as its last line and its exit code, and the matrix files beside the results
(coverage-matrix.md/.json, requirements.html)."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from collections import defaultdict
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

import pytest

from sca_conformance.config import SETTINGS
from sca_conformance.plugin.selection import is_selection, requirement_ids
from sca_conformance.publish.matrix import REQUIREMENTS_PAGE, matrix_html, matrix_markdown
from sca_conformance.requirements import registry
from sca_conformance.verdict import (
    EXIT_CODES,
    Kind,
    Matrix,
    RunVerdict,
    Standing,
    of_report,
)

# A run that cannot test its target at all ------------------------------------------


class TargetUnusable(pytest.exit.Exception):  # type: ignore[misc,name-defined]
    """The target cannot be tested at all: the run stops with one sentence, its verdict."""


def unusable(config: pytest.Config, reason: str) -> NoReturn:
    config.stash[MATRIX].unusable = reason
    raise TargetUnusable(reason, returncode=EXIT_CODES[RunVerdict.TARGET_UNUSABLE])


# Under xdist a worker cannot end the run (its pytest.exit is a crash to the controller): the
# report of the test that found the target unusable carries the sentence to the verdict.
UNUSABLE_PROPERTY = "sca_target_unusable"


# What the run's API clients cost the target ------------------------------------------


@dataclass
class Traffic:
    """What the API clients of a test, or of a run, cost the target: logins, refreshes, and
    the rate limits waited out."""

    logins: int = 0  # on the worker's shared sessions: at most one per key and worker
    own_logins: int = 0  # on sessions of a test's own (it moves the clock)
    refreshes: int = 0
    waits: int = 0
    wait_seconds: float = 0.0

    def add(self, other: Traffic) -> None:
        self.logins += other.logins
        self.own_logins += other.own_logins
        self.refreshes += other.refreshes
        self.waits += other.waits
        self.wait_seconds += other.wait_seconds

    def sentence(self) -> str:
        own = (f" (and {self.own_logins} by tests moving the clock, each on a session of its "
               "own)" if self.own_logins else "")
        return (f"logins: {self.logins}{own}, refreshes: {self.refreshes}, rate-limit waits: "
                f"{self.waits}, total {self.wait_seconds:.1f} s")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "wait_seconds": round(self.wait_seconds, 1)}


TRAFFIC = pytest.StashKey[Traffic]()
TRAFFIC_PROPERTY = "sca_api_traffic"  # a test's Traffic, on its teardown report (also via xdist)


# The coverage matrix, built where every report arrives (the controller under xdist) --------


class CoverageMatrix(Matrix):
    """The run's verdict model, registered as a plugin object: every test report of the run
    passes through it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.collected: dict[str, list[str]] = defaultdict(list)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == UNUSABLE_PROPERTY and not self.unusable:
                self.unusable = str(value)
        verdict = of_report(report)
        if verdict is not None:
            self.add(verdict)


MATRIX = pytest.StashKey[CoverageMatrix]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--coverage-matrix", default="", metavar="DIR",
        help="write coverage-matrix.md/.json into DIR too (always into --alluredir, if given)",
    )
    group.addoption(
        "--sca-exploratory", action="store_true", default=False,
        help="an exploratory run: MUST requirements left untested do not make it INCOMPLETE "
        "(exit 0 unless a MUST is violated)",
    )
    group.addoption(
        "--sca-matrix", action="store_true", default=False,
        help="print the whole requirement matrix at the end (also with -v)",
    )


def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash.get(SETTINGS, None)
    matrix = CoverageMatrix(
        selection=is_selection(config), strict=bool(settings and settings.strict),
        accepted=settings.profile.verdict.accept_untested if settings else {},
        known=settings.profile.verdict.known_violations if settings else {},
    )
    config.stash[MATRIX] = matrix
    config.pluginmanager.register(matrix, "sca-coverage-matrix")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The requirement-to-tests matrix of what was selected (printed by --collect-only)."""
    matrix = session.config.stash[MATRIX]
    for item in session.items:
        for requirement_id in requirement_ids(item):
            matrix.collected[requirement_id].append(item.nodeid)


def _judged(config: pytest.Config) -> bool:
    """Whether this run has a verdict to give: tests that prove requirements ran, or the
    target could not be tested at all."""
    matrix = config.stash[MATRIX]
    return bool(matrix.unusable) or any(t.requirements for t in matrix.tests.values())


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    if hasattr(config, "workerinput"):
        return
    matrix = config.stash[MATRIX]
    write = terminalreporter.write_line
    if config.option.collectonly:
        if matrix.collected:
            terminalreporter.section("requirement -> tests (collected, nothing run)")
            for requirement_id, req in registry().items():
                tests = matrix.collected.get(requirement_id, [])
                write(f"{requirement_id:<11} {req.level:<6} "
                      f"{len(tests) if tests else 'not selected':>3} {'test(s)' if tests else ''}")
        return
    if not _judged(config):
        return
    failed = [t for t in matrix.tests.values()
              if t.kind in (Kind.VIOLATED, Kind.NOT_PREPARED, Kind.SUITE_ERROR)]
    if failed:
        terminalreporter.section("verdicts of the failures")
        labels = {Kind.VIOLATED: "requirement violated (named in the message)",
                  Kind.NOT_PREPARED: "target could not be prepared (a call the test needed)",
                  Kind.SUITE_ERROR: "SUITE ERRORS: unattributed, a defect of the suite"}
        for kind, label in labels.items():
            count = sum(t.kind is kind for t in failed)
            if count:
                write(f"{count:>4} {label}")
        for test in matrix.suite_errors():
            write(f"  suite error: {test.nodeid}: {test.reason}")
    warned = [t for t in matrix.tests.values() if t.kind is Kind.WARNED]
    if warned:
        terminalreporter.section("SHOULD warnings (--sca-strict makes them fail)")
        for test in warned:
            write(f"{','.join(test.named)}: {test.nodeid}")
            write(f"    {test.reason}")
    rows = matrix.rows()
    listed = [r for r in rows if r.standing in (Standing.KNOWN, Standing.STALE)]
    if listed:
        terminalreporter.section("known violations (the profile's [verdict] known_violations)")
        for row in listed:
            what = ("passed: remove it from the profile" if row.standing is Standing.STALE
                    else "violated, known: not counted")
            write(f"{row.id} ({matrix.known[row.id]}): {what}")
            for nodeid, did in row.tests.items():
                write(f"    {nodeid} {did}")
    if config.getoption("--sca-matrix") or config.getoption("verbose") > 0:
        terminalreporter.section("requirement matrix")
        for row in rows:
            reason = f"  ({row.reason[:120]})" if row.reason else ""
            write(f"{row.id:<11} {row.level:<6} {row.standing!s:<17} "
                  f"{len(row.tests):>3} test(s){reason}")
    counts = ", ".join(f"{number} {standing}" for standing, number in matrix.counts().items())
    write(f"requirements: {counts}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not _judged(config):
        return
    matrix = config.stash[MATRIX]
    results_dir = config.getoption("--alluredir", None)
    # Inside the results folder (the report's builder reads it there) and where the option
    # says; nowhere else.
    chosen = {Path(folder).absolute() for folder in (
        config.getoption("--coverage-matrix", ""), results_dir) if folder}

    summary = {**matrix.as_json(), "exit_code": _exit_code(config, matrix),
               "api_traffic": config.stash[TRAFFIC].as_json()}
    for out in chosen:
        out.mkdir(parents=True, exist_ok=True)
        (out / "coverage-matrix.json").write_text(json.dumps(summary, indent=2))
        (out / "coverage-matrix.md").write_text(matrix_markdown(matrix))
    if results_dir:
        write_allure_extras(config, Path(results_dir), matrix)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or matrix.unusable:
        session.exitstatus = _exit_code(config, matrix)


def _exit_code(config: pytest.Config, matrix: Matrix) -> int:
    verdict = matrix.verdict()
    if verdict is RunVerdict.INCOMPLETE and config.getoption("--sca-exploratory"):
        return EXIT_CODES[RunVerdict.CONFORMANT]
    return EXIT_CODES[verdict]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The verdict, the run's last line (after pytest's own count of tests)."""
    if hasattr(config, "workerinput") or MATRIX not in config.stash or not _judged(config):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    matrix = config.stash[MATRIX]
    exploratory = config.getoption("--sca-exploratory") and (
        matrix.verdict() is RunVerdict.INCOMPLETE)
    colour = {RunVerdict.CONFORMANT: {"green": True}, RunVerdict.INCOMPLETE: {"yellow": True}}
    reporter.write_line(matrix.sentence() + (" (exploratory run: exit 0)" if exploratory else ""),
                        bold=True, **colour.get(matrix.verdict(), {"red": True}))


def write_allure_extras(config: pytest.Config, results: Path, matrix: Matrix) -> None:
    from sca_conformance.publish import allure_meta as meta

    results.mkdir(parents=True, exist_ok=True)
    settings = config.stash.get(SETTINGS, None)
    meta.write_environment(results, {"Verdict": matrix.sentence(),
                                     **environment(config, settings)})
    meta.write_categories(results)
    meta.write_executor(results)
    meta.mark_warnings(results)
    (results / REQUIREMENTS_PAGE).write_text(matrix_html(matrix), encoding="utf-8")


def environment(config: pytest.Config, settings: Any) -> dict[str, str]:
    from sca_conformance.chromium import chromium_executable

    executable = chromium_executable()
    browser = "Chromium (Playwright's own)"
    if config.getoption("--browser-ws-endpoint", ""):
        browser = f"remote: {config.getoption('--browser-ws-endpoint')}"
    elif executable and shutil.which(executable):
        version = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, check=False
        )
        browser = version.stdout.strip() or executable
    faults = config.getoption("--sandbox-fault", [])
    return {
        "Target": settings.described_target if settings else "embedded sandbox",
        "Target profile": settings.profile.name if settings else "sandbox",
        "sca-conformance": metadata.version("sca-conformance"),  # the suite and the sandbox
        "Sandbox faults": ",".join(faults) or "none",
        "Browser": browser,
        "Browser device": (settings.device if settings and settings.device else "desktop"),
        "Python": platform.python_version(),
        "Playwright": metadata.version("playwright"),
        "Strict mode": str(bool(settings and settings.strict)).lower(),
        "Network": ("; ".join(settings.network.describe()) if settings else "")
        or "the system's trust store, no proxy",
    }
