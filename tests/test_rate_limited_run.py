"""The suite against a target that protects itself (contract section 8a): a sandbox admitting
5 logins a minute per key and a few requests a second per client. The run gets the verdict it
gets without limits, having logged in once per key (the first test needing it), waited out every
429 and counted the waits in the terminal, coverage-matrix.json and the report; the fuzz part
stays off for a named target unless asked."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sca_conformance.verdict import EXIT_CODES, RunVerdict
from sca_sandbox.process import RunningSandbox, run_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
SELECTION = "test_triggers or test_initiation"


@dataclass(frozen=True)
class Run:
    outcome: subprocess.CompletedProcess[str]
    output: Path
    logins: dict[str, int]  # per API key: the login sessions the sandbox opened


def run_suite(sandbox: RunningSandbox, output: Path, *args: str
              ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCA_API_KEY": sandbox.api_keys[0], "SCA_API_KEY_2": sandbox.api_keys[1]}
    for name in ("SCA_TARGET_URL", "SCA_TARGET", "SCA_SANDBOX_FAULTS", "SCA_STRICT", "SCA_FUZZ"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "suites"), "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider", "-p", "no:xdist",
         "--target-url", sandbox.url, "--alluredir", str(output / "results"),
         f"--output={output / 'artifacts'}", "-q", *args],
        cwd=output, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def logins(db: Path, keys: tuple[str, str]) -> dict[str, int]:
    from sca_sandbox.security import fast_hash

    with sqlite3.connect(db) as connection:
        counted = dict(connection.execute(
            "SELECT clients.key_hash, COUNT(sessions.id) FROM clients"
            " LEFT JOIN sessions ON sessions.client_id = clients.id GROUP BY clients.id"))
    return {key: counted.get(fast_hash(key), 0) for key in keys}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("limited") / "sandbox.db",
                     login_rate_limit=5, request_rate_limit=8) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def run(limited: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Run:
    output = tmp_path_factory.mktemp("run")
    outcome = run_suite(limited, output, "-k", SELECTION)
    return Run(outcome, output, logins(limited.db_path, limited.api_keys))


def test_the_throttled_run_gets_its_verdict(run: Run) -> None:
    stdout = run.outcome.stdout
    assert run.outcome.returncode == 0, stdout[-4000:] + run.outcome.stderr[-2000:]
    assert "CONFORMANT" in stdout.splitlines()[-1]
    assert " failed" not in stdout and "rate limited" not in stdout


def test_it_logs_in_once_per_key_besides_the_first_check(run: Run, limited: RunningSandbox
                                                         ) -> None:
    first, second = limited.api_keys
    # The controller's check of the target before any test, then one session per key.
    assert run.logins == {first: 2, second: 1}, run.outcome.stdout[-3000:]
    traffic = json.loads((run.output / "results" / "coverage-matrix.json").read_text())
    assert traffic["api_traffic"]["logins"] == 2  # the tests' sessions, the check aside
    assert "sca api: logins: 2, refreshes: 0, rate-limit waits: " in run.outcome.stdout


def test_the_waits_are_counted_in_the_run_and_shown_in_the_report(run: Run) -> None:
    summary = json.loads((run.output / "results" / "coverage-matrix.json").read_text())
    waits = summary["api_traffic"]["waits"]
    assert waits > 0, "the request limit never throttled: lower it"
    line = next(line for line in run.outcome.stdout.splitlines() if line.startswith("sca api:"))
    assert line == (f"sca api: logins: 2, refreshes: 0, rate-limit waits: {waits}, "
                    f"total {summary['api_traffic']['wait_seconds']:.1f} s")
    steps = [step["name"] for result in (run.output / "results").glob("*-result.json")
             for step in _steps(json.loads(result.read_text()))]
    shown = [name for name in steps if name.startswith("Rate limited: ")]
    assert len(shown) == waits
    assert all("→ 429 (Retry-After: 1): waited 1.0 s" in name for name in shown), shown[:3]


def _steps(node: dict[str, object]) -> Iterator[dict[str, object]]:
    for step in node.get("steps", []):  # type: ignore[union-attr]
        yield step
        yield from _steps(step)


def test_the_fuzz_part_stays_off_for_a_named_target_unless_asked(
    limited: RunningSandbox, tmp_path: Path
) -> None:
    outcome = run_suite(limited, tmp_path, "-k", "test_fuzz", "-rs")
    # Nothing proved: INCOMPLETE, as any run whose selected requirements are all skipped.
    assert outcome.returncode == EXIT_CODES[RunVerdict.INCOMPLETE], outcome.stdout[-3000:]
    assert "3 skipped" in outcome.stdout
    assert outcome.stdout.count("the fuzz part is opt-in: run with --fuzz") == 3


def test_a_throttled_fuzz_campaign_is_not_a_green_one(tmp_path: Path) -> None:
    with run_sandbox(tmp_path / "sandbox.db", request_rate_limit=3) as sandbox:
        outcome = run_suite(sandbox, tmp_path, "-k", "test_no_fuzzed_input", "--fuzz",
                            "--fuzz-seconds", "30", "--fuzz-examples", "2")
    assert outcome.returncode == EXIT_CODES[RunVerdict.INCOMPLETE], outcome.stdout[-3000:]
    assert ("Target could not be prepared: rate limited: the fuzz campaign: the target "
            "limited ") in outcome.stdout
    assert "1 target could not be prepared" in outcome.stdout
