"""MLVU (dev) as published (github.com/JUNJIE99/MLVU, its dataset on Hugging Face):
``json/<n>_<task>.json`` (``1_plotQA`` … ``7_topic_reasoning``: ``{"video", "duration", "question",
"candidates", "answer": the option's text, "question_type"}``; ``8_sub_scene`` with
``scoring_points`` and ``9_summary`` open-ended), videos ``video/<n>_<task>/<video>``. The task comes
from the file name. Pass one file or the ``json/`` folder.

Scored as ``evaluation/multiple_choice_evaluation/choice_bench.py``: the answer is the *last*
candidate equal to it; a row whose answer is no candidate stays and counts wrong; accuracy per task
and their mean ("Avg", the M-Avg papers report). Open-ended tasks are answered and kept, unscored
(the authors score them with a GPT judge; ``--judge MODEL`` does so on their criteria, see judge.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.pipeline.benchmarks.base import (
    NO_MATCH,
    Benchmark,
    Format,
    Item,
    Records,
    Scores,
    find_video,
    lacks,
    read_data,
    rows_of,
    tally,
)
from longvid.pipeline.benchmarks.judge import total

FILE = re.compile(r"^(\d+)_(\w+)\.json$")
OPEN_ENDED = {"sub_scene", "summary"}
PUBLISHED = {"sub_scene": "SSC", "summary": "VS"}  # the paper's columns


def official_answer(candidates: tuple[str, ...], answer: str) -> int:
    """choice_bench.py's qa_template: the last candidate equal to the answer, else none."""
    matches = [i for i, c in enumerate(candidates) if c == answer]
    return matches[-1] if matches else NO_MATCH


def _is_row(row: dict[str, Any]) -> bool:
    return (
        "video" in row
        and "question" in row
        and "answer" in row
        and (
            "candidates" in row
            or "scoring_points" in row
            or row.get("question_type") in ("summary", "subPlot")
        )
    )


class MLVU(Format):
    name = "mlvu"
    title = "MLVU"
    where = "json/<n>_<task>.json, videos in video/<n>_<task>/"

    def detect(self, path: Path, data: Any) -> bool:
        if isinstance(data, Path):
            return any(FILE.match(p.name) for p in data.glob("*.json"))
        rows = rows_of(data)
        return bool(rows) and _is_row(rows[0]) and "correct_choice" not in rows[0]

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        files = sorted((p for p in path.glob("*.json") if FILE.match(p.name)),
                       key=lambda p: int(FILE.match(p.name).group(1))) if isinstance(data, Path) else [path]  # type: ignore[union-attr]  # fmt: skip
        items = []
        for file in files:
            rows = rows_of(data if file == path else read_data(file))
            if not rows:
                raise InputError(
                    f"{file}: no MLVU questions in it", "pass the file as its authors publish it"
                )
            match = FILE.match(file.name)
            task = match.group(2) if match else str(rows[0].get("question_type"))
            root = file.parent.parent
            for number, row in enumerate(rows):
                lacks(file, self.title, row, ("video", "question", "answer"))
                video = find_video([*(d / file.stem / row["video"] for d in ([videos] if videos else [])),
                                    *([videos / row["video"]] if videos else []),
                                    root / "video" / file.stem / row["video"], root / "video" / task / row["video"],
                                    file.parent / row["video"]])  # fmt: skip
                options = (
                    () if task in OPEN_ENDED else tuple(str(c) for c in row.get("candidates") or ())
                )
                items.append(Item(f"{file.stem}/{number}", str(video), str(row["question"]), options,
                                  official_answer(options, str(row["answer"])) if options else None, task,
                                  tags={"task": task, "scoring_points": row.get("scoring_points")},
                                  reference=None if options else str(row["answer"])))  # fmt: skip
        return Benchmark(self.name, self.title, path, items)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        tasks = tally(scored, lambda r: r["tags"]["task"])
        published: dict[str, Any] = {
            task: round(100 * v["accuracy"], 2) for task, v in tasks.items()
        }
        average = sum(v["accuracy"] for v in tasks.values()) / len(tasks) if tasks else 0.0
        published["Avg"] = round(100 * average, 2)
        judged = [r for r in records if "judge" in r]
        for task in sorted({r["tags"]["task"] for r in judged}):  # calculate.py: mean of the sums
            mine = [total(r["judge"]) for r in judged if r["tags"]["task"] == task]
            published[PUBLISHED.get(task, task)] = round(sum(mine) / len(mine), 2)
        open_ended = sorted(
            {r["tags"]["task"] for r in records if r["answer"] is None and "judge" not in r}
        )
        return Scores(round(average, 4), correct, len(scored), "M-Avg", breakdowns={"task": tasks},
                      published=published, unscored=len(records) - len(scored),
                      unscored_by={t: sum(r["tags"]["task"] == t for r in records) for t in open_ended})  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """choice_bench.py's result file: ``acc_dict`` (task -> [correct, total]) and ``res_list``."""
        tasks = tally([r for r in records if r["answer"] is not None], lambda r: r["tags"]["task"])
        return "mlvu_results.json", {
            "acc_dict": {t: [int(v["correct"]), int(v["total"])] for t, v in tasks.items()},
            "res_list": [{"pred": r["response"], "gt": r.get("reference") or r["answer"], "question": r["question"],
                          "question_type": r["tags"]["task"], "video": r["video"]} for r in records],
        }  # fmt: skip
