from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class PinPage(HostedPage):
    table = "pin"
    fields = ("pin",)

    @property
    def pin(self) -> Locator:
        return self.field("pin")

    async def set_pin(self, pin: str) -> None:
        await self.send("continue", [("pin", pin)])

    async def cancel(self) -> None:
        await self.control("cancel").click()


class Cvc2Page(HostedPage):
    table = "cvc2"
    fields = ("cvc2",)

    @property
    def cvc2(self) -> Locator:
        return self.field("cvc2")

    async def activate(self, cvc2: str) -> None:
        await self.send("activate", [("cvc2", cvc2)])

    async def cancel(self) -> None:
        await self.control("cancel").click()


class ActivatedPage(HostedPage):
    table = "activated"

    async def close(self) -> None:
        await self.control("close").click()
