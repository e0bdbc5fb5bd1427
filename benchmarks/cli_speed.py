"""What a user waits for, start-up included: ``ask`` and ``search`` on the example video, and
``index`` of a 20-minute talk against one ``ffmpeg -f null`` decode of the same file.

    python benchmarks/cli_speed.py                 # all three
    python benchmarks/cli_speed.py --skip-index    # ask and search only

``ask`` and ``search`` run as a new user runs them (packaged stand-ins, a fresh process each),
median of 5, after one ``index``; the answer is checked for "7:15". ``index`` uses an
OpenAI-compatible captioner that answers at once (a fake server on 127.0.0.1), the packaged
MiniLM, and no ASR or OCR, so the ratio is longvid's own cost: decoding, shot detection, frame
sampling, requests, embedding, the store, and start-up.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.index_overhead import make_video  # noqa: E402

DEMO = ROOT / "examples" / "demo.mp4"


def wall(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def ask_and_search(env: dict[str, str]) -> None:
    subprocess.run(["longvid", "index", str(DEMO), "-q"], env=env, check=True, capture_output=True)
    asks = [
        wall(["longvid", "ask", str(DEMO), "When does the ferry leave?"], env) for _ in range(5)
    ]
    searches = [wall(["longvid", "search", str(DEMO), "ferry"], env) for _ in range(5)]
    right = all(re.search(r"7[:.]15", out) for _, out in asks)
    print(f"ask: {statistics.median(t for t, _ in asks):.2f} s median of 5 "
          f"({'right' if right else 'WRONG'}: {asks[0][1].strip()})")  # fmt: skip
    print(f"search: {statistics.median(t for t, _ in searches):.2f} s median of 5")


def index_ratio(env: dict[str, str], folder: Path, minutes: int) -> None:
    from tests.fake_openai import FakeServer, serve

    video = make_video(folder / f"talk-{minutes}min.mp4", minutes)
    decode, _ = wall(["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"], env)
    with serve(FakeServer()) as url:
        index, out = wall(["longvid", "index", str(video), "-q", "--captioner", f"openai:vl@{url}",
                           "--asr", "none", "--ocr", "none", "--store", str(folder / "store")], env)  # fmt: skip
    print(f"index {minutes} min 640x360: {index:.1f} s vs ffmpeg decode {decode:.1f} s: "
          f"ratio {index / decode:.2f} (start-up included) — {out.strip()}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--minutes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "LONGVID_HOME": str(Path(work) / "home"), "HF_HUB_OFFLINE": "1"}
        ask_and_search(env)
        if not args.skip_index:
            index_ratio(env, Path(work), args.minutes)


if __name__ == "__main__":
    main()
