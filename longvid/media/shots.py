"""Shot detection with PySceneDetect, in one decode pass that can also keep frames for captioning.

Frames are timed by their presentation timestamps (PTS), never by index / nominal frame rate,
so cut times are right on variable-frame-rate files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

from longvid.errors import CorruptVideoError, InputError
from longvid.media.frames import Frame, FrameBuffer
from longvid.media.opening import REMUX_HINT, open_video
from longvid.media.probe import VideoInfo, probe
from longvid.timeline import Span

Progress = Callable[[float, float], None]
"""Called with (seconds decoded, total seconds) as the scan advances."""

# Width frames are shrunk to before detection (PySceneDetect uses 256; 160 keeps hard cuts and
# saves a fifth of the pass). Measured in benchmarks/index_overhead.py.
_DETECT_WIDTH = 160
# Decode errors tolerated (concealed by FFmpeg) before a file is called corrupt.
_MAX_BAD_PACKETS = 25
# A decode that stops this much earlier than the container says means a truncated file.
_TRUNCATION_SLACK = 0.05


@dataclass(frozen=True)
class Shot:
    """A continuous shot: ``start`` inclusive, ``end`` exclusive, in seconds."""

    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class ShotOptions:
    """How to detect shots. ``threshold`` None means the detector's own default."""

    detector: str = "adaptive"
    threshold: float | None = None
    min_shot_s: float = 0.6


def _adaptive(threshold: float | None, min_len: float) -> Any:
    from scenedetect.detectors import AdaptiveDetector

    return AdaptiveDetector(adaptive_threshold=threshold or 3.0, min_scene_len=min_len)


def _content(threshold: float | None, min_len: float) -> Any:
    from scenedetect.detectors import ContentDetector

    return ContentDetector(threshold=threshold or 27.0, min_scene_len=min_len)


def _hash(threshold: float | None, min_len: float) -> Any:
    from scenedetect.detectors import HashDetector

    return HashDetector(threshold=threshold or 0.395, min_scene_len=min_len)


DETECTORS: dict[str, Callable[[float | None, float], Any]] = {
    "adaptive": _adaptive,
    "content": _content,
    "hash": _hash,
}


def make_detector(options: ShotOptions) -> Any:
    """Build the PySceneDetect detector named in ``options``."""
    try:
        factory = DETECTORS[options.detector]
    except KeyError:
        names = ", ".join(DETECTORS)
        raise InputError(f"unknown detector '{options.detector}'", f"use one of: {names}") from None
    return factory(options.threshold, float(options.min_shot_s))


class ShotScan:
    """One decode pass over a video: yields each shot as soon as it closes.

    With a ``FrameBuffer``, each shot comes with the frames kept during the same pass, so
    captioning never decodes the file again. After iteration, ``duration`` and
    ``frames_decoded`` hold what decoding found (truer than the container's header).

    With a ``span`` (starting at a keyframe), only that time range is decoded: its first shot
    starts at the span's start and its last shot is closed at the span's end.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        options: ShotOptions | None = None,
        frames: FrameBuffer | None = None,
        progress: Progress | None = None,
        info: VideoInfo | None = None,
        span: Span | None = None,
    ) -> None:
        self.path = str(path)
        self.span = span or Span()
        self.options = options or ShotOptions()
        self.info: VideoInfo = info or probe(path)
        self.buffer = frames
        self.progress = progress
        self.frames_decoded = 0
        self.duration = 0.0

    def __iter__(self) -> Iterator[tuple[Shot, list[Frame]]]:
        from scenedetect.common import FrameTimecode, Timecode

        detector = make_detector(self.options)
        fps = Fraction(self.info.fps).limit_denominator(1001)
        start = self.span.start
        index = 0
        for cuts in self._detect(detector, FrameTimecode, Timecode, fps):
            for cut in cuts:
                if cut - start < 1e-3:
                    continue
                yield Shot(index, start, cut), self._frames_before(cut)
                index, start = index + 1, cut
        self._check_complete()
        end = max(round(self.duration if self.span.end is None else self.span.end, 3), start)
        yield Shot(index, start, end), self._frames_before(float("inf"))

    def _detect(
        self, detector: Any, frame_timecode: Any, timecode: Any, fps: Fraction
    ) -> Iterator[list[float]]:
        """Decode every frame, feed the detector, and yield the cut times it reports."""
        from av.video.reformatter import VideoReformatter

        shrink = VideoReformatter()  # reused: it keeps its scaler instead of building one per frame
        boxes = self.options.detector in _BOX_SHRUNK
        last: Any = None
        for frame, time, ticks in self._decode():
            position = frame_timecode(timecode(pts=ticks, time_base=frame.time_base), fps=fps)
            if self.buffer is not None:
                self.buffer.offer(time, frame)
            small = _detection_frame(frame, shrink, boxes)
            yield [round(c.seconds, 3) for c in detector.process_frame(position, small)]
            last = position
        if last is not None:
            yield [round(c.seconds, 3) for c in detector.post_process(last)]

    def _decode(self) -> Iterator[tuple[Any, float, int]]:
        """Yield (frame, seconds from first frame, PTS ticks from first frame)."""
        import av

        bad = 0
        step = 1 / max(self.info.fps, 1e-3)
        with open_video(self.path) as container:
            stream: Any = container.streams.video[0]
            stream.thread_type = "AUTO"
            first_pts: int | None = stream.start_time  # time zero, as frames.py and players use
            if self.span.start > 0:
                origin = first_pts or 0
                container.seek(origin + round(self.span.start / stream.time_base), stream=stream)
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    bad += 1
                    if bad > _MAX_BAD_PACKETS:
                        raise CorruptVideoError(
                            f"{self.path}: too many damaged frames", REMUX_HINT
                        ) from None
                    continue
                for frame in decoded:
                    pts = frame.pts if frame.pts is not None else (first_pts or 0)
                    first_pts = pts if first_pts is None else first_pts
                    ticks = max(pts - first_pts, 0)
                    time = float(ticks * frame.time_base)
                    if time < self.span.start - 1e-6:  # before the range (a seek lands early)
                        continue
                    if self.span.end is not None and time >= self.span.end - 1e-6:
                        self._finish_progress()
                        return
                    self.frames_decoded += 1
                    self.duration = max(self.duration, time + _frame_length(frame, step))
                    if self.progress and self.frames_decoded % 50 == 0:
                        self.progress(time, self.info.duration)
                    yield frame, time, ticks
        self._finish_progress()

    def _finish_progress(self) -> None:
        if self.progress:
            self.progress(self.duration, self.info.duration)

    def _frames_before(self, time: float) -> list[Frame]:
        return self.buffer.take_until(time) if self.buffer is not None else []

    def _check_complete(self) -> None:
        expected = self.info.duration if self.span.end is None else self.span.end
        if self.frames_decoded == 0:
            raise CorruptVideoError(f"{self.path}: no decodable video frames", REMUX_HINT)
        if expected - self.duration > max(1.0, expected * _TRUNCATION_SLACK):
            raise CorruptVideoError(
                f"{self.path}: video stops at {self.duration:.1f} s of {expected:.1f} s"
                " (truncated or damaged file)",
                "re-copy the file, or re-mux what is left: ffmpeg -i IN -c copy OUT.mp4",
            )


def _detect_size(frame: Any) -> tuple[int, int]:
    factor = max(1, frame.width // _DETECT_WIDTH)
    return frame.width // factor, frame.height // factor


def _detection_frame(frame: Any, shrink: Any, boxes: bool = True) -> Any:
    """The frame at detection size as BGR, what the detectors take.

    With ``boxes``, 8-bit 4:2:0 frames (nearly every video) are shrunk plane by plane with 2x2
    averages, then converted with the frame's matrix and range: the pixels of an area resize,
    at half the CPU time of swscale's resize and conversion (the largest cost of the pass after
    decoding). Other frames go through swscale (``shrink``).
    """
    width, height = _detect_size(frame)
    full_range = _PLANAR_420.get(frame.format.name) if boxes else None
    if full_range is None:
        return shrink.reformat(frame, width, height, format="bgr24").to_ndarray()
    import cv2
    import numpy as np

    planes = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height]
        planes.append(_box_shrink(rows[:, : plane.width], width, height))
    return cv2.transform(cv2.merge(planes), _yuv_to_bgr(frame.colorspace == _BT709, full_range))


def _box_shrink(image: Any, width: int, height: int) -> Any:
    """Halve by 2x2 averages (a linear resize to exactly half is one) while the result stays at
    least ``width`` x ``height``, then area-resize what is left."""
    import cv2

    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = cv2.resize(image, half, interpolation=cv2.INTER_LINEAR)
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return image


# Detectors fed box-shrunk frames: the same precision and recall as with swscale's on
# benchmarks/shot_detection.py; hash missed a cut more on each video, so it keeps swscale's.
_BOX_SHRUNK = {"adaptive", "content"}
# 8-bit planar 4:2:0 formats -> whether their samples use the full 0-255 range.
_PLANAR_420 = {"yuv420p": False, "yuvj420p": True}
_BT709 = 1  # AVCOL_SPC_BT709; any other matrix converts as BT.601, as swscale does by default


@cache
def _yuv_to_bgr(bt709: bool, full_range: bool) -> Any:
    """The 3 x 4 matrix taking (Y, Cb, Cr, 1) to (B, G, R), for ``cv2.transform``."""
    import numpy as np

    kr, kb = (0.2126, 0.0722) if bt709 else (0.299, 0.114)
    kg = 1 - kr - kb
    luma, chroma, black = (1.0, 1.0, 0.0) if full_range else (255 / 219, 255 / 224, 16.0)
    rows = [
        (2 * (1 - kb), 0.0),
        (-2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg),
        (0.0, 2 * (1 - kr)),
    ]
    return np.array(
        [
            [luma, chroma * cb, chroma * cr, -luma * black - 128 * chroma * (cb + cr)]
            for cb, cr in rows
        ],
        np.float32,
    )


def _frame_length(frame: Any, fallback: float) -> float:
    if frame.duration:
        return float(frame.duration * frame.time_base)
    return fallback


def detect_shots(
    path: str | os.PathLike[str],
    options: ShotOptions | None = None,
    progress: Progress | None = None,
) -> list[Shot]:
    """Detect the shots of a video in one call. Times are seconds from the first frame."""
    return [shot for shot, _ in ShotScan(path, options, progress=progress)]
