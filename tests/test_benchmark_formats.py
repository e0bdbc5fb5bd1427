"""The six benchmarks in their published layouts: read, joined with their answers, and scored as
the authors' scripts score (no models here; tests/test_benchmark_eval.py runs ``longvid eval``).

The samples are built from what the authors publish: EgoSchema's questions.json fields (from its
download.py and benchmarking scripts) and real subset_answers.json entries; Video-MME's parquet
columns (lmms-eval's videomme/utils.py) and rows of the authors' output_test_template.json;
LongVideoBench's fields from its longvideobench_dataset.py and lmms-eval's utils; MLVU's first rows
of data/1_plotQA.json and data/8_sub_scene.json; NExT-QA's first rows of dataset/nextqa/val.csv
and map_vid_vidorID.json; LVBench's video_info.meta.jsonl fields (compute_accuracy.py, its
dataset card).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from longvid.errors import InputError
from longvid.pipeline.benchmarks import NO_MATCH, read_benchmark, select
from longvid.pipeline.benchmarks.subtitles import subtitle_lines
from tests.media import ffmpeg

CLIPS: dict[str, str] = {}


def clip(path: Path, source: str = "testsrc") -> Path:
    """A 2 s video (shared by every layout: copies made by hard link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cache = (
        Path(CLIPS.setdefault("dir", tempfile.mkdtemp(prefix="longvid-bench-"))) / f"{source}.mp4"
    )
    if not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        ffmpeg("-f", "lavfi", "-i", f"{source}=size=160x120:rate=10:duration=2",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", str(cache))  # fmt: skip
    shutil.copyfile(cache, path)
    return path


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


# ---------------------------------------------------------------- layouts, as published

EGO_UIDS = ["0074f737-11cb-497d-8d07-77c3a8127391", "00b9a0de-c59e-49cb-a127-6081e2fb8c8e",
            "ffffffff-0000-4000-8000-000000000001"]  # two of the public 500 (answers 3 and 4), one not  # fmt: skip


def egoschema(root: Path) -> Path:
    write(root / "questions.json", [
        {"q_uid": uid, "google_drive_id": f"gd{n}", "question": f"What is c's overall goal {n}?",
         **{f"option {i}": f"goal {n}.{i}" for i in range(5)}} for n, uid in enumerate(EGO_UIDS)])  # fmt: skip
    write(root / "subset_answers.json", {EGO_UIDS[0]: 3, EGO_UIDS[1]: 4})
    for uid in EGO_UIDS:
        clip(root / "videos" / f"{uid}.mp4")
    return root / "questions.json"


VIDEOMME = [  # output_test_template.json's first questions, as parquet rows
    {"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
     "url": "https://www.youtube.com/watch?v=fFjv93ACGo8", "videoID": "fFjv93ACGo8", "question_id": "001-1",
     "task_type": "Counting Problem", "question": "Which kind of the decoration has the largest number?",
     "options": ["A. Apples.", "B. Candles.", "C. Berries.", "D. The three kinds are of the same number."],
     "answer": "C"},
    {"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
     "url": "https://www.youtube.com/watch?v=fFjv93ACGo8", "videoID": "fFjv93ACGo8", "question_id": "001-2",
     "task_type": "Information Synopsis", "question": "What is the genre of this video?",
     "options": ["A. It is a news report.", "B. It is a documentary.", "C. It is a travel vlog.",
                 "D. It is a tutorial."], "answer": "A"},
    {"video_id": "601", "duration": "long", "domain": "Sports Competition", "sub_category": "Football",
     "url": "https://www.youtube.com/watch?v=Zy8Pq2yxN7c", "videoID": "Zy8Pq2yxN7c", "question_id": "601-1",
     "task_type": "OCR Problems", "question": "What is the final score shown?",
     "options": ["A. 1-0.", "B. 2-1.", "C. 0-0.", "D. 3-2."], "answer": "B"},
]  # fmt: skip
SRT = ('1\n00:00:00,000 --> 00:00:01,500\n<font color="white" size=".72c">The ferry leaves at seven fifteen</font>\n\n'
       '2\n00:00:01,500 --> 00:00:02,000\n<font color="white" size=".72c">every morning</font>\n')  # fmt: skip


def videomme(root: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = root / "videomme" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(VIDEOMME), path)
    for vid in ("fFjv93ACGo8", "Zy8Pq2yxN7c"):
        clip(root / "data" / f"{vid}.mp4", "smptebars" if vid.startswith("Z") else "testsrc")
    write(
        root / "subtitle" / "fFjv93ACGo8.srt", SRT
    )  # long videos all have subtitles; short not all
    return path


def lvb_rows(test: bool = False) -> list[dict[str, Any]]:
    rows = [
        {"video_id": "86CxyhFV9MI", "question": "In the video, which subtitles appear at the same time as a man "
         "with a red jacket?", "question_wo_referring_query": "Which subtitles appear?",
         "candidates": ["'hello'", "'seven fifteen'", "'goodbye'", "'thanks'"], "correct_choice": 1,
         "position": [1200], "topic_category": "NP-News-Programs", "question_category": "TOS", "level": "L2-Relation",
         "id": "86CxyhFV9MI_0", "video_path": "86CxyhFV9MI.mp4", "subtitle_path": "86CxyhFV9MI_en.json",
         "duration_group": 600, "starting_timestamp_for_subtitles": 100.0, "duration": 2.0, "view_count": 1},
        {"video_id": "4Wy2Zk-HT1g", "question": "What colour is the car?", "question_wo_referring_query": "",
         "candidates": ["red", "blue", "green"], "correct_choice": 0, "position": [3], "topic_category": "C-Cooking",
         "question_category": "S2E", "level": "L1-Perception", "id": "4Wy2Zk-HT1g_0", "video_path": "4Wy2Zk-HT1g.mp4",
         "subtitle_path": "4Wy2Zk-HT1g_en.json", "duration_group": 15, "starting_timestamp_for_subtitles": 0,
         "duration": 2.0, "view_count": 1},
    ]  # fmt: skip
    if test:
        for row in rows:
            del row["correct_choice"]
    return rows


def longvideobench(root: Path, test: bool = False) -> Path:
    for row in lvb_rows():
        clip(root / "videos" / row["video_path"])
    write(root / "subtitles" / "86CxyhFV9MI_en.json",  # both published shapes
          [{"timestamp": [100.0, 101.5], "text": "the ferry leaves at seven fifteen"},
           {"start": "00:01:41.500", "end": "00:01:42.000", "line": "every morning"}])  # fmt: skip
    write(
        root / "subtitles" / "4Wy2Zk-HT1g_en.json", [{"timestamp": [0.0, 1.0], "text": "a red car"}]
    )
    return write(root / ("lvb_test_wo_gt.json" if test else "lvb_val.json"), lvb_rows(test))


def mlvu(root: Path) -> Path:
    write(root / "json" / "1_plotQA.json", [  # data/1_plotQA.json's first row, and one whose answer repeats
        {"video": "movie101_66.mp4", "duration": 246, "question": "What color is the main male character in the video?",
         "candidates": ["Yellow", "Red", "Green", "Blue"], "answer": "Yellow", "question_type": "plotQA"},
        {"video": "movie101_66.mp4", "duration": 246, "question": "What color is the car?",
         "candidates": ["Red", "Blue", "Red", "Green"], "answer": "Red", "question_type": "plotQA"}])  # fmt: skip
    write(root / "json" / "2_needle.json", [  # an answer that is no candidate: kept, always wrong
        {"video": "needle_32.mp4", "duration": 467.98, "question": "What does the hand coming out of the computer do?",
         "candidates": ["Delivers a product", "Shakes the woman's hand", "Takes the credit card", "Points"],
         "answer": "Delivers the product", "question_type": "findNeedle"}])  # fmt: skip
    write(root / "json" / "8_sub_scene.json", [
        {"video": "subPlot_new_all_126.mp4", "duration": 5632.8, "question": "Please describe the scene when the man "
         "leads the football players into the golf course.", "answer": "The man leads the players with a swagger.",
         "question_type": "subPlot", "scoring_points": ["The man leads the football players with a swagger"]}])  # fmt: skip
    for folder, video in (("1_plotQA", "movie101_66.mp4"), ("2_needle", "needle_32.mp4"),
                          ("8_sub_scene", "subPlot_new_all_126.mp4")):  # fmt: skip
        clip(root / "video" / folder / video)
    return root / "json"


NEXTQA_CSV = """video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4
4010069381,369,640,480,how do the two man play the instrument,0,6,CH,roll the handle,tap their feet,strum the string,hit with sticks,pat with hand
4882821564,2697,640,480,why did the boy pick up one present from the group of them and move to the sofa,2,1,CW,share with the girl,approach lady sitting there,unwrap it,playing with toy train,gesture something
4882821564,2697,640,480,what did the boy do after picking up the present,3,4,TP,cry,run away,sit down,unwrap it,dance
4882821564,2697,640,480,where is this place,1,7,DL,mall,living room,river,park,mountain
"""


def nextqa(root: Path) -> Path:
    folder = root / "NExT-QA" / "dataset" / "nextqa"
    write(folder / "val.csv", NEXTQA_CSV)
    write(
        folder / "map_vid_vidorID.json",
        {"4010069381": "0101/4010069381", "4882821564": "0016/4882821564"},
    )
    clip(root / "NExTVideo" / "0101" / "4010069381.mp4")
    clip(root / "NExTVideo" / "0016" / "4882821564.mp4", "smptebars")
    return folder / "val.csv"


def lvbench(root: Path) -> Path:
    video = {"key": "ZQWh9vZDD3A", "type": "sport", "video_info": {"duration_minutes": 0.03, "fps": 10.0},
             "qa": [{"uid": 101, "question": "What does the referee hold?\n(A) A flag\n(B) A whistle\n(C) A card\n(D) A ball",
                     "answer": "C", "question_type": ["key information retrieval", "entity recognition"],
                     "time_reference": "00:01-00:02"},
                    {"uid": 102, "question": "Why does the crowd cheer?\n(A) A goal\n(B) A foul\n(C) Half time\n(D) Rain",
                     "answer": "A", "question_type": ["reasoning"], "time_reference": "00:00-00:01"}]}  # fmt: skip
    clip(root / "videos" / "ZQWh9vZDD3A.mp4")
    return write(root / "video_info.meta.jsonl", json.dumps(video) + "\n")


def records_for(
    path: Path, picks: dict[str, int | None], **kwargs: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """The benchmark and the records a run with these predictions would give (id -> option)."""
    benchmark = read_benchmark(path, **kwargs)
    records = [{"id": i.id, "question": i.question, "options": list(i.options), "video": i.video,
                "answer": i.answer, "predicted": picks.get(i.id),
                "predicted_letter": "" if picks.get(i.id) is None else "ABCDE"[picks[i.id]],  # type: ignore[index]
                "correct": i.answer is not None and picks.get(i.id) == i.answer, "tags": dict(i.tags),
                "category": i.category, "response": "reply", "reference": i.reference} for i in benchmark.items]  # fmt: skip
    return benchmark, records


# ---------------------------------------------------------------- reading and scoring


def test_egoschema_scores_the_public_500_and_submits_all(tmp_path: Path) -> None:
    path = egoschema(tmp_path)
    benchmark, records = records_for(path, {EGO_UIDS[0]: 3, EGO_UIDS[1]: 1, EGO_UIDS[2]: None})
    assert (benchmark.format, benchmark.split, len(benchmark.items)) == ("egoschema", "test", 3)
    assert [i.answer for i in benchmark.items] == [3, 4, None]
    assert benchmark.items[0].video == str(tmp_path / "videos" / f"{EGO_UIDS[0]}.mp4")
    reader = __import__("longvid.pipeline.benchmarks", fromlist=["FORMATS"]).FORMATS["egoschema"]
    scores = reader.score(records)
    assert (scores.correct, scores.total, scores.unscored, scores.accuracy) == (1, 2, 1, 0.5)
    name, content = reader.submission(benchmark, records)
    assert name == "egoschema_submission.json" and content == {
        EGO_UIDS[0]: 3,
        EGO_UIDS[1]: 1,
        EGO_UIDS[2]: -1,
    }
    # pointed at the answers file (the TypeError of issue 29): the questions beside it are read
    assert [i.id for i in read_benchmark(tmp_path / "subset_answers.json").items] == EGO_UIDS


def test_videomme_parquet_with_breakdowns_and_unanswered_left_out(tmp_path: Path) -> None:
    path = videomme(tmp_path)
    benchmark, records = records_for(path, {"001-1": 2, "001-2": None, "601-1": 0})
    first = benchmark.items[0]
    assert (benchmark.format, first.video, first.answer) == (
        "videomme",
        str(tmp_path / "data" / "fFjv93ACGo8.mp4"),
        2,
    )
    assert first.options[0] == "Apples." and first.subtitles == str(
        tmp_path / "subtitle" / "fFjv93ACGo8.srt"
    )
    assert benchmark.items[2].subtitles is None
    assert dict(first.tags) == {"duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
                                "task_type": "Counting Problem", "video_id": "001"}  # fmt: skip
    scores = (
        __import__("longvid.pipeline.benchmarks", fromlist=["x"]).FORMATS["videomme"].score(records)
    )
    # eval_your_results.py: a reply with no letter is not "answered"
    assert (scores.correct, scores.total, scores.unscored) == (1, 2, 1)
    assert scores.breakdowns["duration"]["long"] == {"accuracy": 0.0, "correct": 0, "total": 1}
    assert set(scores.breakdowns) == {"duration", "domain", "sub_category", "task_type"}
    assert scores.published == {"long": 0.0, "short": 100.0, "Overall": 50.0}


def test_longvideobench_val_and_test_splits(tmp_path: Path) -> None:
    benchmark, records = records_for(
        longvideobench(tmp_path), {"86CxyhFV9MI_0": 1, "4Wy2Zk-HT1g_0": 2}
    )
    assert (benchmark.split, [i.answer for i in benchmark.items]) == ("val", [1, 0])
    assert benchmark.items[0].video == str(tmp_path / "videos" / "86CxyhFV9MI.mp4")
    assert (
        benchmark.items[0].tags["duration_group"] == 600
        and benchmark.items[0].subtitle_offset == 100.0
    )
    reader = __import__("longvid.pipeline.benchmarks", fromlist=["x"]).FORMATS["longvideobench"]
    scores = reader.score(records)
    assert scores.breakdowns["duration_group"] == {"15": {"accuracy": 0.0, "correct": 0, "total": 1},
                                                   "600": {"accuracy": 1.0, "correct": 1, "total": 1}}  # fmt: skip
    assert (
        scores.published["TOS"] == {"num": 1, "acc": 1.0}
        and scores.published["Overall"]["acc"] == 0.5
    )
    test, records = records_for(longvideobench(tmp_path / "t", test=True), {"86CxyhFV9MI_0": 1})
    assert test.split == "test" and all(i.answer is None for i in test.items)
    assert reader.submission(test, records) == ("longvideobench_test_for_submission.json",
                                                {"86CxyhFV9MI_0": "B", "4Wy2Zk-HT1g_0": ""})  # fmt: skip
    parquet = tmp_path / "validation-00000-of-00001.parquet"  # the dataset's parquet: option0-4
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**{k: v for k, v in row.items() if k != "candidates"},
             **{f"option{i}": (row["candidates"] + ["N/A"] * 5)[i] for i in range(5)}} for row in lvb_rows()]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    from_parquet = read_benchmark(parquet)
    assert [i.options for i in from_parquet.items] == [i.options for i in benchmark.items]
    assert from_parquet.items[0].video == benchmark.items[0].video and from_parquet.split == "val"
    lines = subtitle_lines(Path(test.items[0].subtitles or ""), test.items[0].subtitle_offset)
    assert lines == [(0.0, 1.5, "the ferry leaves at seven fifteen"), (1.5, 2.0, "every morning")]


def test_mlvu_last_matching_candidate_and_no_match_kept(tmp_path: Path) -> None:
    folder = mlvu(tmp_path)
    benchmark, records = records_for(folder, {"1_plotQA/0": 0, "1_plotQA/1": 2, "2_needle/0": 0})
    items = {i.id: i for i in benchmark.items}
    assert items["1_plotQA/1"].answer == 2  # choice_bench.py: the last "Red", not the first
    assert items["2_needle/0"].answer == NO_MATCH  # kept, and wrong whatever is chosen
    assert items["8_sub_scene/0"].open_ended and items["8_sub_scene/0"].reference
    assert items["1_plotQA/0"].video == str(tmp_path / "video" / "1_plotQA" / "movie101_66.mp4")
    assert {i.category for i in benchmark.items} == {"plotQA", "needle", "sub_scene"}
    scores = (
        __import__("longvid.pipeline.benchmarks", fromlist=["x"]).FORMATS["mlvu"].score(records)
    )
    assert scores.published == {"needle": 0.0, "plotQA": 100.0, "Avg": 50.0}  # the mean of tasks
    assert (scores.accuracy, scores.correct, scores.total, scores.unscored_by) == (
        0.5,
        2,
        3,
        {"sub_scene": 1},
    )
    one = read_benchmark(folder / "8_sub_scene.json")  # one open-ended file reads on its own
    assert (one.format, len(one.items)) == ("mlvu", 1)


def test_nextqa_folders_from_the_map_and_eval_mc_groups(tmp_path: Path) -> None:
    benchmark, records = records_for(nextqa(tmp_path), {"4010069381_6": 0, "4882821564_1": 2,
                                                        "4882821564_4": 0, "4882821564_7": 1})  # fmt: skip
    assert benchmark.items[0].video == str(tmp_path / "NExTVideo" / "0101" / "4010069381.mp4")
    assert Path(benchmark.items[1].video).is_file()
    assert [i.id for i in benchmark.items] == [
        "4010069381_6",
        "4882821564_1",
        "4882821564_4",
        "4882821564_7",
    ]
    assert benchmark.items[2].category == "TN"  # eval_mc.py counts TP as TN
    scores = (
        __import__("longvid.pipeline.benchmarks", fromlist=["x"]).FORMATS["nextqa"].score(records)
    )
    assert scores.published == {"How": 100.0, "Why": 100.0, "Loc": 100.0, "Bef&Aft": 0.0, "Acc_C": 100.0,
                                "Acc_D": 100.0, "Acc_T": 0.0, "Acc": 75.0}  # eval_mc.py's names  # fmt: skip
    assert scores.breakdowns["group"]["temporal"]["total"] == 1


def test_lvbench_counts_a_question_in_every_type(tmp_path: Path) -> None:
    benchmark, records = records_for(lvbench(tmp_path), {"101": 2, "102": 1})
    first = benchmark.items[0]
    assert (first.video, first.question, first.options[2], first.answer) == (
        str(tmp_path / "videos" / "ZQWh9vZDD3A.mp4"), "What does the referee hold?", "A card", 2)  # fmt: skip
    assert (first.time, first.time_end) == (1.0, 2.0)
    scores = (
        __import__("longvid.pipeline.benchmarks", fromlist=["x"]).FORMATS["lvbench"].score(records)
    )
    assert scores.published == {"KIR": 1.0, "ER": 1.0, "Rea": 0.0, "Overall": 0.5}
    assert scores.breakdowns["question_type"]["entity recognition"]["total"] == 1


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("[]", "no questions in it"),
    ('[{"movie": "x"}]', "not a benchmark file longvid knows"),
    ("\x88\x00", "cannot read the benchmark file"),
])  # fmt: skip
def test_bad_files_give_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_benchmark(write(tmp_path / "bench.json", content))
    assert "\n" not in str(caught.value)


def test_a_file_of_another_benchmark(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a MLVU file; it looks like LVBench"):
        read_benchmark(lvbench(tmp_path), fmt="mlvu")
    with pytest.raises(InputError, match="unknown benchmark format 'egoshema'"):
        read_benchmark(tmp_path / "video_info.meta.jsonl", fmt="egoshema")
    empty = tmp_path / "e" / "test-00000-of-00001.parquet"
    write(empty, "")
    with pytest.raises(InputError, match="empty"):
        read_benchmark(empty)


def test_sample_and_limit_are_reproducible(tmp_path: Path) -> None:
    items = read_benchmark(nextqa(tmp_path)).items
    assert select(items, sample=2, seed=7) == select(items, sample=2, seed=7)
    assert len(select(items, sample=3, seed=1)) == 3 and select(items, limit=1) == items[:1]
    picked = select(items, sample=2, seed=3)
    assert [items.index(i) for i in picked] == sorted(
        items.index(i) for i in picked
    )  # file order kept


def videomme_v2(root: Path) -> Path:
    """Rows with the fields lmms-eval's videomme_v2 task reads (its utils.py), 8 options A-H."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    options = "\n".join(f"{letter}. option {letter}" for letter in "ABCDEFGH")
    rows = [{"video_id": vid, "question_id": f"{vid}-{n}", "question": f"Question {vid}-{n}?", "options": options,
             "answer": "B", "group_type": kind, "group_structure": structure, "level": level,
             "second_head": "Perception", "third_head": "Counting"}
            for vid, kind, structure, level in (("001", "relevance", "[1, 2, 3, 4]", 1),
                                                ("002", "logic", "[1, [2, 3], 4]", 3))
            for n in range(1, 5)]  # fmt: skip
    path = root / "test-00000-of-00001.parquet"
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    for vid in ("001", "002"):
        clip(root / "videos" / f"{vid}.mp4")
    return path


def test_videomme_v2_grouped_non_linear_scores(tmp_path: Path) -> None:
    right = {"001-1": 1, "001-2": 1, "001-3": 0, "001-4": 1,  # relevance: 3 of 4 right
             "002-1": 1, "002-2": 0, "002-3": 1, "002-4": 0}  # logic [1, [2, 3], 4]: 1 then 3 right  # fmt: skip
    benchmark, records = records_for(videomme_v2(tmp_path), right)
    first = benchmark.items[0]
    assert (benchmark.format, len(first.options), first.options[7], first.answer) == (
        "videomme_v2",
        8,
        "option H",
        1,
    )
    assert first.video == str(tmp_path / "videos" / "001.mp4")
    scores = (
        __import__("longvid.pipeline.benchmarks", fromlist=["x"])
        .FORMATS["videomme_v2"]
        .score(records)
    )
    assert scores.published["relevance_score"] == 56.25 and scores.published["logic_score"] == 33.33
    assert scores.published["overall_score"] == round((56.25 + 400 / 12) / 2, 2)
    assert (scores.correct, scores.total, scores.published["overall_acc"]) == (5, 8, 62.5)
