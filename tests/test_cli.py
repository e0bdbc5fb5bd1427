"""The ``longvid`` command as users and scripts see it: output formats, stdin, exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from tests.conftest import CUT_LENGTHS
from tests.media import cut_times

runner = CliRunner()


def longvid(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "longvid", *args], input=stdin, capture_output=True, text=True
    )


def test_scenes_json_shape(cuts_video: Path) -> None:
    result = runner.invoke(app, ["scenes", "--json", str(cuts_video)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"video", "duration", "fps", "scenes"}
    assert doc["video"] == str(cuts_video)
    assert doc["fps"] == 25.0
    assert doc["duration"] == pytest.approx(sum(CUT_LENGTHS), abs=0.05)
    assert [s["index"] for s in doc["scenes"]] == [0, 1, 2, 3]
    assert [s["start"] for s in doc["scenes"][1:]] == pytest.approx(
        cut_times(CUT_LENGTHS), abs=0.08
    )
    assert all(set(s) == {"index", "start", "end"} for s in doc["scenes"])


def test_scenes_text_table(cuts_video: Path) -> None:
    result = runner.invoke(app, ["scenes", str(cuts_video)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "4 shots" in lines[0] and "25 fps" in lines[0]
    assert lines[3].split()[:3] == ["1", "00:00:02.0", "00:00:05.0"]


def test_scenes_csv_has_one_header_for_many_videos(cuts_video: Path, vfr_video: Path) -> None:
    result = runner.invoke(app, ["scenes", "--csv", str(cuts_video), str(vfr_video)])
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["video", "index", "start", "end", "duration"]
    assert [r[0] for r in rows[1:]] == [str(cuts_video)] * 4 + [str(vfr_video)] * 3


def test_batch_from_stdin_reports_bad_file_and_goes_on(
    cuts_video: Path, vfr_video: Path, bad_inputs: dict[str, Path]
) -> None:
    paths = [cuts_video, bad_inputs["text"], vfr_video]
    done = longvid("scenes", "--json", "-", stdin="\n".join(map(str, paths)) + "\n")
    assert done.returncode == 1
    docs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [d["video"] for d in docs] == [str(cuts_video), str(vfr_video)]
    assert (
        done.stderr.strip()
        == f"error: {bad_inputs['text']}: not a video file — pass a video file (mp4, mkv, mov, avi, webm…)"
    )


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "no_index", "audio_only"])
def test_bad_input_is_one_line_without_traceback(bad_inputs: dict[str, Path], kind: str) -> None:
    done = longvid("scenes", str(bad_inputs[kind]))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and " — " in lines[0]


def test_truncated_file_exits_1(truncated_video: Path) -> None:
    done = longvid("scenes", str(truncated_video))
    assert done.returncode == 1
    assert "truncated" in done.stderr and "Traceback" not in done.stderr


def test_debug_shows_traceback(bad_inputs: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "longvid", "scenes", str(bad_inputs["missing"])],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "LONGVID_DEBUG": "1"},
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr


def test_usage_errors_exit_2(cuts_video: Path) -> None:
    assert runner.invoke(app, ["scenes", "--detector", "nope", str(cuts_video)]).exit_code == 2
    assert runner.invoke(app, ["scenes", "--json", "--csv", str(cuts_video)]).exit_code == 2
    assert runner.invoke(app, ["scenes", "-", str(cuts_video)]).exit_code == 2
    assert runner.invoke(app, ["scenes"]).exit_code == 2


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys; from longvid_cli.app import app; "
        "heavy = {'torch', 'transformers', 'cv2', 'av', 'scenedetect', 'faiss', 'numpy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
    assert longvid("--help").returncode == 0
    assert longvid("--version").stdout.startswith("longvid ")


def test_models_check_loads_each_channel(tiny_model) -> None:  # type: ignore[no-untyped-def]
    args = ["models", "--check", "--json", "--captioner", str(tiny_model("smolvlm")), "--llm", "captioner",
            "--embedder", str(tiny_model("sentence_transformer")), "--asr", "none", "--ocr", "none",
            "--visual-embedder", str(tiny_model("clip"))]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    channels = json.loads(result.stdout)["channels"]
    assert {k: v["status"] for k, v in channels.items()} == {
        "captioner": "ok", "llm": "ok", "embedder": "ok", "asr": "off", "ocr": "off", "visual_embedder": "ok"
    }  # fmt: skip
    assert channels["llm"]["loaded"] == str(tiny_model("smolvlm"))  # the captioner answers too


def test_models_check_fails_on_a_bad_explicit_spec() -> None:
    result = runner.invoke(app, ["models", "--check", "--captioner", "./nowhere", "--asr", "none",
                                 "--ocr", "none", "--llm", "none", "--embedder", "none"])  # fmt: skip
    assert result.exit_code == 1
    assert "error: captioner: model directory not found: ./nowhere" in result.stderr


def test_ray_without_ray_installed_says_what_to_install(
    cuts_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result = runner.invoke(app, ["index", str(cuts_video), "--ray", "local"])
    assert result.exit_code == 1
    assert (
        "error: the package 'ray' is not installed — install it with: pip install 'longvid[ray]'"
        in result.output
    )
