from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class IdentifyPage(HostedPage):
    """'Identify yourself': a passkey, or 'Try another way' for the passcode."""

    title = "Identify yourself"

    @property
    def use_passkey_button(self) -> Locator:
        return self.button("Use passkey")

    async def use_passkey(self) -> None:
        await self.use_passkey_button.click()

    async def try_another_way(self) -> None:
        await self.button("Try another way").click()


class PasscodePage(HostedPage):
    title = "Enter your passcode"

    @property
    def passcode(self) -> Locator:
        return self.page.get_by_label("Passcode", exact=True)

    async def enter(self, passcode: str) -> None:
        await self.passcode.fill(passcode)
        await self.button("Continue").click()
