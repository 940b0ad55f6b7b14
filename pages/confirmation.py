from __future__ import annotations

from playwright.async_api import Locator

from .base import HostedPage


class SmsCodePage(HostedPage):
    """'Confirm with SMS code': a code texted to the individual, asked inside an action's
    flow (after identification, before the action's own steps), as a provider may."""

    table = "sms"
    fields = ("code",)

    @property
    def confirm_button(self) -> Locator:
        return self.control("confirm")

    async def confirm(self, code: str) -> None:
        await self.send(self.confirm_button, [("code", code)])
