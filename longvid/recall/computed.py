"""The answer a time operation computed (``recall.timeline.find``), as a reply the user reads.

A question in time ("right after X", "how many times", "how long between X and Y", "which comes
first") whose anchors the memory holds strictly has an answer the system computed from the
memory's order and times. Here it becomes a sentence with its ``[hh:mm:ss]`` citations, or, for a
multiple-choice question, the option it picks: the one whose words the answering moment holds,
the count that equals the counted, the span closest to the computed one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from longvid import words
from longvid.recall.choices import LETTERS, read_choice
from longvid.recall.citations import CITATION
from longvid.recall.retrieve import query_terms
from longvid.recall.support import cites
from longvid.recall.timeline import MAX_LISTED, Finding, Form, duration_text
from longvid.timeline import hms

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", re.I)
_UNITS = [(re.compile(r"\bhours?\b|小时", re.I), 3600.0), (re.compile(r"\bminutes?\b|\bmins?\b|分钟", re.I), 60.0),
          (re.compile(r"\bseconds?\b|\bsecs?\b|秒", re.I), 1.0)]  # fmt: skip


def reply(finding: Finding, question: str, options: Sequence[str] = ()) -> dict[str, Any] | None:
    """The computed answer as an answer action (``answer``, ``found``, ``confidence``), or None
    when nothing was computed or no option is clearly the computed one."""
    if finding.answer is None:
        return None
    text = sentence(finding)
    if options:
        picked = pick(finding, question, options)
        if picked is None:
            return None
        text = f"({LETTERS[picked]}) {options[picked]} — {text}"
    return {"answer": text, "found": True, "confidence": "high"}


def sentence(finding: Finding) -> str:
    """What the operation computed, said plainly, with the times it rests on."""
    answer, form = finding.answer, finding.query.form
    assert answer is not None
    moments = finding.evidence[1:]
    if form is Form.COUNT:
        cited = ", ".join(f"[{hms(m.start)}]" for m in moments[:MAX_LISTED])
        return f"{int(finding.number or 0)} times: {cited}"
    if form is Form.BETWEEN:
        first, second = moments[:2]
        return f"{duration_text(finding.number or 0.0)} apart: [{hms(first.start)}] and [{hms(second.start)}]"
    return f"{' '.join(answer.text.split())} [{hms(answer.start)}]"


def pick(finding: Finding, question: str, options: Sequence[str]) -> int | None:
    """The option the computed answer picks, or None when none (or more than one) clearly does."""
    if finding.query.form is Form.COUNT and finding.number is not None:
        equal = [i for i, o in enumerate(options) if _number(o) == finding.number]
        return equal[0] if len(equal) == 1 else None
    if finding.query.form is Form.BETWEEN and finding.number is not None:
        return _closest(finding.number, question, options)
    assert finding.answer is not None
    held = []
    for index, option in enumerate(options):
        terms = query_terms(option)
        if terms and words.matches_whole(finding.answer.text, terms) == len(terms):
            held.append((len(terms), index))
    held.sort(reverse=True)
    if not held or (len(held) > 1 and held[0][0] == held[1][0]):
        return None
    return held[0][1]


def agrees(action: dict[str, Any], computed: dict[str, Any], finding: Finding,
           options: Sequence[str] = ()) -> bool:  # fmt: skip
    """Whether a model's answer says what the system computed: the same option; the count; a
    span within 5% (2 s at least); else the answering moment's words (all of them, or some and a
    citation of it)."""
    said = str(action.get("answer", ""))
    if options:
        return read_choice(said, options) == read_choice(str(computed["answer"]), options)
    answer, number, content = finding.answer, finding.number, CITATION.sub(" ", said)
    assert answer is not None
    if finding.query.form is Form.COUNT and number is not None:
        return number in {float(n) for n in _NUMBER.findall(content)}
    if finding.query.form is Form.BETWEEN and number is not None:
        spoken = _duration_said(content)
        return spoken is not None and abs(spoken - number) <= max(2.0, 0.05 * number)
    terms = query_terms(content)
    held = words.matches_whole(answer.text, terms)
    return bool(terms) and (held == len(terms) or (held > 0 and cites(action, answer)))


def _duration_said(text: str) -> float | None:
    """Seconds in "13 min 30 s", "13.5 minutes", "810 seconds" (None: no duration said)."""
    parts = [(float(n), u) for n, u in _DURATION.findall(text)]
    return sum(n * (3600 if u.startswith("h") else 60 if u.startswith("m") else 1) for n, u in parts) if parts else None


def _number(text: str) -> float | None:
    found = _NUMBER.search(text)
    return float(found.group()) if found else None


def _closest(seconds: float, question: str, options: Sequence[str]) -> int | None:
    """The option nearest the span, in the unit the question (else the option) names; None when
    no unit is named or two options are about as near."""
    asked = next((size for unit, size in _UNITS if unit.search(question.splitlines()[0])), None)
    distances = []
    for index, option in enumerate(options):
        value = _number(option)
        size = next((s for unit, s in _UNITS if unit.search(option)), asked)
        if value is None or size is None:
            continue
        distances.append((abs(value * size - seconds), index))
    distances.sort()
    if not distances or (len(distances) > 1 and distances[1][0] <= 1.5 * distances[0][0] + 1.0):
        return None
    return distances[0][1]
