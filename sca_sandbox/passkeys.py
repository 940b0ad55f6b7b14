"""Passkeys (WebAuthn) in the hosted flow: offered on the identify step (PAGE-3), added on
onboarding's add_passkey step.

The options keep their challenge in the flow's state; an answer is verified against it and
leads on like any step (an ``Outcome`` of ``flow.py``) or is refused with a message (a str).
The relying party's id and origin come from the sandbox's public URL. Each dialect calls
these from its own routes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from . import faults
from .flow import Flow, Leave, Outcome, complete_onboarding, identified


def has_passkey(flow: Flow) -> bool:  # PAGE-3
    if faults.active("passkey-option-missing"):
        return False
    return (
        flow.store.one(
            "SELECT 1 FROM passkeys WHERE individual_id = ?", flow.consent["individual_id"]
        )
        is not None
    )


def registration_options(flow: Flow, rp_name: str = "SCA Sandbox") -> str:
    """WebAuthn registration options (JSON) for the add_passkey step; keeps the challenge."""
    individual = flow.individual()
    settings = flow.sandbox.settings
    existing = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", individual["id"]
    )
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=rp_name,
        user_id=uuid.UUID(individual["id"]).bytes,
        user_name=individual["email"],
        user_display_name=f"{individual['first_name']} {individual['last_name']}",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(r["credential_id"]))
            for r in existing
        ],
    )
    flow.state["challenge"] = bytes_to_base64url(options.challenge)
    flow.save()
    return options_to_json(options)


def register_passkey(flow: Flow, credential: dict[str, Any] | None) -> Outcome | str:
    """Verify and store a new passkey, which completes onboarding; a str is a refusal."""
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None:
        return "Start the passkey registration again."
    settings = flow.sandbox.settings
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_origin=settings.origin,
            expected_rp_id=settings.rp_id,
            require_user_verification=True,
        )
    except Exception:  # the library raises many types; each is a refusal
        return "The passkey could not be registered."
    with flow.store.tx():
        flow.store.run(
            "INSERT OR REPLACE INTO passkeys"
            " (credential_id, individual_id, public_key, sign_count, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            bytes_to_base64url(verified.credential_id),
            flow.consent["individual_id"],
            verified.credential_public_key,
            verified.sign_count,
            flow.now,
        )
    return Leave(complete_onboarding(flow))


def authentication_options(flow: Flow) -> str | None:
    """WebAuthn assertion options (JSON) for the identify step; None without a passkey."""
    rows = flow.store.all(
        "SELECT credential_id FROM passkeys WHERE individual_id = ?", flow.consent["individual_id"]
    )
    if not rows:
        return None
    options = generate_authentication_options(
        rp_id=flow.sandbox.settings.rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(r["credential_id"])) for r in rows
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    flow.state["challenge"] = bytes_to_base64url(options.challenge)
    flow.save()
    return options_to_json(options)


def verify_passkey(flow: Flow, credential: dict[str, Any] | None) -> Outcome | str:
    """Check a passkey assertion (PAGE-3); a str is a refusal."""
    challenge = flow.state.pop("challenge", None)
    flow.save()
    if credential is None or challenge is None or not isinstance(credential.get("rawId"), str):
        return "Start the passkey check again."
    stored = flow.store.one(
        "SELECT * FROM passkeys WHERE credential_id = ? AND individual_id = ?",
        credential["rawId"],
        flow.consent["individual_id"],
    )
    if stored is None:
        return "This passkey is not known."
    settings = flow.sandbox.settings
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            credential_public_key=stored["public_key"],
            credential_current_sign_count=stored["sign_count"],
            require_user_verification=True,
        )
    except Exception:  # the library raises many types; each is a refusal
        return "The passkey was not accepted."
    flow.store.run(
        "UPDATE passkeys SET sign_count = ? WHERE credential_id = ?",
        verified.new_sign_count,
        stored["credential_id"],
    )
    return identified(flow)


async def credential_of(request: Request) -> dict[str, Any] | None:
    """The browser's WebAuthn answer, the JSON body of a passkey call; None if it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
