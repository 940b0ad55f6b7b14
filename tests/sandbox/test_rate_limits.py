"""Rate limits as options (contract section 8a, the staging personality): --login-rate-limit
(logins a minute per API key) and --request-rate-limit (requests a second per client), each
answering 429 with Retry-After once spent; off by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sca_sandbox.limits import Window
from sca_sandbox.process import RunningSandbox, run_sandbox

pytestmark = [pytest.mark.api]

PROBE = "/v3/consents/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """A sandbox admitting 3 logins a minute per key and 5 requests a second per client."""
    with run_sandbox(tmp_path_factory.mktemp("limits") / "sandbox.db",
                     login_rate_limit=3, request_rate_limit=5) as running:
        yield running


async def login(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post("/v3/auth/login", json={"api_key": key})


async def test_the_login_after_the_limit_answers_429_with_retry_after_per_key(
    limited: RunningSandbox,
) -> None:
    async with httpx.AsyncClient(base_url=limited.url) as http:
        admitted = [await login(http, limited.api_keys[0]) for _ in range(3)]
        refused = await login(http, limited.api_keys[0])
        other_key = await login(http, limited.api_keys[1])

    assert [r.status_code for r in admitted] == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["errors"][0]["message"].startswith("Too many logins")
    assert other_key.status_code == 200  # the limit is per key


async def test_the_request_after_the_limit_answers_429_with_retry_after_per_client(
    limited: RunningSandbox,
) -> None:
    async with httpx.AsyncClient(base_url=limited.url) as http:
        pair = (await login(http, limited.api_keys[1])).json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        answers = [await http.get(PROBE, headers=headers) for _ in range(12)]

    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [404] * 5  # admitted: the unknown consent's own answer
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert throttled, statuses
    assert all(answer.headers["retry-after"] == "1" for answer in throttled)
    assert throttled[0].json()["errors"][0]["message"].startswith("Too many requests")


async def test_without_the_options_nothing_is_limited(tmp_path: Path) -> None:
    with run_sandbox(tmp_path / "sandbox.db") as plain:
        async with httpx.AsyncClient(base_url=plain.url) as http:
            logins = [await login(http, plain.api_keys[0]) for _ in range(8)]
            headers = {"Authorization": f"Bearer {logins[-1].json()['access_token']}"}
            answers = [await http.get(PROBE, headers=headers) for _ in range(30)]

    assert {r.status_code for r in logins} == {200}
    assert {a.status_code for a in answers} == {404}


def test_a_window_admits_its_limit_then_names_the_wait_until_the_oldest_leaves() -> None:
    now = [100.0]
    window = Window(2, 60.0, clock=lambda: now[0])
    assert window.admit("k") is None
    now[0] = 110.0
    assert window.admit("k") is None
    assert window.admit("k") == 50  # the first leaves at 160
    assert window.admit("other") is None
    now[0] = 160.0
    assert window.admit("k") is None


@pytest.mark.parametrize("option", ["--login-rate-limit", "--request-rate-limit"])
def test_a_negative_limit_is_a_usage_error(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sca_sandbox.__main__ import main

    assert main([option, "-1", "--port", "0"]) == 2
    assert f"{option} must be at least 0" in capsys.readouterr().err
