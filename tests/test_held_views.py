"""Chunks that hold the view of the chunk before (a static shot, a slide) reuse its caption."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from longvid.media.signature import same_view, signature
from longvid.memory.library import memories
from longvid.memory.store import VideoMemory
from longvid.models.base import Captioner, CaptionRequest, ModelInfo
from longvid.models.registry import load
from longvid.pipeline.index import IndexModels, IndexOptions, index_video
from longvid.plan import FrameBudget
from tests.media import ffmpeg


class Counting(Captioner):
    """Captions each chunk with its own span (orchestration only: which chunks were asked)."""

    def __init__(self) -> None:
        self.info = ModelInfo("counting", "test")
        self.max_frames = 4
        self.batch_size = 2
        self.asked: list[float] = []

    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        self.asked += [r.start for r in requests]
        return [f"a view from {r.start:.0f} s" for r in requests]


@pytest.fixture(scope="module")
def held_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 s of still colour bars, then 6 s of a moving test pattern."""
    path = tmp_path_factory.mktemp("held") / "held.mp4"
    ffmpeg("-f", "lavfi", "-i", "smptebars=size=320x240:rate=10:duration=24",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=6",
           "-filter_complex", "[0][1]concat=n=2:v=1:a=0[v]", "-map", "[v]",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    return path


def test_a_held_view_reuses_the_caption_and_says_so(
    held_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    captioner = Counting()
    models = IndexModels(load("embedder", str(tiny_model("sentence_transformer"))), captioner)
    options = IndexOptions(budget=FrameBudget(max_frames=4, min_chunk_s=4, max_chunk_s=6))
    result = index_video(held_video, models, tmp_path, options)
    [summary] = memories(tmp_path)
    memory = VideoMemory(Path(summary.folder))
    chunks = memory.chunks()
    bars = [c for c in chunks if c.end <= 24.05]
    assert result.chunks == len(chunks) and len(bars) == 4
    assert captioner.asked[0] == 0.0 and len(captioner.asked) < len(chunks)  # fewer model calls
    for chunk in bars[1:]:
        assert chunk.caption == "(The same view as [00:00:00–00:00:06].) a view from 0 s"
    assert memory.meta("caption_from") == {str(c.index): 0 for c in bars[1:]}
    assert chunks[-1].start >= 23.9 and chunks[-1].start in captioner.asked  # the view changed
    memory.close()


def test_a_changing_view_is_not_the_same() -> None:
    rng = np.random.default_rng(0)
    still = rng.integers(0, 255, (90, 160, 3), np.uint8)
    noisy = np.clip(still.astype(int) + rng.integers(-3, 4, still.shape), 0, 255).astype(np.uint8)
    moved = np.roll(still, 40, axis=1)
    assert same_view([signature(still)], [signature(noisy), signature(still)])
    assert not same_view([signature(still)], [signature(still), signature(moved)])
    assert not same_view([], [signature(still)])
