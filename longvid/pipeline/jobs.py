"""From one decode pass to chunk jobs: each job is a planned chunk with the frames it needs.

Runs in a producer thread so decoding overlaps captioning; a bounded queue keeps memory flat.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from longvid.media.frames import Frame, FrameBuffer, nearest_frames
from longvid.media.probe import VideoInfo
from longvid.media.shots import Progress, Shot, ShotOptions, ShotScan
from longvid.plan import Chunk, ChunkPlanner, FrameBudget
from longvid.timeline import Span


@dataclass
class ChunkJob:
    """A chunk to caption and the frames sampled for it (empty when no frames are needed)."""

    chunk: Chunk
    frames: list[Frame]
    visual: list[Frame] = field(default_factory=list)  # frames for the image–text encoder


@dataclass
class ScanSummary:
    """Filled in by the producer once the whole video has been decoded."""

    shots: list[Shot] = field(default_factory=list)
    duration: float = 0.0
    frames_decoded: int = 0


_DONE = object()


def chunk_jobs(
    path: str | os.PathLike[str],
    options: ShotOptions,
    budget: FrameBudget,
    need_frames: bool,
    frame_side: int,
    progress: Progress | None = None,
    info: VideoInfo | None = None,
    visual_every_s: float | None = None,
    span: Span | None = None,
) -> Iterator[ChunkJob | ScanSummary]:
    """Decode once (the whole video, or one ``span``); yield each chunk's job as soon as its
    shots have closed, then a ScanSummary.

    With ``visual_every_s``, each job also carries frames for the visual memory: one every that
    many seconds, and the first of every shot (so short shots are never missed).
    """
    buffer = (
        FrameBuffer(interval=budget.min_gap_s, max_side=frame_side, capacity=128)
        if need_frames
        else None
    )
    scan = ShotScan(path, options, frames=buffer, progress=progress, info=info, span=span)
    planner = ChunkPlanner(budget)
    waiting: list[Frame] = []  # frames of shots whose chunks are not planned yet
    summary = ScanSummary()

    def jobs_for(chunks: list[Chunk]) -> Iterator[ChunkJob]:
        nonlocal waiting
        for chunk in chunks:
            inside = [f for f in waiting if chunk.start - 1e-6 <= f.time < chunk.end] or waiting[:1]
            picked = _unique(nearest_frames(inside, chunk.frame_times)) if inside else []
            waiting = [f for f in waiting if f.time >= chunk.end]
            starts = [s.start for s in summary.shots[chunk.first_shot : chunk.last_shot + 1]]
            visual = visual_frames(inside, visual_every_s, starts) if visual_every_s else []
            yield ChunkJob(chunk, picked, visual)

    for shot, frames in scan:
        summary.shots.append(shot)
        waiting += frames
        yield from jobs_for(planner.add(shot))
    yield from jobs_for(planner.finish())
    summary.duration, summary.frames_decoded = scan.duration, scan.frames_decoded
    yield summary


def in_background(
    produce: Callable[[], Iterator[ChunkJob | ScanSummary]], depth: int = 4
) -> Iterator[ChunkJob | ScanSummary]:
    """Run a job generator in a thread; errors are re-raised in the consumer."""
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            items.put(exc)

    thread = threading.Thread(target=work, name="longvid-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)


def visual_frames(frames: list[Frame], every_s: float, shot_starts: list[float]) -> list[Frame]:
    """One frame every ``every_s`` seconds, plus the first frame of each shot, in time order."""
    chosen: dict[float, Frame] = {}
    last = float("-inf")
    for frame in frames:
        if frame.time - last >= every_s - 1e-6:
            chosen[frame.time], last = frame, frame.time
    for start in shot_starts:
        first = next((f for f in frames if f.time >= start - 1e-6), None)
        if first is not None:
            chosen[first.time] = first
    return [chosen[t] for t in sorted(chosen)]


def _unique(frames: list[Frame]) -> list[Frame]:
    """Drop repeats (a short chunk may map several frame times to one kept frame)."""
    seen: set[float] = set()
    out = []
    for frame in frames:
        if frame.time not in seen:
            seen.add(frame.time)
            out.append(frame)
    return out
