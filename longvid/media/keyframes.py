"""Where a long video can be cut into time ranges that decode on their own: at keyframes."""

from __future__ import annotations

import os
from typing import Any

from longvid.media.opening import open_video
from longvid.timeline import Span


def keyframe_spans(path: str | os.PathLike[str], part_s: float, duration: float) -> list[Span]:
    """Cut ``0..duration`` into ranges of about ``part_s`` seconds, each starting at a keyframe.

    Every cut is the last keyframe at or before a multiple of ``part_s``, so each range can be
    decoded from its own start; a cut that would not move forward (keyframes sparser than
    ``part_s``) is skipped. The last range runs to the end of the video.
    """
    targets = [part_s * k for k in range(1, int(duration // part_s) + 1) if part_s * k < duration]
    cuts: list[float] = [0.0]
    with open_video(path) as container:
        stream: Any = container.streams.video[0]
        for target in targets:
            found = _keyframe_before(container, stream, target)
            if found is not None and found > cuts[-1]:
                cuts.append(found)
    ends: list[float | None] = [*cuts[1:], None]
    return [Span(start, end) for start, end in zip(cuts, ends, strict=True)]


def _keyframe_before(container: Any, stream: Any, target: float) -> float | None:
    """Time of the last keyframe at or before ``target`` seconds (None if the seek finds none)."""
    origin = stream.start_time or 0
    container.seek(origin + round(target / stream.time_base), stream=stream, backward=True)
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        if packet.is_keyframe:
            return float((packet.pts - origin) * stream.time_base)
        return None  # the seek did not land on a keyframe: no safe cut here
    return None
