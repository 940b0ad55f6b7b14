"""Parametrizes every test that takes an `action` over the catalog, as the target's
profile has it; the action's name is the test id's parameter and a marker."""

from __future__ import annotations

import pytest

from sca_conformance.catalog import actions_for
from sca_conformance.config import SETTINGS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "action" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("actions")
    wanted = set(marker.args) if marker else None
    actions = [
        action
        for action in actions_for(metafunc.config.stash[SETTINGS].profile)
        if wanted is None or action.name in wanted
    ]
    metafunc.parametrize(
        "action",
        [pytest.param(a, id=a.name, marks=getattr(pytest.mark, a.name)) for a in actions],
    )


@pytest.fixture
def capabilities(settings):  # type: ignore[no-untyped-def]
    return settings.profile.capabilities


@pytest.fixture
def clock(capabilities, api):  # type: ignore[no-untyped-def]
    """Moves the target's clock forward (the sandbox scopes it to this test's session)."""
    if not capabilities.clock_simulation:
        pytest.skip("the target has no clock simulation (profile: clock_simulation = false)")

    async def advance(seconds: int) -> None:
        response = await api.post("/v3/simulations/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200, f"clock simulation answered {response.status_code}"

    return advance
