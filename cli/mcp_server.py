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
    """What the tools share: allowed roots, the store, and models loaded once."""

    def __init__(self, roots: list[Path], store: Path, specs: dict[str, str | None]) -> None:
        self.roots = [r.expanduser().resolve() for r in roots]
        self.store = store
        self.specs = specs
        self._index_models: Any = None  # loaded on first use, then kept warm
        self._llm: Any = None

    def video(self, given: str) -> str:
        """``given`` as a path inside an allowed root, else a LongvidError."""
        from longvid.errors import InputError
        from longvid.media.fetch import is_url
        from longvid.pipeline.sources import local_video

        if is_url(given):  # downloaded once into the store's media cache
            return local_video(given, self.store)
        path = Path(given).expanduser()
        path = (path if path.is_absolute() else self.roots[0] / path).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            allowed = ", ".join(str(r) for r in self.roots)
            raise InputError(f"{given} is outside the allowed roots ({allowed})",
                             "move it there, or start longvid mcp with --root DIR")  # fmt: skip
        return str(path)

    def index_models(self) -> Any:
        from longvid_cli.index import load_index_models

        if self._index_models is None:
            s = self.specs
            self._index_models = load_index_models(
                s["captioner"], s["asr"], s["ocr"], s["embedder"], None, None
            )
        return self._index_models

    def llm(self) -> Any:
        from longvid_cli.querying import load_llm

        if self._llm is None:
            self._llm = load_llm(self.specs["llm"])
        return self._llm

    def memory(self, video: str) -> Any:
        from longvid.pipeline.retrieve import open_memory

        return open_memory(self.store, self.video(video))

    def embedder(self, memory: Any) -> Any:
        return self.embedder_for_spec(memory.meta("settings")["embedder"])

    def embedder_for_spec(self, spec: str) -> Any:
        from longvid_cli.querying import embedder_for

        return embedder_for(spec, self.store)


def build_server(service: Service) -> Any:
    """The MCP server with longvid's tools (the official SDK's MCPServer)."""
    import anyio
    import anyio.lowlevel
    from mcp.server.mcpserver import Context, Image, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from longvid.errors import LongvidError

    server = MCPServer(
        "longvid", instructions="Index long videos, then search, ask and summarise them."
    )

    def failing_as_tool_errors(work: Any) -> Any:
        try:
            return work()
        except LongvidError as exc:
            raise ToolError(f"{exc.what} — {exc.fix}" if exc.fix else exc.what) from None

    @server.tool()
    async def index_video(video: str, ctx: Context) -> dict[str, Any]:
        """Index a video file or http(s) URL (shots, captions, speech, on-screen text)."""
        from longvid.pipeline.index import index_video as run_index

        loop = anyio.lowlevel.current_token()  # the worker thread reports back through it

        def progress(stage: str, done: float, total: float | None) -> None:
            if stage == "decode":
                anyio.from_thread.run(ctx.report_progress, done, total, "decoding", token=loop)

        def work() -> dict[str, Any]:
            result = run_index(service.video(video), service.index_models(), service.store,
                               progress=progress)  # fmt: skip
            return {"video": result.video, "id": result.id, "status": result.status,
                    "chunks": result.chunks, "duration": result.duration}  # fmt: skip

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def ask(video: str, question: str) -> dict[str, Any]:
        """Answer a question about an indexed video, with timestamped citations."""
        from longvid.pipeline.ask import AskOptions
        from longvid.pipeline.ask import ask as answer

        def work() -> dict[str, Any]:
            memory = service.memory(video)
            llm = service.llm()
            options = AskOptions(agent=not llm.info.details.get("stand_in"))  # as the CLI does
            result = answer(service.video(video), question, memory, service.embedder(memory), llm,
                            None, options)  # fmt: skip
            return dict(result.to_dict(service.video(video)))

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def search(query: str, video: str | None = None) -> list[dict[str, Any]]:
        """Find the moments matching a query in one indexed video, or in all of them."""
        from longvid.pipeline.search import search_library, search_memory

        def work() -> list[dict[str, Any]]:
            if video is None:
                found = search_library(service.store, query, 5, service.embedder_for_spec)
            else:
                memory = service.memory(video)
                found = search_memory(memory, service.embedder(memory), query, 5)
            return [m.to_dict() for m in found]

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    async def summarize(video: str) -> dict[str, Any]:
        """Summarise an indexed video: a whole-video summary and timed sections."""
        from longvid.pipeline.summarize import summarize_memory

        def work() -> dict[str, Any]:
            result = summarize_memory(service.memory(video), service.llm())
            return {"video": video, "summary": result.summary, "sections": result.sections}

        return await anyio.to_thread.run_sync(failing_as_tool_errors, work)

    @server.tool()
    def list_videos() -> list[dict[str, Any]]:
        """Every indexed video in the store (one entry per memory)."""
        from longvid.memory.library import memories

        return [m.to_dict() for m in memories(service.store)]

    @server.tool()
    def video_info(video: str) -> dict[str, Any]:
        """A video's container facts (length, frame rate, streams) and what is indexed for it."""
        from longvid.media.probe import probe
        from longvid.memory.fingerprint import fingerprint
        from longvid.memory.library import memories

        def work() -> dict[str, Any]:
            path = service.video(video)
            found = memories(service.store, fingerprint(path))
            return {
                "video": path,
                "probe": probe(path).to_dict(),
                "memories": [m.to_dict() for m in found],
            }

        return dict(failing_as_tool_errors(work))

    @server.tool()
    def get_frames(video: str, times: list[float]) -> list[Image]:
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
) -> None:
    """Serve longvid's tools to AI assistants over MCP (stdio, or --http HOST:PORT)."""
    try:
        import mcp as _sdk  # noqa: F401
    except ImportError:
        from longvid.errors import MissingDependencyError

        raise MissingDependencyError("mcp", "mcp") from None
    from longvid_cli.querying import root_of

    specs = {"captioner": captioner, "llm": llm, "embedder": embedder, "asr": asr, "ocr": ocr}
    server = build_server(Service(root or [Path.cwd()], root_of(store), specs))
    if http is None:
        server.run("stdio")
        return
    host, _, port = http.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"--http wants HOST:PORT, e.g. 127.0.0.1:8765 (got {http})")
    server.run("streamable-http", host=host, port=int(port))
