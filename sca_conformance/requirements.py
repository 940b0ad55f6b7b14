"""The contract's requirements, read from the contract shipped in the package
(sca_conformance/contract/consent-contract.md; docs/consent-contract.md links to it). The
bottom of the package: it imports nothing of it (how a check fails is `failures`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

# Package data, so that the plugin works from an installed wheel as from the checkout.
CONTRACT: Traversable = resources.files("sca_conformance") / "contract" / "consent-contract.md"
# The report ships the contract as contract.html beside index.html (publish.builder); set
# SCA_CONTRACT_URL to link somewhere else.
CONTRACT_URL = os.environ.get("SCA_CONTRACT_URL", "contract.html")

Level = Literal["MUST", "SHOULD"]
_ROW = re.compile(
    r"^\|\s*(?P<id>[A-Z][A-Z0-9]*-\d+)\s*\|\s*(?P<level>MUST|SHOULD)\s*\|\s*(?P<text>.+?)\s*\|\s*$"
)


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    text: str
    section: str

    @property
    def anchor(self) -> str:
        """Link to the requirement's own row in the contract."""
        return f"{CONTRACT_URL}#{self.id}"


@cache
def registry(path: Traversable = CONTRACT) -> dict[str, Requirement]:
    requirements: dict[str, Requirement] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        match = _ROW.match(line)
        if match:
            requirements[match["id"]] = Requirement(
                match["id"], match["level"], match["text"], section  # type: ignore[arg-type]
            )
    return requirements


def requirement(requirement_id: str) -> Requirement:
    try:
        return registry()[requirement_id]
    except KeyError:
        raise KeyError(f"{requirement_id} is not a requirement of {CONTRACT.name}") from None

