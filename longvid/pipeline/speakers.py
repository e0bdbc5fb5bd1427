"""The speakers channel over a video: diarize its audio window by window, link the windows'
speakers into the video's, give each stored speech segment its speaker, store it all.

Memory stays flat: one window of audio (10 minutes by default) is decoded at a time, and only its
turns and voice vectors are kept. Each window is committed as it finishes, so an interrupted run
resumes after the last one; nothing else in the memory is touched (no captioning, no
transcription), so an existing memory gains speakers by this channel alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from longvid.media.audio import SAMPLE_RATE, iter_audio
from longvid.memory.speakers import Speaker, SpeakerMemory, TurnRow, Window, by_overlap
from longvid.models.diarize import SpeakerCount, centroids, cluster, first_seen_order
from longvid.timeline import Span

if TYPE_CHECKING:
    import numpy as np

    from longvid.memory.store import VideoMemory
    from longvid.models.speakers import Diarizer

Progress = Callable[[str, float, float | None], None]

JOIN_S = 0.8  # one speaker's turns closer than this (across a window's edge too) become one
SLACK_S = 0.25  # a speech segment's times may miss the turns by this much and still find them


@dataclass
class SpeakersResult:
    """What one ``find_speakers`` run did."""

    status: str  # "found" or "up-to-date"
    speakers: list[Speaker]
    windows_computed: int
    audio_s: float
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "speakers": [s.to_dict() for s in self.speakers],
                "windows_computed": self.windows_computed, "audio_s": round(self.audio_s, 3),
                "elapsed_s": round(self.elapsed_s, 3)}  # fmt: skip


def speaker_settings(diarizer: Diarizer, count: SpeakerCount, window_s: float) -> dict[str, Any]:
    """What changes the speakers found: new values mean finding them again."""
    return {"backend": diarizer.info.spec, "count": count.to_dict(), "window_s": window_s}


def find_speakers(
    memory: VideoMemory,
    path: str | os.PathLike[str],
    diarizer: Diarizer,
    count: SpeakerCount | None = None,
    window_s: float | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> SpeakersResult:
    """Find (or resume finding) the speakers of the video at ``path`` into its open ``memory``."""
    started = time.monotonic()
    count = count or SpeakerCount()
    window_s = float(window_s or diarizer.window_s)
    store = SpeakerMemory(memory)
    settings = speaker_settings(diarizer, count, window_s)
    if store.is_complete(settings) and not force:
        return SpeakersResult("up-to-date", store.speakers(), 0, 0.0, time.monotonic() - started)
    store.begin(settings, fresh=force)
    done = store.windows()
    duration = _duration(memory)
    resume = done[-1].end if done else 0.0
    # the count holds for the whole video: one window may hold fewer speakers, never more
    local = count if duration is not None and duration <= window_s else SpeakerCount(
        maximum=count.exact or count.maximum)  # fmt: skip
    computed, audio_s = 0, 0.0
    report = progress or (lambda stage, done_s, total: None)
    for offset, samples in iter_audio(
        path, window_s=window_s, span=Span(resume) if resume else None
    ):
        found = diarizer.diarize(samples, SAMPLE_RATE, local)
        seconds = len(samples) / SAMPLE_RATE
        window = Window(offset, offset + seconds,
                        [(round(t.start + offset, 3), round(t.end + offset, 3), t.speaker) for t in found.turns],
                        found.voices)  # fmt: skip
        store.save_window(window)
        done.append(window)
        computed += 1
        audio_s += seconds
        report("speakers", window.end, duration)
    turns, voices = link(done, diarizer.link_threshold, count)
    transcript = memory.transcript() or []
    speech = [(line.start, line.end, who) for line in transcript
              if (who := by_overlap(line.start - SLACK_S, line.end + SLACK_S, turns))]  # fmt: skip
    store.save(turns, voices, speech)
    return SpeakersResult("found", store.speakers(), computed, audio_s, time.monotonic() - started)


def link(
    windows: list[Window], threshold: float, count: SpeakerCount
) -> tuple[list[TurnRow], dict[str, np.ndarray]]:
    """The video's turns and voices from its windows': local speakers clustered by voice."""
    import numpy as np

    keys = [(i, who) for i, w in enumerate(windows) for who in w.voices]
    if not keys:
        return [], {}
    vectors = np.stack([windows[i].voices[who] for i, who in keys]).astype(np.float32)
    talk = {k: 0.0 for k in keys}
    for i, w in enumerate(windows):
        for a, b, who in w.turns:
            talk[(i, who)] = talk.get((i, who), 0.0) + (b - a)
    # one window: its speakers are the video's (unless a count is still to be kept)
    alone = len(windows) == 1 and count == SpeakerCount()
    labels = np.arange(len(keys)) if alone else cluster(vectors, threshold, count)
    label_of = dict(zip(keys, labels.tolist(), strict=True))
    raw = sorted((a, b, label_of[(i, who)]) for i, w in enumerate(windows) for a, b, who in w.turns)
    order = first_seen_order([label for _, _, label in raw])
    weights = np.array([max(talk[k], 1e-3) for k in keys])
    ranked = np.array([order.get(int(x), len(order) + int(x)) for x in labels])
    merged = centroids(vectors, ranked, weights)
    voices = {f"S{rank + 1}": merged[rank] for rank in sorted(set(order.values()))}
    turns: list[TurnRow] = []
    for a, b, label in raw:
        who = f"S{order[label] + 1}"
        if turns and turns[-1][2] == who and a - turns[-1][1] < JOIN_S:
            turns[-1] = (turns[-1][0], max(b, turns[-1][1]), who)
        else:
            turns.append((a, b, who))
    return turns, voices


def _duration(memory: VideoMemory) -> float | None:
    info = memory.meta("video") or {}
    value = info.get("duration") if isinstance(info, dict) else None
    return float(value) if value else None


def index_speakers(
    root: Path,
    path: str | os.PathLike[str],
    folder: Path,
    video_id: str,
    choose: Callable[[bool], str | None],
    load: Callable[[str], Diarizer],
    wait_s: float | None = None,
    progress: Progress | None = None,
) -> SpeakersResult | None:
    """The speakers channel on the complete memory in ``folder`` (after indexing, or alone on an
    older memory): nothing else in it is touched. ``choose(has_speech)`` names the backend (None:
    off); speakers found before with that backend are kept, whatever count they were found with.
    """
    from longvid.memory.library import video_lock
    from longvid.memory.store import VideoMemory

    memory = VideoMemory(folder)
    try:
        spec = choose(bool(memory.transcript()))
        if spec is None:
            return None
        store = SpeakerMemory(memory)
        state = store.state() or {}
        if state.get("status") == "complete" and state.get("settings", {}).get("backend") == spec:
            return SpeakersResult("up-to-date", store.speakers(), 0, 0.0, 0.0)
        diarizer = load(spec)
        with video_lock(root, video_id, wait_s):
            return find_speakers(memory, path, diarizer, progress=progress)
    finally:
        memory.close()


def open_indexed(root: Path, path: str | os.PathLike[str]) -> VideoMemory:
    """The newest complete memory of the video at ``path`` (found by content); else an error."""
    from longvid.errors import InputError
    from longvid.media.opening import check_readable
    from longvid.memory.fingerprint import fingerprint
    from longvid.memory.library import memories
    from longvid.memory.store import VideoMemory

    check_readable(path)
    complete = [m for m in memories(root, fingerprint(path)) if m.status == "complete"]
    if not complete:
        raise InputError(f"{path}: not indexed", f"run: longvid index {path}")
    return VideoMemory(Path(complete[0].folder))


def speakers_of_video(
    root: Path,
    path: str | os.PathLike[str],
    diarizer: Callable[[], Diarizer | None],
    refresh: bool = False,
    count: SpeakerCount | None = None,
    window_s: float | None = None,
    force: bool = False,
    names: dict[str, str | None] | None = None,
    wait_s: float | None = None,
    progress: Progress | None = None,
    folder: Path | None = None,
) -> tuple[list[Speaker], SpeakersResult | None]:
    """A video's speakers, found first (``diarizer`` loads the backend) when none are stored yet,
    or with ``refresh`` (other settings: backend, count, window), or ``force`` (again, whatever
    was stored); then ``names`` ({id or name: new name, or None to clear}) are given. The memory
    is the one in ``folder``, else the video's newest complete one."""
    from longvid.errors import LongvidError
    from longvid.memory.library import video_lock
    from longvid.memory.store import VideoMemory

    memory = VideoMemory(folder) if folder is not None else open_indexed(root, path)
    try:
        store = SpeakerMemory(memory)
        result = None
        state = store.state() or {}
        if refresh or force or state.get("status") != "complete":
            backend = diarizer()
            if backend is None:
                raise LongvidError(f"{path}: speakers cannot be found with the channel off",
                                   "pass --speakers resemblyzer (pip install 'longvid[speakers]')")  # fmt: skip
            with video_lock(root, memory.folder.parent.name, wait_s):
                result = find_speakers(memory, path, backend, count, window_s, force, progress)
        for speaker, name in (names or {}).items():
            store.rename(speaker, name)
        return store.speakers(), result
    finally:
        memory.close()


TRANSCRIPT_FORMATS = ("srt", "vtt", "json")


def labelled_transcript(memory: VideoMemory) -> list[dict[str, Any]]:
    """The stored speech, each line with its speaker: ``{start, end, speaker, name, text}``
    (``speaker`` None where no turn is near the line)."""
    store = SpeakerMemory(memory)
    lines = memory.transcript() or []
    names = {s.id: s.name for s in store.speakers()}
    said = store.speech_speakers()
    turns = store.turns()
    rows = []
    for line in lines:
        who = said.get((line.start, line.end)) or by_overlap(line.start, line.end, turns)
        rows.append({"start": line.start, "end": line.end, "speaker": who,
                     "name": names.get(who) if who else None, "text": line.text})  # fmt: skip
    return rows


def render_transcript(rows: list[dict[str, Any]], fmt: str) -> str:
    """``labelled_transcript`` rows as SRT (``Name: text``), WebVTT (``<v Name>text``) or JSON."""
    import json

    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False)
    out = ["WEBVTT", ""] if fmt == "vtt" else []
    for number, row in enumerate(rows, start=1):
        who = row["name"] or row["speaker"]
        if fmt == "vtt":
            text = row["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            voice = (who or "").replace(">", "")
            out += [f"{_clock(row['start'], '.')} --> {_clock(row['end'], '.')}",
                    f"<v {voice}>{text}" if voice else text, ""]  # fmt: skip
        else:
            out += [str(number), f"{_clock(row['start'], ',')} --> {_clock(row['end'], ',')}",
                    f"{who}: {row['text']}" if who else row["text"], ""]  # fmt: skip
    return "\n".join(out)


def _clock(seconds: float, mark: str) -> str:
    ms = round(max(seconds, 0.0) * 1000)
    return (
        f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{mark}{ms % 1000:03d}"
    )


def transcript_of_video(root: Path, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """``labelled_transcript`` of the indexed video at ``path``."""
    memory = open_indexed(root, path)
    try:
        return labelled_transcript(memory)
    finally:
        memory.close()
