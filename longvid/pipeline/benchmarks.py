"""Multiple-choice video QA files: the common format and adapters for EgoSchema, NExT-QA, Video-MME,
LVBench (whose ``time_reference`` lets eval score the cited time), LongVideoBench and MLVU.

Common format (JSON list, or JSON Lines)::

    [{"id": "q1", "video": "clips/a.mp4", "question": "...", "options": ["...", "..."],
      "answer": 1 or "B", "category": "temporal"}]

Video paths are relative to the benchmark file (or to ``videos_dir``).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from longvid.errors import InputError

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Item:
    """One multiple-choice question about one video. ``answer`` is the option's index."""

    id: str
    video: str
    question: str
    options: tuple[str, ...]
    answer: int | None
    category: str | None = None
    time: float | None = None  # when the answer is said or first shown (seconds), if known
    time_end: float | None = None  # until when it stays on screen, for answers shown a while


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


def _common(row: dict[str, Any], number: int) -> Item:
    options = tuple(str(o) for o in row["options"])
    start, end = (
        float(row[k]) if row.get(k) not in (None, "") else None for k in ("time", "time_end")
    )
    return Item(str(row.get("id", number)), str(row["video"]), str(row["question"]), options,
                answer_index(row.get("answer"), len(options)), row.get("category") or row.get("task"),
                start, end)  # fmt: skip


def _egoschema(row: dict[str, Any], number: int) -> Item:
    options = tuple(str(row[f"option {i}"]) for i in range(5))
    video = row.get("video") or f"{row['q_uid']}.mp4"
    return Item(
        str(row["q_uid"]), video, str(row["question"]), options, answer_index(row.get("answer"), 5)
    )


def _nextqa(row: dict[str, Any], number: int) -> Item:
    options = tuple(str(row[f"a{i}"]) for i in range(5))
    video = str(row["video"])
    video = video if Path(video).suffix else f"{video}.mp4"
    qid = f"{row['video']}_{row.get('qid', number)}"
    return Item(
        qid,
        video,
        str(row["question"]),
        options,
        answer_index(row.get("answer"), 5),
        row.get("type"),
    )


def _videomme(row: dict[str, Any], number: int) -> Item:
    options = tuple(re.sub(r"^\s*[A-J][.)]\s*", "", str(o)) for o in row["options"])
    video = row.get("video") or f"{row.get('videoID') or row['video_id']}.mp4"
    return Item(str(row.get("question_id", number)), str(video), str(row["question"]), options,
                answer_index(row.get("answer"), len(options)), row.get("task_type") or row.get("domain"))  # fmt: skip


def _lvbench(row: dict[str, Any], number: int) -> list[Item]:
    """One LVBench video (``video_info.meta.jsonl``): its questions carry the options inline."""
    items = []
    for qa in row["qa"]:
        stem, _, rest = str(qa["question"]).partition("\n(A)")
        options = tuple(o.strip() for o in re.split(r"\n\([B-J]\)", "(A)" + rest)) if rest else ()
        options = tuple(re.sub(r"^\(A\)\s*", "", o) for o in options)
        start, end = _span(str(qa.get("time_reference") or ""))
        kinds = qa.get("question_type") or []
        items.append(Item(str(qa["uid"]), f"{row['key']}.mp4", stem.strip(), options,
                          answer_index(qa.get("answer"), len(options)),
                          kinds[0] if isinstance(kinds, list) and kinds else None, start, end))  # fmt: skip
    return items


def _span(text: str) -> tuple[float | None, float | None]:
    """``mm:ss-mm:ss`` / ``hh:mm:ss-hh:mm:ss`` to seconds; (None, None) when absent."""
    parts = [p.strip() for p in text.split("-") if p.strip()]
    if not parts:
        return None, None
    times = [sum(float(x) * 60**i for i, x in enumerate(reversed(p.split(":")))) for p in parts]
    return times[0], times[-1]


def _longvideobench(row: dict[str, Any], number: int) -> Item:
    options = tuple(str(o) for o in row["candidates"])
    video = str(row.get("video_path") or f"{row['video_id']}.mp4")
    return Item(str(row.get("id", number)), video, str(row["question"]), options,
                answer_index(row.get("correct_choice"), len(options)), row.get("question_category"))  # fmt: skip


def _mlvu(row: dict[str, Any], number: int) -> Item:
    options = tuple(str(o) for o in row["candidates"])
    answer = options.index(str(row["answer"])) if str(row.get("answer")) in options else None
    return Item(str(row.get("question_id", number)), str(row["video"]), str(row["question"]), options,
                answer, row.get("question_type"))  # fmt: skip


# Recognised by the keys a row carries, most specific first.
ADAPTERS: list[
    tuple[str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], int], Item | list[Item]]]
] = [
    ("lvbench", lambda row: "key" in row and isinstance(row.get("qa"), list), _lvbench),
    (
        "longvideobench",
        lambda row: "candidates" in row and "correct_choice" in row,
        _longvideobench,
    ),
    ("mlvu", lambda row: "candidates" in row and "question_type" in row and "video" in row, _mlvu),
    ("egoschema", lambda row: "q_uid" in row and "option 0" in row, _egoschema),
    ("nextqa", lambda row: "a0" in row and "a4" in row, _nextqa),
    (
        "videomme",
        lambda row: "question_id" in row and ("videoID" in row or "video_id" in row),
        _videomme,
    ),
    ("common", lambda row: {"video", "question", "options"} <= set(row), _common),
]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a .json (list), .jsonl or .csv benchmark file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return list(csv.DictReader(text.splitlines()))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return list(data.values()) if isinstance(data, dict) else list(data)


def load_benchmark(
    path: str | Path, videos_dir: str | Path | None = None
) -> tuple[str, list[Item]]:
    """The format's name and its items, with video paths resolved."""
    path = Path(path)
    try:
        rows = read_rows(path)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot read benchmark ({exc})", "pass a JSON, JSON Lines or CSV file"
        ) from None
    if not rows:
        raise InputError(f"{path}: no questions", "check the file")
    for name, matches, adapt in ADAPTERS:
        if matches(rows[0]):
            base = Path(videos_dir) if videos_dir else path.parent
            try:
                adapted = [adapt(row, number) for number, row in enumerate(rows)]
                items = [i for a in adapted for i in (a if isinstance(a, list) else [a])]
            except KeyError as exc:
                raise InputError(
                    f"{path}: a {name} row lacks {exc}", "check the file against its format"
                ) from None
            return name, [_resolved(item, base) for item in items]
    raise InputError(
        f"{path}: unknown benchmark format (keys: {', '.join(sorted(rows[0]))})",
        "use video/question/options/answer, or an EgoSchema, NExT-QA, Video-MME, LVBench, "
        "LongVideoBench or MLVU file",
    )


def _resolved(item: Item, base: Path) -> Item:
    video = Path(item.video).expanduser()
    return replace(item, video=str(video if video.is_absolute() else base / video))
