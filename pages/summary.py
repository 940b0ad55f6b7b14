from __future__ import annotations

import re

from playwright.async_api import Locator

from .base import HostedPage


class SummaryPage(HostedPage):
    """'Authentication': what the individual consents to, Confirm or Decline."""

    table = "summary"

    @property
    def intro(self) -> Locator:
        return self.page.get_by_text(self.texts["intro"])

    def brand(self, name: str) -> Locator:
        """The provider's name, which the summary introduces ("I identify myself to ...")."""
        return self.page.get_by_text(name).first

    def action_title(self, action: str) -> Locator:
        """The action's wording on the page, in any element (a region, a dialog, the main
        landmark, a heading, a sentence), as words of its own, in any case."""
        spaced = r"\s+".join(re.escape(word) for word in self.texts[action].split())
        words = re.compile(rf"(?<!\w){spaced}(?!\w)", re.IGNORECASE)  # any white space
        return self.page.get_by_text(words).first

    def detail(self, key: str) -> Locator:
        """A dynamically linked value (amount, payee, iban, account, card, reference)."""
        return self.value(key)

    @property
    def confirm_button(self) -> Locator:
        return self.control("confirm")

    @property
    def decline_button(self) -> Locator:
        return self.control("decline")

    async def confirm(self) -> None:
        await self.confirm_button.click()

    async def decline(self) -> None:
        await self.decline_button.click()
