"""Subtitles: sidecar files (.srt, .vtt, .ass beside the video) and text streams in the container.

Parsing goes through pysubs2; embedded streams are decoded by FFmpeg (via PyAV), which turns
every text codec (SubRip, ASS, mov_text, WebVTT) into ASS dialogue that pysubs2 cleans.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from longvid import words
from longvid.errors import InputError
from longvid.timeline import TimedText

SIDECAR_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa")
# Container language tags (ISO 639-2, as FFmpeg reads them) to ISO 639-1; other codes pass as given.
_ISO_639_2 = {"eng": "en", "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko", "spa": "es",
              "fre": "fr", "fra": "fr", "ger": "de", "deu": "de", "ita": "it", "por": "pt",
              "rus": "ru", "ara": "ar", "hin": "hi", "tha": "th", "vie": "vi", "tur": "tr",
              "pol": "pl", "dut": "nl", "nld": "nl", "ind": "id", "ukr": "uk", "swe": "sv"}  # fmt: skip
_NO_LANGUAGE = ("", "und", "mul", "zxx", "mis")
_IMAGE_CODECS = ("hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub")  # pictures, no text
_LINES_TO_DETECT = 40


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
    path: str | os.PathLike[str], stream_index: int | None = None, limit: int | None = None
) -> list[TimedText]:
    """Lines of a text subtitle stream in the container (the first one, or ``stream_index``);
    with ``limit``, only the first lines (reading stops there)."""
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
            if limit is not None and len(lines) >= limit:
                break
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


def subtitle_language(video: str | os.PathLike[str]) -> str | None:
    """The language (ISO 639-1 where known) of the subtitles the index will read, as
    ``subtitle_lines`` picks them, known before indexing: a sidecar's text; else the first
    container stream's language tag, or its first lines' text when untagged. None without
    text subtitles or when too little text to tell."""
    import av

    sidecar = find_sidecar(video)
    if sidecar is not None:
        return words.language(" ".join(t.text for t in read_subtitle_file(sidecar)))
    try:
        with av.open(str(video), metadata_errors="ignore") as container:
            streams = list(container.streams.subtitles)
            codec = streams[0].codec_context.name if streams and streams[0].codec_context else ""
            tag = (streams[0].language or "").lower().replace("_", "-").split("-")[0] if streams else ""
    except (av.FFmpegError, OSError):
        return None  # the index says what is wrong with the file
    if not streams or codec in _IMAGE_CODECS:
        return None
    if tag not in _NO_LANGUAGE:
        return _ISO_639_2.get(tag, tag)
    lines = read_embedded_subtitles(video, limit=_LINES_TO_DETECT)
    return words.language(" ".join(t.text for t in lines))


def _clean(items: Any) -> list[TimedText]:
    lines = [
        TimedText(round(max(start, 0.0), 3), round(max(end, start), 3), " ".join(text.split()))
        for start, end, text in items
    ]
    return sorted((t for t in lines if t.text), key=lambda t: (t.start, t.end))
