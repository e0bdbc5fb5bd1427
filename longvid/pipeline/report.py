"""``report``: one self-contained HTML file showing what longvid understood of a video.

A timeline of chunks proportional to their length (and, where speakers are known, a lane of their
turns, one colour per voice, with a legend), then per chunk its thumbnails (the frames the
captioner saw, stored at index time), caption, speech coloured by speaker and on-screen text. A search box filters
chunks in the page; clicking a timeline block jumps to its chunk. No CDN, works offline; images
load lazily so an hour of video opens quickly.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from longvid.memory.speakers import SpeakerMemory, has_speakers
from longvid.memory.store import ChunkRecord, VideoMemory
from longvid.timeline import hms

_ASSETS = Path(__file__).with_name("report_assets")
# one colour per voice (Okabe–Ito, readable for colour-blind eyes), in order of the speaker ids
VOICE_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999")


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
    voices = SpeakerMemory(memory) if has_speakers(memory) else None
    colours = _colours(voices) if voices is not None else {}
    articles = "".join(_article(c, memory, _is_cited(c, cited), voices, colours) for c in chunks)
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
        + (_voices(voices, colours, duration) if voices is not None else "") +
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


def _colours(voices: SpeakerMemory) -> dict[str, str]:
    ids = sorted(voices.labels(), key=lambda who: (len(who), who))
    return {who: VOICE_COLOURS[i % len(VOICE_COLOURS)] for i, who in enumerate(ids)}


def _voices(voices: SpeakerMemory, colours: dict[str, str], duration: float) -> str:
    """The speakers' lane under the timeline (a bar per turn) and a legend with talk times."""
    labels = voices.labels()
    bars = "".join(
        f"<span class='turn' style='left:{100 * a / duration:.3f}%;width:{max(100 * (b - a) / duration, 0.1):.3f}%;"
        f"background:{colours.get(who, '#999')}' title='{_e(f'{labels.get(who, who)} {hms(a)}–{hms(b)}')}'></span>"
        for a, b, who in voices.turns()
    )
    legend = "".join(
        f"<li><span class='swatch' style='background:{colours.get(s.id, '#999')}'></span>"
        f"{_e(s.label)}{f' ({s.id})' if s.name else ''} · {hms(s.talk_s)} · {len(s.turns)} turns</li>"
        for s in voices.speakers()
    )
    return (f"<div id='voices' aria-label='Who speaks when'>{bars}</div>"
            f"<ul class='legend' aria-label='Speakers'>{legend}</ul>")  # fmt: skip


def _article(
    chunk: ChunkRecord,
    memory: VideoMemory,
    cited: bool,
    voices: SpeakerMemory | None = None,
    colours: dict[str, str] | None = None,
) -> str:
    images = "".join(
        f"<figure><img loading='lazy' alt='frame at {hms(t, 1)}' src='data:image/jpeg;base64,"
        f"{base64.b64encode(jpeg).decode('ascii')}'><figcaption>{hms(t, 1)}</figcaption></figure>"
        for t, jpeg in memory.thumbnails(chunk.index)
    )
    speech = "".join(
        f"<li{_voice(voices, colours or {}, t.start, t.end)}><time>{hms(t.start, 1)}</time> {_e(t.text)}</li>"
        for t in chunk.transcript
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


def _voice(voices: SpeakerMemory | None, colours: dict[str, str], start: float, end: float) -> str:
    """A speech line's attributes: its speaker's id and colour (nothing where none is known)."""
    who = voices.speaker_of(start, end) if voices is not None else None
    if who is None:
        return ""
    return f" class='said' data-speaker='{_e(who)}' style='border-left-color:{colours.get(who, '#999')}'"


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
