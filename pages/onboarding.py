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

    @property
    def continue_button(self) -> Locator:
        return self.control("continue")

    async def create(self, passcode: str, repeated: str | None = None) -> None:
        repeat = passcode if repeated is None else repeated
        await self.send(self.continue_button, [("passcode", passcode), ("repeat", repeat)])


class PhoneCodePage(HostedPage):
    table = "phone"
    fields = ("code",)

    @property
    def code(self) -> Locator:
        return self.field("code")

    @property
    def confirm_button(self) -> Locator:
        return self.control("confirm")

    async def confirm(self, code: str) -> None:
        await self.send(self.confirm_button, [("code", code)])


class AddPasskeyPage(HostedPage):
    table = "add_passkey"

    @property
    def add_button(self) -> Locator:
        return self.control("add")

    @property
    def skip_button(self) -> Locator:
        return self.control("skip")
