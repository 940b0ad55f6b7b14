"""The one "did you mean" of the project: the nearest valid word to one that is not."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], *, n: int = 1,
                  cutoff: float = 0.5) -> list[str]:
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def suggestion(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.5,
               quoted: bool = True, prefix: str = "", suffix: str = "") -> str:
    """`prefix` "did you mean 'x'?" `suffix`, naming up to `n` near choices (quoted or
    not), or nothing when none is near."""
    close = close_matches(word, choices, n=n, cutoff=cutoff)
    if not close:
        return ""
    names = ", ".join(repr(choice) if quoted else choice for choice in close)
    return f"{prefix}did you mean {names}?{suffix}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The end of a refusal: "; did you mean 'x'?" naming the nearest choice, else every
    valid one ("; valid: a, b")."""
    valid = list(choices)
    return suggestion(word, valid, prefix="; ") or f"; valid: {', '.join(valid)}"
