"""``clip`` (stream copy on keyframes, exact re-encode elsewhere) and chapter formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.media.clips import export_clip, keyframe_times
from longvid.pipeline.chapters import chapters, ffmetadata, youtube_lines

runner = CliRunner()


def frames_of(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * stream.time_base) for f in container.decode(stream)]


def test_a_cut_off_the_keyframes_is_exact(cuts_video: Path, tmp_path: Path) -> None:
    """1.3–4.1 s at 25 fps: the frames on screen then (1.28 ... 4.08), the first at zero."""
    assert not any(abs(k - 1.3) < 1e-3 for k in keyframe_times(cuts_video))
    clip = export_clip(cuts_video, 1.3, 4.1, tmp_path / "exact.mp4")
    assert clip.mode == "re-encode"
    times = frames_of(clip.path)
    assert len(times) == 71 and times[0] == 0.0
    assert abs((times[-1] + 0.04) - 2.8) <= 0.04 + 1e-9  # within one frame of the request
    with av.open(str(clip.path)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]


def test_a_cut_on_a_keyframe_is_a_stream_copy(cuts_video: Path, tmp_path: Path) -> None:
    keys = [k for k in keyframe_times(cuts_video) if k > 0]
    clip = export_clip(cuts_video, keys[0], keys[1], tmp_path / "copy.mp4")
    assert clip.mode == "copy"
    times = frames_of(clip.path)
    assert times[0] == 0.0 and len(times) == round((keys[1] - keys[0]) * 25)
    off_grid = export_clip(cuts_video, keys[0], keys[0] + 0.5, tmp_path / "end.mp4")
    assert off_grid.mode == "re-encode" and len(frames_of(off_grid.path)) == 13


def test_clip_command_at_and_query(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "moment.mp4"
    done = runner.invoke(
        app, ["clip", str(facts_video), "--at", "00:00:12-00:00:15", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"{out}  [00:00:12.0–00:00:15.0]")
    assert len(frames_of(out)) == 75
    bad = runner.invoke(app, ["clip", str(facts_video), "--at", "00:20-00:10", "-o", str(out)])
    assert bad.exit_code == 2 and "end must come after the start" in bad.output
    store = ["--store", str(tmp_path / "store")]
    embedder = str(tiny_model("sentence_transformer"))
    indexed = runner.invoke(app, ["index", str(facts_video), "--captioner", "none", "--asr", "none",
                                  "--ocr", "none", "--embedder", embedder, *store])  # fmt: skip
    assert indexed.exit_code == 0, indexed.output
    found = runner.invoke(app, ["clip", str(facts_video), "--query", "Okafor engine", "--top-k", "2",
                                "-o", str(tmp_path / "okafor.mp4"), "--json", *store])  # fmt: skip
    assert found.exit_code == 0, found.output
    [first, second] = [json.loads(line) for line in found.stdout.splitlines()]
    assert first["clip"].endswith("okafor-1.mp4") and second["clip"].endswith("okafor-2.mp4")
    assert first["start"] <= 25.0 < first["end"]
    assert Path(first["clip"]).stat().st_size > 0


SECTIONS = [
    {"start": 3.0, "end": 40.0, "summary": "The ferry leaves the harbour [00:00:12]. More."},
    {"start": 40.0, "end": 46.0, "summary": "A short storm warning."},
    {"start": 46.0, "end": 125.0, "summary": "Captain Mira Okafor " + "checks the engine " * 8},
    {"start": 125.0, "end": 130.0, "summary": "The end."},
]


def test_chapters_start_at_zero_and_last_ten_seconds() -> None:
    marks = chapters(SECTIONS)
    assert [(c.start, c.end) for c in marks] == [(0.0, 46.0), (46.0, 130.0)]
    assert all(c.end - c.start >= 10 for c in marks)
    lines = youtube_lines(marks).splitlines()
    assert lines[0] == "00:00 The ferry leaves the harbour"
    assert lines[1].startswith("00:46 Captain Mira Okafor checks the engine") and lines[1].endswith(
        "…"
    )
    assert len(lines[1]) <= 6 + 61
    meta = ffmetadata(marks)
    assert meta.startswith(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=46000\n")
    assert "title=The ferry leaves the harbour\n" in meta


@pytest.mark.parametrize("title", ["a=b; c#d"])
def test_ffmetadata_escapes_special_characters(title: str) -> None:
    meta = ffmetadata(chapters([{"start": 0, "end": 30, "summary": title}]))
    assert "title=a\\=b\\; c\\#d\n" in meta
