"""``longvid clip``: write moments of a video (a given span, or the best matches of a query) as files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from longvid_cli.output import emit_json
from longvid_cli.querying import AsJson, Store, engine_for, open_video

from longvid.timeline import hms

_SPAN = re.compile(r"^\s*([\d:.]+)\s*[-–]\s*([\d:.]+)\s*$")


def parse_span(text: str) -> tuple[float, float]:
    """``hh:mm:ss-hh:mm:ss`` (or mm:ss, or seconds, with decimals) to (start, end) seconds."""
    from longvid.recall.citations import seconds

    match = _SPAN.match(text)
    if not match:
        raise typer.BadParameter(f"'{text}' is not a span: write e.g. 00:01:05-00:01:20")
    try:
        start, end = seconds(match.group(1)), seconds(match.group(2))
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a span: write e.g. 00:01:05-00:01:20") from None
    if end <= start:
        raise typer.BadParameter(f"'{text}': the end must come after the start")
    return start, end


def clip(
    video: Annotated[str, typer.Argument(help="A video file (indexed, for --query).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Clip file (several: OUT-1.mp4, OUT-2.mp4, ...).")
    ],
    at: Annotated[str | None, typer.Option(help="The span to cut: hh:mm:ss-hh:mm:ss.")] = None,
    query: Annotated[str | None, typer.Option(help="Cut the moments that best match this.")] = None,
    top_k: Annotated[int, typer.Option(min=1, help="How many moments, with --query.")] = 1,
    store: Store = None,
    as_json: AsJson = False,
) -> None:
    """Export moments as video files: stream copy when the cut starts on a keyframe, else exact."""
    from longvid.media.clips import export_clip
    from longvid.media.opening import check_readable

    if (at is None) == (query is None):
        raise typer.BadParameter("give exactly one of --at SPAN and --query TEXT")
    check_readable(video)
    if at is not None:
        spans = [parse_span(at)]
    else:
        moments = open_video(video, engine_for(store)).search(str(query), top_k)
        spans = [(m.start, m.end) for m in moments]
    suffix = output.suffix or ".mp4"
    for number, (start, end) in enumerate(spans, start=1):
        target = output if len(spans) == 1 else output.with_name(f"{output.stem}-{number}{suffix}")
        done = export_clip(video, start, end, target)
        if as_json:
            emit_json({"video": video, "clip": str(done.path), "start": done.start, "end": done.end,
                       "mode": done.mode})  # fmt: skip
        else:
            typer.echo(f"{done.path}  [{hms(done.start, 1)}–{hms(done.end, 1)}] ({done.mode})")
