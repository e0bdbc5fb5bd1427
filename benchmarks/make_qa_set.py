"""Build the built-in QA set: a long video of scenes with spoken and on-screen facts, and questions.

    python benchmarks/make_qa_set.py OUT_DIR [--minutes 20]
    longvid eval OUT_DIR/questions.json

Each 30-second scene has a hard cut, a title drawn on screen (a gate number) and a narrated
sentence (espeak-ng) with a destination, a boat colour and a passenger count. Questions ask for
spoken facts and on-screen facts, four options each, with the time the fact appears, so
``longvid eval`` reports accuracy, retrieval recall@5 and cited-time error; temporal questions
(right after, right before, which first, how long between, how many) need more than the one
moment a single retrieval finds: they are what ``--agent`` is measured on against ``--no-agent``. Needs ffmpeg with
drawtext, espeak-ng and fonts-dejavu-core. Deterministic: the same minutes give the same set.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
from pathlib import Path

# Plain English destinations: the set tests longvid, not how a small ASR model spells place names.
PLACES = ["castle", "bridge", "lighthouse", "fish market", "beach", "airport", "museum", "stadium",
          "hospital", "library", "station", "garden", "cathedral", "university", "zoo", "factory",
          "farm", "island", "river mouth", "ferry terminal"]  # fmt: skip
COLOURS = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple"]
SOURCES = ["testsrc2", "smptehdbars", "rgbtestsrc", "mandelbrot", "cellauto", "life"]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SCENE_S = 30.0
SPEECH_AT = 8.0  # seconds into each scene


def scenes(minutes: int) -> list[dict[str, object]]:
    rng = random.Random(minutes)
    out = []
    for i in range(int(minutes * 60 // SCENE_S)):
        out.append({
            "start": i * SCENE_S,
            "place": f"the {'old' if i < len(PLACES) else 'new'} {PLACES[i % len(PLACES)]}",
            "colour": rng.choice(COLOURS),
            "passengers": rng.randrange(12, 95),
            "gate": rng.randrange(10, 99),
        })  # fmt: skip
    return out


def questions(items: list[dict[str, object]], video: str) -> list[dict[str, object]]:
    rng = random.Random(len(items))
    out = []
    for i, scene in enumerate(items):
        if i % 2 == 0:
            truth, question, category, when = (
                scene["passengers"],
                f"How many passengers travel to {scene['place']}?",
                "speech",
                scene["start"] + SPEECH_AT,
            )
        else:
            truth, question, category, when = (
                scene["gate"],
                f"Which gate number is shown on screen while the boat to {scene['place']} boards?",
                "on-screen text",
                scene["start"],
            )
        options = {truth}
        while len(options) < 4:
            options.add(rng.randrange(10, 99))
        ordered = sorted(options)
        shown = {"time_end": when + SCENE_S} if category == "on-screen text" else {}
        out.append({"id": f"q{i:02d}", "video": video, "question": question, "options": [str(o) for o in ordered],
                    "answer": ordered.index(truth), "category": category, "time": when, **shown})  # fmt: skip
    return out + temporal_questions(items, video)


def temporal_questions(items: list[dict[str, object]], video: str) -> list[dict[str, object]]:
    """Questions about order and time: right after / right before / which first / how many /
    how long between. Answering them takes more than the one moment a single retrieval finds."""
    rng = random.Random(len(items) + 1)
    places = [str(s["place"]) for s in items]
    out: list[dict[str, object]] = []

    def add(kind: str, question: str, options: list[str], truth: str, when: float | None) -> None:
        rng.shuffle(options)
        entry = {"id": f"t{len(out):02d}", "video": video, "question": question, "options": options,
                 "answer": options.index(truth), "category": f"temporal: {kind}"}  # fmt: skip
        out.append(entry | ({"time": when} if when is not None else {}))

    def speech_at(i: int) -> float:
        return float(items[i]["start"]) + SPEECH_AT  # type: ignore[arg-type]

    def others(*keep: str) -> list[str]:
        return rng.sample([p for p in places if p not in keep], 3)

    for i in range(1, len(items) - 1, 8):
        add("right after", f"Which destination is announced right after the boat to {places[i]}?",
            [places[i + 1], *others(places[i + 1], places[i])], places[i + 1], speech_at(i + 1))  # fmt: skip
        j = i + 2 if i + 2 < len(items) else i
        add("right before", f"Which destination is announced right before the boat to {places[j]}?",
            [places[j - 1], *others(places[j - 1], places[j])], places[j - 1], speech_at(j - 1))  # fmt: skip
        k = rng.randrange(0, len(items))
        first, later = sorted((i, k if k != i else (i + 3) % len(items)))
        add("which first", f"Which boat is announced first: the one to {places[later]} or the one to "
            f"{places[first]}?", [places[first], places[later]], places[first], speech_at(first))  # fmt: skip
        gap = abs(later - first) * SCENE_S / 60
        choices = sorted({gap, gap + 0.5, max(0.5, gap - 0.5), gap * 2 + 1})
        add("how long between", f"How many minutes pass between the announcements of the boats to "
            f"{places[first]} and to {places[later]}?", [f"{c:g}" for c in choices], f"{gap:g}", None)  # fmt: skip
    colour = str(items[0]["colour"])
    count = sum(s["colour"] == colour for s in items)
    add("how many", f"How many {colour} boats are announced in the whole video?",
        [str(n) for n in sorted({count, count + 1, count + 2, max(0, count - 1)})], str(count), None)  # fmt: skip
    return out


def build(out: Path, minutes: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    items = scenes(minutes)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        inputs, graph, audio_inputs, mix = [], [], [], []
        for i, scene in enumerate(items):
            title = folder / f"{i}.txt"
            title.write_text(f"Gate {scene['gate']}")
            inputs += [
                "-t",
                str(SCENE_S),
                "-f",
                "lavfi",
                "-i",
                f"{SOURCES[i % len(SOURCES)]}=size=480x270:rate=25",
            ]
            graph.append(f"[{i}]drawtext=fontfile={FONT}:textfile={title}:fontsize=32:fontcolor=white:"
                         f"box=1:boxcolor=black@0.7:x=(w-text_w)/2:y=h-60[v{i}]")  # fmt: skip
            wav = folder / f"{i}.wav"
            line = f"The {scene['colour']} boat to {scene['place']} carries {scene['passengers']} passengers today."
            subprocess.run(
                ["espeak-ng", "-v", "en-us", "-s", "135", "-w", str(wav), line], check=True
            )
            delay = round((float(scene["start"]) + SPEECH_AT) * 1000)  # type: ignore[arg-type]
            audio_inputs += ["-i", str(wav)]
            mix.append(f"[{len(items) + i}]adelay={delay}|{delay}[a{i}]")
        n = len(items)
        video_graph = (
            ";".join(graph)
            + ";"
            + "".join(f"[v{i}]" for i in range(n))
            + f"concat=n={n}:v=1:a=0[v]"
        )
        audio_graph = (
            ";".join(mix)
            + ";"
            + "".join(f"[a{i}]" for i in range(n))
            + f"amix=inputs={n}:normalize=0[a]"
        )
        video = out / f"harbour-{minutes}min.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *audio_inputs, "-filter_complex",
                        f"{video_graph};{audio_graph}", "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
                        "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", str(n * SCENE_S),
                        str(video)], check=True)  # fmt: skip
    (out / "questions.json").write_text(json.dumps(questions(items, video.name), indent=1))
    print(f"wrote {video} and {out / 'questions.json'} ({n} questions)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--minutes", type=int, default=20)
    args = parser.parse_args()
    build(args.out, args.minutes)


if __name__ == "__main__":
    main()
