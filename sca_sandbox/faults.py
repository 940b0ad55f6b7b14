"""Injectable faults: each one breaks exactly one requirement of the contract.

The behaviour code asks ``active("name")`` at the single place where the requirement is
implemented; a fault is a one-line switch there, never a second copy of a handler.
The set of active faults is fixed at start-up (``--fault NAME``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    requirement: str
    description: str


_ALL = [
    Fault("login-accepts-unknown-key", "AUTH-1", "login with an unknown API key answers 200"),
    Fault("token-signature-not-verified", "AUTH-2", "access token signatures are not checked"),
    Fault("expired-token-accepted", "AUTH-2", "expired access tokens are still accepted"),
    Fault(
        "refresh-before-expiry-allowed", "AUTH-3", "refresh works while the access token is valid"
    ),
    Fault("refresh-token-reusable", "AUTH-4", "a refresh token keeps working after rotation"),
    Fault(
        "protected-action-answers-403", "TRIGGER-1", "protected actions answer 403 instead of 412"
    ),
    Fault("consent-content-type-text", "TRIGGER-1", "the 412 body is sent as text/plain"),
    Fault("consent-not-wrapped", "TRIGGER-2", "the 412 body is the bare consent, not {consent}"),
    Fault("consent-id-not-uuid", "TRIGGER-3", "consent ids are not UUIDs"),
    Fault("status-capitalised", "TRIGGER-4", "a new consent's status reads 'Pending'"),
    Fault("scope-missing-action", "TRIGGER-5", "the consent scope does not name the action"),
    Fault("expires-at-without-timezone", "TRIGGER-6", "consent.expires_at has no time zone"),
    Fault("payment-executed-before-approval", "TRIGGER-7", "a payment is executed with its 412"),
    Fault("consent-id-reused", "TRIGGER-8", "a pending consent id is handed out again"),
    Fault("move-requires-consent", "TRIGGER-9", "moves between own accounts answer 412"),
    Fault("method-missing-token", "INIT-1", "the method has no token"),
    Fault("redirect-url-without-token", "INIT-2", "redirect_url does not carry the token"),
    Fault("redirect-url-relative", "INIT-2", "redirect_url is relative (/sca/{token})"),
    Fault("method-expires-at-in-past", "INIT-3", "method.expires_at lies in the past"),
    Fault("method-outlives-consent", "INIT-4", "the method expires after its consent"),
    Fault("consent-visible-to-other-client", "INIT-5", "any client can initiate any consent"),
    Fault("return-url-not-validated", "INIT-6", "return_url is accepted without checks"),
    Fault("reinit-after-approval-allowed", "INIT-7", "consents that ended can be initiated"),
    Fault("reinit-keeps-old-token", "INIT-8", "re-initiation leaves the earlier token working"),
    Fault("init-without-auth", "INIT-9", "initiation works without a bearer token"),
    Fault("summary-hides-action", "PAGE-1", "the summary does not name the action"),
    Fault("summary-shows-wrong-amount", "PAGE-2", "the summary shows another amount"),
    Fault("passkey-option-missing", "PAGE-3", "'Use passkey' is never offered"),
    Fault("return-url-query-dropped", "PAGE-4", "the return_url's own query is dropped"),
    Fault(
        "landing-on-other-port", "PAGE-4", "the final redirect goes to return_url's port + 1"
    ),
    Fault("landing-path-dropped", "PAGE-4", "the final redirect drops return_url's path"),
    Fault("landing-without-status", "PAGE-5", "the landing URL has no status parameter"),
    Fault("decline-still-approves", "PAGE-6", "Decline records the consent as approved"),
    Fault("decline-button-missing", "PAGE-6", "the summary page has no Decline button"),
    Fault("no-passcode-lockout", "PAGE-7", "wrong passcodes never lock the consent"),
    Fault("altered-token-accepted", "PAGE-8", "a slightly altered token still opens the flow"),
    Fault("token-reusable", "PAGE-9", "an ended flow restarts when its link is opened again"),
    Fault("framing-allowed", "PAGE-10", "pages can be framed"),
    Fault("cacheable-pages", "PAGE-11", "pages are cacheable and send a referrer"),
    Fault("csrf-not-checked", "PAGE-12", "form posts are accepted without the CSRF value"),
    Fault("cvc2-not-checked", "PAGE-13", "any CVC2 activates the card"),
    Fault("card-api-returns-pan", "PAGE-14", "GET /v3/cards/{id} returns the PAN and CVC"),
    Fault("onboarding-skips-sms", "PAGE-15", "onboarding never confirms the phone number"),
    Fault("payment-executed-twice", "AFTER-1", "repeating an approved payment pays again"),
    Fault("consent-status-not-updated", "AFTER-2", "GET /v3/consents/{id} always says pending"),
    Fault(
        "consent-read-unwrapped", "AFTER-2", "GET /v3/consents/{id} answers the bare consent"
    ),
    Fault(
        "consent-not-bound-to-amount", "AFTER-3", "an approval covers any payment from the account"
    ),
    Fault("declined-consent-id-reused", "AFTER-4", "a declined/failed/expired consent is revived"),
    Fault("history-window-never-ends", "AFTER-5", "a history approval never lapses"),
    Fault("expiry-not-enforced", "AFTER-6", "pending consents never expire"),
    Fault("card-details-consent-reusable", "AFTER-7", "a viewed card-details consent is reused"),
    Fault("reactivation-answers-412", "AFTER-7", "activating an active card asks for consent"),
    Fault("validation-error-without-field", "ERR-1", "validation errors do not name the field"),
    Fault("null-accepted-for-optional-field", "ERR-2", "null is accepted for optional fields"),
    Fault("empty-string-accepted", "ERR-2", "empty strings are accepted"),
    Fault("malformed-json-500", "ERR-3", "malformed JSON answers 500"),
    Fault("decline-low-contrast", "A11Y-1",
          "the summary's Decline is orange on white: contrast 3.7:1, not 4.5:1"),
    Fault("control-pointer-only", "A11Y-2", "the summary's Decline is out of the Tab order "
          "(tabindex=-1): only a pointer reaches it"),
    Fault("refusal-not-announced", "A11Y-3", "a refusal is plain text: no alert, live region "
          "or tie to its field"),
    Fault("field-without-name", "A11Y-4", "the fields' labels are hidden from assistive "
          "technology (aria-hidden): no field has an accessible name"),
    Fault("page-without-lang", "A11Y-4", "the hosted pages declare no language (no lang)"),
    Fault("focus-not-drawn", "A11Y-2", "the focus is reset to outline: none on :focus and "
          ":focus-visible with nothing in its place (only outline-offset changes)"),
    Fault("alert-hidden", "A11Y-3", "a refusal's role=alert has aria-hidden=true: shown, but "
          "not in the accessibility tree"),
    Fault("labels-as-captions", "A11Y-4", "the fields' labels are styled captions (no <label>, "
          "no tie): no field has an accessible name"),
    Fault("passcode-digit-boxes", "A11Y-4", "the passcode is typed into six per-digit boxes "
          "without labels (a script moves on from box to box)"),
    Fault(
        "payment-repeat-race", "RACE-1", "concurrent repeats of an approved payment each pay"
    ),
    Fault("approval-race", "RACE-2", "two passcode submissions of one consent both approve"),
    Fault(
        "decline-approval-race", "RACE-3", "a decline racing an approval overwrites it afterwards"
    ),
    Fault("initiation-race", "RACE-4", "concurrent initiations each leave their token working"),
]

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL}

RACE_WINDOW = 0.5
"""Seconds a race fault (RACE-n) holds a request between its check and the act the check
allows: long enough for a concurrent request, sent at the same moment, to pass the check too."""

_active: set[str] = set()


def configure(names: Iterable[str]) -> None:
    """Set the active faults; raises KeyError naming the first unknown one."""
    chosen = set(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            raise KeyError(name)
    _active.clear()
    _active.update(chosen)


def active(name: str) -> bool:
    assert name in FAULTS, f"unknown fault {name!r}"
    return name in _active


def active_names() -> list[str]:
    return sorted(_active)


def listing() -> str:
    return "\n".join(f"{f.name} {f.requirement} {f.description}" for f in _ALL)
