"""``longvid list`` and ``longvid info``: what the store holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table
from longvid_cli.runner import Batch, expand_videos, report

from longvid.timeline import hms

Store = Annotated[
    Path | None, typer.Option(help="Store root (default: LONGVID_HOME or the user data dir).")
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON output (one object per line).")]


def list_memories(store: Store = None, as_json: AsJson = False) -> None:
    """List every indexed video (one line per memory; a video indexed with two settings has two,
    and ``differs`` says which settings tell them apart)."""
    from longvid.engine import library

    found = library(store).videos()
    differs = _differences(found)
    if as_json:
        for memory in found:
            emit_json({**memory.to_dict(), "differs": differs.get(memory.folder, {})})
        return
    if not found:
        report("note", "nothing indexed yet", "run: longvid index VIDEO")
        return
    rows = [
        (m.id, m.status, str(m.chunks), hms(m.duration or 0), m.settings.get("captioner", "?"),
         (m.paths or ["?"])[-1], " ".join(f"{k}={v}" for k, v in differs.get(m.folder, {}).items()))
        for m in found
    ]  # fmt: skip
    emit_table(rows, ("id", "status", "chunks", "length", "captioner", "last path", "differs"),
               indent="")  # fmt: skip
    for memory in found:
        if memory.problem:
            report(
                "warning", memory.problem.split(" — ")[0], "longvid index --force VIDEO rebuilds it"
            )


def _flat(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _differences(found: list[Any]) -> dict[str, dict[str, Any]]:
    """For each memory of a video with several, the settings whose values differ between them."""
    by_video: dict[str, list[Any]] = {}
    for memory in found:
        by_video.setdefault(memory.id, []).append(memory)
    out = {}
    for group in (g for g in by_video.values() if len(g) > 1):
        flats = [_flat(m.settings) for m in group]
        keys = sorted({k for f in flats for k in f if len({str(g.get(k)) for g in flats}) > 1})
        for memory, flat in zip(group, flats, strict=True):
            out[memory.folder] = {k: flat.get(k) for k in keys}
    return out


def prune(
    store: Store = None,
    yes: Annotated[bool, typer.Option("--yes", help="Delete them (without it: only list).")] = False,
) -> None:
    """Remove memories no current setting would open: older memories of a video that has a newer
    complete one, incomplete leftovers beside a complete one, and damaged ones. Lists them first;
    deletes nothing without --yes."""
    from longvid.engine import library

    videos = library(store)
    stale = videos.stale()
    if not stale:
        typer.echo("nothing to prune")
        return
    verb = "deleting" if yes else "would delete"
    for m in stale:
        typer.echo(f"{verb} {m.folder}  ({m.status}, {m.chunks} chunks, {(m.paths or ['?'])[-1]})")
    if yes:
        videos.prune(stale)
    else:
        report("note", f"{len(stale)} memories can go", "run longvid prune --yes to delete them")


def info(
    videos: Annotated[
        list[str], typer.Argument(help="Video files, or '-' for stdin.", metavar="VIDEO...")
    ],
    store: Store = None,
    chunks: Annotated[bool, typer.Option("--chunks", help="Include every chunk's text.")] = False,
    as_json: AsJson = False,
) -> None:
    """Show what is indexed for a video (found by content, so renamed files still match)."""
    from longvid.engine import Engine
    from longvid.engine import describe as describe_video
    from longvid.errors import LongvidError
    from longvid.media.opening import check_readable

    engine = Engine(store)

    def describe(path: str) -> dict[str, Any]:
        check_readable(path)
        result = describe_video(path, engine, chunks)
        if not result["memories"]:
            raise LongvidError(f"{path}: not indexed", f"run: longvid index {path}")
        return result

    batch = Batch()
    for _, result in batch.run(expand_videos(videos), describe):
        if as_json:
            emit_json(result)
        else:
            _print_info(result)
    batch.exit()


def _print_info(result: dict[str, Any]) -> None:
    typer.echo(f"{result['video']}  (id {result['id']})")
    for memory in result["memories"]:
        settings = memory["settings"]
        typer.echo(
            f"  memory {memory['settings_key']}: {memory['status']}, {memory['chunks']} chunks, "
            f"{hms(memory['duration'] or 0)}; captioner {settings.get('captioner')}, "
            f"speech {memory.get('transcript_source')}, ocr {settings.get('ocr')}, "
            f"max {settings.get('budget', {}).get('max_frames')} frames/chunk"
            + (f"; {waiting} captions to come" if (waiting := memory.get("uncaptioned")) else "")
        )
        for chunk in memory.get("chunks_detail", []):
            text = " ".join(chunk["text"].split())
            typer.echo(f"    [{hms(chunk['start'], 1)}–{hms(chunk['end'], 1)}] {text[:150]}")


def rebuild(store: Store = None) -> None:
    """Rebuild the library-wide index that search --all uses, from every complete memory."""
    from longvid.engine import library

    count = library(store).rebuild()
    typer.echo(f"library index rebuilt: {count} chunk vectors")
