"""ask / search / summarize: retrieval, re-inspection bounds, citations, summaries, JSON shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.models.registry import load
from longvid.pipeline.ask import AskOptions, ask, is_whole_video_question
from longvid.pipeline.citations import fix_citations
from longvid.pipeline.index import IndexModels, index_video
from longvid.pipeline.retrieve import Evidence, NotIndexedError, open_memory, retrieve
from longvid.pipeline.search import search_library, search_memory
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


def test_answer_with_checked_citations(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat(
        [
            {
                "answer": "Captain Mira Okafor [00:00:26], not the mayor [00:09:00].",
                "sufficient": True,
            }
        ]
    )
    result = ask("unused.mkv", "Who checks the engine? Okafor?", memory, embedder, chat)
    assert result.answer == "Captain Mira Okafor [00:00:25–00:00:28], not the mayor."
    assert result.cited == [(25.0, 28.0)]
    assert result.rounds == 1 and result.frames_inspected == 0
    prompt = chat.calls[0][1]["content"]
    assert "[00:00:25.0–00:00:28.0] (transcript) Captain Mira Okafor" in prompt


def test_thin_evidence_triggers_a_closer_look_at_the_right_moment(
    memory, embedder, facts_video: Path
) -> None:  # type: ignore[no-untyped-def]
    chat = ScriptedChat([
        {"answer": "Not sure what he wears.", "sufficient": False, "look_at": ["00:00:26"]},
        {"answer": "A blue cap [00:00:25].", "sufficient": True},
    ])  # fmt: skip
    looker = RecordingCaptioner(max_frames=6)
    result = ask(
        str(facts_video),
        "What does Okafor wear?",
        memory,
        embedder,
        chat,
        looker,
        AskOptions(max_frames=10),
    )
    [request] = looker.requests
    assert request.start <= 26.0 <= request.end and request.end - request.start >= 4.0
    assert len(request.frames) == 6 and all(
        request.start <= f.time <= request.end for f in request.frames
    )
    assert "What does Okafor wear?" in (request.instruction or "")
    assert result.rounds == 2 and result.frames_inspected == 6
    assert [e.source for e in result.evidence].count("inspection") == 1
    assert "closer look 24-28 s" in chat.calls[1][1]["content"]


def test_closer_looks_stay_within_rounds_and_frames(memory, embedder, facts_video: Path) -> None:  # type: ignore[no-untyped-def]
    unsure = ScriptedChat([{"answer": "Still unsure.", "sufficient": False}])
    looker = RecordingCaptioner(max_frames=8)
    frame_bound = ask(str(facts_video), "Describe the engine room", memory, embedder, unsure, looker,
                      AskOptions(max_rounds=9, max_frames=12))  # fmt: skip
    assert [len(r.frames) for r in looker.requests] == [8, 4]  # the second look gets what is left
    assert frame_bound.frames_inspected == 12 and frame_bound.rounds == 2
    wandering = ScriptedChat([
        {"answer": "?", "sufficient": False, "look_at": [f"00:00:{second:02d}"]} for second in (5, 35, 45, 58)
    ])  # fmt: skip
    round_bound = ask(str(facts_video), "Describe the room", memory, embedder, wandering, RecordingCaptioner(2),
                      AskOptions(max_rounds=3, max_frames=100))  # fmt: skip
    assert round_bound.rounds == len(wandering.calls) == 3
    assert round_bound.frames_inspected == 4  # two looks of two frames; the last round only answers
    no_look = ask(
        str(facts_video), "Describe it", memory, embedder, unsure, looker, AskOptions(inspect=False)
    )
    assert no_look.rounds == 1 and no_look.frames_inspected == 0


def test_whole_video_questions_use_the_cached_summary(memory, embedder) -> None:  # type: ignore[no-untyped-def]
    assert is_whole_video_question("What is this video about?")
    assert not is_whole_video_question("What does the captain check?")
    chat = ScriptedChat(lambda messages: "A ferry crossing [00:00:12]." if "summar" in messages[0]["content"] else
                        json.dumps({"answer": "A ferry trip [00:00:12].", "sufficient": True}))  # fmt: skip
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
        return 200, completion(json.dumps({"answer": "At 07:15 [00:00:13].", "sufficient": True}))

    server = FakeServer(script=[reply] * 20)
    with serve(server) as url:
        llm = f"openai:llm@{url}"
        asked = runner.invoke(app, ["ask", str(facts_video), "When does the ferry leave?", "--json", "--llm", llm,
                                    "--store", str(store), "--no-inspect"])  # fmt: skip
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
        "rounds",
        "frames_inspected",
        "models",
        "elapsed_s",
    }
    assert doc["answer"] == "At 07:15 [00:00:12–00:00:15]."
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
        set(first) == {"video", "start", "end", "score", "text"}
        and first["start"] <= 25.0 < first["end"]
    )
    everywhere = runner.invoke(app, ["search", "--all", "bread", "--store", str(store)])
    assert everywhere.exit_code == 0 and str(facts_video) in everywhere.stdout
