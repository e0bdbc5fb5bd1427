"""Shots -> chunks under a frame budget. Pure functions, no I/O.

A chunk is the unit the video LLM captions. Shots longer than ``max_chunk_s`` are split into
equal pieces; short shots are merged with the following ones until a chunk lasts at least
``min_chunk_s`` (unless that would pass ``max_chunk_s``). Each chunk gets evenly spaced frame
times that respect the budget: at most ``max_frames`` frames, at least ``min_gap_s`` apart.
The planner is incremental, so chunks can be captioned while the video is still being decoded.
On a CPU, ``caption_budget`` sets frames, new tokens and chunk length from what one chunk costs.
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


# --- a budget set by compute (CPU captioning) ----------------------------------------------------

# Views from the least useful one up: (frames per chunk, new tokens). The last rung is the
# model's own limits (the budget a GPU gets).
VIEW_LADDER = ((4, 96), (4, 128), (6, 128), (8, 128), (8, 192), (12, 192), (16, 256), (24, 256))
MIN_VIEW = VIEW_LADDER[0]
PREFERRED_CHUNK_S = 30.0
"""Chunks as long as this keep the richest view that still keeps up; longer ones only when even
the least view costs more."""


@dataclass(frozen=True)
class CaptionCost:
    """What one chunk costs a captioner on this machine, in seconds."""

    fixed_s: float  # the prompt's text, the call itself
    per_frame_s: float  # vision tower plus the prefill of the frame's visual tokens
    per_token_s: float  # one generated token

    def chunk_s(self, frames: int, new_tokens: int) -> float:
        return self.fixed_s + frames * self.per_frame_s + new_tokens * self.per_token_s


@dataclass(frozen=True)
class CaptionBudget:
    """Frames, chunk length and new tokens chosen so captioning keeps pace with the video."""

    budget: FrameBudget
    new_tokens: int
    chunk_cost_s: float  # one chunk at this view, at most

    def estimate_s(self, duration: float) -> float:
        """Seconds of captioning for ``duration`` seconds of video, at most about (every chunk
        is at least ``min_chunk_s`` long, but for a short tail or a shot cut before a long one)."""
        chunks = max(1, math.ceil(duration / max(self.budget.min_chunk_s, _EPS) - _EPS))
        return chunks * self.chunk_cost_s


def caption_budget(
    cost: CaptionCost, base: FrameBudget, new_tokens: int, pace: float = 0.8
) -> CaptionBudget:
    """The richest view (frames, new tokens) under the model's limits whose chunks keep pace.

    ``pace``: captioning seconds per second of video (below 1 leaves room for decoding, speech
    and embedding). The view is the richest rung of ``VIEW_LADDER`` whose chunk cost fits in
    ``pace`` × ``PREFERRED_CHUNK_S``; chunks last at least cost / ``pace``. When even the least
    view (4 frames, 96 tokens) does not fit, it is used with chunks as long as it needs.
    """
    cap_frames, cap_tokens = base.max_frames, new_tokens
    rungs = [(min(f, cap_frames), min(t, cap_tokens)) for f, t in VIEW_LADDER]
    rungs = sorted({*rungs, (cap_frames, cap_tokens)})
    fitting = [r for r in rungs if cost.chunk_s(*r) <= pace * max(PREFERRED_CHUNK_S, base.min_chunk_s)]
    frames, tokens = max(fitting, key=lambda r: (r[0] * r[1], r)) if fitting else rungs[0]
    chunk_cost = cost.chunk_s(frames, tokens)
    needed = chunk_cost / pace
    # whole 5 s steps: a slightly different measurement keeps the same memory key
    min_chunk = base.min_chunk_s if needed <= base.min_chunk_s else 5.0 * math.ceil(needed / 5.0)
    budget = FrameBudget(
        max_frames=frames,
        min_gap_s=base.min_gap_s,
        min_chunk_s=float(min_chunk),
        max_chunk_s=max(base.max_chunk_s, 2.0 * min_chunk),  # a long shot's pieces stay >= min
    )
    return CaptionBudget(budget, tokens, chunk_cost)
