"""Test data every test makes for itself through the API (contract section 7), from the
sources the target's profile declares ([data]): the contract's simulations, or the staging
ways (the hosted onboarding and a KYC outcome, pre-provisioned individuals and accounts,
accounts that open funded, the SMS code on the hosted page or a fixed one). What a run
creates carries the run's id in its names."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import phonenumbers
import pytest

from sca_conformance.capabilities import no_source, sources
from sca_conformance.catalog import endpoint, render
from sca_conformance.client import ApiClient
from sca_conformance.failures import TargetNotPrepared, hides_in_verdicts, preparing
from sca_conformance.profile import DataSection, Profile

if TYPE_CHECKING:
    from playwright.async_api import Page

__tracebackhide__ = hides_in_verdicts

RUN_ID_ENV = "SCA_RUN_ID"

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Tony")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Hoare")


def digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def iban(country: str = "DE") -> str:
    """A random IBAN with a valid ISO 13616 checksum."""
    bban = digits(18)
    numeric = "".join(str(int(char, 36)) for char in f"{bban}{country}00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def new_run_id(environ: Mapping[str, str] = os.environ) -> str:
    """The run's id (SCA_RUN_ID, or a new one: the day, the time and a random part), which
    every worker of the run shares and every name the run creates carries."""
    given = environ.get(RUN_ID_ENV, "").strip()
    if given:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,24}", given):
            raise ValueError(f"{RUN_ID_ENV}={given!r}: letters, digits and '-' only, at most 24")
        return given
    return f"sca-{time.strftime('%m%d%H%M', time.gmtime())}-{secrets.token_hex(2)}"


def phone_number(country: str = "SE") -> str:
    """A random mobile number of `country`'s numbering plan, valid as the plan is published
    (libphonenumber's metadata), in E.164: the plan's example mobile number with its
    subscriber digits drawn anew until the number is a valid mobile one."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"no mobile numbering plan for {country!r}")
    national = str(example.national_number)
    keep = max(2, len(national) - 7)
    mobile = (phonenumbers.PhoneNumberType.MOBILE,
              phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    for _ in range(500):
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:keep] + digits(len(national) - keep)),
        )
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in mobile:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"no valid mobile number drawn for {country!r}")  # pragma: no cover


@dataclass(frozen=True)
class Provisioned:
    """An individual the provider's staging holds already (profile data.provisioned_*)."""

    id: str
    passcode: str
    accounts: tuple[str, ...] = ()


def provisioned(data: DataSection, environ: Mapping[str, str] = os.environ) -> list[Provisioned]:
    """The pre-provisioned individuals: the environment variable's JSON, else the file's."""
    raw = environ.get(data.provisioned_env, "").strip() if data.provisioned_env else ""
    where = f"environment variable {data.provisioned_env}"
    if not raw and data.provisioned_file:
        where = f"file {data.provisioned_file}"
        try:
            raw = Path(data.provisioned_file).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise TargetNotPrepared("pre-provisioned individuals", f"{where}: {error}") from None
    try:
        entries = json.loads(raw) if raw else []
        return [Provisioned(str(entry["id"]), str(entry["passcode"]),
                            tuple(str(a) for a in entry.get("accounts", ())))
                for entry in entries]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise TargetNotPrepared(
            "pre-provisioned individuals",
            f'{where} is not a JSON list of {{"id", "passcode", "accounts"}}') from None


async def sms_code(
    api: ApiClient, page: Page | None, phone_number: str, profile: Profile | None = None,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The one-time code texted to `phone_number`, from the first source the profile
    declares (data.sms_code) that the target has: its SMS simulation, the code where the
    hosted page shows it (data.sms_code_locator, read from `page`), a fixed staging code
    (the environment variable data.sms_code_env). The code is a secret of the test."""
    profile = profile or Profile()
    usable = sources(profile, "sms_code", environ)[0]
    if not usable:
        raise TargetNotPrepared("the SMS code", "no declared source is available "
                                f"(data.sms_code = {profile.data.sms_code})")
    source = usable[0]
    if source == "fixed":
        code = environ[profile.data.sms_code_env].strip()
    elif source == "page":
        code = await _code_on_page(page, profile)
    else:
        path = endpoint(profile, "sms_simulation")
        call = f"GET {path}"
        with preparing(call):
            response = await api.get(path, params={"phone_number": phone_number})
            if response.status_code != 200:
                raise TargetNotPrepared(call, f"answered {response.status_code}")
            code = str(response.json()["code"])
    api.secrets.add(code)
    return code


async def _code_on_page(page: Page | None, profile: Profile) -> str:
    where = f"the SMS code on the hosted page ({profile.data.sms_code_locator})"
    if page is None:
        raise TargetNotPrepared(where, "no page to read it from")
    with preparing(where):
        shown = page.locator(profile.data.sms_code_locator).first
        await shown.wait_for(state="visible", timeout=profile.timeouts.page_seconds * 1000)
        found = re.search(r"\d(?:[\s-]?\d){3,9}", await shown.inner_text())
        if found is None:
            raise TargetNotPrepared(where, "shows no code")
        return re.sub(r"\D", "", found.group(0))


@dataclass
class Subject:
    """What one protected action is performed on, and the values its request is built from."""

    individual: dict[str, Any]
    passcode: str | None = None
    account: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    values: dict[str, Any] = field(default_factory=dict)


class DataFactory:
    def __init__(
        self, api: ApiClient, needs: Callable[[str], None] | None = None, *,
        profile: Profile | None = None, run_id: str = "", environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.api = api
        # The plugin's capability gate (skips a test the target cannot serve); none: all.
        self._needs = needs or (lambda capability: None)
        self.profile = profile or Profile()
        self.run_id = run_id or new_run_id(environ)
        self.environ = environ
        # The hosted onboarding in a browser, for data.individuals "onboarding": a function
        # enrolling a pending individual and answering the passcode it created (set by whoever
        # holds a page: Consents.enrol_with).
        self.enrol: Callable[[dict[str, Any]], Awaitable[str]] | None = None

    def path(self, name: str, **values: Any) -> str:
        """The path of the contract's request `name` on this target (catalog.ENDPOINTS)."""
        return endpoint(self.profile, name, **values)

    def sources(self, need: str) -> list[str]:
        """The declared sources of `need` this target has, after the gate let the test run;
        the hosted onboarding only for a test with a browser."""
        self._needs(need)
        usable, absent = sources(self.profile, need, self.environ)
        if "onboarding" in usable and self.enrol is None:
            usable.remove("onboarding")
            absent.append("onboarding (the hosted onboarding needs a browser; this test has none)")
        if not usable:
            pytest.skip(no_source(self.profile, need, absent))
        return usable

    async def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(path, json=body)
        call = f"POST {path}"
        with preparing(call):
            if response.status_code not in (200, 201):
                raise TargetNotPrepared(call, f"answered {response.status_code} "
                                        f"{response.text[:300]}")
            result: dict[str, Any] = response.json()
            return result

    async def _read(self, path: str) -> dict[str, Any]:
        call = f"GET {path}"
        with preparing(call):
            response = await self.api.get(path)
            if response.status_code != 200:
                raise TargetNotPrepared(call, f"answered {response.status_code}")
            result: dict[str, Any] = response.json()
            return result

    def individual_body(self) -> dict[str, Any]:
        """A new individual's request (contract 7): a valid mobile number of the profile's
        country, the run's id in the email address."""
        first, last = secrets.choice(FIRST_NAMES), secrets.choice(LAST_NAMES)
        return {
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{self.run_id}.{uuid.uuid4().hex[:8]}@example.com",
            "phone_number": phone_number(self.profile.data.phone_country),
            "date_of_birth": "1990-05-17",
        }

    async def individual(self, *, active: bool = True) -> tuple[dict[str, Any], str | None]:
        """A new individual, pending or active: active from the first declared source the
        target has (the activation simulation, the hosted onboarding and a KYC outcome, a
        pre-provisioned one)."""
        chosen = self.sources("active_individual")[0] if active else ""
        if chosen == "provisioned":
            return await self._provisioned()
        individual = await self._create(self.path("individuals"), self.individual_body())
        if not active:
            return individual, None
        if chosen == "onboarding":
            return await self._onboarded(individual)
        passcode = digits(6)
        self.api.secrets.add(passcode)
        individual = await self._create(
            self.path("activation_simulation", individual_id=individual["id"]),
            {"passcode": passcode},
        )
        return individual, passcode

    async def _onboarded(self, individual: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The hosted onboarding in the browser, then the KYC outcome (the staging way)."""
        assert self.enrol is not None  # sources() offers the onboarding only with a browser
        passcode = await self.enrol(individual)
        self.api.secrets.add(passcode)
        await self.kyc_approved(str(individual["id"]))
        return await self._read(self.path("individual", individual_id=individual["id"])), passcode

    async def kyc_approved(self, individual_id: str) -> dict[str, Any]:
        """The KYC-outcome simulation (staging's POST .../simulations/onboarding/status)."""
        body = render(self.profile.data.kyc_body, {"individual_id": individual_id})
        return await self._create(self.path("kyc_simulation"), body)

    async def _provisioned(self) -> tuple[dict[str, Any], str]:
        entries = provisioned(self.profile.data, self.environ)
        if not entries:
            raise TargetNotPrepared("pre-provisioned individuals", "the list is empty")
        entry = secrets.choice(entries)
        self.api.secrets.add(entry.passcode)
        individual = await self._read(self.path("individual", individual_id=entry.id))
        individual["_accounts"] = list(entry.accounts)  # for data.money "provisioned"
        return individual, entry.passcode

    async def account(
        self, individual_id: str, *, funds: int = 0, individual: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An account of the individual holding at least `funds` (minor units), from the
        first declared money source that serves: the funding simulation, an account that
        opens funded, a pre-funded account of a pre-provisioned individual."""
        if not funds:
            return await self._create(self.path("accounts"), {"individual_id": individual_id})
        for source in self.sources("money"):
            if source == "provisioned":
                for account_id in (individual or {}).get("_accounts", ()):
                    account = await self._read(self.path("account", account_id=account_id))
                    if int(account.get("balance", 0)) >= funds:
                        return account
                continue
            account = await self._create(self.path("accounts"), {"individual_id": individual_id})
            if source == "simulation":
                await self._create(self.path("funding_simulation"),
                                   {"account_id": account["id"], "amount": funds})
                return account
            if int(account.get("balance", 0)) >= funds:  # opens_funded
                return account
        raise TargetNotPrepared(
            f"an account holding {funds}",
            f"no declared source had one (data.money = {self.profile.data.money})")

    async def card(self, individual_id: str, account_id: str, kind: str) -> dict[str, Any]:
        return await self._create(
            self.path("cards"),
            {
                "individual_id": individual_id,
                "account_id": account_id,
                "display_name": f"{kind.title()} card {self.run_id}",
                "exp_month": 2,
                "exp_year": 2031,
                "type": kind,
            },
        )

    async def move(self, subject: Subject) -> dict[str, Any]:
        """A move from the subject's account to another of the individual's own (not a
        protected action): a transaction the test knows, for what must stay protected."""
        assert subject.account is not None
        savings = await self.account(str(subject.individual["id"]))
        amount = 10_000 + secrets.randbelow(80_000)
        reference = f"Savings {self.run_id} {uuid.uuid4().hex[:6]}"
        moved = await self._create(self.path("move"), {
            "source_account_id": subject.account["id"], "target_account_id": savings["id"],
            "amount": amount, "reference": reference, "request_id": str(uuid.uuid4()),
        })
        return {"amount": amount, "reference": reference, **moved}

    async def balance(self, account_id: str) -> int:
        return int((await self._read(self.path("account", account_id=account_id)))["balance"])

    async def subject(
        self, kind: str, enrolled: tuple[dict[str, Any], str] | None = None
    ) -> Subject:
        """Prepares what an action of the catalog needs (`Action.subject`), for a new
        individual or for one `enrolled` already (individual, passcode)."""
        if kind == "pending_individual":
            individual, _ = await self.individual(active=False)
            return Subject(individual, values={"individual_id": individual["id"]})
        individual, passcode = enrolled or await self.individual(active=True)
        subject = Subject(individual, passcode, values={"individual_id": individual["id"]})
        if kind in ("funded_account", "payment", "virtual_card", "physical_card"):
            subject.account = await self.account(individual["id"], funds=250_000,
                                                 individual=individual)
            subject.values["account_id"] = subject.account["id"]
        if kind == "payment":
            subject.values.update(
                request_id=str(uuid.uuid4()),
                amount=1000 + secrets.randbelow(9000),
                payee_name=f"{secrets.choice(FIRST_NAMES)} {secrets.choice(LAST_NAMES)} AB",
                payee_iban=iban(),
                payee_bic="DEUTDEFF",
                reference=f"Invoice {self.run_id} {digits(4)}",
            )
        if kind in ("virtual_card", "physical_card"):
            assert subject.account is not None
            subject.card = await self.card(
                individual["id"], subject.account["id"], kind.removesuffix("_card")
            )
            subject.values.update(card_id=subject.card["id"], last4=subject.card.get("last4"))
        return subject
