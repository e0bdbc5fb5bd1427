"""One FAISS index over every complete memory of the store, so ``search --all`` stays fast over
tens of thousands of videos instead of opening each memory in turn.

Layout: ``STORE/library/entries.sqlite`` (what each vector is: memory, chunk, span, video, a
snippet; which chunk and time each frame vector is), ``STORE/library/<embedder key>.faiss``
(chunk text vectors, which only compare within one embedder) and ``frames-<encoder key>.faiss``
(frame vectors of one image–text encoder). A memory joins when it completes (``add``);
``rebuild`` starts over. Freshness costs one directory listing whatever the library's size (a
stat per memory is seconds on a network file system): a memory about to complete, or to be
rebuilt, leaves a marker in ``STORE/library/changed/`` that ``add`` clears, so the library is
fresh when it exists and no marker is left. Memories copied into a store by hand join at the
next ``rebuild``. Exact search up to 100,000 vectors, IVF beyond, both memory-mapped.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from longvid import words
from longvid.memory.failures import StoreError, store_failures
from longvid.memory.store import VideoMemory

_EXACT_LIMIT = 100_000
_REBUILDING = "-.rebuilding"  # the marker a rebuild leaves until it is done
_SNIPPET = 300
SCHEMA = """
CREATE TABLE IF NOT EXISTS members (folder TEXT PRIMARY KEY, key TEXT NOT NULL, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, folder TEXT NOT NULL, key TEXT NOT NULL, chunk INTEGER NOT NULL,
    start REAL NOT NULL, end REAL NOT NULL, video TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_folder ON entries (folder);
CREATE TABLE IF NOT EXISTS frame_members (
    folder TEXT PRIMARY KEY, key TEXT NOT NULL, spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY, folder TEXT NOT NULL, entry INTEGER NOT NULL, time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS frames_folder ON frames (folder);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_words USING fts5(text, tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS entries_words_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_words(rowid, text) VALUES (new.id, for_index(new.text));
END;
CREATE TRIGGER IF NOT EXISTS entries_words_ad AFTER DELETE ON entries BEGIN
    DELETE FROM entries_words WHERE rowid = old.id;
END;
"""

# A library written before any-script full text (words.for_index): its text index is rebuilt
# from the stored entries, once; nothing is re-read from the memories.
_UPGRADE = """
BEGIN IMMEDIATE;
DROP TRIGGER IF EXISTS entries_ai;
DROP TRIGGER IF EXISTS entries_ad;
DROP TABLE IF EXISTS entries_fts;
INSERT INTO entries_words(rowid, text)
    SELECT id, for_index(text) FROM entries WHERE id NOT IN (SELECT rowid FROM entries_words);
COMMIT;
"""


def embedder_key(spec: str) -> str:
    return hashlib.sha1(spec.encode()).hexdigest()[:12]


class LibraryIndex:
    """The library-wide index under a store root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "library"
        self._held: dict[str, Any] | None = None  # during a batch: indexes kept in memory

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with store_failures(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.folder / "entries.sqlite", timeout=30)
            try:
                db.create_function("for_index", 1, words.for_index, deterministic=True)
                db.executescript(SCHEMA)
                if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries_fts'").fetchone():
                    db.executescript(_UPGRADE)
                with db:
                    yield db
            finally:
                db.close()

    def mark_changed(self, folder: Path) -> None:
        """Note that the memory in ``folder`` is about to complete or be rebuilt: the library is
        stale until ``add`` or ``update`` puts it in."""
        with store_failures(self.folder):
            (self.folder / "changed").mkdir(parents=True, exist_ok=True)
            _marker(self.folder, folder).touch()

    def add(self, memory: VideoMemory) -> int:
        """Put a complete memory's chunk vectors (and frame vectors) in, replacing its earlier
        ones, and clear its marker. Returns how many chunk vectors.

        Each call rewrites the library's vector files (seconds for a large library): a batch
        or a cluster run should mark its memories and ``update`` once at the end instead.
        """
        with self._writing():
            count = self._add(memory)
            _marker(self.folder, memory.folder).unlink(missing_ok=True)
        return count

    def update(self) -> int:
        """Put in every memory marked as changed that is complete now, writing each vector file
        once however many joined. Returns how many memories joined."""
        with self._writing():
            done, joined = [], 0
            with self._batch():
                for marker in self._markers():
                    if marker.name == _REBUILDING:
                        continue
                    status = self._join(self.root / "videos" / _folder_of(marker))
                    if status != "incomplete":  # one still being indexed stays marked
                        done.append(marker)
                        joined += status == "joined"
            for marker in done:  # only once the vectors are written
                marker.unlink(missing_ok=True)
        return joined

    def _join(self, folder: Path) -> str:
        """Add the memory in ``folder`` if it is complete: "joined", "incomplete" or "gone"
        (deleted or damaged: its old hits are dropped at query time)."""
        if not (folder / "memory.sqlite").is_file():
            return "gone"
        try:
            memory = VideoMemory(folder)
        except StoreError:
            return "gone"
        try:
            if memory.status != "complete":
                return "incomplete"
            self._add(memory)
            return "joined"
        finally:
            memory.close()

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Keep the vector indexes changed inside in memory; write each once at the end."""
        self._held = {}
        try:
            yield
            for key, index in self._held.items():
                self._write(key, index)
        finally:
            self._held = None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer of the vector files at a time, across processes (read, change, write)."""
        from filelock import FileLock

        with store_failures(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(self.folder / ".lock"):
            yield

    def _add(self, memory: VideoMemory) -> int:
        texts = (memory.folder / "index.faiss").is_file()
        if not texts and not (memory.folder / "frames.faiss").is_file():
            return 0  # nothing to search by
        settings = memory.meta("settings")
        spec = str(settings["embedder"])
        key = embedder_key(spec)
        video = str((memory.meta("paths") or ["?"])[-1])
        folder = str(memory.folder)
        rows = memory.db.execute("SELECT idx, start, end, text, embedding FROM chunks").fetchall()
        with self._db() as db:
            old = [i for (i,) in db.execute("SELECT id FROM entries WHERE folder = ?", (folder,))]
            db.execute("DELETE FROM entries WHERE folder = ?", (folder,))
            entry = {}  # chunk -> entry id (every chunk: a frame may find one with no text)
            for idx, start, end, text, _ in rows:
                cursor = db.execute(
                    "INSERT INTO entries (folder, key, chunk, start, end, video, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (folder, key, idx, start, end, video, " ".join(text.split())[:_SNIPPET]),
                )
                entry[idx] = int(cursor.lastrowid or 0)
            db.execute("DELETE FROM members WHERE folder = ?", (folder,))
            if texts:
                db.execute("INSERT INTO members VALUES (?, ?, ?)", (folder, key, spec))
            vectors = [(entry[idx], blob) for idx, *_, blob in rows if blob is not None]
            self._update_vectors(key, old, vectors)
            self._add_frames(db, memory, settings.get("visual_embedder"), entry)
        return len(vectors)

    def _add_frames(
        self, db: sqlite3.Connection, memory: VideoMemory, spec: str | None, entry: dict[int, int]
    ) -> None:
        folder = str(memory.folder)
        old = [i for (i,) in db.execute("SELECT id FROM frames WHERE folder = ?", (folder,))]
        db.execute("DELETE FROM frames WHERE folder = ?", (folder,))
        if spec is None or not (memory.folder / "frames.faiss").is_file():
            db.execute("DELETE FROM frame_members WHERE folder = ?", (folder,))
            return
        key = "frames-" + embedder_key(spec)
        vectors = []
        for chunk, time, blob in memory.db.execute(
            "SELECT chunk, time, embedding FROM frame_vectors ORDER BY id"
        ):
            cursor = db.execute("INSERT INTO frames (folder, entry, time) VALUES (?, ?, ?)",
                                (folder, entry[chunk], time))  # fmt: skip
            vectors.append((int(cursor.lastrowid or 0), blob))
        db.execute("INSERT OR REPLACE INTO frame_members VALUES (?, ?, ?)", (folder, key, spec))
        self._update_vectors(key, old, vectors)

    def rebuild(self) -> int:
        """Start over from every complete memory in the store. Returns the vectors indexed."""
        import shutil

        from longvid.memory.library import memories

        rebuilding = self.folder / "changed" / _REBUILDING
        with self._writing():
            shutil.rmtree(self.folder / "changed", ignore_errors=True)  # all are read again
            rebuilding.parent.mkdir()
            rebuilding.touch()  # stale until the rebuild is done
            for path in self.folder.glob("*.faiss"):
                path.unlink()
            (self.folder / "entries.sqlite").unlink(missing_ok=True)
            total = 0
            with self._batch():
                for summary in memories(self.root):
                    if summary.status == "complete":
                        memory = VideoMemory(Path(summary.folder))
                        try:
                            total += self._add(memory)
                        finally:
                            memory.close()
            rebuilding.unlink()
        return total

    def fresh(self) -> bool:
        """Whether the library holds every complete memory as it is: no memory marked as changed
        has completed since (one still being indexed is left out of results meanwhile)."""
        if not (self.folder / "entries.sqlite").is_file():
            return False
        return not any(
            marker.name == _REBUILDING or _is_complete(self.root / "videos" / _folder_of(marker))
            for marker in self._markers()
        )

    def _markers(self) -> list[Path]:
        changed = self.folder / "changed"
        return sorted(changed.iterdir()) if changed.is_dir() else []

    def specs(self, frames: bool = False) -> list[str]:
        """The embedders the library's memories were built with (or their image–text encoders)."""
        table = "frame_members" if frames else "members"
        with self._db() as db:
            return [spec for (spec,) in db.execute(f"SELECT DISTINCT spec FROM {table}")]

    def nearest(self, spec: str, vector: Any, limit: int) -> list[tuple[int, float]]:
        """Entry ids nearest to a unit vector of embedder ``spec``, with cosine scores."""
        return self._nearest(embedder_key(spec), vector, limit)

    def nearest_frames(
        self, spec: str, vector: Any, limit: int
    ) -> list[tuple[int, float, float]]:
        """Frames nearest to a unit text vector of image–text encoder ``spec``: (entry id of the
        frame's chunk, frame time, cosine score), best first."""
        hits = self._nearest("frames-" + embedder_key(spec), vector, limit)
        if not hits:
            return []
        with self._db() as db:
            where = {i: (entry, time) for i, entry, time in db.execute(
                f"SELECT id, entry, time FROM frames WHERE id IN ({','.join('?' * len(hits))})",
                [i for i, _ in hits])}  # fmt: skip
        return [(*where[i], score) for i, score in hits if i in where]

    def _nearest(self, key: str, vector: Any, limit: int) -> list[tuple[int, float]]:
        import faiss

        path = self.folder / f"{key}.faiss"
        if not path.is_file():
            return []
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        if _ivf(index) is not None:
            _ivf(index).nprobe = 16
        scores, ids = index.search(
            vector.reshape(1, -1).astype("float32"), min(limit, index.ntotal)
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """Entry ids whose text matches any of ``terms`` (full text, BM25), best first."""
        query = words.any_of(terms)
        if not query:
            return []
        with self._db() as db:
            rows = db.execute(
                "SELECT rowid, bm25(entries_words) FROM entries_words WHERE entries_words MATCH ? "
                "ORDER BY bm25(entries_words) LIMIT ?",
                (query, limit),
            )
            return [(int(i), -float(score)) for i, score in rows]

    def entries(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """What entries are: video, start, end, text. Entries of a memory deleted since it
        joined, or being indexed again, are left out."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT id, video, start, end, text, folder FROM entries WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        changing = {str(self.root / "videos" / _folder_of(m)) for m in self._markers()}
        there = {f: Path(f).is_dir() and f not in changing for *_, f in rows}
        return {r[0]: {"video": r[1], "start": r[2], "end": r[3], "text": r[4]} for r in rows
                if there[r[5]]}  # fmt: skip

    def _update_vectors(self, key: str, old: list[int], vectors: list[tuple[int, bytes]]) -> None:
        import faiss
        import numpy as np

        path = self.folder / f"{key}.faiss"
        if self._held is not None and key in self._held:
            index = self._held[key]
        else:
            index = faiss.read_index(str(path)) if path.is_file() else None
        if index is not None and old:
            index.remove_ids(faiss.IDSelectorBatch(np.asarray(old, dtype=np.int64)))
        if vectors:
            matrix = np.vstack([np.frombuffer(blob, dtype=np.float32) for _, blob in vectors])
            if index is None:
                index = faiss.IndexIDMap2(faiss.IndexFlatIP(matrix.shape[1]))
            index.add_with_ids(matrix, np.asarray([i for i, _ in vectors], dtype=np.int64))
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
    """An exact index's vectors in an inverted-file index (sqrt(n) lists), for large libraries.

    The IVF keeps the ids itself: under an ``IndexIDMap`` its ``remove_ids`` breaks the map.
    """
    import faiss
    import numpy as np

    mapped: Any = faiss.downcast_index(exact)
    ids = faiss.vector_to_array(mapped.id_map)
    vectors = faiss.downcast_index(mapped.index).reconstruct_n(0, exact.ntotal)
    lists = int(np.sqrt(len(ids)))
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    ivf = faiss.IndexIVFFlat(quantizer, vectors.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add_with_ids(vectors, ids)
    return ivf


def _ivf(index: Any) -> Any:
    import faiss

    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


def _marker(library: Path, memory: Path) -> Path:
    """The marker of a memory (``videos/<fingerprint>/<settings key>``) that is changing."""
    return library / "changed" / f"{memory.parent.name}.{memory.name}"


def _folder_of(marker: Path) -> str:
    """``<fingerprint>/<settings key>``: where under ``videos/`` a marker's memory is."""
    return marker.name.replace(".", "/", 1)


def _is_complete(folder: Path) -> bool:
    """Whether the memory in ``folder`` is complete (a read-only peek, no checks)."""
    database = folder / "memory.sqlite"
    if not database.is_file():
        return False
    try:
        with closing(sqlite3.connect(database.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == '"complete"'
