"""The profile reference (docs/profiles.md) and the shipped JSON schema are the models'
own: every key documented with its meaning and an example, every documented key read by the
suite, and nothing stale."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import jsonschema_rs
import pytest

from sca_conformance import profile_reference
from sca_conformance.config import load_profile

ROOT = Path(__file__).resolve().parents[2]
CODE = [*ROOT.joinpath("sca_conformance").rglob("*.py"), *ROOT.joinpath("suites").glob("*.py"),
        *ROOT.joinpath("pages").glob("*.py")]
# Keys read as whole tables (their entries are the target's names, not the suite's).
TABLES = {"paths", "roles", "fields", "network.headers", "verdict.accept_untested",
          "verdict.known_violations", "data.kyc_body", "actions.<action>.body"}


def _code(path: Path) -> str:
    """A module's code without its comments and docstrings (they name keys, read none)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            node.body = [statement for statement in body if not (  # type: ignore[attr-defined]
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str))] or [ast.Pass()]
    return ast.unparse(tree)


def test_the_reference_and_the_schema_are_generated_from_the_models() -> None:
    assert profile_reference.main(["--check"]) == 0, (
        "run: python -m sca_conformance.profile_reference --write")


def test_every_key_has_a_meaning_and_an_example() -> None:
    keys = list(profile_reference.all_keys())
    assert len(keys) > 100
    assert not [k.key for k in keys if not k.meaning], "keys without a meaning"
    lacking = [k.key for k in keys if not k.example and not k.key.startswith("texts.")]
    assert not lacking, f"keys without an example: {lacking}"
    documented = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    for key in keys:
        assert f"| `{key.key}` |" in documented, key.key


def test_every_documented_key_is_read_by_the_suite() -> None:
    """A key no code reads is a promise the suite does not keep."""
    sources = "\n".join(_code(path) for path in CODE)
    unread = []
    for key in profile_reference.all_keys():
        if key.key.startswith("texts.") or key.key == "format":
            continue  # the wording tables are read by page and key; format by load_profile
        name = key.key.rsplit(".", 1)[-1]
        pattern = rf"\.{name}\b|[\"']{name}[\"']"
        if not re.search(pattern, sources):
            unread.append(key.key)
    assert not unread, f"documented, but no code reads them: {unread}"
    assert {k.key for k in profile_reference.all_keys()} >= TABLES


@pytest.mark.parametrize("profile", sorted((ROOT / "profiles").glob("*.toml")),
                         ids=lambda path: path.name)
def test_the_shipped_profiles_pass_the_schema_they_are_checked_with(profile: Path) -> None:
    schema = json.loads(profile_reference.schema_path().read_text(encoding="utf-8"))
    raw = tomllib.loads(profile.read_text(encoding="utf-8"))
    errors = [error.message for error in jsonschema_rs.Draft202012Validator(schema)
              .iter_errors(raw)]
    assert not errors, errors
    load_profile(profile)


def test_the_schema_refuses_an_unknown_key() -> None:
    schema = json.loads(profile_reference.schema_path().read_text(encoding="utf-8"))
    errors = list(jsonschema_rs.Draft202012Validator(schema).iter_errors(
        {"target": {"base_ulr": "x"}}))
    assert errors and "base_ulr" in errors[0].message
