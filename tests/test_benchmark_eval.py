"""``longvid eval`` on each benchmark in its published layout, with a scripted answering model on a
fake OpenAI-compatible server: every question read and answered, the published answers joined and
scored as the official scripts do, breakdowns kept, submission files in the official shape, skips
with reasons, resume without re-asking, one-line errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from tests import test_benchmark_formats as layouts
from tests.fake_openai import FakeServer, completion, serve

runner = CliRunner()


@pytest.fixture
def scripted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model: Callable[[str], Path]
) -> Iterator[tuple[FakeServer, Callable[..., Any]]]:
    """A server whose replies pick, per question, the option (letter or text) the test sets."""
    for channel in ("CAPTIONER", "ASR", "OCR", "VISUAL_EMBEDDER"):
        monkeypatch.setenv(f"LONGVID_{channel}", "none")
    monkeypatch.setenv("LONGVID_EMBEDDER", str(tiny_model("sentence_transformer")))
    monkeypatch.chdir(tmp_path)  # submission files land here
    picks: dict[str, str] = {}

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        prompt = body["messages"][-1]["content"]
        if "Respondent's Answer" in prompt:  # the judge of MLVU's open-ended answers
            return 200, completion(
                "Covers the point. {'score_accuracy': 4, 'score_relevance': 5, 'total_score': 9}"
            )
        said = next((text for question, text in picks.items() if question in prompt), "no idea")
        return 200, completion(json.dumps({"answer": said, "enough": True, "found": True}))

    server = FakeServer()
    server.reply_with = reply
    with serve(server) as url:

        def run(*args: str, answers: dict[str, str] | None = None) -> Any:
            picks.update(answers or {})
            result = runner.invoke(app, ["eval", *args, "--llm", f"openai:scripted@{url}", "--no-inspect",
                                         "--store", str(tmp_path / "store"), "-q"])  # fmt: skip
            return result

        run.url = url  # type: ignore[attr-defined]
        yield server, run


def as_json(result: Any) -> dict[str, Any]:
    assert result.stdout.strip(), result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_egoschema_subset_scored_every_question_submitted(tmp_path: Path, scripted: Any) -> None:
    server, run = scripted
    path = layouts.egoschema(tmp_path / "EgoSchema")
    answers = {"goal 0?": "D. goal 0.3", "goal 1?": "(B) goal 1.1", "goal 2?": "C"}
    report = as_json(run(str(path), "--json", answers=answers))
    assert (report["format"], report["split"], report["answered"]) == ("egoschema", "test", 3)
    assert (report["correct"], report["total"], report["unscored"]) == (
        1,
        2,
        1,
    )  # the public 500 only
    assert report["published"] == {"subset_accuracy": 50.0, "subset_questions": 2}
    submission = json.loads((tmp_path / "egoschema_submission.json").read_text())
    assert submission == dict(zip(layouts.EGO_UIDS, [3, 1, 2], strict=True))  # validate.py's shape
    assert report["submission"] == "egoschema_submission.json"
    calls = len(server.requests)
    again = as_json(
        run(str(tmp_path / "EgoSchema" / "subset_answers.json"), "--json")
    )  # the answers file
    assert len(server.requests) == calls  # resumed: nothing asked twice
    assert [q["predicted"] for q in again["questions"]] == [3, 1, 2]


def test_videomme_parquet_with_and_without_subtitles(tmp_path: Path, scripted: Any) -> None:
    server, run = scripted
    path = layouts.videomme(tmp_path / "Video-MME")
    answers = {
        "largest number?": "C. Berries.",
        "genre of this video?": "I cannot tell",
        "final score": "A",
    }
    result = run(str(path), answers=answers)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "accuracy 50.0% (1/2, 1 unscored)" in text  # the reply with no letter is left out
    for field in ("duration", "domain", "sub_category", "task_type"):
        assert re.search(rf"^  {field}\s+accuracy", text, re.M), text
    assert "Counting Problem" in text and '"Overall": 50.0' in text
    asked = len(server.requests)
    report = as_json(run(str(path), "--json", "--subtitles"))
    assert report["subtitles"] is True and report["breakdowns"]["duration"]["short"]["total"] == 1
    prompts = [r["messages"][-1]["content"] for r in server.requests[asked:]]
    assert any("seven fifteen" in p for p in prompts)  # subtitle/<videoID>.srt went into the memory
    assert not any("seven fifteen" in r["messages"][-1]["content"] for r in server.requests[:asked])
    assert not any("<font" in p for p in prompts)
    assert (
        tmp_path / "Video-MME" / "subtitle" / "fFjv93ACGo8.srt"
    ).read_text() == layouts.SRT  # untouched
    shaped = json.loads(run(str(path), "--json", "--submission", "vm.json").stdout.splitlines()[-1])
    template = json.loads((tmp_path / "vm.json").read_text())  # output_test_template.json's shape
    assert shaped["submission"] == "vm.json" and [v["video_id"] for v in template] == ["001", "601"]
    assert (
        template[0]["questions"][0]["options"][0] == "A. Apples."
        and "response" in template[0]["questions"][0]
    )


def test_longvideobench_val_breakdowns_and_test_submission(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    val = layouts.longvideobench(tmp_path / "LongVideoBench")
    answers = {"which subtitles appear": "B", "colour is the car": "B. blue"}
    report = as_json(run(str(val), "--json", answers=answers))
    assert (report["correct"], report["total"]) == (1, 2)
    assert set(report["breakdowns"]) == {"duration_group", "question_category"}
    assert report["published"]["600"] == {"num": 1, "acc": 1.0}  # lmms-eval's printable results
    test = layouts.longvideobench(tmp_path / "LongVideoBench", test=True)
    result = run(str(test), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "longvideobench_test_for_submission.json").read_text()) == {
        "86CxyhFV9MI_0": "B", "4Wy2Zk-HT1g_0": "B"}  # fmt: skip
    assert as_json(result)["split"] == "test"


def test_mlvu_folder_last_match_and_open_ended(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    folder = layouts.mlvu(tmp_path / "MLVU")
    answers = {"main male character": "A", "color is the car": "(C) Red", "hand coming out": "A",
               "golf course": "The man leads the players in."}  # fmt: skip
    result = run(str(folder), answers=answers)
    assert result.exit_code == 0, result.output
    assert "M-Avg 50.0% (2/3, 1 unscored)" in result.stdout
    assert "sub_scene: 1 open-ended answers kept in --json, unscored" in result.stdout
    report = as_json(run(str(folder), "--json"))
    questions = {q["id"]: q for q in report["questions"]}
    assert (
        questions["1_plotQA/1"]["correct"] and questions["1_plotQA/1"]["answer"] == 2
    )  # the last "Red"
    assert questions["2_needle/0"]["answer"] == -1 and not questions["2_needle/0"]["correct"]
    open_ended = questions["8_sub_scene/0"]
    assert "The man leads the players in." in open_ended["response"] and open_ended["reference"]
    assert report["published"] == {"needle": 0.0, "plotQA": 100.0, "Avg": 50.0}
    one = as_json(run(str(folder / "8_sub_scene.json"), "--json"))  # was "unknown benchmark format"
    assert (one["format"], one["answered"], one["unscored"]) == ("mlvu", 1, 1)


def test_nextqa_every_video_found_through_the_map(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    csv = layouts.nextqa(tmp_path / "nextqa")
    answers = {
        "play the instrument": "A",
        "move to the sofa": "C",
        "after picking up": "A",
        "where is this": "B",
    }
    report = as_json(run(str(csv), "--json", answers=answers))
    assert (report["answered"], report["correct"], report["skipped"]) == (4, 3, [])
    assert report["published"]["Bef&Aft"] == 0.0 and report["published"]["Acc"] == 75.0
    assert report["breakdowns"]["group"]["causal"] == {"accuracy": 1.0, "correct": 2, "total": 2}


def test_lvbench_types_and_cited_time(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    path = layouts.lvbench(tmp_path / "LVBench")
    report = as_json(run(str(path), "--json", answers={"referee hold": "C", "crowd cheer": "B"}))
    assert report["published"] == {"KIR": 1.0, "ER": 1.0, "Rea": 0.0, "Overall": 0.5}
    assert report["breakdowns"]["question_type"]["key information retrieval"]["total"] == 1
    assert all(
        "recall_at_5" in q for q in report["questions"]
    )  # time_reference scores the cited time


def test_missing_video_skips_with_reason_and_keeps_answers(tmp_path: Path, scripted: Any) -> None:
    server, run = scripted
    csv = layouts.nextqa(tmp_path / "nextqa")
    (tmp_path / "nextqa" / "NExTVideo" / "0101" / "4010069381.mp4").unlink()
    result = run(str(csv), "--json", answers={"move to the sofa": "C"})
    assert result.exit_code == 1  # an input failed; the others were answered and reported
    report = as_json(result)
    assert report["answered"] == 3 and len(report["skipped"]) == 1
    skip = report["skipped"][0]
    assert (
        skip["questions"] == 1
        and skip["video"].endswith("0101/4010069381.mp4")
        and "no such file" in skip["reason"]
    )
    asked = len(server.requests)
    text = run(str(csv))
    assert len(server.requests) == asked  # nothing already answered is asked again
    assert "skipped 1 question(s) of" in text.stderr and "no such file" in text.stderr


@pytest.mark.parametrize(("make", "args", "message"), [
    (lambda d: layouts.write(d / "lvb_val.json", ""), (), "the file is empty"),
    (lambda d: layouts.lvbench(d), ("--format", "mlvu"), "is not a MLVU file; it looks like LVBench"),
    (lambda d: layouts.write(d / "x.json", [{"movie": 1}]), (), "not a benchmark file longvid knows"),
    (lambda d: d / "missing.json", (), "no such file"),
])  # fmt: skip
def test_one_line_errors(
    tmp_path: Path, scripted: Any, make: Any, args: tuple[str, ...], message: str
) -> None:
    _, run = scripted
    result = run(str(make(tmp_path)), *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_sample_limit_and_compare(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    csv = layouts.nextqa(tmp_path / "nextqa")
    sampled = as_json(run(str(csv), "--json", "--sample", "2", "--seed", "5"))
    again = as_json(run(str(csv), "--json", "--sample", "2", "--seed", "5"))
    assert sampled["answered"] == 2 and [q["id"] for q in sampled["questions"]] == [
        q["id"] for q in again["questions"]
    ]
    assert as_json(run(str(csv), "--json", "--limit", "1"))["answered"] == 1
    compared = as_json(run(str(csv), "--json", "--limit", "2", "--compare"))
    assert set(compared["compare"]) == {"agent", "baseline"}


def test_mlvu_open_ended_judged_on_the_authors_criteria(tmp_path: Path, scripted: Any) -> None:
    server, run = scripted
    folder = layouts.mlvu(tmp_path / "MLVU")
    args = (str(folder), "--json", "--judge", f"openai:judge@{run.url}")
    report = as_json(run(*args, answers={"golf course": "The man leads the players in."}))
    judged = next(q for q in report["questions"] if q["id"] == "8_sub_scene/0")
    assert judged["judge"] == {"score_accuracy": 4.0, "score_relevance": 5.0}
    assert (
        report["published"]["SSC"] == 9.0 and report["unscored_by_task"] == {}
    )  # calculate.py's sum
    judge_prompt = next(
        r for r in server.requests if "Respondent's Answer" in r["messages"][-1]["content"]
    )
    assert (
        "The man leads the football players with a swagger"
        in judge_prompt["messages"][-1]["content"]
    )
    asked = len(server.requests)
    assert (
        as_json(run(*args))["published"]["SSC"] == 9.0 and len(server.requests) == asked
    )  # cached


def test_workers_index_every_video_once_before_answering(tmp_path: Path, scripted: Any) -> None:
    _, run = scripted
    csv = layouts.nextqa(tmp_path / "nextqa")
    answers = {
        "play the instrument": "A",
        "move to the sofa": "C",
        "after picking up": "A",
        "where is this": "B",
    }
    report = as_json(run(str(csv), "--json", "--workers", "2", answers=answers))
    assert (report["answered"], report["correct"]) == (4, 3)
    assert len(list((tmp_path / "store" / "videos").iterdir())) == 2  # two videos, one memory each
