"""``longvid report``: a self-contained HTML timeline of an indexed video."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from longvid_cli.querying import (
    IndexFirst,
    Llm,
    Store,
    embedder_for,
    load_llm,
    open_video_memory,
    root_of,
)


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
    from longvid.pipeline.ask import AskOptions, ask
    from longvid.pipeline.report import render_report

    root = root_of(store)
    memory = open_video_memory(video, root, index_first)
    answer, cited = None, []
    if question:
        embedder = embedder_for(memory.meta("settings")["embedder"], root)
        result = ask(
            video, question, memory, embedder, load_llm(llm), None, AskOptions(inspect=False)
        )
        answer, cited = result.answer, result.cited
    page = render_report(memory, Path(video).name, memory.latest_summary(), question, answer, cited)
    target = output or Path(video).with_suffix(".report.html")
    target.write_text(page, encoding="utf-8")
    typer.echo(str(target))
    if open_it:
        webbrowser.open(target.resolve().as_uri())
