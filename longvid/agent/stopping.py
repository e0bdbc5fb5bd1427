"""When the first answer stands, and when a later answer may replace it: one readable rule.

A small model's own ``enough`` and ``found`` flags are noise (issue 25: the agent lost answers its
first call had right, 10/16 against the one-retrieval baseline's 11/16), so the loop acts on what
the system can check: is the answer's content in the evidence, does it cite a top-ranked moment,
does the top hit stand clearly above the rest, and does the question ask a relation in time.
For a question in time whose anchors the memory holds strictly, the system's own count, order or
subtraction (``recall.timeline.find``) outranks the model's reading of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longvid.recall import computed
from longvid.recall.retrieve import Evidence
from longvid.recall.support import (
    abstains,
    checkable,
    cited_rank,
    grounded,
    held_rank,
    said_not_found,
)
from longvid.recall.timeline import Finding

TOP_RANK = 3
"""A citation of one of the best 3 opening items (by fused score) counts as top-ranked."""
CLEAR_MARGIN = 0.2
"""An uncited answer stands when the top item's score is this far above the second's."""


def tools_needed(draft: dict[str, Any], opening: Sequence[Evidence], timeline: Sequence[Evidence] = (),
                 model_says_enough: bool = True) -> str | None:  # fmt: skip
    """Why tools could improve the first answer, or None when it stands as it is.

    ``timeline`` is what the question's time operation found (``recall.timeline``), if any. Only
    an answer with nothing to check (a bare option letter) falls back on the model's own word.
    """
    if not abstains(draft) and not checkable(draft):
        return None if model_says_enough else "the model asked for more"
    if said_not_found(draft) or not grounded(draft, opening):  # its found flag alone is noise
        return "the answer is not in the evidence"
    if timeline and not grounded(draft, timeline):
        return "the answer is not among the moments the timeline operation lists"
    rank = cited_rank(draft, opening)
    rank = held_rank(draft, opening) if rank is None else rank  # uncited: the item its words are from
    if rank is None:
        scores = sorted((e.score for e in opening), reverse=True)
        margin = scores[0] - scores[1] if len(scores) > 1 else 1.0
        return None if margin >= CLEAR_MARGIN else "the answer cites nothing, its words come from no one item, and no hit stands out"
    if rank >= TOP_RANK:
        return f"the answer cites the evidence's item {rank + 1}, not a top-ranked one"
    return None


def replaces(candidate: dict[str, Any], incumbent: dict[str, Any], evidence: Sequence[Evidence],
             timeline: Sequence[Evidence] = ()) -> bool:  # fmt: skip
    """Whether a later answer replaces the one so far.

    Only a supported answer (not "not found", its content in the evidence) replaces anything: a
    small model's second try is no better evidence than its first, and a run with tools must
    never end worse than one without. It replaces an unsupported incumbent (for a question in
    time: one not among the moments the timeline lists), or a supported one when it cites
    evidence ranked higher for the question.
    """
    if said_not_found(candidate) or not grounded(candidate, evidence):
        return False
    if not checkable(incumbent) or said_not_found(incumbent) or not grounded(incumbent, evidence):
        return True
    if timeline and not grounded(incumbent, timeline):
        return True
    new, old = cited_rank(candidate, evidence), cited_rank(incumbent, evidence)
    return new is not None and (old is None or new < old)


def timeline_replaces(final: dict[str, Any], reply: dict[str, Any], finding: Finding,
                      options: Sequence[str] = ()) -> bool:  # fmt: skip
    """Whether the answer the timeline operation computed (``reply``, from
    ``recall.computed.reply``) replaces ``final``: whenever they differ. The memory's order and
    times, counted and subtracted by the system, are better evidence for a question in time than
    a model's reading of them (issue 25: a 135M model picked the right option in 4 of 21 such
    questions, below chance, with the computed moments in its evidence)."""
    return not computed.agrees(final, reply, finding, options)
