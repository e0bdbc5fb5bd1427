"""What every benchmark reader shares: the question record, answers as letters, the reader's
interface, reading the published files, and per-field accuracy as the official scripts count it."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longvid.errors import InputError, MissingDependencyError
from longvid.recall.choices import LETTERS

NO_MATCH = -1  # the published answer is none of the options: the official scorer counts it wrong
VIDEO_SUFFIXES = (".mp4", ".MP4", ".mkv", ".webm", ".avi", ".mov")


@dataclass(frozen=True)
class Item:
    """One question about one video. ``answer`` is the option's index (None: not published)."""

    id: str
    video: str
    question: str
    options: tuple[str, ...]
    answer: int | None
    category: str | None = None
    time: float | None = None  # when the answer is said or first shown (seconds), if known
    time_end: float | None = None  # until when it stays on screen, for answers shown a while
    tags: Mapping[str, Any] = field(default_factory=dict)  # the published breakdown fields
    subtitles: str | None = None  # the benchmark's own subtitle file for the video
    subtitle_offset: float = 0.0  # seconds to subtract from the subtitle file's times
    reference: str | None = None  # open-ended questions: the reference answer

    @property
    def open_ended(self) -> bool:
        return not self.options


@dataclass
class Benchmark:
    """A benchmark file as read: its format, split and questions."""

    format: str
    title: str
    path: Path
    items: list[Item]
    split: str = "val"  # "test": answers are not published; predictions go to a submission file
    notes: list[str] = field(default_factory=list)


@dataclass
class Scores:
    """Accuracy as the benchmark's own script reports it, with its published breakdowns."""

    accuracy: float  # the headline figure (a fraction), e.g. MLVU's mean of task accuracies
    correct: int
    total: int
    headline: str = "accuracy"
    breakdowns: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    published: dict[str, Any] = field(default_factory=dict)  # the official script's own output
    unscored: int = 0  # answered but not scored (no published answer, or open-ended)
    unscored_by: dict[str, int] = field(default_factory=dict)  # open-ended questions per task


Records = list[dict[str, Any]]


class Format:
    """A benchmark reader: recognise its files, read them, score and write predictions as its
    authors do. Subclasses override what differs."""

    name = "common"
    title = "common multiple-choice"
    where = ""  # the published layout, for error messages

    def detect(self, path: Path, data: Any) -> bool:
        raise NotImplementedError

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        raise NotImplementedError

    def score(self, records: Records) -> Scores:
        """Plain accuracy over the questions with a published answer, per category."""
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        return Scores(ratio(correct, len(scored)), correct, len(scored),
                      breakdowns={"category": tally(scored, lambda r: r.get("category") or "all")},
                      unscored=len(records) - len(scored))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        """The file the authors take predictions in: (default file name, content), or None."""
        return None


def ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def tally(
    records: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> dict[str, dict[str, float]]:
    """Accuracy per value of ``key(record)``; a list value counts the record under each of its
    values (LVBench's question types)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for record in records:
        values = key(record)
        for value in values if isinstance(values, list | tuple) else [values]:
            if value is not None:
                groups[str(value)].append(bool(record["correct"]))
    return {
        name: {
            "accuracy": ratio(sum(marks), len(marks)),
            "correct": sum(marks),
            "total": len(marks),
        }
        for name, marks in sorted(groups.items())
    }


def tag(name: str) -> Callable[[dict[str, Any]], Any]:
    """A record's published field ``name`` (for ``tally``)."""
    return lambda record: record["tags"].get(name)


def answer_index(value: Any, options: int) -> int | None:
    """An answer given as an index (0-based), a letter (A/B/...), or "(B)" / "B." -> its index."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        index = int(value)
    else:
        match = re.match(r"\W*([A-Ja-j])\b", str(value))
        if not match:
            raise InputError(
                f"answer {value!r} is neither an index nor a letter",
                "use 0-based indices or A, B, …",
            )
        index = LETTERS.index(match.group(1).upper())
    if not 0 <= index < options:
        raise InputError(
            f"answer {value!r} is out of range for {options} options", "check the benchmark file"
        )
    return index


def span(text: str) -> tuple[float | None, float | None]:
    """``mm:ss-mm:ss`` / ``hh:mm:ss-hh:mm:ss`` to seconds; (None, None) when absent."""
    parts = [p.strip() for p in text.split("-") if p.strip()]
    if not parts:
        return None, None
    times = [sum(float(x) * 60**i for i, x in enumerate(reversed(p.split(":")))) for p in parts]
    return times[0], times[-1]


def find_video(candidates: Iterable[Path]) -> Path:
    """The first candidate that exists (also as .MP4/.mkv, as lmms-eval looks), else the first."""
    candidates = list(candidates)
    for candidate in candidates:
        for suffix in dict.fromkeys((candidate.suffix, *VIDEO_SUFFIXES)):
            path = candidate.with_suffix(suffix) if candidate.suffix else candidate
            if path.is_file():
                return path
    return candidates[0]


def read_data(path: Path) -> Any:
    """A published file's content: JSON (list or object), JSON Lines, CSV rows or parquet rows;
    a folder (MLVU's ``json/``) reads as itself."""
    if path.is_dir():
        return path
    try:
        if path.suffix == ".parquet":
            return _parquet(path)
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise InputError(f"{path}: the file is empty", "download the benchmark file again")
        if path.suffix == ".csv":
            return list(csv.DictReader(text.splitlines()))
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read the benchmark file ({exc})",
            "pass the file as published (JSON, JSON Lines, CSV or Video-MME's parquet)",
        ) from None


def _parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", "eval") from None
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty", "download the benchmark file again")
    try:
        return list(pq.read_table(path).to_pylist())
    except Exception as exc:  # pyarrow's own errors: not a parquet file, truncated
        raise InputError(
            f"{path}: not a readable parquet file ({exc})", "download the benchmark file again"
        ) from None


def rows_of(data: Any) -> list[dict[str, Any]]:
    """The rows of a list-shaped file (empty for anything else)."""
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        return data
    return []


def lacks(path: Path, name: str, row: dict[str, Any], keys: Iterable[str]) -> None:
    """A one-line error when a row misses a field its format needs."""
    missing = [k for k in keys if k not in row]
    if missing:
        raise InputError(f"{path}: a {name} row lacks {', '.join(map(repr, missing))}",
                         "pass the file as its authors publish it")  # fmt: skip
