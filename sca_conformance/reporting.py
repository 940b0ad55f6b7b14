"""What the run tells: requirement labels and severity, SHOULD warnings, the failure flag
the evidence collectors read, and the requirement coverage matrix."""

from __future__ import annotations

import dataclasses
import difflib
import html
import json
import platform
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable, Generator
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import allure
import pytest

from sca_conformance.catalog import CATALOG
from sca_conformance.checks import VERDICTS, TargetNotPrepared
from sca_conformance.config import SETTINGS
from sca_conformance.redact import SecretRegistry
from sca_conformance.requirements import CONTRACT_URL, RequirementViolation, registry, requirement
from sca_conformance.verdict import (
    EXIT_CODES,
    USER_PROPERTY,
    Kind,
    Matrix,
    RunVerdict,
    Standing,
    TestVerdict,
    of_report,
    parse_message,
    warning_message,
)

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
        part.strip().upper()
        for option in config.getoption("--requirement", None) or []
        for part in option.split(",")
        if part.strip()
    }
    for requirement_id in wanted:
        if requirement_id not in registry():
            close = difflib.get_close_matches(requirement_id, list(registry()), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise pytest.UsageError(f"--requirement {requirement_id}: the contract has no such "
                                    f"requirement{hint}")
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


RAISED = pytest.StashKey[RequirementViolation]()  # a SHOULD violation that stopped the test


def _entries(traceback: TracebackType | None) -> list[TracebackType]:
    entries = []
    while traceback is not None:
        entries.append(traceback)
        traceback = traceback.tb_next
    return entries


def own_lines(item: pytest.Item, verdict: BaseException) -> None:
    """Ends a verdict's traceback at the test's last own line (the deepest frame in the test's
    folder): the suite's frames go, and what they ran (contextlib's, Playwright's), which
    carry no `__tracebackhide__` of their own. Raised at the end of a `with proving(...)`
    block, the traceback goes on from the block's frame as its cause's: to the line in it
    that failed."""

    def own(entry: TracebackType) -> bool:
        return Path(entry.tb_frame.f_code.co_filename).is_relative_to(item.path.parent)

    entries = _entries(verdict.__traceback__)
    frames = {entry.tb_frame: index for index, entry in enumerate(entries)}
    cause = verdict.__cause__
    shared = next((entry for entry in _entries(cause.__traceback__ if cause else None)
                   if entry.tb_frame in frames and own(entry)), None)
    if shared is not None and frames[shared.tb_frame] > 0:
        entries[frames[shared.tb_frame] - 1].tb_next = shared
        entries = _entries(verdict.__traceback__)
    last = next((entry for entry in reversed(entries) if own(entry)), None)
    if last is not None:
        last.tb_next = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """A SHOULD violation warns (xfail) unless --sca-strict; a MUST violation fails. A verdict
    shows its message and the test's own lines, not what it was raised from (its message
    words that); --full-trace shows everything."""
    strict = item.config.stash[SETTINGS].strict
    try:
        result = yield
    except VERDICTS as verdict:
        if isinstance(verdict, RequirementViolation) and verdict.level == "SHOULD" and not strict:
            item.stash[RAISED] = verdict
            pytest.xfail(warning_message([verdict.requirement.id], str(verdict)))
        if item.config.getoption("fulltrace"):
            raise
        own_lines(item, verdict)
        raise verdict from None
    soft = item.stash.get(SOFT, [])
    if soft:
        message = "; ".join(str(v) for v in soft)
        if not strict:
            pytest.xfail(warning_message((v.requirement.id for v in soft), message))
        raise soft[0]
    return result


def _verdict(item: pytest.Item, call: pytest.CallInfo[None],
             report: pytest.TestReport) -> TestVerdict | None:
    """What this phase of the test says, from the exception itself (not its text)."""
    ids = tuple(requirement_ids(item))
    registry = item.stash.get(SECRETS, None)

    def masked(text: str) -> str:
        first = text.strip().splitlines()[0][:300] if text.strip() else ""
        return registry.text(first) if registry is not None else first

    error = call.excinfo.value if call.excinfo is not None else None
    if hasattr(report, "wasxfail"):
        raised = item.stash.get(RAISED, None)
        named = ((raised.requirement.id,) if raised else
                 tuple(sorted({v.requirement.id for v in item.stash.get(SOFT, [])})))
        return TestVerdict(report.nodeid, ids, Kind.WARNED, named, "SHOULD",
                           completed=raised is None, reason=masked(str(report.wasxfail)))
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return TestVerdict(report.nodeid, ids, Kind.SKIPPED,
                           reason=masked(str(reason).removeprefix("Skipped: ")))
    if report.passed:
        return TestVerdict(report.nodeid, ids, Kind.PASSED) if report.when == "call" else None
    if isinstance(error, RequirementViolation):
        return TestVerdict(report.nodeid, ids, Kind.VIOLATED, (error.requirement.id,),
                           error.level, completed=False, reason=masked(str(error)))
    if isinstance(error, TargetNotPrepared):
        return TestVerdict(report.nodeid, ids, Kind.NOT_PREPARED, completed=False,
                           reason=masked(str(error)))
    message = str(error) if error is not None else report.longreprtext
    kind, named = parse_message(message)  # an error wrapping a violation's message
    if kind is Kind.VIOLATED:
        level = requirement(named[0]).level
        return TestVerdict(report.nodeid, ids, kind, named, level, completed=False,
                           reason=masked(message))
    return TestVerdict(report.nodeid, ids, Kind.SUITE_ERROR, completed=False,
                       reason=masked(f"{type(error).__name__}: {message}" if error else message))


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
    verdict = _verdict(item, call, report)
    if verdict is not None:  # travels with the report (to the xdist controller too)
        report.user_properties.append((USER_PROPERTY, verdict.to_json()))
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


class CoverageMatrix(Matrix):
    """The run's verdict model, registered as a plugin object: every test report of the run
    passes through it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.collected: dict[str, list[str]] = defaultdict(list)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        verdict = of_report(report)
        if verdict is not None:
            self.add(verdict)


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
    "needs(*capabilities)": "skipped, with the reason, on a target whose profile lacks one of "
    "these capabilities (or 'second_client': a second API key)",
    "allure_label": "an Allure label (epic, feature, story, severity, requirement: marks "
    "added at collection, so that allure-pytest's selection options see them)",
}


TAGS = frozenset({*FEATURES, "browser", "api", "must", "should"})
"""The marks that are Allure tags: what a test is about (its action or concern), how it
reaches the target (browser, api), and its level (must, should). The marks that steer the
run are not: requirement, actions and needs (their arguments are labels or skips),
any_onboarding_style, slow, allure_label, and other plugins' (asyncio, Playwright's)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sca", "SCA consent conformance")
    group.addoption(
        "--coverage-matrix", default="", metavar="DIR",
        help="write coverage-matrix.md/.json into DIR too (always into --alluredir, if given)",
    )
    group.addoption(
        "--sca-exploratory", action="store_true", default=False,
        help="an exploratory run: MUST requirements left untested do not make it INCOMPLETE "
        "(exit 0 unless a MUST is violated)",
    )
    group.addoption(
        "--sca-matrix", action="store_true", default=False,
        help="print the whole requirement matrix at the end (also with -v)",
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
        or getattr(option, "splits", None)  # a pytest-split shard: one part of the suite
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    if config.getoption("--alluredir", None):
        from sca_conformance.allure_meta import ReaderView

        ReaderView.register(config, TAGS)
    settings = config.stash.get(SETTINGS, None)
    matrix = CoverageMatrix(
        selection=_is_selection(config), strict=bool(settings and settings.strict),
        accepted=settings.profile.verdict.accept_untested if settings else {},
    )
    config.stash[MATRIX] = matrix
    config.pluginmanager.register(matrix, "sca-coverage-matrix")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The requirement-to-tests matrix of what was selected (printed by --collect-only)."""
    matrix = session.config.stash[MATRIX]
    for item in session.items:
        for requirement_id in requirement_ids(item):
            matrix.collected[requirement_id].append(item.nodeid)


def _judged(config: pytest.Config) -> bool:
    """Whether this run has a verdict to give: tests that prove requirements ran, or the
    target could not be tested at all."""
    matrix = config.stash[MATRIX]
    return bool(matrix.unusable) or any(t.requirements for t in matrix.tests.values())


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
    if not _judged(config):
        return
    failed = [t for t in matrix.tests.values()
              if t.kind in (Kind.VIOLATED, Kind.NOT_PREPARED, Kind.SUITE_ERROR)]
    if failed:
        terminalreporter.section("verdicts of the failures")
        labels = {Kind.VIOLATED: "requirement violated (named in the message)",
                  Kind.NOT_PREPARED: "target could not be prepared (a call the test needed)",
                  Kind.SUITE_ERROR: "SUITE ERRORS: unattributed, a defect of the suite"}
        for kind, label in labels.items():
            count = sum(t.kind is kind for t in failed)
            if count:
                write(f"{count:>4} {label}")
        for test in matrix.suite_errors():
            write(f"  suite error: {test.nodeid}: {test.reason}")
    warned = [t for t in matrix.tests.values() if t.kind is Kind.WARNED]
    if warned:
        terminalreporter.section("SHOULD warnings (--sca-strict makes them fail)")
        for test in warned:
            write(f"{','.join(test.named)}: {test.nodeid}")
            write(f"    {test.reason}")
    rows = matrix.rows()
    if config.getoption("--sca-matrix") or config.getoption("verbose") > 0:
        terminalreporter.section("requirement matrix")
        for row in rows:
            reason = f"  ({row.reason[:120]})" if row.reason else ""
            write(f"{row.id:<11} {row.level:<6} {row.standing!s:<17} "
                  f"{len(row.tests):>3} test(s){reason}")
    counts = ", ".join(f"{number} {standing}" for standing, number in matrix.counts().items())
    write(f"requirements: {counts}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not _judged(config):
        return
    matrix = config.stash[MATRIX]
    results_dir = config.getoption("--alluredir", None)
    # Inside the results folder (the report's builder reads it there) and where the option
    # says; nowhere else.
    chosen = {Path(folder).absolute() for folder in (
        config.getoption("--coverage-matrix", ""), results_dir) if folder}
    summary = {**matrix.as_json(), "exit_code": _exit_code(config, matrix)}
    for out in chosen:
        out.mkdir(parents=True, exist_ok=True)
        (out / "coverage-matrix.json").write_text(json.dumps(summary, indent=2))
        (out / "coverage-matrix.md").write_text(matrix_markdown(matrix))
    if results_dir:
        write_allure_extras(config, Path(results_dir), matrix)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or matrix.unusable:
        session.exitstatus = _exit_code(config, matrix)


def _exit_code(config: pytest.Config, matrix: Matrix) -> int:
    verdict = matrix.verdict()
    if verdict is RunVerdict.INCOMPLETE and config.getoption("--sca-exploratory"):
        return EXIT_CODES[RunVerdict.CONFORMANT]
    return EXIT_CODES[verdict]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The verdict, the run's last line (after pytest's own count of tests)."""
    if hasattr(config, "workerinput") or MATRIX not in config.stash or not _judged(config):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    matrix = config.stash[MATRIX]
    exploratory = config.getoption("--sca-exploratory") and (
        matrix.verdict() is RunVerdict.INCOMPLETE)
    colour = {RunVerdict.CONFORMANT: {"green": True}, RunVerdict.INCOMPLETE: {"yellow": True}}
    reporter.write_line(matrix.sentence() + (" (exploratory run: exit 0)" if exploratory else ""),
                        bold=True, **colour.get(matrix.verdict(), {"red": True}))


def matrix_markdown(matrix: Matrix) -> str:
    lines = [f"**{matrix.sentence()}**", "",
             "| Requirement | Level | Verdict | Why | Tests |", "|---|---|---|---|---|"]
    for row in matrix.rows():
        tests = "<br>".join(f"`{nodeid}` {what}" for nodeid, what in row.tests.items())
        why = row.reason.replace("|", "\\|")[:200]
        lines.append(f"| {row.id} | {row.level} | {row.standing} | {why or '—'} | "
                     f"{tests or '—'} |")
    return "\n".join(lines) + "\n"


COLOURS = {Standing.PROVED: "#1a7f37", Standing.VIOLATED: "#cf222e",
           Standing.WARNING: "#9a6700", Standing.NOT_PROVED: "#bc4c00"}


def matrix_html(matrix: Matrix) -> str:
    """The requirement matrix as a page of the report: per requirement its verdict, why,
    and its tests, each requirement linked to its row in the contract."""
    body = "".join(
        f"<tr><td><a href='{html.escape(row.requirement.anchor)}'>{row.id}</a></td>"
        f"<td>{row.level}</td><td style='color:{COLOURS.get(row.standing, '#6e7781')}'>"
        f"<b>{row.standing}</b></td><td>{html.escape(row.reason)}</td>"
        f"<td>{html.escape(row.requirement.text)}</td><td>"
        + "<br>".join(f"{html.escape(n)} — {html.escape(o)}" for n, o in row.tests.items())
        + "</td></tr>"
        for row in matrix.rows()
    )
    return (
        "<!doctype html><meta charset=utf-8><title>Requirement matrix</title>"
        "<style>body{font:14px/1.4 sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}</style>"
        f"<h1>{html.escape(matrix.sentence())}</h1><p><a href='index.html'>The report</a> · "
        f"<a href='{CONTRACT_URL}'>The contract</a></p><table><tr><th>ID</th><th>Level</th>"
        f"<th>Verdict</th><th>Why</th><th>Requirement</th><th>Tests</th></tr>{body}</table>"
    )


REQUIREMENTS_PAGE = "requirements.html"  # beside the results, then beside the report


def write_allure_extras(config: pytest.Config, results: Path, matrix: Matrix) -> None:
    from sca_conformance import allure_meta as meta

    results.mkdir(parents=True, exist_ok=True)
    settings = config.stash.get(SETTINGS, None)
    meta.write_environment(results, {"Verdict": matrix.sentence(),
                                     **environment(config, settings)})
    meta.write_categories(results)
    meta.write_executor(results)
    meta.mark_warnings(results)
    (results / REQUIREMENTS_PAGE).write_text(matrix_html(matrix), encoding="utf-8")


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
