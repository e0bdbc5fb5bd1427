"""The ``longvid`` command: a typer app whose commands live in sibling modules."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Annotated

import typer
from longvid_cli import (
    ask,
    clip,
    doctor,
    evaluate,
    index,
    library,
    mcp_server,
    models,
    report,
    scenes,
    speakers,
)
from longvid_cli.runner import EXIT_FAILED, debug_enabled, guarded, report_error

from longvid import __version__
from longvid.crashes import record_crashes
from longvid.errors import LongvidError

app = typer.Typer(
    name="longvid",
    help="Answer questions about long videos: shots, captions, a searchable memory, cited answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("scenes")(guarded(scenes.scenes))
app.command("index")(guarded(index.index))
app.command("ask")(guarded(ask.ask))
app.command("search")(guarded(ask.search))
app.command("summarize")(guarded(ask.summarize))
app.command("report")(guarded(report.report))
app.command("clip")(guarded(clip.clip))
app.command("mcp")(guarded(mcp_server.mcp))
app.command("eval")(guarded(evaluate.evaluate))
app.command("list")(guarded(library.list_memories))
app.command("info")(guarded(library.info))
app.command("prune")(guarded(library.prune))
app.command("models")(guarded(models.models))
app.command("speakers")(guarded(speakers.speakers))
app.command("doctor")(guarded(doctor.doctor))
library_app = typer.Typer(help="The library-wide index behind search --all.", no_args_is_help=True)
library_app.command("rebuild")(guarded(library.rebuild))
app.add_typer(library_app, name="library")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"longvid {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """longvid: ask questions about long videos."""
    _show_library_messages()


class _LabelledStderr(logging.Handler):
    """Library log records as ``warning: ...`` or ``note: ...`` lines on stderr (never ``error:``)."""

    def emit(self, record: logging.LogRecord) -> None:
        label = "note" if record.levelno < logging.WARNING else "warning"
        typer.echo(f"{label}: {record.getMessage()}", err=True)


def _show_library_messages() -> None:
    """The library logs warnings and notes (e.g. a model stand-in); show each as one line."""
    logger = logging.getLogger("longvid")
    if not any(isinstance(h, _LabelledStderr) for h in logger.handlers):
        logger.addHandler(_LabelledStderr())
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not debug_enabled():  # libraries' own chatter (faiss: "Loading faiss with AVX2 support")
        for noisy in ("faiss", "faiss.loader", "httpx", "onnxruntime"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    """Run the command. Unexpected errors become one line (traceback with LONGVID_DEBUG=1)."""
    record_crashes()
    try:
        app(prog_name="longvid")
    except LongvidError as exc:
        if debug_enabled():
            raise
        report_error(exc.what, exc.fix)
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # the last line of defence: no traceback for users
        if debug_enabled():
            traceback.print_exc()
        else:
            report_error(
                f"unexpected {type(exc).__name__}: {exc}",
                "rerun with LONGVID_DEBUG=1 and report it",
            )
        sys.exit(EXIT_FAILED)
