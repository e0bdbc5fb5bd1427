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
    library.mark_changed(memory)  # a memory completing, or a process that died as it did
    assert not library.fresh()
    merged = search_all(store, "Okafor engine")  # the per-video merge, still right
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


def test_a_memory_deleted_by_hand_drops_out_of_the_results(store: Path) -> None:
    before = search_all(store, "Okafor engine")
    gone = next(store.glob("videos/*/*/index.faiss")).parent
    shutil.rmtree(gone)
    assert LibraryIndex(store).fresh()
    after = search_all(store, "Okafor engine")
    assert after and len({m["video"] for m in after}) == 1
    assert len({m["video"] for m in before}) == 2


def test_a_memory_indexed_again_joins_again_and_clears_its_marker(
    store: Path, facts_video: Path, tiny_model: Callable[[str], Path]
) -> None:
    from longvid.memory.library import memories

    library = LibraryIndex(store)
    [summary] = [m for m in memories(store) if str(facts_video) in m.paths]
    library.mark_changed(Path(summary.folder))  # as index --force does before removing it
    assert not library.fresh()
    done = runner.invoke(app, ["index", str(facts_video), "--force", "--captioner", "none", "--asr", "none",
                               "--ocr", "none", "--visual-embedder", "none", "--embedder",
                               str(tiny_model("sentence_transformer")), "--store", str(store)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert library.fresh()
    assert search_all(store, "Okafor engine")[0]["start"] <= 25.0
