"""Who speaks when: diarization error, speaker-count accuracy and speed of the offline backend.

    python benchmarks/speakers.py [--per-count 3] [--turns 14] [--sweep] [--matrix] [--video] [--long MIN]

Generates dialogues of 2, 3 and 4 espeak-ng speakers (seeded: lines drawn from a bank with about a
quarter under 1.5 s, pauses of 0.2-0.8 s) from three pools of voices: ``separable`` (the four the
tests use), ``harder`` (six, the closest pair 0.79 alike to the encoder) and ``alike`` (voices the
encoder barely tells apart), and scores the Resemblyzer backend at its defaults: diarization
error rate (collar 0.25 s, the tests' ``der``), whether it found the right number of speakers,
and seconds of compute per minute of audio (voice activity + voice vectors + clustering; the
encoder's load is printed apart). ``--sweep`` scores the clustering threshold over a range on
the same voice vectors; ``--matrix`` prints the encoder's similarity matrix of espeak-ng voices
(lowest within a voice on the diagonal, highest across voices elsewhere). ``--video`` also times
the channel end to end over one indexed dialogue video (decode, diarize, store); ``--long 25``
runs one 25-minute recording through it in its 10-minute windows (memory stays flat).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from longvid.models.diarize import SpeakerCount, regions, segments, speech_frames
from longvid.models.speakers import ResemblyzerDiarizer, _turns, assign
from tests.dialogues import RATE, VOICES, der, dialogue, speak

POOLS = {
    "separable": list(VOICES.values()),
    "harder": [*VOICES.values(), "en-us+klatt", "en-gb-scotland+f2"],
    "alike": ["en-us", "en-us+m1", "en-gb-scotland+m3", "en-us+croak", "en-gb+m3"],
}
LINES = [
    "The harbour master closed the eastern pier after the storm last night.",
    "We need the figures for the second quarter before Friday.",
    "I spoke to the architect about the new reading room this morning.",
    "The train to the mountains leaves every hour from platform four.",
    "Nobody expected the river to rise so quickly in September.",
    "Could you explain why the bridge repairs cost twice as much?",
    "My sister runs a bakery on the corner of the market square.",
    "The committee will vote on the proposal next Thursday afternoon.",
    "There were seals sleeping under the old boathouse again.",
    "Honestly, I think the plan is too ambitious for one summer.",
    "The museum keeps the engineer's diaries in a glass case.",
    "Let us come back to the question of the bicycle shelter.",
    "Our survey found cracks along the whole length of the wall.",
    "The heating bill rose by ten percent over the winter.",
    "I would like to see the drawings before we decide anything.",
    "The glacier tunnel took eleven years to finish.",
    "Yes.", "Really?", "Exactly.", "Of course.", "I see.", "Not at all.", "Fine.", "Go on.",
]  # fmt: skip
MATRIX_VOICES = ["en-us", "en-us+m1", "en-gb-scotland+m3", "en-us+klatt", "en-gb-x-gbclan+m7",
                 "en-us+whisper", "en-us+f3", "en-029+f4", "en-gb-scotland+f2", "en-gb-x-rp+f5",
                 "en-us-nyc+f1", "en-us+f5:90"]  # fmt: skip


def script(
    rng: random.Random, voices: list[str], speakers: int, turns: int
) -> list[tuple[str, str, float]]:
    """``turns`` lines among ``speakers`` of the voices, no one twice in a row, everyone at least twice."""
    chosen = rng.sample(voices, speakers)
    order: list[str] = []
    while len(order) < turns:
        order.append(rng.choice([v for v in chosen if not order or v != order[-1]]))
    if any(order.count(v) < 2 for v in chosen):
        return script(rng, voices, speakers, turns)
    return [(v, rng.choice(LINES), round(rng.uniform(0.2, 0.8), 2)) for v in order]


def pieces_and_vectors(
    diarizer: ResemblyzerDiarizer, audio: np.ndarray
) -> tuple[list, np.ndarray, np.ndarray]:
    """What ``diarize`` does before clustering: voice activity, pieces, their voice vectors."""
    s = diarizer.settings
    pieces = segments(
        regions(speech_frames(audio, RATE, s.aggressiveness)), s.pause_s, s.max_piece_s
    )
    parts = [
        p for a, b in pieces for p in diarizer.embed_piece(audio[int(a * RATE) : int(b * RATE)], a)
    ]
    vectors = np.stack([v for _, _, v in parts])
    return [(a, b) for a, b, _ in parts], vectors, np.array([b - a for a, b, _ in parts])


def score(diarizer: ResemblyzerDiarizer, threshold: float, data: tuple) -> tuple[float, int]:
    pieces, vectors, lengths, truth = data
    settings = replace(diarizer.settings, threshold=threshold)
    labels = assign(vectors, lengths, settings, SpeakerCount())
    found = _turns(pieces, labels, vectors, lengths, settings.join_s)
    return der(truth, [(t.start, t.end, t.speaker) for t in found.turns]), len(found.voices)


def matrix(diarizer: ResemblyzerDiarizer, folder: Path) -> None:
    sentences = [LINES[0], LINES[5], LINES[9]]
    vectors = {v: np.stack([diarizer.embed(speak(v, s, folder)) for s in sentences])
               for v in MATRIX_VOICES}  # fmt: skip
    print("\n| voice | " + " | ".join(str(i) for i in range(len(MATRIX_VOICES))) + " |")
    print("|---|" + "---|" * len(MATRIX_VOICES))
    for i, a in enumerate(MATRIX_VOICES):
        cells = []
        for b in MATRIX_VOICES:
            sims = vectors[a] @ vectors[b].T
            cells.append(f"{(sims[np.triu_indices(3, 1)].min() if a == b else sims.max()):.2f}")
        print(f"| {i} {a} | " + " | ".join(cells) + " |")


def end_to_end(diarizer: ResemblyzerDiarizer, audio: np.ndarray, folder: Path) -> None:
    """Index a dialogue video (no models but the packaged embedder) and time the channel alone."""
    from longvid.models.registry import load
    from longvid.pipeline.index import IndexModels, index_video
    from longvid.pipeline.speakers import find_speakers, open_indexed
    from tests.dialogues import write_video

    video = write_video(audio, folder / "dialogue.mp4")
    root = folder / "store"
    index_video(video, IndexModels(embedder=load("embedder")), root)
    memory = open_indexed(root, video)
    started = time.perf_counter()
    result = find_speakers(memory, video, diarizer)
    elapsed = time.perf_counter() - started
    minutes = len(audio) / RATE / 60
    print(f"\nend to end (decode + diarize + store) on a {minutes * 60:.0f} s video: {elapsed:.2f} s, "
          f"{elapsed / minutes:.2f} s per audio minute, {len(result.speakers)} speakers")  # fmt: skip
    memory.close()


def long_recording(diarizer: ResemblyzerDiarizer, minutes: float, folder: Path) -> None:
    """One long recording (dialogues of the four test voices back to back) through the channel
    in its default 10-minute windows: DER, speakers, time and the process's peak memory."""
    import resource

    from longvid.models.registry import load
    from longvid.pipeline.index import IndexModels, index_video
    from longvid.pipeline.speakers import find_speakers, open_indexed
    from tests.dialogues import write_video

    rng = random.Random(3)
    audio_parts, truth, at = [], [], 0.0
    while at < minutes * 60:
        audio, turns = dialogue(
            script(rng, list(VOICES), rng.choice([2, 3, 4]), 14), folder / "voices"
        )
        audio_parts.append(audio)
        truth += [(a + at, b + at, who) for a, b, who in turns]
        at += len(audio) / RATE
    audio = np.concatenate(audio_parts)
    video = write_video(audio, folder / "long.mp4")
    root = folder / "long-store"
    index_video(video, IndexModels(embedder=load("embedder")), root)
    memory = open_indexed(root, video)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    result = find_speakers(memory, video, diarizer)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hyp = [(a, b, s.id) for s in result.speakers for a, b in s.turns]
    print(f"\nlong recording: {at / 60:.1f} min, {result.windows_computed} windows, DER {der(truth, hyp):.3f}, "
          f"{len(result.speakers)} speakers (4 true), {elapsed:.1f} s wall ({elapsed / (at / 60):.2f} s "
          f"per audio minute, CPU {cpu / (at / 60):.2f}), peak RSS {before:.0f} MiB before, {peak:.0f} MiB after")  # fmt: skip
    memory.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--per-count", type=int, default=3, help="dialogues per number of speakers and pool"
    )
    parser.add_argument("--turns", type=int, default=14)
    parser.add_argument("--sweep", action="store_true", help="score thresholds 0.15-0.40 too")
    parser.add_argument("--matrix", action="store_true", help="print the voice similarity matrix")
    parser.add_argument(
        "--video", action="store_true", help="time the channel over an indexed video"
    )
    parser.add_argument("--long", type=float, default=0, metavar="MINUTES",
                        help="also one long recording of that many minutes, in 10-minute windows")  # fmt: skip
    args = parser.parse_args()
    model = subprocess.run(
        ["sh", "-c", "lscpu | grep 'Model name'"], capture_output=True, text=True
    ).stdout
    print(f"{time.strftime('%Y-%m-%d')}  {model.split(':', 1)[-1].strip()}")
    started = time.perf_counter()
    diarizer = ResemblyzerDiarizer("cpu")
    import torch

    torch.set_num_threads(diarizer.settings.threads)  # as diarize() does while it runs
    print(f"encoder load (imports included): {time.perf_counter() - started:.2f} s")
    folder = Path(tempfile.mkdtemp(prefix="longvid-speakers-"))
    diarizer.embed(speak(VOICES["A"], LINES[0], folder))  # first call: librosa's lazy set-up
    if args.matrix:
        matrix(diarizer, folder)
    thresholds = [0.15, 0.2, 0.22, 0.25, 0.28, 0.3, 0.35, 0.4]
    sweep: dict[str, dict[float, list[tuple[float, bool]]]] = {}
    print(
        "\n| pool | speakers | dialogues | audio s | DER mean | DER max | count right | wall s per audio min | CPU s per audio min |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rng = random.Random(27)
    first_audio = None
    for pool, voices in POOLS.items():
        for speakers in (2, 3, 4):
            ders, right, seconds, compute, cpu = [], 0, 0.0, 0.0, 0.0
            for _ in range(args.per_count):
                audio, truth = dialogue(
                    script(rng, voices, speakers, args.turns), folder / "voices"
                )
                first_audio = audio if first_audio is None else first_audio
                t0, c0 = time.perf_counter(), time.process_time()
                pieces, vectors, lengths = pieces_and_vectors(diarizer, audio)
                error, found = score(
                    diarizer, diarizer.settings.threshold, (pieces, vectors, lengths, truth)
                )
                compute += time.perf_counter() - t0
                cpu += time.process_time() - c0
                seconds += len(audio) / RATE
                ders.append(error)
                right += found == speakers
                for th in thresholds if args.sweep else []:
                    e, f = score(diarizer, th, (pieces, vectors, lengths, truth))
                    sweep.setdefault(pool, {}).setdefault(th, []).append((e, f == speakers))
            if not ders:
                continue
            print(f"| {pool} | {speakers} | {len(ders)} | {seconds:.0f} | {statistics.mean(ders):.3f} | "
                  f"{max(ders):.3f} | {right}/{len(ders)} | {compute / (seconds / 60):.2f} | {cpu / (seconds / 60):.2f} |")  # fmt: skip
    if args.sweep:
        print("\nthreshold sweep: DER mean / speaker count right, per pool")
        print("| threshold | " + " | ".join(POOLS) + " |")
        print("|---|" + "---|" * len(POOLS))
        for th in thresholds:
            cells = []
            for pool in POOLS:
                rows = sweep[pool][th]
                cells.append(
                    f"{statistics.mean(e for e, _ in rows):.3f} / {sum(r for _, r in rows)}/{len(rows)}"
                )
            print(f"| {th:.2f} | " + " | ".join(cells) + " |")
    if args.video and first_audio is not None:
        end_to_end(diarizer, first_audio, folder)
    if args.long:
        long_recording(diarizer, args.long, folder)


if __name__ == "__main__":
    main()
