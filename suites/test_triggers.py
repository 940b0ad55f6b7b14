"""TRIGGER-*: each protected action answers 412 with a pending consent, and nothing else."""

from __future__ import annotations

import uuid

import pytest

from sca_conformance import checks
from sca_conformance.catalog import Action
from sca_conformance.consents import Consents
from sca_conformance.effects import observe, protected
from sca_conformance.failures import SoftChecks

pytestmark = [pytest.mark.api, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.requirement("TRIGGER-1", "TRIGGER-2", "TRIGGER-4", "TRIGGER-5", "TRIGGER-6")
async def test_a_protected_action_answers_412_with_a_pending_consent(
    action: Action, consents: Consents, should: SoftChecks
) -> None:
    """A protected action answers 412 with a pending consent (its scope and expiry: SHOULD)"""
    subject = await consents.subject(action)
    response = await consents.trigger(action, subject)
    checks.answers_412_json(response)
    consent = checks.consent_in_body(response)
    checks.consent_is_pending(consent)
    should(checks.scope_contains, consent, action.scope)
    should(checks.consent_expires_in_future, consent)


@pytest.mark.requirement("TRIGGER-3")
async def test_the_consent_id_is_a_uuid(action: Action, consents: Consents) -> None:
    """The consent id is a UUID"""
    consent = await consents.pending(action, await consents.subject(action))
    checks.consent_id_is_uuid(consent)


@pytest.mark.requirement("TRIGGER-8")
async def test_two_requests_get_two_distinct_consents(action: Action, consents: Consents) -> None:
    """Two requests get two distinct consent ids"""
    subject = await consents.subject(action)
    first = await consents.pending(action, subject)
    second = await consents.pending(action, subject)
    checks.consent_ids_distinct(first, second)


@pytest.mark.requirement("TRIGGER-7")
async def test_nothing_happens_before_approval(action: Action, consents: Consents) -> None:
    """Nothing happens before approval: no effect, no data returned"""
    subject = await consents.subject(action)
    known = await protected(consents, action, subject)
    before = await observe(consents, action, subject)
    response = await consents.trigger(action, subject)
    checks.answers_412_json(response)
    checks.no_protected_data(response.json(), known)
    after = await observe(consents, action, subject)
    checks.nothing_happened(f"{action.name} state", before, after)


@pytest.mark.requirement("TRIGGER-9")
@pytest.mark.parametrize(
    "request_name",
    ["move between own accounts", "create individual", "create account", "create card",
     "read bank details"],
)
async def test_actions_that_are_not_protected_never_answer_412(
    request_name: str, consents: Consents
) -> None:
    """Actions that are not protected never answer 412"""
    data = consents.data  # its individuals as the profile gets them (data.individuals)
    individual, _ = await data.individual(active=True)
    source = await data.account(individual["id"], funds=5000)
    target = await data.account(individual["id"])
    api = data.api
    if request_name == "move between own accounts":
        response = await api.post(data.path("move"), json={
            "source_account_id": source["id"], "target_account_id": target["id"],
            "amount": 1200, "reference": "Savings", "request_id": str(uuid.uuid4()),
        })
    elif request_name == "create individual":
        response = await api.post(data.path("individuals"), json=data.individual_body())
    elif request_name == "create account":
        response = await api.post(data.path("accounts"), json={"individual_id": individual["id"]})
    elif request_name == "create card":
        response = await api.post(data.path("cards"), json={
            "individual_id": individual["id"], "account_id": source["id"],
            "display_name": f"Travel {data.run_id}", "exp_month": 1, "exp_year": 2030,
            "type": "virtual",
        })
    else:
        response = await api.get(data.path("bank_details", account_id=source["id"]))
    checks.not_protected(response, request_name)
