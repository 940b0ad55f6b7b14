"""The suite layer's tests that run the plugin in a pytest of its own (pytester)."""

from __future__ import annotations

import pytest

from suite.plugin_run import INI


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(INI)
    # A named target gets its own keys (never the sandbox's): these runs name one.
    monkeypatch.setenv("SCA_API_KEY", "sk-test-named-target")
    monkeypatch.setenv("SCA_API_KEY_2", "sk-test-named-target-2")
    return pytester
