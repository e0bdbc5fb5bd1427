"""What the agent's model is told: the task, the tools, and how to end."""

from __future__ import annotations

from longvid.agent.tools import Tool
from longvid.timeline import hms
from longvid.words import write_in


def system_prompt(duration: float, tools: list[Tool]) -> str:
    signatures = "\n".join(f"- {t.signature()}" for t in tools)
    return (
        f"You answer a question about one video ({hms(duration)} long) from its memory: "
        "timestamped captions of what is seen, speech, and on-screen text. Work in steps. Each "
        'step, reply with one JSON object naming a tool in "tool" with its arguments (times '
        f"in seconds):\n{signatures}\n"
        "Answer as soon as the evidence is enough: easy questions need no tool at all. Use read "
        "for what happens before, after or between moments, repeated search for counting, and "
        "look only when the stored text cannot tell. Cite the evidence times you rely on as "
        "[hh:mm:ss] in citations. If the evidence does not contain the answer, answer with "
        "found=false and say what is missing; never invent facts or times."
    )


def user_prompt(question: str, evidence: str) -> str:
    """Evidence first, the question last (small models answer what they read last), in the
    question's language when it is not English."""
    return f"Evidence:\n{evidence}\n\nQuestion: {question}\n{write_in(question)}".rstrip()


ANSWER_NOW = (
    "The step budget is spent. Answer now from the evidence above (found=false if it does not "
    "contain the answer)."
)


def draft_prompt() -> str:
    return (
        "You answer questions about a video using only the evidence given: timestamped "
        "captions of what is seen, speech, and on-screen text. Cite the times you rely on as "
        "[hh:mm:ss]. Set enough=false when the "
        "evidence does not settle the question (you can then search again, read around moments, "
        "or look at the video); found=false when it does not contain the answer."
    )


MORE_NEEDED = (
    "Your answer is not yet backed by the evidence above. Call one tool to gather more, or "
    "answer again from the evidence."
)
