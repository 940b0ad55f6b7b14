"""ERR-1..3 fuzzed against the target (opt-in: --fuzz): generated input for every operation of
the target's OpenAPI document, else of the contract's requests, bodies that are not JSON, and
the contract's requests with one field changed; bounded by --fuzz-examples and --fuzz-seconds.
Each finding names the request, redacted; a failure names its seed (--fuzz-seed repeats it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from sca_conformance import fuzzing
from sca_conformance.catalog import actions_for
from sca_conformance.client import ApiClient
from sca_conformance.config import Settings
from sca_conformance.consents import Consents
from sca_conformance.fuzzing import Campaign, Document, Fuzzer, FuzzSettings
from sca_conformance.plugin.fixtures import ApiSessions, Target
from sca_conformance.redact import SecretRegistry

pytestmark = [pytest.mark.api, pytest.mark.errors, pytest.mark.fuzz,
              pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def fuzz_client(
    target: Target, secrets: SecretRegistry, settings: Settings, api_sessions: ApiSessions
) -> AsyncIterator[ApiClient]:
    """A session of the first key for the fuzzer alone: its hundreds of exchanges are not
    report steps (the test data's are); the campaign's summary and findings are. Paced as
    the run; a campaign the target throttled is not a green one."""
    async with ApiClient(target.url, target.api_keys[0], secrets=secrets,
                         timeout=settings.profile.timeouts.api_seconds,
                         manners=api_sessions.manners, pacer=api_sessions.pacer) as client:
        yield client


@pytest.fixture
def shapes(settings: Settings) -> list[fuzzing.Shape]:
    """The contract's requests, the payment as the target's profile has it."""
    return fuzzing.shapes_for(
        {action.name: action for action in actions_for(settings.profile)}.get("external_payment"),
        settings.profile)


@pytest_asyncio.fixture(loop_scope="session")
async def values(consents: Consents, target: Target) -> dict[str, Any]:
    """This test's own data, to fill the contract's requests with (the key: masked)."""
    return await fuzzing.contract_values(consents, target.api_keys[0])


@pytest_asyncio.fixture(loop_scope="session")
async def document(fuzz_client: ApiClient, fuzz_settings: FuzzSettings) -> Document:
    """The target's OpenAPI document, or None: the contract's requests instead."""
    return await fuzzing.discover(fuzz_client, fuzz_settings.openapi)


@pytest.mark.requirement("ERR-3")
async def test_no_fuzzed_input_makes_the_server_answer_5xx(
    fuzz_client: ApiClient, fuzz_settings: FuzzSettings, document: Document,
    shapes: list[fuzzing.Shape],
) -> None:
    """No input makes the server answer 5xx"""
    campaign = Campaign(fuzz_settings, document.source)
    fuzzer = Fuzzer(fuzz_client, fuzz_settings, [fuzzing.no_server_error], campaign)
    if document.spec is not None:
        probes = fuzzing.schema_probes(document, fuzz_settings, ("positive", "negative"),
                                       notes=campaign.notes)
    else:
        probes = fuzzing.contract_probes(shapes, fuzzing.placeholder_values(), fuzz_settings,
                                         "all", malformed=True)
    await fuzzer.run(probes)
    fuzzing.report(campaign)
    campaign.verdict("ERR-3")
    fuzz_client.check_unthrottled("the fuzz campaign")


@pytest.mark.requirement("ERR-1")
async def test_fuzzed_invalid_input_answers_400_naming_the_field(
    values: dict[str, Any], shapes: list[fuzzing.Shape], fuzz_client: ApiClient,
    fuzz_settings: FuzzSettings, document: Document,
) -> None:
    """Invalid input answers 400 with errors naming the field"""
    source = document.source if document.spec is None else (
        f"{document.source}, and the contract's requests")
    campaign = Campaign(fuzz_settings, source)
    fuzzer = Fuzzer(fuzz_client, fuzz_settings, [
        fuzzing.no_server_error, fuzzing.refusal_lists_errors, fuzzing.invalid_not_accepted,
    ], campaign)
    accepted = await fuzzing.accepted_shapes(fuzzer, shapes, values)
    await fuzzer.run(fuzzing.contract_probes(accepted, values, fuzz_settings, "ERR-1",
                                             malformed=document.spec is None))
    if document.spec is not None and not fuzzer.done:
        await fuzzer.run(fuzzing.schema_probes(document, fuzz_settings, ("negative",),
                                               fuzzing.known_ids(values), notes=campaign.notes))
    fuzzing.report(campaign)
    campaign.verdict("ERR-1")
    fuzz_client.check_unthrottled("the fuzz campaign")


@pytest.mark.requirement("ERR-2")
async def test_fuzzed_empty_strings_and_nulls_are_refused(
    values: dict[str, Any], shapes: list[fuzzing.Shape], fuzz_client: ApiClient,
    fuzz_settings: FuzzSettings,
) -> None:
    """Strings must be non-empty; an optional field may be omitted but not sent as null"""
    campaign = Campaign(fuzz_settings, "the contract's requests")
    fuzzer = Fuzzer(fuzz_client, fuzz_settings,
                    [fuzzing.no_server_error, fuzzing.invalid_not_accepted], campaign)
    accepted = await fuzzing.accepted_shapes(fuzzer, shapes, values)
    await fuzzer.run(fuzzing.contract_probes(accepted, values, fuzz_settings, "ERR-2"))
    fuzzing.report(campaign)
    campaign.verdict("ERR-2")
    fuzz_client.check_unthrottled("the fuzz campaign")
