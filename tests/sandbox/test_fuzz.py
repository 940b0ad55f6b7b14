"""ERR-3: a property-based fuzz of the OpenAPI document against a live sandbox finds no 5xx."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error

from sca_sandbox.app import openapi_document
from sca_sandbox.process import RunningSandbox

# Loaded from the application itself (it needs no database): schemathesis' lazy
# from_fixture loader does not work with pytest 9, and the live URL is only known later.
schema = schemathesis.openapi.from_dict(openapi_document())
# Modest by default (under a minute); SCA_FUZZ_EXAMPLES=500 for a deeper run.
EXAMPLES = int(os.environ.get("SCA_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def bearer(sandbox: RunningSandbox) -> dict[str, str]:
    """A fresh session per case: a case may move its session's clock past the token's life."""
    answer = httpx.post(f"{sandbox.url}/v3/auth/login", json={"api_key": sandbox.api_keys[0]})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.slow
@pytest.mark.api
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(
    case: Case, sandbox: RunningSandbox, bearer: dict[str, str]
) -> None:
    case.call_and_validate(base_url=sandbox.url, headers=bearer, checks=[not_a_server_error])
