from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class PinPage(HostedPage):
    title = "Set PIN code"

    @property
    def pin(self) -> Locator:
        return self.page.get_by_label("PIN", exact=True)

    async def set_pin(self, pin: str) -> None:
        await self.pin.fill(pin)
        await self.button("Continue").click()

    async def cancel(self) -> None:
        await self.button("Cancel").click()


class Cvc2Page(HostedPage):
    title = "Card activation"

    @property
    def cvc2(self) -> Locator:
        return self.page.get_by_label("CVC2", exact=True)

    async def activate(self, cvc2: str) -> None:
        await self.cvc2.fill(cvc2)
        await self.button("Activate").click()

    async def cancel(self) -> None:
        await self.button("Cancel").click()


class ActivatedPage(HostedPage):
    title = "Your card is now active"

    async def close(self) -> None:
        await self.button("Close").click()
