"""The model interfaces: one abstract method each. Backends live in sibling modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from longvid.timeline import TimedText

if TYPE_CHECKING:
    import numpy as np

    from longvid.media.frames import Frame

Message = dict[str, Any]
"""A chat message: ``{"role": "system"|"user"|"assistant", "content": str}``."""

__all__ = [
    "CaptionRequest",
    "Captioner",
    "ChatModel",
    "Embedder",
    "Message",
    "ModelInfo",
    "TextReader",
    "TimedText",
    "Transcriber",
    "VisualEmbedder",
]


@dataclass(frozen=True)
class CaptionRequest:
    """One chunk to describe: its span, its frames (with times) and the text around them."""

    start: float
    end: float
    frames: Sequence[Frame]
    transcript: Sequence[TimedText] = ()
    screen_text: Sequence[TimedText] = ()
    instruction: str | None = None

    def with_at_most(self, limit: int) -> CaptionRequest:
        """This request with at most ``limit`` evenly spread frames (budgets are hard caps)."""
        frames = list(self.frames)
        if len(frames) <= limit:
            return self
        step = (len(frames) - 1) / max(limit - 1, 1)
        return replace(self, frames=[frames[round(i * step)] for i in range(limit)])


@dataclass
class ModelInfo:
    """What a loaded model is, for the store and for ``--json`` output."""

    spec: str
    backend: str
    details: dict[str, Any] = field(default_factory=dict)


class Captioner(ABC):
    """A video LLM that describes chunks of frames."""

    info: ModelInfo
    max_frames: int
    """How many frames one request may carry (from the model's context, capped by the user)."""
    batch_size: int = 1
    """How many requests ``caption`` works on at once (batching or requests in flight)."""

    @abstractmethod
    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        """One caption per request, in order."""


class ChatModel(ABC):
    """An LLM that answers chat messages."""

    info: ModelInfo
    context_tokens: int = 4096
    """How much the model reads at once (prompts are packed to fit)."""
    last_usage: tuple[int, int] | None = None
    """Tokens (in, out) of the last reply, where the backend counts them."""

    @abstractmethod
    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        """The assistant's reply. With ``json_schema``, the reply is JSON meant to match it."""


class Transcriber(ABC):
    """Speech to timestamped text."""

    info: ModelInfo

    @abstractmethod
    def transcribe(self, audio: np.ndarray, sample_rate: int = 16_000) -> list[TimedText]:
        """Segments of speech in mono float32 ``audio``, timed in seconds from its start."""


class Embedder(ABC):
    """Texts to unit-length vectors for similarity search."""

    info: ModelInfo
    dimension: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A float32 array of shape (len(texts), dimension), each row L2-normalised."""


class VisualEmbedder(ABC):
    """An image–text dual encoder: frames and texts as unit vectors in one space."""

    info: ModelInfo
    dimension: int

    @abstractmethod
    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB images (H x W x 3 uint8) to a float32 array of unit rows."""

    @abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts to a float32 array of unit rows, comparable with ``embed_images``."""


class TextReader(ABC):
    """On-screen text recognition (OCR)."""

    info: ModelInfo

    @abstractmethod
    def read(self, image: np.ndarray) -> list[str]:
        """Lines of text found in an RGB image, top to bottom."""
