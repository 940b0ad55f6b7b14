"""Where the suite points, with which keys, and what the target is like (its profile).

A profile is strict: an unknown key or section, a value of the wrong type (`"false"` for
`false`) or a profile that names no target is a usage error naming the key, never a
silent default. Every key is optional and defaults to the contract.

A profile says its format first (`format = 2`). One without it is read as the current
format, with a note; one of a newer format is refused. A key an earlier format had is
refused with one line saying what it became (`RETIRED`), for at least one release.

The models of the profile's sections are `profile`'s; here, reading a profile file and the
run's `Settings`.
"""
# ruff: noqa: PLC0414  (the `X as X` imports below are re-exports)

from __future__ import annotations

import os
import sys
import tomllib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from sca_conformance.catalog import Action, actions_for
from sca_conformance.network import Network, NetworkError

if TYPE_CHECKING:
    from sca_conformance.pages import Wording

# The profile's models, re-exported (`X as X`): `from sca_conformance.config import Profile`.
from sca_conformance.profile import ACTIONS as ACTIONS
from sca_conformance.profile import EMBEDDED as EMBEDDED
from sca_conformance.profile import FORMAT as FORMAT
from sca_conformance.profile import ActionSettings as ActionSettings
from sca_conformance.profile import Capabilities as Capabilities
from sca_conformance.profile import DataSection as DataSection
from sca_conformance.profile import Formats as Formats
from sca_conformance.profile import HostedSection as HostedSection
from sca_conformance.profile import KeysSection as KeysSection
from sca_conformance.profile import Lifetimes as Lifetimes
from sca_conformance.profile import OnboardingSection as OnboardingSection
from sca_conformance.profile import Profile as Profile
from sca_conformance.profile import RateLimits as RateLimits
from sca_conformance.profile import TargetSection as TargetSection
from sca_conformance.profile import TextsSection as TextsSection
from sca_conformance.profile import Timeouts as Timeouts
from sca_conformance.profile import VerdictSection as VerdictSection
from sca_conformance.profile import WordsSection as WordsSection
from sca_conformance.suggest import did_you_mean

# The sandbox's development keys (sca_sandbox.DEV_API_KEYS), here so that the suite works
# without the sandbox installed.
DEV_API_KEYS = ("sandbox-dev-key-alpha", "sandbox-dev-key-beta")


class ProfileError(Exception):
    """A target profile that cannot be used as written."""


# Keys of earlier formats, and what each became: another key's name, or "removed: why".
# Kept for at least one release after the one that changed them (CHANGELOG.md).
RETIRED: dict[str, str] = {
    "name": "target.name",
    "base_url": "target.base_url",
    "api_key_env": "keys.primary_env",
    "formats.thousands_separator": "removed: amounts are read with whatever grouping the "
    "page shows; only formats.decimal_separator is said",
    "formats.currency_display": "removed: the currency is read as shown, code or symbol",
    "formats.currency_position": "removed: the currency is read before or after the amount, "
    "as shown",
    "texts.summary.consent_region": "removed: the summary may name the action anywhere on the "
    "page (a region, a dialog, main, a sentence), so no region's name is looked for",
}



def _model_at(location: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that holds the key at `location` (None for free-form parts)."""
    model: Any = Profile
    for part in location:
        if model is Profile and part == "actions":
            model = "actions"
            continue
        if model == "actions":
            model = ActionSettings
            continue
        field = (model.model_fields.get(part)
                 if isinstance(model, type) and issubclass(model, BaseModel) else None)
        if field is None or not (isinstance(field.annotation, type)
                                 and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model if isinstance(model, type) else None


def _explain(path: Path, error: ValidationError) -> str:
    problems = []
    for problem in error.errors():
        location = tuple(problem["loc"])
        dotted = ".".join(str(part) for part in location)
        kind = problem["type"]
        if kind == "extra_forbidden":
            parent = _model_at(location[:-1])
            choices = list(parent.model_fields) if parent else []
            problems.append(f"unknown key {dotted!r}{did_you_mean(str(location[-1]), choices)}")
        elif location[:1] == ("actions",) and location[-1:] == ("[key]",):
            name = str(location[1])
            problems.append(f"unknown action 'actions.{name}'{did_you_mean(name, list(ACTIONS))}")
        elif kind == "value_error" or not location:
            problems.append(problem["msg"].removeprefix("Value error, "))
        else:
            problems.append(f"{dotted}: {problem['msg'].lower()}, got {problem['input']!r}")
    return f"Target profile {path}: " + "; ".join(problems)


def _retired(raw: dict[str, Any]) -> list[str]:
    """One line for each key of an earlier format the profile still has."""
    lines = []
    for dotted, became in RETIRED.items():
        where: Any = raw
        for part in dotted.split("."):
            where = where.get(part, _ABSENT) if isinstance(where, dict) else _ABSENT
        if where is _ABSENT:
            continue
        if became.startswith("removed:"):
            lines.append(f"{dotted!r} was {became}")
        else:
            lines.append(f"{dotted!r} is now {became!r}")
    return lines


_ABSENT = object()


def _upgraded(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """The profile as the current format reads it: refused if it is newer or names a key an
    earlier format had; without `format`, read as the current one, with a note."""
    written = raw.get("format", _ABSENT)
    if written is _ABSENT:
        print(f"sca-conformance: note: target profile {path} says no format: read as format "
              f"{FORMAT} (add `format = {FORMAT}` as its first line)", file=sys.stderr)
    elif not isinstance(written, int) or isinstance(written, bool) or written < 1:
        raise ProfileError(f"Target profile {path}: format must be a whole number (this "
                           f"release reads {FORMAT}), got {written!r}")
    elif written > FORMAT:
        from sca_conformance import __version__

        raise ProfileError(f"Target profile {path} is format {written}, newer than this "
                           f"sca-conformance ({__version__}) reads ({FORMAT}): upgrade it.")
    retired = _retired(raw)
    if retired:
        raise ProfileError(f"Target profile {path}: " + "; ".join(retired)
                           + " (CHANGELOG.md says what changed)")
    return {**raw, "format": FORMAT}


def load_profile(path: Path) -> Profile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"Target profile {path} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"Target profile {path} is not valid TOML: {error}.") from None
    raw = _upgraded(path, raw)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as error:
        raise ProfileError(_explain(path, error)) from None
    try:
        texts = profile.wording().texts
    except ValueError as error:
        raise ProfileError(f"Target profile {path}: {error}") from None
    for section, pages in (("roles", profile.roles), ("fields", profile.fields)):
        for page, controls in pages.items():
            if page not in texts:
                raise ProfileError(f"Target profile {path}: unknown text table "
                                   f"'{section}.{page}'{did_you_mean(page, list(texts))}")
            for key in controls:
                if key not in texts[page]:
                    raise ProfileError(f"Target profile {path}: unknown key "
                                       f"'{section}.{page}.{key}'"
                                       f"{did_you_mean(key, list(texts[page]))}")
    if not profile.target.name:
        profile = profile.model_copy(
            update={"target": profile.target.model_copy(update={"name": path.stem})}
        )
    return profile


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target_url: str
    """empty: start the embedded sandbox"""
    api_keys: tuple[str, str]
    key_sources: tuple[str, str]
    profile: Profile
    strict: bool
    headed: bool = False
    browser_ws_endpoint: str = ""
    device: str = ""
    """a Playwright device descriptor's name ("Pixel 7"); empty: desktop"""
    network: Network = Network()
    """the profile's [network] with the environment's"""

    @property
    def embedded(self) -> bool:
        return not self.target_url

    @cached_property
    def wording(self) -> Wording:
        """The target's wording, which every page object is given: its text table (the
        profile's language with its overrides), control roles and fields."""
        return self.profile.wording()

    @cached_property
    def catalog(self) -> dict[str, Action]:
        """The catalog as this target has it, by action name (switched-off actions left
        out; its scope names, paths and requests)."""
        return {action.name: action for action in actions_for(self.profile)}

    def client_secrets(self, environ: Any = os.environ) -> tuple[str, ...]:
        """The OAuth2 client's id and secret, when the profile logs in that way: secrets to
        mask, as the API keys are."""
        auth = self.profile.auth
        if auth.style != "client_credentials":
            return ()
        return tuple(environ.get(env, "") for env in (auth.client_id_env, auth.client_secret_env))

    @property
    def described_target(self) -> str:
        """What the run header and the report's environment say was tested."""
        if self.target_url:
            return f"{self.target_url} (profile {self.profile.name})"
        dialect = self.profile.sandbox_dialect
        return f"embedded sandbox, {dialect} dialect (profile {self.profile.name})"

    @classmethod
    def resolve(
        cls,
        *,
        target_url: str | None,
        profile_path: str | None,
        strict: bool,
        headed: bool = False,
        browser_ws_endpoint: str | None = None,
        device: str | None = None,
        environ: Any = os.environ,
    ) -> Settings:
        if profile_path:
            profile = load_profile(Path(profile_path))
        else:  # no profile: the contract's defaults, for the URL named or the sandbox
            profile = EMBEDDED if not target_url else Profile(target=TargetSection(name="default"))
        url = (target_url or profile.base_url or "").rstrip("/")
        if not url and not profile.target.embedded:
            # A profile that names no target must not quietly test the embedded sandbox.
            raise ProfileError(
                f"Target profile {profile_path} names no target: set target.base_url (or "
                "--target-url), or target.embedded = true for the embedded sandbox."
            )
        if profile_path and profile.target.embedded and target_url:
            raise ProfileError(
                f"--target-url {target_url} names a target, but profile {profile_path} is for "
                "the embedded sandbox (target.embedded = true); use a profile of that target."
            )
        if url and not url.startswith(("http://", "https://")):
            raise ProfileError(f"Target URL {url!r} is not an http(s) URL.")
        sources = (profile.keys.primary_env, profile.keys.secondary_env)
        oauth = profile.auth
        if url and oauth.style == "client_credentials":
            # OAuth2 client credentials: one client (the isolation checks need a second),
            # identified by the id and secret the profile's variables hold.
            missing = [env for env in (oauth.client_id_env, oauth.client_secret_env)
                       if not environ.get(env)]
            if missing:
                raise ProfileError(
                    f"No client credentials for {url}: the environment variable(s) "
                    f"{' and '.join(missing)} not set (auth.style = 'client_credentials').")
            sources = (oauth.client_id_env, "")
            keys = ("", "")
        elif url:
            # A named target gets the keys named for it, never the sandbox's published ones.
            if not environ.get(sources[0]):
                raise ProfileError(
                    f"No API key for {url}: the environment variable {sources[0]} is not set "
                    f"(and {sources[1]}, for the second client of the isolation checks). The "
                    "sandbox's development keys are sent only to the embedded sandbox."
                )
            keys = (environ[sources[0]], environ.get(sources[1]) or "")
        else:
            keys = (
                environ.get(sources[0]) or DEV_API_KEYS[0],
                environ.get(sources[1]) or DEV_API_KEYS[1],
            )
        network = Network.from_profile(profile.network, environ,
                                       Path(profile_path).parent if profile_path else None)
        try:
            network.ssl_context()
        except NetworkError as error:
            raise ProfileError(f"[network]: {error}") from None
        return cls(
            target_url=url,
            api_keys=keys,
            key_sources=sources,
            profile=profile,
            strict=strict,
            headed=headed,
            browser_ws_endpoint=browser_ws_endpoint or "",
            device=device or "",
            network=network,
        )


SETTINGS = pytest.StashKey[Settings]()
