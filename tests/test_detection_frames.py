"""The frames shot detection sees: 4:2:0 frames shrunk from their planes look as swscale's do."""

from __future__ import annotations

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter

from longvid.media.shots import _detection_frame


def _picture() -> np.ndarray:
    """A 320x180 RGB picture: colour blocks over a gradient (every hue, dark to bright)."""
    y, x = np.mgrid[0:180, 0:320]
    image = np.stack([x * 255 // 319, y * 255 // 179, (x + y) * 255 // 498], axis=-1)
    image[20:80, 30:130] = (200, 30, 40)
    image[100:160, 180:300] = (20, 160, 220)
    return image.astype(np.uint8)


@pytest.mark.parametrize(
    ("pixel_format", "colorspace"),
    [("yuv420p", None), ("yuvj420p", None), ("yuv420p", "ITU709")],
)
def test_box_shrunk_frames_match_swscale(pixel_format: str, colorspace: str | None) -> None:
    rgb = av.VideoFrame.from_ndarray(_picture(), format="rgb24")
    frame = rgb.reformat(format=pixel_format, dst_colorspace=colorspace)
    assert frame.format.name == pixel_format
    small = _detection_frame(frame, VideoReformatter())
    expected = VideoReformatter().reformat(frame, 160, 90, format="bgr24", interpolation="AREA")
    assert small.shape == (90, 160, 3) and small.dtype == np.uint8
    difference = np.abs(small.astype(int) - expected.to_ndarray().astype(int))
    assert difference.mean() < 2.0  # chroma siting and rounding; a wrong matrix or range gives > 8


def test_other_formats_and_the_hash_detector_take_swscale_frames() -> None:
    frame = av.VideoFrame.from_ndarray(_picture(), format="rgb24").reformat(format="yuv444p")
    swscale = VideoReformatter().reformat(frame, 160, 90, format="bgr24").to_ndarray()
    assert np.array_equal(_detection_frame(frame, VideoReformatter()), swscale)
    planar = frame.reformat(format="yuv420p")
    swscale = VideoReformatter().reformat(planar, 160, 90, format="bgr24").to_ndarray()
    assert np.array_equal(_detection_frame(planar, VideoReformatter(), boxes=False), swscale)
