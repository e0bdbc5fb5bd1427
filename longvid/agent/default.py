"""How ``ask`` answers by default for a model: the side-by-side figures decided.

Every answer but ``--no-agent``'s (the plain baseline: one retrieval, the model's one answer) goes
through the engine's checks, which cost no model call: a question in time gets the answer the
timeline operation computed when the model's says otherwise. Tool steps are what the size
decides. On the built-in QA set (``longvid eval --compare --agent``, benchmarks/RESULTS.md) tool
steps gave SmolLM2-135M one more right answer in 61 (30 against 29) at 3.2 x the time; issue 25
measured a 0.5B GGUF worse with them (10/16 against 11/16) at 5 x the time. So a model
under ``SMALL_PARAMETERS`` answers in one call unless ``--agent`` asks for tool steps; a larger or
unknown model (a 7B+ server) gets them.
"""

from __future__ import annotations

import re

from longvid.models.base import ModelInfo

SMALL_PARAMETERS = 3e9
"""Below this size the agent is opt-in (measured no better at 0.135B and 0.5B; 1-3B unmeasured)."""
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def parameters(info: ModelInfo) -> float | None:
    """The model's size: what its backend counted (a GGUF's own count, the ``n_params`` a
    llama.cpp server lists), else the size its name gives ("0.5B", "135M")."""
    counted = info.details.get("parameters")
    if counted:
        return float(counted)
    name = info.spec.split("@", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]  # not a server's URL
    sizes = [float(n) * (1e9 if unit.lower() == "b" else 1e6) for n, unit in _SIZE.findall(name)]
    return max(sizes) if sizes else None  # "30B-A3B": the whole model


def agent_by_default(info: ModelInfo) -> tuple[bool, str]:
    """Whether tool steps run when neither ``--agent`` nor ``--no-agent`` is given, and why."""
    if info.details.get("stand_in"):
        return False, "the packaged stand-in LLM is small"
    size = parameters(info)
    if size is not None and size < SMALL_PARAMETERS:
        return False, f"a {size / 1e9:.2g}B model answers no better with agent steps"
    return True, "a capable model (not known to be small)"


def answer_way(info: ModelInfo, agent: bool | None, max_steps: int) -> tuple[bool, int, str | None]:
    """How a question is answered: (the engine's checks, tool steps, why when by default).
    ``agent`` False is the plain baseline (no checks, no steps); True asks for ``max_steps``."""
    if agent is not None:
        return agent, max_steps if agent else 0, None
    steps, why = agent_by_default(info)
    return True, max_steps if steps else 0, why
