"""Captions still to come: chunks a lazy index stored with speech and text only.

``index --captions lazy`` commits chunks without running the video LLM; their captions come
later, for the chunks a question needs (``ask``) or for all of them (``index``, or the
background job of ``--captions background``). Filling in keeps everything else of the chunk.
"""

from __future__ import annotations

from typing import Any

from longvid.memory.store import VideoMemory


def pending(memory: VideoMemory) -> list[int]:
    """The chunks whose caption is still to come, in time order."""
    rows = memory.db.execute("SELECT chunk FROM uncaptioned ORDER BY chunk")
    return [int(row[0]) for row in rows]


def pending_count(memory: VideoMemory) -> int:
    return int(memory.db.execute("SELECT COUNT(*) FROM uncaptioned").fetchone()[0])


def fill(memory: VideoMemory, index: int, caption: str, text: str, embedding: Any | None) -> None:
    """Store a chunk's late caption with its new search text and vector, in one transaction.

    The cached summaries go with it (they were written without this caption); the FAISS file
    is rewritten by the caller, once for a batch (``memory.write_index()``).
    """
    blob = None if embedding is None else embedding.astype("float32").tobytes()
    with memory.transaction():
        memory.db.execute("UPDATE chunks SET caption = ?, text = ?, embedding = ? WHERE idx = ?",
                          (caption, text, blob, index))  # fmt: skip
        memory.db.execute("DELETE FROM uncaptioned WHERE chunk = ?", (index,))
        memory.db.execute("DELETE FROM summaries")
