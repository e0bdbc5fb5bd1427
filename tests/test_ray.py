"""``longvid index --ray local``: one Ray task per video, the same memories as a serial run.

Starts a real local Ray runtime in a subprocess (``-m ray``). The captioner is a local
OpenAI-compatible fake that answers at once, so the time goes to Ray and the pipeline.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fake_openai import FakeServer, completion, default_text, serve
from tests.media import shots_video

pytestmark = pytest.mark.ray
pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

A_ONLY = {"00:00:05.0", "00:00:06.6", "00:00:09.0"}  # chunk starts only a.mp4 has
SEGMENT = re.compile(r"Video segment \[([\d:.]+)\] to \[([\d:.]+)\]")
LAYOUTS = {"a.mp4": [2.0, 3.0, 1.6, 2.4, 2.2], "b.mp4": [2.5, 2.2, 3.1], "c.mp4": [1.8, 2.7, 2.3]}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("ray-videos")
    return [shots_video(folder / name, lengths, audio=True) for name, lengths in LAYOUTS.items()]


def index(paths: list[Path | str], store: Path, url: str, embedder: Path, *extra: str) -> Any:
    """Run ``longvid index`` as a user would, in its own process."""
    command = [sys.executable, "-m", "longvid_cli", "index", *map(str, paths), "--json", "-q",
               "--captioner", f"openai:fake@{url}", "--asr", "none", "--ocr", "none",
               "--embedder", str(embedder), "--visual-embedder", "none", *extra]  # fmt: skip
    env = {**os.environ, "LONGVID_HOME": str(store), "RAY_ADDRESS": ""}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def memories(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Per video (by fingerprint): every chunk's times, frames, caption, speech and vector."""
    found = {}
    query = (
        "SELECT start, end, frame_times, caption, transcript, embedding FROM chunks ORDER BY start"
    )
    for database in sorted(store.glob("videos/*/*/memory.sqlite")):
        with sqlite3.connect(database) as db:
            rows = [(*r[:-1], np.frombuffer(r[-1], np.float32)) for r in db.execute(query)]
            found[database.parent.parent.name] = rows
    return found


def assert_same_memories(got: Path, expected: Path) -> None:
    """Equal texts and times; vectors equal to float precision (a resumed run batches apart)."""
    a, b = memories(got), memories(expected)
    assert a.keys() == b.keys() and a
    for video in a:
        assert [row[:-1] for row in a[video]] == [row[:-1] for row in b[video]]
        for x, y in zip(a[video], b[video], strict=True):
            np.testing.assert_allclose(x[-1], y[-1], atol=1e-5)


def segments(server: FakeServer) -> Counter[tuple[str, str]]:
    return Counter(
        m.groups() for body in server.requests if (m := SEGMENT.search(default_text(body)))
    )


def test_ray_run_equals_serial_run_and_a_bad_file_fails_alone(
    videos: list[Path], tmp_path: Path, tiny_model: Callable[[str], Path]
) -> None:
    embedder = tiny_model("sentence_transformer")
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    serial_server, first, second = FakeServer(), FakeServer(), FakeServer()
    with serve(serial_server) as url:
        serial = index(videos, tmp_path / "serial", url, embedder)
    with serve(first) as url_a, serve(second) as url_b:  # a pool of two captioner servers
        ray = index([videos[0], broken, *videos[1:]], tmp_path / "ray", f"{url_a},{url_b}",
                    embedder, "--ray", "local")  # fmt: skip
    assert serial.returncode == 0, serial.stderr
    assert ray.returncode == 1, ray.stderr  # one input failed
    assert f"error: {broken}: not a video file" in ray.stderr
    lines = [line for line in ray.stdout.splitlines() if line.startswith("{")]
    statuses = {Path(eval_json(line)["video"]).name: eval_json(line)["status"] for line in lines}
    assert statuses == {"a.mp4": "indexed", "broken.mp4": "error", "b.mp4": "indexed",
                        "c.mp4": "indexed"}  # fmt: skip
    assert_same_memories(tmp_path / "ray", tmp_path / "serial")
    assert segments(first) + segments(second) == segments(serial_server)  # each chunk once
    for server, url in ((first, url_a), (second, url_b)):  # every worker's requests, per server
        assert segments(server)
        assert f"note: {url}: {len(server.requests)} requests, 0 failed" in ray.stderr


def test_a_killed_worker_is_retried_and_resumes_from_committed_chunks(
    videos: list[Path], tmp_path: Path, tiny_model: Callable[[str], Path]
) -> None:
    """kill -9 the worker process on a caption request of the longest video, mid-video."""
    embedder = tiny_model("sentence_transformer")
    store = tmp_path / "ray"
    committed_at_kill: set[tuple[str, str]] = set()
    killed: list[int] = []

    def kill_the_requesting_worker(body: dict[str, Any]) -> tuple[int, Any]:
        from longvid.timeline import hms

        peer = server.local.peer[1]
        for database in store.glob("videos/**/memory.sqlite"):  # parts' memories too
            with sqlite3.connect(database) as db:
                for start, end in db.execute("SELECT start, end FROM chunks"):
                    committed_at_kill.add((hms(start, 1), hms(end, 1)))
        for connection in psutil.net_connections(kind="tcp"):
            if connection.laddr and connection.laddr.port == peer and connection.pid:
                killed.append(connection.pid)
                os.kill(connection.pid, signal.SIGKILL)
        return 500, completion("killed")

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        match = SEGMENT.search(default_text(body))
        if match and match.group(1) in A_ONLY and not killed:
            return kill_the_requesting_worker(body)
        return 200, completion(default_text(body))

    server = FakeServer()
    server.reply_with = reply
    serial_server = FakeServer()
    with serve(serial_server) as url:
        assert index(videos, tmp_path / "serial", url, embedder).returncode == 0
    with serve(server) as url:
        run = index(videos, store, url, embedder, "--ray", "local")
    assert run.returncode == 0, run.stderr
    assert len(killed) == 1, "the worker was never killed"
    assert_same_memories(store, tmp_path / "serial")
    extra = segments(server) - segments(serial_server)  # requests beyond one per chunk
    assert set(segments(server)) == set(segments(serial_server))
    assert sum(extra.values()) >= 1  # the chunk in flight when its worker died, asked again
    assert not set(extra) & committed_at_kill  # nothing committed was captioned again


def eval_json(line: str) -> dict[str, Any]:
    import json

    return dict(json.loads(line))


def test_a_long_video_is_indexed_in_parts_and_a_killed_part_resumes(
    tmp_path: Path, tiny_model: Callable[[str], Path]
) -> None:
    """Cut at keyframes into 3 parts of ~12 s on 2 workers; the worker captioning the middle
    part is killed; the merged memory equals the same parts indexed in one process, and no
    chunk committed before the kill is captioned again."""
    from longvid.config import setting
    from longvid.pipeline.index import IndexOptions, ModelChoice, index_video, load_index_models
    from longvid.plan import FrameBudget

    embedder = tiny_model("sentence_transformer")
    video = shots_video(tmp_path / "long.mp4", [7.0, 6.0, 5.0, 5.0, 6.0, 7.0], audio=True,
                        extra=("-g", "25"))  # fmt: skip
    reference = FakeServer()
    with serve(reference) as url:
        choice = ModelChoice(f"openai:fake@{url}", "none", "none", str(embedder), "none")
        budget = FrameBudget(max_frames=int(setting("max_frames", None)))
        models = load_index_models(choice, tmp_path / "one-process")
        index_video(video, models, tmp_path / "one-process", IndexOptions(budget=budget), part_s=12.0)
    killed: list[int] = []
    committed_at_kill: set[tuple[str, str]] = set()
    store = tmp_path / "ray"

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        from longvid.timeline import hms

        match = SEGMENT.search(default_text(body))
        if match and match.group(1) == "00:00:18.0" and not killed:
            for database in store.glob("videos/**/memory.sqlite"):
                with sqlite3.connect(database) as db:
                    for start, end in db.execute("SELECT start, end FROM chunks"):
                        committed_at_kill.add((hms(start, 1), hms(end, 1)))
            for connection in psutil.net_connections(kind="tcp"):
                if connection.laddr and connection.laddr.port == server.local.peer[1]:
                    killed.append(connection.pid)
                    os.kill(connection.pid, signal.SIGKILL)
            return 500, completion("killed")
        return 200, completion(default_text(body))

    server = FakeServer()
    server.reply_with = reply
    with serve(server) as url:
        run = index([video], store, url, embedder, "--ray", "local", "--ray-split", "12")
    assert run.returncode == 0, run.stderr
    assert len(killed) == 1, "the worker was never killed"
    assert_same_memories(store, tmp_path / "one-process")
    [line] = [eval_json(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert line["status"] == "indexed" and line["chunks"] == len(segments(reference))
    # What the parts captioned counts, less what the killed attempt had committed (at most the
    # middle part's two chunks): not just the merge's own zero.
    assert line["chunks"] - 2 <= line["computed"] <= line["chunks"]
    assert not list(store.glob("videos/*/*/parts"))  # merged, then removed
    extra = segments(server) - segments(reference)
    assert set(segments(server)) == set(segments(reference))
    # Asked again: only the killed part's chunks in flight (a batch commits together), none
    # that any part had committed.
    assert ("00:00:18.0", "00:00:24.0") in extra
    assert set(extra) <= {("00:00:12.0", "00:00:18.0"), ("00:00:18.0", "00:00:24.0")}
    assert not set(extra) & committed_at_kill


def test_a_task_asks_for_a_gpu_only_when_a_local_video_llm_captions_on_a_gpu_cluster(
    tiny_model: Callable[[str], Path],
) -> None:
    """Ray's logical resources: a runtime that declares one GPU, on this GPU-less machine."""
    import ray

    from longvid.distributed.ray_index import RayPlan, task_gpus
    local_vlm = str(tiny_model("qwen2_vl"))
    server = "openai:qwen@http://127.0.0.1:9/v1"
    ray.init(num_cpus=1, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        assert task_gpus(RayPlan(), local_vlm) == 1.0
        assert task_gpus(RayPlan(), server) == 0.0
        assert task_gpus(RayPlan(), "none") == 0.0
        assert task_gpus(RayPlan(gpus=0.5), local_vlm) == 0.5  # the user's choice wins
    finally:
        ray.shutdown()
    ray.init(num_cpus=1, num_gpus=0, include_dashboard=False, log_to_driver=False)
    try:
        assert task_gpus(RayPlan(), local_vlm) == 0.0  # no GPUs to ask for
    finally:
        ray.shutdown()


def test_a_ray_task_finds_the_speakers_of_a_video_with_speech(
    tmp_path: Path, tiny_model: Callable[[str], Path]
) -> None:
    pytest.importorskip("resemblyzer", reason="pip install 'longvid[speakers]'")
    from tests.dialogues import SCRIPTS, dialogue, write_video

    audio, truth = dialogue(SCRIPTS[2], tmp_path)
    video = write_video(audio, tmp_path / "talk.mp4")
    def stamp(t: float) -> str:
        return f"00:{int(t // 60):02d}:{t % 60:06.3f}".replace(".", ",")

    cues = [f"{i}\n{stamp(a)} --> {stamp(b)}\n{line}\n"
            for i, ((a, b, _), (_, line, _)) in enumerate(zip(truth, SCRIPTS[2], strict=True), 1)]  # fmt: skip
    (tmp_path / "talk.srt").write_text("\n".join(cues), encoding="utf-8")
    embedder = tiny_model("sentence_transformer")
    with serve(FakeServer()) as url:
        done = index([video], tmp_path / "store", url, embedder, "--ray", "local")
        off = index([video], tmp_path / "off", url, embedder, "--ray", "local", "--speakers", "none")
    assert done.returncode == 0 and off.returncode == 0, done.stderr + off.stderr
    [database] = (tmp_path / "store").glob("videos/*/*/memory.sqlite")
    with sqlite3.connect(database) as db:
        found = sorted(row[0] for row in db.execute("SELECT id FROM speakers"))
    assert found == ["S1", "S2"], done.stderr
    [database] = (tmp_path / "off").glob("videos/*/*/memory.sqlite")  # the driver's flag reaches workers
    with sqlite3.connect(database) as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'speakers'").fetchone()
