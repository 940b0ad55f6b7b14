"""Rules every suite module keeps, checked on the source: a failure always names what it
is, and nothing of the sandbox's is assumed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = sorted((ROOT / "suites").glob("*.py"))
NAMING = {"proving", "preparing"}  # the blocks inside which a failure names a requirement


def _bare_asserts(tree: ast.AST) -> list[int]:
    """Line numbers of `assert` statements outside any `with proving(...)` or
    `with preparing(...)` block: such a failure names no requirement."""
    found: list[int] = []

    def visit(node: ast.AST, named: bool) -> None:
        if isinstance(node, ast.Assert) and not named:
            found.append(node.lineno)
        if isinstance(node, ast.With | ast.AsyncWith):
            names = {getattr(getattr(item.context_expr, "func", None), "attr", None)
                     or getattr(getattr(item.context_expr, "func", None), "id", None)
                     for item in node.items}
            named = named or bool(names & NAMING)
        for child in ast.iter_child_nodes(node):
            visit(child, named)

    visit(tree, False)
    return found


@pytest.mark.parametrize("module", SUITES, ids=[path.name for path in SUITES])
def test_no_bare_assert_in_the_suites(module: Path) -> None:
    lines = _bare_asserts(ast.parse(module.read_text(encoding="utf-8")))
    assert not lines, f"{module.name}: assert outside proving()/preparing() at lines {lines}"


def test_the_rule_finds_a_bare_assert() -> None:
    source = ("def t():\n    assert x\n    with checks.proving('A-1'):\n        assert y\n"
              "    with preparing('call'):\n        assert z\n")
    assert _bare_asserts(ast.parse(source)) == [2]


SANDBOX_ASSUMPTIONS = {
    "a lifetime of the sandbox's": re.compile(r"\b(15|16)\s*\*\s*60\b|\bA_DAY\b|LIFETIME\s*="),
    "the sandbox's markup": re.compile(r"role=\"alert\"|get_by_role\(\"alert\"|\.alert\b"),
}


@pytest.mark.parametrize("module", SUITES, ids=[path.name for path in SUITES])
def test_the_suites_take_no_lifetime_or_markup_from_the_sandbox(module: Path) -> None:
    source = module.read_text(encoding="utf-8")
    found = [what for what, pattern in SANDBOX_ASSUMPTIONS.items() if pattern.search(source)]
    assert not found, f"{module.name} assumes {', '.join(found)}"


PROFILE_REACH = re.compile(r"\bconsents\.profile\b|\bHostedFlow\(")


@pytest.mark.parametrize("module", SUITES, ids=[path.name for path in SUITES])
def test_the_suites_take_the_target_as_profiled_from_consents(module: Path) -> None:
    """The target as profiled has one home: a suite asks `consents` (its formats, words,
    timeouts, `consents.flow(...)`), never its profile, and builds no flow of its own (one
    built by hand missed the profile's timeouts)."""
    source = module.read_text(encoding="utf-8")
    found = sorted({match.group(0) for match in PROFILE_REACH.finditer(source)})
    assert not found, f"{module.name} reaches past consents: {', '.join(found)}"


def test_the_profile_rule_finds_a_reach_into_the_profile() -> None:
    assert PROFILE_REACH.search("checks.status_became(x, consents.profile.words.active)")
    assert PROFILE_REACH.search("flow = HostedFlow(page, action, subject, api, wording)")
    assert not PROFILE_REACH.search("flow = consents.flow(page, action, subject)")
