"""Voices across the library: every video's speakers and their voice vectors in one index, to find
the same voice in other videos (``longvid speakers --all --like VIDEO:S2``).

Kept in ``<store>/voices.sqlite``: one row per speaker of each video's newest complete memory. It
catches up by itself when read: a memory whose speakers changed since (found again, named) is
read again, and one that is no longer a video's newest complete memory is dropped. Vectors are
compared only with vectors of the same backend (Resemblyzer's and pyannote's do not mix).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longvid.memory.library import memories
from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import VideoMemory

SAME_VOICE = 0.8
"""Cosine similarity of two videos' speaker vectors above which they are taken for one voice
(Resemblyzer's per-speaker vectors on the generated 2/3/4-speaker dialogues: one voice in two
videos 0.90-0.96 over 7 pairs, two voices 0.46-0.66 over 19; benchmarks/RESULTS.md)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (folder TEXT PRIMARY KEY, stamp REAL NOT NULL);
CREATE TABLE IF NOT EXISTS voices (
    folder TEXT NOT NULL, video_id TEXT NOT NULL, video TEXT NOT NULL, speaker TEXT NOT NULL,
    name TEXT, backend TEXT NOT NULL, voice BLOB NOT NULL, talk_s REAL NOT NULL, turns TEXT NOT NULL,
    PRIMARY KEY (folder, speaker)
);
"""


@dataclass
class Voice:
    """One speaker of one video, as the library index holds it (``similarity`` to a query)."""

    video: str
    id: str  # the video's fingerprint
    speaker: str
    name: str | None
    talk_s: float
    turns: list[tuple[float, float]]
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"video": self.video, "id": self.id, "speaker": self.speaker, "name": self.name,
               "talk_s": round(self.talk_s, 3), "turns": [[round(a, 3), round(b, 3)] for a, b in self.turns]}  # fmt: skip
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
        return out


class VoiceIndex:
    """The store's voice index (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(root / "voices.sqlite", timeout=30)
        with self.db:
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def update(self) -> int:
        """Catch up with the store; returns how many memories were read again."""
        newest: dict[str, Any] = {}
        for summary in memories(self.root):  # newest first
            if summary.status == "complete":
                newest.setdefault(summary.id, summary)
        known = dict(self.db.execute("SELECT folder, stamp FROM memories").fetchall())
        current = {s.folder for s in newest.values()}
        read = 0
        with self.db:
            for folder in set(known) - current:
                self.db.execute("DELETE FROM voices WHERE folder = ?", (folder,))
                self.db.execute("DELETE FROM memories WHERE folder = ?", (folder,))
            for summary in newest.values():
                memory = VideoMemory(Path(summary.folder))
                try:
                    state = memory.meta("speakers") or {}
                    stamp = float(state.get("updated") or 0.0) if state.get("status") == "complete" else 0.0
                    if known.get(summary.folder) == stamp:
                        continue
                    self._read(memory, summary.id, (summary.paths or ["?"])[-1], stamp)
                    read += 1
                finally:
                    memory.close()
        return read

    def _read(self, memory: VideoMemory, video_id: str, video: str, stamp: float) -> None:
        folder = str(memory.folder)
        self.db.execute("DELETE FROM voices WHERE folder = ?", (folder,))
        if stamp and has_speakers(memory):
            store = SpeakerMemory(memory)
            backend = str((store.state() or {}).get("settings", {}).get("backend", "?"))
            vectors = store.voices()
            self.db.executemany("INSERT INTO voices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (folder, video_id, video, s.id, s.name, backend, vectors[s.id].tobytes(), s.talk_s,
                 json.dumps(s.turns)) for s in store.speakers() if s.id in vectors])  # fmt: skip
        self.db.execute("INSERT OR REPLACE INTO memories VALUES (?, ?)", (folder, stamp))

    def voices(self) -> list[Voice]:
        """Every speaker of every video, by video then most talk first."""
        self.update()
        rows = self.db.execute(
            "SELECT video, video_id, speaker, name, talk_s, turns FROM voices ORDER BY video, talk_s DESC"
        )
        return [Voice(v, i, s, n, t, [tuple(x) for x in json.loads(turns)]) for v, i, s, n, t, turns in rows]

    def like(self, folder: Path, speaker: str, min_similarity: float = SAME_VOICE) -> list[Voice]:
        """The speakers of other videos whose voice is like ``speaker`` (id or name) of the
        memory in ``folder``, most alike first."""
        import numpy as np

        self.update()
        memory = VideoMemory(folder)
        try:
            who = SpeakerMemory(memory).resolve(speaker)
        finally:
            memory.close()
        row = self.db.execute(
            "SELECT video_id, backend, voice FROM voices WHERE folder = ? AND speaker = ?",
            (str(folder), who),
        ).fetchone()
        if row is None:
            return []
        video_id, backend, blob = row
        query = np.frombuffer(blob, np.float32)
        found = []
        for video, other, sid, name, voice, talk, turns in self.db.execute(
            "SELECT video, video_id, speaker, name, voice, talk_s, turns FROM voices "
            "WHERE backend = ? AND video_id != ?",
            (backend, video_id),
        ):
            vector = np.frombuffer(voice, np.float32)
            if vector.shape != query.shape:
                continue
            similarity = float(vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query) + 1e-9))
            if similarity >= min_similarity:
                found.append(Voice(video, other, sid, name, talk, [tuple(x) for x in json.loads(turns)],
                                   similarity))  # fmt: skip
        return sorted(found, key=lambda v: -(v.similarity or 0.0))
