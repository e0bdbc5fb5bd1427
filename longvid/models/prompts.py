"""Prompt text shared by every captioning backend, so local and server models see the same task."""

from __future__ import annotations

from collections.abc import Sequence

from longvid.models.base import CaptionRequest, TimedText
from longvid.timeline import hms

CAPTION_INSTRUCTION = (
    "Describe this part of the video factually: who is present, what they do, where it happens, "
    "and any visible text. Note when something changes, citing the frame time as [hh:mm:ss]. "
    "Use the speech and on-screen text given with the frames; do not guess beyond them."
)


def stamp(seconds: float) -> str:
    """A frame or line time as the model sees it: ``[hh:mm:ss.s]``."""
    return f"[{hms(seconds, 1)}]"


def span_line(request: CaptionRequest) -> str:
    return f"Video segment {stamp(request.start)} to {stamp(request.end)}."


def text_lines(label: str, lines: Sequence[TimedText]) -> str:
    """``label:`` followed by one ``[start–end] text`` line per item; empty when none."""
    if not lines:
        return ""
    body = "\n".join(f"[{hms(t.start, 1)}–{hms(t.end, 1)}] {t.text}" for t in lines)
    return f"{label}:\n{body}"


def caption_prompt(request: CaptionRequest) -> str:
    """The text that goes with a chunk's frames when they are passed as one video."""
    parts = [
        span_line(request),
        "Frame times: " + ", ".join(stamp(f.time) for f in request.frames) + ".",
        text_lines("Speech", request.transcript),
        text_lines("On-screen text", request.screen_text),
        request.instruction or CAPTION_INSTRUCTION,
    ]
    return "\n\n".join(p for p in parts if p)


def interleaved(request: CaptionRequest) -> list[tuple[str, object]]:
    """Frames and speech lines in time order (MiniGPT4-Video style) as (kind, item) pairs.

    ``kind`` is ``"frame"`` (item: a Frame) or ``"text"`` (item: a str with its timestamp).
    """
    events: list[tuple[float, int, str, object]] = [(f.time, 1, "frame", f) for f in request.frames]
    events += [
        (t.start, 0, "text", f"{stamp(t.start)} speech: {t.text}") for t in request.transcript
    ]
    events += [
        (t.start, 0, "text", f"{stamp(t.start)} on screen: {t.text}") for t in request.screen_text
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    return [(kind, item) for _, _, kind, item in events]
