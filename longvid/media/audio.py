"""Audio for speech recognition: decoded once, resampled to 16 kHz mono, in bounded windows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from longvid.errors import CorruptVideoError
from longvid.media.opening import REMUX_HINT, check_readable
from longvid.timeline import Span

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000


def iter_audio(
    path: str | os.PathLike[str],
    window_s: float = 600.0,
    rate: int = SAMPLE_RATE,
    span: Span | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (offset seconds, mono float32 samples) windows of the first audio stream.

    Memory stays at one window whatever the file's length. Yields nothing if there is no audio.
    With a ``span``, only that time range (to within one audio frame) is decoded.
    """
    import av
    import numpy as np

    check_readable(path)
    span = span or Span()
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            return
        stream: Any = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        size = int(window_s * rate)
        pending: list[np.ndarray] = []
        held = 0
        origin = float((stream.start_time or 0) * stream.time_base)  # the first sample is 0 s
        offset = None if span.start > 0 else 0.0
        if span.start > 0:
            container.seek(round((span.start + origin) / stream.time_base), stream=stream)
        try:
            for frame in container.decode(stream):
                shown = (frame.time if frame.time is not None else origin) - origin
                if shown + frame.samples / frame.sample_rate <= span.start:
                    continue  # a seek lands early
                if span.end is not None and shown >= span.end:
                    break
                offset = shown if offset is None else offset
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    held += pending[-1].size
                while held >= size:
                    block = np.concatenate(pending)
                    yield offset, block[:size]
                    offset += window_s
                    pending, held = [block[size:]], block.size - size
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise CorruptVideoError(
                f"{path}: audio cannot be decoded ({exc})", REMUX_HINT
            ) from None
        if pending and sum(p.size for p in pending):
            yield offset or 0.0, np.concatenate(pending)


def load_audio(path: str | os.PathLike[str], rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole first audio stream as mono float32 (empty if there is none)."""
    import numpy as np

    blocks = [samples for _, samples in iter_audio(path, window_s=3600.0, rate=rate)]
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
