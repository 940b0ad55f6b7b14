"""The project's own tests: no process they start outlives them, and a SHOULD violation in
one fails it.

Every process a test starts is stopped with its children: run_sandbox and the browser
server of tests/suite/test_scaling.py start theirs in a process group of their own and
stop the group; pytester's subprocesses get a group here and it is stopped at the end of
the test. At the end of the run, a process that still carries this run's token
(process_watch) fails the run and is killed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Generator, Iterator
from typing import Any
from uuid import uuid4

import pytest
from process_watch import MARKER, available, kill, survivors

from sca_conformance.failures import WARNING_MARK
from sca_sandbox.process import stop_group

# pytester drives the plugin in pytest runs of its own (tests/suite/test_plugin.py ...); kept
# out of the user-facing suite (its --lsof and --runpytest would show in its --help).
pytest_plugins = ["pytester"]

TOKEN = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not available():
        return  # xdist workers: the controller checks, after they are gone
    # A run started by another watched run (tests/test_no_leaks.py) keeps that run's token.
    token = os.environ.get(MARKER) or uuid4().hex
    os.environ[MARKER] = token
    config.stash[TOKEN] = token


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    token = session.config.stash.get(TOKEN, None)
    if token is None:
        return
    left = survivors(token, exclude={os.getpid(), os.getppid()})
    if not left:
        return
    kill(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section("processes that outlived the tests (killed now)", red=True)
        for pid, command in sorted(left.items()):
            reporter.write_line(f"{pid}: {command}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A SHOULD violation in one of the project's own tests fails it. The suite's plugin (the
    root conftest loads it for the checkout) reads a SHOULD violation as a warning, an xfail,
    which would let a test that asserts a correct page passes never fail. A test's own
    `pytest.xfail(...)` or xfail mark stays what it is."""
    report = yield
    reason = getattr(report, "wasxfail", None)
    if reason is not None and WARNING_MARK in reason and item.get_closest_marker("xfail") is None:
        del report.wasxfail
        report.outcome = "failed"
        report.longrepr = f"a SHOULD violation in the project's own test: {reason}"
    return report


@pytest.fixture
def pytester(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.Pytester]:
    """pytester, its subprocesses (runpytest_subprocess, run) each in a process group of
    their own, stopped with whatever is left of the group after the test."""
    started: list[subprocess.Popen[Any]] = []
    popen = pytester.popen

    def in_own_group(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("process_group", 0)
        process = popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(pytester, "popen", in_own_group)
    yield pytester
    for process in started:
        stop_group(process, grace=5.0)
