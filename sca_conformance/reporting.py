"""What the run tells: requirement labels and severity, SHOULD warnings, the failure flag
the evidence collectors read, and the requirement coverage matrix."""

from __future__ import annotations

import dataclasses
import html
import json
import platform
import re
import shutil
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator
from importlib import metadata
from pathlib import Path
from typing import Any

import allure
import pytest

from sca_conformance.catalog import CATALOG
from sca_conformance.config import SETTINGS
from sca_conformance.redact import SecretRegistry
from sca_conformance.requirements import CONTRACT_URL, RequirementViolation, registry, requirement

EPIC = "Strong Customer Authentication"
FEATURES = {
    "onboarding": "Onboarding (KYC)",
    "payment_history": "Payment history",
    "external_payment": "External payments",
    "card_details": "Card details",
    "card_activation": "Card activation",
    "lifecycle": "Consent lifecycle",
    "security": "Security",
    "errors": "Errors",
}
SEVERITY = {"MUST": allure.severity_level.CRITICAL, "SHOULD": allure.severity_level.NORMAL}
FAILED_CALL = pytest.StashKey[pytest.TestReport]()
SECRETS = pytest.StashKey[SecretRegistry]()  # the test's registry, set by the secrets fixture
REQUIREMENTS = "requirements"


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(mark.args)
    return ids


def action_of(item: pytest.Item) -> str | None:
    """The action a test is about: its parameter, or an action marker."""
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else ()):
        name = getattr(value, "name", value)
        if isinstance(name, str) and name in CATALOG:
            return name
    return next((name for name in CATALOG if item.get_closest_marker(name)), None)


def scenario(item: pytest.Item) -> str:
    """The test's docstring's first line: what a reader of the report sees."""
    function = getattr(item, "function", None)
    doc = getattr(function, "__doc__", None) or getattr(item, "originalname", item.name)
    return str(doc).strip().splitlines()[0]


def _label(kind: str, *values: str) -> pytest.MarkDecorator:
    """An Allure label as the mark allure-pytest reads at collection, so that its
    selection options (--allure-severities, --allure-features, --allure-label) see it."""
    return pytest.mark.allure_label(*values, label_type=kind)


def allure_marks(item: pytest.Item) -> list[pytest.MarkDecorator]:
    ids = requirement_ids(item)
    action = action_of(item)
    concern = next((m for m in ("lifecycle", "security", "errors") if item.get_closest_marker(m)),
                   None)
    marks = [
        _label("epic", EPIC),
        _label("feature", FEATURES.get(action or concern or "", "Consent API (any action)")),
        _label("story", scenario(item)),
    ]
    if ids:
        level = "MUST" if any(requirement(i).level == "MUST" for i in ids) else "SHOULD"
        marks.append(_label("severity", SEVERITY[level].value))
        marks.append(_label("requirement", *ids))
    return marks


@pytest.hookimpl(tryfirst=True)  # before allure-pytest selects by label
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = {
        part.strip()
        for option in config.getoption("--requirement", None) or []
        for part in option.split(",")
        if part.strip()
    }
    for requirement_id in wanted:
        try:
            requirement(requirement_id)
        except KeyError as error:
            raise pytest.UsageError(error.args[0]) from None
    if wanted:
        selected = [item for item in items if wanted & set(requirement_ids(item))]
        deselected = [item for item in items if item not in selected]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and not hasattr(function, "__allure_display_name__"):
            # allure-pytest names each result from this, filling in {param_id}.
            parametrized = getattr(item, "callspec", None) is not None
            title = scenario(item).replace("{", "{{").replace("}", "}}")
            function.__allure_display_name__ = f"{title} [{{param_id}}]" if parametrized else title
        ids = requirement_ids(item)
        for requirement_id in ids:
            try:
                requirement(requirement_id)
            except KeyError as error:
                raise pytest.UsageError(f"{item.nodeid}: {error.args[0]}") from None
        if ids:
            levels = {requirement(i).level for i in ids}
            item.add_marker(pytest.mark.must if "MUST" in levels else pytest.mark.should)
            item.user_properties.append((REQUIREMENTS, ",".join(ids)))
        action = action_of(item)
        if action:
            item.add_marker(getattr(pytest.mark, action))
        for mark in allure_marks(item):
            item.add_marker(mark)


@pytest.fixture(autouse=True)
def _allure_links(request: pytest.FixtureRequest) -> None:
    """Each requirement links to its row in the contract (labels are marks, above)."""
    for requirement_id in requirement_ids(request.node):
        allure.dynamic.link(requirement(requirement_id).anchor, name=requirement_id)


SOFT = pytest.StashKey[list[RequirementViolation]]()


class SoftChecks:
    """Runs SHOULD checks inside a longer flow without stopping it; the verdict comes at
    the end of the test. A MUST violation still stops the test at once."""

    def __init__(self, item: pytest.Item) -> None:
        self.violations = item.stash.setdefault(SOFT, [])

    def __call__(self, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except RequirementViolation as violation:
            if violation.level == "MUST":
                raise
            self.violations.append(violation)
            return None


@pytest.fixture
def should(request: pytest.FixtureRequest) -> SoftChecks:
    return SoftChecks(request.node)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """A SHOULD violation warns (xfail) unless --sca-strict; a MUST violation fails."""
    try:
        result = yield
    except RequirementViolation as violation:
        if violation.level == "SHOULD" and not item.config.stash[SETTINGS].strict:
            pytest.xfail(f"SHOULD warning [{violation.requirement.id}] {violation}")
        raise
    soft = item.stash.get(SOFT, [])
    if soft:
        ids = ",".join(sorted({v.requirement.id for v in soft}))
        message = "; ".join(str(v) for v in soft)
        if not item.config.stash[SETTINGS].strict:
            pytest.xfail(f"SHOULD warning [{ids}] {message}")
        raise soft[0]
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    registry = item.stash.get(SECRETS, None)
    if report.longrepr is not None and registry is not None:
        # Long tracebacks print a check's arguments (the PAN it compared, say); mask them
        # here, before an xdist worker sends the report on to the terminal, keeping the
        # traceback's structure (its one-line message is what junit and Allure show).
        if isinstance(report.longrepr, str):
            report.longrepr = registry.text(report.longrepr)
        else:
            mask_in_place(report.longrepr, registry)
    if registry is not None and hasattr(report, "wasxfail"):
        report.wasxfail = registry.text(report.wasxfail)  # a SHOULD warning's message
    if report.failed and report.when in ("setup", "call"):
        item.stash[FAILED_CALL] = report
    return report


def mask_in_place(node: Any, registry: SecretRegistry, depth: int = 0) -> Any:
    """Masks every string inside pytest's traceback representation (dataclasses, lists and
    tuples of them), returning the masked value for immutable ones."""
    if isinstance(node, str):
        return registry.text(node)
    if depth > 8:
        return node
    if isinstance(node, list):
        node[:] = [mask_in_place(item, registry, depth + 1) for item in node]
        return node
    if isinstance(node, tuple):
        return tuple(mask_in_place(item, registry, depth + 1) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            object.__setattr__(node, field.name, mask_in_place(value, registry, depth + 1))
    return node


# The coverage matrix, built where every report arrives (the controller under xdist) --------


ATTRIBUTED = re.compile(r"\b(MUST|SHOULD) (?P<id>[A-Z]+-\d+) violated\b")
NOT_PREPARED = "Target could not be prepared"


def failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    return str(message if message is not None else report.longreprtext)


def failure_kind(report: pytest.TestReport) -> str:
    """What a failure is: a requirement violated (named), the target not prepared (a call
    the test needed), or a suite error: a failure nobody can act on without a trace."""
    message = failure_message(report)
    if ATTRIBUTED.search(message):
        return "violation"
    if NOT_PREPARED in message:
        return "not prepared"
    return "suite error"


class CoverageMatrix:
    """Registered as a plugin object: every test report of the run passes through it."""

    def __init__(self, selection: bool = False) -> None:
        self.results: dict[str, dict[str, str]] = defaultdict(dict)
        self.warnings: list[tuple[str, str]] = []
        self.failures: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.collected: dict[str, list[str]] = defaultdict(list)
        self.selection = selection  # a -k, -m, --requirement or node-id run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ids = next((value for key, value in report.user_properties if key == REQUIREMENTS), "")
        outcome = self.outcome(report)
        if outcome is None:
            return
        if outcome in ("failed", "error"):
            self.failures[failure_kind(report)].append(
                (report.nodeid, failure_message(report).strip().splitlines()[0][:300]
                 if failure_message(report).strip() else ""))
        if outcome == "warning":
            self.warnings.append((report.nodeid, str(getattr(report, "wasxfail", ""))))
        for requirement_id in filter(None, str(ids).split(",")):
            previous = self.results[requirement_id].get(report.nodeid)
            if previous in (None, "passed"):
                self.results[requirement_id][report.nodeid] = outcome

    @staticmethod
    def outcome(report: pytest.TestReport) -> str | None:
        if report.when == "call":
            if hasattr(report, "wasxfail"):
                return "warning"
            return report.outcome
        if report.when == "setup" and not report.passed:
            return "skipped" if report.skipped else "error"
        if report.when == "teardown" and report.failed:
            return "error"
        return None

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for requirement_id, req in registry().items():
            tests = self.results.get(requirement_id, {})
            outcomes = set(tests.values())
            if not tests:
                verdict = "not selected" if self.selection else "uncovered"
            elif outcomes & {"failed", "error"}:
                verdict = "FAILED"
            elif "warning" in outcomes:
                verdict = "warning"
            elif outcomes == {"skipped"}:
                verdict = "skipped"
            else:
                verdict = "passed"
            rows.append({"id": requirement_id, "level": req.level, "verdict": verdict,
                         "tests": tests, "text": req.text})
        return rows


MATRIX = pytest.StashKey[CoverageMatrix]()


MARKERS = {
    "requirement(*ids)": "contract requirement IDs this test proves",
    "actions(*names)": "run this action-parametrized test only for these actions",
    **{name: f"{title} tests" for name, title in FEATURES.items()},
    "browser": "drives the hosted pages in a real browser",
    "api": "HTTP API only",
    "must": "proves a MUST requirement (added from the requirement marker)",
    "should": "proves only SHOULD requirements (added from the requirement marker)",
    "slow": "the project's own slow tests (kill matrix, fuzzer)",
    "any_onboarding_style": "drives onboarding in either style (consent or redirect)",
    "allure_label": "an Allure label (epic, feature, story, severity, requirement: marks "
    "added at collection, so that allure-pytest's selection options see them)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("sca", "SCA consent conformance").addoption(
        "--coverage-matrix", default="", metavar="DIR",
        help="write coverage-matrix.md/.json into DIR (default: into --alluredir, or nowhere)",
    )


def _is_selection(config: pytest.Config) -> bool:
    """Whether this run chose some of the suite's tests (then requirements outside the
    choice are "not selected", not "uncovered")."""
    option = config.option
    return bool(
        getattr(option, "keyword", "") or getattr(option, "markexpr", "")
        or config.getoption("--requirement", None) or getattr(option, "lf", False)
        or getattr(option, "deselect", None)
        or any("::" in arg or arg.endswith(".py") for arg in config.args)
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    matrix = CoverageMatrix(selection=_is_selection(config))
    config.stash[MATRIX] = matrix
    config.pluginmanager.register(matrix, "sca-coverage-matrix")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The requirement-to-tests matrix of what was selected (printed by --collect-only)."""
    matrix = session.config.stash[MATRIX]
    for item in session.items:
        for requirement_id in requirement_ids(item):
            matrix.collected[requirement_id].append(item.nodeid)


def _ran_requirement_tests(config: pytest.Config) -> bool:
    return bool(config.stash[MATRIX].results)


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    if hasattr(config, "workerinput"):
        return
    matrix = config.stash[MATRIX]
    write = terminalreporter.write_line
    if config.option.collectonly:
        if matrix.collected:
            terminalreporter.section("requirement -> tests (collected, nothing run)")
            for requirement_id, req in registry().items():
                tests = matrix.collected.get(requirement_id, [])
                write(f"{requirement_id:<11} {req.level:<6} "
                      f"{len(tests) if tests else 'not selected':>3} {'test(s)' if tests else ''}")
        return
    if not _ran_requirement_tests(config):
        return
    if matrix.failures:
        terminalreporter.section("verdicts of the failures")
        labels = {"violation": "requirement violated (named in the message)",
                  "not prepared": "target could not be prepared (a call the test needed)",
                  "suite error": "SUITE ERRORS: unattributed, a defect of the suite"}
        for kind in ("violation", "not prepared", "suite error"):
            if matrix.failures.get(kind):
                write(f"{len(matrix.failures[kind]):>4} {labels[kind]}")
        for nodeid, message in matrix.failures.get("suite error", []):
            write(f"  suite error: {nodeid}: {message}")
    if matrix.warnings:
        terminalreporter.section("SHOULD warnings (--sca-strict makes them fail)")
        for nodeid, message in matrix.warnings:
            write(f"{message.split(']')[0].removeprefix('SHOULD warning [')}: {nodeid}")
            write(f"    {message}")
    terminalreporter.section("requirement coverage matrix")
    for row in matrix.rows():
        tests = row["tests"]
        write(f"{row['id']:<11} {row['level']:<6} {row['verdict']:<9} {len(tests):>3} test(s)")
    uncovered = [row["id"] for row in matrix.rows() if row["verdict"] == "uncovered"]
    write(f"uncovered: {', '.join(uncovered) if uncovered else 'none'}")
    unselected = [row["id"] for row in matrix.rows() if row["verdict"] == "not selected"]
    if unselected:
        write(f"not selected: {', '.join(unselected)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not _ran_requirement_tests(config):
        return
    rows = config.stash[MATRIX].rows()
    results_dir = config.getoption("--alluredir", None)
    chosen = config.getoption("--coverage-matrix", "") or results_dir
    if chosen:  # only inside the results folder, or where the option says
        out = Path(chosen)
        out.mkdir(parents=True, exist_ok=True)
        (out / "coverage-matrix.json").write_text(json.dumps(rows, indent=2))
        (out / "coverage-matrix.md").write_text(matrix_markdown(rows))
    if results_dir:
        write_allure_extras(config, Path(results_dir), rows)


def matrix_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| Requirement | Level | Result | Tests |", "|---|---|---|---|"]
    for row in rows:
        tests = "<br>".join(f"`{nodeid}` {outcome}" for nodeid, outcome in row["tests"].items())
        lines.append(f"| {row['id']} | {row['level']} | {row['verdict']} | {tests or '—'} |")
    return "\n".join(lines) + "\n"


def matrix_html(rows: list[dict[str, Any]]) -> str:
    colour = {"passed": "#1a7f37", "FAILED": "#cf222e", "warning": "#9a6700",
              "uncovered": "#6e7781", "skipped": "#6e7781", "not selected": "#6e7781"}
    body = "".join(
        f"<tr><td><a href='{CONTRACT_URL}'>{row['id']}</a></td><td>{row['level']}</td>"
        f"<td style='color:{colour[row['verdict']]}'><b>{row['verdict']}</b></td>"
        f"<td>{html.escape(row['text'])}</td><td>"
        + "<br>".join(f"{html.escape(n)} — {o}" for n, o in row["tests"].items())
        + "</td></tr>"
        for row in rows
    )
    return (
        "<html><body style='font-family:sans-serif'><table border=1 cellpadding=4 "
        "style='border-collapse:collapse'><tr><th>ID</th><th>Level</th><th>Result</th>"
        f"<th>Requirement</th><th>Tests</th></tr>{body}</table></body></html>"
    )


def write_allure_extras(config: pytest.Config, results: Path, rows: list[dict[str, Any]]) -> None:
    from sca_conformance import allure_meta as meta

    results.mkdir(parents=True, exist_ok=True)
    settings = config.stash.get(SETTINGS, None)
    meta.write_environment(results, environment(config, settings))
    meta.write_categories(results)
    meta.write_executor(results)
    attachment = f"{uuid.uuid4()}-attachment.html"
    (results / attachment).write_text(matrix_html(rows))
    failed = [row["id"] for row in rows if row["verdict"] == "FAILED"]
    uncovered = [row["id"] for row in rows if row["verdict"] == "uncovered"]
    now = int(time.time() * 1000)
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": "requirement-coverage-matrix",
        "name": "Requirement coverage matrix",
        "fullName": "sca.coverage.matrix",
        # Informational: the failing tests are already counted; this entry is not one more.
        "status": "unknown" if failed else "passed",
        "statusDetails": {
            "message": f"failed: {', '.join(failed) or 'none'}; "
            f"uncovered: {', '.join(uncovered) or 'none'}"
        },
        "stage": "finished",
        "start": now,
        "stop": now,
        "labels": [
            {"name": "epic", "value": EPIC},
            {"name": "feature", "value": "Requirement coverage"},
            {"name": "story", "value": "Every requirement → its tests → their result"},
        ],
        "attachments": [
            {"name": "Coverage matrix", "source": attachment, "type": "text/html"}
        ],
    }
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result))


def environment(config: pytest.Config, settings: Any) -> dict[str, str]:
    from sca_conformance.browser import chromium_executable

    executable = chromium_executable()
    browser = "Chromium (Playwright's own)"
    if config.getoption("--browser-ws-endpoint", ""):
        browser = f"remote: {config.getoption('--browser-ws-endpoint')}"
    elif executable and shutil.which(executable):
        version = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, check=False
        )
        browser = version.stdout.strip() or executable
    faults = config.getoption("--sandbox-fault", [])
    return {
        "Target": settings.described_target if settings else "embedded sandbox",
        "Target profile": settings.profile.name if settings else "sandbox",
        "Sandbox version": metadata.version("sca-conformance"),
        "Sandbox faults": ",".join(faults) or "none",
        "Browser": browser,
        "Python": platform.python_version(),
        "Playwright": metadata.version("playwright"),
        "Strict mode": str(bool(settings and settings.strict)).lower(),
    }
