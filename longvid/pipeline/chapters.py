"""Chapters from a summary's sections: YouTube description lines and FFmpeg's metadata file.

YouTube's rules: the first chapter starts at 00:00 and each lasts at least 10 seconds, so
shorter sections merge into the one before. Titles are the section summary's first sentence,
without citations, shortened to a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from longvid.words import NO_SPACE_CHAR

MIN_CHAPTER_S = 10.0
_TITLE_CHARS = 60


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


def title_of(text: str) -> str:
    """A short title: the first sentence, citations removed, cut at a word to one line."""
    plain = " ".join(re.sub(r"\[[^\]]*\]", "", text).split())
    plain = re.sub(r"\s+([.,;:!?])", r"\1", plain)  # where a citation stood before a full stop
    first = re.split(r"(?<=[.!?])\s|(?<=[。！？])", plain, maxsplit=1)[0]
    sentence = first.rstrip(".。").strip() or "Untitled"
    limit = _TITLE_CHARS // 2 if NO_SPACE_CHAR.search(sentence) else _TITLE_CHARS  # wide characters
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit]
    return (cut if NO_SPACE_CHAR.search(cut[-1]) else cut.rsplit(" ", 1)[0]) + "…"


def chapters(sections: list[dict[str, Any]]) -> list[Chapter]:
    """Sections as chapters: the first at 0, none shorter than 10 s (merged backwards)."""
    marks: list[Chapter] = []
    for section in sorted(sections, key=lambda s: s["start"]):
        start = 0.0 if not marks else float(section["start"])
        title = title_of(str(section["summary"]))
        short = float(section["end"]) - start < MIN_CHAPTER_S
        if marks and (short or start - marks[-1].start < MIN_CHAPTER_S):
            marks[-1] = Chapter(marks[-1].start, float(section["end"]), marks[-1].title)
            continue
        if marks:
            marks[-1] = Chapter(marks[-1].start, start, marks[-1].title)
        marks.append(Chapter(start, float(section["end"]), title))
    if len(marks) > 1 and marks[-1].end - marks[-1].start < MIN_CHAPTER_S:
        last = marks.pop()
        marks[-1] = Chapter(marks[-1].start, last.end, marks[-1].title)
    return marks


def _stamp(seconds: float) -> str:
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def youtube_lines(marks: list[Chapter]) -> str:
    """``00:00 Title`` lines, as YouTube reads them from a description."""
    return "\n".join(f"{_stamp(c.start)} {c.title}" for c in marks) + "\n"


def ffmetadata(marks: list[Chapter]) -> str:
    """FFmpeg's metadata file: ``ffmpeg -i in.mp4 -i ch.txt -map_metadata 1 -codec copy out.mp4``."""

    def escaped(text: str) -> str:
        return re.sub(r"([=;#\\\n])", r"\\\1", text)

    blocks = [
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={round(c.start * 1000)}\nEND={round(c.end * 1000)}\n"
        f"title={escaped(c.title)}\n"
        for c in marks
    ]
    return ";FFMETADATA1\n" + "\n".join(blocks)
