"""Subtitles: sidecar files (.srt, .vtt, .ass beside the video) and text streams in the container.

Parsing goes through pysubs2; embedded streams are decoded by FFmpeg (via PyAV), which turns
every text codec (SubRip, ASS, mov_text, WebVTT) into ASS dialogue that pysubs2 cleans.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.timeline import TimedText

SIDECAR_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa")


def find_sidecar(video: str | os.PathLike[str]) -> Path | None:
    """A subtitle file next to the video: ``movie.srt``, or ``movie.<lang>.srt`` (English first)."""
    video = Path(video)
    candidates = [video.with_suffix(s) for s in SIDECAR_SUFFIXES]
    for pattern in ("en", "eng", "*"):
        candidates += [
            p
            for s in SIDECAR_SUFFIXES
            for p in sorted(video.parent.glob(f"{video.stem}.{pattern}{s}"))
        ]
    return next((p for p in candidates if p.is_file()), None)


def read_subtitle_file(path: str | os.PathLike[str]) -> list[TimedText]:
    """Lines of a subtitle file (SRT, WebVTT, ASS/SSA, ...), in time order."""
    import pysubs2

    try:
        subs = pysubs2.load(str(path))
    except (pysubs2.exceptions.Pysubs2Error, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot read subtitles ({exc})", "check the file's format"
        ) from None
    return _clean((e.start / 1000, e.end / 1000, e.plaintext) for e in subs if not e.is_comment)


def read_embedded_subtitles(
    path: str | os.PathLike[str], stream_index: int | None = None
) -> list[TimedText]:
    """Lines of a text subtitle stream in the container (the first one, or ``stream_index``)."""
    import av
    import pysubs2

    with av.open(str(path), metadata_errors="ignore") as container:
        streams: list[Any] = [
            s for s in container.streams.subtitles if stream_index in (None, s.index)
        ]
        if not streams:
            return []
        stream = streams[0]
        origin = _video_origin(container)
        lines = []
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = float(packet.pts * packet.time_base) - origin
            end = start + float((packet.duration or 0) * packet.time_base)
            for sub in packet.decode():
                dialogue = getattr(sub, "dialogue", b"")
                text = pysubs2.SSAEvent(text=bytes(dialogue).decode("utf-8", "replace")).plaintext
                lines.append((start, end, text))
    return _clean(lines)


def _video_origin(container: Any) -> float:
    """Time zero of the video stream: subtitle times are shown relative to it, as players do."""
    for video in container.streams.video:
        if video.start_time is not None:
            return float(video.start_time * video.time_base)
    return 0.0


def subtitle_lines(video: str | os.PathLike[str]) -> tuple[list[TimedText], str | None]:
    """Subtitles for a video and where they came from: a sidecar file wins over the container."""
    sidecar = find_sidecar(video)
    if sidecar is not None:
        return read_subtitle_file(sidecar), str(sidecar)
    lines = read_embedded_subtitles(video)
    return lines, ("embedded" if lines else None)


def _clean(items: Any) -> list[TimedText]:
    lines = [
        TimedText(round(max(start, 0.0), 3), round(max(end, start), 3), " ".join(text.split()))
        for start, end, text in items
    ]
    return sorted((t for t in lines if t.text), key=lambda t: (t.start, t.end))
