from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class IdentifyPage(HostedPage):
    """'Identify yourself': a passkey, or 'Try another way' for the passcode."""

    table = "identify"

    @property
    def use_passkey_button(self) -> Locator:
        return self.control("use_passkey")

    @property
    def another_way_button(self) -> Locator:
        return self.control("another_way")

    async def try_another_way(self) -> None:
        await self.another_way_button.click()


class PasscodePage(HostedPage):
    table = "passcode"
    fields = ("passcode",)

    @property
    def passcode(self) -> Locator:
        return self.field("passcode")

    @property
    def continue_button(self) -> Locator:
        return self.control("continue")

    async def enter(self, passcode: str) -> None:
        await self.send(self.continue_button, [("passcode", passcode)])
