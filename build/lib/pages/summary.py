from __future__ import annotations

from playwright.async_api import Locator

from pages.base import HostedPage


class SummaryPage(HostedPage):
    """'Authentication': what the individual consents to, Confirm or Decline."""

    table = "summary"

    @property
    def intro(self) -> Locator:
        return self.page.get_by_text(self.texts["intro"])

    @property
    def consent(self) -> Locator:
        return self.page.get_by_role("region", name=self.texts["consent_region"], exact=True)

    def action_title(self, action: str) -> Locator:
        """The action named in the consent region, in any element."""
        return self.consent.get_by_text(self.texts[action], exact=True)

    def detail(self, key: str) -> Locator:
        """A dynamically linked value (amount, payee, iban, account, card, reference): the
        element labelled with it, or the definition or cell that follows the term."""
        label = self.texts[key]
        literal = "'" + label + "'" if "'" not in label else '"' + label + '"'
        return self.consent.get_by_label(label, exact=True).or_(self.consent.locator(
            f"xpath=.//dt[normalize-space(.)={literal}]/following-sibling::dd[1]"
            f" | .//th[normalize-space(.)={literal}]/following-sibling::td[1]"
        )).first

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
