"""Safe output: whole-or-nothing writes that never follow a planted link, one writer per folder, checks up front.

- `atomic_write(path, write)`: `write` fills a temp file with a unique name made with O_EXCL in the target
  folder (never a fixed name another process or a planted symlink could occupy), the file is fsynced and
  renamed over `path`. A `path` that is a symlink is refused: we never write through a link we did not make.
- `OutputLock(folder)`: an exclusive lock for one writer per output folder (a POSIX record lock: released
  by the OS when the process dies, even from SIGKILL, and not inherited by forked workers).
- `check_out(folder)`: before any run, the folder must be a writable directory (or creatable), not a file,
  not a symlink, with no planted links among the names we write, and with room for the estimated bytes.
- `unique_names(names)`: the one check that strategies / scenarios have distinct names.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from culturedrift.experiments.execution.errors import InputError


class OutputBusy(InputError):
    """Another process is writing into the same output folder."""


def _refuse_link(path: Path, what: str = "") -> None:
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link{what}; refusing to write through a link this program did "
                         "not make (remove it or choose another --out)")


def atomic_write(path: str | Path, write: Callable[[Path], Any], fsync: bool = True) -> Path:
    """Write `path` whole or not at all through a uniquely named temp file in its folder; returns `path`."""
    path = Path(path)
    _refuse_link(path)
    _refuse_link(path.parent, " (the folder)")
    # hidden, unique, created with O_EXCL; it keeps the suffix so writers that infer a format from it work
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.tmp-", suffix=path.suffix, dir=path.parent)
    tmp = Path(name)
    try:
        os.close(fd)
        write(tmp)
        if fsync:
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(tmp, flags)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)  # replaces a name, never follows a link at `path`
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """`atomic_write` of a UTF-8 text file."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def staging(folder: str | Path) -> Iterator[Path]:
    """A private hidden folder inside `folder` (removed on the way out) to assemble files moved in at the end."""
    folder = Path(folder)
    _refuse_link(folder)
    stage = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class OutputLock:
    """One writer per output folder: `with OutputLock(out): ...`; a second writer gets `OutputBusy` at once."""

    NAME = ".lock"

    def __init__(self, folder: str | Path, what: str = "run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None
        self._made = False

    def acquire(self) -> OutputLock:
        _refuse_link(self.folder)
        self._made = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / self.NAME
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise InputError(f"{path} is a symbolic link; refusing to follow it") from None
            raise
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputBusy(f"{self.folder}: another {self.what} is writing to this folder; wait for it to "
                             "finish or choose another --out") from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
            if self._made and [p.name for p in self.folder.iterdir()] == [self.NAME]:
                with contextlib.suppress(OSError):  # nothing was written: leave no trace of a folder we made
                    (self.folder / self.NAME).unlink()
                    self.folder.rmdir()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_out(folder: str | Path, names: Iterable[str] = (), need_bytes: int = 0) -> Path:
    """Check an output folder before any run (see the module docstring); it is not created here."""
    folder = Path(folder)
    if folder.is_symlink():
        raise InputError(f"--out {folder} is a symbolic link; give the real folder")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder} exists and is not a directory")
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"--out {folder}: {probe} is a file, so the folder cannot be made")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"--out {folder}: {probe} is not writable")
    if folder.is_dir():
        for name in names:
            p = folder / name
            if p.is_symlink():
                raise InputError(f"--out {folder} holds {name} as a symbolic link this program did not make; "
                                 "remove it or choose another --out")
    if need_bytes and probe.exists():
        free = shutil.disk_usage(probe).free
        if need_bytes > free:
            raise InputError(f"--out {folder}: the outputs need about {need_bytes / 1e6:,.0f} MB but only "
                             f"{free / 1e6:,.0f} MB are free")
    return folder


def unique_names(names: Iterable[str], what: str = "scenarios") -> None:
    """Names tell runs apart in every output: two equal names are refused, naming them."""
    names = list(names)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two {what} share the name {', '.join(dup)}; names must be distinct "
                         "(the name tells them apart in every output)")
