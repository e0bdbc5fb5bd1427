"""``ask``: answer a question from the memory with a budgeted agent, then check its citations.

The first retrieval (or, for questions about the whole video, the cached section summaries) is
shown to the agent with its tools (``longvid.agent``): it answers at once when that is enough,
else searches again, reads around moments, looks at the video or reads the overview, one step
at a time, within ``max_steps`` and ``max_frames``. Citations are checked against the evidence
gathered; an answer the evidence does not support comes back as "not found in the video".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from longvid.agent import loop
from longvid.agent.stopping import replaces, timeline_replaces
from longvid.agent.tools import TOOLS, Workspace
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, ChatModel, Embedder, VisualEmbedder
from longvid.pipeline.summarize import summarize_memory
from longvid.recall import computed
from longvid.recall.choices import LETTERS, read_choice, with_options
from longvid.recall.citations import CITATION, fix_citations
from longvid.recall.retrieve import Evidence, retrieve
from longvid.recall.support import NOT_FOUND, grounded, holders
from longvid.recall.timeline import Finding, find, parse
from longvid.timeline import hms

WHOLE_VIDEO = re.compile(
    r"\b(what (is|was) (this|the) (whole )?(video|film|movie|clip|talk|lecture|episode|meeting|interview)"
    r"( \w+)? about|summar(y|ise|ize)|overall|main (points?|topics?|ideas?|events?)|whole (video|film|thing)|"
    r"gist|in (a|one) (sentence|paragraph))\b"
    r"|(?:视频|影片|这部|整个|全片).{0,6}(?:讲|说)(?:了)?(?:什么|啥)|总结|概括|摘要|主要内容|大意"  # zh
    r"|要約|まとめ|何についての|あらすじ"  # ja
    r"|\bde qu[ée] (?:trata|va|habla)\b|\bresum(?:en|e|ir|a)\b|\bidea principal\b"  # es, fr
    r"|\bzusammenfass|\bworum geht\b",  # de
    re.IGNORECASE,
)


@dataclass
class AskOptions:
    top_k: int | None = None
    inspect: bool = True  # the agent may look at the video (when a video LLM is loaded)
    max_steps: int = 6  # tool calls before the answer is forced
    max_frames: int = 32  # frames inspected in all
    agent: bool = True  # False: the baseline, one retrieval and one answer


@dataclass
class Answer:
    question: str
    answer: str
    evidence: list[Evidence]
    cited: list[tuple[float, float]]
    steps: list[loop.Step] = field(default_factory=list)
    frames_inspected: int = 0
    found: bool = True
    confidence: str = "low"
    used_summary: bool = False
    elapsed_s: float = 0.0
    models: dict[str, str] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)  # frames behind the answer
    captioned: int = 0  # chunks of a lazy memory captioned for this question
    computed: bool = False  # the answer is the timeline operation's (its count, order or span)
    options: list[str] = field(default_factory=list)  # a multiple-choice question's options

    def frames_behind(self, chosen: list[tuple[float, float]]) -> None:
        """The frames that visual search matched and that looks chose, with why."""
        matched = [{"time": e.start, "score": e.score, "why": "visual match"}
                   for e in self.evidence if e.source == "visual"]  # fmt: skip
        looked = [
            {"time": t, "score": round(s, 4), "why": "chosen for a closer look"} for t, s in chosen
        ]
        self.frames = sorted(matched + looked, key=lambda f: f["time"])

    def choice(self) -> str | None:
        """The option letter the answer picks (None: none clearly), for a multiple-choice question."""
        picked = read_choice(self.answer, self.options)
        return None if picked is None else LETTERS[picked]

    def totals(self) -> dict[str, int]:
        return {
            "steps": len(self.steps),
            "frames_inspected": self.frames_inspected,
            "tokens_in": sum(s.tokens["in"] for s in self.steps),
            "tokens_out": sum(s.tokens["out"] for s in self.steps),
        }

    def to_dict(self, video: str) -> dict[str, Any]:
        return {
            "video": video,
            "question": self.question,
            "answer": self.answer,
            "found": self.found,
            "confidence": self.confidence,
            "citations": [{"start": s, "end": e} for s, e in self.cited],
            "evidence": [e.to_dict() for e in self.evidence],
            "steps": [s.to_dict() for s in self.steps],
            "totals": self.totals(),
            "frames_inspected": self.frames_inspected,
            "frames": self.frames,
            "models": self.models,
            "captioned_chunks": self.captioned,
            "computed": self.computed,
            **({"choice": self.choice()} if self.options else {}),
            "elapsed_s": round(self.elapsed_s, 2),
        }


def is_whole_video_question(question: str) -> bool:
    """Questions about the video as a whole are answered from its summary, not from top-k (one
    that asks a relation in time, "how many ... in the whole video", is the timeline's)."""
    return bool(WHOLE_VIDEO.search(question)) and parse(question) is None


def ask(
    video: str,
    question: str,
    memory: VideoMemory,
    embedder: Embedder,
    llm: ChatModel,
    captioner: Captioner | None = None,
    options: AskOptions | None = None,
    on_step: Callable[[loop.Step], None] | None = None,
    visual: VisualEmbedder | None = None,
    choices: Sequence[str] = (),
) -> Answer:
    """Answer ``question`` about ``video`` with checked citations; ``on_step`` sees each step.
    ``choices``: a multiple-choice question's options (the model reads them lettered after the
    question; its time form and whether it asks about the whole video are read without them)."""
    started = time.monotonic()
    options = options or AskOptions()
    duration = float((memory.meta("video") or {}).get("duration") or 0.0)
    looker = captioner if options.inspect else None
    ws = Workspace(video, memory, embedder, llm, looker, duration, options.max_frames, visual,
                   sections=lambda: summarize_memory(memory, llm).sections)  # fmt: skip
    whole = is_whole_video_question(question)
    prompt = with_options(question, choices)
    # a relation in time (after, before, how many, between, first/last) is computed here
    finding: Finding | None = None if whole else find(memory, embedder, question)
    timeline = finding.evidence if finding else []
    asked_of = timeline if finding and finding.query.direct else []  # the answer must be among these
    if whole:
        opening = TOOLS["overview"].run(ws, {})
    else:
        opening = ws.keep(timeline + retrieve(memory, embedder, prompt, options.top_k, visual))
    # with an answer the system computed, tools have nothing to add: the model's answer stands
    # when it says the same, else the computed one replaces it (``stopping.timeline_replaces``)
    reply = computed.reply(finding, question, choices) if finding and options.agent else None
    steps = options.max_steps if options.agent and reply is None else 0
    outcome = loop.run(prompt, ws, steps, on_step, opening, asked_of)
    result = Answer(question, "", ws.evidence, [], outcome.steps, ws.frames_inspected,
                    used_summary=whole, options=list(choices))  # fmt: skip
    final = outcome.action
    kept = outcome.draft
    if kept and final is not kept and not replaces(final, kept, ws.evidence, asked_of):
        final = outcome.draft  # the later answer is no better supported for this question
    if reply is not None and finding is not None and timeline_replaces(final, reply, finding, choices):
        final, result.computed = reply, True
    _settle(result, final, duration)
    result.frames_behind(ws.chosen)
    result.models = {"llm": llm.info.spec, "embedder": embedder.info.spec}
    if looker is not None:
        result.models["captioner"] = looker.info.spec
    result.elapsed_s = time.monotonic() - started
    return result


def _settle(result: Answer, action: dict[str, Any], duration: float) -> None:
    """The final answer text, its checked citations, and abstention when nothing supports it."""
    text = " ".join(str(action.get("answer", "")).split())
    result.confidence = str(action.get("confidence", "low"))
    claimed = bool(action.get("found", True))
    result.found = bool(result.evidence) and (claimed or grounded(action, result.evidence))
    if not result.found:
        reason = text.removeprefix(NOT_FOUND).lstrip(":— ") or "the memory holds nothing on this"
        result.answer, result.cited, result.confidence = f"{NOT_FOUND}: {reason}", [], "low"
        return
    cited = [f"[{str(c).strip(' []')}]" for c in action.get("citations") or []]
    if not CITATION.search(text):
        text = " ".join([text, *(c for c in cited if CITATION.fullmatch(c))])
    if not CITATION.search(text):  # uncited: the moment its words come from, not merely the top hit
        source = next((item for _, item in holders(action, result.evidence) if item.source != "timeline"), None)
        text = f"{text} [{hms(source.start)}]" if source else text
    result.answer, result.cited = fix_citations(text, result.evidence, duration or 1e9)
