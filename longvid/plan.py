"""Shots -> chunks under a frame budget. Pure functions, no I/O.

A chunk is the unit the video LLM captions. Shots longer than ``max_chunk_s`` are split into
equal pieces; short shots are merged with the following ones until a chunk lasts at least
``min_chunk_s`` (unless that would pass ``max_chunk_s``). Each chunk gets evenly spaced frame
times that respect the budget: at most ``max_frames`` frames, at least ``min_gap_s`` apart.
The planner is incremental, so chunks can be captioned while the video is still being decoded.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

_EPS = 1e-9


class Shot(Protocol):
    """What the planner needs of a shot (``longvid.media.shots.Shot`` fits)."""

    @property
    def index(self) -> int: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


@dataclass(frozen=True)
class FrameBudget:
    """Limits for one chunk: frames the model may see and how long a chunk may last."""

    max_frames: int = 32
    min_gap_s: float = 0.5
    min_chunk_s: float = 4.0
    max_chunk_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        if self.min_gap_s < 0 or self.min_chunk_s < 0:
            raise ValueError("min_gap_s and min_chunk_s must not be negative")
        if self.max_chunk_s <= 0 or self.max_chunk_s < self.min_chunk_s:
            raise ValueError("max_chunk_s must be positive and at least min_chunk_s")


@dataclass(frozen=True)
class Chunk:
    """A span of video to caption: ``[start, end)`` seconds, the shots it covers, frame times."""

    index: int
    start: float
    end: float
    first_shot: int
    last_shot: int
    frame_times: tuple[float, ...]

    @property
    def duration(self) -> float:
        return self.end - self.start


def frame_times(start: float, end: float, budget: FrameBudget) -> tuple[float, ...]:
    """Evenly spaced frame times (segment centres) within ``[start, end)`` under the budget."""
    length = max(end - start, 0.0)
    if length >= budget.min_gap_s * budget.max_frames:
        count = budget.max_frames
    else:
        count = max(1, math.floor(length / budget.min_gap_s + _EPS))
    step = length / count
    return tuple(round(start + (i + 0.5) * step, 6) for i in range(count))


@dataclass(frozen=True)
class _Piece:
    shot: int
    start: float
    end: float


class ChunkPlanner:
    """Incremental planner: ``add`` each shot as it closes, then ``finish``.

    A completed chunk is held back until the next one completes, so a short tail at the end
    of the video can still be merged into it.
    """

    def __init__(self, budget: FrameBudget | None = None) -> None:
        self.budget = budget or FrameBudget()
        self._pending: list[_Piece] = []
        self._held: list[_Piece] = []
        self._next_index = 0

    def add(self, shot: Shot) -> list[Chunk]:
        """Take the next shot; return the chunks it completes."""
        done = []
        for piece in self._split(shot):
            if (
                self._pending
                and _span(self._pending) + _span([piece]) > self.budget.max_chunk_s + _EPS
            ):
                done += self._complete()
            self._pending.append(piece)
            if _span(self._pending) >= self.budget.min_chunk_s - _EPS:
                done += self._complete()
        return done

    def finish(self) -> list[Chunk]:
        """Return the remaining chunks; a short tail joins the previous chunk if it fits."""
        tail, self._pending = self._pending, []
        if self._held and tail and _span(self._held + tail) <= self.budget.max_chunk_s + _EPS:
            self._held += tail
            tail = []
        done = [self._emit(self._held)] if self._held else []
        self._held = []
        return done + ([self._emit(tail)] if tail else [])

    def _complete(self) -> list[Chunk]:
        """Hold the pending pieces as the newest chunk; release the one held before."""
        released = [self._emit(self._held)] if self._held else []
        self._held, self._pending = self._pending, []
        return released

    def _split(self, shot: Shot) -> list[_Piece]:
        length = shot.end - shot.start
        count = max(1, math.ceil(length / self.budget.max_chunk_s - _EPS))
        step = length / count
        edges = [shot.start + i * step for i in range(count)] + [shot.end]
        return [_Piece(shot.index, a, b) for a, b in itertools.pairwise(edges)]

    def _emit(self, pieces: list[_Piece]) -> Chunk:
        first, last = pieces[0], pieces[-1]
        self._next_index += 1
        return Chunk(
            index=self._next_index - 1,
            start=first.start,
            end=last.end,
            first_shot=first.shot,
            last_shot=last.shot,
            frame_times=frame_times(first.start, last.end, self.budget),
        )


def _span(pieces: list[_Piece]) -> float:
    return pieces[-1].end - pieces[0].start


def plan_chunks(shots: Iterable[Shot], budget: FrameBudget | None = None) -> list[Chunk]:
    """Plan all chunks for a list of shots (see ``ChunkPlanner`` for the rules)."""
    planner = ChunkPlanner(budget)
    chunks = [chunk for shot in shots for chunk in planner.add(shot)]
    return chunks + planner.finish()
