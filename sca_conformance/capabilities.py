"""What a target can do, as its profile says: the one gate that skips a test for it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import get_args

import pytest

from sca_conformance.config import Profile, Settings

# What a test needs that the profile can get several ways (profile [data]): the list of
# declared sources, and the capability that the "simulation" source is.
NEEDS: dict[str, tuple[str, str, str]] = {
    # need: ([data] list, simulation capability, what the skip calls it)
    "active_individual": ("individuals", "activation_simulation", "an active individual"),
    "money": ("money", "funding_simulation", "money on an account"),
    "sms_code": ("sms_code", "sms_simulation", "the SMS code"),
}


def sources(
    profile: Profile, need: str, environ: Mapping[str, str] = os.environ
) -> tuple[list[str], list[str]]:
    """The declared sources of `need` that this target has, in the profile's order, and why
    each of the others is not there (for a skip's reason)."""
    key, capability, _ = NEEDS[need]
    data = profile.data
    usable: list[str] = []
    absent: list[str] = []
    for source in getattr(data, key):
        if source == "simulation" and not getattr(profile.capabilities, capability):
            absent.append(f"simulation (profile: capabilities.{capability} = false)")
        elif source == "onboarding" and not profile.action("onboarding").enabled:
            absent.append("onboarding (profile: actions.onboarding.enabled = false)")
        elif source == "provisioned" and not (
            data.provisioned_file or environ.get(data.provisioned_env, "").strip()
        ):
            absent.append(f"provisioned (environment variable {data.provisioned_env} is not set)")
        elif source == "fixed" and not environ.get(data.sms_code_env, "").strip():
            absent.append(f"fixed (environment variable {data.sms_code_env} is not set)")
        else:
            usable.append(source)
    return usable, absent


def no_source(profile: Profile, need: str, absent: list[str]) -> str:
    """Why a test lacks `need`: none of the sources declared for it is there (`absent` says
    why each is not)."""
    key, _, described = NEEDS[need]
    declared = getattr(profile.data, key)
    field = type(profile.data).model_fields[key].annotation
    others = [s for s in get_args(get_args(field)[0]) if s not in declared]
    tried = "; ".join(absent) or "none"
    return (f"needs {described}: no declared source is available: {tried} (data.{key} "
            f"= {declared}; not declared: {', '.join(others) or 'none'})")


def lacking(settings: Settings, capability: str) -> str | None:
    """Why the target lacks `capability` (a key of the profile's [capabilities], a need of
    NEEDS that no declared source serves, "second_client", or "any_return_url"), or None:
    every skip for a missing capability, and doctor's plan, say it from here."""
    if capability == "second_client":
        if not settings.api_keys[1]:
            return (f"needs a second client's API key: {settings.key_sources[1]} is not set "
                    "(profile keys.secondary_env)")
        return None
    if capability == "any_return_url":
        if settings.profile.target.return_url:
            return ("needs a target that accepts any safe return_url: this one accepts only "
                    "the one registered with it (profile: target.return_url)")
        return None
    if capability in NEEDS:
        usable, absent = sources(settings.profile, capability)
        return None if usable else no_source(settings.profile, capability, absent)
    if not getattr(settings.profile.capabilities, capability):
        return (f"needs the target's {capability.replace('_', ' ')} "
                f"(profile: capabilities.{capability} = false)")
    return None


def skip_unless(settings: Settings, capability: str) -> None:
    """Skips the running test when the target lacks `capability` (`lacking`), with the
    reason."""
    if reason := lacking(settings, capability):
        pytest.skip(reason)


# The contract's API-key login: a target that issues tokens otherwise has none to test.
API_KEY_LOGIN = ("AUTH-1", "AUTH-2", "AUTH-3", "AUTH-4")


def not_applicable(settings: Settings, requirement_ids: Iterable[str]) -> str | None:
    """Why a test of these requirements does not apply to the target (None: it does)."""
    style = settings.profile.auth.style
    if style != "api_key" and any(r in API_KEY_LOGIN for r in requirement_ids):
        return (f"not applicable: the target's tokens come from OAuth2 client credentials "
                f"(profile auth.style = {style!r}); {', '.join(API_KEY_LOGIN)} are the API-key "
                "login's")
    return None
