"""What evidence shows of a secret: a screenshot with every input and every secret the test
knows masked (`masked_screenshot`, what each screenshot of the suite goes through), and the
text of a report masked in place (`mask_in_place`, a failure's traceback)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from playwright.async_api import Locator, Page

from sca_conformance.pages import CardDetailsPage, Wording
from sca_conformance.redact import SecretRegistry

MASK_COLOUR = "#222"


def form_masks(page: Page, wording: Wording) -> list[Locator]:
    """What a screenshot of any step masks besides the secrets it shows: every input (what
    the individual typed) and the card details' secrets."""
    return [page.locator("input:not([type=hidden])"), *CardDetailsPage(page, wording).secrets]


async def masked_screenshot(page: Page, secrets: SecretRegistry,
                            mask: Iterable[Locator] = ()) -> bytes:
    """The page as the individual saw it: `mask` and any element showing a secret the test
    knows are painted over."""
    known = [page.get_by_text(value, exact=True) for value in secrets.on_screen()]
    return await page.screenshot(mask=[*mask, *known], mask_color=MASK_COLOUR)


def mask_in_place(node: Any, registry: SecretRegistry, depth: int = 0) -> Any:
    """Masks every string inside pytest's traceback representation (dataclasses, lists and
    tuples of them), returning the masked value for immutable ones."""
    if isinstance(node, str):
        return registry.text(node)
    if depth > 8:
        return node
    if isinstance(node, list):
        node[:] = [mask_in_place(item, registry, depth + 1) for item in node]
        return node
    if isinstance(node, tuple):
        return tuple(mask_in_place(item, registry, depth + 1) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            object.__setattr__(node, field.name, mask_in_place(value, registry, depth + 1))
    return node


