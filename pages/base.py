from __future__ import annotations

import weakref
from collections.abc import Mapping

from playwright.async_api import Locator, Page

from sca_conformance.texts import DEFAULT, Texts

_TEXTS: weakref.WeakKeyDictionary[Page, Texts] = weakref.WeakKeyDictionary()


def use_texts(page: Page, texts: Texts) -> None:
    """The text table (the target's wording) every page object on `page` looks for."""
    _TEXTS[page] = texts


def texts_of(page: Page) -> Texts:
    return _TEXTS.get(page, DEFAULT)


class HostedPage:
    """What every hosted page has: a main heading, buttons, a place for refusals. Texts
    come from the page's text table (`table`), in the target's wording."""

    table = ""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def texts(self) -> Mapping[str, str]:
        return texts_of(self.page)[self.table]

    @property
    def title(self) -> str:
        return self.texts["heading"]

    @property
    def heading(self) -> Locator:
        return self.page.get_by_role("heading", name=self.title, exact=True)

    @property
    def alert(self) -> Locator:
        return self.page.get_by_role("alert")

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    def control(self, key: str) -> Locator:
        """A button named by this page's text `key` (its wording in the target's table)."""
        return self.button(self.texts[key])

    def field(self, key: str) -> Locator:
        """An input labelled by this page's text `key`."""
        return self.page.get_by_label(self.texts[key], exact=True)
