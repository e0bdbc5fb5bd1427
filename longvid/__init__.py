"""longvid: answer questions about long videos.

The one-call entry points live here; everything loads on first use, so ``import longvid`` is
instant and heavy libraries load only inside the calls that need them.

    >>> from longvid import detect_shots
    >>> shots = detect_shots("movie.mp4")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from longvid.errors import LongvidError

__version__ = "0.1.0"

_LAZY = {
    "VideoInfo": "longvid.media.probe",
    "probe": "longvid.media.probe",
    "Shot": "longvid.media.shots",
    "ShotOptions": "longvid.media.shots",
    "detect_shots": "longvid.media.shots",
    "Chunk": "longvid.plan",
    "FrameBudget": "longvid.plan",
    "plan_chunks": "longvid.plan",
}

if TYPE_CHECKING:
    from longvid.media.probe import VideoInfo, probe
    from longvid.media.shots import Shot, ShotOptions, detect_shots
    from longvid.plan import Chunk, FrameBudget, plan_chunks


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'longvid' has no attribute {name!r}")


__all__ = [
    "Chunk",
    "FrameBudget",
    "LongvidError",
    "Shot",
    "ShotOptions",
    "VideoInfo",
    "__version__",
    "detect_shots",
    "plan_chunks",
    "probe",
]
