"""The language a memory's content is in: speech first, else on-screen text (detected from the
stored text, so any memory, old or new, answers without re-indexing)."""

from __future__ import annotations

from longvid import words
from longvid.memory.store import VideoMemory

_SAMPLED_CHUNKS = 60


def content_language(memory: VideoMemory) -> str | None:
    """ISO 639-1 code of the speech (else the on-screen text), or None when there is too little."""
    chunks = memory.chunks()
    sample = chunks[:: max(1, len(chunks) // _SAMPLED_CHUNKS)]
    speech = " ".join(t.text for c in sample for t in c.transcript)
    shown = " ".join(t.text for c in sample for t in c.screen_text)
    return words.language(speech) or words.language(shown)
