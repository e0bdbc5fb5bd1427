"""``longvid models``: which model each channel uses, and (with --check) whether it works."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table

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
        bool, typer.Option("--check", help="Load each model and make one small call with it.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Show the model behind each channel.

    A spec is a hub id, a local directory, a .gguf file, openai:MODEL@BASE_URL, or none.
    Flags win over LONGVID_* variables, which win over the config file, which wins over defaults.
    With --check, each model is loaded in its own worker process (as longvid doctor does).
    """
    from longvid.engine import Engine

    given = {"captioner": captioner, "llm": llm, "embedder": embedder, "asr": asr, "ocr": ocr,
             "visual_embedder": visual_embedder}  # fmt: skip
    engine = Engine(None, device=device, captioner=captioner, llm=llm, embedder=embedder, asr=asr,
                    ocr=ocr, visual_embedder=visual_embedder)  # fmt: skip
    report: dict[str, dict[str, Any]] = engine.channels()
    if check:
        from longvid.models.health import check_channel

        for channel, entry in report.items():
            health = check_channel(channel, given[channel], device, captioner)
            entry.update(status=health.status, loaded=health.loaded, backend=health.backend,
                         note=" — ".join(t for t in (health.note, health.fix) if t) or None)  # fmt: skip
    if as_json:
        emit_json({"device": engine.device or "auto", "channels": report})
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
