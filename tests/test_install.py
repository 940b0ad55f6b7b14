"""The package as a user gets it: a wheel (not the checkout), installed into a fresh
virtual environment, first alone, then with its [sandbox] extra and with pytest-playwright
(the sync plugin) beside pytest-playwright-asyncio; then a slice of the suite, copied out
of the checkout, runs on the installed plugin against the embedded sandbox."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"


def sh(*command: str | Path, cwd: Path | None = None, timeout: float = 900,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False, env=env,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    return done


def constraints(folder: Path) -> Path:
    """The lock's versions without its hashes: the same packages as in development (from
    pip's cache where they are), while pip still resolves what the wheel asks for."""
    pins = re.findall(r"^([A-Za-z0-9_.\-]+==[^\s\\;]+)(\s*;[^\\\n]+)?",
                      LOCK.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path = folder / "constraints.txt"
    path.write_text("".join(f"{pin}{marker.rstrip()}\n" for pin, marker in pins))
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of what the package is made of: a build in the checkout would
    leave its build/ and egg-info there."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy2(ROOT / "pyproject.toml", source)
    for package in ("sca_conformance", "sca_sandbox", "pages"):
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    (built,) = out.glob("sca_conformance-*.whl")
    return built


def test_the_wheel_carries_the_data_and_the_entry_points(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(
            archive.read(n).decode() for n in names if n.endswith("entry_points.txt")
        )
    assert "sca_conformance/contract/consent-contract.md" in names
    assert {"sca_conformance/texts/en.toml", "sca_conformance/allure_meta.py",
            "sca_conformance/report.py", "sca_sandbox/templates/base.html",
            "pages/__init__.py"} <= names
    # The checkout's own folders stay out of site-packages.
    assert not [n for n in names if n.split("/")[0] in ("reports", "suites", "tests", "scripts")]
    assert "[pytest11]\nsca_conformance.plugin = sca_conformance.plugin" in entry_points
    assert "sca-sandbox = sca_sandbox.__main__:main" in entry_points
    assert "sca-conformance = sca_conformance.cli:main" in entry_points


def test_the_installed_suite_runs_beside_the_sync_pytest_playwright(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    pin = constraints(tmp_path)
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", pin)
    # Nothing of the checkout on the path, no target of the developer's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and (
        not k.startswith("SCA_") or k in ("SCA_BROWSER_PATH", "SCA_PLAYWRIGHT_CHROMIUM",
                                          "SCA_PROCESS_WATCH"))}

    # The base install is the suite alone: the plugin loads without the sandbox's packages.
    sh(*pip, wheel, env=env)
    assert sh(python, "-c", "import importlib.util as u; print(u.find_spec('fastapi'))",
              env=env).stdout.strip() == "None"
    help_text = sh(python, "-m", "pytest", "--help", cwd=tmp_path, env=env).stdout
    assert "SCA consent conformance:" in help_text and "--sca-strict" in help_text

    # With the sandbox (the embedded target) and the sync plugin installed too.
    sh(*pip, f"{wheel}[sandbox]", "pytest-playwright", env=env)
    listed = sh(python, "-m", "pip", "list", "--format=json", env=env).stdout
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert {"pytest-playwright", "pytest-playwright-asyncio", "fastapi"} <= installed
    sh(venv / "bin" / "sca-sandbox", "--list-faults", env=env)
    assert "--no-report" in sh(venv / "bin" / "sca-conformance", "--help", env=env).stdout

    # A copy of the suites (the page objects come from the package) with the checkout's
    # pytest configuration: the installed plugin is what runs.
    work = tmp_path / "work"
    shutil.copytree(ROOT / "suites", work / "suites",
                    ignore=shutil.ignore_patterns("__pycache__"))
    ini = tomllib.loads(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    (work / "pytest.ini").write_text("[pytest]\n" + "".join(
        f"{key} = {' '.join(value) if isinstance(value, list) else value}\n"
        .replace("True", "true").replace("False", "false")
        for key, value in ini.items() if key != "filterwarnings"
    ))
    where = sh(python, "-c", "import sca_conformance, pages; "
               "print(sca_conformance.__file__); print(pages.__file__)", cwd=work, env=env).stdout
    assert all(str(venv) in line for line in where.splitlines()), where
    run = subprocess.run(
        [str(python), "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q", "-rfE",
         "--requirement", "TRIGGER-1,PAGE-3", "-k", "external_payment",
         "--alluredir", str(work / "results"), "--output", str(work / "out")],
        cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    output = run.stdout[-4000:] + run.stderr[-3000:]
    assert run.returncode == 0, output
    passed = int(re.search(r"(\d+) passed", run.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 2, output
    assert "[external_payment-chromium]" in sh(
        python, "-m", "pytest", "suites", "-p", "no:cacheprovider", "--collect-only", "-q",
        "--requirement", "PAGE-3", cwd=work, env=env).stdout
    # The report's metadata comes from the package too.
    assert (work / "results" / "environment.properties").is_file(), output
    assert list((work / "results").glob("*-result.json"))
    # Nothing written beside the results folder and --output (which stays empty: no failure).
    assert {p.name for p in work.iterdir()} <= {"suites", "pytest.ini", "results", "out"}
