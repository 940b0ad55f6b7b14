"""The contract's requests by name, relative to the target's base path: the table every
request of the suite is built from (catalog.endpoint fills in a profile's base path and its
[paths]). At the bottom of the package: it imports nothing of it."""

from __future__ import annotations

BASE_PATH = "/v3"  # the contract's version prefix, a profile's target.base_path by default

# The contract's requests, by name: path relative to the base path ({placeholders}).
ENDPOINTS: dict[str, str] = {
    "login": "/auth/login",
    "refresh": "/auth/refresh",
    "individuals": "/individuals",
    "individual": "/individuals/{individual_id}",
    "onboard": "/individuals/{individual_id}/onboard",
    "accounts": "/accounts",
    "account": "/accounts/{account_id}",
    "bank_details": "/accounts/{account_id}/bank_details",
    "cards": "/cards",
    "card": "/cards/{card_id}",
    "card_details": "/cards/{card_id}/details",
    "card_activation": "/cards/{card_id}/activate",
    "transactions": "/transactions?account_id={account_id}",
    "pay": "/transactions/pay",
    "move": "/transactions/move",
    "consent": "/consents/{consent_id}",
    # simulations (contract section 8; a target declares which it has)
    "clock_simulation": "/simulations/clock",
    "sms_simulation": "/simulations/sms",
    "funding_simulation": "/simulations/account_funding",
    "card_payment_simulation": "/simulations/card_payment",
    "activation_simulation": "/simulations/individuals/{individual_id}/activate",
    "kyc_simulation": "/simulations/onboarding/status",
}
