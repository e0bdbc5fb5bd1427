"""What a user waits for, start-up included: ``ask`` and ``search`` on the example video, and
``index`` of a 20-minute talk against one ``ffmpeg -f null`` decode of the same file.

    python benchmarks/cli_speed.py                 # all four
    python benchmarks/cli_speed.py --skip-index    # start-up, ask and search only
    python benchmarks/cli_speed.py --startup-only  # start-up only
    python benchmarks/cli_speed.py --index-only --repeat 3   # the index ratio only, 3 times

Start-up: ``index`` of a 2-second clip into a fresh store on the speech + text path (packaged
MiniLM, no captioner, ASR or OCR), first with an empty user cache (the embedder's ONNX export
is made, once per user) and then again into another fresh store (the export is reused): wall
time, peak RSS, and whether torch was imported.

``ask`` and ``search`` run as a new user runs them (packaged stand-ins, a fresh process each),
median of 5, after one ``index``; the answer is checked for "7:15". ``index`` uses an
OpenAI-compatible captioner that answers at once (a fake server on 127.0.0.1), the packaged
MiniLM, and no ASR or OCR, so the ratio is longvid's own cost: decoding, shot detection, frame
sampling, requests, embedding, the store, and start-up. The decode is timed in the same run as
the index, and each line gives the load average and both commands' CPU seconds: on a shared
machine the CPU ratio moves less than the wall ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
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


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # the command and the children it waited for
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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


def start_up(env: dict[str, str], folder: Path) -> None:
    """Fresh stores on the speech + text path: the first run per user, then any fresh store."""
    clip = folder / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)  # fmt: skip
    # no watcher process (tens of ms) so that the command's own imports reach stderr
    env = {**env, "LONGVID_CACHE": str(folder / "user-cache"), "PYTHONPROFILEIMPORTTIME": "1",
           "LONGVID_NO_WATCH": "1"}  # fmt: skip
    for label, store in (("empty user cache (first run per user)", "fresh-1"),
                         ("fresh store, user cache warm", "fresh-2")):  # fmt: skip
        command = ["longvid", "index", str(clip), "-q", "--captioner", "none", "--asr", "none",
                   "--ocr", "none", "--visual-embedder", "none", "--store", str(folder / store)]  # fmt: skip
        log = folder / f"{store}.imports"
        with log.open("w") as errors:
            start = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(process.pid, 0)  # the command and the child it watches
            seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"failed: {' '.join(command)}")
        rss = usage.ru_maxrss / 1024
        torch = any(line.split("|")[-1].strip() == "torch" for line in log.read_text().splitlines())
        print(f"start-up, {label}: {seconds:.2f} s, peak RSS {rss:.0f} MiB, "
              f"torch {'imported' if torch else 'not imported'}")  # fmt: skip


def index_ratio(env: dict[str, str], folder: Path, minutes: int) -> None:
    from tests.fake_openai import FakeServer, serve

    videos = Path(tempfile.gettempdir()) / "longvid-bench"  # kept between runs, as index_overhead's
    videos.mkdir(exist_ok=True)
    video = make_video(videos / f"talk-{minutes}min.mp4", minutes)
    store = folder / "store"
    shutil.rmtree(store, ignore_errors=True)  # a fresh store each time
    load = os.getloadavg()[0]
    decode, decode_cpu, _ = measured(
        ["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"], env
    )
    with serve(FakeServer()) as url:
        command = ["longvid", "index", str(video), "-q", "--captioner", f"openai:vl@{url}", "--asr",
                   "none", "--ocr", "none", "--visual-embedder", "none", "--store", str(store)]  # fmt: skip
        index, index_cpu, rss = measured(command, env)
    print(f"index {minutes} min 640x360 (load average {load:.1f} -> {os.getloadavg()[0]:.1f}): "
          f"{index:.1f} s vs ffmpeg decode {decode:.1f} s: ratio {index / decode:.2f} (start-up "
          f"included); CPU {index_cpu:.1f} s vs {decode_cpu:.1f} s: {index_cpu / decode_cpu:.2f}; "
          f"peak RSS {rss:.0f} MiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--startup-only", action="store_true")
    parser.add_argument("--index-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure the index ratio N times")
    parser.add_argument("--minutes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "LONGVID_HOME": str(Path(work) / "home"), "HF_HUB_OFFLINE": "1"}
        if not args.index_only:
            start_up(env, Path(work))
            if args.startup_only:
                return
            ask_and_search(env)
        if not args.skip_index:
            for _ in range(args.repeat):
                index_ratio(env, Path(work), args.minutes)


if __name__ == "__main__":
    main()
