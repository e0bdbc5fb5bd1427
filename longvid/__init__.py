"""longvid: answer questions about long videos.

The one-call entry points live here; heavy libraries load lazily inside them.

    >>> from longvid import detect_shots
    >>> shots = detect_shots("movie.mp4")
"""

from longvid.errors import LongvidError
from longvid.media.probe import VideoInfo, probe
from longvid.media.shots import Shot, ShotOptions, detect_shots
from longvid.plan import Chunk, FrameBudget, plan_chunks

__version__ = "0.1.0"

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
