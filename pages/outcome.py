from __future__ import annotations

from playwright.async_api import Page

from pages.base import HostedPage


class LockedOutPage(HostedPage):
    title = "Too many wrong attempts"

    async def close(self) -> None:
        await self.button("Close").click()


class DonePage(HostedPage):
    """The provider's own end page, when the consent was initiated without return_url."""

    title = "Done"


class ErrorPage(HostedPage):
    """An expired, unknown, altered or used link: the page says so."""

    NOT_VALID = "This link is not valid"
    EXPIRED = "This link has expired"
    COMPLETED = "This consent is already completed"
    REFUSED = "Request refused"

    def __init__(self, page: Page, title: str) -> None:
        super().__init__(page)
        self.title = title

    async def close(self) -> None:
        await self.button("Close").click()
