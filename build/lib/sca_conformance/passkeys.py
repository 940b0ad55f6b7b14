"""A WebAuthn passkey held by a CDP virtual authenticator (Chromium only, one per page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.async_api import CDPSession, Page


@dataclass
class VirtualAuthenticator:
    session: CDPSession
    authenticator_id: str

    async def credentials(self) -> list[dict[str, Any]]:
        result = await self.session.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return list(result["credentials"])

    async def set_user_verified(self, verified: bool) -> None:
        await self.session.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )

    async def remove(self) -> None:
        await self.session.send(
            "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id}
        )


async def add_virtual_authenticator(page: Page) -> VirtualAuthenticator:
    """A platform authenticator that verifies the user and answers at once."""
    session = await page.context.new_cdp_session(page)
    await session.send("WebAuthn.enable", {"enableUI": False})
    result = await session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualAuthenticator(session, result["authenticatorId"])
