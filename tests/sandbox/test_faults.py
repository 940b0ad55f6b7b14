"""Faults whose failure is slow or easy to misattribute (issue 10): each does what its
description says, and only when switched on (the session's clean sandbox is the contrast)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import HttpFlow, SandboxClient

pytestmark = pytest.mark.api

# Faults that do not touch each other's behaviour share one sandbox; the two landing
# faults both rewrite the final redirect, so the port one gets a sandbox of its own.
FAULTY = [
    "redirect-url-relative",
    "consent-read-unwrapped",
    "decline-button-missing",
    "landing-path-dropped",
]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("faulty") / "sandbox.db", faults=FAULTY) as running:
        yield running


@pytest.fixture(scope="module")
def other_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(
        tmp_path_factory.mktemp("other-port") / "sandbox.db", faults=["landing-on-other-port"]
    ) as running:
        yield running


@pytest_asyncio.fixture
async def broken(faulty: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(faulty.url, faulty.api_keys[0]) as client:
        yield client


@pytest_asyncio.fixture
async def misdirected(other_port: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(other_port.url, other_port.api_keys[0]) as client:
        yield client


async def history_consent(client: SandboxClient) -> dict[str, Any]:
    person = await client.individual()
    account = await client.account(person["id"])
    return await client.consent("GET", f"/v3/transactions?account_id={account['id']}")


async def landing(client: SandboxClient, return_url: str, *, decline: bool = False) -> str:
    """Where the last redirect of an approved (or declined) flow sends the browser."""
    consent = await history_consent(client)
    method = await client.initiate(consent["id"], return_url)
    flow = HttpFlow(client.http, method["redirect_url"])
    last = await (flow.decline() if decline else flow.approve())
    assert last.status_code == 303, last.text[:300]
    added = f"consent_id={consent['id']}&status={'declined' if decline else 'approved'}"
    location = last.headers["location"]
    assert location.endswith(added), location
    return location.removesuffix(added)


async def test_redirect_url_relative(broken: SandboxClient, alpha: SandboxClient) -> None:
    consent = await history_consent(broken)
    method = await broken.initiate(consent["id"], "https://client.example/back")
    clean = await alpha.initiate((await history_consent(alpha))["id"])

    assert method["redirect_url"] == f"/sca/{method['token']}"
    assert (await broken.get(method["redirect_url"])).status_code == 200  # the flow is there
    assert clean["redirect_url"].startswith("http://")


async def test_consent_read_unwrapped(broken: SandboxClient, alpha: SandboxClient) -> None:
    faulty_consent = await history_consent(broken)
    clean_consent = await history_consent(alpha)

    faulty_read = await broken.ok("GET", f"/v3/consents/{faulty_consent['id']}")
    clean_read = await alpha.ok("GET", f"/v3/consents/{clean_consent['id']}")

    assert "consent" not in faulty_read
    assert faulty_read["id"] == faulty_consent["id"] and faulty_read["status"] == "pending"
    assert list(clean_read) == ["consent"] and clean_read["consent"]["status"] == "pending"


async def test_decline_button_missing(broken: SandboxClient, alpha: SandboxClient) -> None:
    pages = []
    for client in (broken, alpha):
        method = await client.initiate((await history_consent(client))["id"])
        pages.append((await client.http.get(method["redirect_url"])).text)
    faulty_page, clean_page = pages

    assert ">Confirm</button>" in faulty_page and "Decline" not in faulty_page
    assert ">Decline</button>" in clean_page


async def test_landing_path_dropped(broken: SandboxClient, alpha: SandboxClient) -> None:
    return_url = "https://client.example/shop/sca/return?order=42"

    assert await landing(broken, return_url) == "https://client.example/?order=42&"
    assert await landing(broken, return_url, decline=True) == "https://client.example/?order=42&"
    assert await landing(alpha, return_url) == f"{return_url}&"


@pytest.mark.parametrize(
    ("return_url", "lands_on"),
    [
        ("http://127.0.0.1:3000/cb?a=1", "http://127.0.0.1:3001/cb?a=1&"),
        ("https://client.example/back", "https://client.example:444/back?"),
        ("http://[::1]:8/x", "http://[::1]:9/x?"),
    ],
)
async def test_landing_on_other_port(
    misdirected: SandboxClient, alpha: SandboxClient, return_url: str, lands_on: str
) -> None:
    assert await landing(misdirected, return_url) == lands_on
    assert await landing(misdirected, return_url, decline=True) == lands_on
    clean = return_url + ("&" if "?" in return_url else "?")
    assert await landing(alpha, return_url) == clean
