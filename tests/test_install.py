"""The package as a team gets it: a wheel (not the checkout), installed with its [sandbox]
extra and pytest-playwright (the sync plugin) into a fresh virtual environment, nothing of
the development set; then, in a folder holding the team's own tests:

- the team's tests (one on pytest-playwright's sync `page`) pass, and nothing of the SCA
  suite shows (no header, no options, no fixtures, no verdict);
- `sca-conformance run` against the embedded sandbox passes and writes its results,
  matrix, report and history under ./sca-report, and nothing else in the folder changes;
- `pytest --pyargs sca_conformance.suites --collect-only` lists the suites.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
# What the wheel is built from: the package's folders as the checkout lays them out.
SOURCES = ("sca_conformance", "sca_sandbox", "pages", "suites", "profiles")
DEVELOPMENT = {"mypy", "ruff", "schemathesis", "hypothesis", "pytest-split", "pytest-random-order"}

TEAM_TEST = """
def test_the_teams_own_arithmetic():
    assert 1 + 1 == 2


def test_the_teams_own_page(page):  # pytest-playwright's sync fixture
    page.set_content("<h1>Our shop</h1>")
    assert page.inner_text("h1") == "Our shop"
"""
# The team launches this machine's Chromium its own way.
TEAM_CONFTEST = """
import pytest
from sca_conformance.chromium import launch_options


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, **launch_options()}
"""


def sh(*command: str | Path, cwd: Path | None = None, timeout: float = 900,
       env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,),
       ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False, env=env,
    )
    assert done.returncode in ok, f"{command}:\n{done.stdout[-5000:]}\n{done.stderr[-3000:]}"
    return done


def constraints(folder: Path) -> Path:
    """The runtime lock's versions without its hashes: the packages development runs on
    (from pip's cache where they are), while pip resolves what the wheel asks for."""
    pins = re.findall(r"^([A-Za-z0-9_.\-]+==[^\s\\;]+)(\s*;[^\\\n]+)?",
                      RUNTIME_LOCK.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path = folder / "constraints.txt"
    path.write_text("".join(f"{pin}{marker.rstrip()}\n" for pin, marker in pins))
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of what the package is made of: a build in the checkout would
    leave its build/ and egg-info there."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source)
    for package in SOURCES:
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules"))
    out = tmp_path_factory.mktemp("wheel")
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    (built,) = out.glob("sca_conformance-*.whl")
    return built


def test_the_wheel_maps_the_layout_into_the_package_and_enables_nothing_by_itself(
    wheel: Path,
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith("entry_points.txt")
        )
        metadata = next(archive.read(n).decode() for n in names if n.endswith("METADATA"))
    assert {"sca_conformance/contract/consent-contract.md", "sca_conformance/texts/en.toml",
            "sca_conformance/suites/conftest.py", "sca_conformance/suites/suite.ini",
            "sca_conformance/suites/test_approval.py", "sca_conformance/pages/__init__.py",
            "sca_conformance/tools/package.json", "sca_conformance/tools/package-lock.json",
            "sca_conformance/profiles/intergiro-staging.toml",
            "sca_conformance/profile.schema.json", "sca_conformance/publish/builder.py",
            "sca_sandbox/templates/base.html"} <= names
    # Nothing top-level but the two packages: no `pages`, `suites`, `profiles`, `reports`.
    assert {n.split("/")[0] for n in names if "/" in n} - {"sca_conformance", "sca_sandbox"} \
        == {next(n.split("/")[0] for n in names if ".dist-info/" in n)}
    # The one pytest11 entry point is the inert activation hook, not the plugin.
    assert "[pytest11]\nsca_conformance = sca_conformance.activation" in entry_points
    assert "sca-sandbox = sca_sandbox.__main__:main" in entry_points
    assert "sca-conformance = sca_conformance.cli:main" in entry_points
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requires if "pytest-playwright" in r]  # the suite's own fixtures
    for field in ("License-Expression: Apache-2.0", "Project-URL:",
                  "Classifier: Framework :: Pytest", "Description-Content-Type: text/markdown"):
        assert field in metadata, field


def test_a_team_installs_it_beside_pytest_playwright_and_runs_it_from_its_own_folder(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv)
    python, bin_ = venv / "bin" / "python", venv / "bin"
    pin = constraints(tmp_path)
    # Nothing of the checkout on the path, no target of the developer's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and (
        not k.startswith("SCA_") or k in ("SCA_BROWSER_PATH", "SCA_PLAYWRIGHT_CHROMIUM",
                                          "SCA_PROCESS_WATCH", "SCA_CACHE_DIR", "SCA_ALLURE"))}
    env["PATH"] = f"{bin_}{os.pathsep}{env['PATH']}"
    sh(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", pin,
       f"{wheel}[sandbox]", "pytest-playwright", env=env)
    listed = sh(python, "-m", "pip", "list", "--format=json", env=env).stdout
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert {"pytest-playwright", "fastapi", "allure-pytest"} <= installed
    assert not installed & DEVELOPMENT, installed & DEVELOPMENT
    assert "pytest-playwright-asyncio" not in installed

    team = tmp_path / "team"
    team.mkdir()
    (team / "test_team.py").write_text(TEAM_TEST)
    (team / "conftest.py").write_text(TEAM_CONFTEST)

    # The team's own run: its tests pass, nothing of the SCA suite in it.
    own = sh(python, "-m", "pytest", "-v", cwd=team, env=env)
    assert "2 passed" in own.stdout, own.stdout
    for sca in ("sca target", "requirements:", "CONFORMANT", "INCOMPLETE", "SCA"):
        assert sca not in own.stdout + own.stderr, (sca, own.stdout)
    help_text = sh(python, "-m", "pytest", "--help", cwd=team, env=env).stdout
    assert "--headed" in help_text  # pytest-playwright's own options
    for sca in ("SCA consent conformance", "--sca-strict", "--target-url", "--lsof"):
        assert sca not in help_text, sca
    fixtures = sh(python, "-m", "pytest", "--fixtures", cwd=team, env=env).stdout
    assert "sca_conformance" not in fixtures and "embedded_sandbox" not in fixtures

    # The tool, from the team's folder: the report's generator first (once, user cache).
    sh(bin_ / "sca-conformance", "setup", "--no-browser", cwd=team, env=env, timeout=900)
    before = {p.relative_to(team) for p in team.rglob("*")}
    run = sh(bin_ / "sca-conformance", "run", "--", "-q", "-p", "no:randomly",
             cwd=team, env=env, timeout=1500)
    out = team / "sca-report"
    assert re.search(r"^CONFORMANT: ", run.stdout, re.MULTILINE), run.stdout[-3000:]
    assert re.search(r"(\d+) passed", run.stdout), run.stdout[-3000:]
    assert " failed" not in run.stdout and " error" not in run.stdout, run.stdout[-3000:]
    for written in ("allure-results", "html/index.html", "single/index.html", "history",
                    "coverage-matrix.md", "coverage-matrix.json", "html/requirements.html"):
        assert (out / written).exists(), written
    assert json.loads((out / "coverage-matrix.json").read_text())["verdict"] == "CONFORMANT"
    after = {p.relative_to(team) for p in team.rglob("*") if not p.is_relative_to(out)}
    assert after - {Path("sca-report")} == before, after ^ before

    # The suites collect through pytest itself too, pytest-playwright still installed.
    collected = sh(python, "-m", "pytest", "--pyargs", "sca_conformance.suites",
                   "--collect-only", "-q", "-p", "no:cacheprovider", cwd=team, env=env).stdout
    assert re.search(r"test_approval\.py::test_\w+\[external_payment\]", collected), collected
    assert re.search(r"^(\d{3}) tests collected", collected, re.MULTILINE), collected[-500:]
