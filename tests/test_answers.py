"""The answer engine's rules with scripted models: a supported first answer stands, the system does
the time arithmetic, and a failing step keeps the best answer so far."""

from __future__ import annotations

from typing import Any

from longvid.agent.stopping import replaces, tools_needed
from longvid.pipeline.ask import ask
from longvid.recall.retrieve import Evidence
from longvid.recall.timeline import Form, answer_evidence, parse
from tests.fakes import ScriptedChat
from tests.test_ask import draft, embedder, final, memory, store  # noqa: F401  (fixtures)


def test_a_supported_first_answer_costs_one_call(memory, embedder) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat = ScriptedChat([draft("07:15 every morning [00:00:12]", enough=False)])  # its flag is noise
    result = ask("unused.mkv", "When does the ferry to Ardmore leave?", memory, embedder, chat)
    assert len(chat.calls) == 1 and result.answer.startswith("07:15 every morning [00:00:12")


def test_a_supported_first_answer_survives_a_worse_later_one_and_a_late_not_found(
    memory, embedder, monkeypatch  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    import longvid.agent.loop

    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")
    first = draft("Captain Mira Okafor checks the engine [00:00:25]", enough=False)
    worse = ScriptedChat([first, {"tool": "search", "query": "bread"},
                          final("Fresh bread [00:00:52]", "00:00:52")])  # fmt: skip
    kept = ask("unused.mkv", "Who checks the engine?", memory, embedder, worse)
    assert len(worse.calls) == 3 and "Okafor" in kept.answer and "bread" not in kept.answer
    late_not_found = ScriptedChat([first, final("I could not find it.", found=False)])
    kept = ask("unused.mkv", "Who checks the engine?", memory, embedder, late_not_found)
    assert kept.found and "Okafor" in kept.answer


def test_a_schema_failure_mid_run_returns_the_best_answer_so_far(memory, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import longvid.agent.loop

    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")
    chat = ScriptedChat([draft("Captain Mira Okafor [00:00:41]", enough=False), "no json", "still no json"])
    result = ask("unused.mkv", "Who checks the engine?", memory, embedder, chat)
    assert result.found and "Okafor" in result.answer


def test_the_timeline_lists_counts_and_subtracts(memory, embedder) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    after = answer_evidence(memory, embedder, "What is said right after the ferry to Ardmore leaves?")
    assert after[0].source == "timeline" and "the moment at [00:00:12]" in after[0].text
    assert after[1].start == 25.0  # the next moment, in order
    before = answer_evidence(memory, embedder, "What is said just before the radio warns of a storm?")
    assert before[1].start == 25.0
    gap = answer_evidence(memory, embedder, "How long between the ferry to Ardmore and the storm warning?")
    assert "00:00:12" in gap[0].text and "00:00:41" in gap[0].text and "29 s later" in gap[0].text
    counted = answer_evidence(memory, embedder, "How many times is the ferry mentioned?")
    assert counted[0].text.startswith("1 moments mention") and counted[1].start == 12.0
    assert parse("When does the ferry leave?") is None  # plain retrieval answers this
    assert parse("钟响了几次？") is not None and parse("钟响了几次？").form is Form.COUNT  # type: ignore[union-attr]


def test_a_timeline_question_gets_its_result_in_the_first_call(memory, embedder) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat = ScriptedChat([draft("Captain Mira Okafor checks the engine [00:00:25]")])
    result = ask("unused.mkv", "What is said right after the ferry to Ardmore leaves?", memory,
                 embedder, chat)  # fmt: skip
    assert "(timeline) after the moment at [00:00:12], in order: 1) [00:00:25]" in chat.calls[0][1]["content"]
    assert len(chat.calls) == 1 and result.cited == [(25.0, 28.0)]


def test_the_rules_on_their_own() -> None:
    evidence = [Evidence(12, 15, "The ferry leaves at 07:15.", 1.0, "transcript"),
                Evidence(41, 44, "A storm from the west.", 0.4, "transcript")]  # fmt: skip
    good: dict[str, Any] = {"answer": "07:15 [00:00:12]", "found": True}
    assert tools_needed(good, evidence) is None
    assert tools_needed({**good, "found": False}, evidence) is None  # the flag is noise; the text is in the evidence
    close = [Evidence(12, 15, "The ferry leaves at 07:15.", 0.50, "transcript"),
             Evidence(41, 44, "A storm from the west.", 0.48, "transcript")]  # no hit stands out  # fmt: skip
    assert tools_needed({"answer": "07:15 every day", "found": False}, close) is None  # uncited, its words from item 1
    assert tools_needed({"answer": "A storm [00:00:41]", "found": True}, evidence + evidence[:1] * 3)
    assert tools_needed({"answer": "at noon", "found": True}, evidence) == "the answer is not in the evidence"
    assert not replaces({"answer": "not found in the video", "found": False}, good, evidence)
    assert not replaces({"answer": "A storm [00:00:41]", "found": True}, good, evidence)
    assert replaces({"answer": "07:15 [00:00:12]", "found": True}, {"answer": "?", "found": True}, evidence)


def test_an_answer_with_nothing_to_check_falls_back_on_the_model_s_word() -> None:
    evidence = [Evidence(12, 15, "The ferry leaves at 07:15.", 1.0, "transcript")]
    letter: dict[str, Any] = {"answer": "B", "found": True}
    assert tools_needed(letter, evidence, model_says_enough=True) is None
    assert tools_needed(letter, evidence, model_says_enough=False) == "the model asked for more"
    assert not replaces({"answer": "C", "found": True}, letter, evidence)  # nothing better to go on


def test_tool_arguments_that_cannot_be_nonsense(memory) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import json

    from longvid.agent.tools import ANSWER, TOOLS, action_schema, bounded, memory_sources
    from longvid.models.structured import parse_reply

    sources = memory_sources(memory)
    assert sources == ["transcript"]  # indexed from subtitles only: no captions, OCR or frames
    schema = action_schema([bounded(t, 60.0, sources) for t in (ANSWER, *TOOLS.values())])

    def valid(action: dict[str, Any]) -> bool:
        try:
            parse_reply(json.dumps(action), schema)
        except ValueError:
            return False
        return True

    answer = {"tool": "answer", "answer": "x", "confidence": "high", "found": True}
    assert valid({**answer, "citations": ["00:00:25", "00:00:41.0"]})
    assert not valid({**answer, "citations": ["caption", "transcript", "ocr", "visual"]})  # issue 25's trace
    assert valid({"tool": "read", "start": 5.6, "end": 11.7})
    assert not valid({"tool": "read", "start": 0, "end": 500}) and not valid({"tool": "read", "start": -1, "end": 9})
    assert valid({"tool": "search", "query": "soup", "sources": ["transcript"], "k": 5})
    assert not valid({"tool": "search", "query": "soup", "sources": ["ocr"]})  # not in this memory
    assert not valid({"tool": "search", "query": "soup", "k": 500}) and not valid({"tool": "search", "query": ""})
    assert "sources" not in bounded(TOOLS["search"], 60.0, []).parameters  # nothing to filter on


def test_the_default_follows_the_figures_small_models_answer_in_one_step(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from longvid_cli.app import app
    from typer.testing import CliRunner

    from longvid.agent.default import agent_by_default
    from longvid.engine import Engine
    from longvid.models.base import ModelInfo

    def chat(spec: str, **details: Any) -> ScriptedChat:
        model = ScriptedChat([{}])
        model.info = ModelInfo(spec, "test", details)
        return model

    engine = Engine(tmp_path)
    gguf = chat("/models/some-model.gguf", parameters=134_515_008)  # llama.cpp's own count
    one_call, tools, baseline = (True, 0), (True, 6), (False, 0)  # (the engine's checks, tool steps)
    assert engine.answer_way(gguf, None, 6) == one_call and engine.answer_way(gguf, True, 6) == tools
    assert engine.answer_way(chat("openai:qwen2.5:0.5b@http://127.0.0.1:8000/v1"), None, 6) == one_call
    assert engine.answer_way(chat("stand-in", stand_in=True), None, 6) == one_call
    assert engine.answer_way(chat("Qwen/Qwen2.5-7B-Instruct"), None, 6) == tools
    assert engine.answer_way(chat("openai:gpt-4o@http://127.0.0.1:8000/v1"), None, 6) == tools  # size unknown
    assert engine.answer_way(chat("Qwen/Qwen2.5-7B-Instruct"), False, 6) == baseline
    assert agent_by_default(ModelInfo("Qwen3-30B-A3B", "test"))[0]  # the whole model's size
    shown = " ".join(CliRunner().invoke(app, ["ask", "--help"], terminal_width=200).stdout.split())
    assert "one call" in shown and "--compare" in shown and "--no-agent" in shown


def test_a_server_that_says_its_model_s_size_gets_the_default_for_that_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from longvid.engine import Engine
    from longvid.models.openai_compat import OpenAIChat
    from longvid.models.specs import parse_spec
    from tests.fake_openai import FakeServer, serve

    server = FakeServer()
    server.models = {"object": "list", "data": [{"id": "smollm2", "object": "model", "owned_by": "llamacpp",
                                                 "meta": {"n_params": 134_515_008, "n_ctx_train": 8192}}]}  # fmt: skip
    with serve(server) as url:
        small = OpenAIChat(parse_spec(f"openai:smollm2@{url}"))  # llama.cpp's server lists its size
        server.models = None  # a server that does not (404)
        unknown = OpenAIChat(parse_spec(f"openai:smollm2@{url}"))
    assert small.info.details["parameters"] == 134_515_008 and "parameters" not in unknown.info.details
    engine = Engine(tmp_path)
    assert engine.answer_way(small, None, 6) == (True, 0) and engine.answer_way(unknown, None, 6) == (True, 6)


def test_an_uncited_answer_cites_the_moment_its_words_come_from(memory, embedder) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    chat = ScriptedChat([draft("three euros, fresh bread", enough=False, found=False)])  # flags: noise
    result = ask("unused.mkv", "What does the radio say about the market and the ferry?", memory, embedder, chat)
    assert len(chat.calls) == 1  # its words are one item's: settled without tools
    assert result.found and result.cited == [(52.0, 55.0)]  # that item, not merely the top hit
