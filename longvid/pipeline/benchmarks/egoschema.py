"""EgoSchema as published (github.com/egoschema/EgoSchema): ``questions.json``, a list of
``{"q_uid", "google_drive_id", "question", "option 0" … "option 4"}`` with no answers;
``subset_answers.json`` beside it, ``{q_uid: 0-4}`` for the public 500; videos
``videos/<q_uid>.mp4``. The 500 are scored here; every question is answered and the predictions go
to a submission file ``{q_uid: 0-4}`` (the shape validate.py and Kaggle take; -1 when no option
was read, as lmms-eval writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from longvid.errors import InputError
from longvid.pipeline.benchmarks.base import (
    Benchmark,
    Format,
    Item,
    Records,
    Scores,
    answer_index,
    find_video,
    lacks,
    ratio,
    read_data,
    rows_of,
)

QUESTIONS, ANSWERS = "questions.json", "subset_answers.json"


def _is_answers(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(isinstance(v, int) for v in data.values())


class EgoSchema(Format):
    name = "egoschema"
    title = "EgoSchema"
    where = "questions.json and subset_answers.json side by side, videos in videos/"

    def detect(self, path: Path, data: Any) -> bool:
        rows = rows_of(data)
        return (bool(rows) and "q_uid" in rows[0] and "option 0" in rows[0]) or _is_answers(data)

    def load(self, path: Path, data: Any, videos: Path | None) -> Benchmark:
        notes = []
        if _is_answers(data):  # pointed at subset_answers.json: the questions are beside it
            answers, questions = data, path.parent / QUESTIONS
            if not questions.is_file():
                raise InputError(f"{path} holds EgoSchema's answers only, and {questions} is missing",
                                 "put questions.json from the EgoSchema repository beside it")  # fmt: skip
            data = read_data(questions)
        else:
            beside = path.parent / ANSWERS
            answers = read_data(beside) if beside.is_file() else {}
            if not answers:
                notes.append(f"no {ANSWERS} beside {path.name}: every answer goes to the submission "
                             "file, none is scored")  # fmt: skip
        folder = videos or path.parent / "videos"
        items = []
        for row in rows_of(data):
            lacks(path, self.title, row, ("q_uid", "question", *(f"option {i}" for i in range(5))))
            uid = str(row["q_uid"])
            video = find_video([folder / f"{uid}.mp4", path.parent / f"{uid}.mp4"])
            items.append(Item(uid, str(video), str(row["question"]),
                              tuple(str(row[f"option {i}"]) for i in range(5)),
                              answer_index(answers.get(uid, row.get("answer")), 5),
                              tags={"subset": uid in answers}))  # fmt: skip
        return Benchmark(self.name, self.title, path, items, "test", notes)

    def score(self, records: Records) -> Scores:
        scored = [r for r in records if r["answer"] is not None]
        correct = sum(bool(r["correct"]) for r in scored)
        accuracy = ratio(correct, len(scored))
        return Scores(accuracy, correct, len(scored), "subset accuracy",
                      published={"subset_accuracy": round(100 * accuracy, 2), "subset_questions": len(scored)},
                      unscored=len(records) - len(scored))  # fmt: skip

    def submission(self, benchmark: Benchmark, records: Records) -> tuple[str, Any] | None:
        return "egoschema_submission.json", {
            r["id"]: -1 if r["predicted"] is None else r["predicted"] for r in records
        }
