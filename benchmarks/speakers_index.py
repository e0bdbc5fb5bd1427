"""What the speakers channel adds to ``longvid index``: the same video indexed with ``--speakers
none`` and with the default (resemblyzer, since there is speech), each in a fresh process and a
fresh store, then the channel alone on the first store's memory (``longvid index`` again).

    python benchmarks/speakers_index.py [--minutes 5]

The video: generated dialogues of the tests' four espeak-ng voices back to back, with sidecar
subtitles at the true turn times (so speech needs no ASR and the difference is the channel's);
no captioner, no OCR, no visual memory, the default embedder.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.speakers import script
from tests.dialogues import RATE, VOICES, dialogue, write_video


def make_video(minutes: float, folder: Path) -> tuple[Path, float]:
    """The dialogue video and its sidecar subtitles; returns (path, seconds)."""
    rng = random.Random(5)
    parts, cues, at = [], [], 0.0
    while at < minutes * 60:
        lines = script(rng, list(VOICES), rng.choice([2, 3, 4]), 14)
        audio, turns = dialogue(lines, folder / "voices")
        cues += [(a + at, b + at, text) for (a, b, _), (_, text, _) in zip(turns, lines, strict=True)]
        parts.append(audio)
        at += len(audio) / RATE
    video = write_video(np.concatenate(parts), folder / "dialogues.mp4")
    srt = [f"{n}\n{_srt(a)} --> {_srt(b)}\n{text}\n" for n, (a, b, text) in enumerate(cues, start=1)]
    video.with_suffix(".srt").write_text("\n".join(srt), encoding="utf-8")
    return video, at


def _srt(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def run_index(video: Path, store: Path, *extra: str) -> tuple[float, dict]:
    """``longvid index`` in a fresh process: (wall seconds, its JSON line)."""
    args = [sys.executable, "-m", "longvid", "index", str(video), "--captioner", "none", "--asr",
            "none", "--ocr", "none", "--visual-embedder", "none", "--store", str(store), "--json",
            "--quiet", *extra]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="longvid-speakers-index-"))
    video, seconds = make_video(args.minutes, folder)
    minutes = seconds / 60
    off, off_doc = run_index(video, folder / "off", "--speakers", "none")
    on, on_doc = run_index(video, folder / "on")
    alone, alone_doc = run_index(video, folder / "off")
    found = len(on_doc.get("speakers") or [])
    print(f"{time.strftime('%Y-%m-%d')}  {minutes:.1f} min of dialogue, {on_doc['chunks']} chunks")
    print("| run | wall s | s per audio min | speakers |")
    print("|---|---|---|---|")
    print(f"| index --speakers none | {off:.1f} | {off / minutes:.2f} | {len(off_doc.get('speakers') or [])} |")
    print(f"| index (default: resemblyzer) | {on:.1f} | {on / minutes:.2f} | {found} |")
    print(f"| added by the channel | {on - off:.1f} | {(on - off) / minutes:.2f} | |")
    print(f"| index again on the first store (channel alone) | {alone:.1f} | {alone / minutes:.2f} | "
          f"{len(alone_doc.get('speakers') or [])} |")  # fmt: skip


if __name__ == "__main__":
    main()
