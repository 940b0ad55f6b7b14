"""pytest plugin for the kill matrix, loaded into each of its runs (`-p`):

- writes one JSON line per test phase to $KILL_MATRIX_PROBE_OUT: the outcome, the
  exception's own message (`MUST PAGE-3 violated: ...`, `SHOULD warning [...]`), taken
  from the exception rather than from a report another hook may have rewritten, and the
  phase's duration (`last` marks the teardown that also tears the session down);
- one JSON line per set-up of a fixture wider than a test (session, package, module):
  its key and duration, so that a test's own time can be told from the start-up it
  happened to pay for (the first test that needs the browser launches it);
- the suite's own verdict of each test phase (sca_conformance.verdict), which the kill
  matrix judges by;
- ends the run at the first failure naming $KILL_MATRIX_STOP_ON ("MUST PAGE-3"): once
  a fault is caught, the rest of its selection only costs time.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Generator
from typing import Any

import pytest

from sca_conformance.verdict import of_report

MESSAGE_LIMIT = 400
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.?[\w-]*")  # a token the test never saw (a faulty login's)
_LAST = pytest.StashKey[bool]()
_WIDE_SCOPES = ("session", "package", "module")


def _write(line: dict[str, Any]) -> None:
    out = os.environ.get("KILL_MATRIX_PROBE_OUT", "")
    if out:
        with open(out, "a", encoding="utf-8") as lines:
            lines.write(json.dumps(line) + "\n")


def _xfailed(call: pytest.CallInfo[None], report: pytest.TestReport) -> str | None:
    """The xfail reason, whether or not pytest's skipping hook has run yet."""
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail)
    if call.excinfo is not None and call.excinfo.errisinstance(pytest.xfail.Exception):
        return str(getattr(call.excinfo.value, "msg", call.excinfo.value))
    return None


def _outcome(call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    if _xfailed(call, report) is not None:
        return "xfailed"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return "skipped" if report.skipped else "passed"


def _message(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    reason = _xfailed(call, report)
    if reason is not None:
        text = reason
    elif call.excinfo is not None and not report.passed:
        text = call.excinfo.exconly()
    else:
        return ""
    text = _JWT.sub("[token]", text[:MESSAGE_LIMIT])
    try:  # the suite's own mask for what this test saw (tokens, card numbers)
        from sca_conformance.plugin.evidence import SECRETS

        registry = item.stash.get(SECRETS, None)
    except ImportError:
        registry = None
    return registry.text(text) if registry is not None else text


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    item.stash[_LAST] = nextitem is None


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    if fixturedef.scope not in _WIDE_SCOPES:
        return (yield)
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        where = "" if fixturedef.scope == "session" else f":{request.node.nodeid}"
        _write({"fixture": f"{fixturedef.scope}:{fixturedef.argname}{where}",
                "seconds": round(time.perf_counter() - started, 4)})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    outcome, message = _outcome(call, report), _message(item, call, report)
    line = {"nodeid": report.nodeid, "when": report.when, "outcome": outcome,
            "message": message, "seconds": round(report.duration, 4)}
    verdict = of_report(report)  # the suite's own verdict of the test (sca_conformance.verdict)
    if verdict is not None:
        line["verdict"] = verdict.to_json()
    if report.when == "teardown" and item.stash.get(_LAST, False):
        line["last"] = True
    _write(line)
    wanted = os.environ.get("KILL_MATRIX_STOP_ON", "")
    if wanted and report.failed and re.search(rf"\b{re.escape(wanted)} violated\b", message):
        item.session.shouldstop = f"kill matrix: {wanted} caught"
    return report
