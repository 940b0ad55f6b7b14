"""ERR-1..3 fuzzed against the target: what to send, and how to judge each answer.

Three sources of input, all bounded (examples per operation, a time budget per test):

- the target's OpenAPI document, when it publishes one: schemathesis generates requests for
  every operation, valid (positive) and invalid (negative) by the document's own schemas;
- raw bodies that are not JSON at all (truncated, broken, binary, unclosed), drawn by
  hypothesis for every operation that takes a body: schemathesis never sends broken JSON;
- the contract's requests (section 7 and the consent initiation, the login), each first
  sent as the target accepts it (the suite's own test data), then with one field changed:
  emptied, null, left out, or of another JSON type (hypothesis draws the values). Without
  an OpenAPI document they are all the fuzzer has.

Judged per answer: a 5xx (or no answer) is ERR-3's; a refusal without an error list, or one
that names no field of an input that had fields, is ERR-1's; an empty string or a null for
an optional field that gets past validation (any answer below 400, or a consent's 412) is
ERR-2's, and any other invalid change that does so ERR-1's. What the schema calls invalid
and the target accepts anyway is not judged: a document may be stricter than the contract.

Every request goes through the suite's ApiClient (one session of the first key, sent only
to the target's base URL, whatever the document's `servers` say); findings name the request
from the exchange the client recorded, already redacted.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import allure
import httpx

from sca_conformance import checks
from sca_conformance.catalog import Action, endpoint, render
from sca_conformance.client import ApiClient, Exchange
from sca_conformance.consents import Consents
from sca_conformance.data import iban, phone_number
from sca_conformance.failures import RequirementViolation, TargetNotPrepared, hides_in_verdicts

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from sca_conformance.profile import Profile

__tracebackhide__ = hides_in_verdicts

T = TypeVar("T")
DEFAULT_OPENAPI = "/openapi.json"  # FastAPI's, and the embedded sandbox's
CHUNK = 10  # examples drawn at a time per operation: operations take turns in the budget
MAX_FINDINGS = 10  # a campaign stops here: the verdict is known, the rest costs time
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
_NO_JSON: Any = object()


@dataclass(frozen=True)
class FuzzSettings:
    enabled: bool = False
    examples: int = 10  # per operation and mode, and drawn mutations per contract request
    seconds: float = 20.0  # each fuzz test's budget: nothing more is sent once it is spent
    seed: int = 0
    openapi: str = DEFAULT_OPENAPI  # a path on the target, a URL, a local file, or "none"

    def describe(self) -> str:
        return (f"{self.examples} examples per operation and mode, {self.seconds:g} s per "
                f"test, seed {self.seed}, OpenAPI document {self.openapi}")


# What is sent ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    """One field of a request the target accepts, changed so that the contract forbids it."""

    field: tuple[str, ...]
    kind: str  # "empty string", "null", "missing", "wrong type"
    requirement: str  # what accepting it violates
    value: Any = None

    def describe(self) -> str:
        shown = f" {json.dumps(self.value, ensure_ascii=False)[:60]}" if (
            self.kind == "wrong type") else ""
        return f"{'.'.join(self.field)} {self.kind}{shown}"


@dataclass(frozen=True)
class Probe:
    """One request the fuzzer sends, and what it knows about it."""

    operation: str  # "POST <base>/transactions/pay", as the document or the contract has it
    method: str
    path: str  # concrete, percent-encoded
    origin: str  # "schema positive", "schema negative", "not JSON", "contract"
    json: Any = _NO_JSON
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, str] | None = None
    authenticated: bool = True
    # What a refusal must name: None nothing (no fields), () any field, else one of these.
    fields: tuple[str, ...] | None = None
    mutation: Mutation | None = None

    def key(self) -> tuple[Any, ...]:
        body = self.content if self.json is _NO_JSON else json.dumps(self.json, sort_keys=True)
        return (self.method, self.path, body, self.content_type,
                json.dumps(self.params, sort_keys=True))


@dataclass(frozen=True)
class Finding:
    requirement: str
    detail: str  # what did not hold, redacted
    request: str  # method, path and body, redacted
    status: int | None  # None: no answer
    origin: str

    def line(self) -> str:
        answer = "no answer" if self.status is None else str(self.status)
        return f"{self.requirement} [{self.origin}] {self.request} → {answer}: {self.detail}"


Judge = Callable[[Probe, httpx.Response], None]
"""One condition on an answer, raising RequirementViolation (a check of `checks`)."""


def no_server_error(probe: Probe, response: httpx.Response) -> None:
    checks.no_server_error(response)


def refusal_lists_errors(probe: Probe, response: httpx.Response) -> None:
    checks.refusal_lists_errors(response, probe.fields)


def invalid_not_accepted(probe: Probe, response: httpx.Response) -> None:
    mutation = probe.mutation
    if mutation is None:
        return
    if mutation.requirement == "ERR-2":
        checks.empty_or_null_not_accepted(response, mutation.describe())
    else:
        checks.invalid_input_not_accepted(response, mutation.describe())


# The campaign ------------------------------------------------------------------------


@dataclass
class Campaign:
    """What one fuzz test sent and found: the evidence, and its verdict."""

    settings: FuzzSettings
    source: str = ""
    sent: int = 0
    unsendable: int = 0  # generated requests httpx refuses to build (e.g. a NUL in a header)
    statuses: Counter[str] = field(default_factory=Counter)  # "POST /x 400" -> count
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: str = ""  # why it ended before its inputs did
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"source": self.source, "seed": self.settings.seed,
                "examples": self.settings.examples, "budget_seconds": self.settings.seconds,
                "seconds": round(self.seconds, 2), "sent": self.sent,
                "unsendable": self.unsendable, "stopped": self.stopped, "notes": self.notes,
                "findings": [finding.line() for finding in self.findings],
                "answers": dict(sorted(self.statuses.items()))}

    def verdict(self, requirement_id: str) -> None:
        """Raises the violation the findings show: of `requirement_id` when there is one,
        else of the first requirement found (a 5xx while fuzzing ERR-1 is ERR-3's)."""
        if not self.findings:
            if not self.sent:
                raise TargetNotPrepared("fuzzing", "no request could be sent: "
                                        + "; ".join(self.notes or ["nothing was generated"]))
            return
        own = [f for f in self.findings if f.requirement == requirement_id] or [
            f for f in self.findings if f.requirement == self.findings[0].requirement]
        first = own[0]
        others = Counter(f.requirement for f in self.findings if f.requirement != first.requirement)
        also = "".join(f"; also {count} {rid}" for rid, count in sorted(others.items()))
        many = f"at least {len(own)}" if self.stopped.startswith("stopped at") else len(own)
        answer = "no answer" if first.status is None else first.status
        raise RequirementViolation(first.requirement, AssertionError(
            f"seed {self.settings.seed}: {many} of {self.sent} fuzzed requests{also}; first "
            f"[{first.origin}] {first.request} → {answer}: {first.detail}"))


class Fuzzer:
    """Sends probes through one API session within the budget, judging every answer."""

    def __init__(self, client: ApiClient, settings: FuzzSettings, judges: Sequence[Judge],
                 campaign: Campaign | None = None) -> None:
        self.client = client
        self.settings = settings
        self.judges = judges
        self.campaign = campaign or Campaign(settings)
        self._started = time.monotonic()
        self._seen: set[tuple[Any, ...]] = set()

    @property
    def spent(self) -> bool:
        return time.monotonic() - self._started >= self.settings.seconds

    @property
    def done(self) -> bool:
        return bool(self.campaign.stopped)

    async def run(self, probes: Iterable[Probe]) -> Campaign:
        campaign = self.campaign
        for probe in probes:
            if self.spent:
                campaign.stopped = (f"budget of {self.settings.seconds:g} s spent "
                                    f"(--fuzz-seconds)")
                break
            if len(campaign.findings) >= MAX_FINDINGS:
                campaign.stopped = f"stopped at {MAX_FINDINGS} findings"
                break
            key = probe.key()
            if key in self._seen:
                continue
            self._seen.add(key)
            await self.probe(probe)
        campaign.seconds = time.monotonic() - self._started
        return campaign

    async def send(self, probe: Probe) -> tuple[httpx.Response | None, Exchange | None]:
        """One request as the probe says; (None, None) when it cannot be built, (None,
        the failure) when the target gave no answer."""
        kwargs: dict[str, Any] = {"params": probe.params, "authenticated": probe.authenticated}
        if probe.content_type:
            kwargs["headers"] = {"Content-Type": probe.content_type}
        if probe.json is not _NO_JSON:
            kwargs["json"] = probe.json
        elif probe.content is not None:
            kwargs["content"] = probe.content
        self.client.exchanges.clear()
        try:
            response = await self.client.request(probe.method, probe.path, **kwargs)
        except (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol,
                UnicodeError, TypeError, ValueError):
            self.campaign.unsendable += 1
            return None, None
        except httpx.TransportError as error:
            self.campaign.sent += 1
            body = self.client.secrets.body(_bytes(probe))
            failed = Exchange(probe.method, self.client.secrets.text(probe.path), 0, body, None,
                              0.0, type(error).__name__)
            return None, failed
        self.campaign.sent += 1
        return response, self.client.exchanges[-1] if self.client.exchanges else None

    async def probe(self, probe: Probe) -> httpx.Response | None:
        response, exchange = await self.send(probe)
        if exchange is None:
            return None
        if response is None:
            self._found(probe, exchange, "ERR-3", f"the target gave no answer "
                        f"({exchange.content_type})", None)
            return None
        self.campaign.statuses[f"{probe.operation} {response.status_code}"] += 1
        for judge in self.judges:
            try:
                judge(probe, response)
            except RequirementViolation as violation:
                self._found(probe, exchange, violation.requirement.id, str(violation.cause),
                            response.status_code)
                break
        return response

    def _found(self, probe: Probe, exchange: Exchange, requirement_id: str, detail: str,
               status: int | None) -> None:
        secrets = self.client.secrets
        self.campaign.findings.append(Finding(
            requirement_id, secrets.text(detail)[:400], describe(exchange, probe), status,
            probe.origin + (f": {probe.mutation.describe()}" if probe.mutation else "")))


def _bytes(probe: Probe) -> bytes:
    if probe.json is not _NO_JSON:
        return json.dumps(probe.json).encode()
    return probe.content or b""


def describe(exchange: Exchange, probe: Probe) -> str:
    """The request as the report shows it: method, path and body, redacted by the client."""
    body = exchange.request
    if body is None:
        shown = "no body"
    elif isinstance(body, str):
        shown = repr(body[:160]) + (" (not JSON)" if probe.json is _NO_JSON else "")
    else:
        shown = json.dumps(body, ensure_ascii=False)[:200]
    kind = f" {probe.content_type}" if probe.content_type and probe.json is _NO_JSON else ""
    return f"{exchange.method} {exchange.path[:160]}{kind} {shown}"


# The target's OpenAPI document ---------------------------------------------------------


@dataclass(frozen=True)
class Document:
    spec: dict[str, Any] | None
    source: str  # where the inputs come from, as the report says it


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _parse(text: str) -> dict[str, Any]:
    try:
        spec = json.loads(text)
    except ValueError:
        try:  # optional: documents in YAML are read where PyYAML is installed
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise ValueError("not JSON (and PyYAML is not installed for YAML)") from None
        try:
            spec = yaml.safe_load(text)
        except Exception as error:  # PyYAML's errors are not ValueErrors
            raise ValueError(f"neither JSON nor YAML ({type(error).__name__})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict) or not (
            str(spec.get("openapi", "")).startswith("3") or spec.get("swagger") == "2.0"):
        raise ValueError("not an OpenAPI 3 (or Swagger 2.0) document with paths")
    return spec


async def discover(client: ApiClient, location: str) -> Document:
    """The target's OpenAPI document at `location`: a path on the target (asked without
    credentials, then with the session's token if it answers 401 or 403), a URL (on another
    origin: never with the target's credentials), a local file; "none": the contract's
    requests. Not found at the default location: the contract's requests; not found where
    it was named: the target could not be prepared."""
    if location.strip().lower() == "none":
        return Document(None, "the contract's requests (--fuzz-openapi none)")
    try:
        if location.startswith(("http://", "https://")) and (
                _origin(location) != _origin(client.base_url)):
            async with httpx.AsyncClient(timeout=15.0, follow_redirects=True) as http:
                answer = await http.get(location)
                answer.raise_for_status()
                text = answer.text
        elif location.startswith(("/", "http://", "https://")):
            path = urlsplit(location).path if "://" in location else location
            response = await client.request("GET", path, authenticated=False)
            if response.status_code in (401, 403):
                response = await client.request("GET", path)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(location).read_text(encoding="utf-8")
        spec = _parse(text)
    except (httpx.HTTPError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        if location != DEFAULT_OPENAPI:
            raise TargetNotPrepared(f"the OpenAPI document {location}", reason) from None
        return Document(None, f"the contract's requests (no OpenAPI document at {location}: "
                              f"{reason})")
    count = sum(1 for ops in spec["paths"].values() if isinstance(ops, dict) for method in ops
                if method.lower() in ("get", "put", "post", "delete", "patch"))
    return Document(spec, f"the OpenAPI document at {location} ({count} operations)")


# Generation --------------------------------------------------------------------------


def _seed(settings: FuzzSettings, *parts: object) -> int:
    return zlib.crc32(":".join(map(str, (settings.seed, *parts))).encode())


def draw(strategy: SearchStrategy[T], count: int, seed: int) -> list[T]:
    """`count` values of a strategy, reproducibly from `seed` (generation only: nothing is
    shrunk, nothing is stored in a database where the suite runs)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as seeded
    from hypothesis.errors import Unsatisfiable

    found: list[T] = []

    @seeded(seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    with suppress(Unsatisfiable):  # what could be drawn was
        collect()
    return found


def _chunks(total: int) -> list[int]:
    return [min(CHUNK, total - start) for start in range(0, total, CHUNK)]


_PATH_PARAMETER = re.compile(r"{(\w+)}")
BASE = "http://fuzz.invalid"  # never sent to: the probes keep only path and query


def _query(params: Any) -> dict[str, str] | None:
    if not params:
        return None
    shown: dict[str, str] = {}
    for name, value in dict(params).items():
        if isinstance(value, str):
            shown[str(name)] = value
        elif isinstance(value, bool) or value is None:
            shown[str(name)] = json.dumps(value)
        elif isinstance(value, int | float):
            shown[str(name)] = str(value)
        else:
            shown[str(name)] = json.dumps(value, ensure_ascii=False)
    return shown


def _case_probe(case: Any, mode: str, authenticated: bool = True) -> Probe:
    from schemathesis.core.parameters import ParameterLocation

    kwargs = case.as_transport_kwargs(base_url=BASE)
    negative = any(case.meta.is_negative_at(location) for location in (
        ParameterLocation.BODY, ParameterLocation.QUERY, ParameterLocation.PATH))
    headers = {str(k).lower(): v for k, v in (kwargs.get("headers") or {}).items()}
    params = _query(kwargs.get("params"))
    body: Any = kwargs.get("json", _NO_JSON)
    content = kwargs.get("data")
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    # A refusal names a field where the input had fields: a JSON object, or (no body at all)
    # query parameters; a body that is not an object has none to name.
    fields: tuple[str, ...] | None = None
    if isinstance(body, dict) or (body is _NO_JSON and content is None and params):
        fields = ()
    return Probe(
        operation=case.operation.label, method=str(kwargs["method"]).upper(),
        path=str(kwargs["url"])[len(BASE):] or "/",
        origin=f"schema {'negative' if negative and mode == 'negative' else 'positive'}",
        json=body, content=content if body is _NO_JSON else None,
        content_type=headers.get("content-type") if (body is not _NO_JSON or content) else None,
        params=params, authenticated=authenticated, fields=fields)


def schema_probes(document: Document, settings: FuzzSettings, modes: Sequence[str],
                  known: dict[str, str] | None = None, *, malformed: bool = True,
                  notes: list[str] | None = None) -> Iterator[Probe]:
    """Generated requests for every operation of the document (schemathesis), in turns of
    CHUNK per operation and mode, and bodies that are not JSON for those that take one."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.core.result import Ok

    assert document.spec is not None
    schema = schemathesis.openapi.from_dict(document.spec)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        elif notes is not None:  # an operation schemathesis cannot read
            notes.append(f"an operation of the document cannot be generated for: "
                         f"{str(result.err())[:200]}")
    # An operation the document secures with nothing (the login) is sent without the
    # session's token: its 401 is its answer, not a reason to log in again and resend.
    secured = {operation.label: bool(operation.definition.raw.get(
        "security", document.spec.get("security"))) for operation in operations}
    strategies: dict[tuple[str, str], Any] = {}
    for operation in operations:
        fixed = {name: value for name in _PATH_PARAMETER.findall(operation.path)
                 if (value := (known or {}).get(name)) is not None}
        for mode in modes:
            strategies[(operation.label, mode)] = operation.as_strategy(
                generation_mode=GenerationMode(mode), path_parameters=fixed or None)
    for turn, count in enumerate(_chunks(settings.examples)):
        for operation in operations:
            first: Probe | None = None
            for mode in modes:
                cases = draw(strategies[(operation.label, mode)], count,
                             _seed(settings, operation.label, mode, turn))
                for case in cases:
                    probe = _case_probe(case, mode, secured[operation.label])
                    if first is None or (probe.origin == "schema positive" and
                                         first.origin != "schema positive"):
                        first = probe
                    yield probe
            if malformed and first is not None and operation.method.upper() in BODY_METHODS:
                example = first.json if isinstance(first.json, dict) else {"value": 1}
                yield from not_json_probes(
                    first.operation, first.method, first.path, example, count=count,
                    seed=_seed(settings, operation.label, "raw", turn),
                    authenticated=first.authenticated)


BODY_METHODS = ("POST", "PUT", "PATCH")
_BREAKERS = (b"{", b"}", b",", b":", b'"', b"'", b"\\", b"\xff", b"\x00", b"//", b"\x1b[")


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # nested deeper than a decoder goes: not JSON to it
        return True
    return False


def not_json_bodies(valid: bytes) -> SearchStrategy[tuple[bytes, str]]:
    """Bodies that are not JSON: a valid body cut short (the simplest, drawn first: `{`),
    broken by a character, text, bytes that are not UTF-8, brackets never closed; mostly
    declared as JSON, sometimes as text."""
    from hypothesis import strategies as st

    size = len(valid)
    truncated = st.integers(1, max(1, size - 1)).map(lambda cut: valid[:cut])
    broken = st.tuples(st.integers(0, size), st.sampled_from(_BREAKERS)).map(
        lambda at: valid[: at[0]] + at[1] + valid[at[0]:])
    text = st.text(min_size=1, max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass"))
    raw = st.binary(min_size=1, max_size=40)
    unclosed = st.integers(2, 5000).map(lambda depth: b"[" * depth)
    bodies = st.one_of(truncated, broken, text, raw, unclosed).filter(_not_json)
    media = st.sampled_from(("application/json", "application/json",
                             "application/json; charset=utf-8", "text/plain"))
    return st.tuples(bodies, media)


def not_json_probes(operation: str, method: str, path: str, example: Any, *, count: int,
                    seed: int, authenticated: bool = True) -> Iterator[Probe]:
    """A valid body cut before its end (always: the one malformed body every run sends),
    then `count` drawn."""
    valid = json.dumps(example).encode()
    yield Probe(operation, method, path, "not JSON", content=valid[:-1],
                content_type="application/json", authenticated=authenticated)
    for content, media in draw(not_json_bodies(valid), count, seed):
        yield Probe(operation, method, path, "not JSON", content=content, content_type=media,
                    authenticated=authenticated)


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
                            _seed(settings, shape.name, "wrong type"))
        for change in changes:
            probe = shape_probe(shape, values, change)
            if probe is not None:
                yield probe
        if malformed:
            yield from not_json_probes(shape.operation, shape.method, base.path, body,
                                       count=settings.examples,
                                       seed=_seed(settings, shape.name, "raw"),
                                       authenticated=shape.authenticated)


async def accepted_shapes(fuzzer: Fuzzer, shapes: Sequence[Shape],
                          values: dict[str, Any]) -> list[Shape]:
    """The contract's requests the target accepts as the suite makes them (any answer
    below 400, or a consent's 412): only their changes say anything about validation."""
    kept = []
    for shape in shapes:
        probe = shape_probe(shape, values, None, "contract as made")
        if probe is None:
            fuzzer.campaign.notes.append(f"{shape.name}: the profile's request needs values "
                                         "the fuzzer does not have")
            continue
        response = await fuzzer.probe(probe)
        if response is not None and (response.status_code < 400 or
                                     response.status_code == 412):
            kept.append(shape)
        else:
            status = response.status_code if response is not None else "no answer"
            fuzzer.campaign.notes.append(
                f"{shape.name} ({shape.operation}) as the suite makes it answered {status}: "
                "its changes are left out")
    if not kept and not fuzzer.campaign.findings:
        raise TargetNotPrepared("the contract's requests", "; ".join(fuzzer.campaign.notes))
    return kept


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


def report(campaign: Campaign) -> None:
    """The campaign as evidence: a summary attached to the report (findings, answers per
    operation and status, notes), its findings on the test's output. Already redacted."""
    summary = campaign.summary()
    allure.attach(json.dumps(summary, indent=2, ensure_ascii=False), name="fuzz campaign",
                  attachment_type=allure.attachment_type.JSON)
    print(f"fuzzed: {campaign.sent} requests in {campaign.seconds:.1f} s from {campaign.source}"
          f", seed {campaign.settings.seed}" + (f"; {campaign.stopped}" if campaign.stopped
                                                else ""))
    for line in (*campaign.notes, *(finding.line() for finding in campaign.findings)):
        print(f"  {line}")


def known_ids(values: dict[str, Any]) -> dict[str, str]:
    """Path parameters the test data fills in, by name."""
    return {name: str(values[name]) for name in
            ("individual_id", "account_id", "card_id", "consent_id") if values.get(name)}
