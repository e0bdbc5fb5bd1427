"""Time arithmetic over a memory, so that a small model never has to count or subtract.

The memory knows the order and times of everything said, shown and captioned. A question's form
("right after X", "just before X", "how many times X", "how long between X and Y", "which comes
first: X or Y", "first / last X") picks an operation; its anchors are found by retrieval,
strictly first (the one moment holding every term of the anchor phrase that the memory holds at
all), then relaxed (the best-ranked moment), as EGAgent's time-interval queries are. The result
is evidence lines that already say the order, the count or the difference, put first in what the
model reads; when every anchor was found strictly, it is also an answer the system computed
(``Finding.answer``, made a reply in ``recall.computed``).
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
    EARLIER = "earlier"  # which of two comes first (or last)


_FORMS: list[tuple[Form, re.Pattern[str]]] = [
    (Form.TALK, re.compile(r"\bhow (?:long|much|many times|often) (?:did|does|do) (?P<x>.+?) (?:speak|talk)\b"
                           r"|\bwho (?P<x2>spoke|talked|speaks|talks) (?:the )?(?:most|longest|least|first|last)\b"
                           r"|\b(?P<x3>talk(?:ing)?|speaking) time\b|(?P<x4>.+?)(?:说了多久|讲了多久|发言了多久)"
                           r"|谁(?P<x5>说|讲|发言)(?:得|的)?最(?:多|久)", re.I)),
    (Form.BETWEEN, re.compile(r"\bhow (?:long|much time|many (?:seconds|minutes))\b.*?\bbetween (?P<a>.+?) and (?P<b>.+?)[?.!]*$"
                              r"|\bhow (?:long|much time|many (?:seconds|minutes))\b.*?\bafter (?P<a2>.+?) (?:does|did|do|is|was) (?P<b2>.+?)[?.!]*$"
                              r"|(?P<a3>.+?)和(?P<b3>.+?)之间.*(?:多久|多长时间)", re.I)),
    (Form.EARLIER, re.compile(r"\bwhich\b.*?\b(?:first|earlier|sooner|last|later)\b\s*[:,]?\s*(?P<a>.+?),? or (?P<b>.+?)[?.!]*$"
                              r"|\b(?:does|did|is|was|do) (?P<a2>.+?),? or (?P<b2>.+?) (?:come|happen|appear|occur)s? (?:first|earlier|last|later)\b"
                              r"|(?P<a3>.+?)还是(?P<b3>.+?)(?:先|在前)", re.I)),
    (Form.COUNT, re.compile(r"\bhow (?:many times|often)\b (?:does |did |do |is |are |was |were )?(?P<x>.+?)[?.!]*$"
                            r"|\bhow many different (?P<x2>.+?)[?.!]*$|\bnumber of times (?P<x3>.+?)[?.!]*$"
                            r"|(?P<x4>.+?)(?:几次|多少次)"
                            r"|\bhow many (?P<x5>.+?) (?:are|were|is|was|get|got) (?:announced|mentioned|said|named|"
                            r"called|listed)\b", re.I)),
    (Form.AFTER, re.compile(r"\b(?:(?:right |just |immediately |shortly )?after|(?:right |just |immediately |directly )following) (?P<x>.+?)[?.!]*$"
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
    last: bool = False  # "the last time X", "which comes later": the later moment answers
    direct: bool = True  # it asks for the result itself ("what comes right after X", not "who does Y after X")


_OPTIONS = re.compile(r"^\s*(?:options|choices)\s*:", re.I | re.M)
_ASKS_WHAT = re.compile(  # the moment itself ("what is said right after X"), not "what did she do after X"
    r"^\W*(?:what|which(?: \w+)?)\s+(?:is|was|are|were|gets|got|happens|happened|comes|came|follows|"
    r"followed|(?:do|did) we (?:see|hear))\b|(?:之后|之前)(?:说|发生|出现|播放|播|是|有)了?什么", re.I)
_ASKS_WHEN = re.compile(rf"^\W*(?:when|at what time)\b|几点|何时|什么时候|{_ASKS_WHAT.pattern}", re.I)
_LAST = re.compile(r"\b(?:last|later|latest|final)\b|最后", re.I)
_REFERENT = re.compile(r"^(?:the )?ones? (?=to |of |with |from |in |at |that |who |which )", re.I)


def parse(question: str) -> Query | None:
    """The question's time form and anchors, or None when it asks no relation in time. Only the
    question is read, line by line: lettered options after an ``Options:`` line are not."""
    lines = _OPTIONS.split(question, maxsplit=1)[0].strip().splitlines()
    for line in (raw.strip() for raw in lines):
        for form, pattern in _FORMS:
            match = pattern.search(line)
            groups = [g for g, v in (match.groupdict() if match else {}).items() if v and v.strip(" ,")]
            if groups:
                pair = form in (Form.BETWEEN, Form.EARLIER)
                anchors = tuple(_REFERENT.sub("", match[g].strip(" ,")) for g in groups[: 2 if pair else 1])  # type: ignore[index]
                rest = line  # "last" / "later" said of the moment asked for, not inside an anchor
                for group in groups:
                    rest = rest.replace(match[group], " ")  # type: ignore[index]
                asks = {Form.AFTER: _ASKS_WHAT, Form.BEFORE: _ASKS_WHAT, Form.ORDER: _ASKS_WHEN}.get(form)
                direct = asks is None or asks.search(line) is not None
                return Query(form, anchors, _LAST.search(rest) is not None, direct)
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


@dataclass(frozen=True)
class Finding:
    """What a time operation found: its evidence (the result line first, then the moments it
    rests on) and, when every anchor was held strictly by one moment, the answer it computed:
    ``answer`` the moment (or result line) that answers, ``number`` a count or a span in seconds."""

    query: Query
    evidence: list[Evidence]
    answer: Evidence | None = None
    number: float | None = None


SAME_MOMENT_S = 5.0
"""Items this close together are one moment (the same words said and shown on screen)."""


DESCRIBING = frozenset(
    {"announcement", "announce", "mention", "moment", "time", "scene", "shot", "segment", "one",
     "say", "said", "speak", "spoken", "appear", "appearance", "hear", "heard", "shown", "displayed"}
)  # fmt: skip
"""Words that describe a moment's kind ("the announcements of the boats to X"), not its content:
left out of an anchor's terms."""


def _singular(term: str) -> str:
    if len(term) > 4 and term.endswith("es") and term[:-2].endswith(("x", "ch", "sh", "ss", "z")):
        return term[:-2]
    return term[:-1] if len(term) > 3 and term.endswith("s") and not term.endswith(("ss", "us", "is")) else term


def _terms(phrase: str) -> list[str]:
    """An anchor's terms, plurals as their singular, words that describe a moment's kind left out."""
    terms = [_singular(re.sub(r"'s$", "", t)) for t in query_terms(phrase)]
    return [t for t in terms if t not in DESCRIBING]


def _holds(item: Evidence, terms: list[str]) -> bool:
    return bool(terms) and words.matches_whole(item.text, terms) == len(terms)


def _one_moment(items: list[Evidence]) -> bool:
    return bool(items) and items[-1].start - items[0].start <= SAME_MOMENT_S


def locate(memory: VideoMemory, embedder: Embedder, phrase: str,
           everything: list[Evidence]) -> tuple[Evidence | None, bool]:  # fmt: skip
    """The moment ``phrase`` names among ``everything`` (``moments(memory)``), and whether it was
    found strictly: strictly, the one moment holding every term of the phrase (then most of them),
    best-ranked first; relaxed, the best-ranked one."""
    ranked = [e for e in retrieve(memory, embedder, phrase, 5) if e.source != "visual"]
    terms = _terms(phrase)
    order = {(e.start, e.text): n for n, e in enumerate(ranked)}
    scored = [(words.matches_whole(m.text, terms), m) for m in everything]
    best = max((n for n, _ in scored), default=0)
    if best:
        held = [m for n, m in scored if n == best]
        found = min(held, key=lambda m: (order.get((m.start, m.text), len(order)), m.start))
        return found, best == len(terms) and _one_moment(held)
    return (ranked[0] if ranked else None), False


def duration_text(seconds: float) -> str:
    """A duration as people say it: "13 min 30 s"."""
    whole = round(abs(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{secs} s"] * bool(secs or whole < 60)
    return " ".join(parts)


def _line(item: Evidence) -> str:
    return f"[{hms(item.start)}] {' '.join(item.text.split())}"


def answer_evidence(memory: VideoMemory, embedder: Embedder, question: str) -> list[Evidence]:
    """The timeline operation a question's form asks for, as evidence: one line that states the
    result (source ``timeline``) followed by the moments it rests on. Empty when the question
    asks no relation in time or no anchor is found."""
    found = find(memory, embedder, question)
    return found.evidence if found else []


def find(memory: VideoMemory, embedder: Embedder, question: str) -> Finding | None:
    """The timeline operation a question's form asks for (``answer_evidence``), with the answer
    it computed when its anchors were found strictly. None when the question asks no relation
    in time or no anchor is found."""
    query = parse(question)
    if query is None:
        return None
    if query.form is Form.TALK:
        talk = talk_evidence(memory, query.anchors[0])
        return Finding(query, talk) if talk else None
    everything = moments(memory)  # read once, used below
    if query.form in (Form.BETWEEN, Form.EARLIER):
        if len(query.anchors) < 2:
            return None
        (first, strict_a), (second, strict_b) = (locate(memory, embedder, a, everything) for a in query.anchors)
        if first is None or second is None:
            return None
        strict = strict_a and strict_b and first.start != second.start
        return _pair(query, first, second, strict)
    if query.form in (Form.AFTER, Form.BEFORE):
        anchor, strict = locate(memory, embedder, query.anchors[0], everything)
        return None if anchor is None else _neighbours(query, anchor, strict, everything)
    return _occurrences(query, everything)


def _pair(query: Query, first: Evidence, second: Evidence, strict: bool) -> Finding:
    """How long between two moments, or which of them comes first (last)."""
    a, b = query.anchors[:2]
    gap = second.start - first.start
    if query.form is Form.BETWEEN:
        text = (f"{a!r} at {hms(first.start)}, {b!r} at {hms(second.start)}: "
                f"{duration_text(gap)} {'later' if gap >= 0 else 'earlier'}")  # fmt: skip
        result = _result(first.start, second.end, text)
        return Finding(query, [result, first, second], result if strict else None, abs(gap) if strict else None)
    (early, early_name), (late, late_name) = sorted(((first, a), (second, b)), key=lambda p: p[0].start)
    text = (f"{early_name!r} at {hms(early.start)} comes before {late_name!r} at {hms(late.start)} "
            f"({duration_text(late.start - early.start)} later)")  # fmt: skip
    return Finding(query, [_result(early.start, late.end, text), early, late],
                   (late if query.last else early) if strict else None)  # fmt: skip


def _neighbours(query: Query, anchor: Evidence, strict: bool, everything: list[Evidence]) -> Finding | None:
    """The moments right after (before) the anchor, of its kind (speech after speech, on-screen
    text after on-screen text), nearest first."""
    kind = [m for m in everything if m.source == anchor.source and m.text != anchor.text]
    if query.form is Form.AFTER:
        near = [m for m in kind if m.start >= anchor.end - 0.05][:NEIGHBOURS]
    else:
        near = [m for m in kind if m.end <= anchor.start + 0.05][-NEIGHBOURS:][::-1]
    if not near:
        return None
    listed = "; ".join(f"{n + 1}) {_line(m)}" for n, m in enumerate(near))
    text = f"{query.form.value} the moment at [{hms(anchor.start)}], in order: {listed}"
    span = (anchor.start, near[-1].end) if query.form is Form.AFTER else (near[-1].start, anchor.end)
    answer = near[0] if strict and query.direct else None  # the anchor itself is not the answer
    return Finding(query, [_result(*span, text), *near], answer)


def _occurrences(query: Query, everything: list[Evidence]) -> Finding | None:
    """Every moment that mentions the anchor, in order: counted (one moment once, however many
    sources hold it), or its first and last."""
    terms = _terms(query.anchors[0])
    hits = [m for m in everything if _holds(m, terms)]
    strict = bool(hits)
    for term in sorted(terms, key=len, reverse=True) if not hits else []:  # relaxed: one term
        hits = [m for m in everything if _holds(m, [term])]
        if hits:
            break
    if not hits:
        return None
    once: list[Evidence] = []
    for hit in hits:  # a moment said and shown at once counts once (not a chain of repeats)
        if not once or hit.start - once[-1].start > SAME_MOMENT_S:
            once.append(hit)
    listed = "; ".join(_line(m) for m in once[:MAX_LISTED])
    if query.form is Form.COUNT:
        text = f"{len(once)} moments mention {query.anchors[0]!r}: {listed}"
        result = _result(hits[0].start, hits[-1].end, text)
        return Finding(query, [result, *once[:MAX_LISTED]], result if strict else None,
                       float(len(once)) if strict else None)  # fmt: skip
    text = (f"{query.anchors[0]!r}: first at {hms(once[0].start)}, last at {hms(once[-1].start)}"
            f" ({len(once)} in all): {listed}")  # fmt: skip
    return Finding(query, [_result(hits[0].start, hits[-1].end, text), *once[:MAX_LISTED]],
                   (once[-1] if query.last else once[0]) if strict else None)  # fmt: skip


def talk_evidence(memory: VideoMemory, who: str) -> list[Evidence]:
    """Talk time and turns per speaker, most first (the one the question names first of all)."""
    if not has_speakers(memory):
        return []
    speakers = SpeakerMemory(memory).speakers()
    asked = who.lower()
    named = [s for s in speakers if s.id.lower() == asked or (s.name and s.name.lower() in asked)]
    ordered = named[:1] + [s for s in speakers if s not in named[:1]]
    listed = "; ".join(
        f"{s.label}: {duration_text(s.talk_s)} in {len(s.turns)} turn{'s' * (len(s.turns) != 1)}"
        + (f" (first [{hms(s.turns[0][0])}], last [{hms(s.turns[-1][0])}])" if s.turns else "")
        for s in ordered
    )
    everyone = [t for s in speakers for t in s.turns]
    start, end = (min(a for a, _ in everyone), max(b for _, b in everyone)) if everyone else (0.0, 0.0)
    return [_result(start, end, f"talk time by speaker ({len(speakers)} speakers): {listed}")]


def _result(start: float, end: float, text: str) -> Evidence:
    return Evidence(start, max(start, end), text, 1.0, "timeline")
