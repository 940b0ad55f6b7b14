"""The one "did you mean" of the project: the nearest valid word to one that is not."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], *, n: int = 1,
                  cutoff: float = 0.5) -> list[str]:
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The end of a refusal: "; did you mean 'x'?" naming the nearest choice, else every
    valid one ("; valid: a, b")."""
    valid = list(choices)
    close = close_matches(word, valid)
    return f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(valid)}"
