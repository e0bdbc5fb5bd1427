"""The agent's tools over one video's memory: each a JSON-schema signature and a function that
returns timestamped evidence (shown to the model as compact lines, kept for checking citations).

- ``search``   fused retrieval (vectors + full text), optionally within a time window
- ``read``     everything stored in a window, in time order (before / after / between questions)
- ``look``     a closer look by the video LLM at a window, guided by the question
- ``overview`` cached section summaries of the whole video or a window
- ``answer``   ends the run (handled by the loop)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from longvid.agent.selection import choose_frames
from longvid.media.frames import Frame, sample_frames
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, CaptionRequest, ChatModel, Embedder, VisualEmbedder
from longvid.recall.retrieve import Evidence, chunk_evidence, retrieve
from longvid.recall.timeline import answer_evidence
from longvid.timeline import hms

SOURCES = ["caption", "transcript", "ocr", "visual"]
"""What a memory may hold, as ``search`` names it (a memory offers only those it holds)."""
CITED_TIME = r"^[0-9]{1,2}:[0-9]{2}:[0-9]{2}([.][0-9])?$"
"""A citation is a time as the evidence lines show it (hh:mm:ss or hh:mm:ss.s): nothing else."""
_READ_ITEMS = 40  # a read returns at most this many items (the rest: read on from there)
_MIN_LOOK_S = 4.0
_CANDIDATES = 64  # frames scored against the question in one look, at most


class ToolError(Exception):
    """A call the model got wrong; the message goes back to the model, not to the user."""


@dataclass
class Workspace:
    """What the tools work on during one question, and what they have gathered."""

    video: str
    memory: VideoMemory
    embedder: Embedder
    llm: ChatModel
    captioner: Captioner | None
    duration: float
    frames_left: int
    visual: VisualEmbedder | None = None  # picks the frames a look sees, and finds frames
    sections: Callable[[], list[dict[str, Any]]] = list  # the cached section summaries (overview)
    evidence: list[Evidence] = field(default_factory=list)
    frames_inspected: int = 0
    chosen: list[tuple[float, float]] = field(default_factory=list)  # (time, score) looks chose

    def keep(self, items: list[Evidence]) -> list[Evidence]:
        """Add items to the evidence pool (no duplicates); return them."""
        seen = {(e.start, e.end, e.text) for e in self.evidence}
        self.evidence += [e for e in items if (e.start, e.end, e.text) not in seen]
        return items


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON-schema properties of the arguments
    required: tuple[str, ...]
    run: Callable[[Workspace, dict[str, Any]], list[Evidence]]

    def signature(self) -> str:
        args = ", ".join(f"{k}{'' if k in self.required else '?'}" for k in self.parameters)
        return f"{self.name}({args}): {self.description}"

    def function(self) -> dict[str, Any]:
        """The tool as an entry of an OpenAI-compatible request's ``tools``."""
        parameters = {"type": "object", "properties": self.parameters,
                      "required": list(self.required), "additionalProperties": False}  # fmt: skip
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": parameters}}  # fmt: skip


def evidence_lines(items: list[Evidence]) -> str:
    """Evidence as ``[start–end] (source) text`` lines, in time order."""
    lines = [
        f"[{hms(e.start, 1)}–{hms(e.end, 1)}] ({e.source}) {' '.join(e.text.split())}"
        for e in sorted(items, key=lambda e: (e.start, e.end))
    ]
    return "\n".join(lines) or "(nothing found)"


def _window(ws: Workspace, args: dict[str, Any]) -> tuple[float, float]:
    start = float(args.get("start") or 0.0)
    end = float(args["end"]) if args.get("end") is not None else ws.duration or 1e12
    if start < 0 or end <= start:
        raise ToolError(f"bad window start={start:g} end={end:g}: need 0 <= start < end (seconds)")
    if ws.duration and start >= ws.duration:
        raise ToolError(f"start={start:g} is past the end of the video ({ws.duration:g} s)")
    return start, min(end, ws.duration) if ws.duration else end


def search(ws: Workspace, args: dict[str, Any]) -> list[Evidence]:
    query = str(args.get("query", "")).strip()
    if not query:
        raise ToolError("search needs a non-empty query")
    start, end = _window(ws, args)
    windowed = "start" in args or "end" in args
    sources = set(args.get("sources") or SOURCES)
    top_k = ws.memory.chunk_count() if windowed else None
    found = retrieve(ws.memory, ws.embedder, query, top_k, ws.visual)
    found = [e for e in found if e.end > start and e.start < end and e.source in sources]
    return ws.keep(found[: int(args.get("k") or 8)])


def read(ws: Workspace, args: dict[str, Any]) -> list[Evidence]:
    start, end = _window(ws, args)
    items = [
        e
        for chunk in ws.memory.chunks_between(start, end)
        for e in chunk_evidence(chunk, 1.0, [])
        if e.end > start and e.start < end
    ]
    items.sort(key=lambda e: (e.start, e.end))
    if len(items) > _READ_ITEMS:
        rest = items[_READ_ITEMS].start
        items = items[:_READ_ITEMS]
        items.append(
            Evidence(rest, rest, f"(more after {hms(rest)}: read on from {rest:g})", 0.0, "note")
        )
    return ws.keep(items)


def look(ws: Workspace, args: dict[str, Any]) -> list[Evidence]:
    if ws.captioner is None:
        raise ToolError("look is unavailable: no video LLM is loaded")
    if ws.frames_left <= 0:
        raise ToolError("the frame budget is spent: answer from the evidence you have")
    start, end = _window(ws, args)
    if end - start < _MIN_LOOK_S:
        middle = (start + end) / 2
        start = max(0.0, middle - _MIN_LOOK_S / 2)
        end = min(ws.duration or middle + _MIN_LOOK_S / 2, middle + _MIN_LOOK_S / 2)
    question = str(args.get("question") or "Describe what happens.")
    count = min(ws.captioner.max_frames, ws.frames_left)
    frames, why = _frames_for(ws, start, end, question, count)
    spoken = [t for t in (ws.memory.transcript() or []) if t.end > start and t.start < end]
    instruction = (
        f"Look closely at these frames to answer: {question}\n"
        "Describe exactly what is visible that bears on it (people, actions, objects, text), citing "
        "frame times as [hh:mm:ss]. If it is not visible, say so."
    )
    request = CaptionRequest(start, end, frames, spoken, instruction=instruction).with_at_most(
        count
    )
    [caption] = ws.captioner.caption([request])
    ws.frames_inspected += len(request.frames)
    ws.frames_left -= len(request.frames)
    return ws.keep([Evidence(start, end, f"{caption.strip()}{why}", 1.0, "inspection")])


def _frames_for(
    ws: Workspace, start: float, end: float, question: str, count: int
) -> tuple[list[Frame], str]:
    """The frames a look sees: chosen for the question when a visual encoder is loaded (from
    candidates at 2 per second), else evenly spread; and a note saying which and why."""
    if ws.visual is None:
        step = (end - start) / count
        return sample_frames(ws.video, [start + (i + 0.5) * step for i in range(count)]), ""
    pool = max(count, min(_CANDIDATES, round((end - start) * 2)))
    step = (end - start) / pool
    candidates = sample_frames(ws.video, [start + (i + 0.5) * step for i in range(pool)])
    vectors = ws.visual.embed_images([f.image for f in candidates])
    scores = vectors @ ws.visual.embed_texts([question])[0]
    chosen = choose_frames([f.time for f in candidates], scores.tolist(), vectors, count)
    ws.chosen += [(candidates[i].time, float(scores[i])) for i in chosen]
    note = ", ".join(f"{hms(candidates[i].time, 1)} ({scores[i]:.2f})" for i in chosen)
    return [
        candidates[i] for i in chosen
    ], f"\n(frames chosen for the question, with their scores: {note})"


def overview(ws: Workspace, args: dict[str, Any]) -> list[Evidence]:
    start, end = _window(ws, args)
    items = [
        Evidence(s["start"], s["end"], s["summary"], 1.0, "summary")
        for s in ws.sections()
        if s["end"] > start and s["start"] < end
    ]
    return ws.keep(items)


# Strings are bounded so that any one action fits in 512 generated tokens (a reply cut short
# would not parse).
_WINDOW = {
    "start": {"type": "number", "minimum": 0, "description": "seconds from the start of the video"},
    "end": {"type": "number", "minimum": 0, "description": "seconds from the start of the video"},
}
TOOLS = {
    tool.name: tool
    for tool in [
        Tool(
            "search",
            "find the moments that match a query (by meaning and by words), "
            "optionally only within start..end seconds or from some sources",
            {
                "query": {"type": "string", "minLength": 1, "maxLength": 120},
                "sources": {"type": "array", "items": {"enum": SOURCES}},
                **_WINDOW,
                "k": {"type": "integer", "minimum": 1, "maximum": 20},
            },
            ("query",),
            search,
        ),
        Tool(
            "read",
            "everything stored between start and end seconds, in time order: use it "
            "for what happens before, after or between moments",
            dict(_WINDOW),
            ("start", "end"),
            read,
        ),
        Tool(
            "look",
            "have the video model look closely at start..end seconds for a question "
            "(only when the stored text cannot answer it)",
            {**_WINDOW, "question": {"type": "string", "maxLength": 160}},
            ("start", "end", "question"),
            look,
        ),
        Tool(
            "timeline",
            "order, count and time arithmetic done for you: what comes right after / just "
            "before a moment, how many times something happens, how long between two moments, "
            "the first or last time (ask it as a question)",
            {"question": {"type": "string", "maxLength": 160}},
            ("question",),
            lambda ws, args: ws.keep(answer_evidence(ws.memory, ws.embedder, str(args["question"]))),
        ),
        Tool(
            "overview",
            "section summaries of the whole video (or of start..end seconds)",
            dict(_WINDOW),
            (),
            overview,
        ),
    ]
}
ANSWER = Tool(
    "answer",
    "the final answer, citing the evidence times it rests on as [hh:mm:ss]; found=false when "
    "the evidence does not contain the answer",
    {"answer": {"type": "string", "maxLength": 300},
     "citations": {"type": "array", "items": {"type": "string", "pattern": CITED_TIME}, "maxItems": 4},
     "confidence": {"enum": ["high", "medium", "low"]}, "found": {"type": "boolean"}},
    ("answer", "citations", "confidence", "found"),
    lambda ws, args: [],
)  # fmt: skip


def memory_sources(memory: VideoMemory) -> list[str]:
    """The sources this memory holds, in ``SOURCES`` order (what ``search`` may filter on)."""
    settings = memory.meta("settings") or {}
    held = {"caption": settings.get("captioner", "none") != "none",
            "transcript": memory.meta("transcript_source") is not None,
            "ocr": settings.get("ocr", "none") != "none", "visual": memory.has_frame_vectors()}  # fmt: skip
    return [source for source in SOURCES if held[source]]


def bounded(tool: Tool, duration: float, sources: list[str]) -> Tool:
    """``tool`` with arguments that cannot be nonsense for this video: windows inside it (when
    its length is known) and ``sources`` an enum of what its memory holds (none: no filter)."""
    parameters = dict(tool.parameters)
    for key in ("start", "end"):
        if key in parameters and duration > 0:
            parameters[key] = {**parameters[key], "maximum": math.ceil(duration)}
    if "sources" in parameters:
        if sources:
            parameters["sources"] = {"type": "array", "items": {"enum": sources},
                                     "minItems": 1, "maxItems": len(sources)}  # fmt: skip
        else:
            del parameters["sources"]
    return replace(tool, parameters=parameters)


def action_schema(tools: list[Tool]) -> dict[str, Any]:
    """The JSON schema of one step: exactly one tool call, its name in ``tool``."""
    variants = [
        {
            "type": "object",
            "properties": {"tool": {"const": t.name}, **t.parameters},
            "required": ["tool", *t.required],
            "additionalProperties": False,
        }
        for t in tools
    ]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}
