"""Frames embedded per second by an image–text encoder of the default's size class, and what the
visual memory adds to ``index``.

    python benchmarks/visual_speed.py [--frames 128]

The default (google/siglip2-base-patch16-224) cannot be downloaded here, so a SigLIP with the
same architecture and size (base: 12 layers, 768 wide, 16-pixel patches at 224 px, random
weights) is built and saved locally and loaded through the same ``from_pretrained`` path; speed
does not depend on the weights. The cost added to ``index`` is the embedding time of one frame
every 2 s (the default rate) as a share of decoding the video once (``ffmpeg -f null``), using
the 60-minute decode time recorded in RESULTS.md when no video is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DECODE_S_PER_HOUR = 65.2  # ffmpeg -f null, 60 min 640x360 H.264 on this machine (RESULTS.md)


def build_base(directory: Path) -> Path:
    """SigLIP base/16 at 224 px (the image tower's defaults), random weights, saved locally."""
    from tests.tiny_models import build_siglip

    return build_siglip(directory, vision={"image_size": 224, "patch_size": 16})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=128)
    args = parser.parse_args()
    from longvid.models.registry import LoadOptions, load

    with tempfile.TemporaryDirectory() as folder:
        visual = load(
            "visual_embedder",
            str(build_base(Path(folder) / "siglip-base")),
            LoadOptions(device="cpu"),
        )
        params = sum(p.numel() for p in visual.model.vision_model.parameters()) / 1e6
        frames = [
            np.random.default_rng(i).integers(0, 255, (252, 448, 3), dtype=np.uint8)
            for i in range(args.frames)
        ]
        visual.embed_images(frames[:8])  # warm-up
        start = time.perf_counter()
        visual.embed_images(frames)
        rate = args.frames / (time.perf_counter() - start)
    per_hour = 3600 / 2  # one frame every 2 s
    added = per_hour / rate
    print(
        f"SigLIP base/16 at 224 px ({params:.0f}M-parameter image tower), CPU: {rate:.1f} frames/s"
    )
    print(
        f"index cost added per hour of video at one frame / 2 s: {added:.0f} s, "
        f"{added / DECODE_S_PER_HOUR:.2f} x one ffmpeg decode of that hour"
    )


if __name__ == "__main__":
    main()
