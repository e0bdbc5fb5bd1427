"""Questions in time answered by the system's own arithmetic (issue 25): a generated video of
announcements at known times; the timeline operation lists, counts, orders and subtracts, and its
computed answer replaces a model's answer that says otherwise (the engine's way, not the baseline)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from longvid.memory.library import open_memory
from longvid.models.registry import load
from longvid.pipeline.ask import AskOptions, ask
from longvid.pipeline.benchmarks import Item
from longvid.pipeline.index import IndexModels, index_video
from longvid.recall.choices import read_choice
from longvid.recall.timeline import Form, find, parse
from tests.fakes import ScriptedChat
from tests.media import ffmpeg, shots_video

ANNOUNCED = [  # (start, text): one every 30 s
    (5.0, "A green boat to the old bridge leaves from gate three."),
    (35.0, "A blue boat to the new harbour leaves from gate five."),
    (65.0, "A green boat to the old mill leaves from gate two."),
    (95.0, "The red boat to the new station leaves from gate seven."),
    (125.0, "A green boat to the new market leaves from gate one."),
    (155.0, "The white boat to the old river mouth leaves from gate four."),
]


@pytest.fixture(scope="module")
def indexed(tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The announcements video, its store and the embedder that indexed it."""
    folder = tmp_path_factory.mktemp("announcements")
    plain = shots_video(folder / "plain.mp4", [30.0] * 6)
    srt = folder / "said.srt"
    srt.write_text("\n".join(f"{n}\n00:{int(a) // 60:02d}:{a % 60:06.3f} --> 00:{int(a) // 60:02d}:{a % 60 + 4:06.3f}\n{t}\n".replace(".", ",", 2)
                             for n, (a, t) in enumerate(ANNOUNCED, start=1)), encoding="utf-8")  # fmt: skip
    video = folder / "harbour.mkv"
    ffmpeg("-i", str(plain), "-i", str(srt), "-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt", str(video))
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    store = folder / "store"
    index_video(video, IndexModels(embedder=embedder), store)
    return video, store, embedder


@pytest.fixture(scope="module")
def memory(indexed):  # type: ignore[no-untyped-def]
    video, store, embedder = indexed
    opened = open_memory(store, str(video))
    yield opened, embedder
    opened.close()


def _item(question: str, options: list[str], answer: int) -> Item:
    return Item("q", "harbour.mkv", question, tuple(options), answer)


def _answer(memory, item: Item, reply: str, agent: bool = True):  # type: ignore[no-untyped-def]
    chat = ScriptedChat([{"answer": reply, "enough": True, "found": True}])
    result = ask("harbour.mkv", item.question, memory[0], memory[1], chat,
                 options=AskOptions(agent=agent), choices=item.options)  # fmt: skip
    return result, chat


@pytest.mark.parametrize(
    ("question", "options", "right"),
    [
        ("Which destination is announced right after the boat to the old mill?",
         ["the new harbour", "the new station", "the old bridge", "the new market"], 1),
        ("Which destination is announced right before the boat to the new station?",
         ["the old mill", "the new market", "the old river mouth"], 0),
        ("How many green boats are announced in the whole video?", ["2", "3", "4"], 1),
        ("How many minutes pass between the announcements of the boats to the old bridge and to "
         "the new market?", ["1.5", "2", "4"], 1),
        ("Which boat is announced first: the one to the new station or the one to the old mill?",
         ["the new station", "the old mill"], 1),
        ("Which boat is announced last: the one to the new station or the one to the old mill?",
         ["the new station", "the old mill"], 0),
    ],
)  # fmt: skip
def test_the_computed_answer_replaces_a_wrong_pick(memory, question: str, options: list[str], right: int) -> None:  # type: ignore[no-untyped-def]
    item = _item(question, options, right)
    wrong = "ABCD"[(right + 1) % len(options)]
    result, chat = _answer(memory, item, f"({wrong}) because")
    assert result.computed and read_choice(result.answer, options) == right
    assert len(chat.calls) == 1  # no tool steps: the system's arithmetic settled it
    assert result.cited  # with the times it rests on
    baseline, _ = _answer(memory, item, f"({wrong}) because", agent=False)
    assert not baseline.computed and read_choice(baseline.answer, options) == (right + 1) % len(options)


def test_a_model_that_says_the_same_keeps_its_words(memory) -> None:  # type: ignore[no-untyped-def]
    item = _item("Which destination is announced right after the boat to the old mill?",
                 ["the new harbour", "the new station"], 1)  # fmt: skip
    result, _ = _answer(memory, item, "(B) the new station [00:01:35]")
    assert not result.computed and result.answer.startswith("(B) the new station")


def test_the_operation_lists_counts_and_subtracts_at_the_known_times(memory) -> None:  # type: ignore[no-untyped-def]
    mem, embedder = memory
    after = find(mem, embedder, "What is announced right after the boat to the old mill?")
    assert after is not None and after.answer is not None and after.answer.start == 95.0
    assert [e.start for e in after.evidence[1:]] == [95.0, 125.0, 155.0]  # in order
    counted = find(mem, embedder, "How many green boats are announced?")
    assert counted is not None and counted.number == 3 and [e.start for e in counted.evidence[1:]] == [5.0, 65.0, 125.0]
    gap = find(mem, embedder, "How long between the boat to the old bridge and the boat to the new market?")
    assert gap is not None and gap.number == 120.0 and "2 min later" in gap.evidence[0].text
    chat = ScriptedChat([{"answer": "The blue boat [00:00:35]", "enough": True, "found": True}])
    said = ask("harbour.mkv", "What is announced right after the boat to the old mill?", mem, embedder, chat)
    assert said.computed and said.answer.startswith("The red boat to the new station") and said.cited == [(95.0, 99.0)]


def test_an_anchor_the_memory_does_not_hold_strictly_computes_nothing(memory) -> None:  # type: ignore[no-untyped-def]
    mem, embedder = memory
    clause = find(mem, embedder, "Who announces the boat to the new station before the old mill?")
    assert clause is not None and clause.answer is None  # a who-question: listed, not answered
    loose = find(mem, embedder, "Which destination is announced right after the green boat?")  # three of them
    assert loose is not None and loose.answer is None and loose.evidence  # listed, not decided
    item = _item("Which destination is announced right after the green boat?", ["the new harbour", "the old mill"], 0)
    result, _ = _answer(memory, item, "(B) the old mill")
    assert not result.computed and read_choice(result.answer, item.options) == 1  # the model's pick stands


def test_the_question_is_read_without_its_options() -> None:
    asked = "Which boat is announced right after the boat to the old mill?\nOptions:\n(A) x\n(B) y\nAnswer with the letter."
    parsed = parse(asked)
    assert parsed is not None and parsed.form is Form.AFTER and parsed.anchors == ("the boat to the old mill",)
    pair = parse("Which is first: the one to the old mill or the one to the new station?")
    assert pair is not None and pair.form is Form.EARLIER and pair.anchors == ("to the old mill", "to the new station")
    assert parse("How many people are in the room?") is None  # not a count over time
    clause = parse("Who checks the engine before the crossing?")  # "before" inside the event asked of
    assert clause is not None and not clause.direct


def test_every_door_takes_options_cli_json_gives_the_choice(indexed) -> None:  # type: ignore[no-untyped-def]
    import json

    from longvid_cli.app import app
    from typer.testing import CliRunner

    from tests.fake_openai import FakeServer, completion, serve

    video, store, _ = indexed
    server = FakeServer(script=[lambda body: (200, completion(json.dumps({"answer": "(A) the new harbour", "enough": True, "found": True})))] * 4)  # fmt: skip
    with serve(server) as url:
        asked = CliRunner().invoke(app, ["ask", str(video), "Which destination is announced right after the boat to the old mill?",
                                         "-o", "the new harbour", "-o", "the new station", "--json", "--no-inspect",
                                         "--llm", f"openai:llm@{url}", "--store", str(store)])  # fmt: skip
    assert asked.exit_code == 0, asked.output
    doc = json.loads(asked.stdout)
    assert doc["choice"] == "B" and doc["computed"] and doc["answer"].startswith("(B) the new station")
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "(A) the new harbour\n(B) the new station" in prompt  # the model saw the options lettered


def test_what_the_review_found_stays_fixed(memory) -> None:  # type: ignore[no-untyped-def]
    from longvid.errors import InputError
    from longvid.recall.choices import with_options
    from longvid.words import matches_whole

    mem, embedder = memory
    assert not parse("Which comes first: the last song or the intro?").last  # type: ignore[union-attr]  # "last" in an anchor
    assert not parse("Who was in the room the last time the bell rang?").direct  # type: ignore[union-attr]
    assert parse("What do they do following the instructions on screen?") is None
    assert not parse("What did the captain do right after the alarm?").direct  # type: ignore[union-attr]  # her own subject
    assert not parse("警报之后船长做了什么").direct and parse("警报之后发生了什么？").direct  # type: ignore[union-attr]
    assert matches_whole("the start of the party", ["art"]) == 0 and matches_whole("gate 15", ["5"]) == 0
    assert matches_whole("two boats left", ["boat"]) == 1
    missing = find(mem, embedder, "How many times does the captain mention garlic?")  # no such words
    assert missing is None or missing.answer is None
    for said, computed in (("2 minutes apart", False), ("120 seconds", False), ("10 minutes", True)):
        chat = ScriptedChat([{"answer": said, "enough": True, "found": True}])
        result = ask("harbour.mkv", "How long between the boat to the old bridge and the boat to the new market?",
                     mem, embedder, chat)  # fmt: skip
        assert result.computed is computed, said
    with pytest.raises(InputError):
        with_options("Which one?", [str(n) for n in range(11)])


def test_eval_records_say_which_answers_were_computed(memory) -> None:  # type: ignore[no-untyped-def]
    from longvid.pipeline.ask import AskOptions as Options
    from longvid.pipeline.evaluate import _answer

    item = _item("How many green boats are announced in the whole video?", ["2", "3", "4"], 1)
    chat = ScriptedChat([{"answer": "(A) two", "enough": True, "found": True}])
    record = _answer(item, memory[0], memory[1], chat, None, Options(agent=True, max_steps=0))
    assert record["computed"] and record["predicted"] == 1
