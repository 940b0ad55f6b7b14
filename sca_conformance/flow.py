"""Drives the hosted pages of one consent through the steps its action describes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import allure
import allure_commons
from playwright.async_api import Locator, Page, Response, expect

from pages import (
    ActivatedPage,
    AddPasskeyPage,
    CardDetailsPage,
    CreatePasscodePage,
    Cvc2Page,
    IdentifyPage,
    PasscodePage,
    PhoneCodePage,
    PinPage,
    SummaryPage,
)
from sca_conformance.catalog import Action
from sca_conformance.client import ApiClient
from sca_conformance.data import Subject, digits


def reporting() -> bool:
    """Whether an Allure results folder is being written in this run."""
    return any(
        type(plugin).__name__ == "AllureFileLogger"
        for plugin in allure_commons.plugin_manager.get_plugins()
    )


class HostedFlow:
    """One browser page going through one consent's hosted pages."""

    def __init__(self, page: Page, action: Action, subject: Subject, api: ApiClient) -> None:
        self.page = page
        self.action = action
        self.subject = subject
        self.api = api
        self.card_details: dict[str, str] = {}
        self.pin: str | None = None

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        with allure.step(self.api.secrets.text(title)):
            yield

    async def screenshot(self, name: str, mask: list[Locator] | None = None) -> None:
        """Evidence of the page as the individual saw it, secrets masked: the given
        locators and any element showing a secret this test knows."""
        if not reporting():
            return  # no report to put it in: a plain local run spends no time on pixels
        known = [self.page.get_by_text(value, exact=True) for value in self.api.secrets.on_screen()]
        image = await self.page.screenshot(mask=[*(mask or []), *known], mask_color="#222")
        allure.attach(image, name=name, attachment_type=allure.attachment_type.PNG)

    # Whole flows ---------------------------------------------------------------------

    async def open(self, redirect_url: str) -> Response | None:
        with self.step("Open redirect_url in the browser"):
            return await self.page.goto(redirect_url)

    async def approve(self, by: str = "passcode") -> None:
        await self.confirm()
        if self.action.identifies:
            await self.identify(by)
        await self.finish()

    async def finish(self) -> None:
        """The action's own steps after identification (or enrolment), as catalogued."""
        for name in self.action.steps:
            await getattr(self, name)()

    async def confirm(self) -> None:
        summary = SummaryPage(self.page)
        with self.step(f"Summary: {self.action.summary}; Confirm"):
            await expect(summary.heading).to_be_visible()
            await self.screenshot("Summary")
            await summary.confirm()

    async def decline(self) -> None:
        summary = SummaryPage(self.page)
        with self.step(f"Summary: {self.action.summary}; Decline"):
            await expect(summary.heading).to_be_visible()
            await self.screenshot("Summary")
            await summary.decline()

    async def identify(self, by: str) -> None:
        identify = IdentifyPage(self.page)
        with self.step(f"Identify yourself: {by}"):
            await expect(identify.heading).to_be_visible()
            await self.screenshot("Identify yourself")
            if by == "passkey":
                await identify.use_passkey()
                return
            await identify.try_another_way()
        await self.enter_passcode(self.subject.passcode or "")

    async def enter_passcode(self, passcode: str) -> None:
        page = PasscodePage(self.page)
        with self.step("Enter the passcode"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Enter your passcode")
            await page.enter(passcode)

    # Steps named in the catalog --------------------------------------------------------

    async def create_passcode(self) -> None:
        passcode = digits(6)
        self.api.secrets.add(passcode)
        self.subject.passcode = passcode
        page = CreatePasscodePage(self.page)
        with self.step("Create your passcode"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Create your passcode")
            await page.create(passcode)

    async def confirm_phone(self) -> None:
        page = PhoneCodePage(self.page)
        with self.step("Confirm your phone number with the SMS code"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Confirm your phone number")
            await page.confirm(await self.sms_code())

    async def sms_code(self) -> str:
        """The one-time code the target texted, read through its SMS simulation."""
        response = await self.api.get(
            "/v3/simulations/sms",
            params={"phone_number": self.subject.individual["phone_number"]},
        )
        code = str(response.json()["code"])
        self.api.secrets.add(code)
        return code

    async def skip_passkey(self) -> None:
        page = AddPasskeyPage(self.page)
        with self.step("Add a passkey: Skip"):
            await expect(page.heading).to_be_visible()
            await page.skip()

    async def add_passkey(self) -> None:
        page = AddPasskeyPage(self.page)
        with self.step("Add a passkey: Add passkey"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Add a passkey")
            await page.add_passkey()

    async def read_card_details(self) -> None:
        page = CardDetailsPage(self.page)
        with self.step("Card details"):
            await expect(page.number).to_be_visible()
            for name, locator in (("holder", page.holder), ("number", page.number),
                                  ("valid_thru", page.valid_thru), ("cvc", page.cvc)):
                self.card_details[name] = (await locator.inner_text()).strip()
            self.api.secrets.add(self.card_details["number"], self.card_details["cvc"])
            await self.screenshot("Card details", mask=page.secrets)

    async def close(self) -> None:
        with self.step("Close"):
            await self.page.get_by_role("button", name="Close", exact=True).click()

    async def set_pin(self) -> None:
        self.pin = digits(4)
        self.api.secrets.add(self.pin)
        page = PinPage(self.page)
        with self.step("Set PIN code"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Set PIN code")
            await page.set_pin(self.pin)

    async def enter_cvc2(self, cvc2: str | None = None) -> None:
        page = Cvc2Page(self.page)
        with self.step("Card activation: CVC2"):
            await expect(page.heading).to_be_visible()
            await self.screenshot("Card activation")
            await page.activate(cvc2 or str(self.subject.values["cvc2"]))
        if cvc2 is None:
            with self.step("Your card is now active"):
                await expect(ActivatedPage(self.page).heading).to_be_visible()
                await self.screenshot("Card active")


def wrong_code(right: str) -> str:
    """A code of the same length that is certainly not the right one."""
    while True:
        candidate = digits(len(right))
        if candidate != right:
            return candidate

