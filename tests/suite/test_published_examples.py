"""The provider's own documentation, run through the checks: its 412, its methods with
`Z` and with `+02:00` offsets, a method token that is not a JWT, its lifetimes and its
hosted pages' host. A correct provider as it documents itself passes; a timestamp without
a zone, or a method outliving its consent (compared as instants), does not."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sca_conformance import checks
from sca_conformance.catalog import actions_for
from sca_conformance.client import token_expiry
from sca_conformance.config import load_profile
from sca_conformance.failures import RequirementViolation

ROOT = Path(__file__).resolve().parents[2]
BEFORE_2021 = datetime(2021, 5, 11, 9, 40, tzinfo=UTC)
BEFORE_2025 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

# "Strong Customer Authentication": the 412 a protected action answers.
DOCUMENTED_412 = {"consent": {
    "id": "5d7c3a7e-2f4b-4f6a-9a8e-0c1f6b2d9e11", "status": "pending",
    "scope": ["make_payment"], "expires_at": "2021-05-11T09:55:17.000Z",
}}
# "Mobile SDKs / SCA": a method whose expiry has an offset and whose token is no JWT.
DOCUMENTED_MOBILE_METHOD = {"method": {
    "redirect_url": "https://3d.staging.intergiro.tech/sca/consent?token=b3BhcXVlLXRva2VuLTEy",
    "token": "b3BhcXVlLXRva2VuLTEy", "expires_at": "2025-06-02T12:00:33+02:00",
}}


def answer(status: int, body: object, path: str = "/v3/transactions/pay") -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", f"https://x{path}"))


def test_the_documented_412_passes_the_trigger_checks() -> None:
    response = answer(412, DOCUMENTED_412)
    checks.answers_412_json(response)
    consent = checks.consent_in_body(response)
    checks.consent_id_is_uuid(consent)
    checks.consent_is_pending(consent)
    checks.scope_contains(consent, "make_payment")
    checks.consent_expires_in_future(consent, now=BEFORE_2021)
    checks.no_protected_data(response.json())


@pytest.mark.parametrize("expires_at", [
    "2025-06-02T12:00:33+02:00", "2025-06-02T10:00:33Z", "2025-06-02T10:00:33.000Z",
    "2025-06-02T05:00:33-05:00", "2025-06-02T12:00:33+0200", "2025-06-02T10:00:33.123456+00:00",
])
def test_a_method_in_any_zone_passes_the_initiation_checks(expires_at: str) -> None:
    body = {"method": {**DOCUMENTED_MOBILE_METHOD["method"], "expires_at": expires_at}}
    method = checks.method_in_body(answer(200, body, "/v3/consents/x"))
    checks.redirect_url_carries_token(method)
    checks.method_expires_in_future(method, now=BEFORE_2025)
    # Its consent expires at 10:05 UTC, written in another zone: compared as instants.
    checks.method_within_consent(method, {"expires_at": "2025-06-02T11:05:00+01:00"})


def test_timestamps_compare_as_the_instants_they_name() -> None:
    offset = checks.parse_timestamp("2025-06-02T12:00:33+02:00", "t")
    assert offset == datetime(2025, 6, 2, 10, 0, 33, tzinfo=UTC)
    assert checks.parse_timestamp("2025-06-02T05:00:33-05:00", "t") == offset
    with pytest.raises(RequirementViolation, match="INIT-4"):  # 10:10 UTC after 10:05 UTC
        checks.method_within_consent({"expires_at": "2025-06-02T12:10:00+02:00"},
                                     {"expires_at": "2025-06-02T10:05:00Z"})


@pytest.mark.parametrize("expires_at", [
    "2025-06-02T12:00:33", "2025-06-02 12:00:33Z", "2025-06-02T25:00:33Z", "tomorrow", None, 1,
])
def test_a_timestamp_without_a_zone_or_malformed_fails_trigger_6(expires_at: object) -> None:
    with pytest.raises(RequirementViolation, match=r"^SHOULD TRIGGER-6 violated"):
        checks.consent_expires_in_future({"expires_at": expires_at}, now=BEFORE_2025)


def test_a_token_that_is_not_a_jwt_has_no_expiry_of_its_own() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert token_expiry({"access_token": "b3BhcXVlLXRva2VuLTEy"}, now) is None
    assert token_expiry({"access_token": "opaque", "expires_in": 900}, now) == datetime(
        2026, 1, 1, 0, 15, tzinfo=UTC)


def test_the_staging_profile_says_what_the_provider_documents() -> None:
    staging = load_profile(ROOT / "profiles" / "intergiro-staging.toml")
    assert staging.target.hosted_origins == ["https://3d.staging.intergiro.tech"]
    assert staging.lifetimes.access_token_seconds == 15 * 60
    assert staging.lifetimes.refresh_token_seconds == 60 * 60
    details = {a.name: a for a in actions_for(staging)}["card_details"]
    assert (details.method, details.path) == ("GET", "/v3/cards/{card_id}/credentials")


def test_the_readme_profile_example_loads_as_written(tmp_path: Path) -> None:
    """Every key of the README's profile example, exactly as the README writes it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Target profiles"):]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None, "the README has no profile example"
    written = tmp_path / "acme.toml"
    written.write_text(example[1], encoding="utf-8")
    profile = load_profile(written)
    documented = set(re.findall(r"^\[([a-z_.]+)\]", example[1], re.M))
    assert {"target", "keys", "lifetimes", "roles.identify", "timeouts"} <= documented
    assert profile.target.hosted_origins and profile.roles["identify"]["another_way"] == "link"
