"""Captions now or on demand: what each ``index --captions`` mode costs a laptop user, side by side.

A 10-minute 640x360 clip (a new picture every 20 s) with a subtitle line per scene, indexed with the
full-size random-weight SmolVLM2-500M-Video (``captioner_cost.build``; compute does not depend on
the weights' values) on the CPU, the packaged stand-ins for the rest (``HF_HUB_OFFLINE=1``). Each
step is a fresh ``longvid`` process, timed with its peak RSS (``/usr/bin/time``), against one
``ffmpeg -f null`` decode of the same file measured in the same run:

``longvid index --captions lazy``, a first question (it captions what it needs), a second one,
then ``longvid index`` (captions the rest: what ``--captions all`` would have spent on top), and
the first question again with every chunk captioned (what a question costs after ``all``).

    python benchmarks/lazy_captions.py [--work /tmp/longvid-bench/lazy]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENES = 30  # of 20 s each: 10 minutes
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black", "pink", "brown",
           "grey", "gold", "silver", "navy", "teal"] * 2  # fmt: skip
QUESTIONS = ["What colour is the bicycle in the harbour scene?", "Who carries the green umbrella?"]


def make_clip(folder: Path) -> Path:
    """The clip and its subtitles (one spoken line per scene)."""
    video = folder / "clip.mp4"
    if not video.exists():
        sources = [f"testsrc2=size=640x360:rate=25:duration=20,hue=h={i * 12}" for i in range(SCENES)]
        inputs = [arg for s in sources for arg in ("-f", "lavfi", "-i", s)]
        chain = "".join(f"[{i}]" for i in range(SCENES)) + f"concat=n={SCENES}:v=1:a=0[v]"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *inputs, "-filter_complex", chain,
                        "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
                       check=True)  # fmt: skip
    lines = []
    for i, colour in enumerate(COLOURS):
        start = i * 20 + 5
        lines.append(f"{i + 1}\n00:{start // 60:02d}:{start % 60:02d},000 --> 00:{start // 60:02d}:"
                     f"{start % 60 + 4:02d},000\nIn scene {i + 1} a {colour} bicycle waits by the "
                     f"harbour while someone with a {COLOURS[-1 - i]} umbrella walks past.\n")  # fmt: skip
    video.with_suffix(".srt").write_text("\n".join(lines), encoding="utf-8")
    return video


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one fresh process."""
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "RSS %M", *command], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    rss = [line for line in done.stderr.splitlines() if line.startswith("RSS ")][-1]
    return wall, int(rss.split()[1]) / 1024, done.stdout


def main() -> None:
    from benchmarks.captioner_cost import build

    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/longvid-bench/lazy-10min"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    video = make_clip(args.work)
    model = build()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LONGVID_ASR": "none", "LONGVID_OCR": "none",
           "LONGVID_VISUAL_EMBEDDER": "none", "LONGVID_SPEAKERS": "none"}  # fmt: skip
    longvid = [sys.executable, "-m", "longvid"]
    decode, _, _ = timed(["ffmpeg", "-loglevel", "error", "-i", str(video), "-f", "null", "-"], env)
    rows: list[dict[str, Any]] = []

    def step(mode: str, what: str, command: list[str]) -> dict[str, Any]:
        wall, rss, out = timed(command, env)
        row = {"mode": mode, "step": what, "wall_s": round(wall, 1), "x_decode": round(wall / decode, 2),
               "peak_rss_mb": round(rss)}  # fmt: skip
        if out.strip():
            doc = json.loads(out.splitlines()[-1])
            if "captioned_chunks" in doc:  # a question: the chunks it captioned
                row["captioned"] = doc["captioned_chunks"]
            elif "computed" in doc:  # an index: chunks, and captions still to come
                row["chunks"], row["to come"] = doc["chunks"], doc["uncaptioned"]
                row["captioned"] = doc["computed"] if not doc["uncaptioned"] else 0
        rows.append(row)
        print(json.dumps(row), flush=True)
        return row

    store = args.work / "store"
    subprocess.run(["rm", "-rf", str(store)], check=True)
    base = ["--store", str(store)]
    index = [*longvid, "index", str(video), "--captioner", str(model), *base, "--json"]

    def ask(question: str) -> list[str]:
        return [*longvid, "ask", str(video), question, "--no-agent", *base, "--json"]

    step("plan", "index --dry-run (first on this machine: loads, measures, records)", [*index, "--dry-run"])
    step("lazy", "index --captions lazy", [*index, "--captions", "lazy"])
    step("lazy", "first question", ask(QUESTIONS[0]))
    step("lazy", "second question", ask(QUESTIONS[1]))
    step("all", "index (captions the rest)", index)
    step("all", "first question again (every chunk captioned)", ask(QUESTIONS[0]))
    load = os.getloadavg()[0]
    print(f"\none decode: {decode:.1f} s; load average {load:.1f}")
    print("| step | wall s | × one decode | chunks captioned | peak RSS MB |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['wall_s']} | {r['x_decode']} | {r.get('captioned', '')} | "
              f"{r['peak_rss_mb']:,} |")  # fmt: skip


if __name__ == "__main__":
    main()
