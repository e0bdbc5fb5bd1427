"""Talk time and turns per speaker: the system adds up who spoke how long, the model only reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from longvid.memory.speakers import SpeakerMemory
from longvid.memory.store import VideoMemory
from longvid.recall.timeline import Form, answer_evidence, parse

TURNS = [(0.0, 10.0, "S1"), (10.0, 14.0, "S2"), (14.0, 44.0, "S1"), (45.0, 47.0, "S2"), (47.0, 50.0, "S3")]


def _memory(folder: Path) -> VideoMemory:
    memory = VideoMemory(folder)
    voices = SpeakerMemory(memory)
    voices.begin({"backend": "test"})
    rng = np.random.default_rng(0)
    voices.save(TURNS, {w: rng.normal(size=8).astype(np.float32) for w in ("S1", "S2", "S3")}, [])
    voices.rename("S2", "Dr. Ortiz")
    return memory


def test_how_long_each_speaker_spoke_is_added_up(tmp_path: Path) -> None:
    memory = _memory(tmp_path / "m")
    try:
        [result] = answer_evidence(memory, None, "How long did Dr. Ortiz speak?")  # type: ignore[arg-type]
        assert result.source == "timeline"
        assert result.text == ("talk time by speaker (3 speakers): Dr. Ortiz: 6 s in 2 turns (first [00:00:10], "
                               "last [00:00:45]); S1: 40 s in 2 turns (first [00:00:00], last [00:00:14]); "
                               "S3: 3 s in 1 turn (first [00:00:47], last [00:00:47])")  # fmt: skip
        [most] = answer_evidence(memory, None, "Who spoke the most?")  # type: ignore[arg-type]
        assert most.text.split(": ", 1)[1].startswith("S1: 40 s")
        assert (most.start, most.end) == (0.0, 50.0)
    finally:
        memory.close()


def test_talk_questions_are_told_apart_from_counting_events() -> None:
    assert parse("How many times did S2 talk?") is not None
    assert parse("How many times did S2 talk?").form is Form.TALK  # type: ignore[union-attr]
    assert parse("谁说得最多？").form is Form.TALK  # type: ignore[union-attr]
    assert parse("How many times does the bell ring?").form is Form.COUNT  # type: ignore[union-attr]


def test_no_speakers_no_talk_evidence(tmp_path: Path) -> None:
    memory = VideoMemory(tmp_path / "plain")
    try:
        assert answer_evidence(memory, None, "Who spoke the most?") == []  # type: ignore[arg-type]
    finally:
        memory.close()
