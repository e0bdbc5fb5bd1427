"""The library-wide index behind ``search --all``: kept up to date at completion, fresh or not,
the same answers as searching each memory, IVF when large."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.memory import library_index
from longvid.memory.library_index import LibraryIndex

runner = CliRunner()


@pytest.fixture
def store(facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path) -> Path:
    root = tmp_path / "store"
    other = tmp_path / "other.mkv"
    shutil.copy(facts_video, other)
    with open(other, "ab") as handle:
        handle.write(b"\0" * 512)  # another fingerprint: another video to longvid
    for video in (facts_video, other):
        done = runner.invoke(app, ["index", str(video), "--captioner", "none", "--asr", "none", "--ocr", "none",
                                   "--visual-embedder", "none", "--embedder", str(tiny_model("sentence_transformer")),
                                   "--store", str(root)])  # fmt: skip
        assert done.exit_code == 0, done.output
    return root


def search_all(root: Path, query: str) -> list[dict]:  # type: ignore[type-arg]
    found = runner.invoke(
        app, ["search", "--all", query, "--json", "--top-k", "4", "--store", str(root)]
    )
    assert found.exit_code == 0, found.output
    return [json.loads(line) for line in found.stdout.splitlines()]


def test_search_all_uses_the_library_and_agrees_with_the_merge(store: Path) -> None:
    library = LibraryIndex(store)
    assert library.fresh()
    through_library = search_all(store, "Okafor engine")
    assert {m["video"] for m in through_library[:2]} == {
        m["video"] for m in through_library
    } and through_library
    assert through_library[0]["start"] <= 25.0 < through_library[0]["end"]
    memory = next(store.glob("videos/*/*/index.faiss")).parent
    library.mark_changed(memory)  # completed, not joined yet (an interrupted batch)
    assert not library.fresh()
    again = search_all(store, "Okafor engine")  # joins it first (the two copies may swap ranks)
    assert sorted((m["video"], m["start"]) for m in again) == sorted(
        (m["video"], m["start"]) for m in through_library
    )
    assert library.fresh()
    (store / "library" / "entries.sqlite").unlink()  # no library: each memory in turn
    assert not library.fresh()
    merged = search_all(store, "Okafor engine")
    assert [(m["start"], m["end"]) for m in merged[:2]] == [
        (m["start"], m["end"]) for m in through_library[:2]
    ]
    rebuilt = runner.invoke(app, ["library", "rebuild", "--store", str(store)])
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("library index rebuilt: ")
    assert int(rebuilt.stdout.split(": ")[1].split()[0]) >= len(through_library)
    assert library.fresh()


def test_a_large_library_becomes_ivf(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import faiss

    monkeypatch.setattr(library_index, "_EXACT_LIMIT", 5)
    LibraryIndex(store).rebuild()
    [path] = (store / "library").glob("*.faiss")
    assert library_index._ivf(faiss.read_index(str(path))) is not None
    assert search_all(store, "bread market euros")[0]["start"] <= 52.0
    total = faiss.read_index(str(path)).ntotal
    import sqlite3

    with sqlite3.connect(store / "library" / "entries.sqlite") as db:  # the first one in
        [(first,)] = db.execute("SELECT folder FROM entries ORDER BY id LIMIT 1").fetchall()
    library, folder = LibraryIndex(store), Path(first)
    for _ in range(2):  # a memory joining again replaces its vectors in the IVF
        library.mark_changed(folder)
        assert library.update() == 1
    assert faiss.read_index(str(path)).ntotal == total
    assert search_all(store, "bread market euros")[0]["start"] <= 52.0
    import numpy as np

    index = faiss.read_index(str(path))
    faiss.extract_index_ivf(index).nprobe = index.ntotal  # every list: an exhaustive search
    _, found = index.search(np.ones((1, index.d), np.float32), index.ntotal)
    with sqlite3.connect(store / "library" / "entries.sqlite") as db:
        expected = [i for (i,) in db.execute("SELECT id FROM entries WHERE text != '' ORDER BY id")]
    assert sorted(found[0].tolist()) == expected  # every entry's vector once, under its own id


def test_a_memory_deleted_by_hand_drops_out_of_the_results(store: Path) -> None:
    before = search_all(store, "Okafor engine")
    gone = next(store.glob("videos/*/*/index.faiss")).parent
    shutil.rmtree(gone)
    assert LibraryIndex(store).fresh()
    after = search_all(store, "Okafor engine")
    assert after and len({m["video"] for m in after}) == 1
    assert len({m["video"] for m in before}) == 2


def test_a_memory_being_indexed_again_is_left_out_until_it_joins_again(
    store: Path, facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    import sqlite3

    from longvid.memory.library import memories

    library = LibraryIndex(store)
    [summary] = [m for m in memories(store) if str(facts_video) in m.paths]
    library.mark_changed(Path(summary.folder))  # as index --force does before removing it
    with sqlite3.connect(Path(summary.folder) / "memory.sqlite") as db:
        db.execute("UPDATE meta SET value = '\"indexing\"' WHERE key = 'status'")
    assert library.fresh()  # nothing complete is missing
    assert {m["video"] for m in search_all(store, "Okafor engine")} == {
        str(tmp_path / "other.mkv")
    }
    done = runner.invoke(app, ["index", str(facts_video), "--force", "--captioner", "none", "--asr", "none",
                               "--ocr", "none", "--visual-embedder", "none", "--embedder",
                               str(tiny_model("sentence_transformer")), "--store", str(store)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert library.fresh() and not list((store / "library" / "changed").iterdir())
    assert len({m["video"] for m in search_all(store, "Okafor engine")}) == 2


def test_a_batch_joins_the_library_in_one_write(
    facts_video: Path,
    tiny_model: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    videos = []
    for n in range(3):
        copy = tmp_path / f"v{n}.mkv"
        shutil.copy(facts_video, copy)
        with open(copy, "ab") as handle:
            handle.write(b"\0" * (512 + n))  # three fingerprints: three videos
        videos.append(str(copy))
    writes: list[str] = []
    original = LibraryIndex._write
    monkeypatch.setattr(
        LibraryIndex,
        "_write",
        lambda self, key, index: (writes.append(key), original(self, key, index)),
    )
    done = runner.invoke(app, ["index", *videos, "--captioner", "none", "--asr", "none", "--ocr", "none",
                               "--visual-embedder", "none", "--embedder", str(tiny_model("sentence_transformer")),
                               "--store", str(tmp_path / "store")])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert len(writes) == 1  # one embedder, one write for the three
    assert LibraryIndex(tmp_path / "store").fresh()
    assert len({m["video"] for m in search_all(tmp_path / "store", "Okafor engine")}) == 3
