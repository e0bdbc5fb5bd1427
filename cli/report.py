"""``longvid report``: a self-contained HTML timeline of an indexed video."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.querying import IndexFirst, Llm, Store, engine_for, open_video


def report(
    video: Annotated[str, typer.Argument(help="An indexed video file.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="HTML file (default: VIDEO.report.html beside the video)."
        ),
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="Also ask this, and highlight the moments the answer cites.")
    ] = None,
    llm: Llm = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open the report in a browser.")] = False,
    store: Store = None,
    index_first: IndexFirst = False,
) -> None:
    """Write an HTML report: timeline, thumbnails, captions, speech, on-screen text, search."""
    from longvid.pipeline.report import render_report

    target_video = open_video(video, engine_for(store, llm=llm), index_first)
    answer, cited, frames = None, [], []
    if question:
        result = target_video.ask(question, inspect=False)
        answer, cited = result.answer, result.cited
        frames = frame_jpegs(target_video.path, result.frames)
    with target_video.memory() as memory:
        page = render_report(memory, Path(video).name, memory.latest_summary(), question, answer,
                             cited, frames)  # fmt: skip
    target = output or Path(video).with_suffix(".report.html")
    target.write_text(page, encoding="utf-8")
    typer.echo(str(target))
    if open_it:
        webbrowser.open(target.resolve().as_uri())


def frame_jpegs(video: str, frames: list[dict[str, Any]]) -> list[tuple[float, bytes, str]]:
    """Small JPEGs of the frames behind an answer, decoded from the video at their times."""
    import io

    from PIL import Image

    from longvid.media.frames import sample_frames

    if not frames:
        return []
    out = []
    for frame, info in zip(
        sample_frames(video, [f["time"] for f in frames], max_side=240), frames, strict=True
    ):
        buffer = io.BytesIO()
        Image.fromarray(frame.image).save(buffer, format="JPEG", quality=70)
        out.append((info["time"], buffer.getvalue(), f"{info['why']} ({info['score']:.2f})"))
    return out
