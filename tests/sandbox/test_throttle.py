"""--throttle-every N: every Nth API request of a caller answers 429 with Retry-After
(--throttle-retry-after), whatever it asks; the hosted pages are not counted."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import httpx
import pytest

from sca_sandbox.process import RunningSandbox, run_sandbox

pytestmark = [pytest.mark.api]

PROBE = "/v3/consents/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def throttling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("throttle") / "sandbox.db",
                     extra_args=["--throttle-every", "2", "--throttle-retry-after", "0"]
                     ) as running:
        yield running


async def _login(http: httpx.AsyncClient, key: str) -> httpx.Response:
    while (answer := await http.post("/v3/auth/login", json={"api_key": key})).status_code == 429:
        pass
    return answer


async def test_every_other_api_request_of_a_caller_answers_429_with_retry_after(
    throttling: RunningSandbox,
) -> None:
    async with httpx.AsyncClient(base_url=throttling.url) as http:
        first = (await _login(http, throttling.api_keys[0])).json()
        second = (await _login(http, throttling.api_keys[1])).json()
        alpha = {"Authorization": f"Bearer {first['access_token']}"}
        beta = {"Authorization": f"Bearer {second['access_token']}"}
        answers = [await http.get(PROBE, headers=alpha) for _ in range(6)]
        other = await http.get(PROBE, headers=beta)  # its own count: its first request

    assert [answer.status_code for answer in answers] == [404, 429] * 3
    throttled = answers[1]
    assert throttled.headers["retry-after"] == "0"
    assert throttled.json()["errors"][0]["message"] == "Too many requests: retry in 0 s"
    assert other.status_code == 404


async def test_the_hosted_pages_are_never_throttled(throttling: RunningSandbox) -> None:
    async with httpx.AsyncClient(base_url=throttling.url) as http:
        statuses = [(await http.get("/sca/done")).status_code for _ in range(4)]
    assert 429 not in statuses, statuses


@pytest.mark.parametrize("every", ["1", "-2"])
async def test_a_throttle_that_would_refuse_everything_is_one_line_and_exit_2(every: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sca_sandbox", "--port", "0", "--throttle-every", every,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert stderr.decode().strip() == (
        "sca-sandbox: --throttle-every must be 0 (never) or at least 2")
