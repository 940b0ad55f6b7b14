"""What the fuzzer sends and finds: its settings, a probe (one request) and the mutation
it carries, a finding; examples drawn from a hypothesis strategy under a seed of the run."""

from __future__ import annotations

import json
import zlib
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sca_conformance.failures import hides_in_verdicts

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


__tracebackhide__ = hides_in_verdicts


T = TypeVar("T")


DEFAULT_OPENAPI = "/openapi.json"  # FastAPI's, and the embedded sandbox's


CHUNK = 10  # examples drawn at a time per operation: operations take turns in the budget


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


NO_JSON: Any = object()


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
    json: Any = NO_JSON
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, str] | None = None
    authenticated: bool = True
    # What a refusal must name: None nothing (no fields), () any field, else one of these.
    fields: tuple[str, ...] | None = None
    mutation: Mutation | None = None

    def key(self) -> tuple[Any, ...]:
        body = self.content if self.json is NO_JSON else json.dumps(self.json, sort_keys=True)
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


# Generation --------------------------------------------------------------------------


def seed_for(settings: FuzzSettings, *parts: object) -> int:
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


def chunks(total: int) -> list[int]:
    return [min(CHUNK, total - start) for start in range(0, total, CHUNK)]
