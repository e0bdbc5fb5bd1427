"""Native tool calling against a scripted OpenAI-compatible server: the agent's tools go as
``tools`` when the server takes them, and the constrained action union (``response_format``) when
it refuses them, decided once per run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from longvid.models.openai_compat import OpenAIChat
from longvid.models.specs import parse_spec
from longvid.pipeline.ask import ask
from tests.fake_openai import FakeServer, completion, serve
from tests.test_ask import draft, embedder, final, memory, store  # noqa: F401  (fixtures)


def tool_call(name: str, **arguments: Any) -> tuple[int, dict[str, Any]]:
    reply = completion("")
    reply["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call-1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}  # fmt: skip
    reply["choices"][0]["finish_reason"] = "tool_calls"
    return 200, reply


def text(value: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, completion(json.dumps(value))


@pytest.fixture
def tools_come_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import longvid.agent.loop

    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")


def run(script: list[Any], memory: Any, embedder: Any) -> tuple[FakeServer, Any]:  # noqa: F811
    server = FakeServer(script=[lambda body, reply=reply: reply for reply in script])
    with serve(server) as url:
        chat = OpenAIChat(parse_spec(f"openai:tools@{url}"), retries=0)
        result = ask("unused.mkv", "Who checks the engine?", memory, embedder, chat)
    return server, result


def test_a_server_that_takes_tools_gets_them(memory, embedder, tools_come_in) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    server, result = run([text(draft("The ferry leaves [00:00:12]", enough=False)),
                          tool_call("read", start=15, end=30),
                          tool_call("answer", answer="Captain Okafor checks the engine", citations=["00:00:25"],
                                    confidence="high", found=True)], memory, embedder)  # fmt: skip
    first, step, last = server.requests
    assert "response_format" in first and "tools" not in first  # the first answer: one schema
    assert "response_format" not in step and step["tool_choice"] == "auto"
    read = next(t["function"] for t in step["tools"] if t["function"]["name"] == "read")
    assert read["parameters"]["properties"]["end"]["maximum"] == 60  # windows inside the video
    assert "Result of read:" in last["messages"][-1]["content"] and "tools" in last
    assert [s.tool for s in result.steps] == ["answer", "read", "answer"]
    assert result.answer == "Captain Okafor checks the engine [00:00:25–00:00:28]"


@pytest.mark.parametrize("refusal", [(400, {"error": {"message": "tools are not supported"}}),
                                     (422, {"error": {"message": "unknown field tools"}}),
                                     text({"answer": "plain text, no tool call"})])  # fmt: skip
def test_a_server_that_refuses_tools_gets_the_union_once_per_run(
    memory, embedder, tools_come_in, refusal  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    server, result = run([text(draft("The ferry leaves [00:00:12]", enough=False)), refusal,
                          text({"tool": "read", "start": 15, "end": 30}),
                          text(final("Captain Okafor checks the engine", "00:00:25"))], memory, embedder)  # fmt: skip
    _, refused, union, last = server.requests
    assert "tools" in refused
    assert "tools" not in union and "tools" not in last  # refused once: not asked again this run
    assert union["response_format"]["json_schema"]["schema"]["anyOf"][0]["properties"]["tool"] == {"const": "answer"}
    assert [s.tool for s in result.steps] == ["answer", "read", "answer"]
    assert result.answer == "Captain Okafor checks the engine [00:00:25–00:00:28]"
