"""longvid: answer questions about long videos.

The one-call entry points live here; everything loads on first use, so ``import longvid`` is
instant and heavy libraries load only inside the calls that need them.

    >>> import longvid
    >>> longvid.index("film.mp4", captioner="none")      # or any model spec; progress= a callback
    >>> video = longvid.open("film.mp4")
    >>> video.ask("Why does he escape?").answer
    >>> video.search("red car", k=10)
    >>> longvid.library().search("harbour strike")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from longvid.errors import LongvidError

__version__ = "0.1.0"

_LAZY = {
    "Engine": "longvid.engine",
    "Video": "longvid.engine",
    "Library": "longvid.engine",
    "library": "longvid.engine",
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
    from longvid.engine import Engine, Library, Video, library
    from longvid.media.probe import VideoInfo, probe
    from longvid.media.shots import Shot, ShotOptions, detect_shots
    from longvid.plan import Chunk, FrameBudget, plan_chunks


def open(path: str, **settings: Any) -> Video:
    """An indexed video: ``longvid.open("film.mp4", llm="model.gguf").ask("...")``.

    ``settings`` are the engine's: ``store``, ``captioner``, ``llm``, ``embedder``, ``asr``,
    ``ocr``, ``visual_embedder``, ``device``, ``max_frames``, ``visual_every``.
    """
    from longvid.engine import open_video

    return open_video(path, **settings)


def index(path: str, *, force: bool = False, progress: Any = None, **settings: Any) -> Video:
    """Index one video (file or URL) and return it, open; ``progress(stage, done, total)`` if
    given. What the run did is in ``video.indexed`` (chunks, computed, elapsed_s)."""
    from longvid.engine import Engine, Video
    from longvid.engine import index as index_one

    engine = Engine(**settings)
    result = index_one(path, engine, force=force, progress=progress)
    video = Video(path, engine)
    video.indexed = result
    return video


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'longvid' has no attribute {name!r}")


__all__ = [
    "Chunk",
    "Engine",
    "FrameBudget",
    "Library",
    "LongvidError",
    "Shot",
    "ShotOptions",
    "Video",
    "VideoInfo",
    "__version__",
    "detect_shots",
    "index",
    "library",
    "open",
    "plan_chunks",
    "probe",
]
