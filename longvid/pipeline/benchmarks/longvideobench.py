"""LongVideoBench as published (github.com/longvideobench/LongVideoBench, its dataset on
Hugging Face): ``lvb_val.json`` and ``lvb_test_wo_gt.json``, lists of ``{"id", "video_id",
"question", "candidates", "correct_choice" (val only), "video_path", "subtitle_path",
"duration_group" (15/60/600/3600), "question_category", "starting_timestamp_for_subtitles",
"duration", …}``; videos in ``videos/``, subtitles (JSON) in ``subtitles/``. The dataset's
parquet files (``option0`` … ``option4`` instead of ``candidates``) read too.
Scored as lmms-eval's ``longvideobench_aggregate_results``: accuracy per duration group and per
question category, and overall (a reply with no letter, which lmms-eval replaces by a random pick,
counts wrong here). The test split writes ``{id: letter}`` for submission.
"""

from __future__ import annotations

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


def _candidates(row: dict[str, Any]) -> tuple[str, ...]:
    """``candidates`` (the JSON files), or ``option0`` … ``option4`` with "N/A" for none (the
    dataset's parquet, as lmms-eval reads it)."""
    if "candidates" in row:
        return tuple(str(o) for o in row["candidates"])
    options = [row.get(f"option{i}") for i in range(5)]
    return tuple(str(o) for o in options if o not in (None, "N/A"))


class LongVideoBench(Format):
    name = "longvideobench"
    title = "LongVideoBench"
    where = "lvb_val.json / lvb_test_wo_gt.json with videos/ and subtitles/ beside them"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return (
            bool(rows)
            and ("candidates" in rows[0] or "option0" in rows[0])
            and (
                "correct_choice" in rows[0]
                or "duration_group" in rows[0]
                or "subtitle_path" in rows[0]
            )
        )

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        folder = videos or path.parent / "videos"
        items = []
        rows = rows_of(data)
        for number, row in enumerate(rows):
            lacks(path, self.title, row, ("question", "video_path"))
            options = _candidates(row)
            subtitle = path.parent / "subtitles" / str(row.get("subtitle_path") or "")
            items.append(Item(str(row.get("id", number)), str(find_video([folder / str(row["video_path"])])),
                              str(row["question"]), options, answer_index(row.get("correct_choice"), len(options)),
                              row.get("question_category"),
                              tags={k: row.get(k) for k in ("duration_group", "question_category")},
                              subtitles=str(subtitle) if row.get("subtitle_path") and subtitle.is_file() else None,
                              subtitle_offset=float(row.get("starting_timestamp_for_subtitles") or 0)))  # fmt: skip
        split = "val" if any("correct_choice" in row for row in rows) else "test"
        return Benchmark(self.name, self.title, path, items, split)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        breakdowns = {f: tally(scored, tag(f)) for f in ("duration_group", "question_category")}
        published: dict[str, Any] = {
            k: {"num": v["total"], "acc": round(v["accuracy"], 5)}
            for part in breakdowns.values()
            for k, v in part.items()
        }
        published["Overall"] = {
            "num": 2 * len(scored),
            "acc": round(ratio(correct, len(scored)), 5),
        }
        return Scores(ratio(correct, len(scored)), correct, len(scored), breakdowns=breakdowns,
                      published=published if scored else {}, unscored=len(records) - len(scored))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """lmms-eval's ``longvideobench_test_for_submission.json``: ``{id: prediction}``."""
        return "longvideobench_test_for_submission.json", {
            r["id"]: r["predicted_letter"] for r in records
        }
