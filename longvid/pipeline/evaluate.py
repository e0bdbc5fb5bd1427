"""``eval``: video QA benchmarks. Each video is indexed once; answers are cached in its memory.

Questions go through the same ``ask`` agent users get (retrieval, closer looks, citations), with
the options listed and the reply read back as an option letter (open-ended questions are asked as
they are). A video that cannot be opened or indexed skips its questions, with the reason, and the
run goes on; answers already given are cached, so an interrupted run resumes without re-asking.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, ChatModel, Embedder, VisualEmbedder
from longvid.pipeline.ask import AskOptions, ask
from longvid.pipeline.benchmarks import LETTERS, Item, Scores
from longvid.pipeline.captions import caption_for_question
from longvid.recall.choices import read_choice


@dataclass
class Report:
    """Accuracy overall and per category, with the per-question records and the skipped videos."""

    records: list[dict[str, Any]]
    elapsed_s: float = 0.0
    categories: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"video", "reason", "questions"}

    @property
    def scored(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["answer"] is not None]

    @property
    def accuracy(self) -> float:
        scored = self.scored
        return sum(r["correct"] for r in scored) / len(scored) if scored else 0.0

    def to_dict(self, scores: Scores | None = None) -> dict[str, Any]:
        """The report as JSON; with the benchmark's ``scores``, its headline and breakdowns."""
        scored = self.scored
        head: dict[str, Any] = {
            "accuracy": round(self.accuracy, 4),
            "correct": sum(r["correct"] for r in scored),
            "total": len(scored),
        }
        if scores is not None:
            head = {"accuracy": scores.accuracy, "correct": scores.correct, "total": scores.total,
                    "headline": scores.headline, "breakdowns": scores.breakdowns,
                    "published": scores.published, "unscored": scores.unscored,
                    "unscored_by_task": scores.unscored_by}  # fmt: skip
        return {
            **head,
            "answered": len(self.records),
            "skipped": self.skipped,
            "categories": self.categories,
            "mean_frames_captioned": _mean(r["frames_captioned"] for r in self.records),
            "mean_frames_inspected": _mean(r["frames_inspected"] for r in self.records),
            "mean_steps": _mean(r.get("steps", 0) for r in self.records),
            "mean_tokens": _mean(r.get("tokens", 0) for r in self.records),
            "mean_seconds": _mean(r["elapsed_s"] for r in self.records),
            "recall_at_5": _mean(r["recall_at_5"] for r in self.records if "recall_at_5" in r),
            "citation_accuracy": _mean(
                r["cited_overlap"] for r in self.records if "cited_overlap" in r
            ),
            "mean_time_error_s": _mean(
                r["time_error_s"] for r in self.records if r.get("time_error_s") is not None
            ),
            "elapsed_s": round(self.elapsed_s, 2),
            "questions": self.records,
        }


def answer_key(item: Item, llm: ChatModel, options: AskOptions, captioner: Captioner | None = None,
               visual: VisualEmbedder | None = None) -> str:  # fmt: skip
    """Cache key: the record's version, the question, its options, every model that shapes the
    answer (the LLM, the video LLM of closer looks, the image–text encoder) and the agent's bounds."""
    models = [llm.info.spec, captioner.info.spec if captioner else "none",
              visual.info.spec if visual else "none"]  # fmt: skip
    blob = json.dumps([7, item.question, item.options, models, asdict(options)], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()


def evaluate(
    items: Sequence[Item],
    memory_for: Callable[[str], VideoMemory],
    embedder_for: Callable[[VideoMemory], Embedder],
    llm: ChatModel,
    captioner: Captioner | None = None,
    options: AskOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    visual_for: Callable[[VideoMemory], VisualEmbedder | None] = lambda memory: None,
) -> Report:
    """Answer every item (cached answers are reused) and score them; ``visual_for`` gives a
    memory's image–text encoder, so eval searches what ``ask`` searches."""
    started = time.monotonic()
    options = options or AskOptions()
    records = []
    frames_captioned: dict[Path, int] = {}  # per video, counted once
    failed: dict[str, str] = {}  # video -> why it could not be opened or indexed
    for number, item in enumerate(items, start=1):
        memory = None if item.video in failed else _open(item.video, memory_for, failed)
        if memory is not None:
            visual = visual_for(memory)
            key = answer_key(item, llm, options, captioner, visual)
            record = memory.cached_answer(key)
            if record is None:
                if memory.folder not in frames_captioned:
                    frames_captioned[memory.folder] = _frames_captioned(memory)
                record = _answer(item, memory, embedder_for(memory), llm, captioner, options, visual)
                record["frames_captioned"] = frames_captioned[memory.folder]
                memory.save_answer(key, record)
            records.append(_scored(item, record))
        if progress:
            progress(number, len(items))
    report = Report(records, time.monotonic() - started)
    report.skipped = [{"video": video, "reason": reason, "questions": sum(i.video == video for i in items)}
                      for video, reason in failed.items()]  # fmt: skip
    report.categories = _by_category(report.scored)
    return report


def _open(
    video: str, memory_for: Callable[[str], VideoMemory], failed: dict[str, str]
) -> VideoMemory | None:
    """The video's memory, or None with the reason noted (a missing or broken video skips)."""
    try:
        return memory_for(video)
    except LongvidError as exc:
        failed[video] = exc.what
    except OSError as exc:
        failed[video] = f"{exc.strerror or exc}: {exc.filename or video}"
    return None


def _scored(item: Item, record: dict[str, Any]) -> dict[str, Any]:
    predicted = record["predicted"]
    return {**record, "id": item.id, "answer": item.answer, "category": item.category,
            "predicted_letter": "" if predicted is None else LETTERS[predicted],
            "correct": item.answer is not None and predicted == item.answer,
            "tags": dict(item.tags), **({"reference": item.reference} if item.reference else {}),
            **_timing(item.time, item.time_end, record)}  # fmt: skip


def _answer(item: Item, memory: VideoMemory, embedder: Embedder, llm: ChatModel,
            captioner: Captioner | None, options: AskOptions,
            visual: VisualEmbedder | None = None) -> dict[str, Any]:  # fmt: skip
    started = time.monotonic()
    captioned = 0
    if captioner is not None and options.inspect and _indexed_with(memory) == captioner.info.spec:
        # a lazy memory: the chunks this question needs are captioned first, as ``ask`` does
        captioned = caption_for_question(item.video, memory, item.question, captioner, embedder,
                                         visual, options.top_k)  # fmt: skip
    result = ask(item.video, item.question, memory, embedder, llm, captioner, options,
                 visual=visual, choices=item.options)  # fmt: skip
    return {
        "captioned": captioned,
        "video": item.video,
        "question": item.question,
        "options": list(item.options),
        "predicted": read_choice(result.answer, item.options) if item.options else None,
        "response": result.answer,
        "steps": len(result.steps),
        "tools": [s.tool for s in result.steps],
        "tokens": result.totals()["tokens_in"] + result.totals()["tokens_out"],
        "found": result.found,
        "computed": result.computed,
        "frames_inspected": result.frames_inspected,
        "elapsed_s": round(time.monotonic() - started, 2),
        "top5_spans": [[round(e.start, 2), round(e.end, 2)] for e in result.evidence[:5]],
        "cited_spans": [[round(start, 2), round(end, 2)] for start, end in result.cited],
    }


def _indexed_with(memory: VideoMemory) -> str | None:
    return (memory.meta("settings") or {}).get("captioner")


def _timing(truth: float | None, truth_end: float | None, record: dict[str, Any]) -> dict[str, Any]:
    """Retrieval recall@5 (a top-5 evidence span within 2 s of the truth) and the cited error, if known."""
    if truth is None:
        return {}
    last = truth if truth_end is None else truth_end

    def distance(
        span: list[float],
    ) -> float:  # gap between the span and the true moment (0: overlap)
        return max(span[0] - last, truth - span[1], 0.0)

    errors = [distance(span) for span in record["cited_spans"]]
    return {
        "time": truth,
        "recall_at_5": any(distance(span) <= 2.0 for span in record["top5_spans"]),
        "cited_overlap": any(distance(span) == 0.0 for span in record["cited_spans"]),
        "time_error_s": round(min(errors), 2) if errors else None,
    }


def _frames_captioned(memory: VideoMemory) -> int:
    """Frames the captioner saw while indexing the video (0 when it was indexed without one)."""
    if (memory.meta("settings") or {}).get("captioner", "none") == "none":
        return 0
    return sum(len(chunk.frame_times) for chunk in memory.chunks())


def _by_category(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each category's figures; categories named ``family: kind`` also add up under ``family``
    (the built-in set's ``temporal: right after`` ... count under ``temporal``)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        name = record["category"] or "all"
        groups[name].append(record)
        if ": " in name:
            groups[name.split(": ", 1)[0]].append(record)
    return {name: figures(group) for name, group in sorted(groups.items())}


def figures(records: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy, citation accuracy, recall@5 (where times are known) and the cost per question."""
    timed = [r for r in records if "recall_at_5" in r]
    correct = sum(r["correct"] for r in records)
    out: dict[str, float] = {
        "accuracy": round(correct / len(records), 4) if records else 0.0,
        "correct": correct,
        "total": len(records),
        "mean_seconds": _mean(r["elapsed_s"] for r in records),
        "mean_steps": _mean(r.get("steps", 0) for r in records),
        "mean_tokens": _mean(r.get("tokens", 0) for r in records),
    }
    if timed:
        out["recall_at_5"] = _mean(r["recall_at_5"] for r in timed)
        out["citation_accuracy"] = _mean(r["cited_overlap"] for r in timed)
    return out


def _mean(values: Any) -> float:
    numbers = list(values)
    return round(sum(numbers) / len(numbers), 2) if numbers else 0.0


def judge_open_ended(
    records: list[dict[str, Any]], memory_for: Callable[[str], VideoMemory], judge: ChatModel
) -> int:
    """Score MLVU's open-ended answers with an LLM judge, in place (``record["judge"]``); each
    judgement is cached in the video's memory like answers are. Returns how many were judged."""
    from longvid.pipeline.benchmarks.judge import KEYS, judge_messages, parse_judgement

    done = 0
    for record in records:
        task = (record.get("tags") or {}).get("task")
        if record["answer"] is not None or task not in KEYS:
            continue
        memory = memory_for(record["video"])
        blob = json.dumps(
            ["judge", 1, judge.info.spec, task, record["question"], record["response"]]
        )
        key = hashlib.sha1(blob.encode()).hexdigest()
        cached = memory.cached_answer(key)
        if cached is None:
            messages = judge_messages(task, record["question"], record.get("reference") or "",
                                      record["tags"].get("scoring_points"), record["response"])  # fmt: skip
            reply = judge.chat(messages)
            cached = {"judge": parse_judgement(task, reply), "judge_reply": reply}
            memory.save_answer(key, cached)
        record.update(cached)
        done += 1
    return done
