"""``longvid scenes``: list the shots of one or more videos."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_csv, emit_json, emit_table
from longvid_cli.runner import Bars, Batch, expand_videos

from longvid.timeline import hms


class Detector(StrEnum):
    adaptive = "adaptive"
    content = "content"
    hash = "hash"


def scenes(
    videos: Annotated[
        list[str],
        typer.Argument(help="Video files, or '-' to read paths from stdin.", metavar="VIDEO..."),
    ],
    detector: Annotated[
        Detector, typer.Option(help="PySceneDetect detector.", envvar="LONGVID_DETECTOR")
    ] = Detector.adaptive,
    threshold: Annotated[
        float | None, typer.Option(help="Detector threshold (default: the detector's own).")
    ] = None,
    min_shot: Annotated[float, typer.Option(help="Minimum shot length in seconds.")] = 0.6,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per video per line.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV rows: video,index,start,end,duration.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Detect shots and print them (text table, --json or --csv)."""
    from longvid.media.shots import ShotOptions, ShotScan

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    options = ShotOptions(detector=detector.value, threshold=threshold, min_shot_s=min_shot)

    def detect(path: str) -> dict[str, Any]:
        from longvid.config import store_root
        from longvid.pipeline.sources import local_video

        with Bars(Path(path).name, quiet) as bars:
            local = local_video(
                path, store_root(), progress=lambda d, t: bars.update("download", d, t)
            )
            scan = ShotScan(
                local, options, progress=lambda done, total: bars.update("decode", done, total)
            )
            shots = [shot for shot, _ in scan]
        return {
            "video": path,
            "duration": round(scan.duration, 3),
            "fps": scan.info.fps,
            "variable_frame_rate": scan.info.variable_frame_rate,
            "frames": scan.frames_decoded,
            "scenes": [
                {"index": s.index, "start": round(s.start, 3), "end": round(s.end, 3)}
                for s in shots
            ],
        }

    batch = Batch()
    for number, (_, result) in enumerate(batch.run(expand_videos(videos), detect)):
        if as_json:
            emit_json(result)
        elif as_csv:
            emit_csv(_csv_rows(result), header=_CSV_HEADER if number == 0 else None)
        else:
            _print_table(result)
    batch.exit()


_CSV_HEADER = ("video", "index", "start", "end", "duration")


def _csv_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (result["video"], s["index"], s["start"], s["end"], round(s["end"] - s["start"], 3))
        for s in result["scenes"]
    ]


def _print_table(result: dict[str, Any]) -> None:
    shots = result["scenes"]
    vfr = ", variable frame rate" if result["variable_frame_rate"] else ""
    typer.echo(
        f"{result['video']}  ({hms(result['duration'], 1)}, {result['fps']:g} fps{vfr}, "
        f"{len(shots)} shot{'s' if len(shots) != 1 else ''})"
    )
    rows = [
        (str(s["index"]), hms(s["start"], 1), hms(s["end"], 1), f"{s['end'] - s['start']:.1f}s")
        for s in shots
    ]
    emit_table(rows, header=("#", "start", "end", "length"))
