"""How the suite layer's tests run the plugin in a pytest of its own (pytester)."""

# The plugin named explicitly: these test files are not the suites, which enable it by themselves.
PLUGINS = ("-p", "sca_conformance.plugin")
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""
