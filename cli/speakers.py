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
        list[str], typer.Argument(help="Indexed video files, or '-' for stdin.", metavar="VIDEO...")
    ],
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
    names = _names(name or [])
    count = SpeakerCount(num_speakers, min_speakers, max_speakers)
    engine = Engine(store, speakers=backend, device=device)  # the backend loads once, if needed
    refresh = bool(backend or num_speakers or min_speakers or max_speakers or window)
    batch = Batch()
    for path in expand_videos(videos):

        def work(item: str) -> Any:
            with Bars(Path(item).name, quiet) as bars:
                video = Video(item, engine)
                found = video.speakers(names, refresh=refresh, count=count, window_s=window,
                                       force=force, wait_s=wait, progress=bars.update)  # fmt: skip
                return video, found

        for item, (video, found) in batch.run([path], work):
            if transcript:
                typer.echo(render_transcript(video.transcript(), transcript))
            elif as_json:
                emit_json({"video": item, "speakers": [s.to_dict() for s in found]})
            elif not found:
                report("note", f"{item}: no speech, no speakers")
            else:
                rows = [(s.id, s.name or "", hms(s.talk_s), str(len(s.turns)),
                         hms(s.turns[0][0]) if s.turns else "") for s in found]  # fmt: skip
                if len(videos) > 1:
                    typer.echo(item)
                emit_table(rows, ("id", "name", "talk", "turns", "first"), indent="")
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
