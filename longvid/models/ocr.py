"""On-screen text with RapidOCR (ONNX Runtime; models ship inside the package, so it works offline)."""

from __future__ import annotations

from typing import Any

from longvid.errors import MissingDependencyError
from longvid.models.base import ModelInfo, TextReader

# Recognitions below this confidence are dropped (noise on textures).
_MIN_SCORE = 0.6


class RapidOCRReader(TextReader):
    """Lines of text in a frame, top to bottom, left to right."""

    def __init__(self, min_score: float = _MIN_SCORE) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise MissingDependencyError("rapidocr-onnxruntime", "ocr") from None
        self.engine: Any = RapidOCR()
        self.min_score = min_score
        self.info = ModelInfo("rapidocr", "rapidocr-onnxruntime")

    def read(self, image: Any) -> list[str]:
        found, _ = self.engine(image[:, :, ::-1])  # RapidOCR expects OpenCV's BGR order
        lines = [
            (min(y for _, y in box), min(x for x, _ in box), str(text).strip())
            for box, text, score in (found or [])
            if float(score) >= self.min_score and str(text).strip()
        ]
        return [text for _, _, text in sorted(lines)]
