"""Multiple-choice options: the letters they go by, and which option a reply picks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from longvid.errors import InputError
from longvid.recall.support import NOT_FOUND

LETTERS = "ABCDEFGHIJ"


def with_options(question: str, options: Sequence[str]) -> str:
    """The question with its options lettered and how to reply (no options: the question)."""
    if not options:
        return question
    if len(options) > len(LETTERS):
        raise InputError(f"{len(options)} options given", f"give at most {len(LETTERS)} options (A to {LETTERS[-1]})")
    listed = "\n".join(f"({LETTERS[i]}) {text}" for i, text in enumerate(options))
    return f"{question}\nOptions:\n{listed}\nAnswer with the letter of the correct option first, then why."


def read_choice(reply: str, options: Sequence[str]) -> int | None:
    """The option a reply picks: "B." / "(B)" / "answer: B" first, else the one option it names."""
    letters = LETTERS[: len(options)]
    text = reply.strip()
    if text.lower().startswith(NOT_FOUND):  # the agent's abstention still carries the model's pick
        text = text[len(NOT_FOUND) :].lstrip(" :-–—")
    patterns = [
        rf"^\W*([{letters}])(?:[.:)\]]|\s*$|\s*[-–—\n])",  # "B", "B.", "(B)", "B - because"
        rf"\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?([{letters}])\b",  # "the answer is B"
        rf"\(([{letters}])\)",  # "(B)" anywhere
    ]
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE if "answer" in pattern else 0)
        if match:
            return letters.index(match.group(1).upper())
    lowered = text.lower()
    bare = [option.strip().rstrip(".").lower() for option in options]  # Video-MME's "One hour."
    named = [i for i, option in enumerate(bare) if option and option in lowered]
    if len(named) == 1:
        return named[0]
    start = re.match(
        rf"^\W*([{letters}])\s", text
    )  # "B because…" (last, since "A" may be an article)
    return letters.index(start.group(1)) if start else None
