"""What can go wrong with the store on disk, as errors that say what to do.

SQLite and the file system report failures in their own words ("database or disk is full",
"file is not a database", errno 30); ``store_failures`` turns them into one-line StoreErrors
that name the file, say what happened to the work already done, and say how to go on.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from longvid.errors import LongvidError

WRITABLE_HINT = "point --store (or LONGVID_HOME) at a folder you can write to"
REBUILD_HINT = "rebuild it with: longvid index --force VIDEO"


class StoreError(LongvidError):
    """The store cannot be read or written (full disk, read-only, no permission, ...)."""


class DamagedMemoryError(StoreError):
    """A video's memory file is damaged or was written by a newer longvid."""


def _sqlite_failure(exc: sqlite3.Error, folder: Path) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    database = folder / "memory.sqlite"
    if name == "SQLITE_FULL":
        return disk_full(folder)
    if name.startswith("SQLITE_READONLY"):
        return StoreError(f"the store is read-only ({database})", WRITABLE_HINT)
    if name == "SQLITE_CANTOPEN" or name.startswith("SQLITE_PERM"):
        return StoreError(f"cannot open {database} (permission denied?)", WRITABLE_HINT)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(exc):
        return DamagedMemoryError(f"{database} is damaged ({exc})", REBUILD_HINT)
    return StoreError(f"{database}: {exc}", "check the disk, then run the command again")


def disk_full(folder: Path) -> StoreError:
    return StoreError(
        f"the disk holding the store is full ({folder})",
        "free some space and run the same command again: what was done so far is kept",
    )


def _os_failure(exc: OSError, folder: Path) -> StoreError | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(folder)
    if exc.errno == errno.EROFS:
        return StoreError(f"the store is on a read-only file system ({folder})", WRITABLE_HINT)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StoreError(f"no permission to write {exc.filename or folder}", WRITABLE_HINT)
    return None


@contextmanager
def store_failures(folder: Path) -> Iterator[None]:
    """Re-raise SQLite and file-system failures under ``folder`` as StoreErrors."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _sqlite_failure(exc, folder) from None
    except OSError as exc:
        translated = _os_failure(exc, folder)
        if translated is None:
            raise
        raise translated from None
