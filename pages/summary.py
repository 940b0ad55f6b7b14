from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class SummaryPage(HostedPage):
    """'Authentication': what the individual consents to, Confirm or Decline."""

    title = "Authentication"

    @property
    def intro(self) -> Locator:
        return self.page.get_by_text("I identify myself to")

    @property
    def consent(self) -> Locator:
        return self.page.get_by_role("region", name="Consent")

    @property
    def action_heading(self) -> Locator:
        return self.consent.get_by_role("heading", level=2)

    def detail(self, label: str) -> Locator:
        """A dynamically linked value (Amount, Payee, IBAN, Account, Card, Reference)."""
        return self.consent.get_by_label(label, exact=True)

    async def confirm(self) -> None:
        await self.button("Confirm").click()

    async def decline(self) -> None:
        await self.button("Decline").click()
