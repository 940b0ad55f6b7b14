"""Evidence masking on its own: what a screenshot paints over, and a report's text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sca_conformance.masking import MASK_COLOUR, mask_in_place, masked_screenshot
from sca_conformance.redact import MASK, SecretRegistry


class FakePage:
    """Records what a screenshot was asked to mask; locators are their descriptions."""

    def __init__(self) -> None:
        self.shot: dict[str, Any] = {}

    def get_by_text(self, text: str, *, exact: bool) -> str:
        return f"text={text} exact={exact}"

    async def screenshot(self, **options: Any) -> bytes:
        self.shot = options
        return b"png"


async def test_a_screenshot_masks_what_it_is_given_and_every_secret_on_screen() -> None:
    secrets = SecretRegistry()
    secrets.add("483920", "key-abcdef")
    page = FakePage()
    image = await masked_screenshot(page, secrets, ["inputs"])  # type: ignore[arg-type, list-item]
    assert image == b"png"
    assert page.shot["mask_color"] == MASK_COLOUR
    assert page.shot["mask"][0] == "inputs"
    assert {f"text={value} exact=True" for value in secrets.on_screen()} == set(
        page.shot["mask"][1:])
    assert "text=483920 exact=True" in page.shot["mask"]


@dataclass
class Entry:
    lines: list[str]
    message: str


def test_a_traceback_representation_is_masked_in_place() -> None:
    secrets = SecretRegistry()
    secrets.add("4111 1111 1111 1111")
    entry = Entry(["pan = '4111 1111 1111 1111'"], "E   got '4111 1111 1111 1111'")
    kept = mask_in_place([entry, ("4111 1111 1111 1111", 3)], secrets)
    assert entry.lines == [f"pan = '{MASK}'"] and entry.message == f"E   got '{MASK}'"
    assert kept[1] == (MASK, 3)
