"""Whether ``ask`` runs the agent by default for a model: the side-by-side figures decided.

On the built-in QA set (``longvid eval --compare``, benchmarks/RESULTS.md "Agent vs one
retrieval, side by side") SmolLM2-135M gave the same answer to all 21 questions with agent steps
as with one retrieval and one answer (the timeline's moments in its evidence), at 1.8 x the time;
issue 25 measured a 0.5B GGUF worse with the agent (10/16 against 11/16) at 5 x the time. So a model under ``SMALL_PARAMETERS`` answers
in one step unless ``--agent`` asks for the agent; a larger or unknown model (a 7B+ server) gets it.
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
    """Whether the agent runs when neither ``--agent`` nor ``--no-agent`` is given, and why."""
    if info.details.get("stand_in"):
        return False, "the packaged stand-in LLM is small"
    size = parameters(info)
    if size is not None and size < SMALL_PARAMETERS:
        return False, f"a {size / 1e9:.2g}B model answers no better with agent steps"
    return True, "a capable model (not known to be small)"
