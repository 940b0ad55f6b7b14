"""The suites' conftest: enables the suite's plugin (the package's entry point loads it only
for runs naming the suites; this covers a run without entry points too), and parametrizes
every test that takes an `action` over the catalog, as the target's profile has it; the
action's name is the test id's parameter and a marker."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from sca_conformance.capabilities import skip_unless, sources
from sca_conformance.catalog import actions_for
from sca_conformance.client import ApiClient
from sca_conformance.clock import Clock
from sca_conformance.config import SETTINGS, Settings
from sca_conformance.consents import Consents
from sca_conformance.data import DataFactory
from sca_conformance.landing import ReturnReceiver

# As pytest's own pytester is enabled: by name, where it is wanted (an initial conftest, that
# is, `pytest suites`, `pytest --pyargs sca_conformance.suites`, `sca-conformance run`).
# The fuzz part (--fuzz; skipped without it) until sca_conformance.plugin registers it.
pytest_plugins = ["sca_conformance.plugin"]


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


@pytest.fixture(autouse=True)
def _onboarding_style(request: pytest.FixtureRequest, settings: Settings) -> None:
    if not request.node.get_closest_marker("onboarding"):
        return
    redirect = settings.profile.onboarding.style == "redirect"
    if redirect and not request.node.get_closest_marker("any_onboarding_style"):
        pytest.skip(
            "the target onboards by a direct redirect_url (profile onboarding.style = redirect):"
            " there is no 412 consent for onboarding to check here"
        )
    skip_unless(settings, "sms_code")  # enrolment confirms the phone by SMS


@pytest.fixture
def consents(
    api: ApiClient, data: DataFactory, receiver: ReturnReceiver, settings: Settings,
    request: pytest.FixtureRequest,
) -> Consents:
    """The consent flows as this target has them (its profile's catalog and wording); where
    the profile has individuals enrolled through the hosted onboarding (data.individuals),
    in a browser context of their own."""
    consents = Consents(api, data, receiver, settings.profile)
    if "onboarding" in sources(settings.profile, "active_individual")[0]:
        open_context = request.getfixturevalue("new_context")

        async def open_page() -> Page:
            page: Page = await (await open_context()).new_page()
            return page

        consents.enrol_with(open_page)
    return consents


@pytest.fixture
def clock(settings: Settings, api: ApiClient) -> Clock:
    """Moves the target's clock forward (the sandbox scopes it to this test's session)."""
    skip_unless(settings, "clock_simulation")
    return Clock(api, settings.profile.lifetimes, settings.profile)
