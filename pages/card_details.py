from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class CardDetailsPage(HostedPage):
    table = "card_details"

    @property
    def holder(self) -> Locator:
        return self.value("holder")

    @property
    def number(self) -> Locator:
        return self.value("number")

    @property
    def valid_thru(self) -> Locator:
        return self.value("valid_thru")

    @property
    def cvc(self) -> Locator:
        return self.value("cvc")

    @property
    def secrets(self) -> list[Locator]:
        """What a screenshot of this page must mask."""
        return [self.number, self.cvc]

    @property
    def close_button(self) -> Locator:
        return self.control("close")
