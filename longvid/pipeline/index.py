"""``index``: probe -> transcript -> shots -> chunks -> frames -> caption + OCR -> embed -> commit.

Decoding runs in a producer thread while the models work on earlier chunks. Every chunk is
committed as soon as it is done, so a killed run resumes without recomputing anything stored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.media.frames import DEFAULT_MAX_SIDE
from longvid.media.opening import check_readable
from longvid.media.probe import VideoInfo, probe
from longvid.media.shots import ShotOptions
from longvid.memory.failures import store_failures
from longvid.memory.fingerprint import fingerprint
from longvid.memory.library import memory_folder, remove_memory, video_lock
from longvid.memory.library_index import LibraryIndex
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.models.base import (
    Captioner,
    CaptionRequest,
    Embedder,
    TextReader,
    Transcriber,
    VisualEmbedder,
)
from longvid.models.registry import keep_query_copy
from longvid.pipeline.jobs import ChunkJob, ScanSummary, chunk_jobs, in_background
from longvid.plan import FrameBudget
from longvid.timeline import TimedText

Progress = Callable[[str, float, float | None], None]
"""Called with (stage, done, total): stages are "waiting", "speech", "decode" and "chunks"."""


@dataclass
class IndexModels:
    """The models an index run uses. Only the embedder is required."""

    embedder: Embedder
    captioner: Captioner | None = None
    transcriber: Transcriber | None = None
    reader: TextReader | None = None
    visual: VisualEmbedder | None = None


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


def load_index_models(choice: ModelChoice, root: Path) -> IndexModels:
    """Load every model an index run needs (once, for all videos)."""
    from longvid.config import setting
    from longvid.models.registry import LoadOptions, load, load_embedder

    options = LoadOptions(
        device=setting("device", choice.device),
        frame_cap=int(setting("max_frames", choice.max_frames)),
    )
    return IndexModels(
        embedder=load_embedder(choice.embedder, options, root / "models"),
        captioner=load("captioner", choice.captioner, options),
        transcriber=load("asr", choice.asr, options),
        reader=load("ocr", choice.ocr, options),
        visual=load("visual_embedder", choice.visual, options),
    )


@dataclass(frozen=True)
class IndexOptions:
    """How to cut and sample the video (part of the memory's identity)."""

    shots: ShotOptions = field(default_factory=ShotOptions)
    budget: FrameBudget = field(default_factory=FrameBudget)
    frame_side: int = DEFAULT_MAX_SIDE
    visual_every_s: float = 2.0  # frames for the visual memory (plus one per shot)


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


def memory_settings(models: IndexModels, options: IndexOptions) -> dict[str, Any]:
    """Everything that changes what is stored: a new value means a new memory beside the old."""
    budget = asdict(options.budget)
    if models.captioner is not None:
        budget["max_frames"] = min(budget["max_frames"], models.captioner.max_frames)
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


def index_video(
    path: str | os.PathLike[str],
    models: IndexModels,
    root: Path,
    options: IndexOptions | None = None,
    force: bool = False,
    wait_s: float | None = None,
    progress: Progress | None = None,
) -> IndexResult:
    """Index one video into the store under ``root`` (resuming or skipping as needed)."""
    started = time.monotonic()
    options = options or IndexOptions()
    report = progress or (lambda stage, done, total: None)
    check_readable(path)
    info = probe(path)  # fails fast, before anything is written, on a bad file
    video_id = fingerprint(path)
    settings = memory_settings(models, options)
    if models.captioner is not None:
        options = IndexOptions(options.shots, FrameBudget(**settings["budget"]), options.frame_side,
                               options.visual_every_s)  # fmt: skip

    with video_lock(root, video_id, wait_s, on_wait=lambda: report("waiting", 0, None)):
        if force:  # before opening: a damaged memory cannot be opened, only rebuilt
            remove_memory(memory_folder(root, video_id, settings))
        memory = VideoMemory.open(root, video_id, settings)
        try:
            with store_failures(memory.folder):
                _remember_path(memory, str(path), info.to_dict())
                if memory.status == "complete":
                    return IndexResult(str(path), video_id, "up-to-date", memory.chunk_count(),
                                       info.duration, time.monotonic() - started, 0, str(memory.folder))  # fmt: skip
                computed, duration = _build(path, info, memory, models, options, report)
                if fingerprint(path) != video_id:
                    raise InputError(f"{path} changed while it was being indexed",
                                     "wait until the file is complete, then index it again")  # fmt: skip
                _complete(memory)
                LibraryIndex(root).add(memory)  # search --all finds it without opening it
                keep_query_copy(models.embedder, root / "models")  # fast queries from now on
            return IndexResult(str(path), video_id, "indexed", memory.chunk_count(),
                               round(duration, 3), time.monotonic() - started, computed, str(memory.folder))  # fmt: skip
        finally:
            memory.close()


def _remember_path(memory: VideoMemory, path: str, info: dict[str, Any]) -> None:
    paths = memory.meta("paths", [])
    with memory.transaction():
        memory.set_meta("paths", [*[p for p in paths if p != path], path])
        memory.set_meta("video", info)
        memory.set_meta("updated", time.time())


def _build(
    path: Any,
    info: VideoInfo,
    memory: VideoMemory,
    models: IndexModels,
    options: IndexOptions,
    report: Progress,
) -> tuple[int, float]:
    with memory.transaction():
        memory.set_meta("status", "indexing")
    transcript = _transcript(path, memory, models.transcriber, report)
    done = memory.committed()
    need_frames = any(m is not None for m in (models.captioner, models.reader, models.visual))
    every = options.visual_every_s if models.visual is not None else None
    batch_size = models.captioner.batch_size if models.captioner else 16
    jobs = in_background(lambda: chunk_jobs(path, options.shots, options.budget, need_frames, options.frame_side,
                                            progress=lambda d, t: report("decode", d, t), info=info,
                                            visual_every_s=every))  # fmt: skip
    batch: list[ChunkJob] = []
    computed = 0
    summary = ScanSummary()
    for item in jobs:
        if isinstance(item, ScanSummary):
            summary = item
        elif item.chunk.index not in done:
            batch.append(item)
            if len(batch) >= batch_size:
                computed += _process(batch, transcript, memory, models)
                report("chunks", computed, None)
                batch = []
    if batch:
        computed += _process(batch, transcript, memory, models)
        report("chunks", computed, None)
    memory.save_shots(summary.shots)
    memory.write_index()
    with memory.transaction():
        memory.set_meta("scan", {"duration": summary.duration, "frames": summary.frames_decoded,
                                 "shots": len(summary.shots)})  # fmt: skip
    return computed, summary.duration


def _complete(memory: VideoMemory) -> None:
    with memory.transaction():
        memory.set_meta("status", "complete")
        memory.set_meta("updated", time.time())


def _transcript(
    path: Any, memory: VideoMemory, transcriber: Transcriber | None, report: Progress
) -> list[TimedText]:
    """Subtitles if the video has them, else speech recognition; computed once and stored."""
    from longvid.media.subtitles import subtitle_lines
    from longvid.models.asr import transcribe_video

    stored = memory.transcript()
    if stored is not None:
        return stored
    lines, source = subtitle_lines(path)
    if source is None and transcriber is not None:
        report("speech", 0, None)
        lines, source = transcribe_video(path, transcriber), f"asr:{transcriber.info.spec}"
    memory.save_transcript(lines, source or "none")
    return lines


def _process(
    batch: list[ChunkJob], transcript: list[TimedText], memory: VideoMemory, models: IndexModels
) -> int:
    """Caption, read, embed and commit a batch of chunks."""
    records = [_record(job, transcript, models.reader) for job in batch]
    if models.captioner is not None:
        requests = [
            CaptionRequest(r.start, r.end, job.frames, r.transcript, r.screen_text)
            for r, job in zip(records, batch, strict=True)
        ]
        for record, caption in zip(records, models.captioner.caption(requests), strict=True):
            record.caption = caption
    for record in records:
        record.text = chunk_text(record)
    texts = [r.text for r in records]
    vectors = models.embedder.embed([t for t in texts if t])
    rows = iter(vectors)
    seen = [f for job in batch for f in job.visual]
    pictures = iter(
        models.visual.embed_images([f.image for f in seen]) if models.visual and seen else []
    )
    for record, job in zip(records, batch, strict=True):
        frame_vectors = [(f.time, next(pictures)) for f in job.visual]
        memory.commit_chunk(record, next(rows) if record.text else None, thumbnails(job.frames),
                            frame_vectors)  # fmt: skip
    return len(records)


def thumbnails(frames: list[Any], count: int = 4, side: int = 160) -> list[tuple[float, bytes]]:
    """Small JPEGs of up to ``count`` evenly spread frames (what reports show)."""
    import io

    from PIL import Image

    if not frames:
        return []
    step = max(1, len(frames) // count)
    out = []
    for frame in frames[::step][:count]:
        image = Image.fromarray(frame.image)
        image.thumbnail((side, side))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=70)
        out.append((frame.time, buffer.getvalue()))
    return out


def _record(job: ChunkJob, transcript: list[TimedText], reader: TextReader | None) -> ChunkRecord:
    chunk = job.chunk
    spoken = [t for t in transcript if t.end > chunk.start and t.start < chunk.end]
    screen: list[TimedText] = []
    if reader is not None and job.frames:
        middle = job.frames[len(job.frames) // 2]
        screen = [TimedText(middle.time, middle.time, line) for line in reader.read(middle.image)]
    return ChunkRecord(chunk.index, chunk.start, chunk.end, chunk.first_shot, chunk.last_shot,
                       [f.time for f in job.frames] or list(chunk.frame_times), transcript=spoken,
                       screen_text=screen)  # fmt: skip


def chunk_text(record: ChunkRecord) -> str:
    """The text that represents a chunk for search: caption, then speech, then on-screen text."""
    parts = [record.caption.strip()]
    if record.transcript:
        parts.append("Speech: " + " ".join(t.text for t in record.transcript))
    if record.screen_text:
        parts.append("On screen: " + " | ".join(t.text for t in record.screen_text))
    return "\n".join(p for p in parts if p)
