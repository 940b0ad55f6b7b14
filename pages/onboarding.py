from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class CreatePasscodePage(HostedPage):
    title = "Create your passcode"

    @property
    def passcode(self) -> Locator:
        return self.page.get_by_label("Passcode", exact=True)

    @property
    def repeat(self) -> Locator:
        return self.page.get_by_label("Repeat passcode", exact=True)

    async def create(self, passcode: str, repeated: str | None = None) -> None:
        await self.passcode.fill(passcode)
        await self.repeat.fill(passcode if repeated is None else repeated)
        await self.button("Continue").click()


class PhoneCodePage(HostedPage):
    title = "Confirm your phone number"

    @property
    def code(self) -> Locator:
        return self.page.get_by_label("SMS code", exact=True)

    async def confirm(self, code: str) -> None:
        await self.code.fill(code)
        await self.button("Confirm").click()


class AddPasskeyPage(HostedPage):
    title = "Add a passkey"

    async def add_passkey(self) -> None:
        await self.button("Add passkey").click()

    async def skip(self) -> None:
        await self.button("Skip").click()
