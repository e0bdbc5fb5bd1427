"""Chunk planner: property tests (cover without gaps, budgets never exceeded) and examples."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longvid.media.shots import Shot
from longvid.plan import ChunkPlanner, FrameBudget, frame_times, plan_chunks


def make_shots(lengths: list[float]) -> list[Shot]:
    shots, start = [], 0.0
    for i, length in enumerate(lengths):
        shots.append(Shot(i, start, start + length))
        start += length
    return shots


budgets = st.builds(
    lambda frames, gap, lo, extra: FrameBudget(frames, gap, lo, lo + extra),
    st.integers(1, 64),
    st.floats(0.0, 5.0),
    st.floats(0.0, 30.0),
    st.floats(0.5, 120.0),
)
lengths = st.lists(st.floats(0.04, 400.0), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(lengths=lengths, budget=budgets)
def test_chunks_cover_video_within_budget(lengths: list[float], budget: FrameBudget) -> None:
    shots = make_shots(lengths)
    chunks = plan_chunks(shots, budget)
    assert chunks[0].start == 0.0
    assert chunks[-1].end == pytest.approx(shots[-1].end)
    for a, b in itertools.pairwise(chunks):
        assert a.end == pytest.approx(b.start)  # no gaps, no overlaps
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert chunk.duration <= budget.max_chunk_s + 1e-6
        assert 1 <= len(chunk.frame_times) <= budget.max_frames
        assert all(chunk.start <= t < chunk.end + 1e-6 for t in chunk.frame_times)
        gaps = [b - a for a, b in zip(chunk.frame_times, chunk.frame_times[1:], strict=False)]
        assert all(g >= budget.min_gap_s - 1e-5 for g in gaps)
        assert list(chunk.frame_times) == sorted(chunk.frame_times)


@settings(max_examples=200, deadline=None)
@given(lengths=lengths, budget=budgets)
def test_short_chunks_only_where_merging_would_pass_the_maximum(
    lengths: list[float], budget: FrameBudget
) -> None:
    chunks = plan_chunks(make_shots(lengths), budget)
    for a, b in itertools.pairwise(chunks):
        if a.duration < budget.min_chunk_s - 1e-6:
            assert a.duration + b.duration > budget.max_chunk_s - 1e-6
    if len(chunks) > 1 and chunks[-1].duration < budget.min_chunk_s - 1e-6:
        assert chunks[-2].duration + chunks[-1].duration > budget.max_chunk_s - 1e-6


@settings(max_examples=100, deadline=None)
@given(lengths=lengths, budget=budgets)
def test_incremental_planning_equals_batch(lengths: list[float], budget: FrameBudget) -> None:
    shots = make_shots(lengths)
    planner = ChunkPlanner(budget)
    streamed = [c for s in shots for c in planner.add(s)] + planner.finish()
    assert streamed == plan_chunks(shots, budget)
    assert plan_chunks(shots, budget) == plan_chunks(shots, budget)  # deterministic


def test_short_shots_merge_and_long_shots_split() -> None:
    budget = FrameBudget(max_frames=8, min_gap_s=1.0, min_chunk_s=5.0, max_chunk_s=30.0)
    chunks = plan_chunks(make_shots([2.0, 2.0, 2.0, 70.0, 3.0]), budget)
    spans = [(c.start, c.end, c.first_shot, c.last_shot) for c in chunks]
    assert spans == [
        (0.0, 6.0, 0, 2),  # three short shots merged
        (6.0, pytest.approx(6.0 + 70 / 3), 3, 3),  # 70 s shot split in three equal pieces
        (pytest.approx(6.0 + 70 / 3), pytest.approx(6.0 + 140 / 3), 3, 3),
        (pytest.approx(6.0 + 140 / 3), 79.0, 3, 4),  # last piece absorbs the short tail
    ]


def test_frame_times_are_centred_and_budgeted() -> None:
    budget = FrameBudget(max_frames=4, min_gap_s=1.0)
    assert frame_times(10.0, 12.0, budget) == (10.5, 11.5)  # gap-limited
    assert frame_times(0.0, 40.0, budget) == (5.0, 15.0, 25.0, 35.0)  # frame-limited
    assert frame_times(0.0, 0.2, budget) == (0.1,)  # always at least one


def test_invalid_budget_is_rejected() -> None:
    with pytest.raises(ValueError):
        FrameBudget(max_frames=0)
    with pytest.raises(ValueError):
        FrameBudget(min_chunk_s=10, max_chunk_s=5)


# --- the CPU budget ---------------------------------------------------------------------------

from longvid.plan import CaptionCost, caption_budget  # noqa: E402


def test_a_fast_machine_keeps_the_models_own_limits() -> None:
    base = FrameBudget(max_frames=32)
    plan = caption_budget(CaptionCost(0.01, 0.001, 0.001), base, new_tokens=256)
    assert plan.budget == base and plan.new_tokens == 256


def test_a_slow_machine_gets_the_least_view_and_longer_chunks_that_keep_pace() -> None:
    cost = CaptionCost(fixed_s=2.0, per_frame_s=3.0, per_token_s=0.1)  # 4 frames, 96 tokens: 23.6 s
    plan = caption_budget(cost, FrameBudget(max_frames=32), new_tokens=256, pace=0.5)
    assert (plan.budget.max_frames, plan.new_tokens) == (4, 96)
    assert plan.chunk_cost_s == pytest.approx(23.6)
    assert plan.budget.min_chunk_s == 50.0  # 23.6 / 0.5 = 47.2 s, in whole 5 s steps
    assert plan.budget.max_chunk_s >= 2 * plan.budget.min_chunk_s
    # an hour of video: at most 72 chunks of 23.6 s, under the 0.5 pace asked for
    assert plan.estimate_s(3600) <= 0.5 * 3600


def test_between_the_two_the_richest_view_that_fits_a_30_second_chunk() -> None:
    cost = CaptionCost(fixed_s=1.0, per_frame_s=1.0, per_token_s=0.05)
    plan = caption_budget(cost, FrameBudget(max_frames=32), new_tokens=256, pace=1.0)
    assert plan.chunk_cost_s <= 30.0
    assert (plan.budget.max_frames, plan.new_tokens) == (16, 256)  # 1 + 16 + 12.8 = 29.8 s
    assert plan.budget.min_chunk_s == 30.0


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 20), st.floats(0, 20), st.floats(0, 2), st.integers(1, 64), st.integers(1, 512))
def test_the_budget_never_passes_the_models_limits(
    fixed: float, frame: float, token: float, frames: int, tokens: int
) -> None:
    plan = caption_budget(CaptionCost(fixed, frame, token), FrameBudget(max_frames=frames), tokens)
    assert plan.budget.max_frames <= frames and plan.new_tokens <= tokens
    assert plan.budget.max_frames >= min(4, frames) and plan.new_tokens >= min(96, tokens)
    assert plan.budget.min_chunk_s * 0.8 >= plan.chunk_cost_s - 1e-6 or plan.budget.min_chunk_s == 4.0
