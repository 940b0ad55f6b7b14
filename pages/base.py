from __future__ import annotations

from playwright.async_api import Locator, Page


class HostedPage:
    """What every hosted page has: one main heading and a place for refusals."""

    title = ""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1, name=self.title, exact=True)

    @property
    def alert(self) -> Locator:
        return self.page.get_by_role("alert")

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)
