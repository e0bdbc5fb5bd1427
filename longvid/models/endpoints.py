"""A pool of OpenAI-compatible endpoints serving one model (a vLLM fleet, several Ollama boxes).

Each request goes to the endpoint with the fewest requests outstanding. An endpoint that cannot
be reached, times out, or says it is overloaded (429, 502, 503, 504) is cooled down for a while
and the request moves to another; a refusal of the request itself (4xx, or a 500 for an option
the server lacks) is the caller's to handle and says nothing about the endpoint's health.
Per-endpoint counts and throughput are kept for reporting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from longvid.models.server import ServerError
from longvid.models.specs import ModelSpec

T = TypeVar("T")
COOLDOWN_S = 30.0


@dataclass
class Endpoint:
    spec: ModelSpec  # this endpoint alone (for messages)
    client: Any
    outstanding: int = 0
    served: int = 0
    failed: int = 0
    busy_s: float = 0.0
    cool_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stats(self) -> dict[str, Any]:
        return endpoint_stats(self.spec.base_url, self.served, self.failed, self.busy_s)


def endpoint_stats(url: str, served: int, failed: int, busy_s: float) -> dict[str, Any]:
    """What is reported of an endpoint: requests served and failed, and the rate while busy."""
    rate = served / busy_s if busy_s else 0.0
    return {"url": url, "requests": served, "failed": failed, "requests_per_s": round(rate, 2)}


class EndpointPool:
    """Spreads calls over endpoints; fails over when one is unavailable."""

    def __init__(
        self,
        spec: ModelSpec,
        make_client: Callable[[ModelSpec], Any],
        cooldown_s: float = COOLDOWN_S,
    ) -> None:
        self.endpoints = [
            Endpoint(single, make_client(single))
            for single in (ModelSpec("openai", spec.name, url) for url in spec.base_url.split(","))
        ]
        self.cooldown_s = cooldown_s
        self._lock = threading.Lock()

    def call(self, work: Callable[[Endpoint], T]) -> T:
        """Run ``work`` on the best endpoint; on unavailability, cool it down and try another."""
        last: ServerError | None = None
        for _ in range(2 * len(self.endpoints)):
            endpoint = self._take()
            started = time.monotonic()
            try:
                result = work(endpoint)
            except ServerError as exc:
                self._release(endpoint, started, failed=exc.unavailable)
                if not exc.unavailable or len(self.endpoints) == 1:
                    raise
                last = exc
                continue
            self._release(endpoint, started, failed=False)
            return result
        assert last is not None
        raise last

    def _take(self) -> Endpoint:
        now = time.monotonic()
        with self._lock:
            healthy = [e for e in self.endpoints if e.cool_until <= now]
            # all cooling down: the one that recovers first is tried rather than failing at once
            pool = healthy or [min(self.endpoints, key=lambda e: e.cool_until)]
            endpoint = min(pool, key=lambda e: (e.outstanding, e.served))
            endpoint.outstanding += 1
        return endpoint

    def _release(self, endpoint: Endpoint, started: float, failed: bool) -> None:
        with self._lock:
            endpoint.outstanding -= 1
            endpoint.busy_s += time.monotonic() - started
            if failed:
                endpoint.failed += 1
                endpoint.cool_until = time.monotonic() + self.cooldown_s
            else:
                endpoint.served += 1

    def stats(self) -> list[dict[str, Any]]:
        return [e.stats() for e in self.endpoints]
