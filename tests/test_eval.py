"""``eval``: the common format, reading the chosen option, scoring, caching, CLI output (the published
benchmarks: tests/test_benchmark_formats.py and tests/test_benchmark_eval.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.errors import InputError
from longvid.pipeline.benchmarks import Item, answer_index, load_benchmark
from longvid.pipeline.evaluate import read_choice
from tests.fake_openai import FakeServer, completion, serve

runner = CliRunner()


def write(path: Path, rows: object) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_common_format_with_letters_or_indices(tmp_path: Path) -> None:
    bench = write(tmp_path / "b.json", [
        {"id": "q1", "video": "v.mp4", "question": "Q?", "options": ["x", "y"], "answer": "B", "category": "c"},
        {"id": "q2", "video": "/abs/w.mp4", "question": "R?", "options": ["x", "y", "z"], "answer": 2},
    ])  # fmt: skip
    name, items = load_benchmark(bench)
    assert name == "common"
    assert items[0] == Item("q1", str(tmp_path / "v.mp4"), "Q?", ("x", "y"), 1, "c")
    assert (items[1].video, items[1].answer) == ("/abs/w.mp4", 2)
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in json.loads(bench.read_text())))
    assert load_benchmark(jsonl, videos_dir="/videos")[1][0].video == "/videos/v.mp4"


@pytest.mark.parametrize(("rows", "message"), [
    ([], "no questions"),
    ([{"movie": "x"}], "not a benchmark file longvid knows"),
    ([{"video": "v", "question": "q", "options": ["a"], "answer": "Z"}], "neither an index nor a letter"),
    ([{"video": "v", "question": "q", "options": ["a"], "answer": 3}], "out of range"),
])  # fmt: skip
def test_bad_benchmark_files(tmp_path: Path, rows: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_benchmark(write(tmp_path / "bad.json", rows))


def test_reading_the_chosen_option() -> None:
    options = ["seven fifteen", "eight forty", "noon"]
    assert [read_choice(r, options) for r in ["B", "(C) noon", "The answer is b.", "answer: C", "C - late"]] == [
        1, 2, 1, 2, 2]  # fmt: skip
    assert read_choice("It leaves at seven fifteen [00:00:12]", options) == 0
    assert read_choice("no idea", options) is None
    assert read_choice("not found in the video: B", options) == 1  # an abstention still picks
    assert read_choice("It docks after one hour", ["Ten minutes.", "One hour.", "On time."]) == 1
    assert answer_index("(D)", 5) == 3 and answer_index(None, 5) is None


def test_eval_scores_caches_and_reports(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    """A 'reader' LLM picks the option its evidence mentions; the harness must score it right."""
    bench = write(tmp_path / "facts.json", [
        {"id": "ferry", "video": str(facts_video), "question": "When does the ferry leave?",
         "options": ["At 07:15", "At noon", "At 21:00"], "answer": "A", "category": "time", "time": 12.0},
        {"id": "captain", "video": str(facts_video), "question": "Who checks the engine?",
         "options": ["The cook", "Captain Mira Okafor"], "answer": 1, "category": "people"},
        {"id": "bread", "video": str(facts_video), "question": "What does bread cost?",
         "options": ["Three euros", "Ten euros"], "answer": "B", "category": "numbers"},  # wrong on purpose
    ])  # fmt: skip

    def reader(body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
        prompt = body["messages"][-1]["content"]
        evidence, options = (
            prompt.split("Question:")[0].lower(),
            re.findall(r"\(([A-E])\) (.+)", prompt),
        )

        def words(text):
            return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 3 or w.isdigit()}

        best = max(options, key=lambda o: len(words(o[1]) & words(evidence)))
        return 200, completion(
            json.dumps({"answer": f"{best[0]}. {best[1]}", "enough": True, "found": True})
        )

    server = FakeServer(script=[reader] * 10)
    args = [
        "eval",
        str(bench),
        "--json",
        "--llm",
        "",
        "--store",
        str(tmp_path / "store"),
        "--no-inspect",
        "-q",
    ]
    with serve(server) as url:
        args[4] = f"openai:reader@{url}"
        index = runner.invoke(app, ["index", str(facts_video), "--store", str(tmp_path / "store"), "--captioner",
                                    "none", "--asr", "none", "--ocr", "none", "--embedder",
                                    str(tiny_model("sentence_transformer"))])  # fmt: skip
        assert index.exit_code == 0, index.output
        first = runner.invoke(app, args)
        calls = len(server.requests)
        again = runner.invoke(app, args)
        text = runner.invoke(app, args[:2] + args[3:])  # without --json
        compared = runner.invoke(app, [*args[:2], *args[3:], "--compare"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["format"], report["correct"], report["total"]) == ("common", 2, 3)
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    numbers = report["categories"]["numbers"]
    assert (numbers["accuracy"], numbers["correct"], numbers["total"]) == (0.0, 0, 1)
    assert numbers["mean_steps"] == 1 and numbers["mean_tokens"] > 0 and "recall_at_5" not in numbers
    assert report["categories"]["time"]["recall_at_5"] == 1.0  # its time is known
    assert [q["predicted"] for q in report["questions"]] == [0, 1, 0]
    assert {"id", "question", "options", "answer", "predicted", "correct", "response", "frames_captioned",
            "frames_inspected", "elapsed_s"} <= set(report["questions"][0])  # fmt: skip
    ferry = report["questions"][0]
    assert (
        ferry["recall_at_5"] is True and ferry["time_error_s"] == 0.0
    )  # cited [00:00:12–00:00:15]
    assert report["recall_at_5"] == 1.0 and "recall_at_5" not in report["questions"][1]
    assert calls == 3 and len(server.requests) == 6  # runs 2-3 from the cache; --compare: 3 baseline calls
    assert json.loads(again.stdout)["questions"] == report["questions"]
    assert "accuracy 66.7% (2/3)" in text.stdout and "numbers" in text.stdout
    lines = compared.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["category", "run"])
    table = [line.split() for line in lines[head:] if line.startswith("  ")]
    assert table[0][:5] == ["category", "run", "accuracy", "citations", "recall@5"]
    rows = {(row[0], row[1]): row[2:] for row in table[1:]}
    assert rows[("all", "agent")][:2] == ["66.7%", "(2/3)"] and ("all", "baseline") in rows
    assert rows[("time", "agent")][2:4] == ["100%", "100%"]  # citation accuracy, recall@5
    assert rows[("people", "baseline")][2:4] == ["-", "-"]  # no time given: nothing to check


def test_recall_and_time_error_against_spans() -> None:
    from longvid.pipeline.evaluate import _timing

    record = {"top5_spans": [[100.0, 104.0], [25.0, 25.0]], "cited_spans": [[50.0, 60.0]]}
    shown = _timing(10.0, 40.0, record)  # on screen from 10 s to 40 s
    assert shown == {"time": 10.0, "recall_at_5": True, "cited_overlap": False, "time_error_s": 10.0}
    assert _timing(55.0, 58.0, record)["cited_overlap"] is True  # the cited 50-60 s holds it
    said = _timing(97.0, None, record)  # said at 97 s: 3 s before the nearest span
    assert said["recall_at_5"] is False and said["time_error_s"] == 37.0
    assert _timing(None, None, record) == {}
