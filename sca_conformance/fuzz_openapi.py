"""Probes from the target's OpenAPI document (schemathesis): the document found and read,
every operation's examples (positive and negative), and bodies that are not JSON."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from sca_conformance.client import ApiClient
from sca_conformance.failures import TargetNotPrepared, hides_in_verdicts
from sca_conformance.fuzz_probes import (
    DEFAULT_OPENAPI,
    NO_JSON,
    FuzzSettings,
    Probe,
    chunks,
    draw,
    seed_for,
)

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


__tracebackhide__ = hides_in_verdicts


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
    body: Any = kwargs.get("json", NO_JSON)
    content = kwargs.get("data")
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    # A refusal names a field where the input had fields: a JSON object, or (no body at all)
    # query parameters; a body that is not an object has none to name.
    fields: tuple[str, ...] | None = None
    if isinstance(body, dict) or (body is NO_JSON and content is None and params):
        fields = ()
    return Probe(
        operation=case.operation.label, method=str(kwargs["method"]).upper(),
        path=str(kwargs["url"])[len(BASE):] or "/",
        origin=f"schema {'negative' if negative and mode == 'negative' else 'positive'}",
        json=body, content=content if body is NO_JSON else None,
        content_type=headers.get("content-type") if (body is not NO_JSON or content) else None,
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
    for turn, count in enumerate(chunks(settings.examples)):
        for operation in operations:
            first: Probe | None = None
            for mode in modes:
                cases = draw(strategies[(operation.label, mode)], count,
                             seed_for(settings, operation.label, mode, turn))
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
                    seed=seed_for(settings, operation.label, "raw", turn),
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
