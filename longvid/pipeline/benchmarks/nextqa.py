"""NExT-QA as published (github.com/doc-doc/NExT-QA): ``dataset/nextqa/val.csv`` / ``test.csv``
(``video, frame_count, width, height, question, answer, qid, type, a0 … a4``), and
``map_vid_vidorID.json`` beside them mapping each video to its folder in the NExTVideo download
(``"2909445186": "0101/2909445186"``). Scored as ``eval_mc.py`` scores: TP counts as TN, accuracy
per type (Why, How, Bef&Aft, When, Cnt, Loc, Other), per group (Acc_C, Acc_T, Acc_D) and overall.
"""

from __future__ import annotations

import json
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
    tally,
)

MAP = "map_vid_vidorID.json"
NAMES = {"CW": "Why", "CH": "How", "TN": "Bef&Aft", "TC": "When", "DC": "Cnt", "DL": "Loc",
         "DO": "Other", "C": "Acc_C", "T": "Acc_T", "D": "Acc_D"}  # fmt: skip
GROUPS = {"C": "causal", "T": "temporal", "D": "descriptive"}


def _video_root(path: Path, videos: Path | None) -> Path:
    """--videos, else a NExTVideo folder beside the CSV or up to three folders above it."""
    if videos:
        return videos
    for folder in [path.parent, *list(path.parents)[:4]]:
        if (folder / "NExTVideo").is_dir():
            return folder / "NExTVideo"
    return path.parent


class NextQA(Format):
    name = "nextqa"
    title = "NExT-QA"
    where = "val.csv/test.csv with map_vid_vidorID.json beside them; videos in NExTVideo/"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return bool(rows) and {"a0", "a4", "qid", "type"} <= set(rows[0])

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        mapping = (
            json.loads((path.parent / MAP).read_text()) if (path.parent / MAP).is_file() else {}
        )
        notes = (
            []
            if mapping
            else [f"no {MAP} beside {path.name}: videos are looked for as <video>.mp4"]
        )
        root = _video_root(path, videos)
        items = []
        for row in rows_of(data):
            lacks(path, self.title, row, ("video", "qid", "type", "question", "answer",
                                          *(f"a{i}" for i in range(5))))  # fmt: skip
            vid, kind = str(row["video"]), str(row["type"])
            kind = "TN" if kind == "TP" else kind  # eval_mc.py: previous and next together
            video = find_video([root / f"{mapping.get(vid, vid)}.mp4", root / f"{vid}.mp4"])
            items.append(Item(f"{vid}_{row['qid']}", str(video), str(row["question"]),
                              tuple(str(row[f"a{i}"]) for i in range(5)), answer_index(row.get("answer"), 5),
                              kind, tags={"type": kind, "group": GROUPS.get(kind[0], kind[0])}))  # fmt: skip
        split = "test" if path.stem.startswith("test") else "val"
        return Benchmark(self.name, self.title, path, items, split, notes)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        types = tally(scored, lambda r: r["tags"]["type"])
        groups = tally(scored, lambda r: r["tags"]["type"][0])
        published = {
            NAMES.get(k, k): round(100 * v["accuracy"], 2) for k, v in {**types, **groups}.items()
        }
        published["Acc"] = round(100 * ratio(correct, len(scored)), 2)
        return Scores(ratio(correct, len(scored)), correct, len(scored), "Acc",
                      breakdowns={"type": types, "group": tally(scored, lambda r: r["tags"]["group"])},
                      published=published, unscored=len(records) - len(scored))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """eval_mc.py's result file: ``{video_qid: {"prediction", "answer"}}``."""
        return "nextqa_results.json", {
            r["id"]: {
                "prediction": -1 if r["predicted"] is None else r["predicted"],
                "answer": r["answer"],
            }
            for r in records
        }
