from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class PinPage(HostedPage):
    table = "pin"
    fields = ("pin",)

    @property
    def pin(self) -> Locator:
        return self.field("pin")

    @property
    def continue_button(self) -> Locator:
        return self.control("continue")


class Cvc2Page(HostedPage):
    table = "cvc2"
    fields = ("cvc2",)

    @property
    def cvc2(self) -> Locator:
        return self.field("cvc2")

    @property
    def activate_button(self) -> Locator:
        return self.control("activate")

    async def activate(self, cvc2: str) -> None:
        await self.send(self.activate_button, [("cvc2", cvc2)])


class ActivatedPage(HostedPage):
    table = "activated"

    @property
    def close_button(self) -> Locator:
        return self.control("close")
