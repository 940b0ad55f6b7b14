"""axe-core, A11Y-1's rule engine, comes from its own npm package pinned by the shipped lock,
installed beside the report generator; a run that needs it and cannot find it stops before any
test with one sentence naming the fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Page

from sca_conformance import axe_engine
from sca_conformance.axe_engine import EngineMissing, axe_version, find_axe, installed_axe, run_axe
from sca_conformance.publish import allure_tool

ROOT = Path(__file__).resolve().parents[1]


def test_the_engine_is_pinned_exactly_by_the_shipped_lock() -> None:
    manifest = json.loads((allure_tool.TOOLS / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((allure_tool.TOOLS / "package-lock.json").read_text(encoding="utf-8"))
    pinned = manifest["dependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"not an exact version: {pinned}"
    assert lock["packages"]["node_modules/axe-core"]["version"] == pinned == axe_version()
    assert lock["packages"][""]["dependencies"]["axe-core"] == pinned


def test_the_engine_is_looked_for_beside_the_report_generator(tmp_path: Path) -> None:
    assert installed_axe(tmp_path) == (allure_tool.tools_folder(tmp_path) / "node_modules"
                                       / "axe-core" / "axe.min.js")


def test_a_missing_engine_says_how_to_get_it_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("SCA_AXE_JS", raising=False)
    with pytest.raises(EngineMissing) as missing:
        find_axe()
    message = str(missing.value)
    assert "sca-conformance setup" in message and "SCA_AXE_JS" in message
    assert message.count(". ") == 0 and message.endswith("."), message
    with pytest.raises(EngineMissing, match="not a file"):
        find_axe({"SCA_AXE_JS": str(tmp_path / "nowhere.js")})
    given = tmp_path / "axe.min.js"
    given.write_text("/*! axe v9.9.9 */", encoding="utf-8")
    assert find_axe({"SCA_AXE_JS": str(given)}) == given


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
async def test_the_page_runs_the_pinned_engine(page: Page) -> None:
    """The engine the suite injects is the version the lock pins (`make setup` installs it)."""
    await page.set_content("<html lang='en'><title>t</title><main><h1>Hi</h1></main></html>")
    result = await run_axe(page, {"resultTypes": ["violations"]})
    assert result["testEngine"]["version"] == axe_version()
    assert axe_engine.engine_version(find_axe()) == axe_version()


def test_a_run_of_a11y_1_without_the_engine_stops_before_any_test(tmp_path: Path) -> None:
    """A usage error (4) with the sentence, no test run; on xdist workers (where an exit would
    crash the controller) each A11Y-1 test ends in that sentence, never in a violation."""
    env = {"SCA_CACHE_DIR": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "pytest", "suites/test_accessibility.py", "-p",
               "no:cacheprovider", "-q"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    assert "axe-core" in output and "sca-conformance setup" in output, output
    assert "passed" not in output and "violated" not in output, output
    done = subprocess.run([*command, "-n", "2", "-k", "every_end_state and approved"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "sca-conformance setup" in output, output
    assert "violated" not in output and " passed" not in output, output
