"""The target's clock simulation, as the suites use it (contract section 8)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from sca_conformance import checks
from sca_conformance.catalog import endpoint
from sca_conformance.client import ApiClient
from sca_conformance.failures import TargetNotPrepared, hides_in_verdicts
from sca_conformance.profile import Lifetimes, Profile

__tracebackhide__ = hides_in_verdicts


class Clock:
    """The target's clock simulation. Every jump is measured from the target's own values
    (a timestamp it gave, its token's expiry) and its own time (the Date of its last
    answer), never from the sandbox's lifetimes."""

    MARGIN = 30  # seconds past the moment the target named

    def __init__(
        self, api: ApiClient, lifetimes: Lifetimes, profile: Profile | None = None
    ) -> None:
        self.api = api
        self.lifetimes = lifetimes
        self.profile = profile or Profile()

    async def advance(self, seconds: int) -> None:
        path = endpoint(self.profile, "clock_simulation")
        response = await self.api.post(path, json={"advance_seconds": seconds})
        if response.status_code != 200:
            raise TargetNotPrepared(f"POST {path}",
                                    f"answered {response.status_code} {response.text[:200]}")

    async def past(self, moment: str | datetime, what: str) -> None:
        """Just past `moment`, a timestamp the target gave (`what` names it)."""
        if isinstance(moment, str):
            with checks.preparing(what):
                moment = checks.parse_timestamp(moment, what)
        seconds = math.ceil((moment - self.api.now()).total_seconds()) + self.MARGIN
        await self.advance(max(seconds, 1))

    async def past_access_token(self) -> None:
        """Just past the current access token's expiry: as the target says it (expires_in,
        or the token's exp), else the profile's lifetimes.access_token_seconds."""
        expiry = self.api.access_expires
        if expiry is None and self.lifetimes.access_token_seconds:
            expiry = self.api.now() + timedelta(seconds=self.lifetimes.access_token_seconds)
        if expiry is None:
            pytest.skip("the target does not say when its access token expires (no expires_in, "
                        "not a JWT with exp): state it as lifetimes.access_token_seconds")
        await self.past(expiry, "the access token's expiry")
