"""Root conftest: the suite's plugin (options in the "SCA consent conformance" group,
fixtures, reporting). Run `pytest --help` and look for that group.

    pytest suites                         # against the embedded sandbox
    pytest suites --target-url URL        # against a running target (SCA_TARGET_URL)
    pytest suites --target profiles/x.toml --strict
"""

pytest_plugins = ["sca_conformance.reporting", "sca_conformance.plugin", "pytester"]
