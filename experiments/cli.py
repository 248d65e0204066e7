"""The `culturedrift` command line: one subcommand per module in experiments/commands."""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
import threading
from collections.abc import Sequence

from culturedrift.experiments.commands import COMMANDS
from culturedrift.experiments.execution.errors import ExecutorLost, InputError
from culturedrift.model import ScenarioError

WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


class UsageError(InputError):
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

    def on_term(signum: int, frame: object) -> None:  # kill / a batch job's time limit: stop like Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, InputError) as e:
        print(f"culturedrift {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno not in WRITE_ERRORS:
            raise
        where = f" {e.filename}" if e.filename else ""
        print(f"culturedrift {args.command}: error: cannot write{where}: {e.strerror or e} (nothing half-written "
              "is left; free space or choose another --out)", file=sys.stderr)
        return 2
    except ExecutorLost as e:
        print(f"culturedrift {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"culturedrift {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
