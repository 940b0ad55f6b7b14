"""pytest plugin for the kill matrix: end the run at the first failure that names the
violation the kill matrix is looking for (env KILL_MATRIX_STOP_ON="MUST PAGE-3").

Once a fault is caught, the rest of its selection only costs time."""

from __future__ import annotations

import os
import re
from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    wanted = os.environ.get("KILL_MATRIX_STOP_ON", "")
    if wanted and report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = getattr(crash, "message", "") or str(report.longrepr)
        if re.search(rf"\b{re.escape(wanted)} violated\b", message):
            item.session.shouldstop = f"kill matrix: {wanted} caught"
    return report
