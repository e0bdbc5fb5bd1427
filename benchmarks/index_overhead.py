"""Index overhead: the whole ``index`` pipeline with zero-cost models vs one ffmpeg decode.

    python benchmarks/index_overhead.py                 # 10- and 60-minute videos
    python benchmarks/index_overhead.py --minutes 10    # just one

For each generated 640x360 video (a hard cut every 20 s) it times ``ffmpeg -i FILE -f null -``
and ``index_video`` with a captioner and an embedder that cost nothing (so only decoding, shot
detection, frame sampling, planning and the store are measured), each in a fresh process, and
prints the load average, the wall and CPU-second ratios (the CPU ratio moves less on a shared
machine) and the peak RSS. Goal: ratio <= 1.3, RSS flat with length.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCES = ("testsrc2", "smptehdbars", "rgbtestsrc", "mandelbrot", "life", "cellauto")


def make_video(path: Path, minutes: int) -> Path:
    """640x360, 25 fps, a different lavfi source every 20 s."""
    if path.exists():
        return path
    parts = minutes * 3
    inputs: list[str] = []
    for i in range(parts):
        inputs += [
            "-t",
            "20",
            "-f",
            "lavfi",
            "-i",
            f"{SOURCES[i % len(SOURCES)]}=size=640x360:rate=25",
        ]
    graph = "".join(f"[{i}]" for i in range(parts)) + f"concat=n={parts}:v=1:a=0"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-c:v", "libx264",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def child(video: str, store: str) -> None:
    """Index ``video`` with zero-cost models (runs in its own process)."""
    import numpy as np

    from longvid.models.base import Captioner, Embedder, ModelInfo
    from longvid.pipeline.index import IndexModels, index_video

    class FreeCaptioner(Captioner):
        info = ModelInfo("free", "benchmark")
        max_frames, batch_size = 32, 8

        def caption(self, requests):  # type: ignore[no-untyped-def]
            return [f"{len(r.frames)} frames" for r in requests]

    class FreeEmbedder(Embedder):
        info = ModelInfo("free", "benchmark")
        dimension = 384

        def embed(self, texts):  # type: ignore[no-untyped-def]
            vectors = np.zeros((len(texts), self.dimension), np.float32)
            vectors[:, 0] = 1.0
            return vectors

    result = index_video(video, IndexModels(FreeEmbedder(), FreeCaptioner()), Path(store))
    print(f"    {result.chunks} chunks", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=int, nargs="*", default=[10, 60])
    parser.add_argument("--child", nargs=2, metavar=("VIDEO", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "longvid-bench")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for minutes in args.minutes:
        video = make_video(args.cache / f"bench-{minutes}min.mp4", minutes)
        load = os.getloadavg()[0]
        decode, decode_cpu, _ = timed(
            ["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"]
        )
        with tempfile.TemporaryDirectory() as store:
            index, index_cpu, rss = timed([sys.executable, __file__, "--child", str(video), store])
        rows.append((minutes, load, decode, index, index_cpu / decode_cpu, rss))
    print(f"{'video':>8} {'load':>5} {'ffmpeg decode':>14} {'index':>9} {'ratio':>6} "
          f"{'CPU ratio':>9} {'peak RSS':>9}")  # fmt: skip
    for minutes, load, decode, index, cpu_ratio, rss in rows:
        print(f"{minutes:>5} min {load:>5.1f} {decode:>12.1f} s {index:>7.1f} s {index / decode:>6.2f} "
              f"{cpu_ratio:>9.2f} {rss:>6.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
