"""How well the evidence supports an answer: signals the system computes, not the model's word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longvid import words
from longvid.recall.citations import CITATION, seconds
from longvid.recall.retrieve import Evidence, query_terms

NOT_FOUND = "not found in the video"
NEAR_S = 1.5  # a cited time this close to an item's span counts as citing it


def checkable(action: dict[str, Any]) -> bool:
    """Whether an answer has content to check against the evidence (a bare "B" or "yes" has none)."""
    return bool(query_terms(CITATION.sub(" ", str(action.get("answer", "")))))


def grounded(action: dict[str, Any], evidence: Sequence[Evidence]) -> bool:
    """Whether the answer's specific terms (numbers, names, content words) occur in the evidence.

    Every number must be there and at least one other term: small models set ``found`` at
    random, so an answer made of what the evidence says is not thrown away for it, and one that
    shares nothing with the evidence never counts as found.
    """
    terms = query_terms(CITATION.sub(" ", str(action.get("answer", ""))))  # not the cited times
    if not terms or not evidence:
        return False
    seen = set(query_terms(" ".join(e.text for e in evidence)))
    return all(t in seen for t in terms if t.isdigit()) and any(t in seen for t in terms)


def abstains(action: dict[str, Any]) -> bool:
    """A "not found" answer (by flag or by text)."""
    return action.get("found") is False or said_not_found(action)


def said_not_found(action: dict[str, Any]) -> bool:
    """An answer whose text says "not found" (whatever its flag says)."""
    return str(action.get("answer", "")).strip().lower().startswith(NOT_FOUND)


def cited_times(action: dict[str, Any]) -> list[float]:
    """The times an answer cites, inline ``[hh:mm:ss]`` or in its ``citations`` list."""
    texts = [str(action.get("answer", "")), *(f"[{str(c).strip(' []')}]" for c in action.get("citations") or [])]
    times = []
    for text in texts:
        for match in CITATION.finditer(text):
            try:
                times.append(seconds(match.group(1)))
            except ValueError:
                continue
    return times


def cited_rank(action: dict[str, Any], evidence: Sequence[Evidence]) -> int | None:
    """The best rank (0 = the top-scored item) among the evidence items the answer cites."""
    ranked = sorted(evidence, key=lambda e: -e.score)
    times = cited_times(action)
    return next((rank for rank, item in enumerate(ranked) if _near(times, item)), None)


def cites(action: dict[str, Any], item: Evidence) -> bool:
    """Whether the answer cites a time within ``item``'s span (or ``NEAR_S`` of it)."""
    return _near(cited_times(action), item)


def _near(times: list[float], item: Evidence) -> bool:
    return any(item.start - NEAR_S <= time <= item.end + NEAR_S for time in times)


def holders(action: dict[str, Any], evidence: Sequence[Evidence]) -> list[tuple[int, Evidence]]:
    """Where an answer's words come from: the evidence items (with their rank, 0 = the top-scored)
    that hold at least half of its terms, those holding the most first, then by rank."""
    terms = query_terms(CITATION.sub(" ", str(action.get("answer", ""))))
    ranked = sorted(evidence, key=lambda e: -e.score)
    held = [(words.matches(item.text, terms), rank, item) for rank, item in enumerate(ranked)]
    held = [h for h in held if terms and 2 * h[0] >= len(terms)]
    return [(rank, item) for _, rank, item in sorted(held, key=lambda h: (-h[0], h[1]))]


def held_rank(action: dict[str, Any], evidence: Sequence[Evidence]) -> int | None:
    """The best rank among the items an uncited answer's words come from (``holders``)."""
    return min((rank for rank, _ in holders(action, evidence)), default=None)
