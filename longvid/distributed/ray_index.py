"""Index many videos on Ray: one task per video, every worker writing to one shared store.

Each task runs the ordinary ``index_video`` (decode, shots, speech, text, frames, captions) and
commits chunk by chunk, so a worker killed mid-video loses only its chunk in flight: Ray reruns
the task (``max_retries``) and the store's resume rules pick up from the committed chunks. A
video that fails for a reason of its own (not a video, damaged) is reported, not retried, and
the others go on. The store must be on storage every worker sees, with working file locks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError, MissingDependencyError
from longvid.pipeline.index import IndexModels, IndexOptions, IndexResult, ModelChoice


@dataclass(frozen=True)
class RayPlan:
    """Where to run and what each video task asks of the cluster."""

    address: str = "local"  # "local": start Ray here; "auto": the cluster RAY_ADDRESS names
    max_retries: int = 3  # reruns of a task whose worker died
    cpus: float = 1.0
    gpus: float = 0.0  # 1 when a local video LLM captions inside the task


@dataclass
class Outcome:
    """One video's result, or why it failed."""

    video: str
    result: IndexResult | None
    error: tuple[str, str] | None = None  # (what, fix)


def index_on_ray(
    videos: list[str],
    choice: ModelChoice,
    options: IndexOptions,
    root: Path,
    plan: RayPlan,
    force: bool = False,
    wait_s: float | None = None,
) -> Iterator[Outcome]:
    """Index ``videos`` as Ray tasks; yield each outcome as soon as its task ends."""
    ray = _ray()
    connect(plan.address)
    task = ray.remote(_index_task).options(
        num_cpus=plan.cpus,
        num_gpus=plan.gpus,
        max_retries=plan.max_retries,
        retry_exceptions=False,  # a video's own failure would fail again: report it instead
    )
    pending = {
        task.remote(video, choice, options, str(root), force, wait_s): video for video in videos
    }
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        video = pending.pop(done[0])
        try:
            status, payload = ray.get(done[0])
        except ray.exceptions.RayError as exc:  # worker died more than max_retries times, …
            reason = str(exc).strip().splitlines()[0][:200]
            fix = "its committed chunks are kept: rerun to resume"
            yield Outcome(video, None, (f"{video}: the Ray task failed ({reason})", fix))
            continue
        yield Outcome(video, payload, None) if status == "ok" else Outcome(video, None, payload)


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


_loaded: dict[tuple[ModelChoice, str], IndexModels] = {}  # per worker process: load once


def _index_task(
    video: str,
    choice: ModelChoice,
    options: IndexOptions,
    root: str,
    force: bool,
    wait_s: float | None,
) -> tuple[str, Any]:
    """Runs on a worker: ("ok", IndexResult) or ("error", (what, fix))."""
    from longvid.pipeline.index import index_video, load_index_models
    from longvid.pipeline.sources import local_video

    store = Path(root)
    try:
        key = (choice, root)
        if key not in _loaded:
            _loaded[key] = load_index_models(choice, store)
        local = local_video(video, store)
        return "ok", index_video(local, _loaded[key], store, options, force=force, wait_s=wait_s)
    except LongvidError as exc:
        return "error", (exc.what, exc.fix)
