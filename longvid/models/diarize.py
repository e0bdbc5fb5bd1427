"""Who speaks when: the backend interface (``Diarizer``: audio in, ``Diarization`` out) and the
parts of the offline backend that need no model: voice activity, pieces, clustering (numpy +
scikit-learn).

The Resemblyzer backend (``longvid.models.speakers``) embeds each piece these functions cut and
clusters the vectors; the same clustering links the speakers of successive audio windows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from longvid.errors import LongvidError
from longvid.models.base import ModelInfo

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
FRAME_S = 0.03  # webrtcvad takes 10, 20 or 30 ms frames
VAD_RATES = (8000, 16000, 32000, 48000)

Region = tuple[float, float]


@dataclass(frozen=True)
class SpeakerCount:
    """What the user knows about the number of speakers (all None: found by a threshold)."""

    exact: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        given = [n for n in (self.exact, self.minimum, self.maximum) if n is not None]
        if any(n < 1 for n in given):
            raise LongvidError("a number of speakers must be 1 or more", "e.g. --num-speakers 2")
        if self.minimum and self.maximum and self.minimum > self.maximum:
            raise LongvidError(
                f"--min-speakers {self.minimum} is more than --max-speakers {self.maximum}",
                "swap them",
            )
        if self.exact and (self.minimum or self.maximum):
            raise LongvidError(
                "--num-speakers cannot go with --min-speakers or --max-speakers",
                "pass one or the other",
            )

    def clamp(self, found: int, most: int) -> int | None:
        """The cluster count to force instead of ``found`` (None: keep it); ``most``: items."""
        want = found
        if self.maximum:
            want = min(want, self.maximum)
        if self.minimum:
            want = max(want, self.minimum)
        want = min(self.exact or want, most)
        return None if want == found else want

    def to_dict(self) -> dict[str, int | None]:
        return {"exact": self.exact, "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Turn:
    """``speaker`` talks from ``start`` to ``end`` seconds."""

    start: float
    end: float
    speaker: str


@dataclass
class Diarization:
    """Turns in time order and one unit voice vector per speaker (ids ``S1``, ``S2``, ... in the
    order they first speak)."""

    turns: list[Turn] = field(default_factory=list)
    voices: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def speakers(self) -> list[str]:
        return list(self.voices)


class Diarizer(ABC):
    """Who speaks when in a stretch of mono audio."""

    info: ModelInfo
    link_threshold: float = 0.3
    """Cosine distance under which two stretches' speakers are taken for one voice."""
    window_s: float = 600.0
    """How much audio one ``diarize`` call takes (the pipeline links the windows' speakers)."""

    @abstractmethod
    def diarize(
        self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, count: SpeakerCount | None = None
    ) -> Diarization:
        """Turns and voices of mono float32 ``audio``, timed in seconds from its start."""


def speech_frames(audio: np.ndarray, sample_rate: int, aggressiveness: int = 3) -> np.ndarray:
    """One bool per 30 ms frame: speech (webrtcvad) loud enough to stand above the noise floor.

    The energy gate keeps steady noise (fans, hiss) that the detector accepts out of the speech:
    a frame must be within 30 dB of the loudest frames and 6 dB over the quietest tenth.
    """
    import numpy as np
    import webrtcvad

    if sample_rate not in VAD_RATES:
        raise LongvidError(f"voice activity needs 8, 16, 32 or 48 kHz audio, not {sample_rate} Hz",
                           "resample the audio to 16 kHz")  # fmt: skip
    size = int(sample_rate * FRAME_S)
    count = len(audio) // size
    if count == 0:
        return np.zeros(0, bool)
    frames = np.asarray(audio[: count * size], np.float32).reshape(count, size)
    pcm = (np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    vad = webrtcvad.Vad(aggressiveness)
    voiced = np.fromiter((vad.is_speech(row.tobytes(), sample_rate) for row in pcm), bool, count)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10)
    floor, peak = np.percentile(level, 10), np.percentile(level, 99)
    return voiced & (level > max(floor + 6.0, peak - 30.0)) & (level > -60.0)


def regions(flags: np.ndarray, fill_s: float = 0.12, min_s: float = 0.15) -> list[Region]:
    """Runs of speech frames as (start, end) seconds: gaps under ``fill_s`` filled, blips dropped."""
    import numpy as np

    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    runs = [(a * FRAME_S, b * FRAME_S) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    joined: list[Region] = []
    for start, end in runs:
        if joined and start - joined[-1][1] < fill_s:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return [(round(float(a), 3), round(float(b), 3)) for a, b in joined if b - a >= min_s]


def segments(speech: Sequence[Region], pause_s: float = 0.3, max_s: float = 3.0) -> list[Region]:
    """Pieces to embed: speech regions joined over pauses shorter than ``pause_s`` while the
    piece stays under ``max_s``; a longer region is cut into equal pieces of at most ``max_s``
    (so a change of voice with no pause costs at most part of one piece)."""
    pieces: list[Region] = []
    for start, end in speech:
        if pieces and start - pieces[-1][1] < pause_s and end - pieces[-1][0] <= max_s:
            pieces[-1] = (pieces[-1][0], end)
        else:
            pieces.append((start, end))
    out: list[Region] = []
    for start, end in pieces:
        parts = max(1, int(-(-(end - start) // max_s)))
        step = (end - start) / parts
        out += [
            (round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i in range(parts)
        ]
    return out


def cluster(vectors: np.ndarray, threshold: float, count: SpeakerCount | None = None) -> np.ndarray:
    """Cluster unit rows by cosine distance (average linkage): labels 0..k-1.

    The number of clusters is found by ``threshold`` (merge while the mean distance between two
    clusters is under it), then held to ``count``'s bounds.
    """
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    count = count or SpeakerCount()
    n = len(vectors)
    if n == 0:
        return np.zeros(0, int)
    if n == 1:
        return np.zeros(1, int)
    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)

    def fit(k: int | None) -> np.ndarray:
        model = AgglomerativeClustering(
            n_clusters=k, distance_threshold=None if k else threshold,
            metric="precomputed", linkage="average",
        )  # fmt: skip
        return np.asarray(model.fit_predict(distance))

    labels = fit(count.exact) if count.exact and count.exact <= n else fit(None)
    forced = count.clamp(int(labels.max()) + 1, n)
    return fit(forced) if forced else labels


def centroids(vectors: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean unit vector of each label 0..k-1."""
    import numpy as np

    k = int(labels.max()) + 1 if len(labels) else 0
    out = np.zeros((k, vectors.shape[1]), np.float32)
    for label in range(k):
        mine = labels == label
        mean = (vectors[mine] * weights[mine, None]).sum(0)
        out[label] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return out


def first_seen_order(labels: Sequence[int]) -> dict[int, int]:
    """Relabel clusters 0, 1, ... in the order they first speak."""
    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order))
    return order
