"""``Video`` (one video's memory, models and settings) and ``Library`` (every video in a store).

Results are the pipeline's dataclasses (``Answer``, ``Moment``, ``Summary``); each has the
``to_dict`` the CLI's ``--json`` and the MCP server print. A memory is opened per call, so one
``Video`` can serve several threads at once (SQLite connections are per thread).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longvid.engine import captions
from longvid.engine.models import Engine
from longvid.errors import LongvidError
from longvid.media.frames import Frame, sample_frames
from longvid.media.probe import probe
from longvid.media.shots import ShotOptions
from longvid.media.subtitles import subtitle_language
from longvid.memory.captions import pending_count
from longvid.memory.fingerprint import fingerprint
from longvid.memory.labelled import LabelledMemory
from longvid.memory.language import content_language
from longvid.memory.library import MemorySummary, memories, open_memory, remove_memory
from longvid.memory.library_index import LibraryIndex
from longvid.memory.speakers import Speaker, SpeakerMemory, has_speakers
from longvid.memory.store import VideoMemory
from longvid.memory.voices import SAME_VOICE, Voice, VoiceIndex
from longvid.models.diarize import SpeakerCount
from longvid.models.registry import MULTILINGUAL_EMBEDDER, language_default, reads_english_only
from longvid.pipeline.ask import Answer, AskOptions, ask, is_whole_video_question
from longvid.pipeline.chapters import Chapter, chapters
from longvid.pipeline.index import IndexResult, index_video
from longvid.pipeline.sources import local_video
from longvid.pipeline.speakers import (
    SpeakersResult,
    index_speakers,
    labelled_transcript,
    speakers_of_video,
)
from longvid.pipeline.summarize import Summary, summarize_memory, summarize_speakers
from longvid.progress import Progress, Stage
from longvid.recall.search import Moment, search_library, search_memory, talking

log = logging.getLogger("longvid")


class Video:
    """An indexed video: ask it, search it, summarise it, cut clips and frames from it."""

    def __init__(self, path: str | os.PathLike[str], engine: Engine | None = None) -> None:
        self.engine = engine or Engine()
        self.indexed: IndexResult | None = None  # what ``longvid.index`` did, when it opened this
        self.given = str(path)
        self.path = local_video(self.given, self.engine.store, fetch=False)  # a URL: its download
        found = open_memory(self.engine.store, self.path)  # fails now, with the fix, if unusable
        try:
            self.folder = found.folder
            self.settings: dict[str, Any] = found.meta("settings")
        finally:
            found.close()

    @contextmanager
    def memory(self) -> Iterator[VideoMemory]:
        """This video's memory, open for the length of a ``with`` block (in this thread); its
        speech lines carry their speakers' labels (names as given by then)."""
        memory = LabelledMemory(self.folder)  # found once, when opened: no re-fingerprinting
        try:
            yield memory
        finally:
            memory.close()

    def ask(
        self,
        question: str,
        *,
        agent: bool | None = None,
        top_k: int | None = None,
        max_steps: int = 6,
        max_frames: int = 32,
        inspect: bool = True,
        on_step: Callable[[Any], None] | None = None,
        options: Sequence[str] = (),
    ) -> Answer:
        """Answer ``question`` with checked ``[hh:mm:ss]`` citations (``.answer``, ``.cited``);
        with ``options``, a multiple-choice question (``.choice()`` is the letter picked)."""
        engine = self.engine
        looker = engine.looker(self.settings["captioner"]) if inspect else None
        llm = engine.llm(looker)
        checks, steps = engine.answer_way(llm, agent, max_steps)
        asked = AskOptions(top_k=top_k, inspect=inspect, max_steps=steps, max_frames=max_frames,
                           agent=checks)  # fmt: skip
        choices = list(options)
        visual = engine.visual(self.settings.get("visual_embedder"))
        started = time.monotonic()
        captioned = 0
        if inspect and not is_whole_video_question(question):  # a lazy memory's captions it needs
            captioned = captions.for_question(engine, self.path, Path(self.folder), question, visual, top_k)
        with self.memory() as memory:
            answer = ask(self.path, question, memory,
                         engine.query_embedder(self.settings["embedder"]), llm, looker, asked,
                         on_step=on_step, visual=visual, choices=choices)  # fmt: skip
        answer.captioned = captioned
        answer.elapsed_s = time.monotonic() - started
        return answer

    def search(self, query: str, k: int = 5, speaker: str | None = None) -> list[Moment]:
        """The ``k`` moments that best match ``query`` (by meaning, words and, if kept, frames);
        with ``speaker`` (an id like ``S2`` or a name), only moments where that voice speaks."""
        with self.memory() as memory:
            return search_memory(memory, self.engine.query_embedder(self.settings["embedder"]),
                                 query, k, self.engine.visual(self.settings.get("visual_embedder")),
                                 speaker=speaker)  # fmt: skip

    def summarize(self, language: str | None = None) -> Summary:
        """The whole-video summary and its timed sections (cached per LLM and language), in
        ``language`` (a name or ISO code; default: the language the video speaks)."""
        llm = self.engine.llm()
        with self.memory() as memory:
            waiting = pending_count(memory)
            if waiting:
                log.info("%d of %d chunks have no caption yet (--captions lazy): the summary reads their "
                         "speech and text only — `longvid index %s` captions them",
                         waiting, memory.chunk_count(), self.given)  # fmt: skip
            return summarize_memory(memory, llm, language=language)

    def speakers(
        self,
        names: dict[str, str | None] | None = None,
        *,
        refresh: bool = False,
        count: SpeakerCount | None = None,
        window_s: float | None = None,
        force: bool = False,
        wait_s: float | None = None,
        progress: Progress | None = None,
    ) -> list[Speaker]:
        """Who speaks (id, name, talk time, turns), most talk first; found first with the
        engine's speakers backend if not yet (or with ``refresh``: its backend, ``count``,
        ``window_s``; ``force``: again). ``names`` ({"S2": "Dr. Ortiz"}, None clears) are kept
        and used from then on in evidence, answers, summaries and reports."""
        engine = self.engine

        def diarizer() -> Any:  # asked for: a backend that cannot load is an error
            spec, _ = engine.speakers_choice(True)
            return engine.diarizer(spec) if spec else None

        found, _ = speakers_of_video(engine.store, self.path, diarizer, refresh, count, window_s,
                                     force, names, wait_s, progress, Path(self.folder))  # type: ignore[arg-type]  # fmt: skip
        return found

    def speakers_at(self, spans: list[tuple[float, float]]) -> list[dict[str, Any]]:
        """Who talks in each span (an answer's citations): ``{start, end, speakers}``, the
        speakers' labels (names once given) most talk first; empty where none are known."""
        with self.memory() as memory:
            if not has_speakers(memory):
                return []
            voices = SpeakerMemory(memory)
            return [{"start": a, "end": b, "speakers": talking(voices, a, b)} for a, b in spans]

    def guess_names(self) -> dict[str, str]:
        """Names for unnamed speakers, to show, not stored until confirmed with
        ``speakers(names=...)``: the name given to the same voice in another video, else the
        name they seem to give themselves ("I'm Anna ...", read by the answering LLM)."""
        from longvid.pipeline.speaker_names import guess_names

        library = Library(self.engine)
        guesses = {}
        for speaker in self.speakers():
            named = [v for v in library.same_voice(self.given, speaker.id) if v.name]
            if not speaker.name and named:
                guesses[speaker.id] = str(named[0].name)
        memory = VideoMemory(Path(self.folder))
        try:
            return {**guess_names(memory, self.engine.llm(), frozenset(guesses)), **guesses}
        finally:
            memory.close()

    def transcript(self) -> list[dict[str, Any]]:
        """The speech with its speakers: ``{start, end, speaker, name, text}`` per line."""
        memory = VideoMemory(Path(self.folder))
        try:
            return labelled_transcript(memory)
        finally:
            memory.close()

    def summarize_speakers(self, language: str | None = None) -> list[dict[str, Any]]:
        """Each speaker's part (``{id, name, talk_s, turns, summary}``), most talk first, in
        ``language`` (default: the video's); empty where no speakers were found."""
        llm = self.engine.llm()
        with self.memory() as memory:
            return summarize_speakers(memory, llm, language)

    def chapters(self, language: str | None = None) -> list[Chapter]:
        """Chapters from the summary's sections (the first at 00:00, each at least 10 s), titled
        in ``language`` (default: the video's)."""
        return chapters(self.summarize(language).sections)

    def frames(self, times: list[float], max_side: int = 768) -> list[Frame]:
        """Frames (RGB arrays with their times) at ``times`` seconds."""
        return sample_frames(self.path, times, max_side=max_side)

    def clip(self, span: tuple[float, float], out: str | os.PathLike[str]) -> Any:
        """Write ``span`` (start, end seconds) to ``out``; stream copy when it starts on a keyframe."""
        from longvid.media.clips import export_clip

        return export_clip(self.path, span[0], span[1], out)

    def info(self, chunks: bool = False) -> dict[str, Any]:
        """What the container holds and what is indexed for it (the CLI's and MCP's one shape)."""
        return describe(self.path, self.engine, chunks)


def describe(path: str, engine: Engine, chunks: bool = False) -> dict[str, Any]:
    """``Video.info`` for any video file, indexed or not (``memories`` is then empty)."""
    video_id = fingerprint(path)
    out = []
    for summary in memories(engine.store, video_id):
        entry = summary.to_dict()
        if summary.status != "damaged":
            memory = VideoMemory(Path(summary.folder))
            try:
                entry["transcript_source"] = memory.meta("transcript_source")
                entry["language"] = content_language(memory)
                entry["scan"] = memory.meta("scan")
                entry["uncaptioned"] = pending_count(memory)  # captions still to come (lazy)
                if chunks:
                    entry["chunks_detail"] = [{"index": c.index, "start": c.start, "end": c.end,
                                               "text": c.text} for c in memory.chunks()]  # fmt: skip
            finally:
                memory.close()
        out.append(entry)
    return {"video": path, "id": video_id, "probe": probe(path).to_dict(), "memories": out}


def index(
    path: str | os.PathLike[str],
    engine: Engine | None = None,
    *,
    shots: ShotOptions | None = None,
    force: bool = False,
    wait_s: float | None = None,
    progress: Progress | None = None,
    join_library: bool = True,
) -> Indexed:
    """Index one video (a file or an http(s) URL) with the engine's models and options, then
    find its speakers (``Engine(speakers=...)``; by default where there is speech).

    Unless you chose the embedder, a video whose subtitles are not in English is embedded with
    the registry's multilingual default; speech's language is known only after recognition, so
    a video without subtitles keeps the default embedder (and a warning if it is not English)."""
    engine = engine or Engine()
    report = progress or (lambda stage, done, total: None)
    local = local_video(str(path), engine.store,
                        progress=lambda done, total: report(Stage.DOWNLOAD, done, total))  # fmt: skip
    language = subtitle_language(local)  # known before indexing: subtitles are read, not heard
    models = engine.index_models_for(language)
    result = index_video(local, models, engine.store, engine.index_options(shots),
                         force=force, wait_s=wait_s, progress=progress, join_library=join_library)  # fmt: skip
    if engine.captions == "background" and result.uncaptioned:
        log_path = captions.start_background(engine, local, Path(result.memory))
        log.info("%s: the other %d captions are being made in the background (log: %s)",
                 path, result.uncaptioned, log_path)  # fmt: skip
    found = add_speakers(result, local, engine, wait_s, progress)  # after speech; alone if indexed
    if language_default("embedder", language, engine.specs["embedder"], engine.options) is None:
        warn_if_unread(result)  # else the language's embedder, or why not was said on loading
    return Indexed(**vars(result), speakers=found)


def warn_if_unread(result: IndexResult) -> None:
    """One warning where the content (known once indexed: speech is in it) is not English and
    the embedder reads English only."""
    memory = VideoMemory(Path(result.memory))
    try:
        language = content_language(memory)
        embedder = str((memory.meta("settings") or {}).get("embedder", ""))
    finally:
        memory.close()
    if language not in (None, "en") and reads_english_only(embedder):
        log.warning("%s: its speech/text is in '%s' but the embedder %s reads English only; "
                    "full-text search still matches its words — for meaning search, index with "
                    "--embedder %s", result.video, language, embedder, MULTILINGUAL_EMBEDDER)  # fmt: skip


@dataclass
class Indexed(IndexResult):
    """What ``index`` did: the memory, and the speakers channel (None where it was off)."""

    speakers: SpeakersResult | None = None


def add_speakers(
    result: IndexResult,
    path: str,
    engine: Engine,
    wait_s: float | None = None,
    progress: Progress | None = None,
) -> SpeakersResult | None:
    """Run the speakers channel on an indexed memory (the engine chooses the backend and says
    why in one line). A default backend that fails warns; one the user named raises."""
    explicit = engine.speakers_chosen()

    def choose(has_speech: bool) -> str | None:
        spec, why = engine.speakers_choice(has_speech)
        engine.note(why)
        return spec

    try:
        return index_speakers(engine.store, path, Path(result.memory), result.id, choose,
                              engine.diarizer, wait_s, progress)  # type: ignore[arg-type]  # fmt: skip
    except Exception as exc:  # the index is complete; a default extra channel must not undo it
        if explicit:
            raise
        what, fix = (exc.what, exc.fix) if isinstance(exc, LongvidError) else (
            f"{type(exc).__name__}: {exc}", "pass --speakers none, or rerun with LONGVID_DEBUG=1")  # fmt: skip
        log.warning("%s: speakers were not found (%s) — %s", path, what, fix)
        return None


@dataclass
class Library:
    """Every video indexed in one store."""

    engine: Engine

    def search(self, query: str, k: int = 5) -> list[Moment]:
        """The best moments across every video (through the library-wide index)."""
        return search_library(self.engine.store, query, k, self.engine.query_embedder,
                              self.engine.visual)  # fmt: skip

    def voices(self) -> list[Voice]:
        """Every speaker of every video (through the store's voice index)."""
        index = VoiceIndex(self.engine.store)
        try:
            return index.voices()
        finally:
            index.close()

    def same_voice(self, video: str, speaker: str, min_similarity: float = SAME_VOICE) -> list[Voice]:
        """The speakers of other videos whose voice is like ``speaker`` (id or name) of
        ``video``, most alike first, each with its turns."""
        folder = Path(Video(video, self.engine).folder)
        index = VoiceIndex(self.engine.store)
        try:
            return index.like(folder, speaker, min_similarity)
        finally:
            index.close()

    def videos(self, video_id: str | None = None) -> list[MemorySummary]:
        """Every memory (newest first); a video indexed with two settings has two."""
        return memories(self.engine.store, video_id)

    def rebuild(self) -> int:
        """Rebuild the library-wide index from every complete memory; returns its chunk vectors."""
        return LibraryIndex(self.engine.store).rebuild()

    def join(self) -> None:
        """Join memories completed since the last join to the library-wide index (one write)."""
        LibraryIndex(self.engine.store).update()

    def stale(self) -> list[MemorySummary]:
        """Memories no current setting would open: an older memory of a video that has a newer
        complete one, or one left incomplete beside a complete one."""
        newest: set[str] = set()
        out = []
        for summary in memories(self.engine.store):  # newest first
            if summary.status == "complete" and summary.id not in newest:
                newest.add(summary.id)
                continue
            if summary.id in newest or summary.status == "damaged":
                out.append(summary)
        return out

    def prune(self, summaries: list[MemorySummary]) -> None:
        """Delete these memories (and their entries in the library-wide index)."""
        index = LibraryIndex(self.engine.store)
        for summary in summaries:
            index.mark_changed(Path(summary.folder))
            remove_memory(Path(summary.folder))
        index.update()
