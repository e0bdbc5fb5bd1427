"""Find the moments of a video that bear on a question: vectors + full text, fused, with neighbours.

Embeddings find paraphrases; SQLite full-text search finds the names, numbers and quotes that
embeddings miss. The two rankings are fused with reciprocal rank fusion, strong hits bring their
temporal neighbours, and each chosen chunk becomes evidence items with their own times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from longvid import words
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.models.base import Embedder, VisualEmbedder
from longvid.models.registry import reads_english_only

_RRF_K = 60
@dataclass
class Evidence:
    """A timestamped piece of text the answer may rest on."""

    start: float
    end: float
    text: str
    score: float
    source: str  # caption, transcript, ocr, visual, inspection or summary

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def query_terms(text: str) -> list[str]:
    """Words worth matching literally, in any script (see ``longvid.words.terms``)."""
    return words.terms(text)


def reads(embedder: Embedder, query: str) -> bool:
    """Whether the embedder reads the query's language (an English-only one reads English only)."""
    return words.question_language(query) in (None, "en") or not reads_english_only(embedder.info.spec)


def adaptive_k(chunks: int, top_k: int | None) -> int:
    """How many chunks to keep: the user's k, else more for longer videos (3 to 12)."""
    if top_k:
        return top_k
    return max(3, min(12, 3 + chunks // 40))


FrameHit = tuple[float, int, float]
"""A frame that matches a query: (time, chunk index, image–text similarity)."""


def frame_hits(
    memory: VideoMemory, visual: VisualEmbedder | None, query: str, limit: int
) -> list[FrameHit]:
    """Frames nearest to the query's text through the image–text encoder (none without one)."""
    if visual is None or not memory.has_frame_vectors():
        return []
    return memory.search_frames(visual.embed_texts([query])[0], limit)


def rank_chunks(
    memory: VideoMemory,
    embedder: Embedder,
    query: str,
    top_k: int | None = None,
    frames: list[FrameHit] | None = None,
) -> list[tuple[ChunkRecord, float]]:
    """The best chunks for ``query`` with fused scores in 0..1, best first.

    Rankings fused: text vectors, full text, and (given ``frames``) the chunks of matching frames.
    """
    count = memory.chunk_count()
    if count == 0:
        return []
    k = adaptive_k(count, top_k)
    semantic = memory.search_vectors(embedder.embed([query])[0], 2 * k)
    lexical = memory.lexical(query_terms(query), 2 * k)
    if lexical and not reads(embedder, query):  # its vectors would only add noise to full text
        semantic = []
    by_best_frame: dict[int, tuple[int, float]] = {}  # a chunk ranks where its best frame does
    for _, seen_in, score in frames or []:
        by_best_frame.setdefault(seen_in, (seen_in, score))
    visual = list(by_best_frame.values())
    fused = fuse([semantic, lexical, visual])
    best = (3.0 if visual else 2.0) / (_RRF_K + 1)  # first in every ranking
    for idx, _ in semantic[:2]:  # the moments just before and after a strong hit give context
        for neighbour in (idx - 1, idx + 1):
            if 0 <= neighbour < count and neighbour not in fused:
                fused[neighbour] = fused[idx] * 0.5
    ranked = sorted(fused.items(), key=lambda item: -item[1])[:k]
    out = []
    for idx, score in ranked:
        chunk = memory.chunk(idx)
        if chunk is not None:
            out.append((chunk, round(score / best, 4)))
    return out


def fuse(rankings: list[list[tuple[int, float]]]) -> dict[int, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (60 + rank) to the ids it holds."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (key, _) in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (_RRF_K + rank + 1)
    return fused


def visual_evidence(query: str, frames: list[FrameHit], scores: dict[int, float]) -> list[Evidence]:
    """The best frame of each chunk that ranked, as evidence timed at that frame."""
    items, seen = [], set()
    for time, chunk, similarity in frames:
        if chunk in scores and chunk not in seen:
            seen.add(chunk)
            text = f"a frame that looks like “{query}” (image–text similarity {similarity:.2f})"
            items.append(Evidence(time, time, text, round(scores[chunk] * 0.9, 4), "visual"))
    return items


def chunk_evidence(chunk: ChunkRecord, score: float, terms: list[str]) -> list[Evidence]:
    """A chunk as evidence: its caption, each speech line and each on-screen line, with times."""

    def boost(text: str) -> float:
        return round(score * (1 + 0.1 * words.matches(text, terms)), 4)

    items = []
    if chunk.caption.strip():
        items.append(Evidence(chunk.start, chunk.end, chunk.caption.strip(), score, "caption"))
    items += [
        Evidence(t.start, t.end, t.text, boost(t.text), "transcript") for t in chunk.transcript
    ]
    items += [Evidence(t.start, t.end, t.text, boost(t.text), "ocr") for t in chunk.screen_text]
    return items


def retrieve(
    memory: VideoMemory,
    embedder: Embedder,
    question: str,
    top_k: int | None = None,
    visual: VisualEmbedder | None = None,
) -> list[Evidence]:
    """Evidence for a question, best first (duplicates from overlapping chunks removed)."""
    terms = query_terms(question)
    seen: set[tuple[float, float, str]] = set()
    frames = frame_hits(memory, visual, question, 2 * adaptive_k(memory.chunk_count(), top_k))
    ranked = rank_chunks(memory, embedder, question, top_k, frames)
    evidence = visual_evidence(question, frames, {c.index: s for c, s in ranked})
    for chunk, score in ranked:
        for item in chunk_evidence(chunk, score, terms):
            key = (item.start, item.end, item.text)
            if key not in seen:
                seen.add(key)
                evidence.append(item)
    return sorted(evidence, key=lambda e: (-e.score, e.start))
