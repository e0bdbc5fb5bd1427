"""Time arithmetic over a memory, so that a small model never has to count or subtract.

The memory knows the order and times of everything said, shown and captioned. A question's form
("right after X", "just before X", "how many times X", "how long between X and Y", "first / last
X") picks an operation; its anchors are found by retrieval, strictly first (a moment holding
every term of the anchor phrase), then relaxed (the best-ranked moment), as EGAgent's
time-interval queries are; the result is evidence lines that already say the order, the count or
the difference, put first in what the model reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from longvid import words
from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import VideoMemory
from longvid.models.base import Embedder
from longvid.recall.retrieve import Evidence, query_terms, retrieve
from longvid.timeline import hms

NEIGHBOURS = 3  # moments listed after (or before) an anchor
MAX_LISTED = 12  # occurrences listed by count / first / last


class Form(StrEnum):
    AFTER = "after"
    BEFORE = "before"
    COUNT = "count"
    TALK = "talk"
    BETWEEN = "between"
    ORDER = "order"


_FORMS: list[tuple[Form, re.Pattern[str]]] = [
    (Form.TALK, re.compile(r"\bhow (?:long|much|many times|often) (?:did|does|do) (?P<x>.+?) (?:speak|talk)\b"
                           r"|\bwho (?P<x2>spoke|talked|speaks|talks) (?:the )?(?:most|longest|least|first|last)\b"
                           r"|\b(?P<x3>talk(?:ing)?|speaking) time\b|(?P<x4>.+?)(?:说了多久|讲了多久|发言了多久)"
                           r"|谁(?P<x5>说|讲|发言)(?:得|的)?最(?:多|久)", re.I)),
    (Form.BETWEEN, re.compile(r"\bhow (?:long|much time|many (?:seconds|minutes))\b.*?\bbetween (?P<a>.+?) and (?P<b>.+?)[?.!]*$"
                              r"|\bhow (?:long|much time|many (?:seconds|minutes))\b.*?\bafter (?P<a2>.+?) (?:does|did|do|is|was) (?P<b2>.+?)[?.!]*$"
                              r"|(?P<a3>.+?)和(?P<b3>.+?)之间.*(?:多久|多长时间)", re.I)),
    (Form.COUNT, re.compile(r"\bhow (?:many times|often)\b (?:does |did |do |is |are |was |were )?(?P<x>.+?)[?.!]*$"
                            r"|\bhow many different (?P<x2>.+?)[?.!]*$|\bnumber of times (?P<x3>.+?)[?.!]*$"
                            r"|(?P<x4>.+?)(?:几次|多少次)", re.I)),
    (Form.AFTER, re.compile(r"\b(?:right |just |immediately |shortly )?(?:after|following) (?P<x>.+?)[?.!]*$"
                            r"|\bnext\b.*?\bafter (?P<x2>.+?)[?.!]*$|(?P<x3>.+?)之后", re.I)),
    (Form.BEFORE, re.compile(r"\b(?:right |just |immediately |shortly )?(?:before|prior to) (?P<x>.+?)[?.!]*$|(?P<x2>.+?)之前", re.I)),
    (Form.ORDER, re.compile(r"\b(?:the )?(?:first|last|earliest|latest|final) time (?P<x>.+?)[?.!]*$"
                            r"|\bwhen (?:does|did|is|was|do) (?P<x2>.+?) (?:first|last|for the (?:first|last) time)[?.!]*$"
                            r"|(?P<x3>.+?)第一次", re.I)),
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    """A question's time form and its anchor phrase(s)."""

    form: Form
    anchors: tuple[str, ...]


def parse(question: str) -> Query | None:
    """The question's time form and anchors, or None when it asks no relation in time."""
    for form, pattern in _FORMS:
        match = pattern.search(question.strip())
        if match:
            found = [v.strip(" ,") for v in match.groupdict().values() if v and v.strip(" ,")]
            if found:
                return Query(form, tuple(found[:2] if form is Form.BETWEEN else found[:1]))
    return None


def moments(memory: VideoMemory) -> list[Evidence]:
    """Everything the memory holds, in time order (speech, on-screen text, captions)."""
    items = []
    for chunk in memory.chunks():
        if chunk.caption.strip():
            items.append(Evidence(chunk.start, chunk.end, chunk.caption.strip(), 0.0, "caption"))
        items += [Evidence(t.start, t.end, t.text, 0.0, "transcript") for t in chunk.transcript]
        items += [Evidence(t.start, t.end, t.text, 0.0, "ocr") for t in chunk.screen_text]
    return sorted(items, key=lambda e: (e.start, e.end))


def _holds(item: Evidence, terms: list[str]) -> bool:
    return bool(terms) and words.matches(item.text, terms) == len(terms)


def _terms(phrase: str) -> list[str]:
    return [re.sub(r"'s$", "", t) for t in query_terms(phrase)]


def locate(memory: VideoMemory, embedder: Embedder, phrase: str,
           everything: list[Evidence]) -> Evidence | None:  # fmt: skip
    """The moment ``phrase`` names among ``everything`` (``moments(memory)``): strictly, the one
    holding all its terms (then most of them), best-ranked first; relaxed, the best-ranked one."""
    ranked = [e for e in retrieve(memory, embedder, phrase, 5) if e.source != "visual"]
    terms = _terms(phrase)
    order = {(e.start, e.text): n for n, e in enumerate(ranked)}
    scored = [(words.matches(m.text, terms), m) for m in everything]
    best = max((n for n, _ in scored), default=0)
    if best:
        held = [m for n, m in scored if n == best]
        return min(held, key=lambda m: (order.get((m.start, m.text), len(order)), m.start))
    return ranked[0] if ranked else None


def _span(seconds: float) -> str:
    whole = round(abs(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{secs} s"]
    return " ".join(parts)


def _line(item: Evidence) -> str:
    return f"[{hms(item.start)}] {' '.join(item.text.split())}"


def answer_evidence(memory: VideoMemory, embedder: Embedder, question: str) -> list[Evidence]:
    """The timeline operation a question's form asks for, as evidence: one line that states the
    result (source ``timeline``) followed by the moments it rests on. Empty when the question
    asks no relation in time or no anchor is found."""
    query = parse(question)
    if query is None:
        return []
    everything = [] if query.form is Form.TALK else moments(memory)  # read once, used below
    if query.form is Form.BETWEEN:
        first, second = (locate(memory, embedder, a, everything) for a in query.anchors[:2])
        if first is None or second is None or len(query.anchors) < 2:
            return []
        gap = second.start - first.start
        text = (f"{query.anchors[0]!r} at {hms(first.start)}, {query.anchors[1]!r} at "
                f"{hms(second.start)}: {_span(gap)} {'later' if gap >= 0 else 'earlier'}")  # fmt: skip
        return [_result(first.start, second.end, text), first, second]
    if query.form in (Form.AFTER, Form.BEFORE):
        anchor = locate(memory, embedder, query.anchors[0], everything)
        if anchor is None:
            return []
        if query.form is Form.AFTER:
            near = [m for m in everything if m.start >= anchor.end - 0.05 and m.text != anchor.text]
            near = near[:NEIGHBOURS]
        else:
            near = [m for m in everything if m.end <= anchor.start + 0.05 and m.text != anchor.text]
            near = near[-NEIGHBOURS:][::-1]
        if not near:
            return []
        listed = "; ".join(f"{n + 1}) {_line(m)}" for n, m in enumerate(near))
        text = f"{query.form.value} the moment at [{hms(anchor.start)}], in order: {listed}"
        span = (anchor.start, near[-1].end) if query.form is Form.AFTER else (near[-1].start, anchor.end)
        return [_result(*span, text), *near]  # the anchor itself is not the answer
    if query.form is Form.TALK:
        return talk_evidence(memory, query.anchors[0])
    terms = _terms(query.anchors[0])
    hits = [m for m in everything if _holds(m, terms)]
    for term in sorted(terms, key=len, reverse=True) if not hits else []:  # relaxed: one term
        hits = [m for m in everything if _holds(m, [term])]
        if hits:
            break
    if not hits:
        return []
    listed = "; ".join(_line(m) for m in hits[:MAX_LISTED])
    if query.form is Form.COUNT:
        text = f"{len(hits)} moments mention {query.anchors[0]!r}: {listed}"
    else:
        text = (f"{query.anchors[0]!r}: first at {hms(hits[0].start)}, last at {hms(hits[-1].start)}"
                f" ({len(hits)} in all): {listed}")  # fmt: skip
    return [_result(hits[0].start, hits[-1].end, text), *hits[:MAX_LISTED]]


def talk_evidence(memory: VideoMemory, who: str) -> list[Evidence]:
    """Talk time and turns per speaker, most first (the one the question names first of all)."""
    if not has_speakers(memory):
        return []
    speakers = SpeakerMemory(memory).speakers()
    asked = who.lower()
    named = [s for s in speakers if s.id.lower() == asked or (s.name and s.name.lower() in asked)]
    ordered = named[:1] + [s for s in speakers if s not in named[:1]]
    listed = "; ".join(
        f"{s.label}: {_span(s.talk_s)} in {len(s.turns)} turn{'s' * (len(s.turns) != 1)}"
        + (f" (first [{hms(s.turns[0][0])}], last [{hms(s.turns[-1][0])}])" if s.turns else "")
        for s in ordered
    )
    everyone = [t for s in speakers for t in s.turns]
    start, end = (min(a for a, _ in everyone), max(b for _, b in everyone)) if everyone else (0.0, 0.0)
    return [_result(start, end, f"talk time by speaker ({len(speakers)} speakers): {listed}")]


def _result(start: float, end: float, text: str) -> Evidence:
    return Evidence(start, max(start, end), text, 1.0, "timeline")
