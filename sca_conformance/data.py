"""Test data every test makes for itself through the API (contract section 7)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sca_conformance.checks import TargetNotPrepared, hides_in_verdicts, preparing
from sca_conformance.client import ApiClient

__tracebackhide__ = hides_in_verdicts

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


@dataclass
class Subject:
    """What one protected action is performed on, and the values its request is built from."""

    individual: dict[str, Any]
    passcode: str | None = None
    account: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    values: dict[str, Any] = field(default_factory=dict)


class DataFactory:
    def __init__(self, api: ApiClient, needs: Callable[[str], None] | None = None) -> None:
        self.api = api
        # The plugin's capability gate (skips a test the target cannot serve); none: all.
        self._needs = needs or (lambda capability: None)

    async def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.post(path, json=body)
        with preparing(f"POST {path}"):
            if response.status_code not in (200, 201):
                raise TargetNotPrepared(f"POST {path}", f"answered {response.status_code} "
                                        f"{response.text[:300]}")
            result: dict[str, Any] = response.json()
            return result

    async def individual(self, *, active: bool = True) -> tuple[dict[str, Any], str | None]:
        first, last = secrets.choice(FIRST_NAMES), secrets.choice(LAST_NAMES)
        individual = await self._create(
            "/v3/individuals",
            {
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{uuid.uuid4().hex[:12]}@example.com",
                "phone_number": f"+4670{digits(8)}",
                "date_of_birth": "1990-05-17",
            },
        )
        if not active:
            return individual, None
        self._needs("activation_simulation")
        passcode = digits(6)
        self.api.secrets.add(passcode)
        individual = await self._create(
            f"/v3/simulations/individuals/{individual['id']}/activate", {"passcode": passcode}
        )
        return individual, passcode

    async def account(self, individual_id: str, *, funds: int = 0) -> dict[str, Any]:
        account = await self._create("/v3/accounts", {"individual_id": individual_id})
        if funds:
            self._needs("funding_simulation")
            await self._create(
                "/v3/simulations/account_funding", {"account_id": account["id"], "amount": funds}
            )
        return account

    async def card(self, individual_id: str, account_id: str, kind: str) -> dict[str, Any]:
        return await self._create(
            "/v3/cards",
            {
                "individual_id": individual_id,
                "account_id": account_id,
                "display_name": f"{kind.title()} card",
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
        reference = f"Savings {uuid.uuid4().hex[:10]}"
        moved = await self._create("/v3/transactions/move", {
            "source_account_id": subject.account["id"], "target_account_id": savings["id"],
            "amount": amount, "reference": reference, "request_id": str(uuid.uuid4()),
        })
        return {"amount": amount, "reference": reference, **moved}

    async def balance(self, account_id: str) -> int:
        with preparing(f"GET /v3/accounts/{account_id}"):
            response = await self.api.get(f"/v3/accounts/{account_id}")
            return int(response.json()["balance"])

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
            subject.account = await self.account(individual["id"], funds=250_000)
            subject.values["account_id"] = subject.account["id"]
        if kind == "payment":
            subject.values.update(
                request_id=str(uuid.uuid4()),
                amount=1000 + secrets.randbelow(9000),
                payee_name=f"{secrets.choice(FIRST_NAMES)} {secrets.choice(LAST_NAMES)} AB",
                payee_iban=iban(),
                payee_bic="DEUTDEFF",
                reference=f"Invoice {digits(6)}",
            )
        if kind in ("virtual_card", "physical_card"):
            assert subject.account is not None
            subject.card = await self.card(
                individual["id"], subject.account["id"], kind.removesuffix("_card")
            )
            subject.values.update(card_id=subject.card["id"], last4=subject.card.get("last4"))
        return subject
