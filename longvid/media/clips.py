"""Cut a moment out of a video into its own file (PyAV, so no ffmpeg binary is needed).

A cut whose start and end fall on keyframes (or whose end is the video's end) is a stream copy
(fast, lossless). Any other cut would show frames from outside the request or lose B-frames at
its end, so it is re-encoded (H.264 + AAC) frame-accurately: the clip holds exactly the frames
on screen from ``start`` to ``end``, the first of them at time zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.media.opening import open_video

_ON_KEYFRAME_S = 1e-3


@dataclass(frozen=True)
class Clip:
    path: Path
    start: float
    end: float
    mode: str  # "copy" or "re-encode"


def keyframe_times(path: str | os.PathLike[str]) -> list[float]:
    """Times of the video's keyframes, in seconds from its first frame (demuxing only)."""
    with open_video(path) as container:
        stream: Any = container.streams.video[0]
        origin = stream.start_time or 0
        return sorted(
            float((packet.pts - origin) * stream.time_base)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        )


def export_clip(
    path: str | os.PathLike[str], start: float, end: float, out: str | os.PathLike[str]
) -> Clip:
    """Write ``start``..``end`` seconds of ``path`` to ``out`` (container chosen by its suffix)."""
    if not 0 <= start < end:
        raise InputError(f"bad clip span {start:g}–{end:g} s", "give start < end, both >= 0")
    keys = keyframe_times(path)
    with open_video(path) as container:
        length = float(container.duration or 0) / 1_000_000  # microseconds
    ends = [*keys, length]
    on_key = any(abs(k - start) <= _ON_KEYFRAME_S for k in keys) and (
        any(abs(k - end) <= _ON_KEYFRAME_S for k in ends) or end >= length
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    (_copy if on_key else _reencode)(path, start, end, target)
    return Clip(target, start, end, "copy" if on_key else "re-encode")


def _copy(path: str | os.PathLike[str], start: float, end: float, out: Path) -> None:
    with open_video(path) as source, _output(out) as sink:
        streams = [s for s in (*source.streams.video[:1], *source.streams.audio[:1])]
        mapping = {s.index: sink.add_stream_from_template(s) for s in streams}
        video: Any = source.streams.video[0]
        origin = video.start_time or 0
        source.seek(origin + int(start / video.time_base), stream=video, backward=True)
        for packet in source.demux(*streams):  # type: Any
            if packet.pts is None or packet.dts is None:
                continue
            base = packet.stream.start_time or 0
            when = float((packet.pts - base) * packet.time_base)
            if when >= end - 1e-6:
                if packet.stream.type == "video" and when > end + 1.0:  # past any reordering
                    break
                continue
            if when < start - 1e-6:
                continue
            shift = round(start / packet.time_base) + base
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = mapping[packet.stream.index]
            sink.mux(packet)


def _reencode(path: str | os.PathLike[str], start: float, end: float, out: Path) -> None:
    from fractions import Fraction

    with open_video(path) as source, _output(out) as sink:
        video: Any = source.streams.video[0]
        rate = video.average_rate or Fraction(25)
        encoder: Any = sink.add_stream("libx264", rate=rate)
        encoder.width, encoder.height = video.codec_context.width, video.codec_context.height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = video.time_base
        encoder.options = {"crf": "18", "preset": "veryfast"}
        sound: Any = None
        if source.streams.audio:  # every stream goes in before the first packet
            rate_hz = source.streams.audio[0].codec_context.sample_rate or 48000
            sound = sink.add_stream("aac", rate=rate_hz)
        origin = video.start_time or 0
        source.seek(origin + int(start / video.time_base), stream=video, backward=True)
        step = 1 / float(rate)
        first: float | None = None
        for frame in source.decode(video):
            when = float((frame.pts - origin) * video.time_base)
            if when >= end - 1e-6:
                break
            if when + step <= start + 1e-6:  # off screen before the cut
                continue
            first = when if first is None else first
            frame.pts = round((when - first) / video.time_base)
            sink.mux(encoder.encode(frame))
        sink.mux(encoder.encode(None))
        if sound is not None:
            _reencode_audio(path, start, end, sink, sound)


def _reencode_audio(
    path: str | os.PathLike[str], start: float, end: float, sink: Any, encoder: Any
) -> None:
    with open_video(path) as source:  # a second pass: the audio of the same span
        audio: Any = source.streams.audio[0]
        origin = audio.start_time or 0
        source.seek(origin + int(start / audio.time_base), stream=audio, backward=True)
        for frame in source.decode(audio):
            when = float((frame.pts - origin) * audio.time_base)
            if when >= end:
                break
            if when + frame.samples / frame.sample_rate <= start:
                continue
            frame.pts = None
            sink.mux(encoder.encode(frame))
        sink.mux(encoder.encode(None))


def _output(out: Path) -> Any:
    import av

    return av.open(str(out), "w")
