"""The CPU budget: a chunk's measured cost sets frames, new tokens and chunk length."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from longvid.models import cpu_cost
from longvid.models.hf_vlm import HFVideoCaptioner
from longvid.models.registry import LoadOptions, load
from longvid.pipeline.index import IndexModels, index_video
from longvid.plan import CaptionCost


def test_three_calls_split_the_cost_into_fixed_frame_and_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = [0.0]
    monkeypatch.setattr(cpu_cost.time, "perf_counter", lambda: clock[0])
    calls = []

    def run(frames: int, tokens: int) -> None:  # 2 s fixed, 3 s a frame, 0.5 s a token
        calls.append((frames, tokens))
        clock[0] += 2.0 + 3.0 * frames + 0.5 * tokens

    cost = cpu_cost.remembered_cost("model|fp32|2", run)
    assert cost == CaptionCost(2.0, 3.0, 0.5)
    assert cpu_cost.remembered_cost("model|fp32|2", run) == cost and len(calls) == 7  # once
    [stored] = json.loads((tmp_path / "longvid-cache" / "caption-costs.json").read_text()).values()
    assert stored == {"fixed_s": 2.0, "per_frame_s": 3.0, "per_token_s": 0.5}



def test_a_call_slowed_by_another_program_does_not_zero_the_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr(cpu_cost.time, "perf_counter", lambda: clock[0])
    calls = []

    def run(frames: int, tokens: int) -> None:  # the first timed call waits 10 s for the CPU
        calls.append((frames, tokens))
        clock[0] += 2.0 + 3.0 * frames + 0.5 * tokens + (10.0 if len(calls) == 2 else 0.0)

    assert cpu_cost.measure(run) == CaptionCost(2.0, 3.0, 0.5)

def test_a_slow_cpu_gets_the_least_view_and_says_what_it_will_cost(
    tiny_model: Callable[[str], Path],
    cuts_video: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = CaptionCost(fixed_s=2.0, per_frame_s=3.0, per_token_s=0.1)  # 4 frames, 96 tokens: 23.6 s
    monkeypatch.setattr(HFVideoCaptioner, "caption_cost", lambda self: slow)
    captioner = load("captioner", str(tiny_model("smolvlm")), LoadOptions(device="cpu"))
    models = IndexModels(load("embedder", str(tiny_model("sentence_transformer"))), captioner)
    with caplog.at_level(logging.INFO, logger="longvid"):
        result = index_video(cuts_video, models, tmp_path)
    assert result.chunks == 1  # 9 s of video, chunks of at least 30 s
    assert captioner.max_new_tokens == 96
    assert "captions on this CPU: 4 frames a chunk, up to 96 new tokens, chunks of at least 30 s " \
        "(≈ 24 s each): ≈ 24 s for this 9 s video" in caplog.text  # fmt: skip


def test_the_cost_is_measured_once_per_model_on_a_cpu(tiny_model: Callable[[str], Path]) -> None:
    captioner = load("captioner", str(tiny_model("smolvlm")), LoadOptions(device="cpu", frame_cap=8))
    cost = captioner.caption_cost()
    assert cost is not None and min(cost.fixed_s, cost.per_frame_s, cost.per_token_s) >= 0
    assert captioner.caption_cost() is cost
    again = load("captioner", str(tiny_model("smolvlm")), LoadOptions(device="cpu", frame_cap=8))
    assert again.caption_cost() == cost  # remembered in the user cache, not measured again
