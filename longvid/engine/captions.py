"""Captions that come after the index (``--captions lazy`` / ``background``), wired once.

- ``for_question``: before a question is answered, its best-ranked uncaptioned chunks (at most
  ``ON_DEMAND``) are captioned and stored, so this answer and every later one sees them.
- ``caption_rest``: every caption still to come, under the video's lock (what ``index`` does
  for a lazy memory, and what the background process runs).
- ``plan_index``: what an index would cost here, without indexing (``index --dry-run``).
- ``start_background``: that process, detached, so the user asks while the rest fills in;
  it writes to ``captions.log`` in the memory's folder (``main`` is that process).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from longvid.engine.models import Engine
from longvid.media.shots import ShotOptions
from longvid.media.subtitles import subtitle_language
from longvid.memory.captions import pending_count
from longvid.memory.library import video_lock
from longvid.memory.library_index import LibraryIndex
from longvid.memory.store import VideoMemory
from longvid.models.base import VisualEmbedder
from longvid.pipeline.captions import caption_for_question, fill_in_captions
from longvid.pipeline.index import plan_video
from longvid.progress import Progress

log = logging.getLogger("longvid")

LOG_NAME = "captions.log"
_CHILD = "import sys; from longvid.engine.captions import main; sys.exit(main(sys.argv[1:]))"


def for_question(
    engine: Engine,
    path: str,
    folder: Path,
    question: str,
    visual: VisualEmbedder | None,
    top_k: int | None,
) -> int:
    """Caption what the question needs of a lazy memory with the memory's own video LLM (none
    when nothing waits)."""
    memory = VideoMemory(folder)  # plain: speech lines are stored without speakers' labels
    try:
        if not pending_count(memory):
            return 0
        settings = memory.meta("settings")
        captioner = engine.captioner(settings["captioner"])
        if captioner is None:
            return 0
        embedder = engine.query_embedder(settings["embedder"])
        done = caption_for_question(path, memory, question, captioner, embedder, visual, top_k)
    finally:
        memory.close()
    if done:
        LibraryIndex(engine.store).mark_changed(folder)  # search --all catches up with them
        log.info("captioned %d chunk%s this question needed (`longvid index` captions the rest)",
                 done, "s" * (done != 1))  # fmt: skip
    return done


def caption_rest(
    engine: Engine, path: str, folder: Path, wait_s: float | None = None, progress: Progress | None = None
) -> int:
    """Caption every chunk of the memory in ``folder`` whose caption is still to come."""
    memory = VideoMemory(folder)
    try:
        settings, video_id = memory.meta("settings"), memory.meta("fingerprint")
    finally:
        memory.close()
    captioner = engine.captioner(settings["captioner"])
    if captioner is None:
        return 0
    with video_lock(engine.store, video_id, wait_s):
        memory = VideoMemory(folder)
        try:
            done = fill_in_captions(path, memory, captioner, engine.query_embedder(settings["embedder"]),
                                    engine.store, progress)  # fmt: skip
        finally:
            memory.close()
    return done


def plan_index(path: str, engine: Engine, shots: ShotOptions | None = None) -> dict[str, Any]:
    """What indexing ``path`` with the engine's models would cost here (``index --dry-run``):
    its duration, the captioner, and on a CPU the view per chunk and the estimated seconds."""
    return plan_video(path, engine.index_models_for(subtitle_language(path)), engine.index_options(shots))


def start_background(engine: Engine, path: str, folder: Path) -> Path:
    """Start the detached process that captions the rest; returns its log file."""
    log_path = folder / LOG_NAME
    command = [sys.executable, "-c", _CHILD, path, str(folder), "--store", str(engine.store)]
    if engine.device:
        command += ["--device", str(engine.device)]
    with open(log_path, "ab") as out:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                         start_new_session=True, env=os.environ.copy())  # fmt: skip
    return log_path


def main(argv: list[str] | None = None) -> int:
    """The background process: caption the rest of one memory, then exit."""
    parser = argparse.ArgumentParser(prog="longvid-captions")
    parser.add_argument("video")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--store", required=True)
    parser.add_argument("--device")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()  # longvid's own lines only, not every library's
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    engine = Engine(args.store, device=args.device)
    done = caption_rest(engine, args.video, args.folder)
    log.info("captioned %d chunks of %s in the background", done, args.video)
    return 0

