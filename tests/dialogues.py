"""Generated dialogues with known turns (espeak-ng voices), and a diarization error rate.

The voices are ones Resemblyzer's encoder tells apart (benchmarks/RESULTS.md has the similarity
matrix they were chosen from): across these four the highest similarity of two sentences is
0.76, within each voice the lowest is 0.81. Many espeak-ng voices are not separable (en-us+m1
and en-us are 0.94 alike across voices).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

RATE = 16_000
VOICES = {"A": "en-us", "B": "en-029+f4", "C": "en-us+whisper", "D": "en-us+f5:90"}

# (speaker, line, pause before it in seconds). Lines under 1.5 s spoken are marked "# short".
SCRIPTS: dict[int, list[tuple[str, str, float]]] = {
    2: [
        ("A", "Good morning, thank you for coming in to talk about the harbour project.", 0.3),
        ("B", "Happy to be here. We finished the survey of the eastern pier last week.", 0.5),
        ("A", "Really?", 0.4),  # short
        ("B", "Yes, the concrete is cracked along the whole length of the wall.", 0.35),
        ("A", "How much would a full repair cost the council this year?", 0.6),
        ("B", "Roughly four million, spread over two summers of work.", 0.3),
        ("A", "Understood.", 0.45),  # short
        ("B", "We also found a colony of seals living under the old boathouse.", 0.5),
    ],
    3: [
        ("A", "Let us begin the meeting with the budget for the new library.", 0.3),
        ("B", "The architects sent revised drawings with a larger reading room.", 0.5),
        ("C", "Does the larger room change the heating costs in winter?", 0.4),
        ("B", "A little, perhaps ten percent more each year.", 0.35),
        ("A", "Fine.", 0.5),  # short
        ("C", "Then I would like to see the numbers before we vote on it.", 0.3),
        ("A", "Agreed, we will postpone the vote until Thursday afternoon.", 0.6),
        ("B", "No problem.", 0.4),  # short
        ("C", "Please include the cost of the new bicycle shelter as well.", 0.45),
    ],
    4: [
        ("A", "Welcome everyone to the panel on mountain railways.", 0.3),
        ("B", "Thank you, it is wonderful to be back in the valley again.", 0.5),
        ("C", "The first train climbed this pass more than a century ago.", 0.4),
        ("D", "And the tunnel under the glacier took eleven years to dig.", 0.35),
        ("A", "Incredible.", 0.45),  # short
        ("B", "My grandfather worked on that tunnel as a young engineer.", 0.3),
        ("D", "Really?", 0.5),  # short
        ("B", "Yes, he kept a diary of every avalanche that winter.", 0.4),
        ("C", "Those diaries are now in the museum beside the station.", 0.6),
        ("A", "Let us take questions from the audience after the break.", 0.35),
        ("D", "Sure.", 0.5),  # short
        ("C", "I will bring the photographs of the steam engines.", 0.4),
    ],
}

Turn = tuple[float, float, str]


def speak(voice: str, text: str, folder: Path) -> np.ndarray:
    """``text`` in an espeak-ng voice (``name[+variant][:pitch]``) as 16 kHz float32, trimmed."""
    from scipy.signal import resample_poly

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    name, _, pitch = voice.partition(":")
    wav = folder / f"{hashlib.sha1(f'{voice}|{text}'.encode()).hexdigest()[:16]}.wav"
    if not wav.exists():
        command = ["espeak-ng", "-v", name, *(["-p", pitch] if pitch else []), "-w", str(wav), text]
        subprocess.run(command, check=True, capture_output=True)
    with wave.open(str(wav)) as f:
        rate = f.getframerate()
        samples = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float32) / 32768
    audio = resample_poly(samples, RATE, rate).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max())
    return audio[loud[0] : loud[-1] + 1] if len(loud) else audio[:0]


def dialogue(
    script: list[tuple[str, str, float]], folder: Path, lead_s: float = 0.5
) -> tuple[np.ndarray, list[Turn]]:
    """The mixed audio of a script and its true turns (start, end, speaker). A speaker is a
    letter of ``VOICES`` or an espeak-ng voice itself."""
    folder.mkdir(parents=True, exist_ok=True)
    pieces, turns, at = [], [], lead_s
    for speaker, text, pause in script:
        at += pause
        voice = speak(VOICES.get(speaker, speaker), text, folder)
        pieces.append((int(at * RATE), voice))
        turns.append((round(at, 3), round(at + len(voice) / RATE, 3), speaker))
        at += len(voice) / RATE
    audio = np.zeros(int((at + lead_s) * RATE), np.float32)
    for offset, voice in pieces:
        audio[offset : offset + len(voice)] += 0.5 * voice
    return audio, turns


def write_video(audio: np.ndarray, path: Path) -> Path:
    """A still-picture video carrying ``audio`` (AAC), to index and diarize like any other."""
    from tests.media import ffmpeg

    raw = path.with_suffix(".wav")
    with wave.open(str(raw), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(RATE)
        f.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    seconds = f"{len(audio) / RATE:.3f}"
    ffmpeg("-f", "lavfi", "-i", f"color=c=navy:size=160x120:rate=5:duration={seconds}",
           "-i", str(raw), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           str(path))  # fmt: skip
    return path


def der(
    reference: list[Turn], hypothesis: list[Turn], collar: float = 0.25, step: float = 0.01
) -> float:
    """Diarization error rate: (missed + false alarm + confused speech) / reference speech.

    Frames of ``step`` seconds; ``collar`` seconds either side of every reference boundary are
    not scored; hypothesis speakers map one-to-one onto reference speakers to minimise the error
    (Hungarian). One speaker per frame (the reference here has no overlaps).
    """
    from scipy.optimize import linear_sum_assignment

    end = max([t[1] for t in reference + hypothesis] + [0.0])
    n = int(end / step) + 2

    def at(seconds: float) -> int:
        return max(0, round(seconds / step))

    ref_names = sorted({t[2] for t in reference})
    hyp_names = sorted({t[2] for t in hypothesis})
    ref = np.full(n, -1)
    hyp = np.full(n, -1)
    scored = np.ones(n, bool)
    for a, b, who in reference:
        ref[at(a) : at(b)] = ref_names.index(who)
        for edge in (a, b):
            scored[at(edge - collar) : at(edge + collar)] = False
    for a, b, who in hypothesis:
        hyp[at(a) : at(b)] = hyp_names.index(who)
    ref, hyp = ref[scored], hyp[scored]
    total = int((ref >= 0).sum())
    if total == 0:
        return 0.0 if (hyp < 0).all() else 1.0
    missed = int(((ref >= 0) & (hyp < 0)).sum())
    false_alarm = int(((ref < 0) & (hyp >= 0)).sum())
    both = (ref >= 0) & (hyp >= 0)
    overlap = np.zeros((len(ref_names), max(len(hyp_names), 1)))
    np.add.at(overlap, (ref[both], hyp[both]), 1)
    rows, cols = linear_sum_assignment(-overlap)
    confused = int(both.sum() - overlap[rows, cols].sum())
    return (missed + false_alarm + confused) / total
