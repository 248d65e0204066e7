"""The `culturedrift` command line: one subcommand per module in experiments/commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from culturedrift.experiments.commands import COMMANDS
from culturedrift.model import ScenarioError


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="culturedrift", description="Agent-based model of a children's "
                                     "services organisation carrying out the Munro Review.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"culturedrift.experiments.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input, 1 failure)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, UsageError) as e:
        print(f"culturedrift {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"culturedrift {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
