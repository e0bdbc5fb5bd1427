"""Visual memory: tiny SigLIP / CLIP through the real loading path, frame vectors at index time,
visual hits in search with no captioner, and question-guided frame choice."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from longvid_cli.app import app
from typer.testing import CliRunner

from longvid.agent.selection import choose_frames
from longvid.memory.library import memories
from longvid.memory.store import VideoMemory
from longvid.models.registry import load
from tests.conftest import CUT_LENGTHS

runner = CliRunner()


@pytest.mark.parametrize("family", ["siglip", "clip"])
def test_dual_encoders_put_frames_and_texts_in_one_space(
    tiny_model: Callable[[str], Path], family: str
) -> None:
    visual = load("visual_embedder", str(tiny_model(family)))
    images = [np.full((24, 32, 3), v, np.uint8) for v in (0, 128, 255)]
    frames, texts = visual.embed_images(images), visual.embed_texts(["a red car", "a ferry"])
    assert frames.shape == (3, visual.dimension) and texts.shape == (2, visual.dimension)
    assert frames.dtype == texts.dtype == np.float32
    assert np.allclose(np.linalg.norm(np.vstack([frames, texts]), axis=1), 1.0, atol=1e-5)
    assert np.allclose(visual.embed_images(images[:1]), frames[:1], atol=1e-5)


def test_a_named_model_that_is_not_a_dual_encoder_is_refused(
    tiny_model: Callable[[str], Path],
) -> None:
    from longvid.models.hf_common import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="not an image–text dual encoder"):
        load("visual_embedder", str(tiny_model("causal_lm")))


@pytest.fixture
def indexed(cuts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path) -> Path:
    """The cuts video indexed with no captioner, no speech, no OCR: only the visual memory."""
    store = tmp_path / "store"
    result = runner.invoke(app, ["index", str(cuts_video), "--captioner", "none", "--asr", "none", "--ocr",
                                 "none", "--embedder", str(tiny_model("sentence_transformer")),
                                 "--visual-embedder", str(tiny_model("siglip")), "--visual-every", "2",
                                 "--store", str(store)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return store


def test_frame_vectors_are_stored_with_their_times(indexed: Path) -> None:
    [summary] = memories(indexed)
    assert (
        summary.settings["visual_embedder"].endswith("siglip")
        and summary.settings["visual_every_s"] == 2.0
    )
    memory = VideoMemory(Path(summary.folder))
    times = [t for (t,) in memory.db.execute("SELECT time FROM frame_vectors ORDER BY time")]
    # every shot has a frame within the decode pass's buffer interval (0.5 s) of its cut
    for cut in (0.0, 2.0, 5.0, 6.6):
        assert any(cut <= t < cut + 0.55 for t in times), (cut, times)
    assert all(b - a <= 2.0 + 0.55 for a, b in itertools.pairwise(times))  # about one every 2 s
    assert times[-1] < sum(CUT_LENGTHS)
    assert (Path(summary.folder) / "frames.faiss").is_file()


def test_the_cpu_default_rate_is_one_frame_every_8_s(
    cuts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["index", str(cuts_video), "--captioner", "none", "--asr", "none", "--ocr", "none",
                                 "--embedder", str(tiny_model("sentence_transformer")), "--visual-embedder",
                                 str(tiny_model("clip")), "--store", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    [summary] = memories(tmp_path)
    assert summary.settings["visual_every_s"] == 8.0


def test_search_finds_visual_hits_with_no_captioner(indexed: Path, cuts_video: Path) -> None:
    found = runner.invoke(
        app, ["search", str(cuts_video), "red car", "--json", "--store", str(indexed)]
    )
    assert found.exit_code == 0, found.output
    moments = [json.loads(line) for line in found.stdout.splitlines()]
    assert moments and all(m["source"] == "visual" and m["start"] == m["end"] for m in moments)
    memory = VideoMemory(Path(memories(indexed)[0].folder))
    stored = {t for (t,) in memory.db.execute("SELECT time FROM frame_vectors")}
    assert {m["start"] for m in moments} <= stored  # exact frame times
    everywhere = runner.invoke(
        app, ["search", "--all", "red car", "--json", "--store", str(indexed)]
    )
    assert json.loads(everywhere.stdout.splitlines()[0])["source"] == "visual"


def test_search_all_finds_frames_through_the_library_index(
    indexed: Path, tiny_model: Callable[[str], Path]
) -> None:
    from longvid.memory.library_index import LibraryIndex

    def search_all() -> list[dict]:  # type: ignore[type-arg]
        found = runner.invoke(app, ["search", "--all", "red car", "--json", "--store", str(indexed)])
        assert found.exit_code == 0, found.output
        return [json.loads(line) for line in found.stdout.splitlines()]

    library = LibraryIndex(indexed)
    assert library.fresh() and library.specs(frames=True)  # joined at completion, frames too
    # The library's frame vectors score as the memory's own (a random tiny encoder ties often).
    [spec] = library.specs(frames=True)
    query = load("visual_embedder", spec).embed_texts(["red car"])[0]
    memory = VideoMemory(Path(memories(indexed)[0].folder))
    own = memory.search_frames(query, 50)
    best = own[0][2]
    tied = {t for t, _, score in own if score >= best - 1e-5}
    [(_, time, score)] = library.nearest_frames(spec, query, 1)
    assert score == pytest.approx(best, abs=1e-5) and time in tied
    through_library = search_all()
    (indexed / "library" / "entries.sqlite").unlink()
    assert not library.fresh()
    merged = search_all()  # each memory in turn
    assert through_library[0]["source"] == merged[0]["source"] == "visual"
    assert {through_library[0]["start"], merged[0]["start"]} <= tied
    assert through_library[0]["text"].startswith("frame at ")


def test_a_memory_without_frame_vectors_still_answers(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    store = ["--store", str(tmp_path / "store")]
    runner.invoke(app, ["index", str(facts_video), "--captioner", "none", "--asr", "none", "--ocr", "none",
                        "--embedder", str(tiny_model("sentence_transformer")), "--visual-embedder", "none", *store])  # fmt: skip
    found = runner.invoke(app, ["search", str(facts_video), "Okafor", "--json", *store])
    first = json.loads(found.stdout.splitlines()[0])
    assert first["source"] == "text" and first["start"] <= 25.0 < first["end"]


def test_question_guided_choice_keeps_planted_frames_ends_and_spread() -> None:
    """20 candidates; frames 6 and 13 match the question; 7 (a copy of 6) must not crowd 13 out."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20, 8))
    vectors[7] = vectors[6]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    times = [i * 0.5 for i in range(20)]
    scores = np.full(20, 0.05)
    scores[[6, 7, 13]] = 0.9
    chosen = choose_frames(times, scores, vectors, 4)
    assert chosen == [0, 6, 13, 19]  # the ends for context, the planted frames, no near-duplicate
    assert choose_frames(times, scores, vectors, 30) == list(range(20))  # budget above the pool
    assert len(choose_frames(times, scores, vectors, 6)) == 6  # the budget is a hard cap


def test_report_shows_the_frames_behind_an_answer(
    indexed: Path, cuts_video: Path, tmp_path: Path
) -> None:
    from tests.fake_openai import FakeServer, completion, serve

    reply = json.dumps({"answer": "A test card [00:00:01].", "enough": True, "found": True})
    server = FakeServer(script=[lambda _: (200, completion(reply))] * 5)
    out = tmp_path / "report.html"
    with serve(server) as url:
        asked = runner.invoke(app, ["ask", str(cuts_video), "a test card", "--json", "--llm", f"openai:llm@{url}",
                                    "--store", str(indexed)])  # fmt: skip
        made = runner.invoke(app, ["report", str(cuts_video), "--question", "a test card", "--llm",
                                   f"openai:llm@{url}", "-o", str(out), "--store", str(indexed)])  # fmt: skip
    assert asked.exit_code == 0 and made.exit_code == 0, made.output
    frames = json.loads(asked.stdout)["frames"]
    assert frames and {f["why"] for f in frames} == {"visual match"}
    page = out.read_text()
    assert "Frames behind the answer" in page and page.count("class='mark'") == len(frames)
    assert page.count("· visual match (") == len(frames)


def test_a_look_chooses_frames_for_the_question_and_says_which(
    memory_with_text: tuple[Path, Path], tiny_model: Callable[[str], Path]
) -> None:
    from longvid.memory.library import open_memory
    from longvid.pipeline.ask import AskOptions, ask
    from tests.fakes import RecordingCaptioner, ScriptedChat

    root, video = memory_with_text
    memory = open_memory(root, str(video))
    chat = ScriptedChat([
        {"answer": "?", "enough": False, "found": False},
        {"tool": "look", "start": 10, "end": 30, "question": "Who checks the engine?"},
        {"tool": "answer", "answer": "Okafor [00:00:25]", "citations": [], "confidence": "high", "found": True},
    ])  # fmt: skip
    looker = RecordingCaptioner(max_frames=5)
    result = ask(str(video), "Who checks the engine?", memory, load("embedder", str(tiny_model("sentence_transformer"))),
                 chat, looker, AskOptions(max_frames=5), visual=load("visual_embedder", str(tiny_model("clip"))))  # fmt: skip
    [request] = looker.requests
    times = [f.time for f in request.frames]
    assert len(times) == 5 and times == sorted(times)
    assert times[0] < 10.6 and times[-1] > 29.4  # the window's ends are kept for context
    chosen = [f for f in result.frames if f["why"] == "chosen for a closer look"]
    assert [round(f["time"], 2) for f in chosen] == [round(t, 2) for t in times]
    [look] = [e for e in result.evidence if e.source == "inspection"]
    assert "frames chosen for the question, with their scores: 00:00:10" in look.text


@pytest.fixture
def memory_with_text(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> tuple[Path, Path]:
    root = tmp_path / "store"
    runner.invoke(app, ["index", str(facts_video), "--captioner", "none", "--asr", "none", "--ocr", "none",
                        "--visual-embedder", "none", "--embedder", str(tiny_model("sentence_transformer")),
                        "--store", str(root)])  # fmt: skip
    return root, facts_video


def test_a_chunk_ranks_where_its_best_frame_does(
    indexed: Path, tiny_model: Callable[[str], Path]
) -> None:
    """Frames of two chunks interleave: chunk 1 has the best frame and must come first."""
    from longvid.recall.retrieve import rank_chunks

    memory = VideoMemory(Path(memories(indexed)[0].folder))
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    frames = [(5.2, 1, 0.9), (0.5, 0, 0.8), (6.0, 1, 0.1)]
    ranked = rank_chunks(memory, embedder, "red car", 2, frames)
    assert [chunk.index for chunk, _ in ranked] == [1, 0]
