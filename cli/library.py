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
    """List every indexed video (one line per memory; a video indexed with two settings has two)."""
    from longvid.config import store_root
    from longvid.memory.library import memories

    found = memories(store_root(str(store) if store else None))
    if as_json:
        for memory in found:
            emit_json(memory.to_dict())
        return
    if not found:
        report("note", "nothing indexed yet", "run: longvid index VIDEO")
        return
    rows = [
        (
            m.id,
            m.status,
            str(m.chunks),
            hms(m.duration or 0),
            m.settings.get("captioner", "?"),
            (m.paths or ["?"])[-1],
        )
        for m in found
    ]
    emit_table(rows, ("id", "status", "chunks", "length", "captioner", "last path"), indent="")
    for memory in found:
        if memory.problem:
            report(
                "warning", memory.problem.split(" — ")[0], "longvid index --force VIDEO rebuilds it"
            )


def info(
    videos: Annotated[
        list[str], typer.Argument(help="Video files, or '-' for stdin.", metavar="VIDEO...")
    ],
    store: Store = None,
    chunks: Annotated[bool, typer.Option("--chunks", help="Include every chunk's text.")] = False,
    as_json: AsJson = False,
) -> None:
    """Show what is indexed for a video (found by content, so renamed files still match)."""
    from longvid.config import store_root
    from longvid.errors import LongvidError
    from longvid.media.opening import check_readable
    from longvid.memory.fingerprint import fingerprint
    from longvid.memory.library import memories
    from longvid.memory.store import VideoMemory

    root = store_root(str(store) if store else None)

    def describe(path: str) -> dict[str, Any]:
        check_readable(path)
        video_id = fingerprint(path)
        found = memories(root, video_id)
        if not found:
            raise LongvidError(f"{path}: not indexed", f"run: longvid index {path}")
        out = []
        for summary in found:
            entry = summary.to_dict()
            memory = VideoMemory(Path(summary.folder))
            try:
                entry["transcript_source"] = memory.meta("transcript_source")
                entry["scan"] = memory.meta("scan")
                if chunks:
                    entry["chunks_detail"] = [
                        {"index": c.index, "start": c.start, "end": c.end, "text": c.text}
                        for c in memory.chunks()
                    ]
            finally:
                memory.close()
            out.append(entry)
        return {"video": path, "id": video_id, "memories": out}

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
        )
        for chunk in memory.get("chunks_detail", []):
            text = " ".join(chunk["text"].split())
            typer.echo(f"    [{hms(chunk['start'], 1)}–{hms(chunk['end'], 1)}] {text[:150]}")


def rebuild(store: Store = None) -> None:
    """Rebuild the library-wide index that search --all uses, from every complete memory."""
    from longvid.config import store_root
    from longvid.memory.library_index import LibraryIndex

    count = LibraryIndex(store_root(str(store) if store else None)).rebuild()
    typer.echo(f"library index rebuilt: {count} chunk vectors")
