"""PAGE-10..12 and the page-level error answers, over plain HTTP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sca_sandbox.testing import HttpFlow, SandboxClient

pytestmark = [pytest.mark.api, pytest.mark.security]


async def new_flow(client: SandboxClient) -> HttpFlow:
    person = await client.individual()
    account = await client.account(person["id"])
    card = await client.card(person["id"], account["id"])
    consent = await client.consent("POST", f"/v3/cards/{card['id']}/activate")
    return HttpFlow(client.http, (await client.initiate(consent["id"]))["redirect_url"])


async def test_every_page_refuses_framing_and_caching(alpha: SandboxClient) -> None:
    flow = await new_flow(alpha)
    answers = [
        await flow.open(),
        await alpha.http.get("/sca/not-a-token"),
        await alpha.http.get("/sca/done"),
    ]

    for page in answers:
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("csrf", [None, "", "forged"])
async def test_a_post_without_the_flows_csrf_value_is_refused(
    alpha: SandboxClient, csrf: str | None
) -> None:
    flow = await new_flow(alpha)
    await flow.open()
    data = {"csrf": csrf} if csrf is not None else {}

    refused = await alpha.http.post(f"{flow.url}/confirm", data=data)

    assert refused.status_code == 403
    assert "<h1>Request refused</h1>" in refused.text
    assert "<h2>Activate card</h2>" in (await flow.open()).text, "the flow did not move"


async def test_the_csrf_value_of_one_flow_does_not_work_in_another(alpha: SandboxClient) -> None:
    first, second = await new_flow(alpha), await new_flow(alpha)
    await first.open()
    await second.open()

    response = await alpha.http.post(f"{second.url}/confirm", data={"csrf": first.csrf()})

    assert response.status_code == 403


async def test_unknown_tokens_and_steps(alpha: SandboxClient) -> None:
    flow = await new_flow(alpha)
    await flow.open()

    unknown = await alpha.http.get("/sca/" + "A" * 43)
    wrong_step = await flow.post("pin", pin="1234")

    assert unknown.status_code == 404 and "This link is not valid" in unknown.text
    assert wrong_step.status_code == 303
    assert wrong_step.headers["location"] == urlsplit(flow.url).path


async def test_the_static_files_are_served_by_the_sandbox(alpha: SandboxClient) -> None:
    flow = await new_flow(alpha)
    page = (await flow.open()).text

    assert 'href="/static/sandbox.css"' in page
    assert (await alpha.http.get("/static/sandbox.css")).status_code == 200
    assert (await alpha.http.get("/static/passkey.js")).status_code == 200
    assert "https://" not in page


async def test_a_post_to_a_step_the_pages_do_not_have_is_not_found(alpha: SandboxClient) -> None:
    flow = await new_flow(alpha)
    await flow.open()
    response = await alpha.http.post(f"{flow.url}/approve-everything", data={"csrf": flow.csrf()})
    assert response.status_code == 404
    assert "<h2>Activate card</h2>" in (await flow.open()).text, "the flow did not move"
