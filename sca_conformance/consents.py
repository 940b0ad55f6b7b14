"""The client's side of the consent contract, as the suites use it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import allure
import httpx
import pytest
from playwright.async_api import Page

from sca_conformance import checks
from sca_conformance.catalog import CATALOG, Action, actions_for, endpoint
from sca_conformance.client import ApiClient
from sca_conformance.data import DataFactory, Subject
from sca_conformance.failures import hides_in_verdicts
from sca_conformance.flow import HostedFlow
from sca_conformance.landing import Guard, LandingWatcher, ReturnReceiver
from sca_conformance.profile import Formats, Profile, Timeouts, WordsSection

if TYPE_CHECKING:
    from sca_conformance.pages import Wording

__tracebackhide__ = hides_in_verdicts

_DEFAULT = object()


class Consents:
    def __init__(
        self, api: ApiClient, data: DataFactory, receiver: ReturnReceiver,
        profile: Profile | None = None, *, wording: Wording | None = None,
        catalog: Mapping[str, Action] | None = None,
    ) -> None:
        """The target's profile, wording and catalog: a run's are its settings' (the
        `consents` fixture); without them, the profile's (the contract's by default)."""
        self.api = api
        self.data = data
        self.receiver = receiver
        self.profile = profile or Profile()
        self.wording = wording or self.profile.wording()
        self.catalog = dict(catalog) if catalog is not None else {
            action.name: action for action in actions_for(self.profile)}

    def action(self, name: str) -> Action:
        """The catalog's action as this target has it (its scope names, its requests)."""
        if name not in self.catalog:
            pytest.skip(f"the target's profile switches {name} off (actions.{name}.enabled)")
        return self.catalog[name]

    def path(self, name: str, **values: Any) -> str:
        """The path of the contract's request `name` on this target (catalog.ENDPOINTS)."""
        return endpoint(self.profile, name, **values)

    @property
    def redirect_onboarding(self) -> bool:
        return self.profile.onboarding.style == "redirect"

    @property
    def formats(self) -> Formats:
        """How the target writes values on its pages (the decimal separator)."""
        return self.profile.formats

    @property
    def words(self) -> WordsSection:
        """The target's status words (an onboarded individual's, a card's)."""
        return self.profile.words

    @property
    def timeouts(self) -> Timeouts:
        return self.profile.timeouts

    @property
    def one_session_per_consent(self) -> bool:
        """The target allows one hosted session per consent (profile [hosted])."""
        return self.profile.hosted.one_session_per_consent

    def flow(self, page: Page, action: Action, subject: Subject,
             guard: Guard | None = None) -> HostedFlow:
        """The hosted flow on `page` in this target's wording, timeouts and data sources."""
        return HostedFlow(page, action, subject, self.api, self.wording,
                          timeouts=self.profile.timeouts, guard=guard, profile=self.profile)

    async def subject(self, action: Action) -> Subject:
        return await self.data.subject(action.subject)

    async def trigger(
        self, action: Action, subject: Subject, api: ApiClient | None = None, **overrides: Any
    ) -> httpx.Response:
        """Sends the action's protected request (with some values changed, if asked)."""
        method, path, body = action.request({**subject.values, **overrides})
        client = api or self.api
        if body is None:
            return await client.request(method, path)
        return await client.request(method, path, json=body)

    async def pending(self, action: Action, subject: Subject, **overrides: Any) -> dict[str, Any]:
        """A fresh pending consent for the action (its 412 checked on the way), its scope and
        expiry read from the consent itself where the 412 lacks them (`detailed`)."""
        response = await self.trigger(action, subject, **overrides)
        checks.answers_412_json(response)
        return await self.detailed(checks.consent_in_body(response))

    async def detailed(self, consent: dict[str, Any]) -> dict[str, Any]:
        """The consent with `scope` and `expires_at` filled from GET /consents/{id} where the
        412 lacks them (the provider's 412 may carry only id and status: TRIGGER-5 and -6 are
        SHOULD); the read is the report's evidence, in a step saying why. A consent the read
        does not complete keeps what it had: the check that needs the field says so."""
        missing = [name for name in ("scope", "expires_at") if consent.get(name) is None]
        if not missing:
            return consent
        path = self.path("consent", consent_id=consent["id"])
        with allure.step(f"consent {', '.join(missing)} read from GET {path} (the 412 lacks "
                         "them)"):
            response = await self.api.get(path)
        body = consent_body(response)
        if not isinstance(body, dict):
            return consent
        return {**consent, **{name: body[name] for name in missing if name in body}}

    async def initiate(
        self, consent_id: str, return_url: Any = _DEFAULT, api: ApiClient | None = None
    ) -> httpx.Response:
        client = api or self.api
        if return_url is _DEFAULT:
            return_url = self.receiver.new_return_url()
        path = self.path("consent", consent_id=consent_id)
        if return_url is None:
            return await client.post(path)
        return await client.post(path, json={"return_url": return_url})

    async def method(self, consent_id: str, return_url: str | None) -> dict[str, Any]:
        """The method, its shape checked (INIT-1..3) before the browser goes anywhere."""
        method = checks.method_in_body(await self.initiate(consent_id, return_url))
        checks.redirect_url_carries_token(method)
        checks.method_expires_in_future(method)
        return method

    async def field(self, path: str, name: str) -> Any:
        """One field of a resource the test reads to see an effect (GET path)."""
        with checks.preparing(f"GET {path}"):
            response = await self.api.get(path)
            assert response.status_code == 200, f"answered {response.status_code}"
            return response.json()[name]

    async def read(self, consent_id: str) -> httpx.Response:
        return await self.api.get(self.path("consent", consent_id=consent_id))

    async def status(self, consent_id: str) -> Any:
        """The consent's status as GET /consents/{id} tells it, wrapped in `{"consent"}`
        or not (the wrapper is AFTER-2's, checked where AFTER-2 is proved); a read that
        tells no status at all is AFTER-2's violation."""
        response = await self.read(consent_id)
        body = consent_body(response)
        if isinstance(body, dict) and "status" in body:
            return body["status"]
        return checks.consent_status(response)

    async def start(
        self, page: Page, action: Action, subject: Subject, return_url: str | None = None
    ) -> Started:
        """Trigger, initiate and open the hosted pages: the individual is on the summary.
        Redirect-style onboarding (profile) gets its redirect_url from the request itself."""
        return_url = return_url or self.receiver.new_return_url()
        if action.name == "onboarding" and self.redirect_onboarding:
            consent: dict[str, Any] = {}
            method = await self.onboarding_redirect(action, subject, return_url)
        else:
            consent = await self.pending(action, subject)
            method = await self.method(consent["id"], return_url)
        return await self._open(page, action, subject, consent=consent, method=method,
                                return_url=return_url)

    async def join(self, page: Page, started: Started) -> Started:
        """The same redirect_url opened in another page (another tab or browser), as by an
        individual who opened the link twice: the same consent, a flow of its own."""
        flow = started.flow
        return await self._open(page, flow.action, flow.subject, consent=started.consent,
                                method=started.method, return_url=started.return_url)

    async def _open(
        self, page: Page, action: Action, subject: Subject, *, consent: dict[str, Any],
        method: dict[str, Any], return_url: str,
    ) -> Started:
        guard = Guard(page, method["redirect_url"], return_url,
                      tuple(self.profile.target.hosted_origins))
        landing = LandingWatcher(page, return_url, self.wording, guard,
                                 self.profile.timeouts.landing_seconds)
        flow = self.flow(page, action, subject, guard)
        response = await flow.open(method["redirect_url"])
        return Started(consent, method, return_url, landing, flow, response,
                       self.profile.target.brand)

    async def onboarding_redirect(
        self, action: Action, subject: Subject, return_url: str
    ) -> dict[str, Any]:
        """Redirect-style onboarding (the contract's onboarding note): the request answers
        200 with redirect_url, which opens the same enrolment pages."""
        method, path, body = action.request(subject.values)
        payload = {**(body or {}), self.profile.onboarding.return_url_field: return_url}
        response = await self.api.request(method, path, json=payload)
        return checks.onboarding_redirect(response)

    def enrol_with(self, open_page: Callable[[], Awaitable[Page]]) -> None:
        """Lets the data factory make active individuals through the hosted onboarding, each
        in a page of its own (profile data.individuals "onboarding"; the KYC outcome
        follows): the test's own pages see nothing of it."""

        async def enrol(individual: dict[str, Any]) -> str:
            action = self.catalog.get("onboarding") or CATALOG["onboarding"]
            subject = Subject(individual, values={"individual_id": individual["id"]})
            page = await open_page()
            timeouts = self.profile.timeouts
            page.set_default_timeout(timeouts.control_seconds * 1000)
            page.set_default_navigation_timeout(timeouts.page_seconds * 1000)
            started = await self.start(page, action, subject)
            await started.flow.approve()
            await started.landing.wait("PAGE-15")
            return str(subject.passcode)

        self.data.enrol = enrol

    async def prepare_in_browser(self, page: Page, action: Action, subject: Subject) -> None:
        for preparation in action.browser_preparation:
            await getattr(self, preparation)(page, subject)

    async def reveal_cvc2(self, page: Page, subject: Subject) -> None:
        """Reads a physical card's CVC2 from the card-details pages, as its holder would."""
        details = self.catalog.get("card_details") or CATALOG["card_details"]
        started = await self.start(page, details, subject)
        await started.flow.approve()
        await started.landing.wait("PAGE-14")
        subject.values["cvc2"] = started.flow.card_details["cvc"]


@dataclass
class Started:
    """A consent whose hosted pages are open in the browser."""

    consent: dict[str, Any]  # empty for redirect-style onboarding: no consent is handed out
    method: dict[str, Any]
    return_url: str
    landing: LandingWatcher
    flow: HostedFlow
    response: Any

    brand: str = ""  # the provider's name on the summary, as the profile gives it

    @property
    def consent_id(self) -> str | None:
        return self.consent.get("id")


def consent_body(response: httpx.Response) -> Any:
    """The consent a GET /consents/{id} answered, wrapped in `{"consent"}` or not; None for
    any other answer."""
    try:
        body = response.json() if response.status_code == 200 else None
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("consent"), dict):
        return body["consent"]
    return body
