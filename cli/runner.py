"""What every command shares: reading video arguments, reporting errors, exit codes, progress."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer

from longvid.errors import LongvidError

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def debug_enabled() -> bool:
    """True when LONGVID_DEBUG asks for tracebacks."""
    return os.environ.get("LONGVID_DEBUG", "") not in ("", "0")


def expand_videos(videos: list[str]) -> list[str]:
    """Return the video paths; a single ``-`` means one path per line on stdin."""
    if videos == ["-"]:
        paths = [line.strip() for line in sys.stdin if line.strip()]
        if not paths:
            report_error(
                "no video paths on stdin", "pipe one path per line, e.g. ls *.mp4 | longvid …"
            )
            raise typer.Exit(EXIT_USAGE)
        return paths
    if "-" in videos:
        report_error("'-' must be the only video argument", "pass paths or '-', not both")
        raise typer.Exit(EXIT_USAGE)
    return videos


def report_error(what: str, fix: str = "") -> None:
    """Print one ``error: <what> — <fix>`` line on stderr (failures only: the exit code is not 0)."""
    typer.echo(f"error: {what} — {fix}" if fix else f"error: {what}", err=True)


def report(label: str, what: str, detail: str = "") -> None:
    """Print one ``warning:`` or ``note:`` line on stderr (the command still succeeds)."""
    typer.echo(f"{label}: {what} — {detail}" if detail else f"{label}: {what}", err=True)


class Batch:
    """Runs one piece of work per input; a failure is reported and the others still run."""

    def __init__(self) -> None:
        self.failures = 0
        self.errors: dict[str, str] = {}

    def run(self, items: list[str], work: Callable[[str], T]) -> Iterator[tuple[str, T]]:
        """Yield (item, result) for each item whose work succeeded."""
        for item, result in self.run_all(items, work):
            if result is not None:
                yield item, result

    def run_all(self, items: list[str], work: Callable[[str], T]) -> Iterator[tuple[str, T | None]]:
        """Yield (item, result) for every item; result is None on failure (see ``errors``)."""
        for item in items:
            try:
                result = work(item)
            except LongvidError as exc:
                if debug_enabled():
                    traceback.print_exc()
                self.fail(item, exc.what, exc.fix)
                yield item, None
                continue
            yield item, result

    def fail(self, item: str, what: str, fix: str = "") -> None:
        """Report one input's failure on its ``error:`` line and count it (the others go on)."""
        report_error(what, fix)
        self.failures += 1
        self.errors[item] = f"{what} — {fix}" if fix else what

    def exit(self) -> None:
        """Exit 1 if any input failed."""
        if self.failures:
            raise typer.Exit(EXIT_FAILED)


class Bars:
    """tqdm bars on stderr, one per stage ("decode", "chunks"; hidden with --quiet or off a terminal).

    ``update(stage, done, total)`` is the library's progress callback; ``decode`` counts seconds.
    """

    def __init__(self, name: str, quiet: bool) -> None:
        self.name = name
        self.enabled = not quiet and sys.stderr.isatty()
        self.bars: dict[str, Any] = {}

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *_: object) -> None:
        for bar in self.bars.values():
            bar.close()

    def update(self, stage: str, done: float, total: float | None) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage == "waiting":
            report("note", f"{self.name}: waiting for another longvid process indexing it…")
            return
        if stage not in self.bars:
            unit = {"decode": "s", "download": "B"}.get(stage, " chunks")
            self.bars[stage] = tqdm(desc=f"{self.name} {stage}", unit=unit, file=sys.stderr, leave=False,
                                    total=round(total, 1) if total else None)  # fmt: skip
        bar = self.bars[stage]
        if total:
            bar.total = round(max(total, done), 1)
        bar.n = round(done, 1) if stage == "decode" else int(done)  # download: bytes
        bar.refresh()


def guarded(command: Callable[..., T]) -> Callable[..., T]:
    """Wrap a command so a LongvidError becomes one ``error:`` line and exit code 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return command(*args, **kwargs)
        except LongvidError as exc:
            if debug_enabled():
                raise
            report_error(exc.what, exc.fix)
            raise typer.Exit(EXIT_FAILED) from None

    return run
