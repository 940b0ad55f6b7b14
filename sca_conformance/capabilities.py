"""What a target can do, as its profile says: the one gate that skips a test for it."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from sca_conformance.config import Settings


def skip_unless(settings: Settings, capability: str) -> None:
    """Skips the running test when the target lacks `capability` (a key of the profile's
    [capabilities], or "second_client"), with the reason. Every skip for a missing
    capability comes from here."""
    if capability == "second_client":
        if not settings.api_keys[1]:
            pytest.skip(f"needs a second client's API key: {settings.key_sources[1]} is not "
                        "set (profile keys.secondary_env)")
        return
    if not getattr(settings.profile.capabilities, capability):
        pytest.skip(f"needs the target's {capability.replace('_', ' ')} "
                    f"(profile: capabilities.{capability} = false)")


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
