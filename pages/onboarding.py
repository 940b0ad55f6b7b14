from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class CreatePasscodePage(HostedPage):
    table = "create_passcode"
    fields = ("passcode", "repeat")

    @property
    def passcode(self) -> Locator:
        return self.field("passcode")

    @property
    def repeat(self) -> Locator:
        return self.field("repeat")

    async def create(self, passcode: str, repeated: str | None = None) -> None:
        await self.send("continue", [("passcode", passcode),
                                     ("repeat", passcode if repeated is None else repeated)])


class PhoneCodePage(HostedPage):
    table = "phone"
    fields = ("code",)

    @property
    def code(self) -> Locator:
        return self.field("code")

    async def confirm(self, code: str) -> None:
        await self.send("confirm", [("code", code)])


class AddPasskeyPage(HostedPage):
    table = "add_passkey"

    async def add_passkey(self) -> None:
        await self.control("add").click()

    async def skip(self) -> None:
        await self.control("skip").click()
