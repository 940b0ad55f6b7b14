"""RACE-1..4 in the sandbox itself: its state changes hold when requests arrive at the same
time, and each race fault opens exactly the window its description names (the session's
clean sandbox is the contrast)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import PASSCODE, HttpFlow, SandboxClient, payment_body

pytestmark = pytest.mark.api

AT_ONCE = 8
RETURN_URL = "https://client.example/sca/return?order=42"

# These three faults open windows on different steps (paying, identifying, initiating):
# one sandbox holds them. The decline race needs an approval that does not race itself.
RACY = ["payment-repeat-race", "approval-race", "initiation-race"]


@pytest.fixture(scope="module")
def racy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("racy") / "sandbox.db", faults=RACY) as running:
        yield running


@pytest.fixture(scope="module")
def racy_decline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(
        tmp_path_factory.mktemp("racy-decline") / "sandbox.db", faults=["decline-approval-race"]
    ) as running:
        yield running


@pytest_asyncio.fixture
async def racing(racy: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(racy.url, racy.api_keys[0]) as client:
        yield client


@pytest_asyncio.fixture
async def declining(racy_decline: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(racy_decline.url, racy_decline.api_keys[0]) as client:
        yield client


async def approved_payment(client: SandboxClient) -> tuple[dict[str, Any], str]:
    """A payment approved in the hosted pages (not yet made) and its account's id."""
    person = await client.individual()
    account = await client.account(person["id"], balance=100_000)
    body = payment_body(account["id"])
    consent = await client.consent("POST", "/v3/transactions/pay", json=body)
    method = await client.initiate(consent["id"], RETURN_URL)
    last = await HttpFlow(client.http, method["redirect_url"]).approve()
    assert last.headers["location"].endswith("status=approved"), last.headers
    return body, account["id"]


async def balance(client: SandboxClient, account_id: str) -> int:
    found: int = (await client.ok("GET", f"/v3/accounts/{account_id}"))["balance"]
    return found


async def on_passcode(client: SandboxClient) -> tuple[HttpFlow, str]:
    """A payment's flow on its passcode step, and its consent's id."""
    person = await client.individual()
    account = await client.account(person["id"], balance=100_000)
    consent = await client.consent(
        "POST", "/v3/transactions/pay", json=payment_body(account["id"])
    )
    method = await client.initiate(consent["id"], RETURN_URL)
    flow = HttpFlow(client.http, method["redirect_url"])
    await flow.open()
    await flow.step("confirm")
    await flow.step("another-way")
    return flow, consent["id"]


def landed(answer: httpx.Response) -> str | None:
    """The landing an answer sends the browser to (None: back into the flow, or an end page)."""
    location = answer.headers.get("location", "") if answer.status_code == 303 else ""
    return location if location.startswith(RETURN_URL.split("?", maxsplit=1)[0]) else None


# RACE-1 ------------------------------------------------------------------------------------


async def paid_at_once(client: SandboxClient) -> tuple[set[str], int, int]:
    """Repeats of one approved payment sent at once: the transactions answered, the amount
    and how much the balance moved."""
    body, account_id = await approved_payment(client)
    before = await balance(client, account_id)
    answers = await asyncio.gather(
        *(client.post("/v3/transactions/pay", json=body) for _ in range(AT_ONCE)))
    assert [answer.status_code for answer in answers] == [200] * AT_ONCE
    return ({answer.json()["id"] for answer in answers}, body["amount"],
            before - await balance(client, account_id))


async def test_repeats_of_an_approved_payment_at_once_pay_once(alpha: SandboxClient) -> None:
    transactions, amount, moved = await paid_at_once(alpha)

    assert len(transactions) == 1
    assert moved == amount


async def test_payment_repeat_race_pays_every_repeat(racing: SandboxClient) -> None:
    transactions, amount, moved = await paid_at_once(racing)

    assert len(transactions) == AT_ONCE
    assert moved == AT_ONCE * amount


async def test_payment_repeat_race_keeps_a_later_repeat_idempotent(
    racing: SandboxClient,
) -> None:
    body, account_id = await approved_payment(racing)
    first = await racing.ok("POST", "/v3/transactions/pay", json=body)
    after_first = await balance(racing, account_id)

    again = await racing.ok("POST", "/v3/transactions/pay", json=body)

    assert again["id"] == first["id"]  # AFTER-1 still holds: the window is only for racers
    assert await balance(racing, account_id) == after_first


# RACE-2 ------------------------------------------------------------------------------------


async def passcode_twice(client: SandboxClient) -> tuple[list[str | None], list[int], str]:
    """The passcode submitted twice at once: where each answer sends the browser, the status
    of the page each shows next, and the consent's status."""
    flow, consent_id = await on_passcode(client)
    answers = await asyncio.gather(
        *(flow.post("passcode", passcode=PASSCODE) for _ in range(2)))
    shown = [(await flow.http.get(answer.headers["location"])).status_code
             if landed(answer) is None else 200 for answer in answers]
    return [landed(answer) for answer in answers], shown, await client.status(consent_id)


async def test_two_passcode_submissions_at_once_approve_once(alpha: SandboxClient) -> None:
    landings, shown, status = await passcode_twice(alpha)

    assert len([url for url in landings if url]) == 1
    assert sorted(shown) == [200, 409]  # the landing, and "already completed"
    assert status == "approved"


async def test_approval_race_lets_both_submissions_approve(racing: SandboxClient) -> None:
    landings, _, status = await passcode_twice(racing)

    assert len([url for url in landings if url]) == 2
    assert all(url.endswith("status=approved") for url in landings if url)
    assert status == "approved"


# RACE-3 ------------------------------------------------------------------------------------


async def decline_and_approve(client: SandboxClient) -> tuple[httpx.Response, httpx.Response, str]:
    flow, consent_id = await on_passcode(client)
    decline, approve = await asyncio.gather(
        flow.post("decline"), flow.post("passcode", passcode=PASSCODE))
    return decline, approve, await client.status(consent_id)


async def test_a_decline_and_an_approval_at_once_end_in_one_of_them(
    alpha: SandboxClient,
) -> None:
    decline, approve, status = await decline_and_approve(alpha)

    assert status in ("approved", "declined")
    said = [url for url in (landed(decline), landed(approve)) if url]
    assert len(said) == 1 and said[0].endswith(f"status={status}")


async def test_decline_approval_race_declines_after_the_approval_landed(
    declining: SandboxClient,
) -> None:
    decline, approve, status = await decline_and_approve(declining)

    assert (landed(approve) or "").endswith("status=approved")
    assert (landed(decline) or "").endswith("status=declined")
    assert status == "declined"  # the approval's landing said otherwise


# RACE-4 ------------------------------------------------------------------------------------


async def working_tokens(client: SandboxClient) -> int:
    """Of initiations of one consent sent at once, how many tokens still open its flow."""
    person = await client.individual()
    account = await client.account(person["id"])
    consent = await client.consent("GET", f"/v3/transactions?account_id={account['id']}")
    methods = await asyncio.gather(
        *(client.initiate(consent["id"], RETURN_URL) for _ in range(AT_ONCE)))
    opened = [await client.http.get(method["redirect_url"]) for method in methods]
    return sum(page.status_code == 200 for page in opened)


async def test_initiations_at_once_leave_one_working_token(alpha: SandboxClient) -> None:
    assert await working_tokens(alpha) == 1


async def test_initiation_race_leaves_every_token_working(racing: SandboxClient) -> None:
    assert await working_tokens(racing) == AT_ONCE
