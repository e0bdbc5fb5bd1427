"""``index --captions lazy|background``: speech and text now, captions when a question needs them,
or all of them later; each caption stored once, in the same memory."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

import longvid
from longvid.memory.captions import pending
from longvid.memory.library import memories
from longvid.memory.store import VideoMemory
from longvid.models.base import CaptionRequest
from longvid.models.deferred import DeferredCaptioner
from tests.fake_openai import FakeServer, completion, serve
from tests.fakes import RecordingCaptioner

runner = CliRunner()
QUESTION = "When does the ferry to Ardmore leave?"


def _answer(body: dict[str, Any]) -> tuple[int, Any]:
    return 200, completion(json.dumps({"answer": "At 07:15 [00:00:13].", "enough": True, "found": True}))


def _captions(server: FakeServer) -> list[dict[str, Any]]:
    """The captioning requests the server had (they carry frames)."""
    return [b for b in server.requests if isinstance(b["messages"][-1]["content"], list)]


@pytest.fixture
def setup(facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # fmt: skip
    video = tmp_path / "harbour.mkv"
    shutil.copy(facts_video, video)
    store = tmp_path / "store"
    env = {"LONGVID_HOME": str(store), "LONGVID_EMBEDDER": str(tiny_model("sentence_transformer")),
           "LONGVID_ASR": "none", "LONGVID_OCR": "none", "LONGVID_VISUAL_EMBEDDER": "none",
           "LONGVID_SPEAKERS": "none", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {"video": video, "store": store}


def _memory(store: Path) -> VideoMemory:
    [summary] = memories(store)  # one memory, whatever the captions mode
    return VideoMemory(Path(summary.folder))


def test_lazy_index_captions_what_a_question_needs_then_index_captions_the_rest(
    setup: dict[str, Any],
) -> None:
    video, store = setup["video"], setup["store"]
    captioner, llm = FakeServer(), FakeServer(script=[_answer] * 10)
    with serve(captioner) as cap_url, serve(llm) as llm_url:
        cap = ["--captioner", f"openai:cap@{cap_url}"]
        lazy = runner.invoke(app, ["index", str(video), *cap, "--captions", "lazy", "--json"])
        indexed = json.loads(lazy.stdout)
        assert indexed["status"] == "indexed" and indexed["uncaptioned"] == indexed["chunks"] > 3
        assert _captions(captioner) == []  # no video LLM while indexing
        memory = _memory(store)
        assert all(c.caption == "" and c.text.startswith(("Speech:", "")) for c in memory.chunks())
        assert any("07:15" in c.text for c in memory.chunks())  # the speech is searchable now
        memory.close()
        info = runner.invoke(app, ["info", str(video)]).stdout
        assert f"{indexed['chunks']} captions to come" in info

        asked = runner.invoke(app, ["ask", str(video), QUESTION, "--llm", f"openai:llm@{llm_url}", "--json"])
        answer = json.loads(asked.stdout)
        assert answer["answer"] == "At 07:15 [00:00:12–00:00:15]." and 1 <= answer["captioned_chunks"] <= 3
        assert "captioned" in asked.stderr and "this question needed" in asked.stderr
        memory = _memory(store)
        captioned = [c for c in memory.chunks() if c.caption]
        assert len(captioned) == answer["captioned_chunks"] == len(_captions(captioner))
        assert any(c.start <= 13 < c.end for c in captioned)  # the chunk the question is about
        assert all(c.text.startswith("caption for:") for c in captioned)  # searchable now
        assert len(pending(memory)) == indexed["chunks"] - len(captioned)
        memory.close()

        again = json.loads(runner.invoke(app, ["ask", str(video), QUESTION, "--llm", f"openai:llm@{llm_url}",
                                               "--json"]).stdout)  # fmt: skip
        memory = _memory(store)
        captioned = [c for c in memory.chunks() if c.caption]
        memory.close()
        assert len(_captions(captioner)) == len(captioned)  # none captioned twice: each was stored
        assert again["captioned_chunks"] == len(captioned) - answer["captioned_chunks"]

        summary = runner.invoke(app, ["summarize", str(video), "--llm", f"openai:llm@{llm_url}"])
        assert "chunks have no caption yet" in summary.stderr and f"longvid index {video}" in summary.stderr

        rest = json.loads(runner.invoke(app, ["index", str(video), *cap, "--json"]).stdout)
        assert rest["status"] == "indexed" and rest["computed"] == indexed["chunks"] - len(captioned)
        assert rest["uncaptioned"] == 0 and len(_captions(captioner)) == indexed["chunks"]
        memory = _memory(store)
        assert pending(memory) == [] and all(c.caption for c in memory.chunks())
        memory.close()
        done = json.loads(runner.invoke(app, ["index", str(video), *cap, "--json"]).stdout)
        assert done["status"] == "up-to-date" and done["computed"] == 0
        found = runner.invoke(app, ["search", "--all", "caption for", "--json"]).stdout.splitlines()
        assert found  # the library index caught up with the late captions


def test_background_captions_fill_in_while_the_user_asks(setup: dict[str, Any]) -> None:
    video, store = setup["video"], setup["store"]
    captioner = FakeServer(delay=0.2)
    with serve(captioner) as cap_url:
        indexed = longvid.index(str(video), captioner=f"openai:cap@{cap_url}", captions="background")
        assert indexed.indexed is not None and indexed.indexed.uncaptioned == indexed.indexed.chunks
        memory = _memory(store)
        log_file = memory.folder / "captions.log"
        deadline = time.monotonic() + 300  # a fresh process: imports and the embedder, under load
        while pending(memory) and time.monotonic() < deadline:
            time.sleep(0.5)
        log = log_file.read_text() if log_file.exists() else "(no log)"
        assert pending(memory) == [], log
        assert all(c.caption.startswith("caption for:") for c in memory.chunks()), log
        memory.close()
    assert len(_captions(captioner)) == indexed.indexed.chunks  # each chunk captioned once
    assert f"captioned {indexed.indexed.chunks} chunks" in log


def test_a_lazy_index_plans_with_a_local_model_s_record_and_loads_it_only_to_caption(
    setup: dict[str, Any], tiny_model: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import longvid.engine.models as engine_models
    from longvid.models import registry

    spec = str(tiny_model("smolvlm"))
    loaded: list[str] = []
    counting = registry.load

    def load(channel: str, given: str | None, *args: Any, **kwargs: Any) -> Any:
        if channel == "captioner" and given != "none":
            loaded.append(channel)
        return counting(channel, given, *args, **kwargs)

    monkeypatch.setattr(registry, "load", load)
    monkeypatch.setattr(engine_models, "load", load)
    first = longvid.index(str(setup["video"]), captioner=spec, device="cpu", captions="lazy")
    assert loaded == ["captioner"]  # the first time on this machine: loaded to plan (and recorded)
    shutil.copy(setup["video"], tmp_path / "again.mkv")
    again = longvid.index(str(tmp_path / "again.mkv"), captioner=spec, device="cpu", captions="lazy",
                          store=str(tmp_path / "other"))  # fmt: skip
    assert loaded == ["captioner"]  # planned from the record: nothing loaded
    assert again.settings == first.settings  # the same plan, so the same memory key
    assert again.indexed is not None and again.indexed.uncaptioned == again.indexed.chunks
    dry = runner.invoke(app, ["index", str(tmp_path / "again.mkv"), "--dry-run", "--captioner", spec,
                              "--device", "cpu", "--store", str(tmp_path / "dry")])  # fmt: skip
    assert dry.exit_code == 0 and "frames a chunk" in dry.stdout and "≈" in dry.stdout, dry.output
    assert memories(tmp_path / "dry") == [] and loaded == ["captioner"]  # nothing indexed or loaded
    planned = again.engine.index_models().captioner
    assert isinstance(planned, DeferredCaptioner) and planned.max_new_tokens == first.settings["budget"]["new_tokens"]


def test_a_deferred_captioner_loads_its_model_on_its_first_caption() -> None:
    model = RecordingCaptioner(max_frames=4)
    loads: list[int] = []
    plan = {"info": {"spec": "tiny", "backend": "transformers", "details": {}}, "max_frames": 4,
            "batch_size": 2, "max_new_tokens": 96, "cost": None}  # fmt: skip
    later = DeferredCaptioner(plan, lambda: loads.append(1) or model)
    assert loads == [] and later.max_frames == 4 and later.caption_cost() is None
    request = CaptionRequest(0.0, 1.0, [], [], [])
    assert later.caption([request]) == model.caption([request]) and loads == [1]


def test_a_dry_run_says_what_each_video_would_cost_and_indexes_nothing(setup: dict[str, Any]) -> None:
    with serve(FakeServer()) as url:
        done = runner.invoke(app, ["index", str(setup["video"]), "--dry-run", "--json",
                                   "--captioner", f"openai:cap@{url}", "--captions", "lazy"])  # fmt: skip
    [plan] = [json.loads(line) for line in done.stdout.splitlines()]
    assert plan["duration"] == pytest.approx(60.0, abs=0.1) and plan["captions"] == "lazy"
    assert plan["captioner"] == f"openai:cap@{url}" and plan["estimate_s"] is None  # a server's pace
    assert memories(setup["store"]) == []


def test_eval_on_a_lazy_memory_captions_what_each_question_needs(
    setup: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LONGVID_CAPTIONS", "lazy")  # eval indexes its videos: lazily here
    bench = tmp_path / "facts.json"
    bench.write_text(json.dumps([{"id": "ferry", "video": str(setup["video"]), "question": QUESTION,
                                  "options": ["At 07:15", "At noon"], "answer": "A", "time": 12.0}]))  # fmt: skip
    captioner = FakeServer()
    reply = completion(json.dumps({"answer": "A. At 07:15 [00:00:13]", "enough": True, "found": True}))
    llm = FakeServer(script=[lambda body: (200, reply)] * 10)
    with serve(captioner) as cap_url, serve(llm) as llm_url:
        cap = ["--captioner", f"openai:cap@{cap_url}"]
        done = runner.invoke(app, ["eval", str(bench), "--json", "-q", "--llm", f"openai:llm@{llm_url}", *cap])
    report = json.loads(done.stdout)
    [question] = report["questions"]
    assert question["correct"] and 1 <= question["captioned"] == len(_captions(captioner)) <= 3
