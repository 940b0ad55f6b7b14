"""Dynamic linking (PAGE-2): what the page displays against what was requested."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


def normalised(text: str) -> str:
    return " ".join(text.split())


def electronic_iban(text: str) -> str:
    """An IBAN in electronic form: print-form spaces and case do not matter."""
    return re.sub(r"\s+", "", text).upper()


CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "kr": "SEK", "¥": "JPY", "zł": "PLN",
                    "Fr.": "CHF", "CHF": "CHF"}


def parse_amount(displayed: str, decimal_separator: str = ".") -> tuple[int, str]:
    """(minor units, currency code) from a displayed amount such as `12.34 EUR`,
    `€12.34`, `12,34 €` or `1 234,56 EUR`."""
    text = normalised(displayed.replace("\u00a0", " ").replace("\u202f", " "))
    currency = next((code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in text), "")
    code = re.search(r"\b[A-Z]{3}\b", text)
    if code:
        currency = code[0]
    number = re.search(r"-?\d[\d\s.,'’]*", text)
    if number is None:
        raise ValueError(f"no number in {displayed!r}")
    grouping = {".", ",", " ", "'", "’"} - {decimal_separator}
    digits = "".join(c for c in number[0].strip() if c not in grouping)
    try:
        value = Decimal(digits.replace(decimal_separator, "."))
    except InvalidOperation:
        raise ValueError(f"not an amount: {displayed!r}") from None
    return int(value * 100), currency


@proves("PAGE-2")
def amount_shown(displayed: str, amount: int, currency: str, decimal_separator: str) -> None:
    try:
        shown = parse_amount(displayed, decimal_separator)
    except ValueError:
        shown = (None, None)  # type: ignore[assignment]
    if shown != (amount, currency):
        raise Mismatch("the amount on the summary", f"{amount / 100:.2f} {currency}",
                       normalised(displayed))


@proves("PAGE-2")
def text_shown(label: str, displayed: str, requested: str) -> None:
    if normalised(displayed) != normalised(requested):
        raise Mismatch(f"the {label} on the summary", requested, normalised(displayed))


@proves("PAGE-2")
def iban_shown(displayed: str, requested: str) -> None:
    if electronic_iban(displayed) != electronic_iban(requested):
        raise Mismatch("the payee's IBAN on the summary (electronic form)", requested,
                       normalised(displayed))


@proves("PAGE-2")
def card_shown(displayed: str, last4: str) -> None:
    compact = re.sub(r"[\s-]", "", displayed)
    if not re.search(rf"(?<!\d){re.escape(last4)}(?!\d)", displayed) or re.search(
        r"\d{12,}", compact
    ):
        # Never echo what may be a whole card number into a failure message.
        shown = "a whole card number" if re.search(r"\d{12,}", compact) else normalised(displayed)
        raise Mismatch("the card on the summary", f"its last four digits {last4}", shown)
