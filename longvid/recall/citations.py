"""Check the timestamps an answer cites against the evidence and the video's length."""

from __future__ import annotations

import re
from collections.abc import Sequence

from longvid.recall.retrieve import Evidence
from longvid.timeline import hms

# [hh:mm:ss], [mm:ss], [hh:mm:ss.s] and ranges with - or –
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:\.\d+)?"
CITATION = re.compile(rf"\[\s*({_TIME})\s*(?:[–—-]\s*({_TIME})\s*)?\]")
# A cited time this close to an evidence span counts as that span (rounding, off-by-a-second).
_SLACK_S = 1.5
# Further than this from any evidence, a citation cannot be repaired and is dropped.
_REPAIR_S = 6.0


def seconds(stamp: str) -> float:
    """``hh:mm:ss(.s)`` or ``mm:ss`` to seconds."""
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def span_text(start: float, end: float) -> str:
    return f"[{hms(start)}–{hms(end)}]" if round(end) > round(start) else f"[{hms(start)}]"


def fix_citations(
    answer: str, evidence: Sequence[Evidence], duration: float, cite_best: bool = True
) -> tuple[str, list[tuple[float, float]]]:
    """Keep citations backed by evidence, repair near misses, drop the rest.

    Returns the answer with its citations rewritten as ``[hh:mm:ss–hh:mm:ss]`` and the cited spans.
    With ``cite_best``, an answer that cites nothing gets the span of its best evidence appended.
    """
    cited: list[tuple[float, float]] = []

    def replace(match: re.Match[str]) -> str:
        start = seconds(match.group(1))
        end = seconds(match.group(2)) if match.group(2) else start
        if start > duration + _SLACK_S or end < start:
            return ""
        backing = _backing(start, evidence)
        if backing is None:
            return ""
        cited.append(backing)
        return span_text(*backing)

    fixed = CITATION.sub(replace, answer)
    fixed = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", fixed))
    fixed = "\n".join(line.strip() for line in fixed.strip().splitlines())
    if cite_best and not cited and evidence:
        best = max(evidence, key=lambda e: e.score)
        cited.append((best.start, best.end))
        fixed = f"{fixed} {span_text(best.start, best.end)}".strip()
    return fixed, list(dict.fromkeys(cited))


def _backing(time: float, evidence: Sequence[Evidence]) -> tuple[float, float] | None:
    """The evidence span a cited time belongs to (the tightest), or the nearest within reach."""
    inside = [e for e in evidence if e.start - _SLACK_S <= time <= e.end + _SLACK_S]
    if inside:
        best = min(inside, key=lambda e: (e.end - e.start, -e.score))
        return best.start, best.end
    near = [(min(abs(e.start - time), abs(e.end - time)), e) for e in evidence]
    near = [(d, e) for d, e in near if d <= _REPAIR_S]
    if near:
        _, best = min(near, key=lambda pair: pair[0])
        return best.start, best.end
    return None
