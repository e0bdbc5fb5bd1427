"""``longvid ask``, ``search`` and ``summarize``: answers, moments and summaries with timestamps."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from longvid_cli.output import emit_json
from longvid_cli.querying import AsJson, IndexFirst, Llm, Store, engine_for, open_video
from longvid_cli.runner import Batch, expand_videos, report

from longvid.timeline import hms


def ask(
    video: Annotated[str, typer.Argument(help="An indexed video file.")],
    questions: Annotated[
        list[str],
        typer.Argument(
            help="One or more questions, or '-' to read one per line from stdin.",
            metavar="QUESTION...",
        ),
    ],
    llm: Llm = None,
    captioner: Annotated[
        str | None,
        typer.Option(help="Video LLM for closer looks (default: the one that indexed the video)."),
    ] = None,
    top_k: Annotated[
        int | None,
        typer.Option(min=1, help="Chunks to retrieve (default: adapts to the video's length)."),
    ] = None,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect/--no-inspect", help="Look again at the video when evidence is thin."
        ),
    ] = True,
    max_steps: Annotated[
        int,
        typer.Option(min=0, help="Most tool calls (search, read, look, overview) per question."),
    ] = 6,
    max_frames: Annotated[int, typer.Option(min=1, help="Most frames inspected in all.")] = 32,
    agent: Annotated[
        bool | None,
        typer.Option(
            "--agent/--no-agent",
            help="--agent: tool steps (search, read, timeline, look) after the first answer; "
            "--no-agent: the plain baseline (one retrieval with the timeline's moments, the "
            "model's one answer, none of the engine's checks but the citation check). "
            "Default: one call for small models (under 3B parameters), tool steps for others.",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="An answer option (repeat for each): the question becomes multiple-choice and "
            "the reply starts with the letter picked (--json: \"choice\").",
        ),
    ] = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="Print each step on stderr as it happens.")
    ] = False,
    store: Store = None,
    index_first: IndexFirst = False,
    as_json: AsJson = False,
) -> None:
    """Answer questions about a video, citing the moments the answer rests on.

    A question in time (right after / just before X, how many times, how long between X and Y,
    which comes first) is computed from the memory's order and times: the result is in the
    model's evidence, and when its anchors are found unambiguously the system's count, order or
    span is the answer whenever the model's says otherwise (the JSON says "computed"). On the
    built-in QA set the packaged 135M model's temporal answers went from 10 of 21 (the plain
    baseline) to 19 of 21.

    The default for a small LLM (under 3B parameters, the packaged 135M stand-in included) is one
    call: one retrieval, one answer, those checks. Measured side by side (`longvid eval
    --compare`), tool steps gave the 135M model one more right answer in 61 at 3.2 times the time
    (issue 25's 0.5B model: one fewer in 16 at 5 times). Larger
    models, and servers of unknown size, get tool steps; --agent asks for them, --no-agent gives
    the plain baseline.
    """
    engine = engine_for(store, llm=llm, captioner=captioner)
    target = open_video(video, engine, index_first)
    asked = (
        [line.strip() for line in sys.stdin if line.strip()] if questions == ["-"] else questions
    )
    for question in asked:
        result = target.ask(question, agent=agent, top_k=top_k, max_steps=max_steps,
                            max_frames=max_frames, inspect=inspect, options=option or (),
                            on_step=print_step if trace else None)  # fmt: skip
        if as_json:
            emit_json({**result.to_dict(target.path), "speakers": target.speakers_at(result.cited)})
        else:
            typer.echo(result.answer)
            if not result.evidence:
                report("warning", "no evidence found in the memory", "try other words, or search")


def print_step(step: Any) -> None:
    """One trace line on stderr: the call, its cost, and the start of its result."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in step.args.items())
    result = " ".join(step.result.split())
    typer.echo(f"trace: {step.tool}({args}) {step.elapsed_s:.2f} s, {step.tokens['in']}→"
               f"{step.tokens['out']} tokens: {result[:120]}", err=True)  # fmt: skip


def search(
    target: Annotated[
        str, typer.Argument(help="A video file, or the query itself with --all.", metavar="VIDEO")
    ],
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    everywhere: Annotated[
        bool, typer.Option("--all", help="Search every video in the store.")
    ] = False,
    top_k: Annotated[int, typer.Option(min=1, help="Moments to return.")] = 5,
    speaker: Annotated[
        str | None,
        typer.Option(help="Only moments where this speaker talks: an id (S2) or a given name."),
    ] = None,
    store: Store = None,
    as_json: AsJson = False,
) -> None:
    """Find the moments of a video (or of every indexed video, with --all) that match a query."""
    from longvid.engine import library

    engine = engine_for(store)
    if everywhere:
        text = " ".join(t for t in (target, query) if t)
        moments = library(engine=engine).search(text, top_k)
    else:
        if query is None:
            raise typer.BadParameter("give a query after the video (or use --all QUERY)")
        moments = open_video(target, engine).search(query, top_k, speaker=speaker)
    for moment in moments:
        if as_json:
            emit_json(moment.to_dict())
        else:
            prefix = f"{moment.video}  " if everywhere else ""
            text = " ".join(moment.text.split())
            voices = f"({', '.join(moment.speakers)})  " if moment.speakers else ""
            typer.echo(
                f"{prefix}[{hms(moment.start)}–{hms(moment.end)}] {moment.score:.2f}  {voices}{text[:160]}"
            )


class Format(StrEnum):
    md = "md"
    text = "text"
    srt = "srt"
    chapters = "chapters"
    ffmetadata = "ffmetadata"


def summarize(
    videos: Annotated[
        list[str], typer.Argument(help="Indexed video files, or '-' for stdin.", metavar="VIDEO...")
    ],
    llm: Llm = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="md, text, srt (a cue per section), chapters (YouTube lines), ffmetadata.",
        ),
    ] = Format.md,
    store: Store = None,
    index_first: IndexFirst = False,
    by_speaker: Annotated[
        bool, typer.Option("--by-speaker", help="Summarise each speaker's part instead.")
    ] = False,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Write in this language (name or code: zh, Spanish); default: the video's.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Summarise videos (cached): sections with times, then the whole."""
    engine = engine_for(store, llm=llm)

    def work(path: str) -> Any:
        video = open_video(path, engine, index_first)
        return video.summarize_speakers(language) if by_speaker else video.summarize(language)

    batch = Batch()
    for path, result in batch.run(expand_videos(videos), work):
        if by_speaker and as_json:
            emit_json({"video": path, "speakers": result})
        elif by_speaker:
            typer.echo(render_speakers(path, result))
        elif as_json:
            emit_json({"video": path, **result.to_dict()})
        else:
            typer.echo(render_summary(path, result, fmt))
    batch.exit()


def render_speakers(path: str, speakers: list[dict[str, Any]]) -> str:
    """Each speaker's summary as Markdown (a note where no speakers were found)."""
    if not speakers:
        return f"# {path}\n\nNo speakers found (run: longvid speakers {path}).\n"
    parts = []
    for s in speakers:
        title = f"{s['name']} ({s['id']})" if s["name"] else s["id"]
        parts.append(f"## {title} — {hms(s['talk_s'])} in {s['turns']} turns\n\n{s['summary']}")
    body = "\n\n".join(parts)
    return f"# {path}\n\n{body}\n"


def render_summary(path: str, result: Any, fmt: Format) -> str:
    """A summary as Markdown, plain text, SRT (a cue per section), chapters or ffmetadata."""
    if fmt in (Format.chapters, Format.ffmetadata):
        from longvid.pipeline.chapters import chapters, ffmetadata, youtube_lines

        marks = chapters(result.sections)
        return youtube_lines(marks) if fmt is Format.chapters else ffmetadata(marks)
    if fmt is Format.srt:
        import pysubs2

        subs = pysubs2.SSAFile()
        for s in result.sections:
            subs.append(
                pysubs2.SSAEvent(
                    start=round(s["start"] * 1000), end=round(s["end"] * 1000), text=s["summary"]
                )
            )
        return str(subs.to_string("srt"))
    sections = [f"[{hms(s['start'])}–{hms(s['end'])}] {s['summary']}" for s in result.sections]
    if fmt is Format.text:
        return "\n\n".join([f"{path}", result.summary, *sections]) + "\n"
    body = "\n".join(
        f"- **{hms(s['start'])}–{hms(s['end'])}** {s['summary']}" for s in result.sections
    )
    return f"# {path}\n\n{result.summary}\n\n## Sections\n\n{body}\n"
