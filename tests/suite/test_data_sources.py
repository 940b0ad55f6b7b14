"""Test data the staging way, without a network (httpx.MockTransport): the paths follow the
profile's base path, every test's data from the sources the profile declares, valid phone
numbers, the run's id in what a run creates, the consent's scope and expiry read from the
consent when the 412 lacks them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest

from sca_conformance.capabilities import sources
from sca_conformance.catalog import ENDPOINTS, actions_for, endpoint
from sca_conformance.checks import TargetNotPrepared
from sca_conformance.client import ApiClient
from sca_conformance.config import Profile, ProfileError, load_profile
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory, new_run_id, phone_number, sms_code
from sca_conformance.landing import ReturnReceiver
from suite.plugin_run import PLUGINS

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
CONSENT_ID = "5d7c3a7e-2f4b-4f6a-9a8e-0c1f6b2d9e11"


class FakeTarget:
    """A target at a base path of its own; it records every request (login anywhere)."""

    def __init__(self, base: str = "/api/v9") -> None:
        self.base = base
        self.calls: list[str] = []
        self.bodies: dict[str, Any] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if request.content:
            self.bodies[path] = json.loads(request.content)
        if path.endswith("/auth/login"):
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r"})
        if not path.startswith(self.base + "/"):
            return httpx.Response(404, json={"errors": [{"message": "not here"}]})
        rest = path.removeprefix(self.base)
        if rest == "/individuals":
            return httpx.Response(201, json={"id": "i-1", "status": "pending",
                                             **self.bodies[path]})
        if rest == "/simulations/individuals/i-1/activate":
            return httpx.Response(200, json={"id": "i-1", "status": "activated"})
        if rest == "/accounts":
            return httpx.Response(201, json={"id": "a-1", "balance": 300_000})
        if rest.startswith("/accounts/"):
            return httpx.Response(200, json={"id": rest.rsplit("/", 1)[1], "balance": 500_000})
        if rest == "/individuals/p-1":
            return httpx.Response(200, json={"id": "p-1", "status": "activated"})
        if rest == "/transactions/pay":
            return httpx.Response(412, json={"consent": {"id": CONSENT_ID, "status": "pending"}})
        if rest == f"/consents/{CONSENT_ID}":
            return httpx.Response(200, json={"consent": {
                "id": CONSENT_ID, "status": "pending", "scope": ["make_payment"],
                "expires_at": "2030-01-01T00:00:00Z"}})
        if rest == "/simulations/account_funding":
            return httpx.Response(200, json={"id": "t-1"})
        if rest == "/simulations/sms":
            return httpx.Response(200, json={"code": "424242"})
        return httpx.Response(404, json={"errors": [{"message": "unknown"}]})


def profile(**sections: Any) -> Profile:
    return Profile.model_validate({"target": {"base_path": "/api/v9"}, **sections})


def client(fake: FakeTarget) -> ApiClient:
    return ApiClient("http://target.test", "key-123456", transport=httpx.MockTransport(fake.handle))


def test_every_request_of_the_contract_follows_the_base_path_and_the_paths_table() -> None:
    chosen = profile(paths={"card_details": "/cards/{card_id}/credentials"})
    for name in ENDPOINTS:
        assert endpoint(chosen, name).startswith("/api/v9/")
    assert endpoint(None, "consent", consent_id="c") == "/v3/consents/c"
    actions = {a.name: a for a in actions_for(chosen)}
    assert actions["card_details"].path == "/api/v9/cards/{card_id}/credentials"
    assert actions["external_payment"].observed({"account_id": "a"}) == (
        "/api/v9/accounts/a", "balance")
    with pytest.raises(ValueError, match="did you mean 'card_details'"):
        profile(paths={"card_detail": "/x"})


def test_no_literal_version_prefix_outside_the_table() -> None:
    """Every path the suite sends is built from the one table (endpoints.ENDPOINTS)."""
    owned = [*ROOT.glob("suites/*.py"), *(ROOT / "sca_conformance").glob("*.py")]
    # The table itself, and the catalog's account of it.
    allowed = {"endpoints.py", "catalog.py"}
    found = [f"{path.name}:{number}" for path in owned if path.name not in allowed
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"/v3\b", line)]
    assert found == []


async def test_test_data_is_made_at_the_targets_paths_with_the_run_id() -> None:
    fake = FakeTarget()
    async with client(fake) as api:
        data = DataFactory(api, profile=profile(), run_id="run-7")
        subject = await data.subject("payment")
    assert subject.passcode and subject.individual["status"] == "activated"
    assert "run-7" in fake.bodies["/api/v9/individuals"]["email"]
    assert "run-7" in subject.values["reference"]
    assert [call for call in fake.calls if "login" not in call] == [
        "POST /api/v9/individuals", "POST /api/v9/simulations/individuals/i-1/activate",
        "POST /api/v9/accounts", "POST /api/v9/simulations/account_funding"]


async def test_without_simulations_the_declared_staging_sources_serve() -> None:
    """No activation or funding simulation: pre-provisioned individuals (environment) and
    accounts that open funded."""
    fake = FakeTarget()
    staging = profile(
        capabilities={"activation_simulation": False, "funding_simulation": False},
        data={"individuals": ["simulation", "provisioned"], "provisioned_env": "PEOPLE",
              "money": ["simulation", "opens_funded"]})
    environ = {"PEOPLE": json.dumps([{"id": "p-1", "passcode": "918273"}])}
    async with client(fake) as api:
        data = DataFactory(api, profile=staging, run_id="run-8", environ=environ)
        subject = await data.subject("funded_account")
    assert (subject.individual["id"], subject.passcode) == ("p-1", "918273")
    assert api.secrets.text("918273") != "918273"  # the passcode is a secret of the test
    assert not [call for call in fake.calls if "simulations" in call]


async def test_a_pre_funded_account_of_a_provisioned_individual_serves_money() -> None:
    fake = FakeTarget()
    staging = profile(
        capabilities={"activation_simulation": False, "funding_simulation": False},
        data={"individuals": ["provisioned"], "provisioned_env": "PEOPLE",
              "money": ["provisioned"]})
    environ = {"PEOPLE": json.dumps([{"id": "p-1", "passcode": "918273",
                                      "accounts": ["acc-9"]}])}
    async with client(fake) as api:
        data = DataFactory(api, profile=staging, environ=environ)
        subject = await data.subject("funded_account")
    assert subject.account == {"id": "acc-9", "balance": 500_000}


def test_a_need_without_any_declared_source_skips_naming_what_was_tried() -> None:
    staging = profile(capabilities={"activation_simulation": False},
                      data={"individuals": ["simulation", "provisioned"],
                            "provisioned_env": "PEOPLE"})
    assert sources(staging, "active_individual", {}) == ([], [
        "simulation (profile: capabilities.activation_simulation = false)",
        "provisioned (environment variable PEOPLE is not set)"])
    data = DataFactory(ApiClient("http://target.test", "k"), profile=staging, environ={})
    with pytest.raises(pytest.skip.Exception) as skipped:
        data.sources("active_individual")
    reason = str(skipped.value)
    assert reason.startswith("needs an active individual: no declared source is available")
    assert "capabilities.activation_simulation = false" in reason
    assert "not declared: onboarding" in reason


def test_the_hosted_onboarding_is_a_source_only_for_a_test_with_a_browser() -> None:
    staging = profile(capabilities={"activation_simulation": False},
                      data={"individuals": ["onboarding"]})
    data = DataFactory(ApiClient("http://target.test", "k"), profile=staging, environ={})
    with pytest.raises(pytest.skip.Exception, match="needs a browser"):
        data.sources("active_individual")

    async def enrol(individual: dict[str, Any]) -> str:
        return "135790"

    data.enrol = enrol
    assert data.sources("active_individual") == ["onboarding"]


async def test_the_sms_code_comes_from_the_first_declared_source() -> None:
    fake = FakeTarget()
    async with client(fake) as api:
        code = await sms_code(api, None, "+46701234567", profile())
        assert code == "424242" and api.secrets.text(code) != code
        fixed = profile(capabilities={"sms_simulation": False},
                        data={"sms_code": ["simulation", "fixed"], "sms_code_env": "CODE"})
        assert await sms_code(api, None, "+4670", fixed, {"CODE": " 111111 "}) == "111111"
        on_page = profile(capabilities={"sms_simulation": False},
                          data={"sms_code": ["page"], "sms_code_locator": "#code"})
        with pytest.raises(TargetNotPrepared, match="no page"):
            await sms_code(api, None, "+4670", on_page)
    assert fake.calls[-1] == "GET /api/v9/simulations/sms"


def test_a_source_needing_a_setting_names_it() -> None:
    with pytest.raises(ValueError, match="sms_code_locator"):
        Profile.model_validate({"data": {"sms_code": ["page"]}})
    with pytest.raises(ValueError, match=r"provisioned_file or data\.provisioned_env"):
        Profile.model_validate({"data": {"individuals": ["provisioned"]}})


def test_a_profile_with_an_unknown_phone_country_is_refused(tmp_path: Path) -> None:
    written = tmp_path / "p.toml"
    written.write_text('[target]\nembedded = true\n[data]\nphone_country = "XX"\n')
    with pytest.raises(ProfileError, match="phone_country"):
        load_profile(written)


@pytest.mark.parametrize("country", ["SE", "GB", "DE", "NO", "FI", "NL"])
def test_phone_numbers_are_valid_mobile_numbers_of_the_countrys_plan(country: str) -> None:
    drawn = {phone_number(country) for _ in range(25)}
    assert len(drawn) > 20
    for number in drawn:
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.region_code_for_number(parsed) == country
        assert phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def test_the_old_swedish_form_is_not_a_valid_number() -> None:
    assert not phonenumbers.is_valid_number(phonenumbers.parse("+467012345678"))


def test_the_run_id_is_given_or_made_once() -> None:
    assert new_run_id({"SCA_RUN_ID": "nightly-42"}) == "nightly-42"
    assert re.fullmatch(r"sca-\d{8}-[0-9a-f]{4}", new_run_id({}))
    with pytest.raises(ValueError, match="SCA_RUN_ID"):
        new_run_id({"SCA_RUN_ID": "a b"})


async def test_scope_and_expiry_are_read_from_the_consent_when_the_412_lacks_them() -> None:
    fake = FakeTarget()
    staging = profile()
    async with client(fake) as api:
        data = DataFactory(api, profile=staging)
        with ReturnReceiver() as receiver:
            consents = Consents(api, data, receiver, staging)
            action = consents.action("external_payment")
            consent = await consents.pending(action, await consents.subject(action))
            again = await consents.detailed(consent)
    assert consent == {"id": CONSENT_ID, "status": "pending", "scope": ["make_payment"],
                       "expires_at": "2030-01-01T00:00:00Z"}
    assert again == consent
    assert fake.calls.count(f"GET /api/v9/consents/{CONSENT_ID}") == 1


@pytest.mark.slow
def test_the_suite_gets_its_data_the_staging_way_from_the_sandbox(tmp_path: Path) -> None:
    """The sandbox's staging personality (no activation or funding simulation; the hosted
    onboarding, its KYC outcome and accounts that open funded instead): the triggers of one
    action run and prove their requirements; nothing is skipped for want of data."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_triggers.py", "-p", "no:cacheprovider",
         "-rs", "--target", str(ROOT / "profiles" / "sandbox-staging.toml"),
         "-k", "external_payment", "--output", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "4 passed" in run.stdout and "skipped" not in run.stdout
    assert "CONFORMANT" in run.stdout.splitlines()[-1]


def test_every_xdist_worker_names_its_data_with_the_runs_one_id(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One run id per run, the controller's, on every worker (as the fuzz seed)."""
    monkeypatch.delenv("SCA_RUN_ID", raising=False)
    suite.makepyfile("""
        import pytest
        from sca_conformance.plugin.fixtures import RUN_ID

        @pytest.mark.parametrize("n", range(4))
        def test_id(n, pytestconfig):
            with open(f"id-{n}.txt", "w") as out:
                out.write(pytestconfig.stash[RUN_ID])
    """)
    result = suite.runpytest_subprocess(*PLUGINS, "-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["sca run id: sca-* (in the names of the data the run creates)"])
    ids = {(suite.path / f"id-{n}.txt").read_text() for n in range(4)}
    assert len(ids) == 1 and re.fullmatch(r"sca-\d{8}-[0-9a-f]{4}", ids.pop())
    monkeypatch.setenv("SCA_RUN_ID", "nightly-7")
    result = suite.runpytest_subprocess(*PLUGINS, "-n", "2")
    assert {(suite.path / f"id-{n}.txt").read_text() for n in range(4)} == {"nightly-7"}
