"""Root conftest: the suite's plugin for a run from the checkout.

The package has no pytest11 entry point (installed, it changes no other pytest run): the
plugin is enabled where it is named, here for the checkout's runs (the suites and the
project's own tests), in suites/conftest.py for the installed suites. It registers the
suite's reporting and browser fixtures itself. Options: `pytest suites --help`, groups
"SCA consent conformance" and "Playwright".

    pytest suites                         # against the embedded sandbox
    pytest suites --target-url URL        # against a running target (SCA_TARGET_URL)
    pytest suites --target profiles/x.toml --sca-strict
"""

pytest_plugins = ["sca_conformance.plugin"]
