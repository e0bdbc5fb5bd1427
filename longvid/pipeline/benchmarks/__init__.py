"""Video QA benchmarks read as their authors publish them, and scored as their scripts score.

One module per benchmark (EgoSchema, Video-MME, LongVideoBench, MLVU, NExT-QA, LVBench,
Video-MME-v2) and
longvid's own common format; each knows its files, its layout of videos and subtitles, its
scoring rule, its published breakdowns and its predictions file. ``load_benchmark`` recognises
the format from the file (or takes ``fmt``).
"""

from __future__ import annotations

import random
from pathlib import Path

from longvid.errors import InputError
from longvid.pipeline.benchmarks.base import (
    LETTERS,
    NO_MATCH,
    Benchmark,
    Format,
    Item,
    Scores,
    answer_index,
    read_data,
)
from longvid.pipeline.benchmarks.common import Common
from longvid.pipeline.benchmarks.egoschema import EgoSchema
from longvid.pipeline.benchmarks.longvideobench import LongVideoBench
from longvid.pipeline.benchmarks.lvbench import LVBench
from longvid.pipeline.benchmarks.mlvu import MLVU
from longvid.pipeline.benchmarks.nextqa import NextQA
from longvid.pipeline.benchmarks.videomme import VideoMME
from longvid.pipeline.benchmarks.videomme_v2 import VideoMMEv2

__all__ = ["FORMATS", "LETTERS", "NO_MATCH", "Benchmark", "Format", "Item", "Scores", "answer_index",
           "format_named", "load_benchmark", "read_benchmark", "select"]  # fmt: skip

# Most specific first: the common format is what is left.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        LVBench(),
        LongVideoBench(),
        MLVU(),
        EgoSchema(),
        NextQA(),
        VideoMMEv2(),
        VideoMME(),
        Common(),
    )
}


def format_named(name: str) -> Format:
    if name not in FORMATS:
        raise InputError(f"unknown benchmark format {name!r}", f"use one of: {', '.join(FORMATS)}")
    return FORMATS[name]


def read_benchmark(
    path: str | Path, videos: str | Path | None = None, fmt: str | None = None
) -> Benchmark:
    """Read a benchmark file (or MLVU's ``json/`` folder) with its videos' paths resolved."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{path}: no such file", "pass the benchmark file you downloaded")
    data = read_data(path)
    if not data:
        raise InputError(f"{path}: no questions in it", "pass the benchmark file as published")
    found = next((f for f in FORMATS.values() if f.detect(path, data)), None)
    chosen = format_named(fmt) if fmt else found
    if chosen is None:
        keys = (
            sorted(data[0]) if isinstance(data, list) and data and isinstance(data[0], dict) else []
        )
        raise InputError(
            f"{path}: not a benchmark file longvid knows"
            + (f" (keys: {', '.join(keys)})" if keys else ""),
            "pass an EgoSchema, Video-MME, LongVideoBench, MLVU, NExT-QA or LVBench file as published, "
            "or the common format (video, question, options, answer)",
        )
    if fmt and not chosen.detect(path, data):
        seen = f"; it looks like {found.title}" if found else ""
        raise InputError(f"{path} is not a {chosen.title} file{seen}",
                         f"{chosen.title} is published as {chosen.where or 'its own layout'}; "
                         "drop --format to detect it")  # fmt: skip
    videos = Path(videos).expanduser() if videos else None
    return chosen.load(path, data, videos)


def load_benchmark(
    path: str | Path, videos_dir: str | Path | None = None
) -> tuple[str, list[Item]]:
    """The format's name and its items (the shape earlier callers use)."""
    benchmark = read_benchmark(path, videos_dir)
    return benchmark.format, benchmark.items


def select(
    items: list[Item], limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[Item]:
    """``sample`` questions drawn at random (``seed``), kept in file order; then the first ``limit``."""
    if sample is not None and sample < len(items):
        chosen = set(random.Random(seed).sample(range(len(items)), sample))
        items = [item for i, item in enumerate(items) if i in chosen]
    return items[:limit] if limit else items
