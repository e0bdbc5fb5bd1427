"""Audio windows for speech recognition, and subtitles from sidecar files and container streams."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from longvid.errors import InputError
from longvid.media.audio import SAMPLE_RATE, iter_audio, load_audio
from longvid.media.subtitles import (
    find_sidecar,
    read_embedded_subtitles,
    read_subtitle_file,
    subtitle_lines,
)
from longvid.models.asr import transcribe_video
from longvid.models.base import ModelInfo, TimedText, Transcriber
from tests.conftest import CUT_LENGTHS
from tests.media import ffmpeg

EXPECTED = [TimedText(0.5, 2.0, "Hello there."), TimedText(2.5, 3.5, "Second line.")]


def test_audio_is_16k_mono_float(cuts_video: Path) -> None:
    audio = load_audio(cuts_video)
    assert audio.dtype == np.float32
    assert len(audio) / SAMPLE_RATE == pytest.approx(sum(CUT_LENGTHS), abs=0.1)
    assert 0.05 < np.abs(audio).max() <= 1.0  # the 440 Hz tone is there


def test_audio_windows_are_bounded_and_contiguous(cuts_video: Path) -> None:
    windows = list(iter_audio(cuts_video, window_s=2.0))
    assert [offset for offset, _ in windows] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert all(len(samples) == 2 * SAMPLE_RATE for _, samples in windows[:-1])
    assert np.concatenate([s for _, s in windows]).size == load_audio(cuts_video).size


def test_video_without_audio_yields_nothing(vfr_video: Path) -> None:
    assert list(iter_audio(vfr_video)) == []
    assert load_audio(vfr_video).size == 0


def test_transcripts_are_timed_on_the_video_clock(cuts_video: Path) -> None:
    class OneLinePerWindow(Transcriber):
        info = ModelInfo("fake", "test")

        def transcribe(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[TimedText]:
            return [TimedText(0.5, 1.0, f"{len(audio) / sample_rate:.1f} s of audio")]

    lines = transcribe_video(cuts_video, OneLinePerWindow(), window_s=4.0)
    assert [(t.start, t.end) for t in lines] == [(0.5, 1.0), (4.5, 5.0), (8.5, 9.0)]
    assert lines[0].text == "4.0 s of audio"


def test_embedded_subtitle_stream(subtitled_video: Path) -> None:
    assert read_embedded_subtitles(subtitled_video) == EXPECTED
    assert subtitle_lines(subtitled_video) == (EXPECTED, "embedded")


@pytest.mark.parametrize("codec", ["mov_text", "ass"])
def test_other_subtitle_codecs(subtitled_video: Path, tmp_path: Path, codec: str) -> None:
    target = tmp_path / ("subs.mp4" if codec == "mov_text" else "subs.mkv")
    ffmpeg("-i", str(subtitled_video), "-map", "0", "-c", "copy", "-c:s", codec, str(target))
    assert read_embedded_subtitles(target) == EXPECTED


def test_sidecar_wins_over_the_container(subtitled_video: Path, tmp_path: Path) -> None:
    video = tmp_path / "talk.mkv"
    shutil.copy(subtitled_video, video)
    sidecar = tmp_path / "talk.en.vtt"
    sidecar.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Anna>From the <b>sidecar</b>.\n",
        encoding="utf-8",
    )
    assert find_sidecar(video) == sidecar
    lines, source = subtitle_lines(video)
    assert source == str(sidecar)
    assert lines == [TimedText(1.0, 2.5, "From the sidecar.")]


def test_srt_file_with_formatting(tmp_path: Path) -> None:
    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:01:00,000 --> 00:01:02,000\n<i>Two</i>\nlines\n\n", encoding="utf-8")
    assert read_subtitle_file(srt) == [TimedText(60.0, 62.0, "Two lines")]


def test_unreadable_subtitle_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.srt"
    bad.write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(InputError, match="cannot read subtitles"):
        read_subtitle_file(bad)
