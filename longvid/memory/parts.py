"""A long video's memory built in parts: one small memory per time range, merged into the one.

Each part (a time range starting at a keyframe) is indexed into its own memory under the video
memory's ``parts/`` folder, by any worker, under its own lock; its chunks commit one by one, so
a part resumes as a whole video does. Merging appends the parts in time order, numbering chunks
and shots on, one transaction per part, and records how far it got, so it resumes too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from longvid.memory.store import VideoMemory

_MERGED = "parts_merged"  # meta: how many parts (in order) the video's memory holds


def part_folder(memory_folder: Path, number: int) -> Path:
    return memory_folder / "parts" / f"{number:04d}"


def merged_parts(memory: VideoMemory) -> int:
    return int(memory.meta(_MERGED, 0))


def merge_part(memory: VideoMemory, number: int) -> None:
    """Append part ``number`` (complete) to the video's memory; a part already merged is skipped."""
    if number < merged_parts(memory):
        return
    part = VideoMemory(part_folder(memory.folder, number))  # checks it and folds its WAL in
    scan, source = part.meta("scan", {}), part.meta("transcript_source")
    part.close()
    db = memory.db
    next_chunk, next_shot = (
        db.execute(f"SELECT COALESCE(MAX(idx) + 1, 0) FROM {table}").fetchone()[0]
        for table in ("chunks", "shots")
    )
    db.execute("ATTACH DATABASE ? AS part", (str(part.folder / "memory.sqlite"),))
    try:
        with memory.transaction():
            db.execute(
                "INSERT INTO chunks SELECT idx + ?1, start, end, first_shot + ?2, last_shot + ?2,"
                " frame_times, caption, transcript, screen_text, text, embedding"
                " FROM part.chunks ORDER BY idx",
                (next_chunk, next_shot),
            )
            db.execute("INSERT INTO shots SELECT idx + ?, start, end FROM part.shots", (next_shot,))
            db.execute(
                "INSERT INTO thumbnails SELECT chunk + ?, time, jpeg FROM part.thumbnails",
                (next_chunk,),
            )
            db.execute(
                "INSERT INTO frame_vectors (chunk, time, embedding)"
                " SELECT chunk + ?, time, embedding FROM part.frame_vectors ORDER BY id",
                (next_chunk,),
            )
            db.execute("INSERT INTO uncaptioned SELECT chunk + ? FROM part.uncaptioned", (next_chunk,))
            # Subtitle lines that cross a cut are in both parts: keep one.
            db.execute(
                "INSERT INTO transcript SELECT p.start, p.end, p.text FROM part.transcript p"
                " WHERE NOT EXISTS (SELECT 1 FROM transcript t"
                " WHERE t.start = p.start AND t.end = p.end AND t.text = p.text)"
                " ORDER BY p.start, p.end"
            )
            if number == 0:
                memory.set_meta("transcript_source", source or "none")
            totals = memory.meta("scan", {"duration": 0.0, "frames": 0, "shots": 0})
            memory.set_meta("scan", {"duration": max(totals["duration"], scan.get("duration", 0.0)),
                                     "frames": totals["frames"] + scan.get("frames", 0),
                                     "shots": totals["shots"] + scan.get("shots", 0)})  # fmt: skip
            memory.set_meta(_MERGED, number + 1)
    finally:
        db.execute("DETACH DATABASE part")


def remove_parts(memory: VideoMemory) -> None:
    """Delete the part memories once all are merged."""
    shutil.rmtree(memory.folder / "parts", ignore_errors=True)
