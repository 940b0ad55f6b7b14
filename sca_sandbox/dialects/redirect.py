"""Onboarding by redirect: ``POST /v3/individuals/{id}/onboard {"return_url"?}`` answers
200 ``{"redirect_url", "expires_at"}`` (the provider's onboarding page) instead of a 412.

Underneath it is a consent created and initiated at once, so the hosted flow, its
lifecycle and every fault work exactly as for the other actions.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from .. import staging
from ..consents import initiate, new_consent
from ..context import Caller
from ..schemas import InitBody


async def _return_url(request: Request) -> str | None:
    """The optional body's return_url, validated as for initiation (INIT-6)."""
    raw = await request.body()
    if not raw.strip() or raw.strip() == b"null":
        return None
    try:
        body = InitBody.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None
    return body.return_url


async def onboard_by_redirect(
    caller: Caller,
    request: Request,
    *,
    individual_id: str,
    subject_id: str,
    fingerprint: str,
    summary: dict[str, Any],
) -> JSONResponse:
    return_url = await _return_url(request)
    staging.registered(caller.sandbox.settings.return_url_allow, return_url)
    consent_id, _ = new_consent(
        caller,
        "onboarding",
        individual_id=individual_id,
        subject_id=subject_id,
        fingerprint=fingerprint,
        summary=summary,
    )
    method = (await initiate(caller.sandbox, caller, consent_id, return_url))["method"]
    shown = {"redirect_url": method["redirect_url"], "expires_at": method["expires_at"]}
    return JSONResponse(shown)


def describe_onboarding(operation: dict[str, Any]) -> None:
    """The onboard operation of the OpenAPI document, as this dialect answers it."""
    operation["summary"] = "Onboard (KYC): answers the onboarding page to send the browser to"
    operation["responses"].pop("412", None)
    operation["responses"]["200"] = {
        "description": "The provider's onboarding page: {redirect_url, expires_at}",
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["redirect_url", "expires_at"],
            "properties": {
                "redirect_url": {"type": "string", "format": "uri"},
                "expires_at": {"type": "string", "format": "date-time"},
            },
        }}},
    }
