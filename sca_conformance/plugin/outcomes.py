"""A test's verdict: a MUST violation fails, a SHOULD violation warns (xfail) unless
``--sca-strict``, SHOULD checks inside a longer flow run as soft checks (``should``); a failure
shows its message and the test's own lines; tracebacks and messages are masked with the
test's secrets; each report carries its verdict to the coverage matrix (also across xdist)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from sca_conformance.config import SETTINGS
from sca_conformance.failures import (
    SOFT,
    VERDICTS,
    RequirementViolation,
    SoftChecks,
    TargetNotPrepared,
    warning_message,
)
from sca_conformance.masking import mask_in_place
from sca_conformance.plugin.evidence import FAILED_CALL, SECRETS
from sca_conformance.plugin.selection import requirement_ids
from sca_conformance.requirements import requirement
from sca_conformance.verdict import USER_PROPERTY, Kind, TestVerdict, parse_message


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
    device = item.config.stash[SETTINGS].device
    # A phone run's tests are other tests than the desktop run's, in merged matrices too.
    nodeid = f"{report.nodeid} @ {device}" if device else report.nodeid

    def masked(text: str) -> str:
        first = text.strip().splitlines()[0][:300] if text.strip() else ""
        return registry.text(first) if registry is not None else first

    error = call.excinfo.value if call.excinfo is not None else None
    if hasattr(report, "wasxfail"):
        raised = item.stash.get(RAISED, None)
        named = ((raised.requirement.id,) if raised else
                 tuple(sorted({v.requirement.id for v in item.stash.get(SOFT, [])})))
        return TestVerdict(nodeid, ids, Kind.WARNED, named, "SHOULD",
                           completed=raised is None, reason=masked(str(report.wasxfail)))
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return TestVerdict(nodeid, ids, Kind.SKIPPED,
                           reason=masked(str(reason).removeprefix("Skipped: ")))
    if report.passed:
        return TestVerdict(nodeid, ids, Kind.PASSED) if report.when == "call" else None
    if isinstance(error, RequirementViolation):
        soft = item.stash.get(SOFT, [])
        # Strict: the first of the test's SHOULD violations is raised; the verdict names all.
        # A violation after SHOULD findings: they were found, and are named after it.
        named = (error.requirement.id, *sorted(
            {v.requirement.id for v in soft} - {error.requirement.id}))
        reason = "; ".join(str(v) for v in (soft if error in soft else [error, *soft]))
        return TestVerdict(nodeid, ids, Kind.VIOLATED, named,
                           error.level, completed=False, reason=masked(reason))
    if isinstance(error, TargetNotPrepared):
        return TestVerdict(nodeid, ids, Kind.NOT_PREPARED, completed=False,
                           reason=masked(str(error)))
    message = str(error) if error is not None else report.longreprtext
    kind, named = parse_message(message)  # an error wrapping a violation's message
    if kind is Kind.VIOLATED:
        level = requirement(named[0]).level
        return TestVerdict(nodeid, ids, kind, named, level, completed=False,
                           reason=masked(message))
    return TestVerdict(nodeid, ids, Kind.SUITE_ERROR, completed=False,
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
