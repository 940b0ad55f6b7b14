"""Keeps secrets out of everything the suite writes: step titles, attachments, traces."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MASK = "«redacted»"
SECRET_FIELDS = frozenset(
    {
        "api_key", "access_token", "refresh_token", "token", "passcode", "pin", "cvc", "cvc2",
        "card_number", "pan", "code", "authorization", "x-csrf-token", "csrf", "cookie",
        "set-cookie",
    }
)
# Signed, or unsigned (alg "none": header.payload. with an empty signature).
JWT = re.compile(
    r"eyJ[A-Za-z0-9_-]{5,}\.(?:eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
    r"|[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})"
)
# A run of digits, possibly grouped by single spaces or dashes; Luhn decides which groups
# form a card number (a PAN may be followed by more digits: "4111 1111 1111 1111 123").
CARD_NUMBER = re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)")
PAN_LENGTHS = (15, 16, 19)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class SecretRegistry:
    """The secret values one test has seen; every redaction masks all of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, *values: str | None) -> None:
        for value in values:
            if value and len(value) >= 3:
                self._values.add(value)
                digits = re.sub(r"\D", "", value)
                if len(digits) >= 13:
                    self._values.add(" ".join(digits[i : i + 4] for i in range(0, len(digits), 4)))

    def __iter__(self) -> Any:
        return iter(sorted(self._values, key=len, reverse=True))

    def on_screen(self) -> list[str]:
        """The secrets a page may show: codes, PINs, card numbers and CVCs. Keys and tokens
        are left out of screenshot masks, whose selectors a Playwright trace records."""
        return [value for value in self if re.fullmatch(r"[\d -]+", value)]

    def text(self, value: str) -> str:
        for secret in self:
            value = _replace(value, secret)
        value = JWT.sub(MASK, value)
        return CARD_NUMBER.sub(_mask_card_number, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: MASK if str(key).lower() in SECRET_FIELDS and item else self.data(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return {
            name: (MASK if name.lower() in SECRET_FIELDS else self.text(value))
            for name, value in headers
        }

    def body(self, content: bytes) -> Any:
        """A request or response body as redacted JSON, or redacted text when not JSON."""
        if not content:
            return None
        try:
            return self.data(json.loads(content))
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python goes
            return self.text(content.decode("utf-8", errors="replace"))

    def scrub_archive(self, path: Path) -> None:
        """Rewrites a zip (a Playwright trace) with every secret masked in every member."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(
            buffer, "w", zipfile.ZIP_DEFLATED
        ) as target:
            for member in source.infolist():
                content = source.read(member.filename)
                if member.filename.endswith((".jpeg", ".jpg", ".png", ".webp")):
                    continue  # pixels cannot be scrubbed; the suite traces without screenshots
                if member.filename.endswith(".zip"):
                    nested = path.with_suffix(".nested.zip")
                    nested.write_bytes(content)
                    self.scrub_archive(nested)
                    content = nested.read_bytes()
                    nested.unlink()
                else:
                    content = self._scrub_bytes(content, member.filename)
                target.writestr(member, content)
        path.write_bytes(buffer.getvalue())

    def _scrub_bytes(self, content: bytes, name: str = "") -> bytes:
        text = content.decode("utf-8", errors="surrogateescape")
        if name.endswith((".trace", ".network")):
            # JSON lines: masked value by value, so that every line still parses (a mask
            # in place of a bare number would leave the trace viewer a line it rejects).
            text = "\n".join(self._scrub_json_line(line) for line in text.split("\n"))
        else:
            text = self._scrub_text(text)
        return text.encode("utf-8", errors="surrogateescape")

    def _scrub_text(self, text: str) -> str:
        for secret in self:
            text = _replace(text, secret)
            text = _replace(text, json.dumps(secret)[1:-1])
        text = JWT.sub(MASK, text)
        return CARD_NUMBER.sub(_mask_card_number, text)

    def _scrub_json_line(self, line: str) -> str:
        if not line.strip():
            return line
        try:
            value = json.loads(line)
        except ValueError:
            return self._scrub_text(line)
        return json.dumps(self._scrub_json(value), ensure_ascii=False, separators=(",", ":"))

    def _scrub_json(self, value: Any) -> Any:
        if isinstance(value, str):
            worth_a_look = "eyJ" in value or any(char.isdigit() for char in value) or any(
                secret in value for secret in self._values
            )
            return self.text(value) if worth_a_look else value
        if isinstance(value, dict):
            return {self._scrub_json(key): self._scrub_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._scrub_json(item) for item in value]
        return value  # numbers, booleans, null: nothing typed or shown is stored as these


PREFIX = 12
"""A long secret is masked from its first PREFIX characters on, so that a message cut
short in the middle of a token ("...sca/AbCdEf0123456") shows no part of it either."""


def _replace(text: str, secret: str) -> str:
    # A numeric secret (passcode, PIN, CVC) is masked only where it stands alone, not
    # inside a longer number such as a timestamp or a decimal ("11.342").
    if secret.isdigit():
        return re.sub(rf"(?<!\d)(?<!\d\.){secret}(?!\.?\d)", MASK, text)
    text = text.replace(secret, MASK)
    if len(secret) >= 2 * PREFIX and secret[:PREFIX] in text:
        # What remains of it after a cut: its start, then any of its own characters.
        alphabet = re.escape("".join(sorted(set(secret))))
        text = re.sub(re.escape(secret[:PREFIX]) + f"[{alphabet}]*", MASK, text)
    return text


def _mask_card_number(match: re.Match[str]) -> str:
    """Masks every run of whole groups that is a Luhn-valid 15, 16 or 19 digit number."""
    run = match.group(0)
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    masked: list[tuple[int, int]] = []
    first = 0
    while first < len(groups):
        found, digits = None, ""
        for last in range(first, len(groups)):
            digits += run[groups[last][0] : groups[last][1]]
            if len(digits) > max(PAN_LENGTHS):
                break
            if len(digits) in PAN_LENGTHS and luhn_valid(digits):
                found = last  # the longest wins: a 19-digit PAN over its 16-digit prefix
        if found is None:
            first += 1
            continue
        masked.append((groups[first][0], groups[found][1]))
        first = found + 1
    for start, end in reversed(masked):
        run = run[:start] + MASK + run[end:]
    return run
