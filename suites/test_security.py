"""Security: session tokens, token tampering, anti-framing, caching, CSRF, consent binding
(AUTH-*, PAGE-8, PAGE-10..12, AFTER-3)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from sca_conformance import checks
from sca_conformance.catalog import endpoint
from sca_conformance.client import ApiClient
from sca_conformance.clock import Clock
from sca_conformance.consents import Consents
from sca_conformance.flow import expect_end_state
from sca_conformance.pages import Hosted, SummaryPage
from sca_conformance.plugin.fixtures import Target

pytestmark = [pytest.mark.security, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.api
@pytest.mark.requirement("AUTH-1")
async def test_login_answers_a_token_pair_and_refuses_an_unknown_key(
    api: ApiClient, target: Target
) -> None:
    """Login answers a token pair; an unknown API key answers 401"""
    login = endpoint(target.settings.profile, "login")
    response = await api.post(login, json={"api_key": target.api_keys[0]},
                              authenticated=False)
    checks.login_answers_token_pair(response)
    unknown = await api.post(login, json={"api_key": "sk-not-a-key-0000"},
                             authenticated=False)
    checks.unknown_key_refused(unknown)


async def refresh(api: ApiClient, refresh_token: str | None, clock: Clock) -> httpx.Response:
    """A raw refresh call: the client's own would rotate its tokens behind the test's back."""
    return await api.post(
        endpoint(clock.profile, "refresh"), json={"refresh_token": refresh_token},
        authenticated=False
    )


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return ".".join((header, payload, flipped))


@pytest.mark.api
@pytest.mark.requirement("AUTH-2")
@pytest.mark.parametrize("credential", ["missing", "malformed", "tampered", "expired"])
async def test_a_request_without_a_valid_access_token_answers_401(
    credential: str, api: ApiClient, clock: Clock
) -> None:
    """A missing, malformed, tampered or expired access token answers 401"""
    await api.login()
    token = str(api.access_token)
    headers = {
        "missing": {},
        "malformed": {"Authorization": "Bearer not-a-jwt"},
        "tampered": {"Authorization": f"Bearer {tamper(token)}"},
        "expired": {"Authorization": f"Bearer {token}"},
    }[credential]
    if credential == "expired":
        await clock.past_access_token()
    path = endpoint(clock.profile, "individual",
                    individual_id="3f0c6b1e-8d7a-4c55-9a51-2b8f0e6d9c41")
    response = await api.get(path, headers=headers, authenticated=False)
    checks.unauthenticated_refused(response)


@pytest.mark.api
@pytest.mark.requirement("AUTH-3")
async def test_refresh_works_after_expiry_and_not_before(api: ApiClient, clock: Clock) -> None:
    """Refresh answers a new pair once the access token expired, an error before"""
    await api.login()
    old_access, refresh_token = str(api.access_token), api.refresh_token
    early = await refresh(api, refresh_token, clock)
    checks.refresh_before_expiry_refused(early)
    await clock.past_access_token()
    late = await refresh(api, refresh_token, clock)
    checks.refresh_after_expiry_rotates(late, old_access)


@pytest.mark.api
@pytest.mark.requirement("AUTH-4")
async def test_a_used_refresh_token_is_refused(api: ApiClient, clock: Clock) -> None:
    """A refresh token works once: after rotation the old one answers 401"""
    await api.login()
    old_access, refresh_token = str(api.access_token), api.refresh_token
    await clock.past_access_token()
    first = await refresh(api, refresh_token, clock)
    checks.refresh_after_expiry_rotates(first, old_access)  # AUTH-3, which this builds on
    again = await refresh(api, refresh_token, clock)
    checks.used_refresh_token_refused(again)


@pytest.mark.browser
@pytest.mark.requirement("PAGE-8")
@pytest.mark.parametrize("alteration", ["altered", "unknown"])
async def test_an_altered_or_unknown_token_never_leads_to_approval(
    alteration: str, consents: Consents, page: Page, hosted: Hosted
) -> None:
    """An altered or unknown token never leads to approval: the page says so"""
    action = consents.action("external_payment")
    consent = await consents.pending(action, await consents.subject(action))
    method = await consents.method(consent["id"], consents.receiver.new_return_url())
    token = method["token"]
    middle = len(token) // 2  # one character changed: the smallest alteration there is
    replacement = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    if alteration == "unknown":
        replacement = "x" * len(token)
    with checks.proving("PAGE-8"):
        await page.goto(method["redirect_url"].replace(token, replacement))
        await expect_end_state(page, consents.wording,
                               f"an {alteration} token must not open the flow")
        await expect(hosted(SummaryPage, page).confirm_button).to_have_count(0)
    status = await consents.status(consent["id"])
    with checks.proving("PAGE-8"):
        assert status == "pending", f"consent status after an altered link: {status}"


@pytest.mark.browser
@pytest.mark.requirement("PAGE-10")
async def test_the_hosted_pages_refuse_to_be_framed(consents: Consents, page: Page) -> None:
    """The hosted pages refuse to be framed"""
    action = consents.action("card_details")
    started = await consents.start(page, action, await consents.subject(action))
    with checks.proving("PAGE-10"):
        assert started.response is not None, "opening redirect_url gave no document"
        checks.framing_refused(await started.response.all_headers())


@pytest.mark.browser
@pytest.mark.requirement("PAGE-11")
async def test_the_hosted_pages_are_not_cached_and_send_no_referrer(
    consents: Consents, page: Page
) -> None:
    """The hosted pages send Cache-Control: no-store and Referrer-Policy: no-referrer"""
    action = consents.action("card_details")
    started = await consents.start(page, action, await consents.subject(action))
    with checks.proving("PAGE-11"):
        assert started.response is not None, "opening redirect_url gave no document"
        checks.not_cached_not_referred(await started.response.all_headers())


@pytest.mark.browser
@pytest.mark.requirement("PAGE-12")
async def test_a_form_post_without_its_anti_csrf_token_is_refused(
    consents: Consents, page: Page
) -> None:
    """A state-changing form post without its anti-CSRF token is refused"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)

    async def hold_posts(route: Route) -> None:
        await (route.abort() if route.request.method == "POST" else route.continue_())

    await page.route("**/*", hold_posts)
    async with page.expect_request(lambda sent: sent.method == "POST") as posted:
        await started.flow.decline()
    sent = await posted.value
    await page.unroute("**/*")
    headers = await sent.all_headers()
    as_json = "json" in headers.get("content-type", "")
    fields = _fields(sent.post_data or "", as_json)
    with checks.proving("PAGE-12"):
        # The token travels in the post (a form field or a JSON member) or in a header.
        token_fields = [name for name, value in fields.items()
                        if isinstance(value, str) and len(value) >= 16]
        token_headers = [name for name in headers if "csrf" in name or "xsrf" in name]
        assert token_fields or token_headers, (
            f"the Decline post carries no anti-CSRF token (fields: {list(fields)}, "
            f"headers: {sorted(headers)})")
        forged = {name: value for name, value in fields.items() if name not in token_fields}
        kept = {name: value for name, value in headers.items()
                if name == "content-type" or name.startswith("x-")}
        kept = {name: value for name, value in kept.items() if name not in token_headers}
        if as_json:
            response = await page.request.post(sent.url, data=json.dumps(forged), headers=kept,
                                               max_redirects=0)
        else:
            response = await page.request.post(sent.url, form=forged, max_redirects=0)
        assert response.status >= 400, f"a post without its CSRF token answered {response.status}"
    status = await consents.status(started.consent["id"])
    with checks.proving("PAGE-12"):
        assert status == "pending", f"consent status after a forged post: {status}"


def _fields(body: str, as_json: bool) -> dict[str, Any]:
    if as_json:
        try:
            parsed = json.loads(body or "{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body))


@pytest.mark.browser
@pytest.mark.external_payment
@pytest.mark.requirement("AFTER-3")
@pytest.mark.parametrize("change", ["amount", "payee"])
async def test_an_approved_payment_consent_authorises_only_that_payment(
    change: str, consents: Consents, page: Page
) -> None:
    """An approved payment consent does not authorise another amount or payee"""
    action = consents.action("external_payment")
    subject = await consents.subject(action)
    started = await consents.start(page, action, subject)
    await started.flow.approve()
    await started.landing.wait()
    override: dict[str, Any] = (
        {"amount": int(subject.values["amount"]) + 100}
        if change == "amount"
        else {"payee_name": "Mallory Ltd", "payee_iban": "DE89370400440532013000"}
    )
    override["request_id"] = str(uuid.uuid4())
    checks.other_request_needs_consent(await consents.trigger(action, subject, **override))
