"""Shared fixtures: an isolated longvid home and generated test media (session-scoped)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import H264, ffmpeg, shots_video

os.environ["HF_HUB_OFFLINE"] = (
    "1"  # before anything imports huggingface_hub: tests never reach a hub
)

CUT_LENGTHS = [2.0, 3.0, 1.6, 2.4]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real store or config."""
    monkeypatch.setenv("LONGVID_HOME", str(tmp_path / "longvid-home"))
    monkeypatch.setenv("LONGVID_CACHE", str(tmp_path / "longvid-cache"))
    monkeypatch.setenv("LONGVID_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # tests never reach a model hub
    for name in (
        "LONGVID_DEBUG",
        "LONGVID_CAPTIONER",
        "LONGVID_LLM",
        "LONGVID_EMBEDDER",
        "LONGVID_ASR",
        "LONGVID_OCR",
        "LONGVID_SPEAKERS",
        "LONGVID_DEVICE",
        "LONGVID_MAX_FRAMES",
        "LONGVID_TRUST_REMOTE_CODE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build (once per session) and return the directory of a tiny model, e.g. tiny_model("qwen2_vl")."""
    from tests import tiny_models

    root = tmp_path_factory.mktemp("tiny-models")
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = getattr(tiny_models, f"build_{family}")(root / family)
        return built[family]

    return get


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cuts_video(media_dir: Path) -> Path:
    """25 fps, 9 s, hard cuts at 2.0, 5.0 and 6.6 s, with a 440 Hz tone."""
    return shots_video(media_dir / "cuts.mp4", CUT_LENGTHS, audio=True)


@pytest.fixture(scope="session")
def vfr_video(media_dir: Path) -> Path:
    """Variable frame rate: 10 fps for 3 s, then 30 fps; cuts at 3.0 and 6.0 s."""
    path = media_dir / "vfr.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30:duration=3",
        "-f",
        "lavfi",
        "-i",
        "smptebars=size=320x240:rate=30:duration=3",
        "-f",
        "lavfi",
        "-i",
        "rgbtestsrc=size=320x240:rate=30:duration=3",
        "-filter_complex",
        r"[0][1][2]concat=n=3:v=1:a=0,select='if(lt(t\,3)\,not(mod(n\,3))\,1)'",
        "-fps_mode",
        "passthrough",
        *H264,
        str(path),
    )
    return path


@pytest.fixture(scope="session")
def subtitled_video(media_dir: Path) -> Path:
    """Matroska with video, audio and an English SRT subtitle stream."""
    srt = media_dir / "subs.srt"
    srt.write_text(
        "1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n"
        "2\n00:00:02,500 --> 00:00:03,500\nSecond line.\n",
        encoding="utf-8",
    )
    path = media_dir / "subtitled.mkv"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25:duration=4",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=4",
        "-i",
        str(srt),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:s",
        *H264,
        "-c:a",
        "aac",
        "-c:s",
        "srt",
        "-metadata:s:s:0",
        "language=eng",
        str(path),
    )
    return path


@pytest.fixture(scope="session")
def truncated_video(media_dir: Path) -> Path:
    """The first 40% of a 10 s faststart MP4: opens, then stops early."""
    whole = shots_video(media_dir / "whole.mp4", [5.0, 5.0], extra=("-movflags", "+faststart"))
    path = media_dir / "truncated.mp4"
    data = whole.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    return path


@pytest.fixture(scope="session")
def bad_inputs(media_dir: Path, cuts_video: Path) -> dict[str, Path]:
    """Inputs that are not usable videos, keyed by what is wrong with them."""
    empty = media_dir / "empty.mp4"
    empty.write_bytes(b"")
    text = media_dir / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    no_index = media_dir / "no_index.mp4"
    no_index.write_bytes(cuts_video.read_bytes()[:20_000])
    audio = media_dir / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", str(audio))
    return {
        "missing": media_dir / "missing.mp4",
        "empty": empty,
        "text": text,
        "no_index": no_index,
        "audio_only": audio,
    }


FACTS = [
    (12.0, 15.0, "The ferry to Ardmore leaves at 07:15 every morning."),
    (25.0, 28.0, "Captain Mira Okafor checks the engine before the crossing."),
    (41.0, 44.0, "The radio warns of a storm coming from the west."),
    (52.0, 55.0, "Fresh bread costs three euros at the market."),
]


@pytest.fixture(scope="session")
def facts_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s, six 10 s shots, subtitles carrying a fact at known times."""
    folder = tmp_path_factory.mktemp("facts")
    plain = shots_video(folder / "plain.mp4", [10.0] * 6)
    srt = folder / "facts.srt"
    srt.write_text(
        "\n".join(
            f"{i}\n00:00:{a:06.3f} --> 00:00:{b:06.3f}\n{text}\n".replace(".", ",", 2)
            for i, (a, b, text) in enumerate(FACTS, start=1)
        ),
        encoding="utf-8",
    )
    video = folder / "harbour.mkv"
    ffmpeg(
        "-i",
        str(plain),
        "-i",
        str(srt),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-c:s",
        "srt",
        str(video),
    )
    return video
