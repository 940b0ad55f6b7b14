"""What a target can do, as its profile says: the one gate that skips a test for it."""

from __future__ import annotations

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
