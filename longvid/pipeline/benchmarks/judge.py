"""MLVU's open-ended tasks scored by an LLM judge, on the authors' criteria
(``evaluation/generation_evaluation/evaluate_ssc.py`` and ``evaluate_summary.py``; totals as
``calculate.py`` / ``calculate_sum.py`` average them).

Sub-scene captioning: accuracy against each scoring point (1 misses it, 3 related but not right,
5 right; averaged) and relevance to the question (1-5). Video summary: completeness and
reliability against the reference (1-5 each). A task's figure is the mean of the two scores' sum
(out of 10); a reply the judge's text does not yield both scores for counts 0, as there. The
authors judged with GPT-4-turbo: scores from another judge are not comparable to theirs.
"""

from __future__ import annotations

import re
from typing import Any

from longvid.models.base import Message

KEYS = {"sub_scene": ("score_accuracy", "score_relevance"),
        "summary": ("score_completeness", "score_reliability")}  # fmt: skip

_CRITERIA = {
    "sub_scene": (
        "Evaluate a respondent's answer given the question, its scoring points and the answer. "
        "ACCURACY (1-5): score each scoring point (1: the answer misses it; 3: it mentions related "
        "content that is not entirely correct; 5: it addresses the point accurately) and average "
        "them. RELEVANCE (1-5): how focused the answer is on the question, regardless of its "
        "correctness (1 off-topic; 2 partly related, much irrelevant content; 3 mostly on the "
        "question but unsure; 4 mostly on the question and confident; 5 fully focused and certain)."
    ),
    "summary": (
        "Evaluate a respondent's video summary against the standard answer. COMPLETENESS (1-5): "
        "how much of the main content and key points it covers (1 hardly any; 3 most; 5 all). "
        "RELIABILITY (1-5): correctness and clarity; factual errors, misleading statements and "
        "contradictions lower it; reasonable extra details that do not conflict do not (1 several "
        "errors and confusing; 3 generally accurate, minor errors; 5 no errors, clear)."
    ),
}


def judge_messages(
    task: str, question: str, reference: str, scoring_points: Any, response: str
) -> list[Message]:
    """The judge's conversation for one open-ended answer."""
    first, second = KEYS[task]
    system = (f"{_CRITERIA[task]} Give a short rationale, then end with a JSON dict: "
              f"{{'{first}': score, '{second}': score, 'total_score': sum}}.")  # fmt: skip
    if task == "sub_scene":
        user = f"Question: {question}\nScoring Points: {scoring_points}\nRespondent's Answer: {response}"
    else:
        user = f"Standard Answer: {reference}\nRespondent's Answer: {response}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_judgement(task: str, text: str) -> dict[str, float] | None:
    """The two scores from the judge's reply (None when either is missing)."""
    scores = {}
    for key in KEYS[task]:
        match = re.search(rf"{key}['\"]?\s*:\s*([0-9]+(?:\.[0-9]+)?)", text)
        if not match:
            return None
        scores[key] = float(match.group(1))
    return scores


def total(judgement: dict[str, float] | None) -> float:
    """calculate.py: the two scores summed (0 when the judge's reply gave none)."""
    return sum(judgement.values()) if judgement else 0.0
