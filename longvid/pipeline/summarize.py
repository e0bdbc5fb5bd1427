"""Hierarchical summaries: chunk texts -> sections that fit the LLM's context -> one summary.

Cached in the memory per LLM (and per speakers' names, where speakers are known), so
``summarize`` and whole-video questions pay once. Speech lines carry their speakers when the
memory is read with them (``LabelledMemory``); ``summarize_speakers`` gives each voice its own
summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from longvid.memory.language import content_language
from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.models.base import ChatModel
from longvid.recall.citations import fix_citations
from longvid.recall.retrieve import Evidence
from longvid.timeline import hms
from longvid.words import LANGUAGE_NAMES

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
SPEAKER_PROMPT = (
    "You are given everything one speaker says in a video, with times. In a short paragraph, "
    "summarise this speaker's part: their role if it shows, their positions, claims, questions "
    "and decisions, in order. Cite times as [hh:mm:ss]. Do not invent anything."
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
    memory: VideoMemory,
    llm: ChatModel,
    progress: Callable[[int, int], None] | None = None,
    language: str | None = None,
) -> Summary:
    """The whole-video summary with its sections (from the cache when this LLM made one before),
    written in ``language`` (a name or ISO code; default: the language the video speaks)."""
    voices = SpeakerMemory(memory) if has_speakers(memory) else None
    tongue = in_language(language or content_language(memory))
    key = llm.info.spec + tongue
    if voices is not None:  # a name given later makes a new summary that uses it
        key += " | speakers " + ", ".join(f"{k}={v}" for k, v in sorted(voices.labels().items()))
    cached = memory.summary(key)
    if cached is not None:
        return Summary(cached[0], cached[1], cached=True)
    budget = _budget(llm)
    chunks = [c for c in memory.chunks() if c.text.strip()]
    notes = [(c.start, c.end, f"[{hms(c.start)}–{hms(c.end)}] {_text(c, voices is not None)}")
             for c in chunks]  # fmt: skip
    spans = [Evidence(c.start, c.end, c.text, 1.0, "caption") for c in chunks]

    def checked(text: str) -> str:  # times a model makes up are dropped
        return fix_citations(text, spans, chunks[-1].end, cite_best=False)[0]

    groups = _pack(notes, budget)
    sections = []
    for number, group in enumerate(groups, start=1):
        text = llm.chat(
            [
                {"role": "system", "content": SECTION_PROMPT + tongue},
                {"role": "user", "content": "\n".join(n for _, _, n in group)},
            ]
        )
        sections.append({"start": group[0][0], "end": group[-1][1], "summary": checked(text)})
        if progress:
            progress(number, len(groups))
    summary = (
        checked(_combine(llm, sections, budget, WHOLE_PROMPT + tongue))
        if sections
        else "Nothing was indexed for this video."
    )
    memory.save_summary(key, summary, sections)
    return Summary(summary, sections)


def _budget(llm: ChatModel) -> int:
    return max(2000, getattr(llm, "context_tokens", 4096) * _CHARS_PER_TOKEN // 2)


def _text(chunk: ChunkRecord, labelled: bool) -> str:
    """A chunk's note: its stored text, or with speakers known, one line per speech line (each
    carrying its speaker, as the memory reads it)."""
    if not labelled or not chunk.transcript:
        return chunk.text
    parts = [chunk.caption.strip(), *(t.text for t in chunk.transcript)]
    if chunk.screen_text:
        parts.append("On screen: " + " | ".join(t.text for t in chunk.screen_text))
    return "\n".join(p for p in parts if p)


def summarize_speakers(
    memory: VideoMemory, llm: ChatModel, language: str | None = None
) -> list[dict[str, Any]]:
    """Each speaker's part in the video, most talk first: ``{id, name, talk_s, turns, summary}``
    (``turns`` is their number here), in ``language`` (default: the video's). Empty where no
    speakers were found."""
    if not has_speakers(memory):
        return []
    prompt = SPEAKER_PROMPT + in_language(language or content_language(memory))
    voices = SpeakerMemory(memory)
    labels = voices.labels()
    said: dict[str, list[tuple[float, float, str]]] = {}
    for line in memory.transcript() or []:
        who = voices.speaker_of(line.start, line.end)
        if who:  # the header names the speaker: their lines go without the label
            text = line.text.removeprefix(f"{labels.get(who, who)}: ")
            said.setdefault(who, []).append((line.start, line.end, f"[{hms(line.start)}] {text}"))
    out = []
    budget = _budget(llm)
    for speaker in voices.speakers():
        mine = said.get(speaker.id, [])
        spans = [Evidence(a, b, t, 1.0, "transcript") for a, b, t in mine]
        text = ""
        if mine:
            parts = [_ask(llm, prompt, f"Speaker: {speaker.label}\n" + "\n".join(t for _, _, t in g))
                     for g in _pack(mine, budget)]  # fmt: skip
            text = fix_citations(" ".join(parts), spans, mine[-1][1], cite_best=False)[0]
        out.append({"id": speaker.id, "name": speaker.name, "talk_s": round(speaker.talk_s, 3),
                    "turns": len(speaker.turns), "summary": text})  # fmt: skip
    return out


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


def in_language(language: str | None) -> str:
    """" Write in Chinese." for ``zh`` or ``Chinese``; "" for English or none."""
    if not language or language.lower() in ("en", "english"):
        return ""
    return f" Write in {LANGUAGE_NAMES.get(language.lower(), language)}."


def _combine(llm: ChatModel, sections: list[dict[str, Any]], budget: int, whole: str) -> str:
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
        return _ask(llm, whole, "\n\n".join(t[:share] for _, _, t in items))
    if len(groups) > 1:
        merged = [
            {
                "start": g[0][0],
                "end": g[-1][1],
                "summary": _ask(llm, whole, "\n\n".join(t for _, _, t in g)),
            }
            for g in groups
        ]
        return _combine(llm, merged, budget, whole)
    return _ask(llm, whole, "\n\n".join(t for _, _, t in items))


def _ask(llm: ChatModel, system: str, user: str) -> str:
    return llm.chat(
        [{"role": "system", "content": system}, {"role": "user", "content": user}]
    ).strip()
