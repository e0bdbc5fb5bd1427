"""``longvid speakers``: who speaks when in an indexed video; name the voices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table
from longvid_cli.runner import EXIT_USAGE, Bars, Batch, expand_videos, report, report_error

from longvid.timeline import hms


def speakers(
    videos: Annotated[
        list[str] | None,
        typer.Argument(help="Indexed video files, or '-' for stdin.", metavar="VIDEO..."),
    ] = None,
    everywhere: Annotated[
        bool, typer.Option("--all", help="Every video in the store (speakers already found).")
    ] = False,
    like: Annotated[
        str | None,
        typer.Option(
            help="With --all: the other videos where this voice speaks, e.g. --like talk.mp4:S2.",
            metavar="VIDEO:SPEAKER",
        ),
    ] = None,
    guess: Annotated[
        bool,
        typer.Option(
            "--guess-names",
            help="Show a name for each unnamed speaker: the one given to the same voice in "
            "another video, else the one they seem to give themselves (\"I'm Anna...\", by the "
            "LLM); confirm one with --name.",
        ),
    ] = False,
    llm: Annotated[str | None, typer.Option(help="Answering LLM spec, for --guess-names.")] = None,
    min_similarity: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="With --like: how alike two voices must be.")
    ] = 0.8,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name", help='Name a speaker: --name S2="Dr. Ortiz" (repeatable; S2= clears).'
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--speakers",
            envvar="LONGVID_SPEAKERS",
            help="resemblyzer (default, offline), a pyannote hub id or pipeline directory.",
        ),
    ] = None,
    num_speakers: Annotated[
        int | None, typer.Option(min=1, help="The number of speakers, if known.")
    ] = None,
    min_speakers: Annotated[
        int | None, typer.Option(min=1, help="At least this many speakers.")
    ] = None,
    max_speakers: Annotated[
        int | None, typer.Option(min=1, help="At most this many speakers.")
    ] = None,
    window: Annotated[
        float | None,
        typer.Option(min=10.0, help="Seconds of audio diarized at a time (default 600)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Find the speakers again.")] = False,
    device: Annotated[str | None, typer.Option(help="torch device: auto, cpu, cuda, ...")] = None,
    store: Annotated[
        Path | None, typer.Option(help="Store root (default: LONGVID_HOME or the user data dir).")
    ] = None,
    wait: Annotated[
        float | None, typer.Option(help="Seconds to wait for another process on the video.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON output (one object per video).")
    ] = False,
    transcript: Annotated[
        str | None,
        typer.Option(
            help="Print the speech with its speakers instead: srt, vtt (<v> voice tags) or json."
        ),
    ] = None,
) -> None:
    """List who speaks in a video (id, name, talk time, turns), finding the speakers first if needed.

    Speakers are found once from the video's audio and stored with its memory (nothing is
    re-captioned or re-transcribed); --name then labels them in evidence, answers and reports.
    """
    from longvid.engine import Engine, Video
    from longvid.models.diarize import SpeakerCount
    from longvid.pipeline.speakers import TRANSCRIPT_FORMATS, render_transcript

    if transcript is not None and transcript not in TRANSCRIPT_FORMATS:
        report_error(f"unknown --transcript format '{transcript}'", "use srt, vtt or json")
        raise typer.Exit(EXIT_USAGE)
    if everywhere or like:
        _library(store, like, min_similarity, as_json)
        return
    if not videos:
        report_error("give a video (or --all)", "longvid speakers VIDEO, or longvid speakers --all")
        raise typer.Exit(EXIT_USAGE)
    names = _names(name or [])
    count = SpeakerCount(num_speakers, min_speakers, max_speakers)
    engine = Engine(store, speakers=backend, device=device, llm=llm)  # the backend loads once, if needed
    refresh = bool(backend or num_speakers or min_speakers or max_speakers or window)
    batch = Batch()
    for path in expand_videos(videos):

        def work(item: str) -> Any:
            with Bars(Path(item).name, quiet) as bars:
                video = Video(item, engine)
                found = video.speakers(names, refresh=refresh, count=count, window_s=window,
                                       force=force, wait_s=wait, progress=bars.update)  # fmt: skip
                return video, found, video.guess_names() if guess else {}

        for item, (video, found, guesses) in batch.run([path], work):
            if transcript:
                typer.echo(render_transcript(video.transcript(), transcript))
            elif as_json:
                listed = [{**s.to_dict(), **({"guess": guesses.get(s.id)} if guess else {})} for s in found]
                emit_json({"video": item, "speakers": listed})
            elif not found:
                report("note", f"{item}: no speech, no speakers")
            else:
                rows = [(s.id, s.name or "", hms(s.talk_s), str(len(s.turns)),
                         hms(s.turns[0][0]) if s.turns else "",
                         *((f"{guesses[s.id]}?" if s.id in guesses else "",) if guess else ())) for s in found]  # fmt: skip
                if len(videos) > 1:
                    typer.echo(item)
                emit_table(rows, ("id", "name", "talk", "turns", "first", *(("guess",) if guess else ())), indent="")
    batch.exit()


def _names(pairs: list[str]) -> dict[str, str | None]:
    """``["S2=Dr. Ortiz", "S3="]`` as ``{"S2": "Dr. Ortiz", "S3": None}``; usage errors exit 2."""
    out: dict[str, str | None] = {}
    for pair in pairs:
        speaker, sep, value = pair.partition("=")
        if not sep or not speaker.strip():
            report_error(f"bad --name '{pair}'", 'write --name S2="Dr. Ortiz"')
            raise typer.Exit(EXIT_USAGE)
        out[speaker.strip()] = value.strip().strip('"').strip() or None
    return out


def _library(store: Path | None, like: str | None, min_similarity: float, as_json: bool) -> None:
    """Every speaker in the store, or (``--like VIDEO:SPEAKER``) the same voice in other videos."""
    from longvid.engine import library

    found = library(store)
    if like:
        video, sep, speaker = like.rpartition(":")
        if not sep or not video or not speaker:
            report_error(f"bad --like '{like}'", "write --like VIDEO:S2 (or VIDEO:NAME)")
            raise typer.Exit(EXIT_USAGE)
        voices = found.same_voice(video, speaker, min_similarity)
    else:
        voices = found.voices()
    if as_json:
        for voice in voices:
            emit_json(voice.to_dict())
        return
    if not voices:
        report("note", "no other video has this voice" if like else "no speakers found in the store")
    rows = [(v.video, v.speaker, v.name or "", hms(v.talk_s), str(len(v.turns)),
             ", ".join(f"{hms(a)}–{hms(b)}" for a, b in v.turns[:3]) + (" …" if len(v.turns) > 3 else ""),
             *((f"{v.similarity:.2f}",) if like else ())) for v in voices]  # fmt: skip
    header = ("video", "speaker", "name", "talk", "turns", "first turns", *(("similarity",) if like else ()))
    if rows:
        emit_table(rows, header, indent="")
