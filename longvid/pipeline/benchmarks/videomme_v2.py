"""Video-MME-v2 (github.com/MME-Benchmarks/Video-MME-v2, the dataset MME-Benchmarks/Video-MME-v2),
read as lmms-eval's ``videomme_v2`` task reads it: rows of ``video_id, question_id ("001-1"),
question, options ("A. …\\nB. …", up to H), answer (a letter), group_type (relevance / logic),
group_structure ("[1, 2, 3, 4]", "[1, [2, 3], 4]", "[[1, 2], 3, 4]"), level, second_head,
third_head``; videos ``<video_id>.mp4``.

Scored as the authors' grouped non-linear rule (lmms-eval's copy, "from official Video-MME-v2"):
a video's questions are one group; a relevance group scores 0, 100/16, 400/16, 900/16 or 100 by how
many are right; a logic group scores by how far along its chain the answers stay right. The
headline is the mean group score; question accuracy is reported beside it.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from longvid.errors import InputError
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
    tally,
)

FIELDS = ("group_type", "group_structure", "level", "second_head", "third_head")
QUADRATIC = {0: 0.0, 1: 100 / 16, 2: 400 / 16, 3: 900 / 16, 4: 100.0}
CHAINS: dict[str, dict[int, float]] = {
    "[1, 2, 3, 4]": QUADRATIC,
    "[1, [2, 3], 4]": {0: 0.0, 1: 100 / 12, 2: 400 / 12, 3: 700 / 12, 4: 100.0},
    "[[1, 2], 3, 4]": {0: 0.0, 1: 100 / 10, 2: 200 / 10, 3: 500 / 10, 4: 100.0},
}


def group_score(kind: str, structure: str, marks: list[bool]) -> float:
    """cal_relevance / cal_logic: one group's score (0-100) from its answers in question order."""
    if kind == "relevance":
        return QUADRATIC.get(sum(marks), 0.0)
    key = str(ast.literal_eval(structure)) if isinstance(structure, str) else str(structure)
    if key not in CHAINS:
        raise InputError(f"unknown Video-MME-v2 group_structure {structure!r}", "check the file")
    last = -1
    for index, mark in enumerate(marks):
        if not mark:
            break
        last = index
    if key == "[1, [2, 3], 4]" and last == 0 and len(marks) > 2 and marks[2]:
        last += 1  # 2 and 3 are parallel: 1 then 3 right counts as two along the chain
    if key == "[[1, 2], 3, 4]" and last == -1 and len(marks) > 1 and marks[1]:
        last += 1  # 1 and 2 are parallel
    return CHAINS[key].get(last + 1, 0.0)


def _options(value: Any) -> tuple[str, ...]:
    parts = value if isinstance(value, list) else re.split(r"\n(?=[A-H]\.)", str(value).strip())
    return tuple(re.sub(r"^\s*[A-H][.)]\s*", "", str(p)).strip() for p in parts if str(p).strip())


class VideoMMEv2(Format):
    name = "videomme_v2"
    title = "Video-MME-v2"
    where = "its parquet (group_type, group_structure columns), videos as <video_id>.mp4"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return bool(rows) and {"group_type", "group_structure", "question_id"} <= set(rows[0])

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        roots = [videos] if videos else [path.parent, path.parent.parent]
        items = []
        for row in rows_of(data):
            lacks(
                path,
                self.title,
                row,
                ("video_id", "question_id", "question", "options", "answer", *FIELDS[:2]),
            )
            vid = str(row["video_id"])
            options = _options(row["options"])
            video = find_video(
                r / sub / f"{vid}.mp4" for r in roots for sub in ("", "videos", "data")
            )
            items.append(Item(str(row["question_id"]), str(video), str(row["question"]), options,
                              answer_index(row.get("answer"), len(options)), str(row.get("third_head") or ""),
                              tags={"video_id": vid, **{k: row.get(k) for k in FIELDS}}))  # fmt: skip
        return Benchmark(self.name, self.title, path, items)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in scored:
            groups[record["tags"]["video_id"]].append(record)
        rows = []
        for members in groups.values():
            members.sort(key=lambda r: int(str(r["id"]).split("-")[-1]))
            tags = members[-1]["tags"]  # the group's taxonomy is its last question's
            value = group_score(
                str(tags["group_type"]),
                tags["group_structure"],
                [bool(r["correct"]) for r in members],
            )
            rows.append({"correct": value / 100, "tags": tags})
        overall = sum(r["correct"] for r in rows) / len(rows) if rows else 0.0
        by = {f: _mean_by(rows, f) for f in ("group_type", "level", "second_head", "third_head")}
        published = {"overall_score": round(100 * overall, 2),
                     **{f"{k}_score": v for k, v in by["group_type"].items()},
                     **{f"level_{k}_score": v for k, v in by["level"].items()},
                     "overall_acc": round(100 * ratio(correct, len(scored)), 2)}  # fmt: skip
        return Scores(round(overall, 4), correct, len(scored), "group score",
                      breakdowns={"group_type": tally(scored, lambda r: r["tags"]["group_type"]),
                                  "level": tally(scored, lambda r: r["tags"]["level"])},
                      published=published, unscored=len(records) - len(scored))  # fmt: skip


def _mean_by(rows: list[dict[str, Any]], field: str) -> dict[str, float]:
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        values[str(row["tags"].get(field))].append(row["correct"])
    return {k: round(100 * sum(v) / len(v), 2) for k, v in sorted(values.items())}
