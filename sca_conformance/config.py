"""Where the suite points, with which keys, and what the target can do (its profile)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import pytest

from sca_sandbox import DEV_API_KEYS

ACTIONS = ("onboarding", "payment_history", "external_payment", "card_details", "card_activation")


class ProfileError(Exception):
    """A target profile that cannot be used as written."""


@dataclass(frozen=True)
class Capabilities:
    clock_simulation: bool = True
    sms_simulation: bool = True
    passkeys: bool = True
    activation_simulation: bool = True
    funding_simulation: bool = True


@dataclass(frozen=True)
class ActionSettings:
    enabled: bool = True
    method: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str = "sandbox"
    base_url: str = ""  # empty: the embedded sandbox
    api_key_env: str = "SCA_API_KEY"
    api_key_2_env: str = "SCA_API_KEY_2"
    onboarding: Literal["consent", "redirect"] = "consent"
    capabilities: Capabilities = field(default_factory=Capabilities)
    actions: dict[str, ActionSettings] = field(default_factory=dict)

    def action(self, name: str) -> ActionSettings:
        return self.actions.get(name, ActionSettings())


def load_profile(path: Path) -> Profile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"Target profile {path} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"Target profile {path} is not valid TOML: {error}.") from None
    try:
        target = raw.get("target", {})
        keys = raw.get("keys", {})
        actions = {}
        for name, settings in raw.get("actions", {}).items():
            if name not in ACTIONS:
                raise ProfileError(f"{path}: unknown action {name!r}; known: {', '.join(ACTIONS)}")
            actions[name] = ActionSettings(**settings)
        onboarding = raw.get("onboarding", {}).get("style", "consent")
        if onboarding not in ("consent", "redirect"):
            raise ProfileError(f"{path}: onboarding.style must be 'consent' or 'redirect'")
        return Profile(
            name=target.get("name", path.stem),
            base_url=target.get("base_url", ""),
            api_key_env=keys.get("primary_env", "SCA_API_KEY"),
            api_key_2_env=keys.get("secondary_env", "SCA_API_KEY_2"),
            onboarding=onboarding,
            capabilities=Capabilities(**raw.get("capabilities", {})),
            actions=actions,
        )
    except TypeError as error:
        allowed = {
            "capabilities": [f.name for f in fields(Capabilities)],
            "actions.*": [f.name for f in fields(ActionSettings)],
        }
        raise ProfileError(f"{path}: {error}; allowed keys: {allowed}") from None


@dataclass(frozen=True)
class Settings:
    target_url: str  # empty: start the embedded sandbox
    api_keys: tuple[str, str]
    key_sources: tuple[str, str]
    profile: Profile
    strict: bool
    headed: bool = False
    browser_ws_endpoint: str = ""

    @property
    def embedded(self) -> bool:
        return not self.target_url

    @classmethod
    def resolve(
        cls,
        *,
        target_url: str | None,
        profile_path: str | None,
        strict: bool,
        headed: bool = False,
        browser_ws_endpoint: str | None = None,
        environ: Any = os.environ,
    ) -> Settings:
        profile = load_profile(Path(profile_path)) if profile_path else Profile()
        url = (target_url or profile.base_url or "").rstrip("/")
        sources = (profile.api_key_env, profile.api_key_2_env)
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
        )


SETTINGS = pytest.StashKey[Settings]()
