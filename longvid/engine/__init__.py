"""The one engine behind every door: the CLI, the Python API, the MCP server, ``eval`` and Ray.

    >>> import longvid
    >>> video = longvid.open("film.mp4")          # an indexed video
    >>> answer = video.ask("Why does he escape?")
    >>> answer.answer, answer.cited
"""

from __future__ import annotations

import os
from pathlib import Path

from longvid.engine.captions import plan_index
from longvid.engine.models import CHANNELS, Engine
from longvid.engine.video import Library, Video, describe, index

__all__ = ["CHANNELS", "Engine", "Library", "Video", "describe", "index", "library", "open_video",
           "plan_index"]  # fmt: skip


def open_video(path: str | os.PathLike[str], engine: Engine | None = None, **settings: object) -> Video:
    """An indexed video. ``settings`` (``store=``, ``llm=``, ...) build an ``Engine`` if none given."""
    return Video(path, engine or Engine(**settings))  # type: ignore[arg-type]


def library(store: str | Path | None = None, engine: Engine | None = None) -> Library:
    """Every video indexed in ``store`` (default: LONGVID_HOME or the user data dir)."""
    return Library(engine or Engine(store))
