"""Dialects: the same contract presented the way another provider might present it.

``default`` is the contract as docs/hosted-pages.md describes it (its pages are
``default.py``). Another dialect keeps every requirement but changes what a client or a
browser sees: scope names, the form of ``redirect_url``, extra keys beside the consent,
onboarding by redirect, and its own hosted pages. Each dialect's module has an
``install(app)`` that adds its pages. Behaviour code asks ``dialect_of(sandbox)`` where the
dialects differ; the flow logic stays in ``flow.py`` (and ``passkeys.py``), shared by all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..context import Sandbox


@dataclass(frozen=True)
class Dialect:
    name: str
    description: str
    brand: str = "SCA Sandbox"
    # Scope names where they differ from the contract's (action name -> scope).
    scopes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # The hosted pages' address; {token} is the method's token.
    hosted_path: str = "/sca/{token}"
    # The 412 body carries "_links" beside "consent".
    consent_links: bool = False
    # "consent": onboarding answers 412 (the contract); "redirect": 200 with redirect_url.
    onboarding: Literal["consent", "redirect"] = "consent"

    def scope(self, action: str, contract_scope: str) -> str:
        return self.scopes.get(action, contract_scope)

    def hosted_url(self, base: str, token: str) -> str:
        return base + self.hosted_path.format(token=token)


DEFAULT = Dialect("default", "the contract as written (English pages rendered on the server)")
NORDIC = Dialect(
    "nordic",
    "Swedish pages rendered in the browser from JSON, other scope names, onboarding by redirect",
    brand="Nordbanken Sandbox",
    scopes=MappingProxyType(
        {
            "onboarding": "kyc:onboarding",
            "payment_history": "transactions:read",
            "external_payment": "payments:write",
            "card_details": "cards:sensitive:read",
            "card_activation": "cards:activate",
        }
    ),
    hosted_path="/sca/consent?token={token}",
    consent_links=True,
    onboarding="redirect",
)
DIALECTS = {d.name: d for d in (DEFAULT, NORDIC)}


def dialect_of(sandbox: Sandbox | None) -> Dialect:
    return DIALECTS[sandbox.settings.dialect] if sandbox is not None else DEFAULT


def install(app: FastAPI, name: str) -> None:
    """Add a dialect's hosted pages (and whatever else it needs) to the app."""
    importlib.import_module(f"{__name__}.{name}").install(app)


def listing() -> str:
    return "; ".join(f"{d.name}: {d.description}" for d in DIALECTS.values())
