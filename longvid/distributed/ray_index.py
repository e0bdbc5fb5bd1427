"""Index many videos on Ray: one task per video, every worker writing to one shared store.

Each task runs the ordinary ``index_video`` (decode, shots, speech, text, frames, captions) and
commits chunk by chunk, so a worker killed mid-video loses only its chunk in flight: Ray reruns
the task (``max_retries``) and the store's resume rules pick up from the committed chunks. A
video longer than ``RayPlan.part_s`` is cut at keyframes into parts, one task each, merged by a
last task. A video that fails for a reason of its own (not a video, damaged) is reported, not
retried, and the others go on. The store must be on storage every worker sees, with working
file locks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from longvid.engine import Engine
from longvid.engine.video import add_speakers
from longvid.errors import LongvidError, MissingDependencyError
from longvid.media.subtitles import subtitle_language
from longvid.pipeline.index import (
    IndexModels,
    IndexOptions,
    IndexResult,
    ModelChoice,
)
from longvid.pipeline.sources import local_video


@dataclass(frozen=True)
class RayPlan:
    """Where to run and what each video task asks of the cluster."""

    address: str = "local"  # "local": start Ray here; "auto": the cluster RAY_ADDRESS names
    max_retries: int = 3  # reruns of a task whose worker died
    cpus: float = 1.0
    gpus: float | None = None  # None: 1 when a local video LLM captions and there are GPUs
    part_s: float | None = 7200.0  # longer videos are cut into parts this long (None: never)


@dataclass
class Outcome:
    """One video's result, or why it failed."""

    video: str
    result: IndexResult | None
    error: tuple[str, str] | None = None  # (what, fix)
    endpoints: Counts = field(default_factory=dict)  # its captioner requests, per endpoint


def index_on_ray(
    videos: list[str],
    choice: ModelChoice,
    options: IndexOptions,
    root: Path,
    plan: RayPlan,
    force: bool = False,
    wait_s: float | None = None,
) -> Iterator[Outcome]:
    """Index ``videos`` as Ray tasks; yield each outcome as soon as its video is done.

    A video longer than ``plan.part_s`` becomes one task per part (cut at keyframes), and one
    last task that merges them into its memory. The memories are marked for the library
    index, not added: the caller runs ``LibraryIndex.update()`` once at the end (one write of
    its vector files, not one per video).
    """
    ray = _ray()
    connect(plan.address)
    task = ray.remote(_task).options(
        num_cpus=plan.cpus,
        num_gpus=task_gpus(plan, Engine.from_choice(choice, root).resolved("captioner")),
        max_retries=plan.max_retries,
        retry_exceptions=False,  # a video's own failure would fail again: report it instead
    )
    shared = (choice, options, str(root), wait_s)
    pending: dict[Any, tuple[str, str]] = {  # task -> (video as given, step)
        task.remote("start", video, shared, (force, plan.part_s)): (video, "start") for video in videos
    }
    started = time.monotonic()
    parts_left: dict[str, int] = {}
    part_chunks: dict[str, int] = {}  # chunks the parts' tasks captioned, per video
    failed: dict[str, tuple[str, str]] = {}
    local: dict[str, str] = {}  # video as given -> the file the workers read (a URL downloaded)
    used: dict[str, Counts] = {video: {} for video in videos}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        video, step = pending.pop(done[0])
        status, payload, counts = _result(ray, done[0], video)
        used[video] = add_counts(used[video], counts)
        if step == "start" and status == "parts":
            local[video], spans = payload
            parts_left[video] = len(spans)
            for number, span in spans.items():
                pending[task.remote("part", local[video], shared, (number, span))] = (video, "part")
            continue
        if step == "part":
            if status == "error":
                failed.setdefault(video, payload)
            else:
                part_chunks[video] = part_chunks.get(video, 0) + payload
            parts_left[video] -= 1
            if parts_left[video]:
                continue
            if video not in failed:  # every part is in: merge them
                pending[task.remote("finish", local[video], shared, None)] = (video, "finish")
                continue
            status, payload = "error", failed[video]
        if step == "finish" and status == "ok":  # the whole video's work, not the merge's
            payload = replace(payload, computed=payload.computed + part_chunks.get(video, 0),
                              elapsed_s=time.monotonic() - started)  # fmt: skip
        if status == "ok":
            yield Outcome(video, payload, None, used[video])
        else:
            yield Outcome(video, None, payload, used[video])


def add_counts(a: Counts, b: Counts) -> Counts:
    """Two tallies of endpoint requests, summed."""
    total = dict(a)
    for url, (served, failed, busy_s) in b.items():
        was = total.get(url, (0, 0, 0.0))
        total[url] = (was[0] + served, was[1] + failed, was[2] + busy_s)
    return total


def _result(ray: Any, ref: Any, video: str) -> tuple[str, Any, Counts]:
    """A task's (status, payload, counts); a task Ray gave up on is an error with a resume
    hint (the requests of a worker that died are not counted)."""
    try:
        return tuple(ray.get(ref))
    except ray.exceptions.RayError as exc:  # worker died more than max_retries times, …
        reason = str(exc).strip().splitlines()[0][:200]
        fix = "its committed chunks are kept: rerun to resume"
        return "error", (f"{video}: the Ray task failed ({reason})", fix), {}


def task_gpus(plan: RayPlan, captioner: str | None) -> float:
    """GPUs per task: as planned, else 1 when a local video LLM (``captioner``, the resolved
    spec) captions inside the task (not a server, not none) and the cluster has GPUs, else 0.
    Joins the cluster to look."""
    if plan.gpus is not None:
        return plan.gpus
    spec = captioner
    if spec is not None and (spec.strip().lower() == "none" or spec.startswith("openai:")):
        return 0.0
    connect(plan.address)
    return 1.0 if _ray().cluster_resources().get("GPU", 0) >= 1 else 0.0


def connect(address: str) -> None:
    """Join (``auto`` or an address) or start (``local``) a Ray runtime, once per process."""
    ray = _ray()
    if ray.is_initialized():
        return
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address == "local":
        ray.init(include_dashboard=False, **quiet)  # sized to this machine
    else:
        ray.init(address=address, **quiet)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray") from None
    return ray


_loaded: dict[tuple[ModelChoice, str], Engine] = {}  # per worker process: load once
Counts = dict[str, tuple[int, int, float]]  # endpoint URL -> (served, failed, busy seconds)


def _task(step: str, video: str, shared: tuple[Any, ...], extra: Any) -> tuple[str, Any, Counts]:
    """Runs on a worker: (status, payload, requests each endpoint served for this task).

    ``start``: index the video, or cut it into parts ("parts", (file, {number: span}));
    ``part``: index one part; ``finish``: merge the parts. A video's own failure comes back as
    ("error", (what, fix)); success as ("ok", IndexResult or chunks computed).
    """
    choice, options, root, wait_s = shared
    try:
        key = (choice, root)
        if key not in _loaded:
            _loaded[key] = Engine.from_choice(choice, Path(root))
        language = subtitle_language(local_video(video, Path(root)))  # every step: one memory key
        models = _loaded[key].index_models_for(language)
        before = _counts(models)
        status, payload = _step(step, video, models, options, Path(root), wait_s, extra)
        if status == "ok" and step in ("start", "finish"):  # the whole video is in: its speakers
            add_speakers(payload, payload.video, _loaded[key], wait_s)
    except LongvidError as exc:
        return "error", (exc.what, exc.fix), {}
    used: Counts = {}
    for url, (served, failed, busy_s) in _counts(models).items():
        was = before[url]
        used[url] = (served - was[0], failed - was[1], busy_s - was[2])
    return status, payload, used


def _step(step: str, video: str, models: IndexModels, options: IndexOptions, store: Path,
          wait_s: float | None, extra: Any) -> tuple[str, Any]:  # fmt: skip
    from longvid.pipeline.index import index_video, index_video_part, split_video

    if step == "part":
        number, span = extra
        return "ok", index_video_part(video, models, store, options, number, span, wait_s)
    if step == "finish":
        return "ok", index_video(video, models, store, options, wait_s=wait_s, join_library=False)
    force, part_s = extra
    local = str(local_video(video, store))
    if part_s:
        spans = split_video(local, models, store, options, part_s, force, wait_s)
        if spans:
            return "parts", (local, spans)
        force = False  # split_video has done it
    return "ok", index_video(local, models, store, options, force=force, wait_s=wait_s,
                             join_library=False)  # fmt: skip


def _counts(models: IndexModels) -> Counts:
    """Requests served, failed and busy seconds so far, per captioner endpoint."""
    pool = getattr(models.captioner, "pool", None)
    endpoints = pool.endpoints if pool is not None else []
    return {e.spec.base_url: (e.served, e.failed, e.busy_s) for e in endpoints}
