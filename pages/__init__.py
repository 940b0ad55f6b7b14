"""Page objects for the hosted consent pages: locators by role and visible text (in the
target's wording, from its text table), intent methods that return None, no assertions
(tests assert with `expect`)."""

from .base import Field, Hosted, HostedPage, Submission, Wording, same_words
from .card_activation import ActivatedPage, Cvc2Page, PinPage
from .card_details import CardDetailsPage
from .confirmation import SmsCodePage
from .identification import IdentifyPage, PasscodePage
from .onboarding import AddPasskeyPage, CreatePasscodePage, PhoneCodePage
from .outcome import DonePage, EndStates, ErrorPage, LockedOutPage
from .summary import SummaryPage

__all__ = [
    "ActivatedPage",
    "AddPasskeyPage",
    "CardDetailsPage",
    "CreatePasscodePage",
    "Cvc2Page",
    "DonePage",
    "EndStates",
    "ErrorPage",
    "Field",
    "Hosted",
    "HostedPage",
    "IdentifyPage",
    "LockedOutPage",
    "PasscodePage",
    "PhoneCodePage",
    "PinPage",
    "SmsCodePage",
    "Submission",
    "SummaryPage",
    "Wording",
    "same_words",
]
