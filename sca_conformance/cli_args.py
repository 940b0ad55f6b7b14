"""The command line's grammar: a command's parser refuses what it does not know (exit 4),
naming the nearest option it does."""

from __future__ import annotations

import argparse
from typing import NoReturn

from sca_conformance.suggest import suggestion


class UsageError(Exception):
    """A command line that cannot be followed: exit 4, nothing run, nothing written."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def parse_args(
    parser: argparse.ArgumentParser, argv: list[str], hint: str = "",
) -> argparse.Namespace:
    """The arguments, refusing any it does not know with the nearest option it does."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        word = unknown[0]
        if word.startswith("-"):
            options = [o for o in parser._option_string_actions if o.startswith("--")]
            close = suggestion(word.split("=", 1)[0], options, prefix="; ")
            raise UsageError(f"{parser.prog}: unknown option {word}{close or hint}")
        raise UsageError(f"{parser.prog}: unexpected argument {word!r}{hint}")
    return args
