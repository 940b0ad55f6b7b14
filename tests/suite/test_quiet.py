"""Quiet and pytest-like: a failure shows the verdict and the test's own lines, and the
Allure results show what a reader of the test sees (its fixtures, the suite's tags, HTTP
steps as long as their exchanges). The plugin runs for real in a separate pytest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suite.plugin_run import PLUGINS

FAILURES = """
import pytest
from sca_conformance import checks

def expect_pending(consent):
    checks.consent_is_pending(consent)

@pytest.mark.requirement("TRIGGER-4")
def test_violation():
    expect_pending({"status": "Pending"})

@pytest.mark.requirement("TRIGGER-4")
def test_not_prepared():
    with checks.preparing("GET /v3/individuals/42"):
        {"individual": {}}["id"]

@pytest.mark.requirement("TRIGGER-8")
def test_suite_error():
    checks.consent_ids_distinct(None, {"id": "42"})
"""



def _failure(result: pytest.RunResult, test: str) -> str:
    """The report of one failure: from its header to the next one or the summary."""
    text = result.stdout.str()
    start = text.index(f" {test} ")
    ends = [text.find(mark, start + 1) for mark in ("\n____", "\n====")]
    return text[start:min(end for end in ends if end > 0)]


def test_a_verdict_shows_its_message_and_the_tests_own_lines(suite: pytest.Pytester) -> None:
    suite.makepyfile(FAILURES)
    result = suite.runpytest_subprocess(*PLUGINS, "--tb=auto")
    result.assert_outcomes(failed=3)
    violation = _failure(result, "test_violation")
    assert "MUST TRIGGER-4 violated: consent.status: expected \"pending\", got 'Pending'" in (
        violation)
    assert 'expect_pending({"status": "Pending"})' in violation  # the test's own line
    assert "checks.consent_is_pending(consent)" in violation  # and its helper's
    for internal in ("sca_conformance/", "contextlib", "The above exception"):
        assert internal not in violation
    not_prepared = _failure(result, "test_not_prepared")
    assert "Target could not be prepared: GET /v3/individuals/42: KeyError 'id'" in not_prepared
    assert '>           {"individual": {}}["id"]' in not_prepared  # the line that failed
    assert "sca_conformance/" not in not_prepared


def test_a_suite_error_shows_the_suites_frames_and_full_trace_shows_all(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(FAILURES)
    result = suite.runpytest_subprocess(*PLUGINS, "--tb=auto")
    error = _failure(result, "test_suite_error")
    assert "TypeError" in error
    assert "sca_conformance/checks/" in error  # the helper that raised it
    full = suite.runpytest_subprocess(*PLUGINS, "--full-trace", "-k", "test_violation")
    assert "sca_conformance/checks/" in full.stdout.str()
    assert "The above exception was the direct cause" in full.stdout.str()


READER = """
import asyncio

import allure
import httpx
import pytest

from sca_conformance.client import ApiClient
from sca_conformance.plugin.evidence import attach_exchange

@pytest.fixture
def plumbing():
    yield "plumbing"

@pytest.fixture
def named(plumbing):
    yield plumbing

async def slowly(request):
    await asyncio.sleep(0.2)
    return httpx.Response(200, json={"access_token": "at-1", "refresh_token": "rt-1"})

@allure.tag("smoke")
@pytest.mark.browser
@pytest.mark.card_details
@pytest.mark.any_onboarding_style
@pytest.mark.asyncio
@pytest.mark.requirement("TRIGGER-4")
async def test_reader(named):
    async with ApiClient("http://target.test", "key-123456", on_exchange=attach_exchange,
                         transport=httpx.MockTransport(slowly)) as client:
        await client.login()
"""


def _results(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    (result,) = [json.loads(path.read_text()) for path in folder.glob("*-result.json")]
    containers = [json.loads(path.read_text()) for path in folder.glob("*-container.json")]
    return result, [c for c in containers if result["uuid"] in c.get("children", [])]


def test_allure_shows_the_tests_fixtures_the_suites_tags_and_timed_exchanges(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(READER)
    results = suite.path / "results"
    suite.runpytest_subprocess(*PLUGINS, f"--alluredir={results}").assert_outcomes(passed=1)
    result, containers = _results(results)
    assert [run["name"] for c in containers for run in c.get("befores", [])] == ["named"]
    afters = [run["name"] for c in containers for run in c.get("afters", [])]
    assert afters and all(name.startswith("named::") for name in afters), afters
    assert not any(name.endswith("::<lambda>") for name in afters)
    tags = [label["value"] for label in result["labels"] if label["name"] == "tag"]
    assert sorted(tags) == ["browser", "card_details", "must", "smoke"]
    (step,) = result["steps"]
    assert step["name"] == "POST /v3/auth/login → 200"
    assert step["stop"] - step["start"] >= 200  # the exchange's 0.2 s, not the writing's
