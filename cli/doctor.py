"""``longvid doctor``: does each configured model work on this machine, and if not, what fixes it."""

from __future__ import annotations

from typing import Annotated

import typer
from longvid_cli.output import emit_json, emit_table

CHANNELS = ("captioner", "llm", "embedder", "asr", "ocr", "visual_embedder")

Spec = Annotated[str | None, typer.Option(help="Model spec to check instead of the configured one.")]


def doctor(
    captioner: Spec = None,
    llm: Spec = None,
    embedder: Spec = None,
    asr: Spec = None,
    ocr: Spec = None,
    visual_embedder: Spec = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:1, mps.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Check this machine: CPU features, the llama.cpp build, and one small real call per channel.

    Each model runs in its own worker process, so one that crashes is reported (with the command
    that fixes it) and the other channels are still checked. Exit 1 if any channel fails.
    """
    from longvid.models.health import check_channel, cpu_report, llama_cpp_build

    given = {"captioner": captioner, "llm": llm, "embedder": embedder, "asr": asr, "ocr": ocr,
             "visual_embedder": visual_embedder}  # fmt: skip
    cpu, build = cpu_report(), llama_cpp_build()
    checks = [check_channel(c, given[c], device, captioner) for c in CHANNELS]
    failed = [c for c in checks if c.status == "error"]
    if as_json:
        emit_json({"cpu": cpu, "llama_cpp": build, "channels": [c.to_dict() for c in checks]})
    else:
        typer.echo(f"cpu: {cpu['model']} ({cpu['arch']}; {' '.join(cpu['features']) or '-'})")
        if build.get("installed"):
            kind = "portable" if build.get("portable") else "built for this CPU only"
            typer.echo(f"llama.cpp: {build.get('version', '?')}, {kind}")
            typer.echo(f"  {build.get('system_info', build.get('error', '')).strip()}")
        else:
            typer.echo("llama.cpp: not installed (pip install 'longvid[llamacpp]')")
        rows = [(c.channel, c.status, c.loaded or "-", f"{c.seconds:.2f} s" if c.seconds else "-")
                for c in checks]  # fmt: skip
        emit_table(rows, ("channel", "status", "model", "call"), indent="")
    for c in checks:
        if c.note and c.status != "ok":
            label = "error" if c.status == "error" else "note"
            typer.echo(f"{label}: {c.channel}: {c.note}" + (f" — {c.fix}" if c.fix else ""), err=True)
    if build.get("fix"):
        typer.echo(f"warning: llama.cpp: {build['fix']}", err=True)
    if failed:
        raise typer.Exit(1)
