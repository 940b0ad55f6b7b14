"""For mypy only: the checkout maps top-level pages/ to sca_conformance.pages (setuptools
package-dir), which mypy cannot follow; at run time this file is never read."""

from pages import *  # noqa: F403  (the package's page objects, every name they export)
