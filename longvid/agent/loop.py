"""The agent loop: one tool call per step until the model answers or a budget ends the run.

The model first sees the question and the first retrieval's evidence, so an easy question ends
in one step. Each step is a native tool call where the backend takes ``tools`` (an
OpenAI-compatible server's ``call_tool``), else a reply constrained to the action union (one JSON
object per tool); arguments are bounded to the video (windows inside it, sources it holds, times
as citations). A wrong call is answered with an error message, not a crash; a repeated call ends
the run with the best answer so far, before it costs a tool run or another model call. Messages
are kept under the model's context by dropping the oldest tool results first, whole. When the
step budget ends without an answer, one last call may only answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from longvid.agent.prompts import ANSWER_NOW, MORE_NEEDED, draft_prompt, system_prompt, user_prompt
from longvid.agent.stopping import tools_needed
from longvid.agent.tools import (
    ANSWER,
    TOOLS,
    Tool,
    ToolError,
    Workspace,
    action_schema,
    bounded,
    evidence_lines,
    memory_sources,
)
from longvid.errors import LongvidError
from longvid.models.base import Message
from longvid.models.structured import chat_json, parse_reply

_CHARS_PER_TOKEN = 3.5  # conservative for English; only used to keep prompts inside the context
_RESULT_CHARS = 160  # how much of a result a trace shows
REPEATED = "refused: the same call as an earlier step (no tool run); the best answer so far stands"
# The first answer: the v0.1 shape (the answer with its [hh:mm:ss] citations inline), which even
# a 135M model fills sensibly, plus the two judgements the loop needs.
DRAFT_SCHEMA = {
    "type": "object",
    "properties": {"answer": ANSWER.parameters["answer"], "enough": {"type": "boolean"},
                   "found": {"type": "boolean"}},
    "required": ["answer", "enough", "found"],
    "additionalProperties": False,
}  # fmt: skip


@dataclass
class Step:
    """One tool call as a trace shows it."""

    tool: str
    args: dict[str, Any]
    result: str
    elapsed_s: float
    tokens: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "result": self.result,
                "elapsed_s": round(self.elapsed_s, 3), "tokens": self.tokens}  # fmt: skip


@dataclass
class Outcome:
    """What the loop ended with: the answer action's arguments and the steps taken."""

    action: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    forced: bool = False
    draft: dict[str, Any] = field(default_factory=dict)  # the first answer, before any tool
    why_tools: str | None = None  # why the first answer did not stand (None: it did)
    failed: str | None = None  # a step that failed; the answer is then the best so far
    refused: str | None = None  # a repeated call ended the run; the answer is the best so far


def run(
    question: str,
    ws: Workspace,
    max_steps: int,
    on_step: Callable[[Step], None] | None = None,
    opening: list[Any] | None = None,
    timeline: list[Any] | None = None,
) -> Outcome:
    """Answer ``question`` with tool calls over ``ws``; ``opening`` is the first evidence shown
    (``timeline``: the part of it a time operation found). Tools run only when the system's own
    checks (``stopping.tools_needed``) say the first answer could be better; a failing step ends
    the run with the best answer so far."""
    # Step 0 answers from the first evidence and says whether it is enough (SAGE: most questions
    # need no tool). Only when it is not do the tools come in, with the draft in the conversation.
    evidence = evidence_lines(opening or [])
    draft_messages: list[Message] = [
        {"role": "system", "content": draft_prompt()},
        {"role": "user", "content": user_prompt(question, evidence)},
    ]
    outcome = Outcome({})
    action = _ask(ws, draft_messages, DRAFT_SCHEMA, outcome, on_step, "answer")
    enough = action.pop("enough")
    action["confidence"] = "high" if enough and action["found"] else "medium"
    outcome.action = outcome.draft = action
    outcome.why_tools = tools_needed(action, opening or [], timeline or [], bool(enough))
    if max_steps == 0 or outcome.why_tools is None:
        return outcome
    try:
        _use_tools(question, ws, max_steps, on_step, evidence, outcome)
    except LongvidError as exc:  # a reply that fails its schema mid-run: keep the best so far
        outcome.action, outcome.failed = outcome.draft, exc.what
    return outcome


def _use_tools(question: str, ws: Workspace, max_steps: int, on_step: Callable[[Step], None] | None,
               evidence: str, outcome: Outcome) -> None:  # fmt: skip
    """Tool steps after the first answer, until the model answers, repeats a call, or the budget
    is spent."""
    action = dict(outcome.draft)
    sources = memory_sources(ws.memory)
    # answer first: under a grammar, weak models lean to the first choice
    offered = [ANSWER, *(t for t in TOOLS.values() if t.name != "look" or ws.captioner is not None)]
    tools = [bounded(t, ws.duration, sources) for t in offered]
    messages: list[Message] = [
        {"role": "system", "content": system_prompt(ws.duration, tools)},
        {"role": "user", "content": user_prompt(question, evidence)},
        {"role": "assistant", "content": json.dumps({"tool": "answer", **action})},
        {"role": "user", "content": MORE_NEEDED},
    ]
    done: set[str] = set()
    for number in range(1, max_steps + 2):  # max_steps tool calls, then the answer
        last = number > max_steps
        if last:
            messages.append({"role": "user", "content": ANSWER_NOW})
        allowed = [ANSWER] if last else tools
        action = _ask(ws, messages, action_schema(allowed), outcome, None, "", allowed)
        name = str(action.pop("tool"))
        if name == ANSWER.name:
            outcome.action, outcome.forced = action, last
            _record(
                outcome, outcome.steps.pop(), name, action, str(action.get("answer", "")), on_step
            )
            return
        key = json.dumps([name, action], sort_keys=True)
        if key in done:  # no tool run, no further model call: the best answer so far stands
            outcome.refused = f"{name} repeated an earlier call"
            _record(outcome, outcome.steps.pop(), name, action, REPEATED, on_step)
            return
        done.add(key)
        result = _call(TOOLS[name], ws, action)
        _record(outcome, outcome.steps.pop(), name, action, result, on_step)
        messages.append({"role": "assistant", "content": json.dumps({"tool": name, **action})})
        messages.append({"role": "user", "content": f"Result of {name}:\n{result}"})
    raise AssertionError("unreachable: the last step can only answer")  # pragma: no cover


def _ask(ws: Workspace, messages: list[Message], schema: dict[str, Any], outcome: Outcome,
         on_step: Callable[[Step], None] | None, name: str,
         tools: list[Tool] | None = None) -> dict[str, Any]:  # fmt: skip
    """One call; its step is recorded (named and shown now when ``name`` is given). With
    ``tools``, a backend that calls tools natively gets them; else the reply obeys ``schema``."""
    started = time.monotonic()
    fitted = _fit(messages, ws.llm.context_tokens)
    action = _native(ws, fitted, schema, tools) if tools else None
    if action is None:
        action = chat_json(ws.llm, fitted, schema)
    step = Step(name, {}, "", time.monotonic() - started, _usage(ws.llm, messages, action))
    outcome.steps.append(step)
    if name:
        _record(
            outcome, outcome.steps.pop(), name, dict(action), str(action.get("answer", "")), on_step
        )
    return action


def _native(ws: Workspace, messages: list[Message], schema: dict[str, Any],
            tools: list[Tool]) -> dict[str, Any] | None:  # fmt: skip
    """A native tool call as an action, or None: the backend has no ``call_tool``, refused
    ``tools`` (it then says so for the rest of the run), or sent arguments outside the schema."""
    call_tool = getattr(ws.llm, "call_tool", None)
    if call_tool is None:
        return None
    action = call_tool(messages, [t.function() for t in tools])
    if action is None:
        return None
    try:
        return parse_reply(json.dumps(action), schema)
    except ValueError:
        return None


def _record(outcome: Outcome, step: Step, name: str, args: dict[str, Any], result: str,
            on_step: Callable[[Step], None] | None) -> None:  # fmt: skip
    """Finish a step (the tool's time included) and show it."""
    step.tool, step.args, step.result = name, args, result[:_RESULT_CHARS]
    outcome.steps.append(step)
    if on_step:
        on_step(step)


def _call(tool: Tool, ws: Workspace, args: dict[str, Any]) -> str:
    """Run a tool; a wrong call becomes a message for the model."""
    try:
        return evidence_lines(tool.run(ws, args))
    except ToolError as exc:
        return f"Error: {exc}"


def _fit(messages: list[Message], context_tokens: int) -> list[Message]:
    """The messages with the oldest tool results dropped, whole, until they fit the context."""
    budget = int(context_tokens * _CHARS_PER_TOKEN)
    fitted = [dict(m) for m in messages]
    results = [i for i, m in enumerate(fitted) if str(m["content"]).startswith("Result of ")]
    while sum(len(str(m["content"])) for m in fitted) > budget and results:
        index = results.pop(0)
        fitted[index]["content"] = (
            str(fitted[index]["content"]).split("\n")[0] + "\n(dropped to fit)"
        )
    return fitted


def _usage(llm: Any, messages: list[Message], action: dict[str, Any]) -> dict[str, int]:
    """Tokens in and out of the last call: the backend's count when it gives one, else estimated."""
    usage = getattr(llm, "last_usage", None)
    if usage:
        return {"in": int(usage[0]), "out": int(usage[1])}
    chars_in = sum(len(str(m["content"])) for m in messages)
    return {
        "in": round(chars_in / _CHARS_PER_TOKEN),
        "out": round(len(json.dumps(action)) / _CHARS_PER_TOKEN),
    }
