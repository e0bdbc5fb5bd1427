"""``longvid eval``: a video QA benchmark, read as published and scored as its authors score it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json, emit_table
from longvid_cli.querying import AsJson, Llm, Store
from longvid_cli.runner import report

FORMATS = "common, egoschema, videomme, videomme_v2, longvideobench, mlvu, nextqa, lvbench"


def evaluate(
    bench: Annotated[
        Path,
        typer.Argument(
            help="Benchmark file as published: EgoSchema questions.json or subset_answers.json, "
            "Video-MME parquet, LongVideoBench lvb_val.json / lvb_test_wo_gt.json, an MLVU json "
            "file or its json/ folder, NExT-QA val.csv / test.csv, LVBench video_info.meta.jsonl, "
            "or the common JSON/JSONL format."
        ),
    ],
    videos: Annotated[
        Path | None, typer.Option(help="Folder the videos are in (default: the published layout).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help=f"Benchmark format ({FORMATS}); default: detected."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="N questions drawn at random (see --seed).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for --sample.")] = 0,
    subtitles: Annotated[
        bool,
        typer.Option(
            "--subtitles/--no-subtitles",
            help="Index with the benchmark's own subtitles (Video-MME, LongVideoBench): the "
            "published 'w/ subs' setting. Without, speech comes from the audio as usual.",
        ),
    ] = False,
    submission: Annotated[
        Path | None,
        typer.Option(
            help="Write the predictions in the file shape the authors take. Splits without public "
            "answers (EgoSchema, LongVideoBench test) are always written, by default to the "
            "authors' file name in the current directory."
        ),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Answer every question both ways on the same memory, the engine's way (with "
            "tool steps as --agent or the model's size decides) and the plain one-retrieval "
            "baseline, and print them side by side per category.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Index this many videos at once before answering (the models are loaded once "
            "and shared; it pays with a captioner server, whose requests then overlap).",
        ),
    ] = 1,
    judge: Annotated[
        str | None,
        typer.Option(
            help="LLM that scores MLVU's open-ended answers (sub_scene, summary) on the authors' "
            "criteria (they used GPT-4-turbo); without it those answers are kept, unscored."
        ),
    ] = None,
    llm: Llm = None,
    captioner: Annotated[
        str | None, typer.Option(help="Video LLM for closer looks (default: the indexing one).")
    ] = None,
    inspect: Annotated[
        bool, typer.Option("--inspect/--no-inspect", help="Look again at the video when unsure.")
    ] = True,
    max_steps: Annotated[int, typer.Option(min=0, help="Most tool calls per question.")] = 6,
    agent: Annotated[
        bool | None,
        typer.Option(
            "--agent/--no-agent",
            help="--agent: tool steps after the first answer; --no-agent: the plain baseline "
            "(one retrieval, one answer, no engine checks). Default: as `ask` decides for the "
            "model (see `longvid ask --help`).",
        ),
    ] = None,
    max_frames: Annotated[
        int, typer.Option(min=1, help="Most frames inspected per question.")
    ] = 16,
    store: Store = None,
    as_json: AsJson = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Answer a benchmark's questions (each video indexed once, answers cached) and score them."""
    from longvid.pipeline.ask import AskOptions
    from longvid.pipeline.benchmarks import FORMATS as READERS
    from longvid.pipeline.benchmarks import read_benchmark, select

    if compare and agent is False:
        raise typer.BadParameter("--compare answers with the plain baseline itself: leave out --no-agent")
    benchmark = read_benchmark(bench, videos, fmt)
    for note in benchmark.notes:
        report("note", note)
    items = select(benchmark.items, limit, sample, seed)
    if not items:
        raise typer.Exit(0)
    models = _Models(store, captioner, llm, inspect, max_frames, quiet)
    memory_for = models.memories(items, subtitles)
    if workers > 1:
        models.index_all(items, subtitles, workers)
    looker, chat = models.answering(items, memory_for)
    reader = READERS[benchmark.format]
    # --compare: the engine's way (tool steps by the model's size, or as --agent asks) against
    # the plain baseline; else the way asked, or the default's
    engine_way = models.engine.answer_way(chat, agent, max_steps)
    runs = {"agent": engine_way, "baseline": (False, 0)} if compare else {"agent": engine_way}
    results = {}
    for name, (checks, steps) in runs.items():
        options = AskOptions(inspect=inspect, max_steps=steps, max_frames=max_frames, agent=checks)
        outcome = _run(
            items,
            memory_for,
            models,
            chat,
            looker,
            options,
            f"{bench.name} ({benchmark.format})",
            quiet,
        )
        if judge and name == "agent":
            from longvid.pipeline.evaluate import judge_open_ended

            judge_open_ended(outcome.records, memory_for, models.judge(judge))
        results[name] = (outcome, reader.score(outcome.records))
    outcome, scores = results["agent"]
    summary = {"benchmark": str(bench), "format": benchmark.format, "split": benchmark.split,
               "subtitles": subtitles, **outcome.to_dict(scores)}  # fmt: skip
    if compare:
        summary["compare"] = {name: _compared(o) for name, (o, _) in results.items()}
    summary["submission"] = _write_submission(reader, benchmark, outcome.records, submission)
    if as_json:
        emit_json(summary)
    else:
        _print(summary, benchmark.title)
    if outcome.skipped:
        raise typer.Exit(1)


class _Models:
    """All of eval's model wiring, through the engine: the memories (each video indexed once, with
    the engine's models when it is not yet), the video LLM for closer looks and the answering LLM.
    With ``subtitles``, a benchmark's own subtitles go in as the sidecar of a link to the video, in
    a store of their own under the store (``eval/subtitled``: a memory with the same models but
    other speech), indexed without speech recognition."""

    def __init__(self, store: Path | None, captioner: str | None, llm: str | None, inspect: bool,
                 max_frames: int, quiet: bool) -> None:  # fmt: skip
        from longvid.engine import Engine

        self.engine = Engine(store, captioner=captioner, llm=llm, max_frames=max_frames)
        self.subtitled = Engine(self.engine.store / "eval" / "subtitled", asr="none",
                                captioner=captioner, llm=llm, max_frames=max_frames)  # fmt: skip
        self.inspect, self.quiet = inspect, quiet

    def memories(self, items: list[Any], subtitles: bool, keep_open: int = 8) -> Any:
        """video -> its memory; the last ``keep_open`` stay open (a benchmark has hundreds)."""
        from collections import OrderedDict

        from longvid.pipeline.benchmarks.subtitles import staged_video

        with_subtitles = {i.video: i for i in items if subtitles and i.subtitles}
        opened: OrderedDict[str, Any] = OrderedDict()

        def memory_for(video: str) -> Any:
            if video not in opened:
                item = with_subtitles.get(video)
                path = staged_video(item, self.subtitled.store / "links") if item else video
                opened[video] = self._memory(path, item is not None)
                while len(opened) > keep_open:
                    opened.popitem(last=False)[1].close()
            opened.move_to_end(video)
            return opened[video]

        return memory_for

    def index_all(self, items: list[Any], subtitles: bool, workers: int) -> None:
        """Index every video not yet indexed, ``workers`` at a time; a video that fails is left
        for the answering pass to report as a skip."""
        import contextlib
        from concurrent.futures import ThreadPoolExecutor

        from tqdm import tqdm

        from longvid.errors import LongvidError
        from longvid.pipeline.benchmarks.subtitles import staged_video

        videos = {i.video: i for i in items if Path(i.video).is_file()}

        def one(item: Any) -> None:
            subtitled = bool(subtitles and item.subtitles)
            path = staged_video(item, self.subtitled.store / "links") if subtitled else item.video
            with contextlib.suppress(LongvidError, OSError):  # reported by the answering pass
                self._memory(path, subtitled, quiet=True).close()

        self.engine.index_models()  # load once, before the threads share them
        bar = tqdm(total=len(videos), desc="indexing", file=sys.stderr,
                   disable=self.quiet or not sys.stderr.isatty())  # fmt: skip
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(one, videos.values()):
                bar.update(1)
        bar.close()

    def _memory(self, video: str, subtitled: bool, quiet: bool | None = None) -> Any:
        from longvid_cli.runner import Bars

        from longvid.engine import index
        from longvid.errors import LongvidError
        from longvid.memory.store import VideoMemory

        if not Path(video).is_file():
            raise LongvidError(
                f"no such file: {video}", "check the benchmark's video folder (--videos)"
            )
        engine = self.subtitled if subtitled else self.engine
        with Bars(Path(video).name, self.quiet if quiet is None else quiet) as bars:
            result = index(video, engine, progress=bars.update)  # up to date: opens at once
        return VideoMemory(Path(result.memory))

    def judge(self, spec: str) -> Any:
        """The judging LLM (any spec ``--llm`` takes)."""
        from longvid.engine import Engine

        return Engine(self.engine.store, llm=spec).llm()

    def embedder(self, memory: Any) -> Any:
        subtitled = Path(memory.folder).is_relative_to(self.subtitled.store)
        engine = self.subtitled if subtitled else self.engine
        return engine.query_embedder(memory.meta("settings")["embedder"])

    def visual(self, memory: Any) -> Any:
        """The image–text encoder the memory's frames were embedded with (None if none)."""
        return self.engine.visual(memory.meta("settings").get("visual_embedder"))

    def answering(self, items: list[Any], memory_for: Any) -> tuple[Any, Any]:
        """The video LLM for closer looks (None without) and the answering LLM."""
        from longvid.errors import LongvidError

        looker = None
        for item in (
            items if self.inspect else []
        ):  # the indexing captioner, from a video that opens
            try:
                looker = self.engine.looker(memory_for(item.video).meta("settings")["captioner"])
                break
            except (LongvidError, OSError):
                continue
        return looker, self.engine.llm(looker)


def _run(items: list[Any], memory_for: Any, models: _Models, chat: Any, looker: Any, options: Any,
         label: str, quiet: bool) -> Any:  # fmt: skip
    from tqdm import tqdm

    from longvid.pipeline.evaluate import evaluate as run_eval

    bar = tqdm(
        total=len(items), desc=label, file=sys.stderr, disable=quiet or not sys.stderr.isatty()
    )
    outcome = run_eval(items, memory_for, models.embedder, chat, looker, options,
                       progress=lambda done, total: bar.update(done - bar.n),
                       visual_for=models.visual)  # fmt: skip
    bar.close()
    return outcome


def _write_submission(
    reader: Any, benchmark: Any, records: list[dict[str, Any]], path: Path | None
) -> str | None:
    """The predictions file: where asked, and always for a split whose answers are not public."""
    if path is None and benchmark.split != "test":
        return None
    shaped = reader.submission(benchmark, records)
    if shaped is None:
        return None
    name, content = shaped
    target = path or Path(name)
    target.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    report(
        "note",
        f"predictions for {len(records)} questions written to {target}",
        f"the {benchmark.title} submission shape",
    )
    return str(target)


def _compared(outcome: Any) -> dict[str, Any]:
    """One run's figures for --compare: over all questions (``all``) and per category."""
    from longvid.pipeline.evaluate import figures

    return {"all": figures(outcome.scored), **outcome.categories}


def _print_compare(compared: dict[str, dict[str, dict[str, float]]]) -> None:
    """The runs side by side: for each category, one row per run."""

    def cell(group: dict[str, float], key: str) -> str:
        return f"{group[key]:.0%}" if key in group else "-"

    rows = []
    for category in compared["agent"]:
        for run, groups in compared.items():
            group = groups.get(category)
            if group is not None:
                rows.append((category, run, f"{group['accuracy']:.1%} ({group['correct']}/{group['total']})",
                             cell(group, "citation_accuracy"), cell(group, "recall_at_5"),
                             f"{group['mean_seconds']:g}", f"{group['mean_steps']:g}",
                             f"{group['mean_tokens']:g}"))  # fmt: skip
    emit_table(rows, ("category", "run", "accuracy", "citations", "recall@5", "s / question",
                      "steps / question", "tokens / question"))  # fmt: skip


def _print(summary: dict[str, Any], title: str) -> None:
    """The terminal report: the headline, each published breakdown as a table, what longvid adds."""
    unscored = f", {summary['unscored']} unscored" if summary.get("unscored") else ""
    typer.echo(f"{summary['benchmark']} ({title}, {summary['split']}): {summary['headline']} "
               f"{summary['accuracy']:.1%} ({summary['correct']}/{summary['total']}{unscored})")  # fmt: skip
    for field, groups in summary.get("breakdowns", {}).items():
        if len(groups) > 1 or field != "category":
            rows = [
                (name, f"{v['accuracy']:.1%}", f"{v['correct']}/{v['total']}")
                for name, v in groups.items()
            ]
            emit_table(rows, (field, "accuracy", "correct"))
    for task, count in summary.get("unscored_by_task", {}).items():
        typer.echo(f"  {task}: {count} open-ended answers kept in --json, unscored (no judge)")
    if summary.get("published"):
        typer.echo("published fields: " + json.dumps(summary["published"], ensure_ascii=False))
    if summary.get("compare"):
        _print_compare(summary["compare"])
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
    for skip in summary["skipped"]:
        typer.echo(
            f"skipped {skip['questions']} question(s) of {skip['video']}: {skip['reason']}",
            err=True,
        )
    if summary.get("submission"):
        typer.echo(f"predictions: {summary['submission']}")
