"""The staging personality's data side (options of ``python -m sca_sandbox``): the sandbox
answers as the provider's staging documents itself (contract, Sources): some simulations
off, a KYC-outcome simulation instead of the activation one, an individual `activated`,
a blocked individual answered 422 ``{"error": {"code", "message"}}``, the SMS code shown on
the hosted page, accounts that open funded; and its pages as integrators have seen them:
the passcode in labelled per-digit boxes, a step that submits itself once the code is
complete (no Continue), an SMS confirmation inside an action's flow (default dialect).
Set once at start-up, as the faults are."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

SIMULATIONS = ("clock", "sms", "funding", "activation")
SMS_STEP_ACTIONS = ("payment_history", "external_payment", "card_details", "card_activation")
"""The actions whose flow can ask for an SMS code after identification (--sms-step);
onboarding has its own (the phone number's confirmation)."""


@dataclass(frozen=True)
class Personality:
    simulations_off: frozenset[str] = frozenset()
    individual_word: str = "active"  # the API's word for an onboarded individual
    blocked_error_envelope: bool = False  # 422 {"error": {...}} instead of 409 {"errors"}
    sms_code_on_page: bool = False  # the SMS step shows the code it sent
    opening_balance: int = 0  # minor units a new account opens with (no funding needed)
    passcode_boxes: bool = False  # the passcode in per-digit boxes, each labelled
    auto_submit: bool = False  # the passcode step submits itself when complete: no Continue
    sms_steps: frozenset[str] = frozenset()  # actions confirmed by an SMS code after identifying


_CURRENT = [Personality()]


def configure(personality: Personality) -> None:
    unknown = set(personality.simulations_off) - set(SIMULATIONS)
    unknown |= set(personality.sms_steps) - set(SMS_STEP_ACTIONS)
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    _CURRENT[0] = personality


def current() -> Personality:
    return _CURRENT[0]


def simulated(name: str) -> bool:
    """Whether the simulation `name` (one of SIMULATIONS) answers (else: 404)."""
    return name not in current().simulations_off


def individual_word(status: str) -> str:
    """The API's word for an individual's stored status."""
    return current().individual_word if status == "active" else status


def registered(allowed: tuple[str, ...], return_url: str | None) -> None:
    """--return-url-allow: only a registered https return_url is accepted (a staging host's
    way), at initiation and at onboarding by redirect alike; the nonce a client adds in the
    query or fragment is its own."""
    if not allowed or return_url is None:
        return
    if not (return_url.startswith("https://") and return_url.startswith(allowed)):
        raise ApiError(400, "return_url is not registered for this client", "return_url")
