"""Errors every layer may raise; the command line turns them into one-line messages (no traceback)."""


class InputError(ValueError):
    """Bad input (a file, a field, an option or an output folder): exit code 2, the message says what and why."""


class ExecutorLost(RuntimeError):
    """The workers or the cluster went away; the message says what happened and how to resume: exit code 1."""
