"""Speech recognition: Whisper through transformers, or faster-whisper (CTranslate2) on CPU."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from longvid.errors import MissingDependencyError
from longvid.media.audio import SAMPLE_RATE, iter_audio
from longvid.models.base import ModelInfo, TimedText, Transcriber
from longvid.models.hf_common import load_or_explain, pick_device, pick_dtype
from longvid.models.specs import ModelSpec
from longvid.timeline import Span


class WhisperTransformers(Transcriber):
    """Whisper (any size) via transformers; audio over 30 s uses Whisper's own sequential long-form."""

    def __init__(self, spec: ModelSpec, device: str | None = None) -> None:
        from transformers import pipeline

        self.device = pick_device(device)
        self.pipe = load_or_explain(
            "speech model",
            spec.name,
            lambda: pipeline(
                "automatic-speech-recognition",
                model=spec.name,
                device=self.device,
                dtype=pick_dtype(self.device),
            ),
        )
        self.info = ModelInfo(str(spec), "transformers", {"device": self.device})

    def transcribe(self, audio: Any, sample_rate: int = SAMPLE_RATE) -> list[TimedText]:
        if len(audio) == 0:
            return []
        result: Any = self.pipe(
            {"raw": audio, "sampling_rate": sample_rate}, return_timestamps=True
        )
        length = len(audio) / sample_rate
        chunks = result.get("chunks", [])
        return _clean([(c["timestamp"][0], c["timestamp"][1], c["text"]) for c in chunks], length)


class FasterWhisper(Transcriber):
    """faster-whisper: a size name (``small``), a hub id, or a CTranslate2 model directory."""

    def __init__(self, spec: ModelSpec, device: str | None = None) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise MissingDependencyError("faster-whisper", "asr") from None
        self.device = pick_device(device)
        compute = "float16" if self.device.startswith("cuda") else "int8"
        self.model = load_or_explain(
            "speech model",
            spec.name,
            lambda: WhisperModel(spec.name, device=self.device.split(":")[0], compute_type=compute),
        )
        self.info = ModelInfo(str(spec), "faster-whisper", {"device": self.device})

    def transcribe(self, audio: Any, sample_rate: int = SAMPLE_RATE) -> list[TimedText]:
        if len(audio) == 0:
            return []
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"faster-whisper needs {SAMPLE_RATE} Hz audio")
        import ctranslate2

        # Where greedy decoding fails its checks, Whisper retries by sampling at a higher
        # temperature: seeded, the same audio gives the same words every run.
        ctranslate2.set_random_seed(0)
        segments, _ = self.model.transcribe(
            audio,
            beam_size=5,  # Whisper's own default; greedy decoding hears "fifteen" as "fifty"
            condition_on_previous_text=False,
            vad_filter=True,
            word_timestamps=True,
        )
        # Word times are tight; segment ends otherwise stretch over the silence that follows.
        timed = [
            (s.words[0].start, s.words[-1].end, s.text) if s.words else (s.start, s.end, s.text)
            for s in segments
        ]
        return _clean(timed, len(audio) / sample_rate)


def is_ctranslate2_dir(path: str) -> bool:
    """True for a faster-whisper (CTranslate2) model directory."""
    folder = Path(path)
    return (folder / "model.bin").is_file() and not (folder / "model.safetensors").exists()


def transcribe_video(
    path: str | os.PathLike[str],
    transcriber: Transcriber,
    window_s: float = 600.0,
    span: Span | None = None,
) -> list[TimedText]:
    """Transcribe a video's first audio stream (or one time range of it) window by window
    (bounded memory), timed on its clock."""
    lines: list[TimedText] = []
    for offset, samples in iter_audio(path, window_s=window_s, span=span):
        lines += [
            TimedText(round(t.start + offset, 3), round(t.end + offset, 3), t.text)
            for t in transcriber.transcribe(samples)
        ]
    return lines


def _clean(
    segments: Iterable[tuple[float | None, float | None, str]], length: float
) -> list[TimedText]:
    """Drop empty text; clamp times into the audio; fill a missing end with the audio's end."""
    out = []
    for start, end, text in segments:
        words = " ".join(str(text).split())
        if not words:
            continue
        begin = min(max(float(start or 0.0), 0.0), length)
        finish = min(max(float(end if end is not None else length), begin), length)
        out.append(TimedText(round(begin, 3), round(finish, 3), words))
    return out
