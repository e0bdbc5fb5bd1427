"""Time on the video's clock: formatting and timed text (subtitles, transcript lines, OCR)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimedText:
    """Text shown or spoken from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str


def hms(seconds: float, decimals: int = 0) -> str:
    """Format seconds as ``hh:mm:ss`` (or ``hh:mm:ss.s`` with ``decimals=1``)."""
    scale = 10**decimals
    total = round(max(seconds, 0.0) * scale)
    whole, frac = divmod(total, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{frac:0{decimals}d}" if decimals else text
