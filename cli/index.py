"""``longvid index``: build the searchable memory of one or more videos."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json
from longvid_cli.runner import Bars, Batch, expand_videos, report
from longvid_cli.scenes import Detector


class Captions(StrEnum):
    """When the video LLM captions chunks (the engine's ``CAPTIONS``)."""

    all = "all"
    lazy = "lazy"
    background = "background"


Spec = Annotated[
    str | None, typer.Option(help="Model spec: hub id, directory, openai:MODEL@URL or none.")
]


def index(
    videos: Annotated[
        list[str],
        typer.Argument(
            help="Video files or http(s) URLs, or '-' to read them from stdin.", metavar="VIDEO..."
        ),
    ],
    captioner: Spec = None,
    asr: Spec = None,
    ocr: Spec = None,
    embedder: Spec = None,
    visual_embedder: Annotated[
        str | None,
        typer.Option(help="Image–text encoder for frames (SigLIP / CLIP spec, or none)."),
    ] = None,
    visual_every: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds between frames in the visual memory (default: 2 on CUDA, 8 on CPU).",
        ),
    ] = None,
    max_frames: Annotated[
        int | None, typer.Option(min=1, help="Most frames per chunk for the captioner.")
    ] = None,
    captions: Annotated[
        Captions | None,
        typer.Option(
            help="When the video LLM captions chunks: all (now), lazy (only the chunks a question "
            "needs, when it is asked; `index` again captions the rest) or background (lazy, then "
            "the rest in a background process while you ask). Default: LONGVID_CAPTIONS or all."
        ),
    ] = None,
    speakers: Annotated[
        str | None,
        typer.Option(
            help="Who speaks when: resemblyzer (default where installed and there is speech), "
            "a pyannote hub id or pipeline directory, or none. Runs after speech; on an indexed "
            "video it runs alone (nothing re-captioned or re-transcribed)."
        ),
    ] = None,
    detector: Annotated[Detector, typer.Option(help="PySceneDetect detector.")] = Detector.adaptive,
    threshold: Annotated[float | None, typer.Option(help="Detector threshold.")] = None,
    min_shot: Annotated[float, typer.Option(help="Minimum shot length in seconds.")] = 0.6,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:1, mps.")] = None,
    store: Annotated[
        Path | None, typer.Option(help="Store root (default: LONGVID_HOME or the user data dir).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild this memory from scratch.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what captioning each video would cost here; index nothing."),
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait for another process indexing the same video (default: forever)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per video per line.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            help="Index on Ray, one task per video: local (start Ray here), auto (join the "
            "cluster RAY_ADDRESS names) or a cluster address. The store must be shared.",
            metavar="ADDRESS",
        ),
    ] = None,
    ray_gpus: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="GPUs per video task (default: 1 when a local video LLM captions and the "
            "cluster has GPUs, else 0).",
        ),
    ] = None,
    ray_split: Annotated[
        float,
        typer.Option(
            min=0,
            help="With --ray: cut videos longer than this many seconds into parts of this "
            "length (at keyframes), indexed in parallel into one memory; 0: never.",
            metavar="SECONDS",
        ),
    ] = 7200.0,
) -> None:
    """Index videos: shots, chunks, captions, speech and on-screen text, in a searchable memory."""
    from longvid.engine import Engine
    from longvid.engine import index as index_one
    from longvid.media.shots import ShotOptions

    paths = expand_videos(videos)
    engine = Engine(store, captioner=captioner, asr=asr, ocr=ocr, embedder=embedder,
                    visual_embedder=visual_embedder, device=device, max_frames=max_frames,
                    visual_every=visual_every, speakers=speakers,
                    captions=captions.value if captions else None)  # fmt: skip
    shots = ShotOptions(detector.value, threshold, min_shot)
    if ray is not None:
        from longvid.distributed.ray_index import RayPlan, task_gpus

        plan = RayPlan(address=ray, gpus=ray_gpus, part_s=ray_split or None)
        plan = RayPlan(ray, gpus=task_gpus(plan, engine.resolved("captioner")), part_s=plan.part_s)
        options = engine.index_options(shots, gpu=bool(plan.gpus))
        _index_on_ray(paths, engine.choice(), options, engine.store, plan, force, wait, as_json, quiet)
        return
    models = engine.index_models()
    batch = Batch()
    if dry_run:
        _dry_run(paths, engine, shots, as_json, batch)
        return

    def run(path: str) -> Any:
        with Bars(Path(path).name, quiet) as bars:
            return index_one(path, engine, shots=shots, force=force, wait_s=wait,
                             progress=bars.update, join_library=False)  # fmt: skip

    for path, result in batch.run_all(paths, run):
        _print(path, result, batch.errors.get(path), as_json)
    _join_library(engine.store)
    pool = getattr(models.captioner, "pool", None)
    _report_endpoints(pool.stats() if pool is not None else [])
    batch.exit()


def _index_on_ray(paths: list[str], choice: Any, options: Any, root: Path, plan: Any, force: bool,
                  wait: float | None, as_json: bool, quiet: bool) -> None:  # fmt: skip
    """One Ray task per video; a bar over videos, then the same lines as a serial run."""
    import sys

    from tqdm import tqdm

    from longvid.distributed.ray_index import add_counts, index_on_ray
    from longvid.models.endpoints import endpoint_stats

    batch = Batch()
    bar = tqdm(total=len(paths), desc="videos", unit=" videos", file=sys.stderr,
               disable=quiet or not sys.stderr.isatty())  # fmt: skip
    used: dict[str, tuple[int, int, float]] = {}
    for outcome in index_on_ray(paths, choice, options, root, plan, force, wait):
        bar.update(1)
        used = add_counts(used, outcome.endpoints)
        if outcome.error is not None:
            batch.fail(outcome.video, *outcome.error)
        _print(outcome.video, outcome.result, batch.errors.get(outcome.video), as_json)
    bar.close()
    _join_library(root)
    _report_endpoints([endpoint_stats(url, *counts) for url, counts in used.items()])
    batch.exit()


def _dry_run(paths: list[str], engine: Any, shots: Any, as_json: bool, batch: Batch) -> None:
    """One line (or JSON object) per video: what captioning it would cost on this machine."""
    from longvid.engine import plan_index

    for path, plan in batch.run(paths, lambda p: plan_index(p, engine, shots)):
        if as_json:
            emit_json({k: v for k, v in plan.items() if k != "line"})
        else:
            typer.echo(f"{path}: {plan['line']}")
    batch.exit()


def _report_endpoints(stats: list[dict[str, Any]]) -> None:
    """With a pool of captioner servers, what each one did (all workers' requests together)."""
    for endpoint in stats if len(stats) > 1 else []:
        report("note", f"{endpoint['url']}: {endpoint['requests']} requests, {endpoint['failed']} "
               f"failed, {endpoint['requests_per_s']} requests/s while busy")  # fmt: skip


def _join_library(root: Path) -> None:
    """The batch's complete memories join the library index, in one write (search --all would
    catch up by itself, more slowly, if this fails)."""
    from longvid.errors import LongvidError
    from longvid.memory.library_index import LibraryIndex

    try:
        LibraryIndex(root).update()
    except LongvidError as exc:
        report("warning", f"the library index was not updated: {exc.what}", exc.fix)


def _print(path: str, result: Any, error: str | None, as_json: bool) -> None:
    """One video's outcome on stdout: its JSON object, or its line when it succeeded."""
    if as_json:
        emit_json(_json(path, result, error))
    elif result is not None:
        typer.echo(_line(result))


def _json(path: str, result: Any, error: str | None) -> dict[str, Any]:
    if result is None:
        return {"video": path, "id": None, "status": "error", "chunks": 0, "computed": 0, "uncaptioned": 0,
                "duration": None, "elapsed_s": None, "error": error}  # fmt: skip
    return {"video": path, "id": result.id, "status": result.status, "chunks": result.chunks,
            "computed": result.computed,  # captioned by this run; the rest resumed
            "uncaptioned": result.uncaptioned,  # captions still to come (--captions lazy)
            "duration": result.duration, "elapsed_s": round(result.elapsed_s, 2), "error": None,
            **({"speakers": found} if (found := _speakers(result)) is not None else {})}  # fmt: skip


def _speakers(result: Any) -> list[dict[str, Any]] | None:
    """The speakers found (None: the channel was off, and ``--json`` has no ``speakers``)."""
    found = getattr(result, "speakers", None)
    return [s.to_dict() for s in found.speakers] if found is not None else None


def _line(result: Any) -> str:
    found = getattr(result, "speakers", None)
    voices = ""
    if found is not None:
        count = len(found.speakers)
        voices = f"; {count} speaker{'s' * (count != 1)}"
        voices += f" found in {found.elapsed_s:.1f} s" if found.status == "found" else ""
    if result.status == "up-to-date":
        busy = found is not None and found.status == "found"
        return f"{result.video}: up to date ({result.chunks} chunks){voices}" + ("" if busy else ", nothing to do")
    resumed = result.chunks - result.computed
    extra = f", {resumed} resumed from an earlier run" if resumed else ""
    if result.uncaptioned:
        extra += f", {result.uncaptioned} captions to come (a question captions what it needs)"
    return f"{result.video}: indexed {result.chunks} chunks in {result.elapsed_s:.1f} s{extra}{voices}"
