"""What one caption costs a local video LLM on this machine, measured once and remembered.

Three short generations (each timed twice, the faster kept) split the cost of a chunk into a
fixed part, a part per frame (vision tower and the prefill of the frame's visual tokens) and a
part per generated token. The result is kept in the user cache, keyed by model, kernel, threads
and CPU, so it is measured once per machine (and a memory's key, which the budget built from it
is part of, stays the same).
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from pathlib import Path

from longvid.config import cached_record, keep_record
from longvid.plan import CaptionCost

_FILE = "caption-costs.json"
# (frames, new tokens) of the three timed calls; a warm-up call comes first
_CALLS = ((1, 1), (2, 1), (1, 9))
_ROUNDS = 2


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(run: Callable[[int, int], None]) -> CaptionCost:
    """Time ``run(frames, new_tokens)`` for the three calls; split into fixed, frame, token.

    Each call is timed twice, in two rounds, and the faster time kept: one call slowed by
    another program's burst on a shared CPU once made the 9-token call no slower than the
    1-token one, a cost of zero per token, and a budget of 32 frames and 256 tokens a chunk.
    """
    run(1, 1)  # warm-up: first-call kernel choice and allocation
    seconds = [float("inf")] * len(_CALLS)
    for _ in range(_ROUNDS):
        for i, (frames, tokens) in enumerate(_CALLS):
            started = time.perf_counter()
            run(frames, tokens)
            seconds[i] = min(seconds[i], time.perf_counter() - started)
    one, two_frames, nine_tokens = seconds
    per_frame = max(two_frames - one, 0.0)
    per_token = max((nine_tokens - one) / 8, 0.0)
    return CaptionCost(max(one - per_frame - per_token, 0.0), per_frame, per_token)


def remembered_cost(key: str, run: Callable[[int, int], None]) -> CaptionCost:
    """The cost for ``key`` (model, kernel, threads) on this CPU: from the cache, else measured."""
    name = hashlib.sha1(f"{key}|{cpu_name()}".encode()).hexdigest()[:16]
    known = cached_record(_FILE, name)
    if known is not None:
        return CaptionCost(**known)
    cost = measure(run)
    record = {"fixed_s": round(cost.fixed_s, 4), "per_frame_s": round(cost.per_frame_s, 4),
              "per_token_s": round(cost.per_token_s, 4)}  # fmt: skip
    keep_record(_FILE, name, record)  # if it cannot be kept, it is measured again next time
    return CaptionCost(**record)
