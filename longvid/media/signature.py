"""A frame's tiny grey picture, to tell a held view (a static shot, a slide, a talking head)
from a changing one without a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SIDE = 16  # 16 x 16 grey levels: layout and light, not detail
TOLERANCE = 4.0  # mean absolute difference (0-255) under which two views are the same


def signature(image: Any) -> Any:
    """The frame (H x W x 3 uint8) as a SIDE x SIDE float32 grey picture (box-averaged)."""
    import numpy as np
    from PIL import Image

    grey = Image.fromarray(image).convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float32)


def same_view(before: Sequence[Any], after: Sequence[Any], tolerance: float = TOLERANCE) -> bool:
    """Whether every frame of both chunks (their signatures) is within ``tolerance`` of the
    first chunk's mean picture: nothing visible changed from one to the other."""
    import numpy as np

    if not before or not after:
        return False
    mean = np.mean(np.stack(before), axis=0)
    return all(float(np.abs(s - mean).mean()) <= tolerance for s in [*before, *after])
