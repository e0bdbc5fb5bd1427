"""``search``: moments matching a query, in one video or across the whole store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError
from longvid.memory.library import memories
from longvid.memory.library_index import LibraryIndex
from longvid.memory.speakers import SpeakerMemory, has_speakers, overlaps_any
from longvid.memory.store import VideoMemory
from longvid.models.base import Embedder, VisualEmbedder
from longvid.recall.retrieve import adaptive_k, frame_hits, fuse, query_terms, rank_chunks
from longvid.timeline import hms


@dataclass
class Moment:
    """A stretch of a video that matches a query."""

    video: str
    start: float
    end: float
    score: float
    text: str
    source: str = "text"  # "visual": found by how a frame looks (start = end = its time)
    speakers: list[str] = field(default_factory=list)  # who talks in it (names once given), most first

    def to_dict(self) -> dict[str, Any]:
        """The moment; ``speakers`` only where the video's speakers are known."""
        out = asdict(self)
        if not self.speakers:
            del out["speakers"]
        return out


def search_memory(
    memory: VideoMemory,
    embedder: Embedder,
    query: str,
    top_k: int | None = None,
    visual: VisualEmbedder | None = None,
    speaker: str | None = None,
) -> list[Moment]:
    """The best moments of one video, best first; with ``speaker`` (id or name), only those in
    which that voice talks (an unknown speaker is an error listing the known ones).

    A chunk found only through its frames' look is a visual moment at its best frame's time.
    """
    video = (memory.meta("paths") or ["?"])[-1]
    voices = SpeakerMemory(memory) if has_speakers(memory) else None
    if speaker is not None:
        if voices is None:
            raise LongvidError(f"{video}: no speakers found yet", f"run: longvid speakers {video}")
        who = voices.resolve(speaker)
        ranges = voices.ranges(who)
        limit = top_k or adaptive_k(memory.chunk_count(), None)
        top_k = 4 * limit  # enough left once the other voices' moments are dropped
    frames = frame_hits(memory, visual, query, 2 * adaptive_k(memory.chunk_count(), top_k))
    ranked = rank_chunks(memory, embedder, query, top_k, frames)
    best_frame = {c: t for t, c, _ in reversed(frames)}
    by_text: set[int] = set()
    if best_frame:  # only then can a moment be visual: which chunks did the text find too?
        by_text = {i for i, _ in memory.search_vectors(embedder.embed([query])[0], 2 * len(ranked))}
        by_text |= {i for i, _ in memory.lexical(query_terms(query), 2 * len(ranked))}
    moments = []
    for chunk, score in ranked:
        if chunk.index in best_frame and chunk.index not in by_text:
            t = best_frame[chunk.index]
            text = f"frame at {hms(t)} looks like the query; {chunk.text}".strip("; ")
            moments.append(Moment(video, t, t, score, text, "visual"))
        else:
            moments.append(Moment(video, chunk.start, chunk.end, score, chunk.text))
    if voices is None:
        return moments
    if speaker is not None:
        moments = [m for m in moments if overlaps_any(m.start, m.end + 1e-3, ranges)][:limit]
        moments = _their_lines(memory, voices, who, moments, embedder, query)
    for moment in moments:
        moment.speakers = talking(voices, moment.start, moment.end)
    return moments


def _their_lines(
    memory: VideoMemory,
    voices: SpeakerMemory,
    who: str,
    moments: list[Moment],
    embedder: Embedder,
    query: str,
) -> list[Moment]:
    """Each moment narrowed to the line of ``who`` in it nearest the query (by meaning and its
    words); a moment with none of their lines, or found by a frame's look, stays as it is."""
    import numpy as np

    wanted = embedder.embed([query])[0]
    terms = query_terms(query)
    out = []
    for moment in moments:
        lines = [t for c in memory.chunks_between(moment.start, max(moment.end, moment.start + 1e-3))
                 for t in c.transcript if voices.speaker_of(t.start, t.end) == who]  # fmt: skip
        if moment.source == "visual" or not lines:
            out.append(moment)
            continue
        scores = embedder.embed([t.text for t in lines]) @ wanted  # + the query's words in it
        scores += [0.1 * sum(w.lower() in t.text.lower() for w in terms) for t in lines]
        best = lines[int(np.argmax(scores))]
        out.append(Moment(moment.video, best.start, best.end, moment.score, best.text))
    return out


def talking(voices: SpeakerMemory, start: float, end: float) -> list[str]:
    """Who talks in ``start``..``end`` (a visual moment: at that time), most talk first."""
    end = max(end, start + 1e-3)
    talk: dict[str, float] = {}
    for a, b, who in voices.turns(start, end):
        talk[who] = talk.get(who, 0.0) + min(b, end) - max(a, start)
    labels = voices.labels()
    return [labels.get(w, w) for w in sorted(talk, key=lambda w: -talk[w])]


def search_library(
    root: Path,
    query: str,
    top_k: int,
    embedder_for: Callable[[str], Embedder],
    visual_for: Callable[[str | None], VisualEmbedder | None] = lambda spec: None,
) -> list[Moment]:
    """The best moments across every complete memory in the store (newest memory per video).

    Through the library index when it is fresh (after joining memories completed since, if
    any); else by searching each memory in turn.
    """
    library = LibraryIndex(root)
    if _caught_up(library):
        return library_moments(library, query, top_k, embedder_for, visual_for)
    newest: dict[str, str] = {}
    for summary in memories(root):
        if summary.status == "complete":
            newest.setdefault(summary.id, summary.folder)
    found: list[Moment] = []
    for folder in newest.values():
        memory = VideoMemory(Path(folder))
        try:
            settings = memory.meta("settings")
            found += search_memory(memory, embedder_for(settings["embedder"]), query, top_k,
                                   visual_for(settings.get("visual_embedder")))  # fmt: skip
        finally:
            memory.close()
    return sorted(found, key=lambda m: -m.score)[:top_k]


def _caught_up(library: LibraryIndex) -> bool:
    """Whether the library is fresh, once memories that completed unjoined have joined."""
    if library.fresh():
        return True
    if not (library.folder / "entries.sqlite").is_file():
        return False  # never built: ``longvid library rebuild`` makes it
    try:
        library.update()
    except LongvidError:  # a read-only store, a full disk: search each memory instead
        return False
    return library.fresh()


def library_moments(
    library: LibraryIndex,
    query: str,
    top_k: int,
    embedder_for: Callable[[str], Embedder],
    visual_for: Callable[[str | None], VisualEmbedder | None] = lambda spec: None,
) -> list[Moment]:
    """The library index's best chunks: text vectors per embedder, full text and frame vectors
    per image–text encoder, fused by rank. A chunk found only by how a frame looks is a visual
    moment at that frame's time, as in ``search_memory``."""
    texts = [library.nearest(spec, embedder_for(spec).embed([query])[0], 2 * top_k)
             for spec in library.specs()]  # fmt: skip
    texts.append(library.lexical(query_terms(query), 2 * top_k))
    frames = []
    for spec in library.specs(frames=True):
        visual = visual_for(spec)
        if visual is not None:
            frames.append(library.nearest_frames(spec, visual.embed_texts([query])[0], 2 * top_k))
    best_frame: dict[int, float] = {}  # entry -> its best frame's time
    by_frame = []  # per encoder: entries ranked by their best frame
    for hits in frames:
        ranking: dict[int, tuple[int, float]] = {}
        for entry, t, score in hits:
            ranking.setdefault(entry, (entry, score))
            best_frame.setdefault(entry, t)
        by_frame.append(list(ranking.values()))
    fused = sorted(fuse(texts + by_frame).items(), key=lambda item: -item[1])[:top_k]
    entries = library.entries([i for i, _ in fused])
    by_text = {i for ranking in texts for i, _ in ranking}
    best = (len(texts) + len(frames)) / (60 + 1) if texts or frames else 1.0
    moments = []
    for i, score in fused:
        if i not in entries:
            continue
        found = entries[i]
        if i in best_frame and i not in by_text:
            t = best_frame[i]
            text = f"frame at {hms(t)} looks like the query; {found['text']}".strip("; ")
            moments.append(Moment(found["video"], t, t, round(score / best, 4), text, "visual"))
        else:
            moments.append(Moment(**found, score=round(score / best, 4)))
    return moments
