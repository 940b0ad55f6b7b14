"""The browser tests on phones: the suite's own browser tests, as a Pixel and as an iPhone
(Playwright's descriptors in Chromium: viewport, scale, user agent, touch), against the
embedded sandbox, both dialects' default; and a device Playwright does not know stops the
run at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHONES = ["Pixel 7", "iPhone 15"]

pytestmark = pytest.mark.slow


def suite(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:randomly", "-p", "no:cacheprovider",
         *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.mark.parametrize("phone", PHONES)
def test_the_browser_tests_pass_on_a_phone_and_the_report_names_it(
    phone: str, tmp_path: Path
) -> None:
    results = tmp_path / "allure-results"
    run = suite("-m", "browser", "-n", "2", "--device", phone, "--alluredir", str(results),
                "--output", str(tmp_path / "test-results"))
    tail = run.stdout[-3000:]
    assert run.returncode == 0, tail
    assert f"sca device: {phone}" in run.stdout, tail
    assert " failed" not in tail and " error" not in tail, tail
    tests = [json.loads(path.read_text()) for path in results.glob("*-result.json")]
    assert len(tests) > 20, f"only {len(tests)} browser tests ran"
    for test in tests:
        parameters = {p["name"]: p["value"] for p in test.get("parameters", [])}
        assert parameters.get("device") == repr(phone), (test["name"], parameters)
    matrix = json.loads((results / "coverage-matrix.json").read_text())
    assert all(t["nodeid"].endswith(f" @ {phone}") for t in matrix["tests"]), "matrix ids"
    environment = (results / "environment.properties").read_text()
    assert f"Browser\\ device={phone}" in environment, environment


def test_a_device_playwright_does_not_know_stops_the_run_with_one_sentence() -> None:
    run = suite("--collect-only", "-q", "--device", "Pixel 77", timeout=120)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "--device Pixel 77: Playwright has no such device; did you mean" in run.stderr
    assert "Traceback" not in run.stderr
