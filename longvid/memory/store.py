"""One video's memory: a SQLite database (the truth) and a FAISS index of chunk texts (derived).

Layout under the store root::

    videos/<fingerprint>/<settings key>/memory.sqlite
    videos/<fingerprint>/<settings key>/index.faiss

Memories built with different settings (captioner, frame budget, ...) live side by side and never
mix. Every chunk is committed in its own transaction as soon as it is done, so an interrupted run
resumes where it stopped; the FAISS file is written to a temporary file and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longvid.timeline import TimedText

SCHEMA = [
    # version 1
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE shots (idx INTEGER PRIMARY KEY, start REAL NOT NULL, end REAL NOT NULL);
    CREATE TABLE transcript (start REAL NOT NULL, end REAL NOT NULL, text TEXT NOT NULL);
    CREATE TABLE chunks (
        idx INTEGER PRIMARY KEY,
        start REAL NOT NULL,
        end REAL NOT NULL,
        first_shot INTEGER NOT NULL,
        last_shot INTEGER NOT NULL,
        frame_times TEXT NOT NULL,
        caption TEXT NOT NULL,
        transcript TEXT NOT NULL,
        screen_text TEXT NOT NULL,
        text TEXT NOT NULL,
        embedding BLOB
    );
    """,
]
# Below this many vectors an exact (flat) index is best; above it, HNSW.
_FLAT_LIMIT = 20_000


@dataclass
class ChunkRecord:
    """A captioned chunk as stored: its span, frames, caption, speech and on-screen text."""

    index: int
    start: float
    end: float
    first_shot: int
    last_shot: int
    frame_times: list[float]
    caption: str = ""
    transcript: list[TimedText] = field(default_factory=list)
    screen_text: list[TimedText] = field(default_factory=list)
    text: str = ""


def settings_key(settings: dict[str, Any]) -> str:
    """A short stable key for a settings dict (same settings -> same memory)."""
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


class VideoMemory:
    """The SQLite + FAISS memory of one video under one set of settings."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / "memory.sqlite", isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    @classmethod
    def open(cls, root: Path, fingerprint: str, settings: dict[str, Any]) -> VideoMemory:
        """Open (creating if needed) the memory for a video fingerprint and settings."""
        memory = cls(root / "videos" / fingerprint / settings_key(settings))
        if memory.meta("fingerprint") is None:
            with memory.transaction():
                memory.set_meta("fingerprint", fingerprint)
                memory.set_meta("settings", settings)
                memory.set_meta("status", "new")
                memory.set_meta("created", time.time())
        return memory

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(SCHEMA[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- metadata -------------------------------------------------------------------------------

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    @property
    def status(self) -> str:
        """new, indexing, or complete."""
        return str(self.meta("status", "new"))

    # --- content --------------------------------------------------------------------------------

    def save_transcript(self, lines: Sequence[TimedText], source: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM transcript")
            self.db.executemany(
                "INSERT INTO transcript VALUES (?, ?, ?)", [(t.start, t.end, t.text) for t in lines]
            )
            self.set_meta("transcript_source", source)

    def transcript(self) -> list[TimedText] | None:
        """The stored transcript, or None if none was saved yet."""
        if self.meta("transcript_source") is None:
            return None
        rows = self.db.execute("SELECT start, end, text FROM transcript ORDER BY start, end")
        return [TimedText(*row) for row in rows]

    def save_shots(self, shots: Sequence[Any]) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM shots")
            self.db.executemany(
                "INSERT INTO shots VALUES (?, ?, ?)", [(s.index, s.start, s.end) for s in shots]
            )

    def committed(self) -> set[int]:
        """Indices of the chunks already stored."""
        return {row[0] for row in self.db.execute("SELECT idx FROM chunks")}

    def commit_chunk(self, chunk: ChunkRecord, embedding: Any | None) -> None:
        """Store one finished chunk (and its text vector) atomically."""
        blob = None if embedding is None else embedding.astype("float32").tobytes()
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chunk.index,
                    chunk.start,
                    chunk.end,
                    chunk.first_shot,
                    chunk.last_shot,
                    json.dumps(chunk.frame_times),
                    chunk.caption,
                    _dump_lines(chunk.transcript),
                    _dump_lines(chunk.screen_text),
                    chunk.text,
                    blob,
                ),
            )

    def chunks(self) -> list[ChunkRecord]:
        """Every stored chunk, in time order."""
        rows = self.db.execute(
            "SELECT idx, start, end, first_shot, last_shot, frame_times, caption, transcript,"
            " screen_text, text FROM chunks ORDER BY idx"
        )
        return [
            ChunkRecord(
                index=r[0],
                start=r[1],
                end=r[2],
                first_shot=r[3],
                last_shot=r[4],
                frame_times=json.loads(r[5]),
                caption=r[6],
                transcript=_load_lines(r[7]),
                screen_text=_load_lines(r[8]),
                text=r[9],
            )
            for r in rows
        ]

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    # --- vectors --------------------------------------------------------------------------------

    @property
    def index_path(self) -> Path:
        return self.folder / "index.faiss"

    def write_index(self) -> int:
        """Rebuild the FAISS index from the stored vectors; atomic on disk. Returns its size."""
        import faiss
        import numpy as np

        rows = self.db.execute(
            "SELECT idx, embedding FROM chunks WHERE embedding IS NOT NULL ORDER BY idx"
        )
        ids, vectors = [], []
        for idx, blob in rows:
            ids.append(idx)
            vectors.append(np.frombuffer(blob, dtype=np.float32))
        if not vectors:
            self.index_path.unlink(missing_ok=True)
            return 0
        matrix = np.vstack(vectors)
        index = faiss.IndexIDMap2(_make_index(matrix.shape[1], len(ids)))
        index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))
        temporary = self.index_path.with_suffix(".faiss.tmp")
        faiss.write_index(index, str(temporary))
        os.replace(temporary, self.index_path)
        return len(ids)


def _make_index(dimension: int, count: int) -> Any:
    """Inner product on unit vectors (cosine): exact when small, HNSW when large."""
    import faiss

    if count <= _FLAT_LIMIT:
        return faiss.IndexFlatIP(dimension)
    return faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)


def _dump_lines(lines: Sequence[TimedText]) -> str:
    return json.dumps([[t.start, t.end, t.text] for t in lines], ensure_ascii=False)


def _load_lines(text: str) -> list[TimedText]:
    return [TimedText(*item) for item in json.loads(text)]
