"""One FAISS index over every complete memory of the store, so ``search --all`` stays fast over
tens of thousands of videos instead of opening each memory in turn.

Layout: ``STORE/library/entries.sqlite`` (what each vector is: memory, chunk, span, video, a
snippet) and ``STORE/library/<embedder key>.faiss`` (vectors only compare within one embedder).
A memory joins when it completes (``add``); ``rebuild`` starts over. The index is fresh when
every memory's ``index.faiss`` (written once, at completion) is a member with the same mtime:
a glob and some stats, no database opened. Exact search up to 100,000 vectors, IVF beyond.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from longvid.memory.failures import store_failures
from longvid.memory.store import VideoMemory

_EXACT_LIMIT = 100_000
_SNIPPET = 300
SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    folder TEXT PRIMARY KEY, stamp REAL NOT NULL, key TEXT NOT NULL, spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, folder TEXT NOT NULL, key TEXT NOT NULL, chunk INTEGER NOT NULL,
    start REAL NOT NULL, end REAL NOT NULL, video TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_folder ON entries (folder);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
    text, content='entries', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""


def embedder_key(spec: str) -> str:
    return hashlib.sha1(spec.encode()).hexdigest()[:12]


class LibraryIndex:
    """The library-wide index under a store root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "library"
        self._held: dict[str, Any] | None = None  # during a rebuild: indexes kept in memory

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with store_failures(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.folder / "entries.sqlite", timeout=30)
            try:
                db.executescript(SCHEMA)
                with db:
                    yield db
            finally:
                db.close()

    def add(self, memory: VideoMemory) -> int:
        """Put a complete memory's chunk vectors in (replacing its earlier ones). Returns how many."""
        stamp = _stamp(memory.folder)
        if stamp is None:
            return 0
        spec = str(memory.meta("settings")["embedder"])
        key = embedder_key(spec)
        video = str((memory.meta("paths") or ["?"])[-1])
        rows = memory.db.execute(
            "SELECT idx, start, end, text, embedding FROM chunks WHERE embedding IS NOT NULL"
        ).fetchall()
        with self._db() as db:
            old = [
                i
                for (i,) in db.execute(
                    "SELECT id FROM entries WHERE folder = ?", (str(memory.folder),)
                )
            ]
            db.execute("DELETE FROM entries WHERE folder = ?", (str(memory.folder),))
            ids = []
            for idx, start, end, text, _ in rows:
                cursor = db.execute(
                    "INSERT INTO entries (folder, key, chunk, start, end, video, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(memory.folder),
                        key,
                        idx,
                        start,
                        end,
                        video,
                        " ".join(text.split())[:_SNIPPET],
                    ),
                )
                ids.append(int(cursor.lastrowid or 0))
            db.execute("INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?)",
                       (str(memory.folder), stamp, key, spec))  # fmt: skip
            self._update_vectors(key, old, ids, [blob for *_, blob in rows])
        return len(ids)

    def rebuild(self) -> int:
        """Start over from every complete memory in the store. Returns the vectors indexed."""
        from longvid.memory.library import memories

        for path in self.folder.glob("*.faiss"):
            path.unlink()
        (self.folder / "entries.sqlite").unlink(missing_ok=True)
        total = 0
        self._held = {}
        try:
            for summary in memories(self.root):
                if summary.status == "complete":
                    memory = VideoMemory(Path(summary.folder))
                    try:
                        total += self.add(memory)
                    finally:
                        memory.close()
            for key, index in self._held.items():  # written once, not once per memory
                self._write(key, index)
        finally:
            self._held = None
        return total

    def fresh(self) -> bool:
        """Whether every memory's text index on disk is a member, unchanged since it joined."""
        if not (self.folder / "entries.sqlite").is_file():
            return False
        with self._db() as db:
            members = dict(db.execute("SELECT folder, stamp FROM members"))
        on_disk = {
            str(p.parent): p.stat().st_mtime for p in self.root.glob("videos/*/*/index.faiss")
        }
        return all(members.get(folder) == stamp for folder, stamp in on_disk.items())

    def specs(self) -> list[str]:
        """The embedders the library's memories were built with."""
        with self._db() as db:
            return [spec for (spec,) in db.execute("SELECT DISTINCT spec FROM members")]

    def nearest(self, spec: str, vector: Any, limit: int) -> list[tuple[int, float]]:
        """Entry ids nearest to a unit vector of embedder ``spec``, with cosine scores."""
        import faiss

        path = self.folder / f"{embedder_key(spec)}.faiss"
        if not path.is_file():
            return []
        index = faiss.read_index(str(path))
        if _ivf(index) is not None:
            _ivf(index).nprobe = 16
        scores, ids = index.search(
            vector.reshape(1, -1).astype("float32"), min(limit, index.ntotal)
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """Entry ids whose text matches any of ``terms`` (full text, BM25), best first."""
        words = [t.replace('"', "") for t in terms if t.strip('"')]
        if not words:
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT rowid, bm25(entries_fts) FROM entries_fts WHERE entries_fts MATCH ? "
                "ORDER BY bm25(entries_fts) LIMIT ?",
                (" OR ".join(f'"{w}"' for w in words), limit),
            )
            return [(int(i), -float(score)) for i, score in rows]

    def entries(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """What entries are: video, start, end, text."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT id, video, start, end, text FROM entries WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
            return {r[0]: {"video": r[1], "start": r[2], "end": r[3], "text": r[4]} for r in rows}

    def _update_vectors(self, key: str, old: list[int], ids: list[int], blobs: list[bytes]) -> None:
        import faiss
        import numpy as np

        path = self.folder / f"{key}.faiss"
        if self._held is not None and key in self._held:
            index = self._held[key]
        else:
            index = faiss.read_index(str(path)) if path.is_file() else None
        if index is not None and old:
            index.remove_ids(faiss.IDSelectorBatch(np.asarray(old, dtype=np.int64)))
        if blobs:
            matrix = np.vstack([np.frombuffer(b, dtype=np.float32) for b in blobs])
            if index is None:
                index = faiss.IndexIDMap2(faiss.IndexFlatIP(matrix.shape[1]))
            index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))
        if index is None:
            return
        if self._held is not None:
            self._held[key] = index
        else:
            self._write(key, index)

    def _write(self, key: str, index: Any) -> None:
        import faiss

        if index.ntotal > _EXACT_LIMIT and _ivf(index) is None:
            index = _as_ivf(index)
        path = self.folder / f"{key}.faiss"
        temporary = path.with_suffix(".faiss.tmp")
        with store_failures(self.folder):
            temporary.write_bytes(faiss.serialize_index(index).tobytes())
            os.replace(temporary, path)


def _as_ivf(exact: Any) -> Any:
    """An exact index's vectors in an inverted-file index (sqrt(n) lists), for large libraries."""
    import faiss
    import numpy as np

    mapped: Any = faiss.downcast_index(exact)
    ids = faiss.vector_to_array(mapped.id_map)
    vectors = faiss.downcast_index(mapped.index).reconstruct_n(0, exact.ntotal)
    lists = int(np.sqrt(len(ids)))
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, vectors.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    index = faiss.IndexIDMap2(ivf)
    index.add_with_ids(vectors, ids)
    return index


def _ivf(index: Any) -> Any:
    import faiss

    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _stamp(folder: Path) -> float | None:
    path = folder / "index.faiss"
    return path.stat().st_mtime if path.is_file() else None
