"""Video frames for a model: sampled at given times, or kept from the shot-detection pass.

Every frame carries the exact presentation time it was decoded at, so prompts and answers can
cite real timestamps even on variable-frame-rate files.
"""

from __future__ import annotations

import logging
import os
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from longvid.errors import CorruptVideoError
from longvid.media.opening import REMUX_HINT, check_readable, open_video

log = logging.getLogger("longvid")

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MAX_SIDE = 448


@dataclass(frozen=True)
class Frame:
    """An RGB image (H x W x 3, uint8) and the time in seconds it is shown at."""

    time: float
    image: np.ndarray


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Scale (width, height) so the longer side is at most ``max_side``; keep sizes even."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def to_rgb(frame: Any, max_side: int, reformatter: Any = None) -> np.ndarray:
    """Convert a PyAV frame to an RGB array no larger than ``max_side``.

    Pass a reused ``av.video.reformatter.VideoReformatter`` when converting many frames: it
    keeps its scaler instead of building a new one per frame.
    """
    width, height = fit_size(frame.width, frame.height, max_side)
    if reformatter is None:
        return frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    return reformatter.reformat(frame, width, height, format="rgb24").to_ndarray()


def sample_frames(
    path: str | os.PathLike[str],
    times: Sequence[float],
    max_side: int = DEFAULT_MAX_SIDE,
    backend: str = "auto",
) -> list[Frame]:
    """Decode the frames shown at ``times`` (seconds), resized to ``max_side``.

    Each returned frame is the one on screen at the requested time, with its own exact
    timestamp. ``backend`` is ``"decord"``, ``"pyav"`` or ``"auto"`` (decord when installed).
    """
    check_readable(path)
    if not times:
        return []
    if backend in ("auto", "decord"):
        try:
            return _sample_decord(path, times, max_side)
        except ImportError:
            if backend == "decord":
                raise
        except Exception as exc:  # DECORDError: e.g. the last frames, which it cannot always reach
            if backend == "decord":
                raise
            log.debug("decord could not read %s (%s); reading with PyAV", path, exc)
    return _sample_pyav(path, times, max_side)


def _sample_decord(
    path: str | os.PathLike[str], times: Sequence[float], max_side: int
) -> list[Frame]:
    import decord

    probe_reader = decord.VideoReader(str(path), num_threads=1)
    height, width = probe_reader[0].shape[:2]
    out_w, out_h = fit_size(width, height, max_side)
    reader = decord.VideoReader(str(path), width=out_w, height=out_h, num_threads=1)
    starts = reader.get_frame_timestamp(range(len(reader)))[:, 0]
    indices = [_shown_at(starts.tolist(), t) for t in times]
    batch = reader.get_batch(indices).asnumpy()
    return [Frame(float(starts[i]), batch[k]) for k, i in enumerate(indices)]


def _shown_at(starts: list[float], t: float) -> int:
    """Index of the frame on screen at time ``t`` given sorted frame start times."""
    return max(0, bisect_left(starts, t + 1e-6) - 1)


def _sample_pyav(
    path: str | os.PathLike[str], times: Sequence[float], max_side: int
) -> list[Frame]:
    import av

    order = sorted(range(len(times)), key=lambda k: times[k])
    found: dict[int, Frame] = {}
    with open_video(path) as container:
        stream: Any = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = stream.start_time or 0
        for k in order:
            target = times[k]
            container.seek(start + int(target / stream.time_base), stream=stream, backward=True)
            previous = None
            try:
                for frame in container.decode(stream):
                    shown = float((frame.pts - start) * stream.time_base)
                    if shown > target + 1e-6 and previous is not None:
                        break
                    previous = (shown, frame)
            except av.error.FFmpegError as exc:
                raise CorruptVideoError(
                    f"{path}: cannot decode frames ({exc})", REMUX_HINT
                ) from None
            if previous is None:
                raise CorruptVideoError(f"{path}: no frame at {target:.2f} s", REMUX_HINT)
            found[k] = Frame(previous[0], to_rgb(previous[1], max_side))
    return [found[k] for k in range(len(times))]


class FrameBuffer:
    """Keeps small copies of frames seen during the shot-detection pass (decode once).

    At most one frame per ``interval`` seconds is kept. When more than ``capacity`` frames
    wait (a very long shot), every other one is dropped and the interval doubles, so memory
    stays bounded whatever the video's length.
    """

    def __init__(
        self, interval: float = 0.5, max_side: int = DEFAULT_MAX_SIDE, capacity: int = 256
    ) -> None:
        self.base_interval = interval
        self.interval = interval
        self.max_side = max_side
        self.capacity = capacity
        self._frames: list[Frame] = []
        self._last_kept = float("-inf")
        self._reformatter: Any = None

    def offer(self, time: float, frame: Any) -> None:
        """Consider a decoded PyAV frame shown at ``time``; keep it if it is due."""
        if time - self._last_kept < self.interval:
            return
        self._last_kept = time
        if self._reformatter is None:
            from av.video.reformatter import VideoReformatter

            self._reformatter = VideoReformatter()
        self._frames.append(Frame(time, to_rgb(frame, self.max_side, self._reformatter)))
        if len(self._frames) > self.capacity:
            self._frames = self._frames[::2]
            self.interval *= 2

    def take_until(self, time: float) -> list[Frame]:
        """Remove and return the kept frames shown before ``time``."""
        cut = bisect_left([f.time for f in self._frames], time)
        taken, self._frames = self._frames[:cut], self._frames[cut:]
        if not self._frames:
            self.interval = self.base_interval
        return taken


def nearest_frames(frames: Sequence[Frame], times: Sequence[float]) -> list[Frame]:
    """For each time, the kept frame closest to it (frames sorted by time, non-empty)."""
    starts = [f.time for f in frames]
    picked = []
    for t in times:
        i = bisect_left(starts, t)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(frames)]
        picked.append(frames[min(candidates, key=lambda j: abs(starts[j] - t))])
    return picked
