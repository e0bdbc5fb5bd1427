"""The speakers channel through the engine: chosen once (default, off, named), run after speech by
``index`` or alone on an indexed memory (nothing else recomputed), and seen everywhere: evidence
lines with speaker labels, ``search --speaker``, who-said answers, names given later."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.engine import Engine, Video, index
from longvid.memory.speakers import SpeakerMemory
from longvid.memory.store import VideoMemory
from longvid.models.base import Message
from tests.dialogues import SCRIPTS
from tests.fakes import ScriptedChat
from tests.test_speakers import _content, dialogue_video, dialogues, diarizer, voices_dir  # noqa: F401

runner = CliRunner()


@pytest.fixture
def engine_for(tiny_model: Callable[[str], Path], tmp_path: Path) -> Callable[..., Engine]:
    """An engine on a fresh store: no captions, no OCR, the tiny embedder; speech from the
    dialogue's sidecar subtitles."""
    embedder = str(tiny_model("sentence_transformer"))

    def make(**specs: Any) -> Engine:
        return Engine(tmp_path / "store", captioner="none", asr="none", ocr="none",
                      visual_embedder="none", embedder=embedder, **specs)  # fmt: skip

    return make


def _open(folder: str) -> VideoMemory:
    return VideoMemory(Path(folder))


def test_index_finds_speakers_after_speech(
    engine_for: Callable[..., Engine],
    dialogue_video: Path,  # noqa: F811
    diarizer: Any,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="longvid"):
        done = index(dialogue_video, engine_for())
    assert "speakers: resemblyzer (the offline default where there is speech)" in caplog.text
    assert done.speakers is not None and done.speakers.status == "found"
    assert sorted(s.id for s in done.speakers.speakers) == ["S1", "S2", "S3"]


def test_an_indexed_memory_gains_speakers_alone(
    engine_for: Callable[..., Engine],
    dialogue_video: Path,  # noqa: F811
    diarizer: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = index(dialogue_video, engine_for(speakers="none"))
    assert first.status == "indexed" and first.speakers is None
    memory = _open(first.memory)
    before = _content(memory)
    memory.close()

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing but the speakers channel may run")

    for name in ("longvid.pipeline.index.build_memory", "longvid.models.asr.transcribe_video",
                 "longvid.media.subtitles.subtitle_lines"):  # fmt: skip
        monkeypatch.setattr(name, never)
    again = index(dialogue_video, engine_for())
    assert again.status == "up-to-date" and again.computed == 0
    assert again.speakers is not None and len(again.speakers.speakers) == 3
    memory = _open(again.memory)
    assert _content(memory) == before  # no caption, line or vector recomputed
    memory.close()
    third = index(dialogue_video, engine_for())
    assert third.speakers is not None and third.speakers.status == "up-to-date"


def test_a_failing_default_backend_warns_and_the_index_stands(
    engine_for: Callable[..., Engine],
    dialogue_video: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("resemblyzer")

    def broken(spec: str) -> Any:
        raise RuntimeError("no audio device")

    engine = engine_for()
    monkeypatch.setattr(engine, "diarizer", broken)
    with caplog.at_level(logging.WARNING, logger="longvid"):
        done = index(dialogue_video, engine)
    assert done.status == "indexed" and done.speakers is None
    assert "speakers were not found (RuntimeError: no audio device)" in caplog.text
    named = engine_for(speakers="resemblyzer")
    monkeypatch.setattr(named, "diarizer", broken)
    with pytest.raises(RuntimeError):  # asked for by name: it fails loudly
        index(dialogue_video, named)


def test_cli_index_speakers_flag_and_json(
    tiny_model: Callable[[str], Path],
    tmp_path: Path,
    dialogue_video: Path,  # noqa: F811
    diarizer: Any,  # noqa: F811
) -> None:
    args = ["index", str(dialogue_video), "--captioner", "none", "--asr", "none", "--ocr", "none",
            "--visual-embedder", "none", "--embedder", str(tiny_model("sentence_transformer")),
            "--store", str(tmp_path / "store")]  # fmt: skip
    off = runner.invoke(app, [*args, "--speakers", "none", "--json"])
    assert off.exit_code == 0, off.output
    assert "speakers" not in json.loads(off.stdout)  # the channel was off
    on = runner.invoke(app, [*args, "--json"])
    assert on.exit_code == 0, on.output
    found = json.loads(on.stdout)["speakers"]
    assert sorted(s["id"] for s in found) == ["S1", "S2", "S3"]
    line = runner.invoke(app, args).stdout
    assert "up to date" in line and "3 speakers" in line


def test_the_engine_owns_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("resemblyzer")
    engine = Engine()
    assert engine.speakers_choice(True)[0] == "resemblyzer"
    spec, why = engine.speakers_choice(False)
    assert spec is None and why == "speakers: off — no speech in this video"
    assert Engine(speakers="none").speakers_choice(True)[0] is None
    monkeypatch.setenv("LONGVID_SPEAKERS", "none")
    assert Engine().speakers_choice(True) == (None, "speakers: off (--speakers none)")
    monkeypatch.setenv("LONGVID_SPEAKERS", "pyannote/speaker-diarization-3.1")
    assert Engine().speakers_choice(False)[0] == "pyannote/speaker-diarization-3.1"  # named: used
    monkeypatch.delenv("LONGVID_SPEAKERS")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    spec, why = Engine().speakers_choice(True)
    assert spec is None and "pip install 'longvid[speakers]'" in why


# --- seen everywhere -------------------------------------------------------------------------------


@pytest.fixture
def video(engine_for: Callable[..., Engine], dialogue_video: Path, diarizer: Any) -> Video:  # noqa: F811
    engine = engine_for()
    index(dialogue_video, engine)
    return Video(dialogue_video, engine)


def _said(word: str) -> tuple[str, str]:
    """The speaker letter and line of the 3-speaker dialogue's only line holding ``word``."""
    [(who, line)] = [(w, line) for w, line, _ in SCRIPTS[3] if word in line]
    return who, line


def test_evidence_lines_carry_speakers_and_later_names(video: Video) -> None:
    from longvid.recall.retrieve import retrieve

    who, line = _said("architects")
    expected = f"S{'ABC'.index(who) + 1}"
    with video.memory() as memory:
        spoken = [e for e in retrieve(memory, video.engine.query_embedder(video.settings["embedder"]),
                                      "architects drawings") if e.source == "transcript"]  # fmt: skip
        assert f"{expected}: {line}" in [e.text for e in spoken]
        SpeakerMemory(memory).rename(expected, "Dr. Ortiz")
    with video.memory() as memory:  # the name, at once, with nothing re-indexed
        texts = [t.text for c in memory.chunks() for t in c.transcript]
    assert f"Dr. Ortiz: {line}" in texts and all(re.match(r"(S\d|Dr\. Ortiz): ", t) for t in texts)


def _who_said(messages: Sequence[Message]) -> str:
    """A scripted model that reads who said the asked-for word off the evidence's labels."""
    prompt = "\n".join(str(m["content"]) for m in messages)
    word = re.search(r"said '(\w+)'", prompt)
    assert word, prompt
    hit = re.search(r"\[(\d\d:\d\d:\d\d)[^\]]*\] \(transcript\) ([^:\n]+): [^\n]*" + word[1], prompt)
    answer = f"{hit[2]} said it [{hit[1]}]" if hit else "not found"
    return json.dumps({"answer": answer, "enough": True, "found": bool(hit)})


def test_who_said_a_word_is_answered_from_labelled_evidence(
    video: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ScriptedChat(_who_said)
    monkeypatch.setattr(video.engine, "llm", lambda captioner=None: chat)
    who, _ = _said("bicycle")
    answer = video.ask("Who said 'bicycle'?", agent=False, inspect=False)
    assert answer.found and answer.answer.startswith(f"S{'ABC'.index(who) + 1} said it")
    video.speakers(names={f"S{'ABC'.index(who) + 1}": "Anna"})
    named = video.ask("Who said 'bicycle'?", agent=False, inspect=False)
    assert named.answer.startswith("Anna said it")


def test_search_by_speaker(video: Video) -> None:
    who, line = _said("architects")
    speaker = f"S{'ABC'.index(who) + 1}"
    turns = {s.id: s.turns for s in video.speakers()}[speaker]
    found = video.search("drawings reading room", 3, speaker=speaker)
    assert found and all(any(a < m.end and b > m.start for a, b in turns) for m in found)
    assert all(m.speakers == [speaker] for m in found)  # narrowed to their lines
    assert found[0].text == f"{speaker}: {line}"  # the line of theirs nearest the query
    video.speakers(names={speaker: "Dr. Ortiz"})
    named = video.search("drawings reading room", 3, speaker="dr. ortiz")
    assert [m.start for m in named] == [m.start for m in found]
    assert all("Dr. Ortiz" in m.speakers for m in named)
    assert named[0].to_dict()["speakers"]
    with pytest.raises(Exception, match="no speaker 'S9'"):
        video.search("drawings", 3, speaker="S9")


def test_cli_search_by_speaker_and_unknown_speaker(video: Video) -> None:
    args = ["search", str(video.path), "drawings reading room", "--store", str(video.engine.store)]
    found = runner.invoke(app, [*args, "--speaker", "S2", "--json"])
    assert found.exit_code == 0, found.output
    moments = [json.loads(line) for line in found.stdout.splitlines()]
    assert moments and all("S2" in m["speakers"] for m in moments)
    text = runner.invoke(app, [*args, "--speaker", "S2"])
    assert text.stdout and all("S2" in line for line in text.stdout.splitlines())
    unknown = runner.invoke(app, [*args, "--speaker", "Nobody"])
    assert unknown.exit_code == 1 and "no speaker 'Nobody'" in unknown.output and "known: S1" in unknown.output


def _echo_speaker(messages: Sequence[Message]) -> str:
    """A scripted model that says whose lines it was given, citing the first."""
    user = str(messages[-1]["content"])
    who = re.search(r"Speaker: (.+)", user)
    first = re.search(r"\[(\d\d:\d\d:\d\d)\]", user)
    return f"{who[1] if who else 'everyone'} speaks [{first[1] if first else '00:00:00'}]"


def test_summaries_by_speaker_use_names(video: Video, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = ScriptedChat(_echo_speaker)
    monkeypatch.setattr(video.engine, "llm", lambda captioner=None: chat)
    video.speakers(names={"S3": "Anna"})
    parts = video.summarize_speakers()
    assert [p["id"] for p in parts] == [s.id for s in video.speakers()]  # most talk first
    anna = next(p for p in parts if p["id"] == "S3")
    assert anna["name"] == "Anna" and anna["summary"].startswith("Anna speaks [00:00:")
    assert anna["turns"] == 3 and anna["talk_s"] > 0
    [prompt] = [c[-1]["content"] for c in chat.calls if "Speaker: Anna" in c[-1]["content"]]
    assert "Anna: " not in prompt and "bicycle shelter" in prompt  # her lines, unlabelled
    whole = video.summarize()
    assert any("Anna: " in m["content"] for call in chat.calls for m in call)  # the notes name her
    assert whole.summary


def test_report_colours_turns_by_speaker(video: Video) -> None:
    from longvid.pipeline.report import VOICE_COLOURS, render_report

    video.speakers(names={"S2": "Dr. Ortiz"})
    with video.memory() as memory:
        page = render_report(memory, "meeting")
    turns = sum(len(s.turns) for s in video.speakers())
    assert "<div id='voices'" in page and page.count("class='turn'") == turns
    assert f"data-speaker='S2' style='border-left-color:{VOICE_COLOURS[1]}'" in page
    assert "Dr. Ortiz (S2)" in page and "Dr. Ortiz: The architects" in page


# --- across the library ----------------------------------------------------------------------------


def test_the_same_voice_in_other_videos(
    engine_for: Callable[..., Engine],
    dialogue_video: Path,  # noqa: F811
    dialogues: Any,  # noqa: F811
    diarizer: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    from longvid.engine import library
    from tests.dialogues import write_video

    engine = engine_for(speakers="resemblyzer")  # the 2-speaker video has no subtitles: named
    interview = write_video(dialogues[2][0], tmp_path / "interview.mp4")  # voices A and B
    index(interview, engine)
    index(dialogue_video, engine)  # voices A (S1), B (S2), C (S3)
    Video(interview, engine).speakers(names={"S1": "Anna"})
    args = ["speakers", "--all", "--store", str(engine.store), "--json"]
    for speaker, expected in (("S1", ("S1", "Anna")), ("S2", ("S2", None)), ("S3", None)):
        result = runner.invoke(app, [*args, "--like", f"{dialogue_video}:{speaker}"])
        assert result.exit_code == 0, result.output
        found = [json.loads(line) for line in result.stdout.splitlines()]
        if expected is None:
            assert found == []  # voice C speaks in no other video
            continue
        [match] = found
        assert (match["speaker"], match["name"]) == expected and match["video"] == str(interview)
        assert match["similarity"] >= 0.8 and match["turns"] and match["talk_s"] > 0
    everyone = library(engine.store).voices()
    assert sorted((Path(v.video).name, v.speaker) for v in everyone) == [
        ("interview.mp4", "S1"), ("interview.mp4", "S2"),
        ("meeting.mp4", "S1"), ("meeting.mp4", "S2"), ("meeting.mp4", "S3"),
    ]  # fmt: skip
    table = runner.invoke(app, [*args[:-1], "--like", f"{interview}:anna"])
    assert table.exit_code == 0 and "meeting.mp4" in table.stdout and "similarity" in table.stdout
    bad = runner.invoke(app, [*args, "--like", "S2"])
    assert bad.exit_code == 2 and "bad --like" in bad.output
    meeting = Video(dialogue_video, engine)  # the name given in the interview is offered here
    chat = ScriptedChat([{"name": None}])
    meeting.engine.llm = lambda captioner=None: chat  # type: ignore[method-assign]
    assert meeting.guess_names() == {"S1": "Anna"}
    assert len(chat.calls) == 2  # the LLM read only the two voices the library could not name


def test_names_guessed_from_self_introductions_are_shown_not_stored(
    engine_for: Callable[..., Engine],
    dialogue_video: Path,  # noqa: F811
    diarizer: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    import shutil

    from tests.fake_openai import FakeServer, completion, serve

    video = tmp_path / "intro.mp4"  # the same voices; B's first line now introduces her
    shutil.copy(dialogue_video, video)
    cues = dialogue_video.with_suffix(".srt").read_text(encoding="utf-8")
    _, line = _said("architects")
    video.with_suffix(".srt").write_text(cues.replace(line, "I am Anna Berg from the library board."))
    engine = engine_for()
    index(video, engine)

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        said = body["messages"][-1]["content"]
        name = "Anna Berg" if "I am Anna Berg" in said else "Bob"  # Bob: made up, never said
        return 200, completion(json.dumps({"name": name}))

    server = FakeServer()
    server.reply_with = reply
    with serve(server) as url:
        args = ["speakers", str(video), "--store", str(engine.store), "--guess-names",
                "--llm", f"openai:llm@{url}"]  # fmt: skip
        listed = runner.invoke(app, [*args, "--json"])
        table = runner.invoke(app, args)
    assert listed.exit_code == 0, listed.output
    speakers = {s["id"]: (s["name"], s["guess"]) for s in json.loads(listed.stdout)["speakers"]}
    assert speakers == {"S1": (None, None), "S2": (None, "Anna Berg"), "S3": (None, None)}
    assert "Anna Berg?" in table.stdout and len(server.requests) == 6  # 3 speakers, twice
    assert all(s.name is None for s in Video(video, engine).speakers())  # a guess is not stored


def test_one_unnamed_voice_reads_without_labels_and_a_name_shows(tmp_path: Path) -> None:
    import numpy as np

    from longvid.memory.labelled import LabelledMemory
    from longvid.memory.speakers import SpeakerMemory
    from longvid.timeline import TimedText

    memory = VideoMemory(tmp_path / "m")
    memory.save_transcript([TimedText(0.5, 4.0, "The ferry leaves at 7.15.")], "test")
    voices = SpeakerMemory(memory)
    voices.begin({"backend": "test"})
    voices.save([(0.0, 5.0, "S1")], {"S1": np.ones(8, np.float32)}, [(0.5, 4.0, "S1")])
    memory.close()
    narrator = LabelledMemory(tmp_path / "m")
    assert narrator.transcript() == [TimedText(0.5, 4.0, "The ferry leaves at 7.15.")]  # "S1:" tells nothing
    SpeakerMemory(narrator).rename("S1", "Captain Okafor")
    narrator.close()
    named = LabelledMemory(tmp_path / "m")
    assert named.transcript() == [TimedText(0.5, 4.0, "Captain Okafor: The ferry leaves at 7.15.")]
    named.close()
