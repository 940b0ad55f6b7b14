"""The accessibility faults (A11Y-1..4) in both dialects: each changes the pages as its
description says, and only when switched on (the session's clean sandbox is the contrast).
The default pages over HTTP; the nordic pages, rendered by their script, in a browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from sca_sandbox.process import RunningSandbox, run_sandbox
from sca_sandbox.testing import HttpFlow, SandboxClient, payment_body

A11Y_FAULTS = ["decline-low-contrast", "control-pointer-only", "refusal-not-announced",
               "field-without-name", "page-without-lang"]
RETURN_URL = "https://client.example/sca/return"


@pytest.fixture(scope="module")
def inaccessible(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("a11y") / "sandbox.db",
                     faults=A11Y_FAULTS) as running:
        yield running


@pytest.fixture(scope="module")
def inaccessible_nordic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with run_sandbox(tmp_path_factory.mktemp("a11y-nordic") / "sandbox.db", dialect="nordic",
                     faults=A11Y_FAULTS) as running:
        yield running


@pytest_asyncio.fixture
async def broken(inaccessible: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(inaccessible.url, inaccessible.api_keys[0]) as client:
        yield client


@pytest_asyncio.fixture
async def broken_nordic(inaccessible_nordic: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient.connect(inaccessible_nordic.url,
                                     inaccessible_nordic.api_keys[0]) as client:
        yield client


async def payment_method(client: SandboxClient) -> dict[str, Any]:
    person = await client.individual()
    account = await client.account(person["id"], balance=10_000)
    consent = await client.consent("POST", "/v3/transactions/pay",
                                   json=payment_body(account["id"]))
    return await client.initiate(consent["id"], RETURN_URL)


async def pages(client: SandboxClient) -> dict[str, str]:
    """The default pages of a payment: the summary, the passcode step, and the passcode
    step refusing a wrong passcode."""
    flow = HttpFlow(client.http, (await payment_method(client))["redirect_url"])
    shown = {"summary": (await flow.open()).text}
    await flow.step("confirm")
    await flow.step("another-way")
    shown["passcode"] = flow.text
    await flow.step("passcode", passcode="000000")
    shown["refused"] = flow.text
    return shown


@pytest.mark.api
async def test_the_faults_change_the_default_pages(
    broken: SandboxClient, alpha: SandboxClient
) -> None:
    faulty, clean = await pages(broken), await pages(alpha)

    # A11Y-4: page-without-lang
    assert re.search(r"<html>", faulty["summary"]) and '<html lang="en">' in clean["summary"]
    # A11Y-1: decline-low-contrast; A11Y-2: control-pointer-only
    decline = re.compile(r'<button[^>]*class="decline low-contrast"[^>]*tabindex="-1"[^>]*>'
                         r"Decline</button>")
    assert decline.search(faulty["summary"])
    assert re.search(r'<button[^>]*class="decline" formaction="[^"]*">Decline</button>',
                     clean["summary"])
    # A11Y-4: field-without-name (the label is there for the eye, not for assistive technology)
    hidden = '<label for="passcode"><span aria-hidden="true">Passcode</span></label>'
    assert hidden in faulty["passcode"]
    assert '<label for="passcode">Passcode</label>' in clean["passcode"]
    # A11Y-3: refusal-not-announced
    assert '<p class="alert">Wrong passcode. 2 attempts left.</p>' in faulty["refused"]
    assert '<p role="alert" class="alert">Wrong passcode. 2 attempts left.</p>' in clean["refused"]


@pytest.mark.api
async def test_the_nordic_shell_names_its_faults_for_its_script(
    broken_nordic: SandboxClient,
) -> None:
    shell = (await broken_nordic.http.get((await payment_method(broken_nordic))["redirect_url"]))
    names = re.search(r'<meta name="sandbox-faults" content="([^"]*)">', shell.text)
    assert names and set(names.group(1).split(",")) == set(A11Y_FAULTS)


@pytest.mark.browser
async def test_the_faults_change_the_nordic_pages(broken_nordic: SandboxClient, page: Page) -> None:
    await page.goto((await payment_method(broken_nordic))["redirect_url"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Legitimering")
    assert await page.evaluate("() => document.documentElement.hasAttribute('lang')") is False
    decline = page.get_by_role("button", name="Avböj")
    assert await decline.get_attribute("tabindex") == "-1"
    assert await decline.evaluate("(button) => getComputedStyle(button).color") \
        == "rgb(228, 87, 46)"

    await page.get_by_role("button", name="Godkänn").click()
    await page.get_by_role("button", name="Prova ett annat sätt").click()
    field = page.get_by_label("Kod", exact=True)  # found by its label's text, yet unnamed
    await expect(field).to_be_visible()
    assert (await field.aria_snapshot()).strip() == "- textbox"
    await field.fill("000000")
    await page.get_by_role("button", name="Fortsätt").click()
    await expect(page.get_by_text("Fel kod. 2 försök kvar.")).to_be_visible()
    assert await page.get_by_role("alert").count() == 0


@pytest.mark.browser
async def test_the_clean_nordic_pages_announce_name_and_declare(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with run_sandbox(tmp_path_factory.mktemp("nordic-clean") / "sandbox.db",
                     dialect="nordic") as running:
        async with SandboxClient.connect(running.url, running.api_keys[0]) as client:
            await page.goto((await payment_method(client))["redirect_url"])
            await expect(page.get_by_role("heading", level=1)).to_have_text("Legitimering")
            assert await page.evaluate("() => document.documentElement.lang") == "sv"
            assert await page.get_by_role("button", name="Avböj").get_attribute("tabindex") is None
            await page.get_by_role("button", name="Godkänn").click()
            await page.get_by_role("button", name="Prova ett annat sätt").click()
            field = page.get_by_label("Kod", exact=True)
            assert (await field.aria_snapshot()).strip() == '- textbox "Kod"'
            await field.fill("000000")
            await page.get_by_role("button", name="Fortsätt").click()
            await expect(page.get_by_role("alert")).to_have_text("Fel kod. 2 försök kvar.")
