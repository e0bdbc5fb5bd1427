"""Many videos under one store root: find memories, list them, lock a video while indexing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError
from longvid.memory.failures import DamagedMemoryError, StoreError
from longvid.memory.fingerprint import fingerprint
from longvid.memory.store import VideoMemory, settings_key


class LockedError(LongvidError):
    """Another process is indexing the same video."""


@dataclass(frozen=True)
class MemorySummary:
    """What ``longvid list`` shows for one memory."""

    id: str
    settings_key: str
    status: str
    paths: list[str]
    duration: float | None
    chunks: int
    settings: dict[str, Any]
    updated: float | None
    folder: str
    problem: str | None = None  # why a damaged memory cannot be read

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def video_folder(root: Path, fingerprint: str) -> Path:
    return root / "videos" / fingerprint


def memory_folder(root: Path, fingerprint: str, settings: dict[str, Any]) -> Path:
    """Where the memory of a video under one set of settings lives."""
    return video_folder(root, fingerprint) / settings_key(settings)


@contextmanager
def video_lock(
    root: Path, fingerprint: str, wait_s: float | None, on_wait: Any = None
) -> Iterator[None]:
    """Hold the video's lock; wait up to ``wait_s`` seconds (None: forever) if another holds it."""
    with folder_lock(video_folder(root, fingerprint), wait_s, on_wait):
        yield


@contextmanager
def folder_lock(folder: Path, wait_s: float | None, on_wait: Any = None) -> Iterator[None]:
    """Hold ``folder``'s lock file (one writer: a video, or one part of a long video)."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None:
            on_wait()
        try:
            lock.acquire(timeout=-1 if wait_s is None else wait_s)
        except Timeout:
            raise LockedError(
                f"another longvid process is indexing this video ({folder})",
                "wait for it to finish, or pass a longer --wait",
            ) from None
    try:
        yield
    finally:
        lock.release()


def memories(root: Path, fingerprint: str | None = None) -> list[MemorySummary]:
    """Every memory in the store (or of one video), newest first."""
    pattern = f"videos/{fingerprint or '*'}/*/memory.sqlite"
    found = []
    for database in root.glob(pattern):
        try:
            memory = VideoMemory(database.parent)
        except StoreError as exc:  # one damaged memory must not hide the others
            found.append(MemorySummary(id=database.parent.parent.name, settings_key=database.parent.name,
                                       status="damaged", paths=[], duration=None, chunks=0, settings={},
                                       updated=None, folder=str(database.parent), problem=str(exc)))  # fmt: skip
            continue
        try:
            info = memory.meta("video", {}) or {}
            found.append(
                MemorySummary(
                    id=str(memory.meta("fingerprint")),
                    settings_key=database.parent.name,
                    status=memory.status,
                    paths=list(memory.meta("paths", [])),
                    duration=info.get("duration"),
                    chunks=memory.chunk_count(),
                    settings=memory.meta("settings", {}),
                    updated=memory.meta("updated"),
                    folder=str(database.parent),
                )
            )
        finally:
            memory.close()
    return sorted(found, key=lambda m: m.updated or 0.0, reverse=True)


def remove_memory(folder: Path) -> None:
    """Delete one memory folder (used by --force)."""
    shutil.rmtree(folder, ignore_errors=True)


class NotIndexedError(LongvidError):
    """The video has no memory in the store yet."""


def open_memory(root: Path, video: str) -> VideoMemory:
    """The newest complete memory of ``video`` (found by content); else NotIndexedError."""
    if not Path(video).is_file():
        raise LongvidError(f"{video}: no such file", "check the path")
    found = memories(root, fingerprint(video))
    complete = [m for m in found if m.status == "complete"]
    damaged = [m for m in found if m.status == "damaged"]
    if not complete and damaged:
        raise DamagedMemoryError(
            str(damaged[0].problem).split(" — ")[0],
            f"rebuild it with: longvid index --force {video}",
        )
    if not complete:
        state = "only partly indexed" if found else "not indexed"
        raise NotIndexedError(f"{video}: {state}", f"run: longvid index {video}  (or pass --index)")
    return VideoMemory(Path(complete[0].folder))
