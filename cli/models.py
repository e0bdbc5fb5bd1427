"""``longvid models``: which model each channel uses, and (with --check) whether it loads."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table

from longvid.errors import LongvidError

CHANNELS = ("captioner", "llm", "embedder", "asr", "ocr", "visual_embedder")

Spec = Annotated[str | None, typer.Option(help="Model spec (see --help of this command).")]


def models(
    captioner: Spec = None,
    llm: Spec = None,
    embedder: Spec = None,
    asr: Spec = None,
    ocr: Spec = None,
    visual_embedder: Spec = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:1, mps.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Load each model to see that it works.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Show the model behind each channel.

    A spec is a hub id, a local directory, a .gguf file, openai:MODEL@BASE_URL, or none.
    Flags win over LONGVID_* variables, which win over the config file, which wins over defaults.
    """
    from longvid.config import setting
    from longvid.models.registry import LoadOptions, load, load_chat, resolve

    options = LoadOptions(device=setting("device", device), frame_cap=int(setting("max_frames")))
    given = {"captioner": captioner, "llm": llm, "embedder": embedder, "asr": asr, "ocr": ocr,
             "visual_embedder": visual_embedder}  # fmt: skip
    report: dict[str, dict[str, Any]] = {}
    loaded: dict[str, Any] = {}
    for channel in CHANNELS:
        spec, explicit = resolve(channel, given[channel], options)
        entry: dict[str, Any] = {"spec": spec, "chosen_by": "you" if explicit else "default"}
        if check:
            if channel == "llm":  # may reuse the loaded captioner
                loader = lambda: load_chat(llm, loaded.get("captioner"), options)  # noqa: E731
            else:
                loader = lambda c=channel: load(c, given[c], options)  # type: ignore[misc]  # noqa: E731
            entry.update(_try_load(loader, loaded, channel))
        report[channel] = entry
    if as_json:
        emit_json({"device": options.device or "auto", "channels": report})
        return
    header = ("channel", "spec", "chosen by", *(("status", "loaded") if check else ()))
    rows = [
        (name, e["spec"], e["chosen_by"], *((e["status"], e["loaded"] or "-") if check else ()))
        for name, e in report.items()
    ]
    emit_table(rows, header, indent="")
    for name, e in report.items():
        if e.get("status") == "error":
            typer.echo(f"error: {name}: {e['note']}", err=True)
    if check and any(e.get("status") == "error" for e in report.values()):
        raise typer.Exit(1)


def _try_load(loader: Any, loaded: dict[str, Any], channel: str) -> dict[str, Any]:
    """Load a model; status is ok, stand-in (a packaged model replaced the default), off or error."""
    notes: list[str] = []
    handler = _ListHandler(notes)
    logger = logging.getLogger("longvid")
    logger.addHandler(handler)
    try:
        model = loader()
    except LongvidError as exc:
        return {"status": "error", "loaded": None, "note": str(exc)}
    finally:
        logger.removeHandler(handler)
    note = notes[-1] if notes else None
    loaded[channel] = model
    if model is None:
        return {"status": "off", "loaded": None, "note": note}
    status = "stand-in" if note else "ok"
    return {
        "status": status,
        "loaded": model.info.spec,
        "backend": model.info.backend,
        "note": note,
    }


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())
