"""A long video indexed in parts (cut at keyframes, merged into one memory), and resumed."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from longvid.media.audio import iter_audio
from longvid.media.keyframes import keyframe_spans
from longvid.media.shots import ShotScan
from longvid.memory.captions import pending
from longvid.memory.library import memories
from longvid.memory.parts import merge_part
from longvid.memory.store import VideoMemory
from longvid.models.registry import load
from longvid.pipeline.index import (
    IndexModels,
    IndexOptions,
    index_video,
    index_video_part,
    split_video,
)
from longvid.timeline import Span
from tests.fakes import RecordingCaptioner
from tests.media import cut_times, shots_video

LENGTHS = [7.0, 6.0, 9.0, 6.0, 7.0]  # 35 s; cuts at 7, 13, 22 and 28 s
PART_S = 12.0
SUBTITLES = (  # the second line crosses the first part's end
    "1\n00:00:03,000 --> 00:00:05,000\nOpening words.\n\n"
    "2\n00:00:11,500 --> 00:00:12,500\nA line across the cut.\n\n"
    "3\n00:00:30,000 --> 00:00:31,000\nLast words.\n"
)


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """35 s of hard cuts with a keyframe every second and a subtitle file beside it."""
    folder = tmp_path_factory.mktemp("parts")
    path = shots_video(folder / "long.mp4", LENGTHS, audio=True, extra=("-g", "25"))
    (folder / "long.srt").write_text(SUBTITLES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def embedder(tiny_model: Callable[[str], Path]) -> object:
    return load("embedder", str(tiny_model("sentence_transformer")))


def models_with(embedder: object) -> tuple[IndexModels, RecordingCaptioner]:
    captioner = RecordingCaptioner(max_frames=4)
    return IndexModels(embedder=embedder, captioner=captioner), captioner  # type: ignore[arg-type]


def keyframes(path: Path) -> set[float]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            float(p.pts * stream.time_base)
            for p in container.demux(stream)
            if p.pts is not None and p.is_keyframe
        }


def stored(root: Path) -> VideoMemory:
    [summary] = memories(root)
    return VideoMemory(Path(summary.folder))


def test_parts_start_at_keyframes_and_cover_the_video(long_video: Path) -> None:
    spans = keyframe_spans(long_video, PART_S, 35.0)
    assert len(spans) == 3 and spans[0].start == 0.0 and spans[-1].end is None
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    for span, target in zip(spans[1:], (12.0, 24.0), strict=True):
        assert span.start in keyframes(long_video)
        assert target - 1.0 <= span.start <= target


def test_a_part_decodes_only_its_range_and_closes_its_last_shot(long_video: Path) -> None:
    whole = [shot for shot, _ in ShotScan(long_video)]
    part = [shot for shot, _ in ShotScan(long_video, span=Span(12.0, 24.0))]
    assert part[0].start == 12.0 and part[-1].end == 24.0
    assert [s.start for s in part[1:]] == [c for c in cut_times(LENGTHS) if 12.0 < c < 24.0]
    assert [s.start for s in whole[1:]] == cut_times(LENGTHS)
    [(offset, samples)] = list(iter_audio(long_video, window_s=60.0, span=Span(12.0, 24.0)))
    assert offset == pytest.approx(12.0, abs=0.05)
    assert len(samples) / 16_000 == pytest.approx(12.0, abs=0.1)


def test_a_video_indexed_in_parts_is_one_memory_like_a_whole_run(
    long_video: Path, embedder: object, tmp_path: Path
) -> None:
    whole_models, _ = models_with(embedder)
    index_video(long_video, whole_models, tmp_path / "whole")
    split_models, captioner = models_with(embedder)
    result = index_video(long_video, split_models, tmp_path / "split", part_s=PART_S)
    whole, split = stored(tmp_path / "whole"), stored(tmp_path / "split")
    cuts = [span.start for span in keyframe_spans(long_video, PART_S, 35.0)[1:]]

    assert result.status == "indexed" and result.chunks == result.computed == split.chunk_count()
    assert result.duration == pytest.approx(35.0, abs=0.05)
    chunks = split.chunks()
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0.0 and chunks[-1].end == whole.chunks()[-1].end
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert len(captioner.requests) == len(chunks)  # each chunk captioned once
    assert {c.start for c in chunks} >= set(cuts)  # no chunk straddles a part's edge
    # The shots are the whole run's, each one crossing a part's edge closed there.
    shot_starts = [row[0] for row in split.db.execute("SELECT start FROM shots ORDER BY idx")]
    whole_starts = [row[0] for row in whole.db.execute("SELECT start FROM shots ORDER BY idx")]
    assert shot_starts == sorted({*whole_starts, *cuts})
    assert split.meta("scan")["shots"] == len(shot_starts)
    assert chunks[0].first_shot == 0 and chunks[-1].last_shot == len(shot_starts) - 1
    # One transcript: the subtitle line across the cut once, every chunk holding what it overlaps.
    assert split.transcript() == whole.transcript() and len(whole.transcript() or []) == 3
    across = [c for c in chunks if any(t.text == "A line across the cut." for t in c.transcript)]
    assert [c.start for c in across] == [c.start for c in chunks if c.end > 11.5 and c.start < 12.5]
    # Searchable as any memory: full text and vectors.
    assert split.lexical(["across"], 5)[0][0] in {c.index for c in across}
    vector = embedder.embed([chunks[3].text])[0]  # type: ignore[attr-defined]
    [(best, _)] = split.search_vectors(vector, 1)
    assert split.chunk(best).text == chunks[3].text  # type: ignore[union-attr]
    assert split.status == "complete" and not (Path(split.folder) / "parts").exists()


def test_parts_done_by_other_workers_are_kept_and_a_merge_resumes(
    long_video: Path, embedder: object, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    models, captioner = models_with(embedder)
    options = IndexOptions()
    parts = split_video(long_video, models, root, options, PART_S)
    assert list(parts) == [0, 1, 2]
    assert [m.status for m in memories(root)] == ["indexing"]  # as `longvid list` shows it
    index_video_part(long_video, models, root, options, 2, parts[2])
    index_video_part(long_video, models, root, options, 0, parts[0])
    memory = stored(root)
    merge_part(memory, 0)  # a finisher that died after merging part 0
    merged = memory.chunk_count()
    memory.close()
    assert split_video(long_video, models, root, options, PART_S).keys() == {1, 2}
    done_before = len(captioner.requests)

    result = index_video(long_video, models, root)  # a plain run finishes what the memory began
    memory = stored(root)
    assert result.status == "indexed" and merged >= 1
    assert result.computed == len(captioner.requests) - done_before  # only part 1 was captioned
    assert len(captioner.requests) == memory.chunk_count()  # no chunk captioned twice
    fresh, _ = models_with(embedder)
    index_video(long_video, fresh, tmp_path / "at-once", part_s=PART_S)
    at_once = stored(tmp_path / "at-once")
    assert [(c.start, c.end, c.caption) for c in memory.chunks()] == [
        (c.start, c.end, c.caption) for c in at_once.chunks()
    ]
    vectors = memory.db.execute("SELECT embedding FROM chunks ORDER BY idx").fetchall()
    expected = at_once.db.execute("SELECT embedding FROM chunks ORDER BY idx").fetchall()
    for (a,), (b,) in zip(vectors, expected, strict=True):
        np.testing.assert_allclose(np.frombuffer(a, np.float32), np.frombuffer(b, np.float32),
                                   atol=1e-5)  # fmt: skip


def test_a_short_or_complete_video_is_not_split(
    long_video: Path, embedder: object, tmp_path: Path
) -> None:
    models, _ = models_with(embedder)
    assert split_video(long_video, models, tmp_path, IndexOptions(), 60.0) == {}
    index_video(long_video, models, tmp_path)
    assert split_video(long_video, models, tmp_path, IndexOptions(), PART_S) == {}
    assert stored(tmp_path).meta("parts") is None


def test_a_lazy_video_indexed_in_parts_keeps_every_caption_to_come(
    long_video: Path, embedder: object, tmp_path: Path
) -> None:
    models, captioner = models_with(embedder)
    lazy = IndexOptions(lazy_captions=True)
    result = index_video(long_video, models, tmp_path, lazy, part_s=PART_S)
    memory = stored(tmp_path)
    assert result.uncaptioned == result.chunks == memory.chunk_count() and captioner.requests == []
    assert pending(memory) == list(range(result.chunks))  # renumbered with the merged chunks
    memory.close()
    rest = index_video(long_video, models, tmp_path)  # captions every chunk, in the same memory
    memory = stored(tmp_path)
    assert rest.computed == result.chunks and len(captioner.requests) == result.chunks
    assert pending(memory) == [] and all(c.caption for c in memory.chunks())
    memory.close()
