"""Progress reports: the stages of long work, and the one callback type that receives them."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Stage(StrEnum):
    """What long work is doing. ``done``/``total`` are seconds of video for ``decode``, bytes for
    ``download``, chunks for ``chunks``; ``waiting`` and ``speech`` carry no total."""

    DOWNLOAD = "download"
    WAITING = "waiting"  # for another process indexing the same video
    SPEECH = "speech"
    DECODE = "decode"
    CHUNKS = "chunks"


Progress = Callable[[Stage, float, float | None], None]
"""Called with (stage, done, total) as work goes on."""
