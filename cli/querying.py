"""What ask, search and summarize share: finding a video's memory and the models to read it."""

from __future__ import annotations

from functools import cache
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


def root_of(store: Path | None) -> Path:
    from longvid.config import store_root

    return store_root(str(store) if store else None)


def open_video_memory(video: str, root: Path, index_first: bool, quiet: bool = True) -> Any:
    """The video's memory; with ``index_first``, index it (default models) when missing."""
    from longvid.pipeline.retrieve import NotIndexedError, open_memory
    from longvid.pipeline.sources import local_video

    video = local_video(video, root, fetch=index_first)  # a URL: its download
    try:
        return open_memory(root, video)
    except NotIndexedError:
        if not index_first:
            raise
    from longvid_cli.index import load_index_models
    from longvid_cli.runner import Bars

    from longvid.pipeline.index import index_video

    with Bars(Path(video).name, quiet) as bars:
        index_video(
            video, load_index_models(None, None, None, None, None, None, root=root), root, progress=bars.update
        )
    return open_memory(root, video)


@cache
def embedder_for(spec: str, root: Path) -> Any:
    """The embedder a memory was built with (vectors only compare within one model).

    Queries use its ONNX copy in the store's model cache when there is one (no torch import).
    """
    from longvid.models.registry import load_query_embedder

    return load_query_embedder(spec, root / "models")


@cache
def visual_for(spec: str | None) -> Any:
    """The image–text encoder a memory's frames were embedded with (None if it has none)."""
    if not spec or spec == "none":
        return None
    from longvid.models.registry import load

    return load("visual_embedder", spec)


def load_llm(spec: str | None, captioner: Any = None) -> Any:
    """The answering LLM (reusing a loaded video LLM when the spec says ``captioner``)."""
    from longvid.config import setting
    from longvid.errors import LongvidError
    from longvid.models.registry import LoadOptions, load_chat

    llm = load_chat(spec, captioner, LoadOptions(device=setting("device")))
    if llm is None:
        raise LongvidError(
            "no answering LLM is available", "pass --llm (a hub id, .gguf file or openai:MODEL@URL)"
        )
    return llm


def agent_for(llm: Any, wanted: bool) -> bool:
    """Whether to run the agent: not with the packaged 135M stand-in, which cannot use tools."""
    if wanted and llm.info.details.get("stand_in"):
        from longvid_cli.runner import report

        report("note", "the packaged stand-in LLM answers in one step (it is too small to use "
               "tools)", "pass --llm with a capable model for the agent, or --no-agent to silence this")  # fmt: skip
        return False
    return wanted
