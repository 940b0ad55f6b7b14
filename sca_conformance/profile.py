"""The target's profile, as models: one strict section model per table of the profile
(their attribute docstrings are the profile reference, docs/profiles.md) and the `Profile`
they make. Reading a profile file and the run's settings are `config`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sca_conformance.endpoints import BASE_PATH, ENDPOINTS
from sca_conformance.network import AuthSection, NetworkSection
from sca_conformance.suggest import did_you_mean
from sca_conformance.texts import load_texts

if TYPE_CHECKING:
    from sca_conformance.pages import Wording

ACTIONS = ("onboarding", "payment_history", "external_payment", "card_details", "card_activation")
FORMAT = 2  # the profile format this release reads (`format = 2`, the profile's first key)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              use_attribute_docstrings=True)


class TargetSection(_Section):
    name: str = ""
    """What the report and the header call the target (default: the profile's file name)."""
    base_url: str = ""
    """The API's base URL (https://...); --target-url overrides it (one profile, another
    environment)."""
    embedded: bool = False
    """start the embedded sandbox instead of naming a base_url"""
    sandbox_dialect: str = "default"
    """With embedded = true: how the sandbox's pages look (default, nordic, redirect)."""
    brand: str = ""
    """the name the summary page introduces ("I identify myself to <brand>")"""
    hosted_origins: list[str] = []
    """Origins the hosted pages may move between, besides redirect_url's own and those the
    browser passes through before the first hosted page shows (a launch host)."""
    openapi: str = ""
    """Where the target publishes its OpenAPI document, for the fuzz part (a path on the target,
    a URL, a file or "none"); empty: /openapi.json, or --fuzz-openapi."""
    return_url: str = ""
    """The return_url registered with the provider (https); empty: the suite's own loopback
    receiver. Tests are told apart by a nonce the provider preserves: in return_url's query
    (return_url_nonce = "query"), its fragment ("fragment"), or not at all ("none")."""
    return_url_nonce: Literal["query", "fragment", "none"] = "query"
    """Where the suite puts each test's nonce in the registered return_url: its query, its
    fragment, or nowhere (one test at a time then)."""
    base_path: str = BASE_PATH
    """The prefix of every request of the contract (endpoints.BASE_PATH; "/api/v4" on another,
    "" at the root); one request's own path: [paths]."""
    sandbox_options: list[str] = []
    """More options of the embedded sandbox (`python -m sca_sandbox --help`), e.g. its staging
    personality: ["--no-simulations", "clock,sms", "--individual-word", "activated"]."""

    @model_validator(mode="after")
    def _origins(self) -> TargetSection:
        if self.base_path and not self.base_path.startswith("/"):
            raise ValueError(f"target.base_path: {self.base_path!r} must start with '/'")
        for value in self.hosted_origins:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"target.hosted_origins: {value!r} is not an http(s) origin")
        if self.return_url:
            parts = urlsplit(self.return_url)
            if parts.scheme != "https" or not parts.netloc:
                raise ValueError(f"target.return_url: {self.return_url!r} is not an https URL "
                                 "(the one registered with the provider)")
        return self


class KeysSection(_Section):
    primary_env: str = "SCA_API_KEY"
    """The environment variable holding the first client's API key (never the key itself)."""
    secondary_env: str = "SCA_API_KEY_2"
    """The environment variable holding a second client's key, for the isolation checks (unset:
    they are skipped, with the reason)."""


class OnboardingSection(_Section):
    style: Literal["consent", "redirect"] = "consent"
    """consent: 412 + the consent flow (this contract); redirect: 200 + redirect_url."""
    return_url_field: str = "return_url"
    """where a redirect-style request carries return_url"""


class Capabilities(_Section):
    clock_simulation: bool = True
    """The target has the clock simulation (section 8); without it, checks that need time to
    pass are skipped with the reason."""
    sms_simulation: bool = True
    """The target has the SMS simulation; without it the code comes from another [data] sms_code
    source."""
    passkeys: bool = True
    """The hosted pages offer passkeys (WebAuthn); without them the passkey tests are skipped."""
    activation_simulation: bool = True
    """The target can activate an individual by simulation; without it, [data] individuals says
    how."""
    funding_simulation: bool = True
    """The target can fund an account by simulation; without it, [data] money says how."""


class HostedSection(_Section):
    """How the hosted pages treat one consent opened twice. A target that cannot run two
    flows of one consent at once (it locks a consent to the first browser session that opens
    it) says so: RACE-2 and RACE-3 then check that the second page is refused with an end
    state, not that it races."""

    one_session_per_consent: bool = False
    """The hosted pages lock a consent to the first browser session that opens it: RACE-2/3 then
    check that a second page is refused with an end state."""


class WordsSection(_Section):
    """The provider's own status words, where the contract's are not the only ones: an
    onboarded individual is `active` in the contract and `activated` on the provider's
    staging (contract Sources); a word listed here is accepted as the state it names."""

    individual_active: list[str] = ["active", "activated"]
    """The words the target uses for an onboarded individual's state (the provider's:
    activated)."""
    card_active: list[str] = ["active"]
    """The words the target uses for an active card's state."""


IndividualSource = Literal["simulation", "onboarding", "provisioned"]
MoneySource = Literal["simulation", "opens_funded", "provisioned"]
SmsCodeSource = Literal["simulation", "page", "fixed"]


class DataSection(_Section):
    """Where the suite gets what a test needs (contract section 7), each in the order tried.
    "simulation" is the contract's simulation (used only where [capabilities] has it); the
    others are the staging ways. A test is skipped only when none of its sources exists."""

    individuals: list[IndividualSource] = ["simulation"]
    """An active individual: the activation simulation; the hosted onboarding in the browser
    followed by the KYC-outcome simulation ([paths] kyc_simulation); pre-provisioned ones."""
    provisioned_file: str = Field(default="", examples=["individuals.json"])
    """Pre-provisioned individuals: a JSON file, or an environment variable holding the same
    JSON (secrets stay out of files): [{"id": ..., "passcode": ..., "accounts": [...]}]."""
    provisioned_env: str = ""
    """The environment variable holding the pre-provisioned individuals' JSON (passcodes stay
    out of files)."""
    money: list[MoneySource] = ["simulation"]
    """Money on an account: the funding simulation; accounts that open funded; pre-funded
    accounts of the pre-provisioned individuals."""
    sms_code: list[SmsCodeSource] = ["simulation"]
    """The SMS code: the simulation; read on the hosted page (sms_code_locator, a Playwright
    selector); a fixed staging code from the environment variable sms_code_env."""
    sms_code_locator: str = ""
    """With sms_code = ["page"]: a Playwright selector for where the hosted page shows the code."""
    sms_code_env: str = ""
    """With sms_code = ["fixed"]: the environment variable holding the target's fixed staging
    code."""
    phone_country: str = "SE"
    """The country whose numbering plan the test individuals' mobile numbers follow."""
    kyc_body: dict[str, Any] = {"individual_id": "{individual_id}", "status": "approved"}
    """The KYC outcome the onboarding/status simulation is sent."""

    @model_validator(mode="after")
    def _sources(self) -> DataSection:
        if "page" in self.sms_code and not self.sms_code_locator:
            raise ValueError('data.sms_code "page" needs data.sms_code_locator')
        if "fixed" in self.sms_code and not self.sms_code_env:
            raise ValueError('data.sms_code "fixed" needs data.sms_code_env')
        if "provisioned" in self.individuals and not (self.provisioned_file
                                                      or self.provisioned_env):
            raise ValueError('data.individuals "provisioned" needs data.provisioned_file or '
                             "data.provisioned_env")
        import phonenumbers

        if self.phone_country not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"data.phone_country: {self.phone_country!r} is not a region "
                             "code (SE, GB, DE, ...)")
        return self


class ActionSettings(_Section):
    enabled: bool = True
    """false: the action is not tested on this target (its requirements are then not selected)."""
    method: Literal["GET", "POST", "PUT", "PATCH"] | None = None
    """The HTTP method of the action's request, where it is not the contract's."""
    path: str | None = None
    """the whole path (a [paths] entry is relative to base_path)"""
    scope: str | None = None
    """the scope the target names in the consent"""
    body: dict[str, Any] | None = None
    """the request body template ({placeholders})"""


class Formats(_Section):
    """How the hosted pages display amounts: the decimal separator decides between
    `1.234` and `1,234`; grouping, code or symbol, and their position are read as shown."""

    decimal_separator: Literal[".", ","] = "."
    """The decimal separator the hosted pages show amounts with."""


class Lifetimes(_Section):
    """What the target's lifetimes are, where it does not say so itself. The suite takes
    time from the target (a consent's or method's `expires_at`, the access token's
    `expires_in` or `exp`); these fill in what a target does not tell, and for the
    embedded sandbox they are what it is started with."""

    access_token_seconds: int | None = Field(default=None, gt=0)
    """The access token's life, where a login answers no expires_in and no JWT exp."""
    refresh_token_seconds: int | None = Field(default=None, gt=0)
    """the session's life"""
    consent_seconds: int | None = Field(default=None, gt=0)
    """embedded sandbox only"""
    method_seconds: int | None = Field(default=None, gt=0)
    """embedded sandbox only"""
    history_window_days: int = Field(default=180, gt=0)
    """AFTER-5's window"""


class Timeouts(_Section):
    page_seconds: float = Field(default=10.0, gt=0)
    """a hosted page or control to appear"""
    control_seconds: float = Field(default=3.0, gt=0)
    """at most, a control on a shown page"""
    landing_seconds: float = Field(default=10.0, gt=0)
    """the browser to reach return_url"""
    api_seconds: float = Field(default=30.0, gt=0)
    """one API exchange"""


class RateLimits(_Section):
    """How the suite keeps to a target's rate limits (contract section 8a): the pace of each
    worker, and how long one request may wait out a 429 (or a 503 with Retry-After) before
    its test is not prepared."""

    requests_per_second: float | None = Field(default=None, gt=0)
    """each worker's pace"""
    max_wait_seconds: float = Field(default=120.0, gt=0)
    """in all, for one request"""
    max_tries: int = Field(default=6, gt=0)
    """sends of one request, the first included"""


class VerdictSection(_Section):
    """What the run's verdict may leave aside: MUST requirements this target cannot be
    tested for, each with the reason a QA lead signs (`"AFTER-6" = "no clock simulation"`).
    An accepted requirement that is not proved does not make the run INCOMPLETE.

    `known_violations`: the target's ticketed defects (`"PAGE-5" = "TICKET-123: why"`). Their
    violation is listed as known and not counted against the verdict (whose sentence says
    so); one that no longer fails, proved in a run, fails that run as stale until it is
    removed from here (a ratchet)."""

    accept_untested: dict[str, str] = {}
    """MUST requirements this target cannot be tested for, each with the reason a QA lead signs:
    not proved, they do not make the run INCOMPLETE."""
    known_violations: dict[str, str] = {}
    """Ticketed defects of the target: "PAGE-5" = "TICKET-123: why". Listed as known, not
    counted against the verdict; one that passes fails the run as stale until removed."""

    @model_validator(mode="after")
    def _known(self) -> VerdictSection:
        from sca_conformance.requirements import registry

        for key, entries in (("accept_untested", self.accept_untested),
                             ("known_violations", self.known_violations)):
            for requirement_id, reason in entries.items():
                if requirement_id not in registry():
                    raise ValueError(f"verdict.{key}: {requirement_id!r} is not a "
                                     f"requirement{did_you_mean(requirement_id, list(registry()))}")
                if not reason.strip():
                    raise ValueError(f"verdict.{key}.{requirement_id}: give the reason "
                                     "(known_violations: \"TICKET-123: why\")")
        return self


ROLES = ("button", "link", "menuitem")


class TextsSection(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True,
                              use_attribute_docstrings=True)
    language: str = "en"
    """The shipped wording table the page objects read (en, sv); single texts are overridden
    under [texts.<page>]."""


class Profile(_Section):
    format: int = FORMAT
    """the profile format it is written in (load_profile checks it)"""
    target: TargetSection = TargetSection()
    keys: KeysSection = KeysSection()
    onboarding: OnboardingSection = OnboardingSection()
    capabilities: Capabilities = Capabilities()
    hosted: HostedSection = HostedSection()
    network: NetworkSection = NetworkSection()
    auth: AuthSection = AuthSection()
    words: WordsSection = WordsSection()
    data: DataSection = DataSection()
    paths: dict[str, str] = {}
    """One request's path, relative to target.base_path: [paths] card = "/cards/{card_id}" (the
    names: sca_conformance.endpoints.ENDPOINTS)."""
    actions: dict[Literal[ACTIONS], ActionSettings] = {}  # type: ignore[valid-type]
    """Per action (onboarding, payment_history, external_payment, card_details,
    card_activation): its scope name, its request, or enabled = false."""
    formats: Formats = Formats()
    timeouts: Timeouts = Timeouts()
    lifetimes: Lifetimes = Lifetimes()
    rate_limits: RateLimits = RateLimits()
    verdict: VerdictSection = VerdictSection()
    texts: TextsSection = TextsSection()
    roles: dict[str, dict[str, Literal[ROLES]]] = {}  # type: ignore[valid-type]
    """The role of a control where a target needs one: [roles.identify] another_way = "link" (by
    default a control is found in any role a person can press)."""
    fields: dict[str, dict[str, str]] = {}
    """A field its accessible name does not find, by a Playwright selector: [fields.passcode]
    passcode = "#otp" (docs/accessibility.md)."""

    @model_validator(mode="after")
    def _one_target(self) -> Profile:
        if self.target.embedded and self.target.base_url:
            raise ValueError("target: set base_url or embedded = true, not both")
        if self.target.sandbox_dialect != "default" and not self.target.embedded:
            raise ValueError("target.sandbox_dialect needs target.embedded = true")
        if self.target.sandbox_options and not self.target.embedded:
            raise ValueError("target.sandbox_options needs target.embedded = true")
        for name in self.paths:
            if name not in ENDPOINTS:
                raise ValueError(f"unknown request 'paths.{name}'"
                                 f"{did_you_mean(name, ENDPOINTS)}")
        return self

    @property
    def name(self) -> str:
        return self.target.name or ("sandbox" if self.target.embedded else self.target.base_url)

    @property
    def base_url(self) -> str:
        return self.target.base_url

    def wording(self) -> Wording:
        """The target's wording for the page objects: its text table and control roles. The
        one place a profile's text table is built (a run's: `Settings.wording`, once)."""
        from sca_conformance.pages import Wording

        return Wording(load_texts(self.texts.language, self.texts.model_extra or {}), self.roles,
                       self.fields)

    @property
    def sandbox_dialect(self) -> str:
        return self.target.sandbox_dialect

    def action(self, name: str) -> ActionSettings:
        return self.actions.get(name, ActionSettings())


EMBEDDED = Profile(target=TargetSection(name="sandbox", embedded=True))
