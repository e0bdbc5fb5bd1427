"""A long video in parts: cut at keyframes, each part indexed on its own, then merged into one.

The cut is decided once, when the memory is new, and recorded in it; every later run (a Ray
worker, a plain ``longvid index`` resuming) follows that record. Parts can be indexed by many
workers at once, each under the part's own lock; whoever finishes the video indexes the parts
still missing, in turn, and merges them all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from longvid.media.keyframes import keyframe_spans
from longvid.media.probe import VideoInfo
from longvid.memory.failures import store_failures
from longvid.memory.library import folder_lock
from longvid.memory.parts import merge_part, merged_parts, part_folder, remove_parts
from longvid.memory.store import VideoMemory
from longvid.pipeline.build import IndexModels, IndexOptions, build_memory
from longvid.progress import Progress, Stage
from longvid.timeline import Span


def plan_parts(path: Any, info: VideoInfo, memory: VideoMemory, part_s: float | None) -> list[Span]:
    """The video's parts as recorded in its memory, or cut now if it is new and longer than
    ``part_s`` seconds. An empty list means the video is indexed whole."""
    recorded = memory.meta("parts")
    if recorded is not None:
        return [Span(start, end) for start, end in recorded]
    if not part_s or info.duration <= part_s or memory.chunk_count():
        return []
    spans = keyframe_spans(path, part_s, info.duration)
    if len(spans) < 2:
        return []
    with memory.transaction():
        memory.set_meta("parts", [[s.start, s.end] for s in spans])
        memory.set_meta("status", "indexing")
    return spans


def index_part(
    path: str | os.PathLike[str],
    info: VideoInfo,
    folder: Path,
    number: int,
    span: Span,
    models: IndexModels,
    options: IndexOptions,
    wait_s: float | None = None,
    report: Progress | None = None,
) -> int:
    """Index part ``number`` of the video whose memory is ``folder`` (resuming it); returns the
    chunks computed in this run."""
    report = report or (lambda stage, done, total: None)
    where = part_folder(folder, number)
    with folder_lock(where, wait_s, on_wait=lambda: report(Stage.WAITING, 0, None)):
        part = VideoMemory(where)
        try:
            with store_failures(where):
                if part.status == "complete":
                    return 0
                computed, _ = build_memory(path, info, part, models, options, report, span)
                with part.transaction():
                    part.set_meta("status", "complete")
                return computed
        finally:
            part.close()


def index_parts(
    path: str | os.PathLike[str],
    info: VideoInfo,
    memory: VideoMemory,
    spans: list[Span],
    models: IndexModels,
    options: IndexOptions,
    wait_s: float | None,
    report: Progress,
) -> tuple[int, float]:
    """Index the parts not yet merged (in turn), merge them all, and build the video's vector
    index. Returns (chunks computed in this run, seconds decoded to)."""
    computed = 0
    for number in range(merged_parts(memory), len(spans)):
        computed += index_part(path, info, memory.folder, number, spans[number], models, options,
                               wait_s, report)  # fmt: skip
        merge_part(memory, number)
    memory.write_index()
    remove_parts(memory)
    return computed, float(memory.meta("scan", {}).get("duration", info.duration))
