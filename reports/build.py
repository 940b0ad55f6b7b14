"""python -m reports.build: the report builder, which lives in the package
(sca_conformance.report_builder) so that the installed `sca-conformance` command has it too."""

from __future__ import annotations

import sys

from sca_conformance.report_builder import (
    ALLURE,
    REPORT_NAME,
    BuildError,
    build,
    find_allure,
    generate,
    main,
    restore_history,
    save_history,
    third_party_references,
    write_contract,
)

__all__ = [
    "ALLURE", "REPORT_NAME", "BuildError", "build", "find_allure", "generate", "main",
    "restore_history", "save_history", "third_party_references", "write_contract",
]

if __name__ == "__main__":
    sys.exit(main())
