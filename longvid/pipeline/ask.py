"""``ask``: answer a question from the memory, look again at the video where evidence is thin.

Each round the LLM sees the question and the evidence and replies with JSON: an answer, whether
the evidence suffices, and which moments to look at. When it asks to look (and a video LLM is
available), denser frames of those moments are captioned with the question in mind and added as
evidence; bounded by ``max_rounds`` and ``max_frames``. Citations are checked before returning.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from longvid.media.frames import sample_frames
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, CaptionRequest, ChatModel, Embedder
from longvid.models.structured import chat_json
from longvid.pipeline.citations import CITATION, fix_citations, seconds
from longvid.pipeline.retrieve import Evidence, retrieve
from longvid.pipeline.summarize import summarize_memory
from longvid.timeline import hms

SYSTEM = (
    "You answer questions about a video using only the evidence given: timestamped captions of "
    "what is seen, speech, on-screen text, and closer looks. Cite the times you rely on as "
    "[hh:mm:ss]. If the evidence is not enough, say what is missing, set sufficient to false and "
    "list in look_at the times (hh:mm:ss) worth looking at more closely."
)
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "sufficient": {"type": "boolean"},
        "look_at": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["answer", "sufficient"],
}
WHOLE_VIDEO = re.compile(
    r"\b(what (is|was) (this|the) (whole )?(video|film|movie|clip|talk|lecture|episode|meeting|interview)"
    r"( \w+)? about|summar(y|ise|ize)|overall|main (points?|topics?|ideas?|events?)|whole (video|film|thing)|"
    r"gist|in (a|one) (sentence|paragraph))\b",
    re.IGNORECASE,
)
_SEGMENTS_PER_ROUND = 2
_MIN_LOOK_S = 4.0


@dataclass
class AskOptions:
    top_k: int | None = None
    inspect: bool = True
    max_rounds: int = 3
    max_frames: int = 32  # frames inspected in all, across rounds


@dataclass
class Answer:
    question: str
    answer: str
    evidence: list[Evidence]
    cited: list[tuple[float, float]]
    rounds: int = 0
    frames_inspected: int = 0
    used_summary: bool = False
    elapsed_s: float = 0.0
    models: dict[str, str] = field(default_factory=dict)

    def to_dict(self, video: str) -> dict[str, Any]:
        return {
            "video": video,
            "question": self.question,
            "answer": self.answer,
            "citations": [{"start": s, "end": e} for s, e in self.cited],
            "evidence": [e.to_dict() for e in self.evidence],
            "rounds": self.rounds,
            "frames_inspected": self.frames_inspected,
            "models": self.models,
            "elapsed_s": round(self.elapsed_s, 2),
        }


def is_whole_video_question(question: str) -> bool:
    """Questions about the video as a whole are answered from its summary, not from top-k."""
    return bool(WHOLE_VIDEO.search(question))


def ask(
    video: str,
    question: str,
    memory: VideoMemory,
    embedder: Embedder,
    llm: ChatModel,
    captioner: Captioner | None = None,
    options: AskOptions | None = None,
) -> Answer:
    """Answer ``question`` about ``video`` with checked citations."""
    started = time.monotonic()
    options = options or AskOptions()
    duration = float((memory.meta("video") or {}).get("duration") or 0.0)
    whole = is_whole_video_question(question)
    if whole:
        summary = summarize_memory(memory, llm)
        evidence = [
            Evidence(s["start"], s["end"], s["summary"], 1.0, "summary") for s in summary.sections
        ]
    else:
        evidence = retrieve(memory, embedder, question, options.top_k)
    result = Answer(question, "", evidence, [], used_summary=whole)
    result.models = {"llm": llm.info.spec, "embedder": embedder.info.spec}
    if captioner is not None:
        result.models["captioner"] = captioner.info.spec
    inspected: set[tuple[float, float]] = set()
    reply: dict[str, Any] = {}
    for round_number in range(1, max(1, options.max_rounds) + 1):
        result.rounds = round_number
        reply = _reply(llm, question, result.evidence)
        looker = (
            captioner if options.inspect and result.frames_inspected < options.max_frames else None
        )
        if reply["sufficient"] or looker is None or round_number == options.max_rounds or whole:
            break
        targets = _targets(reply.get("look_at") or [], result.evidence, inspected, duration)
        if not targets:
            break
        for start, end in targets:
            budget = min(looker.max_frames, options.max_frames - result.frames_inspected)
            if budget <= 0:
                break
            look, seen = _inspect(video, question, start, end, budget, looker, memory)
            result.evidence.append(look)
            result.frames_inspected += seen
            inspected.add((start, end))
    result.answer, result.cited = fix_citations(
        str(reply.get("answer", "")), result.evidence, duration or 1e9
    )
    result.elapsed_s = time.monotonic() - started
    return result


def evidence_text(evidence: list[Evidence]) -> str:
    """Evidence in time order, one ``[start–end] (source) text`` line each."""
    lines = [
        f"[{hms(e.start, 1)}–{hms(e.end, 1)}] ({e.source}) {' '.join(e.text.split())}"
        for e in sorted(evidence, key=lambda e: (e.start, e.end))
    ]
    return "\n".join(lines) or "(no evidence found)"


def _reply(llm: ChatModel, question: str, evidence: list[Evidence]) -> dict[str, Any]:
    """Ask the LLM for a reply that matches ANSWER_SCHEMA (validated; one retry)."""
    user = f"Evidence:\n{evidence_text(evidence)}\n\nQuestion: {question}"
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return chat_json(llm, messages, ANSWER_SCHEMA)


def _targets(
    look_at: list[Any], evidence: list[Evidence], done: set[tuple[float, float]], duration: float
) -> list[tuple[float, float]]:
    """Segments to inspect: the times the LLM named, else the best evidence not yet inspected."""
    spans = []
    for item in look_at:
        match = CITATION.search(f"[{item}]") if isinstance(item, str) else None
        if match:
            start = seconds(match.group(1))
            end = seconds(match.group(2)) if match.group(2) else start
            spans.append(_widen(start, end, duration))
    if not spans:
        spans = [_widen(e.start, e.end, duration) for e in evidence if e.source != "inspection"]
    fresh = [s for s in dict.fromkeys(spans) if s not in done and (not duration or s[0] < duration)]
    return fresh[:_SEGMENTS_PER_ROUND]


def _widen(start: float, end: float, duration: float) -> tuple[float, float]:
    """At least ``_MIN_LOOK_S`` long, centred on the span, inside the video."""
    if end - start < _MIN_LOOK_S:
        middle = (start + end) / 2
        start, end = middle - _MIN_LOOK_S / 2, middle + _MIN_LOOK_S / 2
    start = max(0.0, start)
    end = min(end, duration) if duration else end
    return round(start, 3), round(max(end, start + 0.1), 3)


def _inspect(
    video: str,
    question: str,
    start: float,
    end: float,
    frames: int,
    captioner: Captioner,
    memory: VideoMemory,
) -> tuple[Evidence, int]:
    """Caption denser frames of one segment, guided by the question."""
    step = (end - start) / frames
    images = sample_frames(video, [start + (i + 0.5) * step for i in range(frames)])
    spoken = [t for t in (memory.transcript() or []) if t.end > start and t.start < end]
    instruction = (
        f"Look closely at these frames to answer: {question}\n"
        "Describe exactly what is visible that bears on it (people, actions, objects, text), citing "
        "frame times as [hh:mm:ss]. If it is not visible, say so."
    )
    request = CaptionRequest(start, end, images, spoken, instruction=instruction).with_at_most(
        captioner.max_frames
    )
    [caption] = captioner.caption([request])
    return Evidence(start, end, caption.strip(), 1.0, "inspection"), len(request.frames)
