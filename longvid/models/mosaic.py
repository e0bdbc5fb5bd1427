"""Frames tiled into mosaic images, each tile stamped with its time, for servers that take few
images per request (many Ollama vision models take one)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from longvid.media.frames import Frame
from longvid.timeline import hms

MOSAIC_SIDE = 1344  # the longer side of a mosaic (a multiple of 28 and 14, as VLMs patch)
MIN_TILE_SIDE = 224  # below this a tile is too small to read: send fewer frames per mosaic


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) of the most square grid holding ``count`` tiles."""
    columns = math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def tiles_per_mosaic(frames: int, images: int) -> int:
    """How many frames each of ``images`` mosaics holds, keeping tiles legible."""
    per = math.ceil(frames / max(images, 1))
    while per > 1 and MOSAIC_SIDE / grid(per)[0] < MIN_TILE_SIDE:
        per -= 1
    return per


def mosaic(frames: Sequence[Frame]) -> Any:
    """One RGB image (numpy) with the frames in reading order, each labelled with its time."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    columns, rows = grid(len(frames))
    height, width = frames[0].image.shape[:2]
    tile_w = MOSAIC_SIDE // columns
    tile_h = max(1, round(tile_w * height / width))
    canvas = Image.new("RGB", (tile_w * columns, tile_h * rows), "black")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(14, tile_h // 10))
    for number, frame in enumerate(frames):
        x, y = (number % columns) * tile_w, (number // columns) * tile_h
        canvas.paste(Image.fromarray(frame.image).resize((tile_w, tile_h)), (x, y))
        label = hms(frame.time, 1)
        box = draw.textbbox((x + 4, y + 4), label, font=font)
        draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill="black")
        draw.text((x + 4, y + 4), label, fill="white", font=font)
    return np.asarray(canvas)
