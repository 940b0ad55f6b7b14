from __future__ import annotations

from playwright.async_api import Locator, Page

from .base import HostedPage, Wording


class LockedOutPage(HostedPage):
    table = "locked"

    @property
    def close_button(self) -> Locator:
        return self.control("close")

    async def close(self) -> None:
        await self.close_button.click()


class DonePage(HostedPage):
    """The provider's own end page, when the consent was initiated without return_url."""

    table = "done"


class ErrorPage(HostedPage):
    """An end state the contract defines: an unknown or altered link, an expired one, a
    consent already completed, a refused request. `kind` is its key in the `ends` table."""

    table = "ends"
    NOT_VALID = "not_valid"
    EXPIRED = "expired"
    COMPLETED = "completed"
    REFUSED = "refused"
    KINDS = (NOT_VALID, EXPIRED, COMPLETED, REFUSED)

    def __init__(self, page: Page, wording: Wording, kind: str) -> None:
        super().__init__(page, wording)
        self.kind = kind

    @property
    def title(self) -> str:
        return self.texts[self.kind]


class EndStates(HostedPage):
    """Any end state the contract defines, whichever the page shows."""

    @property
    def headings(self) -> dict[str, Locator]:
        shown = {kind: ErrorPage(self.page, self.wording, kind).heading for kind in ErrorPage.KINDS}
        shown["locked"] = LockedOutPage(self.page, self.wording).heading
        return shown

    @property
    def titles(self) -> list[str]:
        """The end states' headings, in the target's wording."""
        titles = [ErrorPage(self.page, self.wording, kind).title for kind in ErrorPage.KINDS]
        return [*titles, LockedOutPage(self.page, self.wording).title]

    @property
    def any(self) -> Locator:
        headings = list(self.headings.values())
        combined = headings[0]
        for heading in headings[1:]:
            combined = combined.or_(heading)
        return combined
