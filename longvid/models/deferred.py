"""A local video LLM that loads on its first caption.

An index plans chunks with the captioner's frame limit and (on a CPU) its measured cost before
it captions anything; ``index --captions lazy`` and ``--dry-run`` caption nothing at all, and
an index that finds its video up to date neither. Loading a 500M model costs more than decoding
a short video, so once a model has been loaded on this machine its plan (spec, frame limit,
cost) is remembered in the user cache, and later runs plan from that record and load the model
only when a chunk is to be captioned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from longvid.config import cached_record, keep_record
from longvid.errors import LongvidError
from longvid.models.base import Captioner, CaptionRequest, ModelInfo
from longvid.plan import CaptionCost

_FILE = "captioner-plans.json"


def _name(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def remember_plan(key: str, captioner: Captioner) -> None:
    """Record what a lazy index needs to plan with ``captioner`` without loading it."""
    measure = getattr(captioner, "caption_cost", None)
    cost = measure() if measure is not None else None
    plan = {"info": {"spec": captioner.info.spec, "backend": captioner.info.backend,
                     "details": captioner.info.details},
            "max_frames": captioner.max_frames, "batch_size": captioner.batch_size,
            "max_new_tokens": getattr(captioner, "max_new_tokens", 256),
            "cost": asdict(cost) if cost is not None else None}  # fmt: skip
    if cached_record(_FILE, _name(key)) != plan:
        keep_record(_FILE, _name(key), plan)  # if it cannot be kept, the next index loads the model


def deferred(key: str, load: Callable[[], Captioner | None]) -> DeferredCaptioner | None:
    """The captioner planned from its record (None when it was never loaded on this machine)."""
    plan = cached_record(_FILE, _name(key))
    return DeferredCaptioner(plan, load) if isinstance(plan, dict) else None


class DeferredCaptioner(Captioner):
    """Plans like the recorded model; loads it (``load``) the first time it captions."""

    def __init__(self, plan: dict[str, Any], load: Callable[[], Captioner | None]) -> None:
        self.info = ModelInfo(**plan["info"])
        self.max_frames = int(plan["max_frames"])
        self.batch_size = int(plan["batch_size"])
        self.max_new_tokens = int(plan["max_new_tokens"])
        self._cost = CaptionCost(**plan["cost"]) if plan.get("cost") else None
        self._load = load

    def caption_cost(self) -> CaptionCost | None:
        return self._cost

    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        model = self._load()
        if model is None:
            raise LongvidError(f"the captioner {self.info.spec} could not be loaded",
                               "index with --captions all, or pass --captioner")  # fmt: skip
        if hasattr(model, "max_new_tokens"):
            model.max_new_tokens = self.max_new_tokens
        return model.caption(requests)
