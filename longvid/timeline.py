"""Time on the video's clock: formatting, time ranges and timed text (subtitles, transcript, OCR)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimedText:
    """Text shown or spoken from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Span:
    """A time range of a video: ``start`` inclusive, ``end`` exclusive (None: to the video's end)."""

    start: float = 0.0
    end: float | None = None

    def holds(self, start: float, end: float) -> bool:
        """True when ``start``..``end`` overlaps this range."""
        return end > self.start and (self.end is None or start < self.end)


def hms(seconds: float, decimals: int = 0) -> str:
    """Format seconds as ``hh:mm:ss`` (or ``hh:mm:ss.s`` with ``decimals=1``)."""
    scale = 10**decimals
    total = round(max(seconds, 0.0) * scale)
    whole, frac = divmod(total, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{frac:0{decimals}d}" if decimals else text
