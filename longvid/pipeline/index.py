"""``index``: probe -> transcript -> shots -> chunks -> frames -> caption + OCR -> embed -> commit.

This module opens, locks and completes a video's memory; ``build`` fills it chunk by chunk and
``parts`` does so for a long video cut into time ranges (indexed by many workers at once).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.media.opening import check_readable
from longvid.media.probe import VideoInfo, probe
from longvid.memory.captions import pending_count
from longvid.memory.failures import store_failures
from longvid.memory.fingerprint import fingerprint
from longvid.memory.library import memory_folder, remove_memory, video_lock
from longvid.memory.library_index import LibraryIndex
from longvid.memory.parts import merged_parts
from longvid.memory.store import VideoMemory
from longvid.models.registry import keep_query_copy
from longvid.pipeline.build import IndexModels, IndexOptions, build_memory
from longvid.pipeline.captions import fill_in_captions
from longvid.pipeline.parts import index_part, index_parts, plan_parts
from longvid.plan import CaptionBudget, FrameBudget, caption_budget
from longvid.progress import Progress, Stage
from longvid.timeline import Span

log = logging.getLogger("longvid")

__all__ = ["IndexModels", "IndexOptions", "IndexResult", "ModelChoice", "index_video"]


@dataclass(frozen=True)
class ModelChoice:
    """Which models an index run uses, as specs (None: the configured default, "none": off).

    Small and picklable, so a distributed worker can load the same models the driver names.
    """

    captioner: str | None = None
    asr: str | None = None
    ocr: str | None = None
    embedder: str | None = None
    visual: str | None = None
    device: str | None = None
    max_frames: int | None = None
    speakers: str | None = None  # run by the engine after the index, not by index_video


def load_index_models(choice: ModelChoice, root: Path) -> IndexModels:
    """Load every model an index run needs (once, for all videos)."""
    from longvid.config import setting
    from longvid.models.registry import LoadOptions, load, load_embedder

    options = LoadOptions(
        device=setting("device", choice.device),
        frame_cap=int(setting("max_frames", choice.max_frames)),
    )
    return IndexModels(
        embedder=load_embedder(choice.embedder, options),
        captioner=load("captioner", choice.captioner, options),
        transcriber=load("asr", choice.asr, options),
        reader=load("ocr", choice.ocr, options),
        visual=load("visual_embedder", choice.visual, options),
    )


@dataclass
class IndexResult:
    """What one ``index_video`` call did."""

    video: str
    id: str
    status: str  # "indexed" or "up-to-date"
    chunks: int
    duration: float
    elapsed_s: float
    computed: int  # chunks captioned in this run (the rest were already stored)
    memory: str
    uncaptioned: int = 0  # chunks whose caption is still to come (``--captions lazy``)


_SUGGEST_LAZY_S = 600.0  # captioning at least this long: the index says --captions lazy exists


def cpu_caption_budget(models: IndexModels, options: IndexOptions) -> CaptionBudget | None:
    """On a CPU, frames, chunk length and new tokens set by what a chunk costs there, so that
    captioning keeps pace with the video; None where the model's context sets the budget."""
    captioner = models.captioner
    measure = getattr(captioner, "caption_cost", None)
    cost = measure() if measure is not None else None
    if captioner is None or cost is None:
        return None
    frames = min(options.budget.max_frames, captioner.max_frames)
    return caption_budget(cost, replace(options.budget, max_frames=frames),
                          int(getattr(captioner, "max_new_tokens", 256)))  # fmt: skip


def estimate_line(captions: CaptionBudget, duration: float) -> str:
    """What captioning will cost on this CPU, as the user reads it."""
    view = captions.budget
    return (f"captions on this CPU: {view.max_frames} frames a chunk, up to {captions.new_tokens} new "
            f"tokens, chunks of at least {view.min_chunk_s:.0f} s (≈ {captions.chunk_cost_s:.0f} s "
            f"each): ≈ {_minutes(captions.estimate_s(duration))} for this "
            f"{_minutes(duration)} video")  # fmt: skip


def plan_video(path: str | os.PathLike[str], models: IndexModels, options: IndexOptions) -> dict[str, Any]:
    """What indexing ``path`` would do and cost here, without doing it (``index --dry-run``)."""
    check_readable(path)
    info = probe(path)
    captioner = models.captioner.info.spec if models.captioner is not None else "none"
    plan: dict[str, Any] = {"video": str(path), "duration": info.duration, "captioner": captioner,
                            "captions": "lazy" if options.lazy_captions and models.captioner else
                            "all" if models.captioner else "none", "estimate_s": None}  # fmt: skip
    captions = cpu_caption_budget(models, options)
    if captions is not None:
        plan.update(frames_per_chunk=captions.budget.max_frames, new_tokens=captions.new_tokens,
                    min_chunk_s=captions.budget.min_chunk_s, chunk_cost_s=round(captions.chunk_cost_s, 1),
                    estimate_s=round(captions.estimate_s(info.duration)))  # fmt: skip
        plan["line"] = estimate_line(captions, info.duration)
    elif models.captioner is not None:
        plan["line"] = (f"captions by {captioner}: no estimate here (a server or GPU sets its own "
                        "pace; the progress bar shows it)")  # fmt: skip
    else:
        plan["line"] = "no visual captions (--captioner none): speech and on-screen text only"
    if plan["captions"] == "lazy":
        plan["line"] += "; with --captions lazy, only the chunks questions need, when asked"
    return plan


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def memory_settings(models: IndexModels, options: IndexOptions) -> dict[str, Any]:
    """Everything that changes what is stored: a new value means a new memory beside the old."""
    budget = asdict(options.budget)
    if models.captioner is not None:
        budget["max_frames"] = min(budget["max_frames"], models.captioner.max_frames)
    cpu = cpu_caption_budget(models, options)
    if cpu is not None:
        budget = {**asdict(cpu.budget), "new_tokens": cpu.new_tokens}
    visual = (
        {"visual_embedder": models.visual.info.spec, "visual_every_s": options.visual_every_s}
        if models.visual is not None
        else {}  # absent: memories made before the visual channel keep their key
    )
    return {
        **visual,
        "captioner": models.captioner.info.spec if models.captioner else "none",
        "asr": models.transcriber.info.spec if models.transcriber else "none",
        "ocr": models.reader.info.spec if models.reader else "none",
        "embedder": models.embedder.info.spec,
        "budget": budget,
        "shots": asdict(options.shots),
        "frame_side": options.frame_side,
    }


@dataclass(frozen=True)
class _Video:
    """A video ready to index: what probing found and which memory it goes to."""

    path: str | os.PathLike[str]
    info: VideoInfo
    id: str
    settings: dict[str, Any]
    options: IndexOptions
    captions: CaptionBudget | None = None  # on a CPU: the budget set by compute


def _prepare(
    path: str | os.PathLike[str], models: IndexModels, options: IndexOptions | None
) -> _Video:
    options = options or IndexOptions()
    check_readable(path)
    info = probe(path)  # fails fast, before anything is written, on a bad file
    settings = memory_settings(models, options)
    captions = cpu_caption_budget(models, options)
    if models.captioner is not None:
        budget = dict(settings["budget"])
        if "new_tokens" in budget:
            models.captioner.max_new_tokens = budget.pop("new_tokens")  # type: ignore[attr-defined]
        options = replace(options, budget=FrameBudget(**budget))
    return _Video(path, info, fingerprint(path), settings, options, captions)


def index_video(
    path: str | os.PathLike[str],
    models: IndexModels,
    root: Path,
    options: IndexOptions | None = None,
    force: bool = False,
    wait_s: float | None = None,
    progress: Progress | None = None,
    part_s: float | None = None,
    join_library: bool = True,
) -> IndexResult:
    """Index one video into the store under ``root`` (resuming or skipping as needed).

    A new memory of a video longer than ``part_s`` seconds is built in parts cut at keyframes;
    a memory begun in parts (by ``split_video``) is finished in parts. The complete memory joins
    the library index, or with ``join_library`` False is only marked for a batch's one
    ``LibraryIndex.update()`` at its end.
    """
    started = time.monotonic()
    video = _prepare(path, models, options)
    report = progress or (lambda stage, done, total: None)
    with video_lock(root, video.id, wait_s, on_wait=lambda: report(Stage.WAITING, 0, None)):
        memory = _open(video, root, force)
        try:
            with store_failures(memory.folder):
                if memory.status == "complete":
                    filled = _fill_captions(path, memory, models, video.options, root, report, join_library)
                    return IndexResult(str(path), video.id, "indexed" if filled else "up-to-date",
                                       memory.chunk_count(), video.info.duration, time.monotonic() - started,
                                       filled, str(memory.folder), pending_count(memory))  # fmt: skip
                if video.captions is not None and not video.options.lazy_captions:
                    line = estimate_line(video.captions, video.info.duration)
                    if video.captions.estimate_s(video.info.duration) >= _SUGGEST_LAZY_S:
                        line += " — or --captions lazy: ready in about a decode, questions caption what they need"
                    log.info(line)
                spans = plan_parts(path, video.info, memory, part_s)
                if spans:
                    computed, duration = index_parts(path, video.info, memory, spans, models,
                                                     video.options, wait_s, report)  # fmt: skip
                else:
                    computed, duration = build_memory(path, video.info, memory, models, video.options, report)
                if fingerprint(path) != video.id:
                    raise InputError(f"{path} changed while it was being indexed",
                                     "wait until the file is complete, then index it again")  # fmt: skip
                library = LibraryIndex(root)
                library.mark_changed(memory.folder)  # joins later, should this process die here
                _complete(memory)
                if join_library:
                    library.add(memory)  # search --all finds it without opening it
                keep_query_copy(models.embedder)  # fast queries (and fresh stores) from now on
                uncaptioned = pending_count(memory)
            return IndexResult(str(path), video.id, "indexed", memory.chunk_count(), round(duration, 3),
                               time.monotonic() - started, computed, str(memory.folder), uncaptioned)  # fmt: skip
        finally:
            memory.close()


def _fill_captions(
    path: str | os.PathLike[str], memory: VideoMemory, models: IndexModels, options: IndexOptions,
    root: Path, report: Progress, join_library: bool,
) -> int:  # fmt: skip
    """A complete memory's captions still to come, captioned now unless the run is lazy."""
    if models.captioner is None or options.lazy_captions or not pending_count(memory):
        return 0
    return fill_in_captions(path, memory, models.captioner, models.embedder, root, report, join_library)


def split_video(
    path: str | os.PathLike[str],
    models: IndexModels,
    root: Path,
    options: IndexOptions,
    part_s: float,
    force: bool = False,
    wait_s: float | None = None,
) -> dict[int, Span]:
    """Open the video's memory and cut it into parts if it is longer than ``part_s`` seconds.

    Returns the parts still to index, by number (``index_video_part`` each, on any worker, then
    ``index_video`` to merge them); none when the video is indexed whole or is complete.
    """
    video = _prepare(path, models, options)
    with video_lock(root, video.id, wait_s):
        memory = _open(video, root, force)
        try:
            with store_failures(memory.folder):
                if memory.status == "complete":
                    return {}
                spans = plan_parts(path, video.info, memory, part_s)
                return {n: span for n, span in enumerate(spans) if n >= merged_parts(memory)}
        finally:
            memory.close()


def index_video_part(
    path: str | os.PathLike[str],
    models: IndexModels,
    root: Path,
    options: IndexOptions,
    number: int,
    span: Span,
    wait_s: float | None = None,
) -> int:
    """Index one part of a video ``split_video`` cut; returns the chunks computed."""
    video = _prepare(path, models, options)
    memory = VideoMemory(memory_folder(root, video.id, video.settings))
    try:
        with store_failures(memory.folder):
            if memory.status == "complete" or number < merged_parts(memory):
                return 0  # a rerun of a task whose part is merged already
    finally:
        memory.close()
    return index_part(path, video.info, memory.folder, number, span, models, video.options, wait_s)


def _open(video: _Video, root: Path, force: bool) -> VideoMemory:
    """Open (creating) the video's memory and note where the file is; call under its lock."""
    if force:  # before opening: a damaged memory cannot be opened, only rebuilt
        folder = memory_folder(root, video.id, video.settings)
        LibraryIndex(root).mark_changed(folder)  # its old entries are stale until it completes
        remove_memory(folder)
    memory = VideoMemory.open(root, video.id, video.settings)
    try:
        with store_failures(memory.folder):
            _remember_path(memory, str(video.path), video.info.to_dict())
    except BaseException:
        memory.close()
        raise
    return memory


def _remember_path(memory: VideoMemory, path: str, info: dict[str, Any]) -> None:
    paths = memory.meta("paths", [])
    with memory.transaction():
        memory.set_meta("paths", [*[p for p in paths if p != path], path])
        memory.set_meta("video", info)
        memory.set_meta("updated", time.time())


def _complete(memory: VideoMemory) -> None:
    with memory.transaction():
        memory.set_meta("status", "complete")
        memory.set_meta("updated", time.time())


