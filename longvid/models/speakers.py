"""The speakers channel: audio in, turns (start, end, speaker) and one voice vector per speaker out.

Backends, chosen by spec (``--speakers`` / ``LONGVID_SPEAKERS``):

- ``resemblyzer`` (the default, offline): Resemblyzer's packaged GE2E speaker encoder embeds
  pieces of speech found by voice-activity detection (webrtcvad); agglomerative clustering on
  cosine distance (scikit-learn) finds the speakers, their number found by a distance threshold
  unless the user gives it. ``pip install 'longvid[speakers]'``.
- a pyannote.audio pipeline: a hub id (``pyannote/speaker-diarization-3.1``) or a local
  directory holding its ``config.yaml``. ``pip install pyannote.audio``.
- ``none``: no speakers.

Overlapping speech: the Resemblyzer backend gives each moment to one speaker, the voice that
dominates the piece it falls in; pyannote may return overlapping turns, which are kept.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from longvid.errors import LongvidError, MissingDependencyError
from longvid.models.base import ModelInfo
from longvid.models.diarize import (
    SAMPLE_RATE,
    Diarization,
    Diarizer,
    SpeakerCount,
    Turn,
    centroids,
    cluster,
    first_seen_order,
    regions,
    segments,
    speech_frames,
)
from longvid.models.specs import ModelSpec, SpecError, parse_spec

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Diarization", "Diarizer", "SpeakerCount", "Turn", "load_diarizer", "speakers_spec"]

log = logging.getLogger("longvid")

DEFAULT_SPEC = "resemblyzer"


# --- Resemblyzer: VAD + GE2E vectors + agglomerative clustering -------------------------------


@dataclass(frozen=True)
class ResemblyzerSettings:
    """The tunables, measured on generated dialogues (benchmarks/speakers.py, RESULTS.md)."""

    threshold: float = 0.22  # cosine distance: pieces closer than this on average are one voice
    pause_s: float = 0.2  # a pause this long ends a piece (turns change at pauses)
    max_piece_s: float = 6.0  # longer stretches of speech are cut into pieces this long or less
    change: float = 0.18  # a piece whose two halves are this far apart is cut between them
    change_s: float = 1.5  # ...when each half has at least this much speech
    anchor_s: float = 1.0  # pieces at least this long decide the speakers; shorter ones join one
    min_talk_s: float = 2.5  # a cluster with less speech in long pieces is folded into the nearest
    join_s: float = 0.8  # one speaker's pieces closer than this make one turn
    threads: int = 1  # torch threads while diarizing: the encoder's batches are small, and two
    # threads on a busy 2-core machine ran 5-15x slower than one (benchmarks/RESULTS.md)
    aggressiveness: int = 3  # webrtcvad, 0 (lenient) to 3 (strict)


class ResemblyzerDiarizer(Diarizer):
    """Offline diarization with Resemblyzer's packaged GE2E encoder (a 17 MB model in the wheel)."""

    def __init__(self, device: str = "cpu", settings: ResemblyzerSettings | None = None) -> None:
        self.settings = settings or ResemblyzerSettings()
        self.link_threshold = self.settings.threshold
        try:
            with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder
        except ImportError:
            raise MissingDependencyError("resemblyzer", "speakers") from None
        self.encoder = VoiceEncoder(device, verbose=False)
        self.info = ModelInfo(DEFAULT_SPEC, "resemblyzer", {"device": device,
                              "threshold": self.settings.threshold})  # fmt: skip

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """The unit voice vector of a piece of 16 kHz speech."""
        import numpy as np

        vector = self.encoder.embed_utterance(_level(audio))
        return np.asarray(vector, np.float32)

    def embed_piece(self, audio: np.ndarray, start: float) -> list[tuple[float, float, np.ndarray]]:
        """A piece of speech starting at ``start`` seconds as (start, end, unit vector) parts: one,
        or two where its halves sound like two voices (a change of speaker with no pause).

        The encoder's partial vectors (1.6 s windows every 0.5 s) are split where the mean
        vectors either side are furthest apart; past ``change`` the piece is cut there.
        """
        import numpy as np

        s, rate = self.settings, SAMPLE_RATE
        end = start + len(audio) / rate
        if len(audio) < 2 * s.change_s * rate:
            return [(start, end, self.embed(audio))]
        whole, partials, slices = self.encoder.embed_utterance(
            _level(audio), return_partials=True, rate=2.0
        )
        best, cut = 0.0, 0
        for k in range(1, len(partials)):
            at = slices[k].start / rate
            if at < s.change_s or len(audio) / rate - at < s.change_s:
                continue
            left, right = partials[:k].mean(0), partials[k:].mean(0)
            distance = 1.0 - float(left @ right) / float(
                np.linalg.norm(left) * np.linalg.norm(right)
            )
            if distance > best:
                best, cut = distance, k
        if best < s.change:
            return [(start, end, np.asarray(whole, np.float32))]
        at = round(start + float(slices[cut].start) / rate, 3)
        return [
            (start, at, _unit(partials[:cut].mean(0))),
            (at, end, _unit(partials[cut:].mean(0))),
        ]

    def diarize(
        self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, count: SpeakerCount | None = None
    ) -> Diarization:

        if sample_rate != SAMPLE_RATE:
            raise LongvidError(f"the speaker encoder takes 16 kHz audio, not {sample_rate} Hz",
                               "decode with longvid.media.audio (16 kHz mono)")  # fmt: skip
        s, count = self.settings, count or SpeakerCount()
        with _torch_threads(s.threads):
            return self._diarize(audio, sample_rate, count)

    def _diarize(self, audio: np.ndarray, sample_rate: int, count: SpeakerCount) -> Diarization:
        import numpy as np

        s = self.settings
        flags = speech_frames(audio, sample_rate, s.aggressiveness)
        pieces = segments(regions(flags), s.pause_s, s.max_piece_s)
        if not pieces:
            return Diarization()
        parts = [part for a, b in pieces
                 for part in self.embed_piece(audio[int(a * sample_rate) : int(b * sample_rate)], a)]  # fmt: skip
        pieces = [(a, b) for a, b, _ in parts]
        vectors = np.stack([v for _, _, v in parts])
        lengths = np.array([b - a for a, b in pieces])
        labels = assign(vectors, lengths, s, count)
        return _turns(pieces, labels, vectors, lengths, s.join_s)


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` for a while (0: leave them)."""
    import torch

    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _level(audio: np.ndarray) -> np.ndarray:
    """Speech scaled to one loudness (the encoder's features depend on it)."""
    import numpy as np

    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) or 1.0
    return (audio * (0.03 / rms)).astype(np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    import numpy as np

    return (vector / max(float(np.linalg.norm(vector)), 1e-9)).astype(np.float32)


def assign(
    vectors: np.ndarray, lengths: np.ndarray, s: ResemblyzerSettings, count: SpeakerCount
) -> np.ndarray:
    """A speaker label per piece: the long pieces clustered, then every piece to its nearest voice."""
    import numpy as np

    anchors = lengths >= s.anchor_s
    if not anchors.any():
        anchors = np.ones(len(lengths), bool)
    found = cluster(vectors[anchors], s.threshold, count)
    voices = centroids(vectors[anchors], found, lengths[anchors])
    talk = np.bincount(found, weights=lengths[anchors], minlength=len(voices))
    keep = talk >= s.min_talk_s
    floor = count.exact or count.minimum or 1
    if count.exact is None and keep.sum() >= floor and not keep.all():
        voices = voices[keep]  # a stray noise or one odd word, not a speaker
    labels = np.argmax(vectors @ voices.T, axis=1)
    return labels


def _turns(
    pieces: list[tuple[float, float]],
    labels: np.ndarray,
    vectors: np.ndarray,
    lengths: np.ndarray,
    join_s: float,
) -> Diarization:
    import numpy as np

    order = first_seen_order(labels.tolist())
    names = {label: f"S{rank + 1}" for label, rank in order.items()}
    ranks = np.array([order[int(x)] for x in labels])
    voices = centroids(vectors, ranks, lengths)
    turns: list[Turn] = []
    for (start, end), label in zip(pieces, labels, strict=True):
        speaker = names[int(label)]
        if turns and turns[-1].speaker == speaker and start - turns[-1].end < join_s:
            turns[-1] = Turn(turns[-1].start, end, speaker)
        else:
            turns.append(Turn(start, end, speaker))
    return Diarization(turns, {f"S{i + 1}": voices[i] for i in range(len(voices))})


# --- loading ------------------------------------------------------------------------------------


def speakers_spec(given: str | None = None) -> tuple[str, bool]:
    """The speakers spec (flag, else ``LONGVID_SPEAKERS``/config, else resemblyzer) and whether
    the user chose it."""
    from longvid.config import setting

    chosen = setting("speakers", given)
    return (str(chosen), True) if chosen else (DEFAULT_SPEC, False)


def _pyannote(spec: ModelSpec, device: str) -> Diarizer:
    from longvid.models.speakers_pyannote import PyannoteDiarizer

    return PyannoteDiarizer(spec, device)


def _by_name(spec: ModelSpec, device: str) -> Diarizer:
    if spec.name.lower() == DEFAULT_SPEC:
        return ResemblyzerDiarizer(device)
    return _pyannote(spec, device)


BACKENDS: dict[str, Callable[[ModelSpec, str], Diarizer]] = {"hub": _by_name, "local": _pyannote}


def load_diarizer(given: str | None = None, device: str | None = None) -> Diarizer | None:
    """The speakers backend for a spec (None: off). A default that cannot load warns and is off;
    one the user named loads or raises."""
    from longvid.models.hf_common import pick_device

    text, explicit = speakers_spec(given)
    spec = parse_spec(text)
    if spec.kind == "none":
        return None
    if spec.kind not in BACKENDS:
        raise SpecError(f"a {spec.kind} spec cannot find speakers",
                        "use resemblyzer, a pyannote hub id or pipeline directory, or none")  # fmt: skip
    if device is None:
        from longvid.config import setting

        device = setting("device")
    try:
        return BACKENDS[spec.kind](spec, pick_device(device))
    except MissingDependencyError as exc:
        if explicit:
            raise
        log.warning("speakers are not found (%s) — %s", exc.what, exc.fix)
        return None
