from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class CardDetailsPage(HostedPage):
    title = "Card details"

    @property
    def holder(self) -> Locator:
        return self.page.get_by_label("Card holder", exact=True)

    @property
    def number(self) -> Locator:
        return self.page.get_by_label("Card number", exact=True)

    @property
    def valid_thru(self) -> Locator:
        return self.page.get_by_label("Valid thru", exact=True)

    @property
    def cvc(self) -> Locator:
        return self.page.get_by_label("CVC", exact=True)

    @property
    def secrets(self) -> list[Locator]:
        """What a screenshot of this page must mask."""
        return [self.number, self.cvc]

    async def close(self) -> None:
        await self.button("Close").click()
