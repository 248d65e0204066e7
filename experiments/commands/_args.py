"""argparse value types shared by the subcommands (bad values exit 2 with a one-line message)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int, maximum: int | None = None, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type accepting integers in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {v}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {v}")
        return v

    parse.__name__ = what.replace(" ", "_")
    return parse


positive_int = whole_number(1)
nonnegative_int = whole_number(0)
port_number = whole_number(0, 65535, "a port number")
