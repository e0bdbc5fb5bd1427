"""One engine behind every door: the CLI, the Python API and the MCP server (stdio) give one memory,
the same search results and the same answer; one ``Video`` serves several threads."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

import longvid
from longvid.engine import Engine, Video
from longvid.errors import LongvidError
from longvid.memory.library import NotIndexedError
from tests.fake_openai import FakeServer, completion, serve
from tests.test_mcp import session_run, text_of

runner = CliRunner()
QUESTION = "When does the ferry leave?"


def _reply(body: dict[str, Any]) -> tuple[int, Any]:
    return 200, completion(json.dumps({"answer": "At 07:15 [00:00:13].", "enough": True, "found": True}))


@pytest.fixture
def setup(facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # fmt: skip
    """The same environment for every door: tiny embedder and image–text encoder, no captioner."""
    folder = tmp_path / "videos"
    folder.mkdir()
    video = folder / "harbour.mkv"
    shutil.copy(facts_video, video)
    store = tmp_path / "store"
    env = {"LONGVID_HOME": str(store), "LONGVID_EMBEDDER": str(tiny_model("sentence_transformer")),
           "LONGVID_VISUAL_EMBEDDER": str(tiny_model("siglip")), "LONGVID_CAPTIONER": "none",
           "LONGVID_ASR": "none", "LONGVID_OCR": "none", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {"video": video, "store": store, "folder": folder}


def test_every_door_gives_one_memory_the_same_moments_and_the_same_answer(setup: dict[str, Any]) -> None:
    video = setup["video"]
    server = FakeServer(script=[_reply] * 50)
    with serve(server) as url:
        llm = f"openai:llm@{url}"
        indexed = runner.invoke(app, ["index", str(video), "--json"])
        assert json.loads(indexed.stdout)["status"] == "indexed", indexed.output
        cli_found = runner.invoke(app, ["search", str(video), "Okafor engine", "--json"])
        cli_moments = [json.loads(line) for line in cli_found.stdout.splitlines()]
        cli_answer = json.loads(runner.invoke(app, ["ask", str(video), QUESTION, "--llm", llm, "--json"]).stdout)

        api_video = longvid.index(str(video), llm=llm)  # the same memory: nothing to do
        assert api_video.indexed is not None and api_video.indexed.status == "up-to-date"
        api_moments = [m.to_dict() for m in api_video.search("Okafor engine")]
        api_answer = api_video.ask(QUESTION).to_dict(str(video))

        async def work(session: Any) -> dict[str, Any]:
            return {
                "indexed": await session.call_tool("index_video", {"video": "harbour.mkv"}),
                "found": await session.call_tool("search", {"query": "Okafor engine", "video": "harbour.mkv"}),
                "asked": await session.call_tool("ask", {"video": "harbour.mkv", "question": QUESTION}),
                "info": await session.call_tool("video_info", {"video": "harbour.mkv"}),
            }  # fmt: skip

        got = anyio.run(session_run, ["--root", str(setup["folder"]), "--llm", llm], dict(os.environ), work)

    assert json.loads(text_of(got["indexed"]))["status"] == "up-to-date"
    listed = runner.invoke(app, ["list", "--json"]).stdout.splitlines()
    assert len(listed) == 1  # one memory, whichever door indexed or asked
    settings = json.loads(listed[0])["settings"]
    assert settings["visual_embedder"] and settings["visual_every_s"] == 8.0  # the CPU rate, decided once
    mcp_moments = [json.loads(part.text) for part in got["found"].content]
    assert cli_moments == api_moments == mcp_moments and cli_moments
    mcp_answer = json.loads(text_of(got["asked"]))
    for answer in (cli_answer, api_answer, mcp_answer):
        assert answer["answer"] == "At 07:15 [00:00:12–00:00:15]." and answer["found"] is True
    assert cli_answer["models"] == api_answer["models"] == mcp_answer["models"]
    info = runner.invoke(app, ["info", str(video), "--json"]).stdout
    mcp_info = json.loads(text_of(got["info"]))
    assert set(json.loads(info)) == set(mcp_info) == {"video", "id", "probe", "memories"}


def test_one_video_serves_many_threads_and_loads_each_model_once(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import longvid.engine.models as engine_models

    loads: list[str] = []
    for name in ("load_query_embedder", "load_chat", "load"):
        real = getattr(engine_models, name)

        def counting(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            loads.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(engine_models, name, counting)
    server = FakeServer(script=[_reply] * 50)
    with serve(server) as url:
        longvid.index(str(setup["video"]))
        video = Video(setup["video"], Engine(llm=f"openai:llm@{url}"))
        loads.clear()
        results: list[Any] = []
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                results.append(video.search("Okafor") if n % 2 else video.ask(QUESTION).answer)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(results) == 8
    assert sorted(loads) == ["load", "load_chat", "load_query_embedder"]  # visual, llm, embedder: once each
    assert all(r == "At 07:15 [00:00:12–00:00:15]." for r in results if isinstance(r, str))


def test_opening_a_video_that_is_not_indexed_says_how_to_index_it(setup: dict[str, Any]) -> None:
    with pytest.raises(NotIndexedError) as caught:
        longvid.open(str(setup["video"]))
    assert "longvid index" in caught.value.fix
    with pytest.raises(LongvidError, match="no such file"):
        longvid.open(str(setup["folder"] / "missing.mp4"))


def test_the_readme_s_python_verbs(setup: dict[str, Any], tmp_path: Path) -> None:
    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        system = body["messages"][0]["content"]
        return (200, completion("Ferries and engines [00:00:12].")) if "summar" in system else _reply(body)

    with serve(FakeServer(script=[reply] * 50)) as url:
        video = longvid.index(str(setup["video"]), llm=f"openai:llm@{url}")
        answer = video.ask(QUESTION)
        summary = video.summarize()
        marks = video.chapters()
    assert summary.summary.startswith("Ferries") and summary.sections and marks[0].start == 0
    clip = video.clip(answer.cited[0], tmp_path / "key.mp4")
    assert Path(clip.path).stat().st_size > 0 and clip.start <= 12.5
    frames = video.frames([1.0, 2.5])
    assert [round(f.time, 1) for f in frames] == [1.0, 2.5] and frames[0].image.ndim == 3
    assert longvid.library().search("Okafor")[0].video.endswith("harbour.mkv")


def test_the_eval_answer_cache_changes_with_the_captioner_or_the_visual_encoder() -> None:
    from longvid.pipeline.ask import AskOptions
    from longvid.pipeline.benchmarks import Item
    from longvid.pipeline.evaluate import answer_key
    from tests.fakes import RecordingCaptioner, ScriptedChat

    item = Item(id="q1", video="v.mp4", question="Which?", options=("a", "b"), answer=0)
    llm, options = ScriptedChat(["x"]), AskOptions()
    looker, other = RecordingCaptioner(), RecordingCaptioner()
    other.info = type(looker.info)("another-captioner", "test")
    visual = type("V", (), {"info": type(looker.info)("siglip", "test")})()
    keys = {answer_key(item, llm, options), answer_key(item, llm, options, looker),
            answer_key(item, llm, options, other), answer_key(item, llm, options, looker, visual)}  # fmt: skip
    assert len(keys) == 4
    assert answer_key(item, llm, options, looker) == answer_key(item, llm, options, RecordingCaptioner())


def test_list_tells_memories_apart_and_prune_asks_before_deleting(setup: dict[str, Any]) -> None:
    video = str(setup["video"])
    assert runner.invoke(app, ["index", video, "--visual-embedder", "none"]).exit_code == 0
    assert runner.invoke(app, ["index", video]).exit_code == 0  # a second memory: frames embedded
    rows = [json.loads(line) for line in runner.invoke(app, ["list", "--json"]).stdout.splitlines()]
    assert len(rows) == 2 and all("visual_embedder" in r["differs"] for r in rows)
    dry = runner.invoke(app, ["prune"])
    assert dry.exit_code == 0 and dry.stdout.startswith("would delete") and len(rows) == 2
    assert len(runner.invoke(app, ["list", "--json"]).stdout.splitlines()) == 2  # nothing deleted
    done = runner.invoke(app, ["prune", "--yes"])
    assert done.stdout.startswith("deleting")
    kept = [json.loads(line) for line in runner.invoke(app, ["list", "--json"]).stdout.splitlines()]
    assert len(kept) == 1 and kept[0]["settings"].get("visual_embedder")  # the newest stays
    assert runner.invoke(app, ["prune"]).stdout.strip() == "nothing to prune"
