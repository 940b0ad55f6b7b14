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
from sca_conformance.catalog import actions_for, endpoint
from sca_conformance.client import token_expiry
from sca_conformance.config import Profile, load_profile
from sca_conformance.failures import RequirementViolation

ROOT = Path(__file__).resolve().parents[2]
BEFORE_2021 = datetime(2021, 5, 11, 9, 40, tzinfo=UTC)
BEFORE_2025 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

# "Strong Customer Authentication": the 412 a protected action answers.
DOCUMENTED_412 = {"consent": {
    "id": "5d7c3a7e-2f4b-4f6a-9a8e-0c1f6b2d9e11", "status": "pending",
    "scope": ["make_payment"], "expires_at": "2021-05-11T09:55:17.000Z",
}}
# The current SCA page's 412 (and its 2021 version): the consent's id and status only.
DOCUMENTED_TWO_FIELD_412 = {"consent": {"id": "5d7c3a7e-2f4b-4f6a-9a8e-0c1f6b2d9e11",
                                        "status": "pending"}}
# A request for an individual in the wrong state (onboarding not finished, KYC pending).
DOCUMENTED_422 = {"error": {"code": "request_blocked",
                            "message": "Request blocked: the individual is not activated"}}
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


def test_the_two_field_412_passes_trigger_1_to_4_and_warns_on_5_and_6() -> None:
    """The provider's current 412 carries only id and status: TRIGGER-1..4 hold; scope and
    expiry are SHOULD (TRIGGER-5, TRIGGER-6), a warning, never a MUST violation."""
    response = answer(412, DOCUMENTED_TWO_FIELD_412)
    checks.answers_412_json(response)
    consent = checks.consent_in_body(response)
    checks.consent_id_is_uuid(consent)
    checks.consent_is_pending(consent)
    checks.no_protected_data(response.json())
    with pytest.raises(RequirementViolation, match=r"^SHOULD TRIGGER-5 violated"):
        checks.scope_contains(consent, "make_payment")
    with pytest.raises(RequirementViolation, match=r"^SHOULD TRIGGER-6 violated"):
        checks.consent_expires_in_future(consent, now=BEFORE_2021)


def test_the_422_envelope_is_an_error_the_checks_read() -> None:
    """The provider's `{"error": {"code", "message"}}` is a list of one error; a field it
    names, wherever in the error, is the field ERR-1 looks for."""
    blocked = answer(422, DOCUMENTED_422)
    assert checks.error_list(blocked) == [DOCUMENTED_422["error"]]
    checks.refusal_lists_errors(blocked, None)
    named = {"error": {"code": "invalid_request", "message": "must be positive",
                       "source": {"pointer": "/amount"}}}
    checks.invalid_input_named(answer(400, named), "amount")
    by_field = {"errors": {"amount": ["must be positive"], "reference": "is required"}}
    checks.invalid_input_named(answer(400, by_field), "reference")
    with pytest.raises(RequirementViolation, match=r"^MUST ERR-1 violated"):
        checks.invalid_input_named(answer(400, {"error": {"code": "x", "message": "bad"}}),
                                   "amount")
    with pytest.raises(RequirementViolation, match=r"^MUST ERR-1 violated"):
        checks.invalid_input_named(answer(400, {"status": 400}), "amount")


def test_an_individual_is_active_in_the_words_of_either_side() -> None:
    words = Profile().words.individual_active  # by default, the contract's and the provider's
    assert load_profile(ROOT / "profiles" / "intergiro-staging.toml").words.individual_active \
        == ["activated"]
    for word in ("active", "activated"):
        checks.status_became("individual", {"status": word}, words)
    with pytest.raises(RequirementViolation, match="AFTER-1"):
        checks.status_became("individual", {"status": "pending"}, words)


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
    """The template holds the contract's Sources and nothing else: the staging host, the
    pages on it, the lifetimes, the staging simulations only (the KYC outcome after the
    hosted onboarding, the code on the page), `activated`, the card credentials' path, and
    a registered return_url left for the user to fill in."""
    path = ROOT / "profiles" / "intergiro-staging.toml"
    staging = load_profile(path)
    assert staging.target.base_url == "https://3d.staging.intergiro.tech"
    assert staging.target.base_path == "/v3"
    assert staging.target.hosted_origins == ["https://3d.staging.intergiro.tech"]
    assert staging.lifetimes.access_token_seconds == 15 * 60
    assert staging.lifetimes.refresh_token_seconds == 60 * 60
    assert staging.capabilities.model_dump() == {
        "clock_simulation": False, "sms_simulation": False, "passkeys": False,
        "activation_simulation": False, "funding_simulation": False}
    assert staging.words.individual_active == ["activated"]
    assert staging.data.individuals == ["onboarding", "provisioned"]
    assert staging.data.sms_code == ["page"] and staging.data.money == ["provisioned"]
    assert endpoint(staging, "kyc_simulation") == "/v3/simulations/onboarding/status"
    details = {a.name: a for a in actions_for(staging)}["card_details"]
    assert (details.method, details.path) == ("GET", "/v3/cards/{card_id}/credentials")
    text = path.read_text(encoding="utf-8")
    assert "api.staging.intergiro.com" not in text
    assert re.search(r"FILL IN: the return_url .*registered", text)
    assert re.search(r"^# return_url = \"https://", text, re.M)


def test_the_documented_profile_example_loads_as_written(tmp_path: Path) -> None:
    """Every key of the profile example in docs/profiles.md, exactly as written there."""
    page = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", page, re.S)
    assert example is not None, "docs/profiles.md has no profile example"
    written = tmp_path / "acme.toml"
    written.write_text(example[1], encoding="utf-8")
    profile = load_profile(written)
    documented = set(re.findall(r"^\[([a-z_.]+)\]", example[1], re.M))
    assert {"target", "keys", "lifetimes", "roles.identify", "timeouts"} <= documented
    assert profile.target.hosted_origins and profile.roles["identify"]["another_way"] == "link"
