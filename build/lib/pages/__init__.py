"""Page objects for the hosted consent pages: locators by role and visible text (in the
target's wording, from its text table), intent methods that return None, no assertions
(tests assert with `expect`)."""

from pages.base import HostedPage, texts_of, use_texts
from pages.card_activation import ActivatedPage, Cvc2Page, PinPage
from pages.card_details import CardDetailsPage
from pages.identification import IdentifyPage, PasscodePage
from pages.onboarding import AddPasskeyPage, CreatePasscodePage, PhoneCodePage
from pages.outcome import DonePage, EndStates, ErrorPage, LockedOutPage
from pages.summary import SummaryPage

__all__ = [
    "ActivatedPage", "AddPasskeyPage", "CardDetailsPage", "CreatePasscodePage", "Cvc2Page",
    "DonePage", "EndStates", "ErrorPage", "HostedPage", "IdentifyPage", "LockedOutPage",
    "PasscodePage", "PhoneCodePage", "PinPage", "SummaryPage", "texts_of", "use_texts",
]
