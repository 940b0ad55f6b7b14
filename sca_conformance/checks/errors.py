"""Errors (ERR): a refused input answers a list of errors naming what is wrong, and
nothing answers 5xx."""

from __future__ import annotations

import re
from typing import Any

import httpx

from sca_conformance.checks.reading import (
    json_of,
    status_is,
)
from sca_conformance.failures import Mismatch, hides_in_verdicts, proves

__tracebackhide__ = hides_in_verdicts


_FIELD_KEYS = ("field", "path", "pointer", "loc", "location", "property", "param", "name")


_MESSAGE_KEYS = ("message", "detail", "description", "title", "reason", "error")


def _list_of_errors(body: Any) -> list[Any] | None:
    """The first list of error objects anywhere in the body (or the body itself)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return value
            found = _list_of_errors(value) if isinstance(value, dict) else None
            if found:
                return found
    return None


def _errors_by_field(body: Any) -> list[Any] | None:
    """`{"errors": {"amount": ["must be positive"]}}`: each field with what is wrong."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if "error" in key.lower() and isinstance(value, dict) and value and not any(
            k in value for k in (*_MESSAGE_KEYS, "code")) and all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(m, str) for m in v))
            for v in value.values()
        ):
            return [{"field": field, "message": "; ".join([v] if isinstance(v, str) else v)}
                    for field, v in value.items()]
    return None


def _one_error(body: Any) -> list[Any] | None:
    """A single error object, the provider's envelope (`{"error": {"code", "message"}}`):
    a list of one."""
    if isinstance(body, dict):
        for key, value in body.items():
            if "error" in key.lower() and isinstance(value, dict) and any(
                isinstance(value.get(k), str) and value[k].strip() for k in _MESSAGE_KEYS
            ):
                return [value]
    return None


def _error_entries(body: Any) -> list[Any] | None:
    """The errors the body lists, wherever it lists them: a list of error objects (the body
    itself or anywhere inside it), errors by field, or one error object in an envelope."""
    return _list_of_errors(body) or _one_error(body) or _errors_by_field(body)


def error_list(response: httpx.Response) -> list[dict[str, Any]]:
    """A list of errors, each an object saying what is wrong (any key names it: the
    contract asks for a list, not for these names)."""
    body = json_of(response)
    errors = _error_entries(body)
    if not errors:
        raise Mismatch("error body", "a list of errors, e.g. {\"errors\": [{field, message}]}",
                       body)
    for error in errors:
        texts = [v for k, v in error.items() if k not in _FIELD_KEYS and isinstance(v, str)
                 and v.strip()] if isinstance(error, dict) else []
        if not texts:
            raise Mismatch("error entry", "an object saying what is wrong", error)
    return errors


def _field_of(error: Any) -> str | None:
    """The field an error names, wherever in the error it names it (`field`, `loc`,
    `source.pointer`, ...)."""
    if not isinstance(error, dict):
        return None
    for key in _FIELD_KEYS:
        value = error.get(key)
        if isinstance(value, list):
            value = ".".join(str(part) for part in value)
        if value and isinstance(value, str | int):
            return str(value)
    for value in error.values():
        found = _field_of(value) if isinstance(value, dict) else None
        if found:
            return found
    return None


def error_fields(errors: list[dict[str, Any]]) -> list[str]:
    return [field for field in map(_field_of, errors) if field]


@proves("ERR-1")
def invalid_input_named(response: httpx.Response, field: str) -> None:
    status_is(response, 400)
    fields = error_fields(error_list(response))
    # "amount", "body.amount", "/amount", "counterparty[account][iban]": the field's name
    # is one part of the path the target gives.
    if not any(field in re.split(r"[^A-Za-z0-9_]+", name) for name in fields):
        raise Mismatch("fields named by the errors", f"to include {field!r}", fields)


@proves("ERR-2")
def refused_empty_or_null(response: httpx.Response, what: str) -> None:
    if response.status_code != 400:
        raise Mismatch(what, "400", f"{response.status_code} {response.text[:200]}")


@proves("ERR-3")
def no_server_error(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise Mismatch(f"status of {response.request.method} {response.request.url.path}",
                       "not 5xx", response.status_code)


REFUSALS = frozenset({400, 413, 415, 422})
"""The answers that refuse the input itself (a 401, 404, 409 or 412 is about something else)."""


def _accepted(response: httpx.Response) -> bool:
    """The input got past validation: an answer below 400, or a consent (412)."""
    return response.status_code < 400 or response.status_code == 412


@proves("ERR-1")
def refusal_lists_errors(response: httpx.Response, fields: tuple[str, ...] | None) -> None:
    """A refused input answers a list of errors, each saying what is wrong; where the input
    had fields (a JSON object, query parameters), an error names one: one of `fields`, or
    any field when `fields` is empty. (For a body that is not an object there is none.)"""
    if response.status_code not in REFUSALS:
        return
    errors = error_list(response)
    if fields is None:
        return
    named = error_fields(errors)
    if not named:
        raise Mismatch("fields named by the errors", "at least one field", errors[:3])
    parts = {part for name in named for part in re.split(r"[^A-Za-z0-9_]+", name)}
    if fields and not parts & set(fields):
        raise Mismatch("fields named by the errors", f"to name {' or '.join(fields)}", named)


@proves("ERR-1")
def invalid_input_not_accepted(response: httpx.Response, what: str) -> None:
    if _accepted(response):
        raise Mismatch(what, "a refusal (400)", f"{response.status_code} {response.text[:200]}")


@proves("ERR-2")
def empty_or_null_not_accepted(response: httpx.Response, what: str) -> None:
    if _accepted(response):
        raise Mismatch(what, "a refusal (400)", f"{response.status_code} {response.text[:200]}")
