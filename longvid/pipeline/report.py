"""``report``: one self-contained HTML file showing what longvid understood of a video.

A timeline of chunks proportional to their length, then per chunk its thumbnails (the frames the
captioner saw, stored at index time), caption, speech and on-screen text. A search box filters
chunks in the page; clicking a timeline block jumps to its chunk. No CDN, works offline; images
load lazily so an hour of video opens quickly.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.timeline import hms

_ASSETS = Path(__file__).with_name("report_assets")


def render_report(
    memory: VideoMemory,
    title: str,
    summary: str | None = None,
    question: str | None = None,
    answer: str | None = None,
    cited: Sequence[tuple[float, float]] = (),
    frames: Sequence[tuple[float, bytes, str]] = (),
) -> str:
    """The report page as one HTML string; ``frames`` are (time, JPEG, why) behind the answer."""
    chunks = memory.chunks()
    duration = max(
        [c.end for c in chunks] or [float((memory.meta("video") or {}).get("duration") or 1.0)]
    )
    blocks = "".join(_block(c, duration, _is_cited(c, cited)) for c in chunks)
    blocks += "".join(
        f"<span class='mark' style='left:{100 * t / duration:.3f}%' title='{_e(f'{hms(t, 1)} {why}')}'></span>"
        for t, _, why in frames
    )
    articles = "".join(_article(c, memory, _is_cited(c, cited)) for c in chunks)
    parts = [f"<h1>{_e(title)}</h1>", f"<p class='meta'>{len(chunks)} chunks, {hms(duration)}</p>"]
    if summary:
        parts.append(
            f"<section aria-labelledby='summary-h'><h2 id='summary-h'>Summary</h2><p>{_e(summary)}</p></section>"
        )
    if question:
        parts.append(
            f"<section class='answer' aria-labelledby='answer-h'><h2 id='answer-h'>Q: {_e(question)}</h2>"
            f"<p>{_e(answer or '')}</p>{_figures(frames)}</section>"
        )
    parts.append(
        "<nav id='timeline' aria-label='Timeline of chunks'>" + blocks + "</nav>"
        "<label for='search'>Filter chunks</label> <input id='search' type='search' "
        "placeholder='words in captions, speech or on-screen text' autocomplete='off'>"
        " <span id='count' aria-live='polite'></span>"
        f"<main id='chunks'>{articles}</main>"
    )
    style = (_ASSETS / "report.css").read_text(encoding="utf-8")
    script = (_ASSETS / "report.js").read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)} — longvid report</title><style>{style}</style></head>"
        f"<body>{''.join(parts)}<script>{script}</script></body></html>"
    )


def _is_cited(chunk: ChunkRecord, cited: Sequence[tuple[float, float]]) -> bool:
    return any(start < chunk.end and end >= chunk.start for start, end in cited)


def _block(chunk: ChunkRecord, duration: float, cited: bool) -> str:
    left = 100 * chunk.start / duration
    width = max(100 * (chunk.end - chunk.start) / duration, 0.15)
    label = f"Chunk {chunk.index + 1}, {hms(chunk.start)} to {hms(chunk.end)}"
    css = "block cited" if cited else "block"
    return (
        f"<a class='{css}' href='#c{chunk.index}' style='left:{left:.3f}%;width:{width:.3f}%' "
        f"title='{_e(label)}' aria-label='{_e(label)}'></a>"
    )


def _article(chunk: ChunkRecord, memory: VideoMemory, cited: bool) -> str:
    images = "".join(
        f"<figure><img loading='lazy' alt='frame at {hms(t, 1)}' src='data:image/jpeg;base64,"
        f"{base64.b64encode(jpeg).decode('ascii')}'><figcaption>{hms(t, 1)}</figcaption></figure>"
        for t, jpeg in memory.thumbnails(chunk.index)
    )
    speech = "".join(
        f"<li><time>{hms(t.start, 1)}</time> {_e(t.text)}</li>" for t in chunk.transcript
    )
    screen = "".join(
        f"<li><time>{hms(t.start, 1)}</time> {_e(t.text)}</li>" for t in chunk.screen_text
    )
    body = [f"<div class='thumbs'>{images}</div>" if images else ""]
    if chunk.caption.strip():
        body.append(f"<p class='caption'>{_e(chunk.caption)}</p>")
    if speech:
        body.append(f"<h3>Speech</h3><ul class='speech'>{speech}</ul>")
    if screen:
        body.append(f"<h3>On screen</h3><ul class='screen'>{screen}</ul>")
    css = "chunk cited" if cited else "chunk"
    return (
        f"<article class='{css}' id='c{chunk.index}' tabindex='-1' data-start='{chunk.start}'>"
        f"<h2><time>{hms(chunk.start, 1)}</time> – <time>{hms(chunk.end, 1)}</time></h2>{''.join(body)}</article>"
    )


def _figures(frames: Sequence[tuple[float, bytes, str]]) -> str:
    """The frames behind an answer (visual matches, frames a look chose), as thumbnails."""
    if not frames:
        return ""
    figures = "".join(
        f"<figure><img loading='lazy' alt='frame at {hms(t, 1)}' src='data:image/jpeg;base64,"
        f"{base64.b64encode(jpeg).decode('ascii')}'><figcaption>{hms(t, 1)} · {_e(why)}</figcaption></figure>"
        for t, jpeg, why in frames
    )
    return f"<h3>Frames behind the answer</h3><div class='thumbs frames'>{figures}</div>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
