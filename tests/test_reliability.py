"""Damage on purpose: full disk, damaged vector index and database, newer schema, a video that
changes while indexed, and stderr labels (``error:`` only for failures)."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.memory.failures import StoreError, store_failures
from longvid.memory.library import memories
from tests.media import ffmpeg, shots_video

runner = CliRunner()


@pytest.fixture
def cli(tiny_model: Callable[[str], Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run longvid with the tiny embedder, no other model, and a store in tmp_path."""
    embedder = str(tiny_model("sentence_transformer"))
    models = ["--captioner", "none", "--asr", "none", "--ocr", "none", "--embedder", embedder]
    store = ["--store", str(tmp_path / "store")]

    def run(*args: str):  # type: ignore[no-untyped-def]
        extra = models if args[0] == "index" else []
        return runner.invoke(app, [*args, *extra, *store])

    return run


@pytest.fixture
def video(facts_video: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "harbour.mkv"
    shutil.copy(facts_video, copy)
    return copy


def test_a_notice_is_not_an_error(cli, video: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("index", str(video))
    assert result.exit_code == 0, result.output
    assert "note: visual captions are off (--captioner none)" in result.stderr
    assert "error:" not in result.stderr
    assert "error:" not in cli("list").stderr


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 400 KB file system (tmpfs), as a store that fills up mid-index."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs",
                                           str(mount)], capture_output=True).returncode:  # fmt: skip
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture(scope="module")
def long_subtitled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes, a shot and a subtitle line every 4 s: enough text to fill a small disk."""
    folder = tmp_path_factory.mktemp("long")
    plain = shots_video(folder / "plain.mp4", [4.0] * 30)
    (folder / "lines.srt").write_text("\n".join(
        f"{i + 1}\n00:{i * 4 // 60:02d}:{i * 4 % 60:02d},500 --> 00:{(i * 4 + 3) // 60:02d}:"
        f"{(i * 4 + 3) % 60:02d},000\nLine {i}: the ferry leaves at a quarter past seven.\n"
        for i in range(30)
    ))  # fmt: skip
    video = folder / "long.mkv"
    ffmpeg("-i", str(plain), "-i", str(folder / "lines.srt"), "-map", "0", "-map", "1", "-c", "copy",
           "-c:s", "srt", str(video))  # fmt: skip
    return video


def test_disk_full_mid_index_says_so_and_keeps_progress(
    tiny_model: Callable[[str], Path], long_subtitled: Path, tiny_disk: Path
) -> None:
    args = ["index", str(long_subtitled), "--store", str(tiny_disk), "--captioner", "none",
            "--asr", "none", "--ocr", "none", "--embedder", str(tiny_model("sentence_transformer"))]  # fmt: skip
    full = runner.invoke(app, args)
    assert full.exit_code == 1
    line = full.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: the disk holding the store is full ({tiny_disk}/videos/")
    assert "what was done so far is kept" in line and "unexpected" not in full.stderr
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)  # space freed
    resumed = runner.invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    assert "resumed from an earlier run" in resumed.stdout


def test_file_system_failures_are_named() -> None:
    for code, words in ((errno.ENOSPC, "disk holding the store is full"),
                        (errno.EROFS, "read-only file system"), (errno.EACCES, "no permission")):  # fmt: skip
        with pytest.raises(StoreError, match=words), store_failures(Path("/store")):
            raise OSError(code, "x", "/store/videos/x")


def test_a_damaged_vector_index_is_rebuilt(cli, video: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("index", str(video)).exit_code == 0
    [summary] = memories(tmp_path / "store")
    index = Path(summary.folder) / "index.faiss"
    index.write_bytes(index.read_bytes()[:40])
    found = cli("search", str(video), "ferry", "--json")
    assert found.exit_code == 0 and found.stdout.strip(), found.output
    assert "warning: the vector index" in found.stderr and "rebuilt it" in found.stderr
    assert "error:" not in found.stderr
    assert cli("search", str(video), "ferry").stderr == ""  # repaired for good


def test_a_damaged_database_is_named_and_rebuilt_with_force(
    cli, video: Path, tmp_path: Path, media_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other.mkv"
    shutil.copy(video, other)
    with open(other, "ab") as handle:  # another video to longvid (another fingerprint)
        handle.write(b"\0" * 1024)
    for path in (video, other):
        assert cli("index", str(path)).exit_code == 0
    damaged = next(m for m in memories(tmp_path / "store") if m.paths == [str(video)])
    database = Path(damaged.folder) / "memory.sqlite"
    for leftover in database.parent.glob("memory.sqlite-*"):
        leftover.unlink()
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    database.write_bytes(bytes(data))

    listed = cli("list")
    assert listed.exit_code == 0
    assert "damaged" in listed.stdout and str(other) in listed.stdout
    assert f"warning: {database} is damaged" in listed.stderr
    searched = cli("search", str(video), "ferry")
    assert searched.exit_code == 1
    assert searched.stderr.startswith(f"error: {database} is damaged")
    assert f"longvid index --force {video}" in searched.stderr
    assert "unexpected" not in searched.stderr
    rebuilt = cli("index", str(video), "--force")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert cli("search", str(video), "ferry").exit_code == 0


def test_a_memory_from_a_newer_longvid_is_refused(cli, video: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("index", str(video)).exit_code == 0
    [summary] = memories(tmp_path / "store")
    with sqlite3.connect(Path(summary.folder) / "memory.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    result = cli("search", str(video), "ferry")
    assert result.exit_code == 1 and "written by a newer longvid (schema 99" in result.stderr


def test_a_video_replaced_while_indexed_is_not_marked_complete(
    cli, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from longvid.pipeline import index as pipeline

    build = pipeline.build_memory

    def then_replace(path, *args):  # type: ignore[no-untyped-def]
        done = build(path, *args)
        with open(path, "ab") as handle:
            handle.write(b"\0" * 4096)
        return done

    monkeypatch.setattr(pipeline, "build_memory", then_replace)
    result = cli("index", str(video))
    assert result.exit_code == 1 and "changed while it was being indexed" in result.stderr
    assert [m.status for m in memories(tmp_path / "store")] == ["indexing"]
