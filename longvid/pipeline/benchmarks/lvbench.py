"""LVBench as published (github.com/THUDM/LVBench): ``video_info.meta.jsonl``, one video a line,
``{"key": YouTube id, "type", "qa": [{"uid", "question" with its options inline as "(A) …",
"answer": letter, "question_type": [one or more], "time_reference": "mm:ss-mm:ss"}], …}``;
videos ``<key>.mp4`` (or video2dataset's numbered files with their ``.json`` beside them).
Scored as ``lvbench/metrics/compute_accuracy.py``: a question counts in every one of its types;
``time_reference`` scores the cited time.
"""

from __future__ import annotations

import json
import re
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
    span,
    tally,
)

# scripts/test_acc.py: the leaderboard's names
SHORT = {"key information retrieval": "KIR", "event understanding": "EU", "summarization": "Sum",
         "entity recognition": "ER", "reasoning": "Rea", "temporal grounding": "TG"}  # fmt: skip


def _downloaded(folder: Path) -> dict[str, Path]:
    """video2dataset's layout (scripts/download.sh): ``00000/00000000.mp4`` with a ``.json``
    beside each holding its URL; key -> file."""
    found = {}
    for meta in folder.glob("*/*.json") if folder.is_dir() else []:
        try:
            url = str(json.loads(meta.read_text()).get("url", ""))
        except (OSError, ValueError, AttributeError):
            continue
        match = re.search(r"v=([\w-]+)", url)
        if match and meta.with_suffix(".mp4").is_file():
            found[match.group(1)] = meta.with_suffix(".mp4")
    return found


def _options(question: str) -> tuple[str, tuple[str, ...]]:
    stem, _, rest = question.partition("\n(A)")
    if not rest:
        return question.strip(), ()
    options = re.split(r"\n\([B-J]\)", rest)
    return stem.strip(), tuple(o.strip() for o in options)


class LVBench(Format):
    name = "lvbench"
    title = "LVBench"
    where = "video_info.meta.jsonl, videos as <key>.mp4 in videos/"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return bool(rows) and "key" in rows[0] and isinstance(rows[0].get("qa"), list)

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        folders = (
            [videos]
            if videos
            else [path.parent / "videos", path.parent / "all_videos", path.parent]
        )
        downloaded: dict[str, Path] | None = None
        items = []
        for row in rows_of(data):
            lacks(path, self.title, row, ("key", "qa"))
            video = find_video(folder / f"{row['key']}.mp4" for folder in folders)
            if not video.is_file():
                downloaded = downloaded if downloaded is not None else _downloaded(folders[0])
                video = downloaded.get(str(row["key"]), video)
            for qa in row["qa"]:
                lacks(path, self.title, qa, ("uid", "question", "question_type"))
                stem, options = _options(str(qa["question"]))
                kinds = (
                    qa["question_type"]
                    if isinstance(qa["question_type"], list)
                    else [qa["question_type"]]
                )
                start, end = span(str(qa.get("time_reference") or ""))
                items.append(Item(str(qa["uid"]), str(video), stem, options,
                                  answer_index(qa.get("answer"), len(options)), kinds[0] if kinds else None,
                                  start, end, tags={"question_type": list(kinds), "type": row.get("type")}))  # fmt: skip
        return Benchmark(self.name, self.title, path, items)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        kinds = tally(scored, lambda r: r["tags"]["question_type"])
        published = {SHORT.get(k, k): v["accuracy"] for k, v in kinds.items()}
        published["Overall"] = ratio(correct, len(scored))
        return Scores(ratio(correct, len(scored)), correct, len(scored),
                      breakdowns={"question_type": kinds, "video_type": tally(scored, lambda r: r["tags"]["type"])},
                      published=published, unscored=len(records) - len(scored))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """compute_accuracy's answer file: ``{uid: letter}``."""
        return "lvbench_answers.json", {r["id"]: r["predicted_letter"] for r in records}
