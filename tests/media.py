"""Test media made on the fly with ffmpeg (lavfi sources) and PyAV. Nothing is downloaded."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

H264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p")
# Visually distinct lavfi sources; consecutive ones make hard cuts.
SOURCES = ("testsrc", "smptebars", "rgbtestsrc", "pal100bars", "testsrc2", "yuvtestsrc")


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail the test with its stderr if it fails."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    done = subprocess.run(["ffmpeg", "-v", "error", "-y", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ffmpeg failed: {done.stderr}")


def shots_video(
    path: Path,
    lengths: list[float],
    fps: int = 25,
    size: str = "320x240",
    audio: bool = False,
    extra: tuple[str, ...] = (),
) -> Path:
    """A video of hard cuts: shot i lasts lengths[i] seconds. Cuts at the running sums."""
    inputs: list[str] = []
    for i, length in enumerate(lengths):
        source = SOURCES[i % len(SOURCES)]
        inputs += ["-f", "lavfi", "-i", f"{source}=size={size}:rate={fps}:duration={length}"]
    graph = "".join(f"[{i}]" for i in range(len(lengths))) + f"concat=n={len(lengths)}:v=1:a=0[v]"
    args = [*inputs]
    maps = ["-map", "[v]"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={sum(lengths)}"]
        maps += ["-map", f"{len(lengths)}:a", "-c:a", "aac"]
    ffmpeg(
        *args,
        "-filter_complex",
        graph,
        *maps,
        *H264,
        *extra,
        str(path),
    )
    return path


def cut_times(lengths: list[float]) -> list[float]:
    """The cut times of ``shots_video(lengths)``."""
    times, total = [], 0.0
    for length in lengths[:-1]:
        total += length
        times.append(round(total, 6))
    return times


def spoken_video(
    path: Path, lines: list[tuple[float, str]], duration: float, shot_s: float = 20.0
) -> Path:
    """Shots of ``shot_s`` seconds with espeak-ng saying each (start time, sentence) line."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = path.parent / f"{path.stem}-voice"
    folder.mkdir(exist_ok=True)
    inputs, labels = [], []
    for i, (start, text) in enumerate(lines):
        wav = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "135", "-w", str(wav), text], check=True)
        inputs += ["-i", str(wav)]
        delay = round(start * 1000)
        labels.append(f"[{i}]adelay={delay}|{delay}[v{i}]")
    mix = ";".join(labels) + ";" + "".join(f"[v{i}]" for i in range(len(lines)))
    audio = folder / "speech.wav"
    ffmpeg(*inputs, "-filter_complex", f"{mix}amix=inputs={len(lines)}:normalize=0,apad=whole_dur={duration}",
           "-t", str(duration), str(audio))  # fmt: skip
    shots = [shot_s] * int(duration // shot_s) + ([duration % shot_s] if duration % shot_s else [])
    silent = shots_video(folder / "video.mp4", shots)
    ffmpeg("-i", str(silent), "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac",
           "-shortest", str(path))  # fmt: skip
    return path
