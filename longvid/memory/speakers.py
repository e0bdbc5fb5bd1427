"""Speakers in a video's memory: turns, one voice vector per speaker, names, who says each line.

Kept in the video's SQLite database in tables of their own, created when first needed, so a
memory indexed before speakers existed gains them without re-captioning or re-transcribing:

- ``speaker_windows``: each audio window's own diarization as it finishes (resume point);
- ``speakers``: id (``S1``...), name (None until named), voice vector, talk seconds;
- ``speaker_turns``: (start, end, speaker), in time order;
- ``speech_speakers``: the speaker of each stored speech segment (by its start and end).

The state (``meta['speakers']``) holds the settings the speakers were found with and whether
they are complete.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from longvid.errors import LongvidError

if TYPE_CHECKING:
    import numpy as np

    from longvid.memory.store import VideoMemory
    from longvid.timeline import TimedText

TABLES = """
CREATE TABLE IF NOT EXISTS speaker_windows (
    start REAL PRIMARY KEY, end REAL NOT NULL, result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS speakers (
    id TEXT PRIMARY KEY, name TEXT, voice BLOB NOT NULL, talk_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS speaker_turns (start REAL NOT NULL, end REAL NOT NULL, speaker TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS speaker_turns_start ON speaker_turns (start);
CREATE TABLE IF NOT EXISTS speech_speakers (
    start REAL NOT NULL, end REAL NOT NULL, speaker TEXT NOT NULL, PRIMARY KEY (start, end)
);
"""

SAME_VOICE = 0.75
"""Cosine similarity above which a speaker found again is taken for a named one (names carry)."""

TurnRow = tuple[float, float, str]


@dataclass
class Speaker:
    """One voice in a video: ``talk_s`` seconds over ``turns`` ([start, end] pairs)."""

    id: str
    name: str | None
    talk_s: float
    turns: list[tuple[float, float]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How evidence lines show the speaker: the name once given, else the id."""
        return self.name or self.id

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "talk_s": round(self.talk_s, 3),
                "turns": [[round(a, 3), round(b, 3)] for a, b in self.turns]}  # fmt: skip


@dataclass
class Window:
    """One audio window's own diarization (speaker ids local to the window)."""

    start: float
    end: float
    turns: list[TurnRow]
    voices: dict[str, np.ndarray]


class SpeakerMemory:
    """The speaker tables of one open ``VideoMemory`` (created if missing)."""

    def __init__(self, memory: VideoMemory) -> None:
        self.memory = memory
        self.db = memory.db
        if not self._has_tables():
            with memory.transaction():
                for statement in TABLES.split(";"):
                    if statement.strip():
                        self.db.execute(statement)

    def _has_tables(self) -> bool:
        row = self.db.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
            "('speaker_windows', 'speakers', 'speaker_turns', 'speech_speakers')"
        ).fetchone()
        return int(row[0]) == 4

    # --- state and windows ----------------------------------------------------------------------

    def state(self) -> dict[str, Any] | None:
        """``{"settings": ..., "status": "running" | "complete", "updated": ...}`` or None."""
        value = self.memory.meta("speakers")
        return value if isinstance(value, dict) else None

    def is_complete(self, settings: Mapping[str, Any]) -> bool:
        state = self.state()
        return bool(
            state and state.get("status") == "complete" and state.get("settings") == settings
        )

    def begin(self, settings: Mapping[str, Any], fresh: bool = False) -> None:
        """Start (or go on) finding speakers with ``settings``; windows done with other settings
        (or any, when ``fresh``) are dropped."""
        state = self.state()
        with self.memory.transaction():
            if fresh or not state or state.get("settings") != settings:
                self.db.execute("DELETE FROM speaker_windows")
            self.memory.set_meta("speakers", {"settings": dict(settings), "status": "running",
                                              "updated": time.time()})  # fmt: skip

    def windows(self) -> list[Window]:
        """The windows already done, in time order."""
        import numpy as np

        out = []
        for start, end, result in self.db.execute(
            "SELECT start, end, result FROM speaker_windows ORDER BY start"
        ):
            data = json.loads(result)
            voices = {k: np.asarray(v, np.float32) for k, v in data["voices"].items()}
            out.append(Window(start, end, [tuple(t) for t in data["turns"]], voices))
        return out

    def save_window(self, window: Window) -> None:
        result = {"turns": [list(t) for t in window.turns],
                  "voices": {k: [round(float(x), 6) for x in v] for k, v in window.voices.items()}}  # fmt: skip
        with self.memory.transaction():
            self.db.execute("INSERT OR REPLACE INTO speaker_windows VALUES (?, ?, ?)",
                            (window.start, window.end, json.dumps(result)))  # fmt: skip

    def save(
        self,
        turns: Sequence[TurnRow],
        voices: Mapping[str, np.ndarray],
        speech: Sequence[TurnRow],
    ) -> None:
        """Store the video's speakers at once (replacing earlier ones) and mark them complete.

        Names carry over to the new speaker whose voice matches a named one.
        """
        import numpy as np

        carried = self._carry_names(voices)
        talk: dict[str, float] = dict.fromkeys(voices, 0.0)
        for start, end, who in turns:
            talk[who] = talk.get(who, 0.0) + (end - start)
        state = self.state() or {}
        with self.memory.transaction():
            for table in ("speakers", "speaker_turns", "speech_speakers"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.executemany("INSERT INTO speakers VALUES (?, ?, ?, ?)", [
                (who, carried.get(who), np.asarray(voices[who], np.float32).tobytes(), talk[who])
                for who in voices])  # fmt: skip
            self.db.executemany("INSERT INTO speaker_turns VALUES (?, ?, ?)", list(turns))
            self.db.executemany(
                "INSERT OR REPLACE INTO speech_speakers VALUES (?, ?, ?)", list(speech)
            )
            self.memory.set_meta(
                "speakers", {**state, "status": "complete", "updated": time.time()}
            )

    def _carry_names(self, voices: Mapping[str, np.ndarray]) -> dict[str, str]:
        import numpy as np

        named = [(name, np.frombuffer(blob, np.float32)) for name, blob in
                 self.db.execute("SELECT name, voice FROM speakers WHERE name IS NOT NULL")]  # fmt: skip
        carried: dict[str, str] = {}
        for name, old in named:
            best, score = None, SAME_VOICE
            for who, vector in voices.items():
                vector = np.asarray(vector, np.float32)
                if who in carried or vector.shape != old.shape:
                    continue
                similarity = float(vector @ old)
                if similarity > score:
                    best, score = who, similarity
            if best:
                carried[best] = name
        return carried

    # --- reading --------------------------------------------------------------------------------

    def speakers(self) -> list[Speaker]:
        """Every speaker with its turns, most talk first."""
        found = {who: Speaker(who, name, talk) for who, name, talk in
                 self.db.execute("SELECT id, name, talk_s FROM speakers")}  # fmt: skip
        for start, end, who in self.turns():
            if who in found:
                found[who].turns.append((start, end))
        return sorted(found.values(), key=lambda s: (-s.talk_s, _number(s.id)))

    def turns(self, start: float | None = None, end: float | None = None) -> list[TurnRow]:
        """Turns in time order (those overlapping ``start``..``end`` when given)."""
        rows = self.db.execute(
            "SELECT start, end, speaker FROM speaker_turns WHERE end > ? AND start < ? ORDER BY start",
            (-1.0 if start is None else start, float("inf") if end is None else end),
        )
        return [(float(a), float(b), str(w)) for a, b, w in rows]

    def voices(self) -> dict[str, np.ndarray]:
        import numpy as np

        return {who: np.frombuffer(blob, np.float32).copy()
                for who, blob in self.db.execute("SELECT id, voice FROM speakers")}  # fmt: skip

    def labels(self) -> dict[str, str]:
        """Speaker id -> what to show (name if given, else id)."""
        return {who: name or who for who, name in self.db.execute("SELECT id, name FROM speakers")}

    def speech_speakers(self) -> dict[tuple[float, float], str]:
        """(start, end) of each stored speech segment -> its speaker id."""
        return {
            (a, b): w
            for a, b, w in self.db.execute("SELECT start, end, speaker FROM speech_speakers")
        }

    def speaker_of(self, start: float, end: float) -> str | None:
        """The speaker of a stretch of speech: its stored segment's, else the most overlapping turn's."""
        row = self.db.execute(
            "SELECT speaker FROM speech_speakers WHERE start = ? AND end = ?", (start, end)
        ).fetchone()
        return str(row[0]) if row else by_overlap(start, end, self.turns(start, end))

    # --- names and lookups ----------------------------------------------------------------------

    def resolve(self, speaker: str) -> str:
        """A speaker's id from its id (``S2``, ``s2``) or name (case-insensitive); else an error."""
        wanted = speaker.strip().casefold()
        rows = self.db.execute("SELECT id, name FROM speakers").fetchall()
        for who, name in rows:
            if wanted in (who.casefold(), (name or "").casefold()):
                return str(who)
        known = ", ".join(
            f"{w} ({n})" if n else w for w, n in sorted(rows, key=lambda r: _number(r[0]))
        )
        raise LongvidError(f"no speaker '{speaker}' in this video",
                           f"known: {known}" if known else "find speakers first: longvid speakers VIDEO")  # fmt: skip

    def rename(self, speaker: str, name: str | None) -> str:
        """Name a speaker (by id or current name); an empty name clears it. Returns the id."""
        who = self.resolve(speaker)
        name = (name or "").strip() or None
        if name:
            clash = self.db.execute(
                "SELECT id FROM speakers WHERE lower(name) = lower(?) AND id != ?", (name, who)
            ).fetchone()
            if clash:
                raise LongvidError(f"{clash[0]} is already named '{name}'", "choose another name")
        state = self.state() or {}
        with self.memory.transaction():
            self.db.execute("UPDATE speakers SET name = ? WHERE id = ?", (name, who))
            if state:  # the library's voice index reads the names again
                self.memory.set_meta("speakers", {**state, "updated": time.time()})
        return who

    def label_lines(self, lines: Sequence[TimedText]) -> list[str | None]:
        """What to show before each speech line (``S2: ...`` or ``Dr. Ortiz: ...``); None where
        no speaker is known (no speakers found yet, or no turn near the line)."""
        label = self.labeller()
        return [label(line.start, line.end) for line in lines]

    def labeller(self) -> Callable[[float, float], str | None]:
        """Who speaks when, read once: a speech line's (start, end) -> its speaker's label (name,
        else id), or None (as ``speaker_of``, without a query per line)."""
        labels = self.labels()
        stored, turns = (self.speech_speakers(), self.turns()) if labels else ({}, [])

        def label(start: float, end: float) -> str | None:
            who = stored.get((start, end)) or by_overlap(start, end, turns)
            return labels.get(who) if who else None

        return label

    def ranges(self, speaker: str) -> list[tuple[float, float]]:
        """The time ranges (seconds) in which ``speaker`` (id or name) talks, in time order.

        For narrowing search to one voice: keep a hit when it overlaps any of these ranges.
        """
        who = self.resolve(speaker)
        return [(a, b) for a, b, w in self.turns() if w == who]


def has_speakers(memory: VideoMemory) -> bool:
    """Whether speakers were found for this memory (a read: no table is created)."""
    tables = memory.db.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'speakers'"
    ).fetchone()[0]
    return bool(tables) and memory.db.execute("SELECT 1 FROM speakers LIMIT 1").fetchone() is not None


def by_overlap(start: float, end: float, turns: Sequence[TurnRow]) -> str | None:
    """The speaker whose turns overlap ``start``..``end`` most (None if none overlaps).

    Where two overlap equally (overlapping speech), the one who started first wins.
    """
    share: dict[str, float] = {}
    for a, b, who in turns:
        overlap = min(b, end) - max(a, start)
        if overlap > 0:
            share[who] = share.get(who, 0.0) + overlap
    return max(share, key=lambda w: share[w]) if share else None


def overlaps_any(start: float, end: float, ranges: Sequence[tuple[float, float]]) -> bool:
    """Whether ``start``..``end`` overlaps one of ``ranges``: ``search --speaker S2`` keeps a hit
    when it overlaps ``SpeakerMemory.ranges("S2")``."""
    return any(a < end and b > start for a, b in ranges)


def _number(speaker_id: str) -> int:
    digits = "".join(c for c in speaker_id if c.isdigit())
    return int(digits) if digits else 0
