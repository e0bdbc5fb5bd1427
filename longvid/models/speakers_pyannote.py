"""The pyannote.audio backend of the speakers channel: a speaker-diarization pipeline from a hub
id (``pyannote/speaker-diarization-3.1``, ``pyannote/speaker-diarization-community-1``; gated ones
need ``HF_TOKEN``) or a local directory holding its ``config.yaml``. ``pip install pyannote.audio``.

Overlapping speech: pyannote may return overlapping turns; they are kept (a speech segment then
goes to the speaker who overlaps it most).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from longvid.errors import LongvidError, MissingDependencyError
from longvid.models.base import ModelInfo
from longvid.models.diarize import (
    SAMPLE_RATE,
    Diarization,
    Diarizer,
    SpeakerCount,
    Turn,
    first_seen_order,
)
from longvid.models.specs import ModelSpec, SpecError

if TYPE_CHECKING:
    import numpy as np


class PyannoteDiarizer(Diarizer):
    """A pyannote.audio speaker-diarization pipeline (hub id or local directory with config.yaml)."""

    window_s = 1800.0  # pyannote slides its own windows; fewer cuts, fewer links to make
    link_threshold = 0.4

    def __init__(self, spec: ModelSpec, device: str = "cpu") -> None:
        try:
            from pyannote.audio import Pipeline
        except ImportError:
            raise MissingDependencyError("pyannote.audio") from None
        source = spec.name
        if spec.kind == "local":
            config = Path(spec.name) / "config.yaml"
            if not config.is_file():
                raise SpecError(f"{spec.name} holds no pyannote pipeline (no config.yaml)",
                                "pass a pipeline directory, a hub id, or resemblyzer")  # fmt: skip
            source = str(config)
        else:
            _fail_fast_if_uncached(spec.name)
        token = os.environ.get("HF_TOKEN")
        try:
            pipeline = Pipeline.from_pretrained(source, **({"token": token} if token else {}))
        except Exception as exc:  # pyannote raises many kinds; one line says what and what next
            raise LongvidError(f"cannot load the pyannote pipeline '{spec.name}' ({exc})",
                               "check the id or directory, and HF_TOKEN for gated models") from None  # fmt: skip
        if pipeline is None:  # pyannote 3 returns None for a gated model without a token
            raise LongvidError(f"cannot load the pyannote pipeline '{spec.name}'",
                               "accept its terms on the hub and set HF_TOKEN")  # fmt: skip
        import torch

        self.pipeline = pipeline.to(torch.device(device))
        self.info = ModelInfo(str(spec), "pyannote", {"device": device})

    def diarize(
        self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, count: SpeakerCount | None = None
    ) -> Diarization:
        import numpy as np
        import torch

        if not len(audio):
            return Diarization()
        count = count or SpeakerCount()
        given = {"num_speakers": count.exact, "min_speakers": count.minimum,
                 "max_speakers": count.maximum}  # fmt: skip
        options = {k: v for k, v in given.items() if v is not None}
        sound = {"waveform": torch.from_numpy(np.asarray(audio, np.float32))[None],
                 "sample_rate": sample_rate}  # fmt: skip
        try:
            output = self.pipeline(sound, return_embeddings=True, **options)  # pyannote 3.1
        except TypeError:
            output = self.pipeline(sound, **options)  # pyannote 4: embeddings always returned
        if hasattr(output, "speaker_diarization"):
            annotation, embeddings = output.speaker_diarization, output.speaker_embeddings
        elif isinstance(output, tuple):
            annotation, embeddings = output
        else:
            annotation, embeddings = output, None
        return _from_annotation(annotation, embeddings)


def _from_annotation(annotation: Any, embeddings: Any) -> Diarization:
    """A pyannote Annotation (and its speakers' vectors, in ``labels()`` order) as a Diarization."""
    import numpy as np

    tracks = sorted((float(seg.start), float(seg.end), str(label))
                    for seg, _, label in annotation.itertracks(yield_label=True))  # fmt: skip
    order = first_seen_order([hash(label) for _, _, label in tracks])
    rank = {label: f"S{order[hash(label)] + 1}" for _, _, label in tracks}
    turns = [Turn(round(a, 3), round(b, 3), rank[label]) for a, b, label in tracks]
    voices: dict[str, np.ndarray] = {}
    for i, label in enumerate(annotation.labels()):
        if str(label) not in rank:
            continue
        vector = (
            np.zeros(1, np.float32) if embeddings is None else np.asarray(embeddings[i], np.float32)
        )
        norm = float(np.linalg.norm(vector)) if np.isfinite(vector).all() else 0.0
        voices[rank[str(label)]] = vector / norm if norm else np.zeros_like(vector)
    return Diarization(turns, dict(sorted(voices.items(), key=lambda kv: int(kv[0][1:]))))


def _fail_fast_if_uncached(name: str) -> None:
    """A hub pipeline that is neither cached nor reachable fails at once, before pyannote's import."""
    from longvid.models.hf_common import ModelUnavailableError, go_offline_if_hub_unreachable

    if not go_offline_if_hub_unreachable():
        return
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.yaml")
    except ValueError:
        return
    if not isinstance(cached, str):
        raise ModelUnavailableError(
            f"cannot load the speaker pipeline '{name}': not cached and the hub is unreachable",
            "download it once while online, pass a local pipeline directory, or use --speakers resemblyzer",
        )
