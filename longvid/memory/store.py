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
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longvid import words
from longvid.memory.failures import REBUILD_HINT, DamagedMemoryError, store_failures
from longvid.memory.schema import SCHEMA
from longvid.memory.vectors import VectorFile
from longvid.timeline import TimedText


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
        self._index: Any = None  # the FAISS indexes, read once per open memory
        self._frames: Any = None
        with store_failures(folder):
            folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(folder / "memory.sqlite", isolation_level=None, timeout=30)
            self.db.create_function("for_index", 1, words.for_index, deterministic=True)
            try:
                self._check()
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
            except BaseException:
                self.db.close()
                raise

    def _check(self) -> None:
        """Refuse a damaged database, or one written by a newer longvid (cheap quick_check)."""
        verdict = self.db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise DamagedMemoryError(
                f"{self.folder / 'memory.sqlite'} is damaged ({verdict})", REBUILD_HINT
            )
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(SCHEMA):
            raise DamagedMemoryError(
                f"{self.folder / 'memory.sqlite'} was written by a newer longvid (schema "
                f"{version}; this one knows {len(SCHEMA)})",
                "upgrade longvid (pip install -U longvid), or " + REBUILD_HINT,
            )

    @classmethod
    def open(cls, root: Path, fingerprint: str, settings: dict[str, Any]) -> VideoMemory:
        """Open (creating if needed) the memory for a video fingerprint and settings."""
        memory = cls(root / "videos" / fingerprint / settings_key(settings))
        if memory.meta("fingerprint") is None:
            with store_failures(memory.folder), memory.transaction():
                memory.set_meta("fingerprint", fingerprint)
                memory.set_meta("settings", settings)
                memory.set_meta("status", "new")
                memory.set_meta("created", time.time())
        return memory

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        """Apply the schema versions this database lacks, each in one transaction."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(SCHEMA[version:], start=version + 1):
            with self.transaction():
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
                self.db.execute("ROLLBACK")
            raise

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

    def commit_chunk(
        self,
        chunk: ChunkRecord,
        embedding: Any | None,
        thumbnails: Sequence[tuple[float, bytes]] = (),
        frame_vectors: Sequence[tuple[float, Any]] = (),
        captioned: bool = True,
    ) -> None:
        """Store one finished chunk (its text vector, frame vectors, thumbnails) atomically;
        not ``captioned``: its caption is to come (``memory.captions``)."""
        blob = None if embedding is None else embedding.astype("float32").tobytes()
        with self.transaction():
            self.db.execute("DELETE FROM frame_vectors WHERE chunk = ?", (chunk.index,))
            self.db.executemany(
                "INSERT INTO frame_vectors (chunk, time, embedding) VALUES (?, ?, ?)",
                [(chunk.index, t, v.astype("float32").tobytes()) for t, v in frame_vectors],
            )
            self.db.execute("DELETE FROM thumbnails WHERE chunk = ?", (chunk.index,))
            self.db.executemany(
                "INSERT INTO thumbnails VALUES (?, ?, ?)",
                [(chunk.index, t, jpeg) for t, jpeg in thumbnails],
            )
            self.db.execute(
                "DELETE FROM chunks WHERE idx = ?", (chunk.index,)
            )  # keeps the FTS in step
            self.db.execute(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            self.db.execute("DELETE FROM uncaptioned WHERE chunk = ?", (chunk.index,))
            if not captioned:
                self.db.execute("INSERT INTO uncaptioned VALUES (?)", (chunk.index,))

    def chunks(self) -> list[ChunkRecord]:
        """Every stored chunk, in time order."""
        return self._select("ORDER BY idx", ())

    def chunks_between(self, start: float, end: float) -> list[ChunkRecord]:
        """The chunks that overlap ``start``..``end`` seconds, in time order."""
        return self._select("WHERE end > ? AND start < ? ORDER BY idx", (start, end))

    def _select(self, where: str, args: tuple[Any, ...]) -> list[ChunkRecord]:
        rows = self.db.execute(
            "SELECT idx, start, end, first_shot, last_shot, frame_times, caption, transcript,"
            f" screen_text, text FROM chunks {where}",
            args,
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

    def lexical(self, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """Chunks whose text matches any of ``terms`` (full-text, BM25): (chunk index, rank score)."""
        query = words.any_of(terms)
        if not query:
            return []
        rows = self.db.execute(
            "SELECT rowid, bm25(chunk_words) FROM chunk_words WHERE chunk_words MATCH ? "
            "ORDER BY bm25(chunk_words) LIMIT ?",
            (query, limit),
        )
        return [(int(idx), -float(score)) for idx, score in rows]

    def search_vectors(self, vector: Any, limit: int) -> list[tuple[int, float]]:
        """Nearest chunks to a unit vector: (chunk index, cosine similarity), best first."""
        if self._index is None:
            self._index = VectorFile(self.folder, "index.faiss")
        return self._index.search(vector, limit, rebuild=self.write_index)

    def has_frame_vectors(self) -> bool:
        return self.db.execute("SELECT 1 FROM frame_vectors LIMIT 1").fetchone() is not None

    def search_frames(self, vector: Any, limit: int) -> list[tuple[float, int, float]]:
        """Nearest frames to a unit text vector: (time, chunk index, similarity), best first."""
        if self._frames is None:
            self._frames = VectorFile(self.folder, "frames.faiss")
        hits = self._frames.search(vector, limit, rebuild=self.write_index)
        where = {i: (t, c) for i, t, c in self.db.execute(
            f"SELECT id, time, chunk FROM frame_vectors WHERE id IN ({','.join('?' * len(hits))})",
            [i for i, _ in hits])}  # fmt: skip
        return [(*where[i], score) for i, score in hits if i in where]

    def chunk(self, index: int) -> ChunkRecord | None:
        found = [c for c in self._select("WHERE idx = ?", (index,))]
        return found[0] if found else None

    def summary(self, llm: str) -> tuple[str, list[dict[str, Any]]] | None:
        row = self.db.execute(
            "SELECT summary, sections FROM summaries WHERE llm = ?", (llm,)
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def latest_summary(self) -> str | None:
        """A cached whole-video summary from any LLM, if one was made."""
        row = self.db.execute(
            "SELECT summary FROM summaries ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        return str(row[0]) if row else None

    def save_summary(self, llm: str, summary: str, sections: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?)",
                (llm, summary, json.dumps(sections)),
            )

    def thumbnails(self, chunk: int) -> list[tuple[float, bytes]]:
        """The (time, JPEG bytes) thumbnails of a chunk, in time order."""
        rows = self.db.execute(
            "SELECT time, jpeg FROM thumbnails WHERE chunk = ? ORDER BY time", (chunk,)
        )
        return [(float(t), bytes(jpeg)) for t, jpeg in rows]

    def cached_answer(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT record FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def save_answer(self, key: str, record: dict[str, Any]) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, json.dumps(record))
            )

    @property
    def index_path(self) -> Path:
        return self.folder / "index.faiss"

    def write_index(self) -> int:
        """Rebuild the FAISS indexes (chunk texts, frames) from the stored vectors.

        Returns the number of chunk vectors.
        """
        rows = self.db.execute(
            "SELECT idx, embedding FROM chunks WHERE embedding IS NOT NULL ORDER BY idx"
        ).fetchall()
        frames = self.db.execute("SELECT id, embedding FROM frame_vectors ORDER BY id").fetchall()
        self._index = self._frames = None
        VectorFile(self.folder, "frames.faiss").write(frames)
        return VectorFile(self.folder, "index.faiss").write(rows)


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END) whole."""
    statements, current = [], ""
    for piece in script.split(";"):
        current += piece + ";"
        if current.strip(" \n;") and (current.count("BEGIN") == current.count("END;")):
            statements.append(current.strip())
            current = ""
    return statements


def _dump_lines(lines: Sequence[TimedText]) -> str:
    return json.dumps([[t.start, t.end, t.text] for t in lines], ensure_ascii=False)


def _load_lines(text: str) -> list[TimedText]:
    return [TimedText(*item) for item in json.loads(text)]
