"""Writing results to stdout: JSON lines, CSV and aligned text tables."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

import typer


def emit_json(document: dict[str, Any]) -> None:
    """Print one JSON document on one line (so many videos make JSON Lines)."""
    typer.echo(json.dumps(document, ensure_ascii=False))


def emit_csv(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> None:
    """Print CSV rows (and a header row when given) to stdout."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    sys.stdout.flush()


def emit_table(rows: Sequence[Sequence[str]], header: Sequence[str], indent: str = "  ") -> None:
    """Print left-aligned columns sized to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=True)]
        typer.echo(indent + "  ".join(cells).rstrip())
