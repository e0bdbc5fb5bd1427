"""Hierarchical summaries: chunk texts -> sections that fit the LLM's context -> one summary.

Cached in the memory per LLM, so ``summarize`` and whole-video questions pay once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from longvid.memory.store import VideoMemory
from longvid.models.base import ChatModel
from longvid.recall.citations import fix_citations
from longvid.recall.retrieve import Evidence
from longvid.timeline import hms

SECTION_PROMPT = (
    "You summarise part of a video from timestamped notes (captions of what is seen, speech, "
    "on-screen text). Write a short factual paragraph: who, what, where, and what changes. "
    "Keep names, numbers and times; cite times as [hh:mm:ss]. Do not invent anything."
)
WHOLE_PROMPT = (
    "You are given summaries of consecutive sections of one video, with their times. Write a "
    "summary of the whole video in one or two paragraphs: what it is about, the main people, "
    "events and facts, in order. Cite times as [hh:mm:ss]. Do not invent anything."
)
_CHARS_PER_TOKEN = 3  # conservative, so a section always fits


@dataclass
class Summary:
    summary: str
    sections: list[dict[str, Any]]  # {"start", "end", "summary"}
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "sections": self.sections}


def summarize_memory(
    memory: VideoMemory, llm: ChatModel, progress: Callable[[int, int], None] | None = None
) -> Summary:
    """The whole-video summary with its sections (from the cache when this LLM made one before)."""
    cached = memory.summary(llm.info.spec)
    if cached is not None:
        return Summary(cached[0], cached[1], cached=True)
    budget = max(2000, getattr(llm, "context_tokens", 4096) * _CHARS_PER_TOKEN // 2)
    chunks = [c for c in memory.chunks() if c.text.strip()]
    notes = [(c.start, c.end, f"[{hms(c.start)}–{hms(c.end)}] {c.text}") for c in chunks]
    spans = [Evidence(c.start, c.end, c.text, 1.0, "caption") for c in chunks]

    def checked(text: str) -> str:  # times a model makes up are dropped
        return fix_citations(text, spans, chunks[-1].end, cite_best=False)[0]

    groups = _pack(notes, budget)
    sections = []
    for number, group in enumerate(groups, start=1):
        text = llm.chat(
            [
                {"role": "system", "content": SECTION_PROMPT},
                {"role": "user", "content": "\n".join(n for _, _, n in group)},
            ]
        )
        sections.append({"start": group[0][0], "end": group[-1][1], "summary": checked(text)})
        if progress:
            progress(number, len(groups))
    summary = (
        checked(_combine(llm, sections, budget))
        if sections
        else "Nothing was indexed for this video."
    )
    memory.save_summary(llm.info.spec, summary, sections)
    return Summary(summary, sections)


def _pack(
    items: list[tuple[float, float, str]], budget: int
) -> list[list[tuple[float, float, str]]]:
    """Consecutive groups of items whose texts add up to at most ``budget`` characters."""
    groups: list[list[tuple[float, float, str]]] = []
    size = 0
    for item in items:
        text = item[2][:budget]
        if not groups or size + len(text) > budget:
            groups.append([])
            size = 0
        groups[-1].append((item[0], item[1], text))
        size += len(text) + 1
    return groups


def _combine(llm: ChatModel, sections: list[dict[str, Any]], budget: int) -> str:
    """One summary from section summaries, recursing while they do not fit in one call."""
    if len(sections) == 1:
        return str(sections[0]["summary"])
    items = [
        (s["start"], s["end"], f"[{hms(s['start'])}–{hms(s['end'])}] {s['summary']}")
        for s in sections
    ]
    groups = _pack(items, budget)
    if len(groups) == len(items):  # each alone fills the budget: shorten them instead
        share = max(200, budget // len(items))
        return _ask(llm, WHOLE_PROMPT, "\n\n".join(t[:share] for _, _, t in items))
    if len(groups) > 1:
        merged = [
            {
                "start": g[0][0],
                "end": g[-1][1],
                "summary": _ask(llm, WHOLE_PROMPT, "\n\n".join(t for _, _, t in g)),
            }
            for g in groups
        ]
        return _combine(llm, merged, budget)
    return _ask(llm, WHOLE_PROMPT, "\n\n".join(t for _, _, t in items))


def _ask(llm: ChatModel, system: str, user: str) -> str:
    return llm.chat(
        [{"role": "system", "content": system}, {"role": "user", "content": user}]
    ).strip()
