"""Which frames of a window to look at for a question (pure functions, no models or I/O).

Candidates are scored by image–text similarity to the question; the two ends of the window are
always kept (the context of what happens), and the rest are picked by maximal marginal
relevance: relevant to the question, unlike the frames already chosen in look and in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RELEVANCE = 0.7  # weight of relevance against redundancy


def choose_frames(
    times: Sequence[float], scores: Sequence[float], vectors: Any, count: int
) -> list[int]:
    """Indices (in time order) of ``count`` frames among candidates at ``times``."""
    import numpy as np

    n = len(times)
    if count >= n:
        return list(range(n))
    if count <= 0:
        return []
    relevance = np.asarray(scores, dtype=np.float64)
    spread = (times[-1] - times[0]) / count if n > 1 else 1.0  # the gap an even spacing leaves
    chosen = [0, n - 1][:count] if count >= 2 else [int(relevance.argmax())]
    while len(chosen) < count:
        best, best_value = -1, -np.inf
        for i in range(n):
            if i in chosen:
                continue
            alike = max(float(vectors[i] @ vectors[j]) for j in chosen)
            near = max(1.0 - min(abs(times[i] - times[j]) / spread, 1.0) for j in chosen)
            value = RELEVANCE * relevance[i] - (1 - RELEVANCE) * max(alike, near)
            if value > best_value:
                best, best_value = i, value
        chosen.append(best)
    return sorted(chosen)
