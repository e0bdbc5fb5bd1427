"""What ask, search, summarize, clip and report share: the engine, and the video's memory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Store = Annotated[
    Path | None, typer.Option(help="Store root (default: LONGVID_HOME or the user data dir).")
]
Llm = Annotated[
    str | None, typer.Option(help="Answering LLM spec (default: by device; see longvid models).")
]
IndexFirst = Annotated[
    bool, typer.Option("--index", help="Index the video first if it is not indexed.")
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON output (one object per line).")]


def engine_for(store: Path | None, **specs: Any) -> Any:
    """The engine for this command's flags (every other setting from env, config or default)."""
    from longvid.engine import Engine

    return Engine(store, **specs)


def open_video(video: str, engine: Any, index_first: bool = False, quiet: bool = True) -> Any:
    """The indexed video; with ``index_first``, index it (the engine's models) when it is not."""
    from longvid_cli.runner import Bars

    from longvid.engine import Video, index
    from longvid.memory.library import NotIndexedError

    try:
        return Video(video, engine)
    except NotIndexedError:
        if not index_first:
            raise
    with Bars(Path(video).name, quiet) as bars:
        index(video, engine, progress=bars.update)
    return Video(video, engine)
