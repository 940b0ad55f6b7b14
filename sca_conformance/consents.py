"""The client's side of the consent contract, as the suites use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Page

from sca_conformance import checks
from sca_conformance.catalog import CATALOG, Action
from sca_conformance.client import ApiClient
from sca_conformance.data import DataFactory, Subject
from sca_conformance.flow import HostedFlow
from sca_conformance.landing import LandingWatcher, ReturnReceiver

_DEFAULT = object()


class Consents:
    def __init__(self, api: ApiClient, data: DataFactory, receiver: ReturnReceiver) -> None:
        self.api = api
        self.data = data
        self.receiver = receiver

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
        """A fresh pending consent for the action (its 412 checked on the way)."""
        response = await self.trigger(action, subject, **overrides)
        checks.answers_412_json(response)
        return checks.consent_in_body(response)

    async def initiate(
        self, consent_id: str, return_url: Any = _DEFAULT, api: ApiClient | None = None
    ) -> httpx.Response:
        client = api or self.api
        if return_url is _DEFAULT:
            return_url = self.receiver.new_return_url()
        if return_url is None:
            return await client.post(f"/v3/consents/{consent_id}")
        return await client.post(f"/v3/consents/{consent_id}", json={"return_url": return_url})

    async def method(self, consent_id: str, return_url: str) -> dict[str, Any]:
        return checks.method_in_body(await self.initiate(consent_id, return_url))

    async def read(self, consent_id: str) -> httpx.Response:
        return await self.api.get(f"/v3/consents/{consent_id}")

    async def status(self, consent_id: str) -> Any:
        return (await self.read(consent_id)).json()["consent"]["status"]

    async def start(
        self, page: Page, action: Action, subject: Subject, return_url: str | None = None
    ) -> Started:
        """Trigger, initiate and open the hosted pages: the individual is on the summary."""
        consent = await self.pending(action, subject)
        return_url = return_url or self.receiver.new_return_url()
        method = await self.method(consent["id"], return_url)
        landing = LandingWatcher(page, return_url)
        flow = HostedFlow(page, action, subject, self.api)
        response = await flow.open(method["redirect_url"])
        return Started(consent, method, return_url, landing, flow, response)

    async def prepare_in_browser(self, page: Page, action: Action, subject: Subject) -> None:
        for preparation in action.browser_preparation:
            await getattr(self, preparation)(page, subject)

    async def reveal_cvc2(self, page: Page, subject: Subject) -> None:
        """Reads a physical card's CVC2 from the card-details pages, as its holder would."""
        started = await self.start(page, CATALOG["card_details"], subject)
        await started.flow.approve()
        await started.landing.wait()
        subject.values["cvc2"] = started.flow.card_details["cvc"]


@dataclass
class Started:
    """A consent whose hosted pages are open in the browser."""

    consent: dict[str, Any]
    method: dict[str, Any]
    return_url: str
    landing: LandingWatcher
    flow: HostedFlow
    response: Any
