"""pytest plugin for the kill matrix, loaded into each of its runs (`-p`):

- writes one JSON line per test phase to $KILL_MATRIX_PROBE_OUT: the outcome and the
  exception's own message (`MUST PAGE-3 violated: ...`, `SHOULD warning [...]`), taken
  from the exception rather than from a report another hook may have rewritten;
- ends the run at the first failure naming $KILL_MATRIX_STOP_ON ("MUST PAGE-3"): once
  a fault is caught, the rest of its selection only costs time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator

import pytest

MESSAGE_LIMIT = 400
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.?[\w-]*")  # a token the test never saw (a faulty login's)


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
        from sca_conformance.reporting import SECRETS

        registry = item.stash.get(SECRETS, None)
    except ImportError:
        registry = None
    return registry.text(text) if registry is not None else text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    outcome, message = _outcome(call, report), _message(item, call, report)
    out = os.environ.get("KILL_MATRIX_PROBE_OUT", "")
    if out and (report.when == "call" or outcome != "passed"):
        with open(out, "a", encoding="utf-8") as lines:
            lines.write(json.dumps({"nodeid": report.nodeid, "when": report.when,
                                    "outcome": outcome, "message": message}) + "\n")
    wanted = os.environ.get("KILL_MATRIX_STOP_ON", "")
    if wanted and report.failed and re.search(rf"\b{re.escape(wanted)} violated\b", message):
        item.session.shouldstop = f"kill matrix: {wanted} caught"
    return report
