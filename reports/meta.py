"""Launch metadata for the Allure results folder: lives in the package
(sca_conformance.allure_meta), so that the installed plugin has it; re-exported here."""

from sca_conformance.allure_meta import (
    categories,
    ci_executor,
    mark_warnings,
    set_property,
    write_categories,
    write_environment,
    write_executor,
)

__all__ = ["categories", "ci_executor", "mark_warnings", "set_property", "write_categories",
           "write_environment", "write_executor"]
