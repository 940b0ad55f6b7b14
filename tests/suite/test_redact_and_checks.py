"""Redaction, the requirement registry and the contract checks, on their own."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest

from sca_conformance import checks
from sca_conformance.redact import MASK, SecretRegistry, luhn_valid
from sca_conformance.requirements import RequirementViolation, registry


def test_the_registry_has_every_requirement_of_the_contract() -> None:
    ids = registry()
    assert len(ids) == 47
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
