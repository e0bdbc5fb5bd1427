"""``search``: moments matching a query, in one video or across the whole store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from longvid.memory.library import memories
from longvid.memory.store import VideoMemory
from longvid.models.base import Embedder
from longvid.pipeline.retrieve import rank_chunks


@dataclass
class Moment:
    """A stretch of a video that matches a query."""

    video: str
    start: float
    end: float
    score: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def search_memory(
    memory: VideoMemory, embedder: Embedder, query: str, top_k: int | None = None
) -> list[Moment]:
    """The best moments of one video, best first."""
    video = (memory.meta("paths") or ["?"])[-1]
    return [
        Moment(video, c.start, c.end, s, c.text)
        for c, s in rank_chunks(memory, embedder, query, top_k)
    ]


def search_library(
    root: Path, query: str, top_k: int, embedder_for: Callable[[str], Embedder]
) -> list[Moment]:
    """The best moments across every complete memory in the store (newest memory per video)."""
    newest: dict[str, str] = {}
    for summary in memories(root):
        if summary.status == "complete":
            newest.setdefault(summary.id, summary.folder)
    found: list[Moment] = []
    for folder in newest.values():
        memory = VideoMemory(Path(folder))
        try:
            found += search_memory(
                memory, embedder_for(memory.meta("settings")["embedder"]), query, top_k
            )
        finally:
            memory.close()
    return sorted(found, key=lambda m: -m.score)[:top_k]
