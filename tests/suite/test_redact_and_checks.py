"""Redaction, the requirement registry and the contract checks, on their own."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest

from sca_conformance import checks
from sca_conformance.failures import RequirementViolation
from sca_conformance.redact import MASK, SecretRegistry, luhn_valid
from sca_conformance.requirements import registry


def test_the_registry_has_every_requirement_of_the_contract() -> None:
    ids = registry()
    assert len(ids) == 55
    assert ids["TRIGGER-3"].level == "SHOULD" and ids["TRIGGER-1"].level == "MUST"
    assert ids["PAGE-14"].section.startswith("4.")


def test_registered_secrets_jwts_and_card_numbers_are_masked_but_not_timestamps() -> None:
    secrets = SecretRegistry()
    secrets.add("483920")
    text = ("passcode 483920 at 1732448392012 jwt eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJl "
            "pan 4111 1111 1111 1111 id 1234567890123456")
    masked = secrets.text(text)
    assert "483920" not in masked.replace("1732448392012", "")
    assert "1732448392012" in masked
    assert "eyJ" not in masked and "4111 1111" not in masked
    assert "1234567890123456" in masked  # not Luhn-valid: left alone
    assert secrets.data({"token": "abc", "nested": [{"cvc": "123"}]}) == {
        "token": MASK, "nested": [{"cvc": MASK}]}
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_a_trace_archive_is_rewritten_without_its_secrets(tmp_path: Path) -> None:
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.trace", '{"type":"fill","value":"483920"}\n')
        archive.writestr("resources/page.html", "<p>5958 3322 4321 5432</p>")
    secrets = SecretRegistry()
    secrets.add("483920")
    secrets.scrub_archive(trace)
    with zipfile.ZipFile(trace) as archive:
        content = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert "483920" not in content
    assert MASK in content


def response(status: int, body: object, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("POST", "http://target.test/v3/transactions/pay")
    return httpx.Response(status, json=body, request=request,
                          headers={"content-type": content_type})


def test_a_check_names_its_requirement_with_expected_and_actual() -> None:
    with pytest.raises(RequirementViolation) as caught:
        checks.answers_412_json(response(403, {"error": "consent needed"}))
    assert caught.value.requirement.id == "TRIGGER-1"
    assert "expected 412" in str(caught.value) and "403" in str(caught.value)
    with pytest.raises(RequirementViolation, match=r"TRIGGER-4 violated.*Pending"):
        checks.consent_is_pending({"status": "Pending"})
    with pytest.raises(RequirementViolation, match="TRIGGER-6"):
        checks.consent_expires_in_future({"expires_at": "2031-05-11T09:55:17"})
    checks.consent_expires_in_future({"expires_at": "2091-05-11T09:55:17.000Z"})


def test_proving_turns_any_assertion_into_a_violation_of_that_requirement() -> None:
    with (
        pytest.raises(RequirementViolation, match="SHOULD PAGE-5 violated: nope"),
        checks.proving("PAGE-5"),
    ):
        raise AssertionError("nope")
    with pytest.raises(KeyError, match="NOPE-1"):
        checks.proves("NOPE-1")


def test_return_url_landing_must_keep_path_and_query() -> None:
    checks.landed_on_return_url(
        "https://c.example/r/1?order=7&consent_id=x&status=approved", "https://c.example/r/1?order=7"
    )
    with pytest.raises(RequirementViolation, match="PAGE-4"):
        checks.landed_on_return_url("https://c.example/r/1?consent_id=x",
                                    "https://c.example/r/1?order=7")


def _response(status: int, body: object, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("POST", "https://target.example/v3/transactions/pay")
    return httpx.Response(status, json=body, request=request,
                          headers={"content-type": content_type})


@pytest.mark.parametrize(("displayed", "separator", "expected"), [
    ("12.34 EUR", ".", (1234, "EUR")),
    ("EUR 12.34", ".", (1234, "EUR")),
    ("€12.34", ".", (1234, "EUR")),
    ("12,34\u00a0€", ",", (1234, "EUR")),
    ("1 234,56 €", ",", (123456, "EUR")),
    ("1,234.56 EUR", ".", (123456, "EUR")),
])
def test_amounts_are_parsed_from_what_the_page_displays(
    displayed: str, separator: str, expected: tuple[int, str]
) -> None:
    assert checks.parse_amount(displayed, separator) == expected


def test_displayed_values_compare_as_the_contract_means_them() -> None:
    checks.iban_shown("DE89 3704 0044 0532 0130 00", "DE89370400440532013000")
    checks.text_shown("payee", "  Ada\n Lovelace  AB ", "Ada Lovelace AB")
    checks.card_shown("•••• 5432", "5432")
    checks.amount_shown("12,34 €", 1234, "EUR", ",")
    with pytest.raises(RequirementViolation, match=r"^MUST PAGE-2 violated"):
        checks.amount_shown("12,43 €", 1234, "EUR", ",")
    with pytest.raises(RequirementViolation, match=r"^MUST PAGE-2 violated"):
        checks.iban_shown("DE89 3704 0044 0532 0130 01", "DE89370400440532013000")
    with pytest.raises(RequirementViolation, match=r"^MUST PAGE-2 violated"):
        checks.card_shown("5958 3322 4321 5432", "5432")  # the whole number is not linking


def test_bodies_may_carry_keys_the_contract_does_not_forbid() -> None:
    consent = {"id": "c1", "status": "pending", "scope": ["x"], "expires_at": "x"}
    response = _response(412, {"consent": consent, "_links": {"self": {"href": "/x"}}},
                         "application/json; charset=utf-8")
    checks.answers_412_json(response)
    checks.no_protected_data(response.json())
    checks.no_protected_data({"consent": consent, "transactions": []})  # a name, no data


KNOWN = checks.Protected(frozenset({"7d1e0c52-6a57-4f0e-9b43-5c2a8e9d1f30", "Invoice 482913"}),
                         frozenset({48213, 250_000}))


@pytest.mark.parametrize("body", [
    {"consent": {}, "history": [{"id": "7d1e0c52-6a57-4f0e-9b43-5c2a8e9d1f30"}]},
    {"consent": {}, "data": {"rows": [{"ref": "Invoice 482913"}]}},
    {"consent": {}, "meta": {"total": 48213}},
    {"consent": {}, "acct": {"available": "250000"}},
    {"consent": {}, "x": {"y": "4111 1111 1111 1111"}},
    {"consent": {}, "x": ["5555-5555-5555-4444"]},
], ids=["transaction id", "reference", "amount", "balance as text", "card number", "dashed"])
def test_protected_data_is_found_by_value_under_any_key(body: dict[str, object]) -> None:
    with pytest.raises(RequirementViolation, match=r"^MUST TRIGGER-7 violated"):
        checks.no_protected_data(body, KNOWN)


def test_a_412_with_other_data_passes_trigger_7() -> None:
    checks.no_protected_data({"consent": {"id": "3f0c6b1e-8d7a-4c55-9a51-2b8f0e6d9c41",
                                          "expires_at": "2026-01-01T00:00:00Z"},
                              "trace": "req-123", "amount_limit": 100}, KNOWN)


@pytest.mark.parametrize("body", [
    {"id": "c", "sensitive": {"value": "4000 0566 5566 5556"}},
    {"id": "c", "x": [{"y": "5958332243215432"}]},
    {"id": "c", "extra": {"security_code": "671"}},
], ids=["another card number", "the number, any key", "the cvc, any key"])
def test_card_secrets_are_found_by_value_under_any_key(body: dict[str, object]) -> None:
    with pytest.raises(RequirementViolation, match=r"^MUST PAGE-14 violated"):
        checks.no_card_secrets(body, "5958 3322 4321 5432", "671")
    checks.no_card_secrets({"id": "c", "last4": "5432", "exp_year": 2031}, "5958 3322 4321 5432",
                           "671")


@pytest.mark.parametrize("errors", [
    {"errors": [{"field": "amount", "message": "must be positive"}]},
    {"errors": [{"path": "body.amount", "detail": "must be positive"}]},
    {"error": {"details": [{"loc": ["body", "amount"], "msg": "must be positive"}]}},
    [{"pointer": "/amount", "reason": "must be positive"}],
])
def test_an_error_list_may_take_any_documented_looking_shape(errors: object) -> None:
    checks.invalid_input_named(_response(400, errors), "amount")


@pytest.mark.parametrize("stamp", [
    "2031-05-11T09:55:17.000Z", "2031-05-11T09:55:17Z", "2031-05-11T09:55:17.123456789Z",
    "2031-05-11T09:55:17+00:00", "2031-05-11T09:55:17+0000",
])
def test_utc_timestamps_in_any_iso_8601_form_are_accepted(stamp: str) -> None:
    checks.consent_expires_in_future({"expires_at": stamp})


def test_a_timestamp_needs_a_zone_and_any_zone_will_do() -> None:
    checks.consent_expires_in_future({"expires_at": "2031-05-11T09:55:17+02:00"})
    with pytest.raises(RequirementViolation, match=r"^SHOULD TRIGGER-6 violated"):
        checks.consent_expires_in_future({"expires_at": "2031-05-11T09:55:17"})


def test_headers_are_parsed_not_matched_as_strings() -> None:
    checks.framing_refused({"Content-Security-Policy": "default-src 'self';FRAME-ANCESTORS 'none'"})
    checks.not_cached_not_referred({"cache-control": "private, no-store",
                                    "referrer-policy": "same-origin, no-referrer"})
    with pytest.raises(RequirementViolation, match="PAGE-10"):
        checks.framing_refused({"content-security-policy": "frame-ancestors 'self'"})


def test_a_token_cut_short_in_a_message_shows_no_part_of_it() -> None:
    """A message truncated in the middle of a method token (a SHOULD warning that quotes a
    URL, cut at its length limit) still shows none of the token."""
    from sca_conformance.redact import SecretRegistry

    token = "q7Zr0Xb-LmW2s9Kd4PaT1yHnV8cE3uJf"
    registry = SecretRegistry()
    registry.add(token)
    cut = f"SHOULD warning [PAGE-5] landed at http://h/sca/{token}"[:60]
    masked = registry.text(cut)
    assert token[:12] not in masked and "«redacted»" in masked
    assert registry.text("a different q7Zr0X") == "a different q7Zr0X"  # too short to tell
