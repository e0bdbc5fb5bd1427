"""longvid's own multiple-choice format (JSON list or JSON Lines)::

    [{"id": "q1", "video": "clips/a.mp4", "question": "...", "options": ["...", "..."],
      "answer": 1 or "B", "category": "temporal", "time": 12.0}]

Video paths are relative to the file (or to ``--videos``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from longvid.pipeline.benchmarks.base import Benchmark, Format, Item, answer_index, lacks, rows_of


class Common(Format):
    name = "common"
    title = "common multiple-choice"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return bool(rows) and {"video", "question", "options"} <= set(rows[0])

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        base = videos or path.parent
        items = []
        for number, row in enumerate(rows_of(data)):
            lacks(path, self.title, row, ("video", "question", "options"))
            options = tuple(str(o) for o in row["options"])
            start, end = (float(row[k]) if row.get(k) not in (None, "") else None
                          for k in ("time", "time_end"))  # fmt: skip
            video = Path(str(row["video"])).expanduser()
            items.append(Item(str(row.get("id", number)), str(video if video.is_absolute() else base / video),
                              str(row["question"]), options, answer_index(row.get("answer"), len(options)),
                              row.get("category") or row.get("task"), start, end))  # fmt: skip
        return Benchmark(self.name, self.title, path, items)
