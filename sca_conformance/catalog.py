"""The five protected actions, described as data: what each needs, what triggers it, its
scope, and the hosted steps it takes after identification. A target profile can switch
an action off or override its request; a new hosted UI needs a new description here, not
new test code.

Every request of the contract has a name in one table (`ENDPOINTS`), its path relative to the
target's base path (`[target] base_path`, the contract's `/v3` by default); a profile's
`[paths]` overrides one path, so that another version, a gateway's prefix or a provider's own
path works. The suite builds its paths through `endpoint()`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sca_conformance.endpoints import BASE_PATH, ENDPOINTS

if TYPE_CHECKING:
    from sca_conformance.profile import Profile

__all__ = ["BASE_PATH", "ENDPOINTS", "endpoint"]  # the table's names, as the suites use them
_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


def endpoint(profile: Profile | None, name: str, **values: Any) -> str:
    """The path of the contract's request `name` on this target (its base path, its
    `[paths]` override), placeholders filled from `values` (left as written if not given)."""
    base = profile.target.base_path if profile is not None else BASE_PATH
    template = (profile.paths.get(name) if profile is not None else None) or ENDPOINTS[name]
    path = base.rstrip("/") + template
    return path.format(**values) if values else path


@dataclass(frozen=True, repr=False)
class Action:
    name: str
    scope: str
    method: str
    endpoint: str  # its request's name in ENDPOINTS
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
    # (resource, field) that approval changes: the resource a name of ENDPOINTS
    observes: tuple[str, str] | None = None
    base_path: str = BASE_PATH
    route: str = ""  # its path relative to the base path on this target (ENDPOINTS' if empty)
    observed_path: str = ""  # the observed resource's path template on this target

    @property
    def path(self) -> str:
        return self.base_path.rstrip("/") + (self.route or ENDPOINTS[self.endpoint])

    def request(self, values: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        return self.method, self.path.format(**values), render(self.body, values)

    def observed(self, values: dict[str, Any]) -> tuple[str, str] | None:
        """(path, field) of what approval changes, for these values."""
        if self.observes is None:
            return None
        template = self.observed_path or endpoint(None, self.observes[0])
        return template.format(**values), self.observes[1]

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
            endpoint="onboard",
            subject="pending_individual",
            identifies=False,
            steps=("create_passcode", "confirm_phone", "skip_passkey"),
            effect="active",
            observes=("individual", "status"),
        ),
        Action(
            name="payment_history",
            scope="read_transactions",
            method="GET",
            endpoint="transactions",
            subject="funded_account",
        ),
        Action(
            name="external_payment",
            scope="make_payment",
            method="POST",
            endpoint="pay",
            subject="payment",
            body=PAYMENT_BODY,
            dynamic_linking=("amount", "payee", "iban"),
            observes=("account", "balance"),
        ),
        Action(
            name="card_details",
            scope="view_card_details",
            method="POST",
            endpoint="card_details",
            subject="virtual_card",
            steps=("read_card_details", "close"),
            dynamic_linking=("card",),
            effect="page",
        ),
        Action(
            name="card_activation",
            scope="activate_card",
            method="POST",
            endpoint="card_activation",
            subject="physical_card",
            steps=("set_pin", "enter_cvc2", "close"),
            dynamic_linking=("card",),
            browser_preparation=("reveal_cvc2",),
            effect="active",
            observes=("card", "status"),
        ),
    )
}


def actions_for(profile: Profile) -> list[Action]:
    """The catalog as this target has it: switched-off actions left out, its scope names,
    base path, paths and request overrides applied."""
    chosen = []
    for action in CATALOG.values():
        settings = profile.action(action.name)
        if not settings.enabled:
            continue
        chosen.append(
            replace(
                action,
                method=settings.method or action.method,
                # An action's own path is the whole path, as written; [paths] follow base_path.
                route=settings.path or profile.paths.get(action.endpoint, ""),
                base_path="" if settings.path else profile.target.base_path,
                observed_path=(endpoint(profile, action.observes[0])
                               if action.observes else ""),
                scope=settings.scope or action.scope,
                body=action.body if settings.body is None else settings.body,
            )
        )
    return chosen
