"""Root conftest: the suite's plugin for a run from the checkout.

The plugin is installed with the package (`pip install -e '.[dev]'`; its pytest11 entry
point is named `sca_conformance.plugin`, like the module), so the name below is already
registered and pytest skips it; without the entry point (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1),
this is what loads it. It loads pytest-playwright-asyncio and the suite's reporting and
browser fixtures itself. Options: `pytest --help`, groups "SCA consent conformance" and
"Playwright".

    pytest suites                         # against the embedded sandbox
    pytest suites --target-url URL        # against a running target (SCA_TARGET_URL)
    pytest suites --target profiles/x.toml --sca-strict
"""

pytest_plugins = ["sca_conformance.plugin", "pytester"]
