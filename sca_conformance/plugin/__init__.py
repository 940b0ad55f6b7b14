"""The suite's pytest plugin (the entry point's name stays ``sca_conformance.plugin``), one
module per concern, each registered as a plugin of its own through ``pytest_plugins``:

- ``options``: the command line, environment and ini settings, the header, Playwright's
  options (or pytest-playwright's, which is kept out of an SCA run);
- ``fixtures``: the target (embedded sandbox or named), API clients, test data, the
  return_url receiver, the stop of a run whose target is unusable;
- ``browser``: the async Playwright fixtures under pytest-playwright's names, this machine's
  Chromium, phone-sized contexts, scrubbed traces;
- ``evidence``: what the report shows (Allure labels and links, one step per API exchange,
  the page evidence of a failed test, masked);
- ``outcomes``: a test's verdict (MUST fails, SHOULD warns, soft checks, the test's own
  lines in a traceback, secrets masked);
- ``selection``: markers, ``--requirement``, which runs are a selection of the suite;
- ``coverage``: the requirement matrix, the run's verdict and exit code, the matrix files;
- ``fuzz``: the opt-in fuzz part's options and gate (``--fuzz``; sca_conformance.fuzzing);
- ``setup_errors``: a TLS, proxy, DNS or connection failure stops the run as TARGET UNUSABLE.

Not an entry point of its own: the package's pytest11 entry point (sca_conformance.activation)
loads it only for a run that names the suites; the suites' conftest.py (and the checkout's)
names it in ``pytest_plugins``; elsewhere ``-p sca_conformance.plugin``.

Session scope holds what is expensive and immutable (settings, the target, the browser);
function scope everything with state (API sessions, data, contexts, pages).
"""

pytest_plugins = [
    f"sca_conformance.plugin.{name}"
    for name in ("options", "fixtures", "browser", "evidence", "outcomes", "selection",
                 "coverage", "fuzz", "setup_errors")
]
