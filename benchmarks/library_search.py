"""``search --all`` over many memories: the library index against opening each memory in turn.

    python benchmarks/library_search.py [--memories 10000] [--chunks 20]

Builds that many complete memories with random 384-d chunk vectors and a few words each (one
template database copied and given its own vectors, so building is quick), rebuilds the library
index, times joining memories to it (one alone, twenty in one update), then times
``search_library`` (the function ``longvid search --all`` runs) through the library (median of
5) and through the per-video merge (once). The query embedder is free, so
the figures are longvid's own cost; a new ``longvid`` process adds its start-up (about 0.7 s).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.latency_throughput import FreeEmbedder
from longvid.memory.library_index import LibraryIndex
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.memory.vectors import VectorFile
from longvid.recall.search import search_library

WORDS = [
    "ferry",
    "harbour",
    "captain",
    "engine",
    "storm",
    "bread",
    "market",
    "lighthouse",
    "island",
    "gate",
    "budget",
    "council",
]


def build(root: Path, count: int, chunks: int) -> None:
    rng = np.random.default_rng(0)
    template = root / "template"
    memory = VideoMemory.open(template, "t", {"embedder": "free"})
    for i in range(chunks):
        memory.commit_chunk(ChunkRecord(i, i * 30.0, (i + 1) * 30.0, i, i, [i * 30.0 + 15], text="x"),
                            np.zeros(384, np.float32))  # fmt: skip
    with memory.transaction():
        memory.set_meta("status", "complete")
    memory.close()
    source = next(template.glob("videos/t/*/memory.sqlite"))
    for n in range(count):
        folder = root / "videos" / f"{n:016x}" / source.parent.name
        folder.mkdir(parents=True)
        shutil.copy(source, folder / "memory.sqlite")
        vectors = rng.normal(size=(chunks, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [(i, vectors[i].tobytes()) for i in range(chunks)]
        with sqlite3.connect(folder / "memory.sqlite") as db:
            db.executemany("UPDATE chunks SET embedding = ?, text = ? WHERE idx = ?",
                           [(blob, " ".join(rng.choice(WORDS, 8)), i) for i, blob in rows])  # fmt: skip
            db.execute("UPDATE meta SET value = ? WHERE key = 'paths'", (f'["video-{n}.mp4"]',))
        VectorFile(folder, "index.faiss").write(rows)
    shutil.rmtree(template)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        started = time.perf_counter()
        build(root, args.memories, args.chunks)
        print(
            f"built {args.memories} memories x {args.chunks} chunks in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        LibraryIndex(root).rebuild()
        print(f"library rebuild: {time.perf_counter() - started:.1f} s")
        library = LibraryIndex(root)
        folders = sorted(root.glob("videos/*/*"))[:20]
        started = time.perf_counter()
        memory = VideoMemory(folders[0])
        library.add(memory)  # what each completion cost when every video joined on its own
        memory.close()
        print(f"join one memory on its own (add): {time.perf_counter() - started:.2f} s")
        for folder in folders:
            library.mark_changed(folder)
        started = time.perf_counter()
        library.update()  # what a batch or a Ray run does once at its end
        print(f"join {len(folders)} memories in one update: {time.perf_counter() - started:.2f} s")
        embedder = FreeEmbedder()
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            found = search_library(root, "budget council ferry", 10, lambda spec: embedder)
            runs.append(time.perf_counter() - started)
        assert len(found) == 10
        print(
            f"search --all through the library: {statistics.median(runs) * 1000:.0f} ms (median of 5)"
        )
        (root / "library" / "entries.sqlite").unlink()  # no library: each memory in turn
        started = time.perf_counter()
        search_library(root, "budget council ferry", 10, lambda spec: embedder)
        print(f"search --all, per-video merge: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
