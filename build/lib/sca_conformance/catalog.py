"""The five protected actions, described as data: what each needs, what triggers it, its
scope, and the hosted steps it takes after identification. A target profile can switch
an action off or override its request; a new hosted UI needs a new description here, not
new test code."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sca_conformance.config import Profile

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True, repr=False)
class Action:
    name: str
    scope: str
    method: str
    path: str
    subject: str  # what the data factory prepares: see data.DataFactory.subject
    body: dict[str, Any] | None = None
    identifies: bool = True  # onboarding enrols instead of identifying
    steps: tuple[str, ...] = ()  # hosted steps after identification (or enrolment)
    # What the summary must show exactly as requested (keys of the summary's text table).
    dynamic_linking: tuple[str, ...] = ()
    # Knowledge the individual has but the API never gives (a physical card's CVC2), gained
    # through the hosted pages before the flow under test.
    browser_preparation: tuple[str, ...] = ()
    # What approval does, and where to look: "repeat" (repeating the request now succeeds),
    # or a resource whose status becomes "active", or "page" (the hosted page is the result).
    effect: str = "repeat"
    observes: tuple[str, str] | None = None  # (resource path, field) that approval changes

    def request(self, values: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        return self.method, self.path.format(**values), render(self.body, values)

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__  # what a report's parameter column shows


def render(template: Any, values: dict[str, Any]) -> Any:
    """Fills `{name}` placeholders; a value that is only a placeholder keeps its type."""
    if isinstance(template, dict):
        return {key: render(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [render(item, values) for item in template]
    if isinstance(template, str):
        whole = _PLACEHOLDER.match(template)
        return values[whole.group(1)] if whole else template.format(**values)
    return template


PAYMENT_BODY = {
    "request_id": "{request_id}",
    "account_id": "{account_id}",
    "counterparty": {
        "name": "{payee_name}",
        "account": {"iban": "{payee_iban}", "bic": "{payee_bic}"},
    },
    "amount": "{amount}",
    "reference": "{reference}",
}

CATALOG: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            name="onboarding",
            scope="onboarding",
            method="POST",
            path="/v3/individuals/{individual_id}/onboard",
            subject="pending_individual",
            identifies=False,
            steps=("create_passcode", "confirm_phone", "skip_passkey"),
            effect="active",
            observes=("/v3/individuals/{individual_id}", "status"),
        ),
        Action(
            name="payment_history",
            scope="read_transactions",
            method="GET",
            path="/v3/transactions?account_id={account_id}",
            subject="funded_account",
        ),
        Action(
            name="external_payment",
            scope="make_payment",
            method="POST",
            path="/v3/transactions/pay",
            subject="payment",
            body=PAYMENT_BODY,
            dynamic_linking=("amount", "payee", "iban"),
            observes=("/v3/accounts/{account_id}", "balance"),
        ),
        Action(
            name="card_details",
            scope="view_card_details",
            method="POST",
            path="/v3/cards/{card_id}/details",
            subject="virtual_card",
            steps=("read_card_details", "close"),
            dynamic_linking=("card",),
            effect="page",
        ),
        Action(
            name="card_activation",
            scope="activate_card",
            method="POST",
            path="/v3/cards/{card_id}/activate",
            subject="physical_card",
            steps=("set_pin", "enter_cvc2", "close"),
            dynamic_linking=("card",),
            browser_preparation=("reveal_cvc2",),
            effect="active",
            observes=("/v3/cards/{card_id}", "status"),
        ),
    )
}


def actions_for(profile: Profile) -> list[Action]:
    """The catalog as this target has it: switched-off actions left out, its scope names
    and request overrides applied."""
    chosen = []
    for action in CATALOG.values():
        settings = profile.action(action.name)
        if not settings.enabled:
            continue
        chosen.append(
            replace(
                action,
                method=settings.method or action.method,
                path=settings.path or action.path,
                scope=settings.scope or action.scope,
                body=action.body if settings.body is None else settings.body,
            )
        )
    return chosen
