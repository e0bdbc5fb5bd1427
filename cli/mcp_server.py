"""``longvid mcp``: the same library as the CLI, served to assistants over the Model Context Protocol.

Stdio by default (what desktop assistants launch), streamable HTTP with ``--http HOST:PORT``.
Models load once and stay warm across calls; indexing reports progress as MCP progress
notifications; errors come back as tool errors with the CLI's one-line text. Every video path is
resolved against the allowed roots (``--root``, default the working directory).

No ``from __future__ import annotations`` here: the SDK reads the tools' annotations, and
``Context`` is imported only when the server is built (so ``longvid --help`` stays fast).
"""

import io
from pathlib import Path
from typing import Annotated, Any

import typer


class Service:
    """What the tools share: allowed roots and the engine (models loaded once, thread-safe)."""

    def __init__(self, roots: list[Path], engine: Any) -> None:
        self.roots = [r.expanduser().resolve() for r in roots]
        self.engine = engine

    def video(self, given: str) -> str:
        """``given`` as a path inside an allowed root, else a LongvidError."""
        from longvid.errors import InputError
        from longvid.media.fetch import is_url

        if is_url(given):  # downloaded once into the store's media cache
            from longvid.pipeline.sources import local_video

            return local_video(given, self.engine.store)
        path = Path(given).expanduser()
        path = (path if path.is_absolute() else self.roots[0] / path).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            allowed = ", ".join(str(r) for r in self.roots)
            raise InputError(f"{given} is outside the allowed roots ({allowed})",
                             "move it there, or start longvid mcp with --root DIR")  # fmt: skip
        return str(path)

    def open(self, given: str) -> Any:
        from longvid.engine import Video

        return Video(self.video(given), self.engine)


def build_server(service: Service) -> Any:
    """The MCP server with longvid's tools (the official SDK's MCPServer)."""
    import anyio
    import anyio.lowlevel
    from mcp.server.mcpserver import Context, Image, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import Field

    from longvid.errors import LongvidError

    server = MCPServer(
        "longvid", instructions="Index long videos, then search, ask and summarise them."
    )

    def failing_as_tool_errors(work: Any) -> Any:
        try:
            return work()
        except LongvidError as exc:
            raise ToolError(f"{exc.what} — {exc.fix}" if exc.fix else exc.what) from None

    VideoArg = Annotated[str, Field(description="A video file (inside the allowed roots) or an http(s) URL.", min_length=1)]  # fmt: skip
    IndexedArg = Annotated[str, Field(description="An indexed video file (inside the allowed roots).", min_length=1)]  # fmt: skip
    TopK = Annotated[int, Field(description="How many moments to return.", ge=1, le=50)]

    @server.tool()
    async def index_video(video: VideoArg, ctx: Context) -> dict[str, Any]:
        """Index a video file or http(s) URL (shots, captions, speech, on-screen text)."""
        from longvid.engine import index

        loop = anyio.lowlevel.current_token()  # the worker thread reports back through it

        def progress(stage: str, done: float, total: float | None) -> None:
            if stage == "decode":
                anyio.from_thread.run(ctx.report_progress, done, total, "decoding", token=loop)

        def work() -> dict[str, Any]:
            result = index(service.video(video), service.engine, progress=progress)
            found = result.speakers.speakers if result.speakers is not None else None
            return {"video": result.video, "id": result.id, "status": result.status,
                    "chunks": result.chunks, "duration": result.duration,
                    "speakers": [s.to_dict() for s in found] if found is not None else None}  # fmt: skip

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def ask(
        video: IndexedArg,
        question: Annotated[str, Field(description="The question, in any words.", min_length=1, max_length=2000)],
        options: Annotated[list[str] | None, Field(description="Answer options for a multiple-choice question; the reply's \"choice\" is the letter picked.", max_length=10)] = None,
    ) -> dict[str, Any]:
        """Answer a question about an indexed video, with timestamped citations."""

        def work() -> dict[str, Any]:
            target = service.open(video)
            answer = target.ask(question, options=options or ())
            return {**answer.to_dict(target.path), "speakers": target.speakers_at(answer.cited)}

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def search(
        query: Annotated[str, Field(description="What to look for (words or a description).", min_length=1, max_length=500)],
        video: Annotated[str | None, Field(description="An indexed video; leave out to search every video.")] = None,
        top_k: TopK = 5,
        speaker: Annotated[str | None, Field(description="With a video: only moments where this speaker talks (an id like S2, or a given name).")] = None,
    ) -> list[dict[str, Any]]:
        """Find the moments matching a query in one indexed video, or in all of them."""
        from longvid.engine import library

        def work() -> list[dict[str, Any]]:
            if video is None:
                found = library(engine=service.engine).search(query, top_k)
            else:
                found = service.open(video).search(query, top_k, speaker=speaker)
            return [m.to_dict() for m in found]

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def summarize(
        video: IndexedArg,
        by_speaker: Annotated[bool, Field(description="Summarise each speaker's part instead.")] = False,
        language: Annotated[str | None, Field(description="Write in this language (name or code); default: the video's.")] = None,
    ) -> dict[str, Any]:
        """Summarise an indexed video: a whole-video summary and timed sections (or, by speaker,
        each speaker's part)."""

        def work() -> dict[str, Any]:
            target = service.open(video)
            if by_speaker:
                return {"video": video, "speakers": target.summarize_speakers(language)}
            return {"video": video, **target.summarize(language).to_dict()}

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def speakers(
        video: IndexedArg,
        names: Annotated[dict[str, str] | None, Field(description='Names to give, e.g. {"S2": "Dr. Ortiz"} (an empty name clears one).')] = None,
    ) -> dict[str, Any]:
        """Who speaks in an indexed video: each speaker's id, name, talk time and turns
        ([start, end] seconds), found from the audio first if not yet; names given are kept."""

        def work() -> dict[str, Any]:
            given = {k: (v or None) for k, v in (names or {}).items()}
            found = service.open(video).speakers(given)
            return {"video": video, "speakers": [s.to_dict() for s in found]}

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    def list_videos() -> list[dict[str, Any]]:
        """Every indexed video in the store (one entry per memory)."""
        from longvid.engine import library

        return [m.to_dict() for m in library(engine=service.engine).videos()]

    @server.tool()
    def video_info(video: VideoArg) -> dict[str, Any]:
        """A video's container facts (length, frame rate, streams) and what is indexed for it
        (the same object as `longvid info --json`)."""
        from longvid.engine import describe

        return dict(failing_as_tool_errors(lambda: describe(service.video(video), service.engine)))

    @server.tool()
    def get_frames(
        video: VideoArg,
        times: Annotated[list[float], Field(description="Times in seconds from the start (at most 16).", min_length=1, max_length=16)],
    ) -> list[Image]:
        """JPEG frames of a video at the given times (seconds), to look at yourself (at most 16)."""
        from PIL import Image as PILImage

        from longvid.media.frames import sample_frames

        def work() -> list[Image]:
            frames = sample_frames(service.video(video), times[:16], max_side=768)
            images = []
            for frame in frames:
                buffer = io.BytesIO()
                PILImage.fromarray(frame.image).save(buffer, format="JPEG", quality=85)
                images.append(Image(data=buffer.getvalue(), format="jpeg"))
            return images

        return list(failing_as_tool_errors(work))

    return server


def mcp(
    root: Annotated[
        list[Path] | None,
        typer.Option(
            help="A folder whose videos may be used (repeatable; default: the working directory)."
        ),
    ] = None,
    http: Annotated[
        str | None, typer.Option(help="Serve streamable HTTP on HOST:PORT instead of stdio.")
    ] = None,
    store: Annotated[
        Path | None, typer.Option(help="Store root (default: LONGVID_HOME or the user data dir).")
    ] = None,
    captioner: Annotated[str | None, typer.Option(help="Video LLM spec for indexing.")] = None,
    llm: Annotated[str | None, typer.Option(help="Answering LLM spec.")] = None,
    embedder: Annotated[str | None, typer.Option(help="Embedder spec for indexing.")] = None,
    asr: Annotated[str | None, typer.Option(help="Speech model spec for indexing.")] = None,
    ocr: Annotated[str | None, typer.Option(help="On-screen text reader for indexing.")] = None,
    speakers: Annotated[
        str | None, typer.Option(help="Speakers backend: resemblyzer, a pyannote pipeline, or none.")
    ] = None,
) -> None:
    """Serve longvid's tools to AI assistants over MCP (stdio, or --http HOST:PORT)."""
    try:
        import mcp as _sdk  # noqa: F401
    except ImportError:
        from longvid.errors import MissingDependencyError

        raise MissingDependencyError("mcp", "mcp") from None
    from longvid_cli.querying import engine_for

    engine = engine_for(store, captioner=captioner, llm=llm, embedder=embedder, asr=asr, ocr=ocr,
                        speakers=speakers)  # fmt: skip
    server = build_server(Service(root or [Path.cwd()], engine))
    if http is None:
        server.run("stdio")
        return
    host, _, port = http.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"--http wants HOST:PORT, e.g. 127.0.0.1:8765 (got {http})")
    server.run("streamable-http", host=host, port=int(port))
