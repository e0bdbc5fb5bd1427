"""Video-MME as published (huggingface.co/datasets/lmms-lab/Video-MME, linked from
github.com/MME-Benchmarks/Video-MME): ``videomme/test-00000-of-00001.parquet`` with ``video_id,
duration (short/medium/long), domain, sub_category, url, videoID, question_id, task_type,
question, options ("A. …"), answer (a letter)``; videos ``data/<videoID>.mp4``; subtitles
``subtitle/<videoID>.srt``. The authors' JSON (``output_test_template.json``: one object per video
with its ``questions``) reads too.

Scored as the authors' ``eval_your_results.py``: a reply with no option letter in it is left out
(it is not "answered"); accuracy by duration, domain, sub-category and task type. The predictions
file is that template with each ``response`` (what the leaderboard takes).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from longvid.pipeline.benchmarks.base import (
    Benchmark,
    Format,
    Item,
    Records,
    Scores,
    answer_index,
    find_video,
    lacks,
    ratio,
    rows_of,
    tag,
    tally,
)

FIELDS = ("duration", "domain", "sub_category", "task_type")


def _flat(data: Any) -> list[dict[str, Any]]:
    """Parquet rows as they are; the template's videos unrolled into one row per question."""
    rows = rows_of(data)
    if rows and "questions" in rows[0]:
        return [{**{k: v for k, v in video.items() if k != "questions"}, **q}
                for video in rows for q in video["questions"]]  # fmt: skip
    return rows


class VideoMME(Format):
    name = "videomme"
    title = "Video-MME"
    where = "videomme/test-00000-of-00001.parquet, videos in data/, subtitles in subtitle/"

    def detect(self, path: Path, data: Any) -> bool:
        rows = _flat(data)
        return bool(rows) and "question_id" in rows[0] and "task_type" in rows[0]

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        root = path.parent.parent if path.parent.name == "videomme" else path.parent
        folder = videos or root / "data"
        items = []
        for row in _flat(data):
            lacks(path, self.title, row, ("question_id", "question", "options", "answer", *FIELDS))
            vid = str(row.get("videoID") or row.get("video_id"))
            options = tuple(re.sub(r"^\s*[A-J][.)]\s*", "", str(o)) for o in row["options"])
            subtitle = root / "subtitle" / f"{vid}.srt"
            items.append(Item(str(row["question_id"]), str(find_video([folder / f"{vid}.mp4", root / f"{vid}.mp4"])),
                              str(row["question"]), options, answer_index(row.get("answer"), len(options)),
                              str(row["task_type"]), tags={k: row.get(k) for k in (*FIELDS, "video_id")},
                              subtitles=str(subtitle) if subtitle.is_file() else None))  # fmt: skip
        return Benchmark(self.name, self.title, path, items)

    def score(self, records: Records) -> Scores:
        with_key = [r for r in records if r["answer"] is not None]
        answered = [r for r in with_key if r["predicted"] is not None]  # eval_your_results.py
        correct = sum(bool(r["correct"]) for r in answered)
        breakdowns = {f: tally(answered, tag(f)) for f in FIELDS}
        published: dict[str, Any] = {
            d: round(100 * v["accuracy"], 1) for d, v in breakdowns["duration"].items()
        }
        published["Overall"] = round(100 * ratio(correct, len(answered)), 1)
        return Scores(ratio(correct, len(answered)), correct, len(answered), breakdowns=breakdowns,
                      published=published, unscored=len(records) - len(answered))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """``output_test_template.json``: one object per video, each question with its response."""
        videos: dict[str, dict[str, Any]] = defaultdict(dict)
        for r in records:
            tags = r["tags"]
            video = videos[str(tags.get("video_id"))]
            video.update(
                {k: tags.get(k) for k in ("video_id", "duration", "domain", "sub_category")}
            )
            video.setdefault("questions", []).append({
                "question_id": r["id"], "task_type": tags.get("task_type"), "question": r["question"],
                "options": [f"{letter}. {o}" for letter, o in zip("ABCDEFGHIJ", r["options"], strict=False)],
                "answer": None if r["answer"] is None else "ABCDEFGHIJ"[r["answer"]],
                "response": r["response"]})  # fmt: skip
        return "videomme_results.json", list(videos.values())
