"""Probe a video: duration, frame rate (and whether it varies), size, rotation, streams.

Container headers are read first, then checked against the packets and the first decoded
frame, because containers lie: frame counts are often missing or wrong (a known PySceneDetect
pitfall) and a variable frame rate is rarely declared.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longvid.errors import CorruptVideoError
from longvid.media.opening import REMUX_HINT, open_video

# How many packets the probe reads to measure frame spacing.
_PACKETS_TO_SAMPLE = 600
# Frame spacing that differs by more than this ratio means variable frame rate.
_VFR_TOLERANCE = 1.2


@dataclass(frozen=True)
class StreamInfo:
    """An audio or subtitle stream of the container."""

    index: int
    codec: str
    language: str | None


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds. Times are seconds; ``fps`` is the average frame rate."""

    path: str
    duration: float
    fps: float
    variable_frame_rate: bool
    frame_count: int
    frame_count_exact: bool
    width: int
    height: int
    rotation: int
    codec: str
    audio: list[StreamInfo] = field(default_factory=list)
    subtitles: list[StreamInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's properties. Raises ``InputError``/``CorruptVideoError`` on bad input."""
    import av

    container = open_video(path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            times = _packet_times(container, stream)
            container.seek(0)
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise CorruptVideoError(f"{path}: video data is damaged ({exc})", REMUX_HINT) from None
        if first is None or not times:
            raise CorruptVideoError(f"{path}: no decodable video frames", REMUX_HINT)

        duration = _duration(container, stream, times)
        avg_fps = float(stream.average_rate or stream.guessed_rate or 0) or _fps_from(times)
        declared = stream.frames
        return VideoInfo(
            path=str(Path(path)),
            duration=duration,
            fps=round(avg_fps, 3),
            variable_frame_rate=_is_variable(times),
            frame_count=declared or round(duration * avg_fps),
            frame_count_exact=bool(declared),
            width=first.width,
            height=first.height,
            rotation=int(first.rotation or 0),
            codec=stream.codec_context.name,
            audio=[_stream_info(s) for s in container.streams.audio],
            subtitles=[_stream_info(s) for s in container.streams.subtitles],
        )


def _packet_times(container: Any, stream: Any) -> list[float]:
    """Presentation times (s) of the first packets of ``stream``, sorted."""
    times = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            times.append(float(packet.pts * packet.time_base))
        if len(times) >= _PACKETS_TO_SAMPLE:
            break
    return sorted(times)


def _duration(container: Any, stream: Any, times: list[float]) -> float:
    """Duration from the stream, else the container, else the sampled packets."""
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    if stream.duration:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration:
        return round(container.duration / 1_000_000 - max(start, 0.0), 3)
    return round(times[-1] - times[0] + 1 / _fps_from(times), 3)


def _fps_from(times: list[float]) -> float:
    span = times[-1] - times[0]
    return (len(times) - 1) / span if span > 0 else 25.0


def _is_variable(times: list[float]) -> bool:
    """True when frame spacing in the sampled packets varies beyond rounding."""
    deltas = [b - a for a, b in itertools.pairwise(times) if b > a]
    if len(deltas) < 2:
        return False
    deltas.sort()
    low, high = deltas[len(deltas) // 100], deltas[-1 - len(deltas) // 100]
    return high > low * _VFR_TOLERANCE


def _stream_info(stream: Any) -> StreamInfo:
    return StreamInfo(
        index=stream.index,
        codec=stream.codec_context.name if stream.codec_context else "unknown",
        language=stream.language,
    )
