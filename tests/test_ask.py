"""ask / search / summarize: retrieval, re-inspection bounds, citations, summaries, JSON shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.agent.tools import ANSWER, action_schema
from longvid.memory.library import NotIndexedError, open_memory
from longvid.models.registry import load
from longvid.pipeline.ask import AskOptions, ask, is_whole_video_question
from longvid.pipeline.index import IndexModels, index_video
from longvid.recall.citations import fix_citations
from longvid.recall.retrieve import Evidence, retrieve
from longvid.recall.search import search_library, search_memory
from tests.fake_openai import FakeServer, completion, serve
from tests.fakes import RecordingCaptioner, ScriptedChat

runner = CliRunner()


@pytest.fixture(scope="module")
def store(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    root = tmp_path_factory.mktemp("store")
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    index_video(facts_video, IndexModels(embedder=embedder), root)
    return root


@pytest.fixture
def memory(store: Path, facts_video: Path):  # type: ignore[no-untyped-def]
    opened = open_memory(store, str(facts_video))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def embedder(tiny_model: Callable[[str], Path]):  # type: ignore[no-untyped-def]
    return load("embedder", str(tiny_model("sentence_transformer")))


def test_retrieval_finds_the_planted_line(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    evidence = retrieve(memory, embedder, "Who is Okafor?")
    assert evidence[0].source == "transcript"
    assert (evidence[0].start, evidence[0].end) == (25.0, 28.0)
    numbers = retrieve(memory, embedder, "what happens at 07:15?")
    assert any(e.start == 12.0 for e in numbers[:5])


def test_search_returns_moments(memory, embedder, store: Path) -> None:  # type: ignore[no-untyped-def]
    [best, *_] = search_memory(memory, embedder, "storm from the west", top_k=3)
    assert best.start <= 41.0 < best.end and best.score > 0
    everywhere = search_library(store, "bread market euros", 2, lambda spec: embedder)
    assert everywhere[0].start <= 52.0 < everywhere[0].end


def draft(answer: str, enough: bool = True, found: bool = True) -> dict:  # type: ignore[type-arg]
    return {"answer": answer, "enough": enough, "found": found}


def final(answer: str, *citations: str, found: bool = True) -> dict:  # type: ignore[type-arg]
    return {"tool": "answer", "answer": answer, "citations": list(citations), "confidence": "high",
            "found": found}  # fmt: skip


def test_an_easy_question_ends_in_one_step(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat([draft("Captain Mira Okafor [00:00:26], not the mayor [00:09:00].")])
    result = ask("unused.mkv", "Who checks the engine? Okafor?", memory, embedder, chat)
    assert result.answer == "Captain Mira Okafor [00:00:25–00:00:28], not the mayor."
    assert result.cited == [(25.0, 28.0)] and result.found and result.confidence == "high"
    assert [s.tool for s in result.steps] == ["answer"] and result.frames_inspected == 0
    prompt = chat.calls[0][1]["content"]
    assert "[00:00:25.0–00:00:28.0] (transcript) Captain Mira Okafor" in prompt


def test_what_happens_right_after_is_read_around_the_moment(memory, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import longvid.agent.loop

    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")
    chat = ScriptedChat([
        draft("Something about a departure; what follows is not in view.", enough=False),  # unsupported
        {"tool": "read", "start": 15, "end": 30},
        final("Next, Captain Okafor checks the engine", "00:00:25"),
    ])  # fmt: skip
    result = ask("unused.mkv", "What is said once the ferry's departure time is given?", memory,
                 embedder, chat)  # fmt: skip (no time form: the timeline computes nothing)
    assert [s.tool for s in result.steps] == ["answer", "read", "answer"]
    read_result = chat.calls[2][-1]["content"]
    assert read_result.startswith("Result of read:")
    assert "[00:00:25.0–00:00:28.0] (transcript) Captain Mira Okafor" in read_result
    assert "storm" not in read_result  # only the window asked for
    assert result.answer == "Next, Captain Okafor checks the engine [00:00:25–00:00:28]"
    assert result.steps[1].args == {"start": 15, "end": 30} and result.steps[1].elapsed_s >= 0


def test_counting_by_repeated_search(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat([
        draft("At least one warning.", enough=False),
        {"tool": "search", "query": "storm warning", "k": 2},
        {"tool": "search", "query": "bread market", "start": 45, "end": 60},
        final("Two: the storm [00:00:41] and the bread price [00:00:52]", "00:00:41", "00:00:52"),
    ])  # fmt: skip
    result = ask("unused.mkv", "How many announcements mention weather or food?", memory,
                 embedder, chat)  # fmt: skip
    assert [s.tool for s in result.steps] == ["answer", "search", "search", "answer"]
    assert "storm coming from the west" in chat.calls[2][-1]["content"]
    windowed = chat.calls[3][-1]["content"]
    assert "Fresh bread costs three euros" in windowed and "Okafor" not in windowed
    assert result.cited == [(41.0, 44.0), (52.0, 55.0)]


def test_looks_stay_within_the_frame_budget(memory, embedder, facts_video: Path) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat([
        draft("Not sure what he wears.", enough=False),
        {"tool": "look", "start": 24, "end": 30, "question": "What does Okafor wear?"},
        {"tool": "look", "start": 40, "end": 50, "question": "Is it raining?"},
        {"tool": "look", "start": 0, "end": 10, "question": "Anything else?"},
        final("A blue cap [00:00:25].", "00:00:25"),
    ])  # fmt: skip
    looker = RecordingCaptioner(max_frames=6)
    result = ask(str(facts_video), "What does Okafor wear?", memory, embedder, chat, looker,
                 AskOptions(max_frames=10))  # fmt: skip
    assert [len(r.frames) for r in looker.requests] == [6, 4]  # the second look gets what is left
    assert all(r.start <= f.time <= r.end for r in looker.requests for f in r.frames)
    assert "What does Okafor wear?" in (looker.requests[0].instruction or "")
    assert result.frames_inspected == 10
    assert "Error: the frame budget is spent" in chat.calls[4][-1]["content"]
    assert [e.source for e in result.evidence].count("inspection") == 2
    no_look = ask(str(facts_video), "What does he wear?", memory, embedder,
                  ScriptedChat([draft("?", enough=False), final("?")]), looker, AskOptions(inspect=False))  # fmt: skip
    assert no_look.frames_inspected == 0 and len(looker.requests) == 2


def test_a_wrong_call_is_answered_with_an_error_and_a_repeat_ends_the_run(
    memory, embedder, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import longvid.agent.loop

    monkeypatch.setattr(longvid.agent.loop, "tools_needed", lambda *a: "tools come in")
    chat = ScriptedChat([
        "not JSON at all",  # retried once with the reason
        draft("Captain Mira Okafor [00:00:25]", enough=False),
        {"tool": "read", "start": 50, "end": 20},
        {"tool": "read", "start": 50, "end": 20},
        final("Fresh bread [00:00:52]", "00:00:52"),
    ])  # fmt: skip
    result = ask("unused.mkv", "Who checks the engine?", memory, embedder, chat)
    assert "That reply is invalid (not JSON" in chat.calls[1][-1]["content"]
    assert "Error: bad window start=50 end=20" in chat.calls[3][-1]["content"]
    assert len(chat.calls) == 4  # the repeat costs no tool run and no further model call
    assert [s.tool for s in result.steps] == ["answer", "read", "read"]
    assert result.steps[-1].result.startswith("refused: the same call")
    assert result.answer == "Captain Mira Okafor [00:00:25–00:00:28]"  # the best answer so far


def test_the_step_budget_forces_a_final_answer(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    searches = [{"tool": "search", "query": word} for word in ("ferry", "storm")]
    chat = ScriptedChat(
        [draft("?", enough=False), *searches, final("The ferry [00:00:12]", "00:00:12")]
    )
    result = ask("unused.mkv", "Tell me about the ferry", memory, embedder, chat, None,
                 AskOptions(max_steps=2))  # fmt: skip
    assert [s.tool for s in result.steps] == ["answer", "search", "search", "answer"]
    assert chat.schemas[-1] == action_schema([ANSWER]) and len(chat.calls) == 4
    assert result.cited == [(12.0, 15.0)]
    baseline = ask("unused.mkv", "Tell me", memory, embedder, ScriptedChat([draft("?", enough=False)]),
                   None, AskOptions(agent=False))  # fmt: skip
    assert len(baseline.steps) == 1  # one retrieval, one answer


def test_abstains_when_the_evidence_does_not_support_an_answer(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat([draft("The mayor's hat colour is never mentioned.", found=False)])
    result = ask("unused.mkv", "What colour is the mayor's hat?", memory, embedder, chat)
    assert result.answer == "not found in the video: The mayor's hat colour is never mentioned."
    assert result.cited == [] and not result.found and result.confidence == "low"
    small = ScriptedChat([draft("07:15 every morning", found=False)])  # a small model's stray flag
    kept = ask("unused.mkv", "When does the ferry leave?", memory, embedder, small)
    assert kept.found and kept.answer.startswith("07:15 every morning [00:00:12")


def test_whole_video_questions_use_the_cached_summary(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    assert is_whole_video_question("What is this video about?")
    assert not is_whole_video_question("What does the captain check?")
    chat = ScriptedChat(lambda messages: "A ferry crossing [00:00:12]." if "summar" in messages[0]["content"] else
                        json.dumps(draft("A ferry trip [00:00:12].")))  # fmt: skip
    result = ask("unused.mkv", "What is this video about?", memory, embedder, chat)
    assert result.evidence and {e.source for e in result.evidence} == {"summary"}
    assert result.answer.startswith("A ferry trip")
    calls = len(chat.calls)
    ask("unused.mkv", "Summarize the video", memory, embedder, chat)
    assert len(chat.calls) == calls + 1  # the summary came from the cache


def test_citation_rules() -> None:
    evidence = [
        Evidence(10.0, 14.0, "a", 0.9, "transcript"),
        Evidence(30.0, 40.0, "b", 0.5, "caption"),
    ]
    text, cited = fix_citations(
        "A [00:00:12] B [00:00:19] C [00:00:35–00:00:37] D [01:00:00].", evidence, 60.0
    )
    assert text == "A [00:00:10–00:00:14] B [00:00:10–00:00:14] C [00:00:30–00:00:40] D."
    assert cited == [(10.0, 14.0), (30.0, 40.0)]
    assert fix_citations("no times here", evidence, 60.0)[0] == "no times here [00:00:10–00:00:14]"
    assert (
        fix_citations("[00:00:25] near", evidence, 60.0)[0] == "[00:00:30–00:00:40] near"
    )  # repaired
    assert fix_citations("[00:00:22] far", evidence, 60.0) == (
        "far [00:00:10–00:00:14]",
        [(10.0, 14.0)],
    )


def test_not_indexed(tmp_path: Path, cuts_video: Path) -> None:
    with pytest.raises(NotIndexedError, match="not indexed") as caught:
        open_memory(tmp_path, str(cuts_video))
    assert "longvid index" in caught.value.fix
    result = runner.invoke(app, ["ask", str(cuts_video), "why?", "--store", str(tmp_path)])
    assert result.exit_code == 1 and "not indexed" in result.stderr


def test_cli_json_shapes(store: Path, facts_video: Path) -> None:
    def reply(body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
        system = body["messages"][0]["content"]
        if "summar" in system:
            return 200, completion("A ferry crossing to Ardmore [00:00:12].")
        return 200, completion(json.dumps(draft("At 07:15 [00:00:13].")))

    server = FakeServer(script=[reply] * 20)
    with serve(server) as url:
        llm = f"openai:llm@{url}"
        asked = runner.invoke(app, ["ask", str(facts_video), "When does the ferry leave?", "--json", "--llm", llm,
                                    "--store", str(store), "--no-inspect", "--trace"])  # fmt: skip
        summarized = runner.invoke(app, ["summarize", "--json", "--llm", llm, "--store", str(store), "-"],
                                   input=f"{facts_video}\n")  # fmt: skip
        srt = runner.invoke(
            app,
            ["summarize", "--format", "srt", "--llm", llm, "--store", str(store), str(facts_video)],
        )
    assert asked.exit_code == 0, asked.output
    doc = json.loads(asked.stdout)
    assert set(doc) >= {
        "video",
        "question",
        "answer",
        "evidence",
        "steps",
        "totals",
        "found",
        "confidence",
        "frames_inspected",
        "models",
        "elapsed_s",
    }
    assert doc["answer"] == "At 07:15 [00:00:12–00:00:15]."
    assert doc["found"] is True and doc["confidence"] == "high"
    [step] = doc["steps"]
    assert step["tool"] == "answer" and step["tokens"]["in"] > 0 and step["elapsed_s"] >= 0
    assert doc["totals"] == {"steps": 1, "frames_inspected": 0, "tokens_in": step["tokens"]["in"],
                             "tokens_out": step["tokens"]["out"]}  # fmt: skip
    assert asked.stderr.startswith('trace: answer(answer="At 07:15 [00:00:13]."')
    assert set(doc["evidence"][0]) == {"start", "end", "text", "score", "source"}
    assert doc["models"]["llm"] == llm
    assert summarized.exit_code == 0, summarized.output
    summary = json.loads(summarized.stdout)
    assert summary["summary"] and summary["sections"][0].keys() == {"start", "end", "summary"}
    assert srt.stdout.startswith("1\n00:00:10,000 --> 00:01:00,000\nA ferry crossing")
    found = runner.invoke(
        app, ["search", str(facts_video), "Okafor", "--json", "--store", str(store)]
    )
    first = json.loads(found.stdout.splitlines()[0])
    assert (
        set(first) == {"video", "start", "end", "score", "text", "source"}
        and first["start"] <= 25.0 < first["end"] and first["source"] == "text"
    )
    everywhere = runner.invoke(app, ["search", "--all", "bread", "--store", str(store)])
    assert everywhere.exit_code == 0 and str(facts_video) in everywhere.stdout
