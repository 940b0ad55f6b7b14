"""Where the suite points, with which keys, and what the target is like (its profile).

A profile is strict: an unknown key or section, a value of the wrong type (`"false"` for
`false`) or a profile that names no target is a usage error naming the key, never a
silent default. Every key is optional and defaults to the contract.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sca_conformance.texts import Texts, load_texts

if TYPE_CHECKING:
    from sca_conformance.pages import Wording

ACTIONS = ("onboarding", "payment_history", "external_payment", "card_details", "card_activation")
# The sandbox's development keys (sca_sandbox.DEV_API_KEYS), here so that the suite works
# without the sandbox installed.
DEV_API_KEYS = ("sandbox-dev-key-alpha", "sandbox-dev-key-beta")


class ProfileError(Exception):
    """A target profile that cannot be used as written."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TargetSection(_Section):
    name: str = ""
    base_url: str = ""
    embedded: bool = False  # start the embedded sandbox instead of naming a base_url
    sandbox_dialect: str = "default"
    brand: str = ""  # the name the summary page introduces ("I identify myself to <brand>")
    # Origins the hosted pages may move between, besides redirect_url's own and those the
    # browser passes through before the first hosted page shows (a launch host).
    hosted_origins: list[str] = []
    # Where the target publishes its OpenAPI document, for the fuzz part (a path on the
    # target, a URL, a file or "none"); empty: /openapi.json, or --fuzz-openapi.
    openapi: str = ""

    @model_validator(mode="after")
    def _origins(self) -> TargetSection:
        for value in self.hosted_origins:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"target.hosted_origins: {value!r} is not an http(s) origin")
        return self


class KeysSection(_Section):
    primary_env: str = "SCA_API_KEY"
    secondary_env: str = "SCA_API_KEY_2"


class OnboardingSection(_Section):
    # consent: 412 + the consent flow (this contract); redirect: 200 + redirect_url.
    style: Literal["consent", "redirect"] = "consent"
    return_url_field: str = "return_url"  # where a redirect-style request carries return_url


class Capabilities(_Section):
    clock_simulation: bool = True
    sms_simulation: bool = True
    passkeys: bool = True
    activation_simulation: bool = True
    funding_simulation: bool = True


class HostedSection(_Section):
    """How the hosted pages treat one consent opened twice. A target that cannot run two
    flows of one consent at once (it locks a consent to the first browser session that opens
    it) says so: RACE-2 and RACE-3 then check that the second page is refused with an end
    state, not that it races."""

    one_session_per_consent: bool = False


class ActionSettings(_Section):
    enabled: bool = True
    method: Literal["GET", "POST", "PUT", "PATCH"] | None = None
    path: str | None = None
    scope: str | None = None  # the scope the target names in the consent
    body: dict[str, Any] | None = None  # the request body template ({placeholders})


class Formats(_Section):
    """How the hosted pages display amounts: the decimal separator decides between
    `1.234` and `1,234`; grouping, code or symbol, and their position are read as shown."""

    decimal_separator: Literal[".", ","] = "."


class Lifetimes(_Section):
    """What the target's lifetimes are, where it does not say so itself. The suite takes
    time from the target (a consent's or method's `expires_at`, the access token's
    `expires_in` or `exp`); these fill in what a target does not tell, and for the
    embedded sandbox they are what it is started with."""

    access_token_seconds: int | None = Field(default=None, gt=0)
    refresh_token_seconds: int | None = Field(default=None, gt=0)  # the session's life
    consent_seconds: int | None = Field(default=None, gt=0)  # embedded sandbox only
    method_seconds: int | None = Field(default=None, gt=0)  # embedded sandbox only
    history_window_days: int = Field(default=180, gt=0)  # AFTER-5's window


class Timeouts(_Section):
    page_seconds: float = Field(default=10.0, gt=0)  # a hosted page or control to appear
    control_seconds: float = Field(default=3.0, gt=0)  # at most, a control on a shown page
    landing_seconds: float = Field(default=10.0, gt=0)  # the browser to reach return_url
    api_seconds: float = Field(default=30.0, gt=0)  # one API exchange


class VerdictSection(_Section):
    """What the run's verdict may leave aside: MUST requirements this target cannot be
    tested for, each with the reason a QA lead signs (`"AFTER-6" = "no clock simulation"`).
    An accepted requirement that is not proved does not make the run INCOMPLETE."""

    accept_untested: dict[str, str] = {}

    @model_validator(mode="after")
    def _known(self) -> VerdictSection:
        from sca_conformance.requirements import registry

        for requirement_id, reason in self.accept_untested.items():
            if requirement_id not in registry():
                raise ValueError(f"verdict.accept_untested: {requirement_id!r} is not a "
                                 f"requirement{_nearest(requirement_id, list(registry()))}")
            if not reason.strip():
                raise ValueError(f"verdict.accept_untested.{requirement_id}: give the reason")
        return self


ROLES = ("button", "link", "menuitem")


class TextsSection(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    language: str = "en"


class Profile(_Section):
    target: TargetSection = TargetSection()
    keys: KeysSection = KeysSection()
    onboarding: OnboardingSection = OnboardingSection()
    capabilities: Capabilities = Capabilities()
    hosted: HostedSection = HostedSection()
    actions: dict[Literal[ACTIONS], ActionSettings] = {}  # type: ignore[valid-type]
    formats: Formats = Formats()
    timeouts: Timeouts = Timeouts()
    lifetimes: Lifetimes = Lifetimes()
    verdict: VerdictSection = VerdictSection()
    texts: TextsSection = TextsSection()
    # The role of a control where a target needs one: [roles.identify] another_way = "link"
    # (by default a control is found in any role a person can press).
    roles: dict[str, dict[str, Literal[ROLES]]] = {}  # type: ignore[valid-type]
    # A field its accessible name does not find, by a Playwright selector:
    # [fields.passcode] passcode = "#otp" (docs/accessibility.md).
    fields: dict[str, dict[str, str]] = {}

    @model_validator(mode="after")
    def _one_target(self) -> Profile:
        if self.target.embedded and self.target.base_url:
            raise ValueError("target: set base_url or embedded = true, not both")
        if self.target.sandbox_dialect != "default" and not self.target.embedded:
            raise ValueError("target.sandbox_dialect needs target.embedded = true")
        return self

    @property
    def name(self) -> str:
        return self.target.name or ("sandbox" if self.target.embedded else self.target.base_url)

    @property
    def base_url(self) -> str:
        return self.target.base_url

    def wording(self) -> Wording:
        """The target's wording for the page objects: its text table and control roles."""
        from sca_conformance.pages import Wording

        return Wording(load_texts(self.texts.language, self.texts.model_extra or {}), self.roles,
                       self.fields)

    @property
    def sandbox_dialect(self) -> str:
        return self.target.sandbox_dialect

    def action(self, name: str) -> ActionSettings:
        return self.actions.get(name, ActionSettings())


EMBEDDED = Profile(target=TargetSection(name="sandbox", embedded=True))


def _nearest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(choices)}"


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
            problems.append(f"unknown key {dotted!r}{_nearest(str(location[-1]), choices)}")
        elif location[:1] == ("actions",) and location[-1:] == ("[key]",):
            name = str(location[1])
            problems.append(f"unknown action 'actions.{name}'{_nearest(name, list(ACTIONS))}")
        elif kind == "value_error" or not location:
            problems.append(problem["msg"].removeprefix("Value error, "))
        else:
            problems.append(f"{dotted}: {problem['msg'].lower()}, got {problem['input']!r}")
    return f"Target profile {path}: " + "; ".join(problems)


def load_profile(path: Path) -> Profile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"Target profile {path} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"Target profile {path} is not valid TOML: {error}.") from None
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as error:
        raise ProfileError(_explain(path, error)) from None
    try:
        texts = load_texts(profile.texts.language, profile.texts.model_extra or {})
    except ValueError as error:
        raise ProfileError(f"Target profile {path}: {error}") from None
    for section, pages in (("roles", profile.roles), ("fields", profile.fields)):
        for page, controls in pages.items():
            if page not in texts:
                raise ProfileError(f"Target profile {path}: unknown text table "
                                   f"'{section}.{page}'{_nearest(page, list(texts))}")
            for key in controls:
                if key not in texts[page]:
                    raise ProfileError(f"Target profile {path}: unknown key "
                                       f"'{section}.{page}.{key}'"
                                       f"{_nearest(key, list(texts[page]))}")
    if not profile.target.name:
        profile = profile.model_copy(
            update={"target": profile.target.model_copy(update={"name": path.stem})}
        )
    return profile


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target_url: str  # empty: start the embedded sandbox
    api_keys: tuple[str, str]
    key_sources: tuple[str, str]
    profile: Profile
    strict: bool
    headed: bool = False
    browser_ws_endpoint: str = ""
    device: str = ""  # a Playwright device descriptor's name ("Pixel 7"); empty: desktop
    texts: Texts

    @property
    def embedded(self) -> bool:
        return not self.target_url

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
        if url:
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
        return cls(
            target_url=url,
            api_keys=keys,
            key_sources=sources,
            profile=profile,
            strict=strict,
            headed=headed,
            browser_ws_endpoint=browser_ws_endpoint or "",
            device=device or "",
            texts=load_texts(profile.texts.language, profile.texts.model_extra or {}),
        )


SETTINGS = pytest.StashKey[Settings]()
