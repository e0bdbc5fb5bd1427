"""A benchmark's own subtitles for indexing: Video-MME's ``subtitle/<videoID>.srt`` and
LongVideoBench's JSON subtitles become an ``.srt`` beside a link to the video in a staging folder
(the downloaded files stay untouched), where indexing finds it as a sidecar."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from longvid.pipeline.benchmarks.base import Item

TAG = re.compile(r"<[^>]+>")


def _clock(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d},{millis % 1000:03d}"


def _seconds(text: str) -> float:
    hours, minutes, seconds = text.strip().replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def subtitle_lines(
    path: Path, offset: float = 0.0, duration: float | None = None
) -> list[tuple[float, float, str]]:
    """(start, end, text) from an .srt (markup dropped) or LongVideoBench's JSON, minus ``offset``."""
    lines = []
    if path.suffix == ".json":
        entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        for entry in entries:  # longvideobench_dataset.py: two shapes
            if "timestamp" in entry:
                start, end = entry["timestamp"]
                end = end if isinstance(end, int | float) else (duration or start + 2.0)
                text = entry["text"]
            else:
                start, end, text = _seconds(entry["start"]), _seconds(entry["end"]), entry["line"]
            lines.append((float(start) - offset, float(end) - offset, str(text)))
    else:
        for block in re.split(
            r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace").replace("\r", "")
        ):
            rows = block.strip().split("\n")
            times = next((i for i, row in enumerate(rows) if "-->" in row), None)
            if times is None:
                continue
            start, end = rows[times].split("-->")
            text = " ".join(TAG.sub("", row).strip() for row in rows[times + 1 :]).strip()
            if text:
                lines.append((_seconds(start) - offset, _seconds(end.split()[0]) - offset, text))
    return [(max(s, 0.0), max(e, s, 0.0), t) for s, e, t in lines if e > 0]


def staged_video(item: Item, folder: Path) -> str:
    """A link to the item's video with its subtitles beside it as ``.srt`` (made once)."""
    if not item.subtitles or not Path(item.video).is_file():
        return item.video
    video = Path(item.video)
    link = folder / f"{video.stem}{video.suffix}"
    srt = link.with_suffix(".srt")
    if not srt.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            os.symlink(video.resolve(), link)
        lines = subtitle_lines(Path(item.subtitles), item.subtitle_offset)
        text = "\n".join(
            f"{i}\n{_clock(s)} --> {_clock(e)}\n{t}\n" for i, (s, e, t) in enumerate(lines, 1)
        )
        srt.write_text(text, encoding="utf-8")
    return str(link)
