"""Probes from the contract's own requests (hypothesis), where the target publishes no
document: each request as the suite makes it (a shape), every field made empty, null,
missing or of a wrong type, and the test data they are filled in with."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sca_conformance.catalog import Action, endpoint, render
from sca_conformance.consents import Consents
from sca_conformance.data import iban, phone_number
from sca_conformance.failures import hides_in_verdicts
from sca_conformance.fuzz_openapi import (
    not_json_probes,
)
from sca_conformance.fuzz_probes import (
    UNKNOWN_ID,
    FuzzSettings,
    Mutation,
    Probe,
    draw,
    seed_for,
)

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from sca_conformance.profile import Profile

__tracebackhide__ = hides_in_verdicts


# The contract's requests ---------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A request of the contract, as a template over the test data's values."""

    name: str
    method: str
    path: str
    body: dict[str, Any]
    optional: tuple[str, ...] = ()  # dotted: fields a client may omit (present or not)
    authenticated: bool = True

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"


SHAPES = (
    Shape("create an individual", "POST", endpoint(None, "individuals"), {
        "first_name": "Ada", "last_name": "Lovelace", "email": "{email}",
        "phone_number": "{phone_number}", "date_of_birth": "1990-05-17"},
        optional=("address",)),
    Shape("open an account", "POST", endpoint(None, "accounts"),
          {"individual_id": "{individual_id}"}, optional=("type",)),
    Shape("issue a card", "POST", endpoint(None, "cards"), {
        "individual_id": "{individual_id}", "account_id": "{account_id}",
        "display_name": "Fuzz card", "exp_month": 2, "exp_year": 2031, "type": "virtual"}),
    Shape("move between own accounts", "POST", endpoint(None, "move"), {
        "source_account_id": "{account_id}", "target_account_id": "{savings_account_id}",
        "amount": 100, "reference": "Fuzz move", "request_id": "{request_id}"}),
    Shape("initiate the consent", "POST", endpoint(None, "consent"),
          {"return_url": "{return_url}"}, optional=("return_url",)),
    Shape("log in", "POST", endpoint(None, "login"), {"api_key": "{api_key}"}, authenticated=False),
)


# The request of ENDPOINTS each shape is (for the target's paths).
_SHAPE_REQUESTS = {"create an individual": "individuals", "open an account": "accounts",
                   "issue a card": "cards", "move between own accounts": "move",
                   "initiate the consent": "consent", "log in": "login"}


def shapes_for(payment: Action | None, profile: Profile | None = None) -> list[Shape]:
    """The contract's requests at the target's paths, with the payment as the target's
    profile has it."""
    shapes = [replace(shape, path=endpoint(profile, _SHAPE_REQUESTS[shape.name]))
              for shape in SHAPES]
    if payment is not None and payment.body is not None:
        alternative = ("counterparty.account_id",) if isinstance(
            payment.body.get("counterparty"), dict) and "account" in payment.body[
                "counterparty"] else ()
        shapes.insert(3, Shape("pay", payment.method, payment.path.split("?")[0],
                               payment.body, optional=alternative))
    return shapes


def placeholder_values() -> dict[str, Any]:
    """Values for the contract's requests without test data: ids nothing has, a key that is
    not the target's (for the generated input of ERR-3 when no document is published)."""
    return {"individual_id": UNKNOWN_ID, "account_id": UNKNOWN_ID,
            "savings_account_id": UNKNOWN_ID, "card_id": UNKNOWN_ID, "consent_id": UNKNOWN_ID,
            "return_url": "https://client.example/sca/return", "api_key": "not-an-api-key",
            "amount": 1000, "payee_name": "Bob Builder AB",
            "payee_iban": iban(), "payee_bic": "DEUTDEFF", "reference": "Invoice 1"}


def fresh(values: dict[str, Any]) -> dict[str, Any]:
    """The values with what must differ per request renewed (ids of requests, contacts)."""
    return {**values, "request_id": str(uuid.uuid4()),
            "email": f"fuzz.{uuid.uuid4().hex[:12]}@example.com",
            "phone_number": phone_number()}


def _fields(body: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, str(key)), value
            yield from _fields(value, (*prefix, str(key)))


def mutate(body: dict[str, Any], mutation: Mutation) -> dict[str, Any] | None:
    """The body with the mutation applied; None where the field's parent is not there."""
    changed = copy.deepcopy(body)
    parent: Any = changed
    for name in mutation.field[:-1]:
        parent = parent.get(name) if isinstance(parent, dict) else None
    if not isinstance(parent, dict):
        return None
    leaf = mutation.field[-1]
    if mutation.kind == "missing":
        parent.pop(leaf, None)
    else:
        parent[leaf] = mutation.value
    return changed


def empty_or_null(shape: Shape, body: dict[str, Any]) -> list[Mutation]:
    """ERR-2's changes: every string emptied, every optional field sent as null."""
    found = [Mutation(path, "empty string", "ERR-2", "") for path, value in _fields(body)
             if isinstance(value, str)]
    found += [Mutation(tuple(name.split(".")), "null", "ERR-2") for name in shape.optional]
    return found


def _optional(shape: Shape, path: tuple[str, ...]) -> bool:
    return ".".join(path) in shape.optional


def missing_or_null(shape: Shape, body: dict[str, Any]) -> list[Mutation]:
    """ERR-1's systematic changes: every required field left out, or sent as null."""
    found: list[Mutation] = []
    for path, _ in _fields(body):
        if not _optional(shape, path):
            found += [Mutation(path, "missing", "ERR-1"), Mutation(path, "null", "ERR-1")]
    return found


def wrong_type(value: Any) -> SearchStrategy[Any]:
    """A JSON value of another type than `value`'s, none that a lenient reading could take
    for it (no digits for an integer, no scalar for a string's object or list)."""
    from hypothesis import strategies as st

    text = st.text(max_size=12)
    if isinstance(value, bool):
        return st.one_of(st.integers(), text)
    if isinstance(value, int):
        return st.one_of(
            text.filter(lambda s: not s.strip().lstrip("+-").isdigit()),
            st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != int(x)),
            st.booleans(), st.lists(st.integers(), max_size=2),
            st.dictionaries(text, st.integers(), max_size=2))
    if isinstance(value, str):
        return st.one_of(st.lists(text, max_size=2), st.dictionaries(text, text, max_size=2))
    if isinstance(value, dict):
        return st.one_of(text, st.integers(), st.booleans(), st.lists(st.integers(), max_size=2))
    return st.one_of(text, st.integers())


def wrong_types(body: dict[str, Any]) -> SearchStrategy[Mutation]:
    from hypothesis import strategies as st

    fields = list(_fields(body))
    return st.sampled_from(fields).flatmap(
        lambda found: wrong_type(found[1]).map(
            lambda value: Mutation(found[0], "wrong type", "ERR-1", value)))


def shape_probe(shape: Shape, values: dict[str, Any], mutation: Mutation | None,
                origin: str = "contract") -> Probe | None:
    try:
        body = render(shape.body, fresh(values))
        path = shape.path.format(**values)
    except (KeyError, IndexError, ValueError):
        return None  # a template the profile gave needs a value the fuzzer does not have
    if mutation is not None:
        body = mutate(body, mutation)
        if body is None:
            return None
    fields = mutation.field if mutation else ()
    return Probe(shape.operation, shape.method, path, origin, json=body,
                 authenticated=shape.authenticated, fields=fields, mutation=mutation)


def contract_probes(shapes: Sequence[Shape], values: dict[str, Any], settings: FuzzSettings,
                    kinds: str, *, malformed: bool = False) -> Iterator[Probe]:
    """The contract's requests with one field changed: kinds "ERR-1" (left out, null,
    drawn values of another type), "ERR-2" (emptied, optional ones null) or "all"; with
    `malformed`, bodies that are not JSON too."""
    for shape in shapes:
        base = shape_probe(shape, values, None)
        if base is None:
            continue
        body = base.json
        changes: list[Mutation] = []
        if kinds in ("ERR-2", "all"):
            changes += empty_or_null(shape, body)
        if kinds in ("ERR-1", "all"):
            changes += missing_or_null(shape, body)
            changes += draw(wrong_types(body), settings.examples,
                            seed_for(settings, shape.name, "wrong type"))
        for change in changes:
            probe = shape_probe(shape, values, change)
            if probe is not None:
                yield probe
        if malformed:
            yield from not_json_probes(shape.operation, shape.method, base.path, body,
                                       count=settings.examples,
                                       seed=seed_for(settings, shape.name, "raw"),
                                       authenticated=shape.authenticated)


async def contract_values(consents: Consents, api_key: str) -> dict[str, Any]:
    """The test data the contract's requests are filled in with: an active individual with
    a funded account and a second one, a virtual card, a pending consent (of a payment)."""
    data = consents.data
    subject = await data.subject("payment")
    individual_id, account_id = subject.values["individual_id"], subject.values["account_id"]
    savings = await data.account(individual_id)
    card = await data.card(individual_id, account_id, "virtual")
    values = {**subject.values, "savings_account_id": savings["id"], "card_id": card["id"],
              "return_url": consents.receiver.new_return_url(), "api_key": api_key}
    payment = consents.catalog.get("external_payment")
    if payment is not None:
        values["consent_id"] = (await consents.pending(payment, subject))["id"]
    return values
