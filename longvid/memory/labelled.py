"""A video's memory read with speakers: each speech line says who speaks (``S2: ...``).

The labels come from the speaker tables when the memory is read, not from the stored text, so a
name given later (``longvid speakers VIDEO --name S2="Dr. Ortiz"``) shows in evidence, answers,
summaries and reports at once, with nothing re-indexed. A memory without speakers reads as it
always did, and so does one with a single unnamed voice (a narrator's "S1:" says nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.timeline import TimedText


class LabelledMemory(VideoMemory):
    """``VideoMemory`` whose chunks' speech lines and transcript carry their speaker's label.

    The labels are read once, on first use, so one open memory shows the names as they were
    then; the engine opens a memory per call.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._labeller: Callable[[float, float], str | None] | None = None  # read on first use

    def _label(self, lines: list[TimedText]) -> list[TimedText]:
        if self._labeller is None:
            voices = SpeakerMemory(self) if has_speakers(self) else None
            labels = voices.labels() if voices is not None else {}
            one_unnamed = len(labels) < 2 and all(k == v for k, v in labels.items())
            # one unnamed voice: a label would tell the reader nothing
            self._labeller = voices.labeller() if voices is not None and not one_unnamed else _nobody
        out = []
        for line in lines:
            who = self._labeller(line.start, line.end)
            out.append(TimedText(line.start, line.end, f"{who}: {line.text}") if who else line)
        return out

    def _label_chunks(self, chunks: list[ChunkRecord]) -> list[ChunkRecord]:
        return [replace(c, transcript=self._label(c.transcript)) if c.transcript else c for c in chunks]

    def transcript(self) -> list[TimedText] | None:
        lines = super().transcript()
        return self._label(lines) if lines else lines

    def chunks(self) -> list[ChunkRecord]:
        return self._label_chunks(super().chunks())

    def chunks_between(self, start: float, end: float) -> list[ChunkRecord]:
        return self._label_chunks(super().chunks_between(start, end))

    def chunk(self, index: int) -> ChunkRecord | None:
        found = super().chunk(index)
        return self._label_chunks([found])[0] if found is not None else None


def _nobody(start: float, end: float) -> None:
    return None
