"""Root conftest: the suite's plugin for a run from the checkout.

The package's pytest11 entry point (sca_conformance.activation) loads the plugin only for a
run that names the suites, so installing it changes no other pytest run; here it is named
for all of the checkout's runs (the suites and the project's own tests); it registers its own
modules (one per concern, sca_conformance/plugin/). Options: `pytest suites --help`, groups
"SCA consent conformance" and "Playwright".

    pytest suites                         # against the embedded sandbox
    pytest suites --target-url URL        # against a running target (SCA_TARGET_URL)
    pytest suites --target profiles/x.toml --sca-strict
"""

pytest_plugins = ["sca_conformance.plugin"]
