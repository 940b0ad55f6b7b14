"""What a run selects and how tests are labelled: the suite's markers, ``--requirement``
selection, the ``must``/``should`` and action marks and the Allure labels added at collection
(so that allure-pytest's own selection options see them), and which runs are a selection of
the suite (then requirements outside it are "not selected", not "untested")."""

from __future__ import annotations

import allure
import pytest

from sca_conformance.axe_engine import EngineMissing, find_axe
from sca_conformance.catalog import CATALOG
from sca_conformance.requirements import registry, requirement
from sca_conformance.suggest import suggestion

EPIC = "Strong Customer Authentication"
FEATURES = {
    "onboarding": "Onboarding (KYC)",
    "payment_history": "Payment history",
    "external_payment": "External payments",
    "card_details": "Card details",
    "card_activation": "Card activation",
    "lifecycle": "Consent lifecycle",
    "security": "Security",
    "errors": "Errors",
}
SEVERITY = {"MUST": allure.severity_level.CRITICAL, "SHOULD": allure.severity_level.NORMAL}
REQUIREMENTS = "requirements"  # the user property naming a test's requirements


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(mark.args)
    return ids


def action_of(item: pytest.Item) -> str | None:
    """The action a test is about: its parameter, or an action marker."""
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else ()):
        name = getattr(value, "name", value)
        if isinstance(name, str) and name in CATALOG:
            return name
    return next((name for name in CATALOG if item.get_closest_marker(name)), None)


def scenario(item: pytest.Item) -> str:
    """The test's docstring's first line: what a reader of the report sees."""
    function = getattr(item, "function", None)
    doc = getattr(function, "__doc__", None) or getattr(item, "originalname", item.name)
    return str(doc).strip().splitlines()[0]


def _label(kind: str, *values: str) -> pytest.MarkDecorator:
    """An Allure label as the mark allure-pytest reads at collection, so that its
    selection options (--allure-severities, --allure-features, --allure-label) see it."""
    return pytest.mark.allure_label(*values, label_type=kind)


def allure_marks(item: pytest.Item) -> list[pytest.MarkDecorator]:
    ids = requirement_ids(item)
    action = action_of(item)
    concern = next((m for m in ("lifecycle", "security", "errors") if item.get_closest_marker(m)),
                   None)
    marks = [
        _label("epic", EPIC),
        _label("feature", FEATURES.get(action or concern or "", "Consent API (any action)")),
        _label("story", scenario(item)),
    ]
    if ids:
        level = "MUST" if any(requirement(i).level == "MUST" for i in ids) else "SHOULD"
        marks.append(_label("severity", SEVERITY[level].value))
        marks.append(_label("requirement", *ids))
    return marks


@pytest.hookimpl(tryfirst=True)  # before allure-pytest selects by label
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = {
        part.strip().upper()
        for option in config.getoption("--requirement", None) or []
        for part in option.split(",")
        if part.strip()
    }
    for requirement_id in wanted:
        if requirement_id not in registry():
            hint = suggestion(requirement_id, registry(), n=3, cutoff=0.6, quoted=False,
                              prefix="; ")
            raise pytest.UsageError(f"--requirement {requirement_id}: the contract has no such "
                                    f"requirement{hint}")
    if wanted:
        selected = [item for item in items if wanted & set(requirement_ids(item))]
        deselected = [item for item in items if item not in selected]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and not hasattr(function, "__allure_display_name__"):
            # allure-pytest names each result from this, filling in {param_id}.
            parametrized = getattr(item, "callspec", None) is not None
            title = scenario(item).replace("{", "{{").replace("}", "}}")
            function.__allure_display_name__ = f"{title} [{{param_id}}]" if parametrized else title
        ids = requirement_ids(item)
        for requirement_id in ids:
            try:
                requirement(requirement_id)
            except KeyError as error:
                raise pytest.UsageError(f"{item.nodeid}: {error.args[0]}") from None
        if ids:
            levels = {requirement(i).level for i in ids}
            item.add_marker(pytest.mark.must if "MUST" in levels else pytest.mark.should)
            item.user_properties.append((REQUIREMENTS, ",".join(ids)))
        action = action_of(item)
        if action:
            item.add_marker(getattr(pytest.mark, action))
        for mark in allure_marks(item):
            item.add_marker(mark)
    # A setup problem stops the run with what fixes it, before any test. Not from an xdist
    # worker (an exit there crashes the controller): there the scan's own error says it.
    if not hasattr(config, "workerinput") and any("A11Y-1" in requirement_ids(i) for i in items):
        try:
            find_axe()
        except EngineMissing as missing:
            raise pytest.UsageError(str(missing)) from None


MARKERS = {
    "requirement(*ids)": "contract requirement IDs this test proves",
    "actions(*names)": "run this action-parametrized test only for these actions",
    **{name: f"{title} tests" for name, title in FEATURES.items()},
    "browser": "drives the hosted pages in a real browser",
    "api": "HTTP API only",
    "must": "proves a MUST requirement (added from the requirement marker)",
    "should": "proves only SHOULD requirements (added from the requirement marker)",
    "slow": "the project's own slow tests (kill matrix, fuzzer)",
    "fuzz": "the fuzz part (ERR-1..3 fuzzed against the target): skipped unless --fuzz",
    "any_onboarding_style": "drives onboarding in either style (consent or redirect)",
    "needs(*capabilities)": "skipped, with the reason, on a target whose profile lacks one of "
    "these capabilities (or 'second_client': a second API key)",
    "allure_label": "an Allure label (epic, feature, story, severity, requirement: marks "
    "added at collection, so that allure-pytest's selection options see them)",
}


TAGS = frozenset({*FEATURES, "browser", "api", "must", "should"})
"""The marks that are Allure tags: what a test is about (its action or concern), how it
reaches the target (browser, api), and its level (must, should). The marks that steer the
run are not: requirement, actions and needs (their arguments are labels or skips),
any_onboarding_style, slow, allure_label, and other plugins' (asyncio, Playwright's)."""


def is_selection(config: pytest.Config) -> bool:
    """Whether this run chose some of the suite's tests (then requirements outside the
    choice are "not selected", not "uncovered")."""
    option = config.option
    return bool(
        getattr(option, "keyword", "") or getattr(option, "markexpr", "")
        or config.getoption("--requirement", None) or getattr(option, "lf", False)
        or getattr(option, "deselect", None)
        or any("::" in arg or arg.endswith(".py") for arg in config.args)
        or getattr(option, "splits", None)  # a pytest-split shard: one part of the suite
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
