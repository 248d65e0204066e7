"""Subcommands of `culturedrift`: every module here with a `register(subparsers)` becomes one."""

import pkgutil

COMMANDS = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
