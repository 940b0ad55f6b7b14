"""The visible texts the page objects look for: one table per hosted page.

`en.toml` is the default (the provider's published screens); `sv.toml` is Swedish. A
profile picks a table (`[texts] language = "sv"`) and overrides single entries
(`[texts.summary] heading = "..."`), so a provider's own wording needs no code change.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from sca_conformance.suggest import did_you_mean

Texts = Mapping[str, Mapping[str, str]]


@cache
def _table(language: str) -> dict[str, dict[str, str]]:
    source = resources.files(__package__).joinpath(f"{language}.toml")
    if not source.is_file():
        raise ValueError(f"texts.language {language!r} has no table; shipped: "
                         f"{', '.join(languages())}")
    return tomllib.loads(source.read_text(encoding="utf-8"))


def languages() -> list[str]:
    return sorted(entry.name.removesuffix(".toml") for entry in
                  resources.files(__package__).iterdir() if entry.name.endswith(".toml"))


PAGES: dict[str, tuple[str, ...]] = {page: tuple(keys) for page, keys in _table("en").items()}


def load_texts(language: str = "en", overrides: Mapping[str, Any] | None = None) -> Texts:
    """The table for `language` with a profile's overrides; unknown pages or keys and
    non-string values are refused naming the nearest valid one."""
    merged = {page: dict(_table("en")[page]) for page in PAGES}
    for page, entries in _table(language).items():
        merged[page].update(entries)
    for page, entries in (overrides or {}).items():
        if page not in PAGES:
            raise ValueError(f"unknown text table 'texts.{page}'{did_you_mean(page, PAGES)}")
        if not isinstance(entries, Mapping):
            raise ValueError(f"texts.{page} must be a table of texts, got {entries!r}")
        for key, value in entries.items():
            if key not in PAGES[page]:
                raise ValueError(f"unknown key 'texts.{page}.{key}'"
                                 f"{did_you_mean(key, PAGES[page])}")
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"texts.{page}.{key} must be a non-empty string, got {value!r}")
            merged[page][key] = value
    return MappingProxyType({page: MappingProxyType(entries) for page, entries in merged.items()})


DEFAULT: Texts = load_texts()
