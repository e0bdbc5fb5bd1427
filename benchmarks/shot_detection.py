"""Shot detection speed and accuracy for each detector, on generated videos with known cuts.

    python benchmarks/shot_detection.py

Generates (once, cached) a 5-minute 640x360 video with hard cuts at irregular known times and a
variable-frame-rate version of it, runs each detector through longvid's single decode pass, and
prints frames/s and precision / recall / F1 with a 2-frame tolerance.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
from pathlib import Path

from longvid.media.shots import DETECTORS, ShotOptions, ShotScan

SOURCES = ("testsrc2", "smptehdbars", "rgbtestsrc", "mandelbrot", "cellauto", "life", "yuvtestsrc")
FPS = 25


def make(folder: Path) -> tuple[Path, Path, list[float]]:
    """A CFR video with cuts at known times, and a VFR copy (every other frame dropped in odd shots)."""
    rng = random.Random(7)
    lengths = [
        rng.randrange(25, 300) / FPS for _ in range(40)
    ]  # whole frames, so cut times are exact
    cuts, total = [], 0.0
    for length in lengths[:-1]:
        total += length
        cuts.append(round(total, 2))
    cfr, vfr = folder / "cuts.mp4", folder / "cuts-vfr.mp4"
    if not cfr.exists():
        inputs = []
        for i, length in enumerate(lengths):
            inputs += [
                "-t",
                str(length),
                "-f",
                "lavfi",
                "-i",
                f"{SOURCES[i % len(SOURCES)]}=size=640x360:rate={FPS}",
            ]
        graph = "".join(f"[{i}]" for i in range(len(lengths))) + f"concat=n={len(lengths)}:v=1:a=0"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-c:v", "libx264",
                        "-preset", "veryfast", "-pix_fmt", "yuv420p", str(cfr)], check=True)  # fmt: skip
        spans = list(zip([0.0, *cuts], [*cuts, total + lengths[-1]], strict=True))
        odd = "+".join(f"between(t,{a},{b - 0.001})" for a, b in spans[1::2])
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(cfr), "-vf",
                        f"select='if({odd}, not(mod(n,2)), 1)'", "-fps_mode", "passthrough",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(vfr)], check=True)  # fmt: skip
    return cfr, vfr, cuts


def score(found: list[float], truth: list[float], tolerance: float) -> tuple[float, float, float]:
    """Precision, recall and F1, matching each true cut to at most one found cut."""
    unmatched = list(found)
    hits = 0
    for cut in truth:
        near = [f for f in unmatched if abs(f - cut) <= tolerance]
        if near:
            unmatched.remove(min(near, key=lambda f: abs(f - cut)))
            hits += 1
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    folder = Path(tempfile.gettempdir()) / "longvid-bench"
    folder.mkdir(exist_ok=True)
    cfr, vfr, truth = make(folder)
    print(
        f"{'video':<10} {'detector':<9} {'frames/s':>9} {'precision':>10} {'recall':>7} {'F1':>6}"
    )
    for label, video in (("cfr", cfr), ("vfr", vfr)):
        for name in DETECTORS:
            start = time.perf_counter()
            scan = ShotScan(video, ShotOptions(detector=name))
            found = [shot.start for shot, _ in scan][1:]
            speed = scan.frames_decoded / (time.perf_counter() - start)
            precision, recall, f1 = score(found, truth, 2 / FPS)
            print(
                f"{label:<10} {name:<9} {speed:>9.0f} {precision:>10.3f} {recall:>7.3f} {f1:>6.3f}"
            )


if __name__ == "__main__":
    main()
