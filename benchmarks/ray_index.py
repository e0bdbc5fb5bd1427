"""Indexing N videos with ``--ray local`` against a serial run on this machine.

    python benchmarks/ray_index.py --videos 6 --minutes 2
    python benchmarks/ray_index.py --videos 1 --minutes 12 --split 3   # one video in 4 parts

The captioner is an OpenAI-compatible fake on 127.0.0.1 that answers at once, with the packaged
MiniLM and no ASR or OCR, so both runs measure longvid's own work (decode, shots, frames,
requests, embedding, the store) plus, for Ray, its start-up and scheduling. Prints both walls,
the ratio, the per-video times the Ray tasks report, and the on-paper cluster arithmetic from the
measured per-video-second cost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.index_overhead import make_video  # noqa: E402


def run(videos: list[Path], url: str, store: Path, extra: list[str]) -> tuple[float, list[dict]]:
    command = ["longvid", "index", *map(str, videos), "--json", "-q", "--captioner",
               f"openai:vl@{url}", "--asr", "none", "--ocr", "none", "--visual-embedder", "none",
               "--store", str(store), *extra]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_ADDRESS": ""}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return time.perf_counter() - start, lines


def main() -> None:
    from tests.fake_openai import FakeServer, serve

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--split", type=float, default=0, help="--ray-split, in minutes")
    args = parser.parse_args()
    ray_flags = ["--ray", "local", *(["--ray-split", str(args.split * 60)] if args.split else [])]
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        source = make_video(folder / "source.mp4", args.minutes)
        videos = []
        for i in range(args.videos):  # distinct files (distinct fingerprints), same content cost
            copy = folder / f"v{i}.mp4"
            subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-c", "copy",
                            "-metadata", f"title=copy {i}", str(copy)], check=True)  # fmt: skip
            videos.append(copy)
        with serve(FakeServer()) as url:
            serial, serial_lines = run(videos, url, folder / "serial", [])
            ray, ray_lines = run(videos, url, folder / "ray", ray_flags)
    seconds = sum(line["duration"] for line in serial_lines)
    chunks = sum(line["chunks"] for line in serial_lines)
    per_video = [line["elapsed_s"] for line in ray_lines]
    cpus = os.cpu_count() or 1
    print(f"{args.videos} videos x {args.minutes} min ({seconds / 60:.0f} min, {chunks} chunks), {cpus} CPUs")
    print(f"serial: {serial:.1f} s   {' '.join(ray_flags)}: {ray:.1f} s   ratio (serial / ray) {serial / ray:.2f}")
    ray_chunks = sum(line["chunks"] for line in ray_lines)
    print(f"chunks: serial {chunks}, ray {ray_chunks} (parts close the shot at each cut)")
    print(f"ray's index time per video (for a video in parts: its merge): "
          f"{min(per_video):.1f}–{max(per_video):.1f} s (sum {sum(per_video):.1f} s)")  # fmt: skip
    cost = serial / seconds  # CPU seconds per video second, one process, instant captions
    print(f"measured cost: {cost:.3f} s of one process per video second "
          f"({chunks / seconds * 3600:.0f} chunks per video hour)")  # fmt: skip
    for workers, gpus, rate in ((64, 8, 2.0), (256, 32, 2.0)):
        cpu_hours = workers / cost  # video seconds per second = video hours per hour
        gpu_hours = gpus * rate / (chunks / seconds)
        print(f"on paper: {workers} CPU workers -> {cpu_hours:.0f} video h/h; {gpus} GPUs at "
              f"{rate} chunks/s each (assumed, not measured) -> {gpu_hours:.0f} video h/h; "
              f"throughput = the smaller")  # fmt: skip


if __name__ == "__main__":
    main()
