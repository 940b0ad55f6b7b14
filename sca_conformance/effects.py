"""What approving (or not approving) an action changes, as each action's catalog entry
describes it (`Action.effect`, `Action.observes`)."""

from __future__ import annotations

import re
from typing import Any

from sca_conformance import checks
from sca_conformance.catalog import Action
from sca_conformance.consents import Consents
from sca_conformance.data import Subject
from sca_conformance.failures import Mismatch, hides_in_verdicts
from sca_conformance.flow import HostedFlow
from sca_conformance.redact import luhn_valid

__tracebackhide__ = hides_in_verdicts


async def protected(consents: Consents, action: Action, subject: Subject) -> checks.Protected:
    """What this subject has that a 412 must not give away, by value: the balance of its
    account and, for payment history, a transaction the test makes itself (a move between
    the individual's own accounts, which needs no consent): its id, reference and amount."""
    if subject.account is None:
        return checks.Protected()
    strings: set[str] = set()
    numbers: set[int] = set()
    if action.name == "payment_history":
        move = await consents.data.move(subject)
        strings |= {str(move["id"]), str(move["reference"])}
        numbers.add(int(move["amount"]))
    numbers.add(await consents.data.balance(str(subject.account["id"])))
    return checks.Protected(frozenset(strings), frozenset(n for n in numbers if n))


async def observe(consents: Consents, action: Action, subject: Subject) -> Any:
    """The value approval would change (balance, status), or None for actions without one."""
    observed = action.observed(subject.values)
    if observed is None:
        return None
    path, field = observed
    with checks.preparing(f"GET {path}"):
        response = await consents.api.get(path)
        assert response.status_code == 200, f"answered {response.status_code}"
        return response.json()[field]


@checks.proves("AFTER-1")
def _card_details_shown(details: dict[str, str], subject: Subject) -> None:
    number = re.sub(r"\D", "", details.get("number", ""))
    if not (12 <= len(number) <= 19 and luhn_valid(number)):
        raise Mismatch("card number on the details page", "a valid card number", "something else")
    last4 = str(subject.values.get("last4") or "")
    if last4 and not number.endswith(last4):
        raise Mismatch("card number's last four digits", last4, number[-4:])
    if not re.fullmatch(r"\d{3}", details.get("cvc", "").strip()):
        raise Mismatch("CVC on the details page", "3 digits", "something else")
    valid_thru = details.get("valid_thru", "").strip()
    if not re.fullmatch(r"(0[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})", valid_thru):
        raise Mismatch("Valid thru", "MM/YY or MM/YYYY", details.get("valid_thru"))
    if not details.get("holder"):
        raise Mismatch("Card holder", "the holder's name", details.get("holder"))


async def verify_performed(
    consents: Consents, action: Action, subject: Subject, flow: HostedFlow, before: Any
) -> None:
    """AFTER-1: approval did the action's work, exactly once."""
    if action.effect == "page":
        _card_details_shown(flow.card_details, subject)
        return
    if action.effect == "active":
        path, _ = action.observed(subject.values) or ("", "")
        with checks.proving("AFTER-1"):
            body = checks.action_performed(await consents.api.get(path))
        words = consents.words
        checks.status_became(path, body, words.individual_active if action.observes
                             and action.observes[0] == "individual" else words.card_active)
        return
    result = checks.action_performed(await consents.trigger(action, subject))
    if action.name == "external_payment":
        again = checks.action_performed(await consents.trigger(action, subject))
        checks.same_transaction(result, again)
        checks.balance_moved_once(before, await observe(consents, action, subject),
                                  int(subject.values["amount"]))


async def verify_not_performed(
    consents: Consents, action: Action, subject: Subject, before: Any, ended_id: str | None
) -> None:
    """The action did not happen, and asking again needs a new consent (AFTER-4; not for
    redirect-style onboarding, which has no consent to end: `ended_id` None)."""
    after = await observe(consents, action, subject)
    if after != before:
        raise Mismatch(f"{action.name} state after the consent ended unapproved", before, after)
    if ended_id is not None:
        checks.new_consent_after_end(await consents.trigger(action, subject), ended_id)
