"""Captions after the index: for the chunks a question needs, or for all a lazy index left.

``index --captions lazy`` stores speech, on-screen text and frames at decode speed and leaves
the video LLM's captions for later (``memory.captions``). ``caption_for_question`` captions the
few uncaptioned chunks a question ranks best before it is answered; ``caption_pending`` captions
the rest (``index``, or the background job of ``--captions background``). Each caption is stored
at once, with the chunk's new search text and vector, so the next question gets it free.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from longvid.media.frames import DEFAULT_MAX_SIDE, sample_frames
from longvid.memory.captions import fill, pending
from longvid.memory.library_index import LibraryIndex
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, Embedder, VisualEmbedder
from longvid.pipeline.build import HeldViews, caption_batch, chunk_text, note_reused
from longvid.pipeline.jobs import ChunkJob
from longvid.plan import Chunk
from longvid.progress import Progress, Stage
from longvid.recall.retrieve import frame_hits, rank_chunks

ON_DEMAND = 3
"""Uncaptioned chunks captioned for one question, at most: its best-ranked ones."""


def caption_pending(
    path: str | os.PathLike[str],
    memory: VideoMemory,
    captioner: Captioner,
    embedder: Embedder,
    progress: Progress | None = None,
) -> int:
    """Caption every chunk still waiting for its caption, in time order; returns how many."""
    waiting = pending(memory)
    report = progress or (lambda stage, done, total: None)
    done = 0
    views = HeldViews()  # a held view reuses its neighbour's caption, as the index does
    size = max(1, captioner.batch_size)
    for first in range(0, len(waiting), size):
        done += _caption(path, memory, captioner, embedder, waiting[first : first + size], views)
        report(Stage.CHUNKS, done, len(waiting))
    return done


def fill_in_captions(
    path: str | os.PathLike[str],
    memory: VideoMemory,
    captioner: Captioner,
    embedder: Embedder,
    root: Path,
    progress: Progress | None = None,
    join_library: bool = True,
) -> int:
    """``caption_pending``, then the memory's new texts in the library index (``search --all``):
    marked as changed, and joined now unless a batch joins them at its end."""
    done = caption_pending(path, memory, captioner, embedder, progress)
    if done:
        library = LibraryIndex(root)
        library.mark_changed(memory.folder)
        if join_library:
            library.add(memory)
    return done


def caption_for_question(
    path: str | os.PathLike[str],
    memory: VideoMemory,
    question: str,
    captioner: Captioner,
    embedder: Embedder,
    visual: VisualEmbedder | None = None,
    top_k: int | None = None,
) -> int:
    """Caption the uncaptioned chunks among the question's ``ON_DEMAND`` best before it is
    answered; returns how many."""
    waiting = set(pending(memory))
    if not waiting:
        return 0
    frames = frame_hits(memory, visual, question, 2 * (top_k or ON_DEMAND))
    ranked = rank_chunks(memory, embedder, question, top_k, frames)
    needed = [chunk.index for chunk, _ in ranked[:ON_DEMAND] if chunk.index in waiting]
    return _caption(path, memory, captioner, embedder, sorted(needed), HeldViews()) if needed else 0


def _caption(
    path: str | os.PathLike[str],
    memory: VideoMemory,
    captioner: Captioner,
    embedder: Embedder,
    indices: list[int],
    views: HeldViews,
) -> int:
    """Decode the frames each chunk was planned with, caption them, store the captions."""
    settings: dict[str, Any] = memory.meta("settings") or {}
    new_tokens = (settings.get("budget") or {}).get("new_tokens")
    if new_tokens and hasattr(captioner, "max_new_tokens"):
        captioner.max_new_tokens = int(new_tokens)  # the CPU budget the memory was planned with
    side = int(settings.get("frame_side", DEFAULT_MAX_SIDE))
    stored = (VideoMemory.chunk(memory, i) for i in indices)  # as stored: without speakers' labels
    records = [r for r in stored if r is not None]
    jobs = [ChunkJob(Chunk(r.index, r.start, r.end, r.first_shot, r.last_shot, tuple(r.frame_times)),
                     sample_frames(path, r.frame_times, side)) for r in records]  # fmt: skip
    reused = caption_batch(jobs, records, captioner, views)
    texts = [chunk_text(r) for r in records]
    vectors = iter(embedder.embed([t for t in texts if t]))
    for record, text in zip(records, texts, strict=True):
        fill(memory, record.index, record.caption, text, next(vectors) if text else None)
    note_reused(memory, reused)
    memory.write_index()
    return len(records)
