"""A target answering 429 to every other request (issue 25, Done when): the sandbox with
--throttle-every 2 refuses every second API request of each caller (its login, its token)
with a Retry-After, whatever it asks. A fault stays killed under its requirement, with no
suite error and nothing unprepared, and the waits counted. (The whole suite, throttled so,
against the staging personality gets its unthrottled verdict: tests/test_staging_run.py.)

Retry-After is 0 here, so that a thousand waits cost no time (a wait of Retry-After: 1 is
tests/test_rate_limited_run.py's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sca_conformance.verdict import EXIT_CODES, RunVerdict
from sca_sandbox.process import RunningSandbox, run_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
THROTTLE = ["--throttle-every", "2", "--throttle-retry-after", "0"]
WORKERS = 2


@dataclass(frozen=True)
class Run:
    outcome: subprocess.CompletedProcess[str]
    matrix: dict[str, Any]

    @property
    def tail(self) -> str:
        return self.outcome.stdout[-4000:] + self.outcome.stderr[-2000:]

    def traffic_line(self) -> str:
        return next(line for line in self.outcome.stdout.splitlines()
                    if line.startswith("sca api:"))


def run_suite(sandbox: RunningSandbox, output: Path, *args: str) -> Run:
    env = {**os.environ, "SCA_API_KEY": sandbox.api_keys[0], "SCA_API_KEY_2": sandbox.api_keys[1]}
    for name in ("SCA_TARGET_URL", "SCA_TARGET", "SCA_SANDBOX_FAULTS", "SCA_STRICT", "SCA_FUZZ"):
        env.pop(name, None)
    outcome = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites"), "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider", "-n", str(WORKERS),
         "--target-url", sandbox.url, "--coverage-matrix", str(output / "matrix"),
         f"--output={output / 'artifacts'}", "-q", *args],
        cwd=output, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )
    matrix_file = output / "matrix" / "coverage-matrix.json"
    assert matrix_file.exists(), outcome.stdout[-4000:] + outcome.stderr[-2000:]
    return Run(outcome, json.loads(matrix_file.read_text(encoding="utf-8")))


def _rows(run: Run, *verdicts: str) -> list[str]:
    return [row["id"] for row in run.matrix["requirements"] if row["verdict"] in verdicts]


# A fault the throttle must not hide: the payment's retry after a 429 is the same request,
# while a repeat after approval is a second one that this fault pays again.
FAULT, REQUIREMENT = "payment-executed-twice", "AFTER-1"


def test_a_fault_under_the_throttle_is_still_killed_under_its_requirement(
    tmp_path: Path,
) -> None:
    with run_sandbox(tmp_path / "sandbox.db", faults=[FAULT], extra_args=THROTTLE) as sandbox:
        run = run_suite(sandbox, tmp_path, "--requirement", REQUIREMENT)

    assert run.outcome.returncode == EXIT_CODES[RunVerdict.NON_CONFORMANT], run.tail
    assert _rows(run, "violated") == [REQUIREMENT], run.tail
    assert f"MUST {REQUIREMENT} violated" in run.outcome.stdout
    assert not [test for test in run.matrix["tests"]
                if test["kind"] in ("suite error", "not prepared")], run.tail
    tested = len(run.matrix["tests"])
    traffic = run.matrix["api_traffic"]
    assert traffic["waits"] >= tested, traffic
    assert f", rate-limit waits: {traffic['waits']}, total " in run.traffic_line()
