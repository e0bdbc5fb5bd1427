"""``longvid eval``: accuracy on a multiple-choice video QA file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table
from longvid_cli.querying import (
    AsJson,
    Llm,
    Store,
    agent_for,
    embedder_for,
    load_llm,
    open_video_memory,
    root_of,
)


def evaluate(
    bench: Annotated[
        Path,
        typer.Argument(
            help="Benchmark file: common JSON/JSONL, EgoSchema, NExT-QA, Video-MME, LVBench, "
            "LongVideoBench or MLVU."
        ),
    ],
    videos: Annotated[
        Path | None, typer.Option(help="Folder the videos are in (default: beside the file).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    llm: Llm = None,
    captioner: Annotated[
        str | None, typer.Option(help="Video LLM for closer looks (default: the indexing one).")
    ] = None,
    inspect: Annotated[
        bool, typer.Option("--inspect/--no-inspect", help="Look again at the video when unsure.")
    ] = True,
    max_steps: Annotated[int, typer.Option(min=0, help="Most tool calls per question.")] = 6,
    agent: Annotated[
        bool,
        typer.Option("--agent/--no-agent", help="Agent steps, or one retrieval and one answer."),
    ] = True,
    max_frames: Annotated[
        int, typer.Option(min=1, help="Most frames inspected per question.")
    ] = 16,
    store: Store = None,
    as_json: AsJson = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run multiple-choice video QA: index each video once, answer (cached), print accuracy."""
    from tqdm import tqdm

    from longvid.models.registry import LoadOptions, load
    from longvid.pipeline.ask import AskOptions
    from longvid.pipeline.benchmarks import load_benchmark
    from longvid.pipeline.evaluate import evaluate as run_eval

    name, items = load_benchmark(bench, videos)
    items = items[:limit] if limit else items
    root = root_of(store)
    opened: dict[str, Any] = {}

    def memory_for(video: str) -> Any:
        if video not in opened:
            opened[video] = open_video_memory(video, root, index_first=True, quiet=quiet)
        return opened[video]

    first = memory_for(items[0].video)
    spec = captioner or first.meta("settings")["captioner"]
    looker = (
        load("captioner", spec, LoadOptions(frame_cap=max_frames))
        if inspect and spec != "none"
        else None
    )
    chat = load_llm(llm, looker)
    bar = tqdm(
        total=len(items),
        desc=f"{bench.name} ({name})",
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
    )
    report = run_eval(
        items,
        memory_for,
        lambda memory: embedder_for(memory.meta("settings")["embedder"], root),
        chat,
        looker,
        AskOptions(
            inspect=inspect,
            max_steps=max_steps,
            max_frames=max_frames,
            agent=agent_for(chat, agent),
        ),
        progress=lambda done, total: bar.update(done - bar.n),
    )
    bar.close()
    summary = report.to_dict()
    if as_json:
        emit_json({"benchmark": str(bench), "format": name, **summary})
        return
    typer.echo(
        f"{bench} ({name}): accuracy {summary['accuracy']:.1%} ({summary['correct']}/{summary['total']})"
    )
    rows = [
        (c, f"{v['accuracy']:.1%}", f"{v['correct']}/{v['total']}")
        for c, v in summary["categories"].items()
    ]
    emit_table(rows, ("category", "accuracy", "correct"))
    typer.echo(
        f"per question: {summary['mean_steps']} steps, {summary['mean_tokens']} LLM tokens, "
        f"{summary['mean_seconds']} s; frames {summary['mean_frames_captioned']} captioned, "
        f"{summary['mean_frames_inspected']} inspected; {summary['elapsed_s']} s in all"
    )
    if any("recall_at_5" in q for q in summary["questions"]):
        typer.echo(
            f"retrieval recall@5: {summary['recall_at_5']:.1%}; citation accuracy (a cited span "
            f"overlaps the reference): {summary['citation_accuracy']:.1%}; "
            f"mean cited-time error: {summary['mean_time_error_s']} s"
        )
