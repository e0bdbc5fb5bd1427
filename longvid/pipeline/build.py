"""Build one memory's content: transcript, then chunk by chunk caption, text, vectors, commit.

Decoding runs in a producer thread while the models work on earlier chunks. Every chunk is
committed as soon as it is done, so a killed run resumes without recomputing anything stored.
The content is of a whole video, or of one time range of it (a part of a long video).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from longvid.media.frames import DEFAULT_MAX_SIDE
from longvid.media.probe import VideoInfo
from longvid.media.shots import ShotOptions
from longvid.media.signature import same_view, signature
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.models.base import (
    Captioner,
    CaptionRequest,
    Embedder,
    TextReader,
    Transcriber,
    VisualEmbedder,
)
from longvid.pipeline.jobs import ChunkJob, ScanSummary, chunk_jobs, in_background
from longvid.plan import FrameBudget
from longvid.progress import Progress, Stage
from longvid.timeline import Span, TimedText


@dataclass
class IndexModels:
    """The models an index run uses. Only the embedder is required."""

    embedder: Embedder
    captioner: Captioner | None = None
    transcriber: Transcriber | None = None
    reader: TextReader | None = None
    visual: VisualEmbedder | None = None


@dataclass(frozen=True)
class IndexOptions:
    """How to cut and sample the video (part of the memory's identity, but ``lazy_captions``)."""

    shots: ShotOptions = field(default_factory=ShotOptions)
    budget: FrameBudget = field(default_factory=FrameBudget)
    frame_side: int = DEFAULT_MAX_SIDE
    visual_every_s: float = 2.0  # frames for the visual memory (plus one per shot)
    lazy_captions: bool = False  # store chunks uncaptioned; captions come later (memory.captions)


def build_memory(
    path: Any,
    info: VideoInfo,
    memory: VideoMemory,
    models: IndexModels,
    options: IndexOptions,
    report: Progress,
    span: Span | None = None,
) -> tuple[int, float]:
    """Index the video (or ``span`` of it) into ``memory``, skipping committed chunks.

    Returns (chunks computed in this run, seconds decoded to).
    """
    with memory.transaction():
        memory.set_meta("status", "indexing")
    transcript = _transcript(path, memory, models.transcriber, report, span or Span())
    done = memory.committed()
    need_frames = any(m is not None for m in (models.captioner, models.reader, models.visual))
    every = options.visual_every_s if models.visual is not None else None
    batch_size = models.captioner.batch_size if models.captioner else 16
    jobs = in_background(lambda: chunk_jobs(path, options.shots, options.budget, need_frames, options.frame_side,
                                            progress=lambda d, t: report(Stage.DECODE, d, t), info=info,
                                            visual_every_s=every, span=span))  # fmt: skip
    batch: list[ChunkJob] = []
    computed = 0
    summary = ScanSummary()
    views = HeldViews()
    for item in jobs:
        if isinstance(item, ScanSummary):
            summary = item
        elif item.chunk.index not in done:
            batch.append(item)
            if len(batch) >= batch_size:
                computed += _process(batch, transcript, memory, models, views, options.lazy_captions)
                report(Stage.CHUNKS, computed, None)
                batch = []
    if batch:
        computed += _process(batch, transcript, memory, models, views, options.lazy_captions)
        report(Stage.CHUNKS, computed, None)
    memory.save_shots(summary.shots)
    memory.write_index()
    with memory.transaction():
        memory.set_meta("scan", {"duration": summary.duration, "frames": summary.frames_decoded,
                                 "shots": len(summary.shots)})  # fmt: skip
    return computed, summary.duration


def _transcript(
    path: Any, memory: VideoMemory, transcriber: Transcriber | None, report: Progress, span: Span
) -> list[TimedText]:
    """Subtitles if the video has them, else speech recognition (of ``span``); computed once and
    stored."""
    from longvid.media.subtitles import subtitle_lines
    from longvid.models.asr import transcribe_video

    stored = memory.transcript()
    if stored is not None:
        return stored
    lines, source = subtitle_lines(path)
    lines = [t for t in lines if span.holds(t.start, max(t.end, t.start + 1e-3))]
    if source is None and transcriber is not None:
        report(Stage.SPEECH, 0, None)
        lines = transcribe_video(path, transcriber, span=span)
        source = f"asr:{transcriber.info.spec}"
    memory.save_transcript(lines, source or "none")
    return lines


@dataclass
class HeldViews:
    """The view last captioned: a following chunk that shows the same (a held shot, a slide, a
    talking head) reuses its caption instead of running the video LLM again."""

    last: int = -2  # the index of the last chunk seen
    signatures: list[Any] = field(default_factory=list)  # of the captioned chunk's frames
    source: ChunkRecord | None = None  # the captioned chunk (its caption once it has one)


def _process(
    batch: list[ChunkJob],
    transcript: list[TimedText],
    memory: VideoMemory,
    models: IndexModels,
    views: HeldViews | None = None,
    lazy: bool = False,
) -> int:
    """Caption (unless ``lazy``), read, embed and commit a batch of chunks."""
    records = [_record(job, transcript, models.reader) for job in batch]
    reused: dict[int, int] = {}
    captioned = models.captioner is None or not lazy
    if models.captioner is not None and not lazy:
        reused = caption_batch(batch, records, models.captioner, views or HeldViews())
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
                            frame_vectors, captioned)  # fmt: skip
    note_reused(memory, reused)
    return len(records)


def note_reused(memory: VideoMemory, reused: dict[int, int]) -> None:
    """Record which chunks reuse another chunk's caption (``caption_from`` in the memory)."""
    if reused:
        with memory.transaction():
            known = memory.meta("caption_from", {})
            memory.set_meta("caption_from", {**known, **{str(k): v for k, v in reused.items()}})


def caption_batch(
    batch: list[ChunkJob], records: list[ChunkRecord], captioner: Captioner, views: HeldViews
) -> dict[int, int]:
    """Caption the batch; a chunk that holds the view of the chunk before it reuses the caption
    of the chunk that view was captioned for. Returns {chunk index: index of that chunk}."""
    from longvid.timeline import hms

    held: dict[int, ChunkRecord] = {}  # position in the batch -> the captioned chunk
    for i, job in enumerate(batch):
        signatures = [signature(f.image) for f in job.frames]
        follows = views.source is not None and views.last == job.chunk.index - 1
        if follows and views.source is not None and same_view(views.signatures, signatures):
            held[i] = views.source
        else:
            views.signatures, views.source = signatures, records[i]
        views.last = job.chunk.index
    fresh = [i for i in range(len(batch)) if i not in held]
    requests = [CaptionRequest(records[i].start, records[i].end, batch[i].frames,
                               records[i].transcript, records[i].screen_text) for i in fresh]  # fmt: skip
    for i, caption in zip(fresh, captioner.caption(requests) if requests else [], strict=True):
        records[i].caption = caption
    for i, source in held.items():
        records[i].caption = (f"(The same view as [{hms(source.start)}–{hms(source.end)}].) "
                              f"{source.caption}")  # fmt: skip
    return {batch[i].chunk.index: source.index for i, source in held.items()}


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
