"""No process outlives a run: the suite's (embedded sandbox, browsers, xdist workers) and
the project's tests that start processes (sandboxes, a Playwright browser server, nested
suite runs). Each run here is watched (process_watch): its processes carry a token in
their environment, and none may still be alive once the run has ended."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from process_watch import MARKER, available, carriers, kill, survivors

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not available(), reason="needs /proc (Linux)"),
]
ROOT = Path(__file__).resolve().parent.parent


def watched(*args: str, output: Path) -> tuple[subprocess.CompletedProcess[str], dict[int, str]]:
    """pytest with `args` from the checkout, then what of it is still alive (killed)."""
    token = uuid4().hex
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--output={output}",
         *args],
        cwd=ROOT, env={**os.environ, MARKER: token}, capture_output=True, text=True,
        timeout=900, check=False,
    )
    left = survivors(token)
    kill(left)
    return run, left


def test_the_watch_sees_an_orphaned_grandchild() -> None:
    """Guards the tests below against a watch that sees nothing: a child that starts a
    grandchild and exits leaves an orphan, which the token still finds."""
    token = uuid4().hex
    subprocess.run(
        [sys.executable, "-c",
         "import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
         "'import time; time.sleep(60)'], start_new_session=True)"],
        env={**os.environ, MARKER: token}, check=True, timeout=30,
    )
    left = survivors(token, grace=0.5)
    try:
        assert len(left) == 1, left
        assert "time.sleep(60)" in next(iter(left.values()))
    finally:
        kill(left)
    assert not survivors(token, grace=5.0)


def test_the_suite_leaves_no_process(tmp_path: Path) -> None:
    """Two xdist workers, each with its embedded sandbox and Chromium; a passkey flow."""
    run, left = watched(
        "suites", "-n", "2", "--requirement", "TRIGGER-1,PAGE-3,PAGE-6", output=tmp_path / "out"
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert not left, f"processes outlived the suite: {left}"


def test_the_projects_process_tests_leave_no_process(tmp_path: Path) -> None:
    """Sandboxes started and stopped (or failing to start), a Playwright browser server
    with a suite run on it, and pytester subprocesses."""
    run, left = watched(
        "tests/sandbox/test_process.py",
        "tests/suite/test_scaling.py::test_browser_tests_run_on_a_remote_playwright_browser_server",
        "tests/suite/test_plugin.py::test_a_must_violation_fails_and_names_its_requirement",
        output=tmp_path / "out",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert not left, f"processes outlived the tests: {left}"
    assert not carriers("never-used-token")  # the watch matches the exact token only
