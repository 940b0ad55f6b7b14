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

What is sent: `fuzz_probes` (a probe, a finding), `fuzz_openapi` (from the document),
`fuzz_contract` (from the contract's requests); here, the campaign that sends and judges.
"""

# ruff: noqa: PLC0414  (the `X as X` imports below are re-exports)

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import allure
import httpx

from sca_conformance import checks
from sca_conformance.client import ApiClient, Exchange
from sca_conformance.failures import RequirementViolation, TargetNotPrepared, hides_in_verdicts

# The probes, re-exported (`X as X`): `fuzzing.contract_probes(...)`.
from sca_conformance.fuzz_contract import SHAPES as SHAPES
from sca_conformance.fuzz_contract import Shape as Shape
from sca_conformance.fuzz_contract import contract_probes as contract_probes
from sca_conformance.fuzz_contract import contract_values as contract_values
from sca_conformance.fuzz_contract import empty_or_null as empty_or_null
from sca_conformance.fuzz_contract import fresh as fresh
from sca_conformance.fuzz_contract import missing_or_null as missing_or_null
from sca_conformance.fuzz_contract import mutate as mutate
from sca_conformance.fuzz_contract import placeholder_values as placeholder_values
from sca_conformance.fuzz_contract import shape_probe as shape_probe
from sca_conformance.fuzz_contract import shapes_for as shapes_for
from sca_conformance.fuzz_contract import wrong_type as wrong_type
from sca_conformance.fuzz_contract import wrong_types as wrong_types
from sca_conformance.fuzz_openapi import BASE as BASE
from sca_conformance.fuzz_openapi import BODY_METHODS as BODY_METHODS
from sca_conformance.fuzz_openapi import Document as Document
from sca_conformance.fuzz_openapi import discover as discover
from sca_conformance.fuzz_openapi import not_json_bodies as not_json_bodies
from sca_conformance.fuzz_openapi import not_json_probes as not_json_probes
from sca_conformance.fuzz_openapi import schema_probes as schema_probes
from sca_conformance.fuzz_probes import CHUNK as CHUNK
from sca_conformance.fuzz_probes import DEFAULT_OPENAPI as DEFAULT_OPENAPI
from sca_conformance.fuzz_probes import NO_JSON
from sca_conformance.fuzz_probes import UNKNOWN_ID as UNKNOWN_ID
from sca_conformance.fuzz_probes import Finding as Finding
from sca_conformance.fuzz_probes import FuzzSettings as FuzzSettings
from sca_conformance.fuzz_probes import Mutation as Mutation
from sca_conformance.fuzz_probes import Probe as Probe

__tracebackhide__ = hides_in_verdicts


MAX_FINDINGS = 10  # a campaign stops here: the verdict is known, the rest costs time


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
        if probe.json is not NO_JSON:
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
    if probe.json is not NO_JSON:
        return json.dumps(probe.json).encode()
    return probe.content or b""


def describe(exchange: Exchange, probe: Probe) -> str:
    """The request as the report shows it: method, path and body, redacted by the client."""
    body = exchange.request
    if body is None:
        shown = "no body"
    elif isinstance(body, str):
        shown = repr(body[:160]) + (" (not JSON)" if probe.json is NO_JSON else "")
    else:
        shown = json.dumps(body, ensure_ascii=False)[:200]
    kind = f" {probe.content_type}" if probe.content_type and probe.json is NO_JSON else ""
    return f"{exchange.method} {exchange.path[:160]}{kind} {shown}"


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
