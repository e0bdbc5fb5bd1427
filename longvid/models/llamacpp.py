"""GGUF chat models on llama.cpp (``pip install 'longvid[llamacpp]'``): fast load, grammar-constrained JSON.

The model runs in a worker process (``longvid.models.worker``): llama.cpp is native code, and a
build that does not suit this CPU dies by a signal; in a worker that is one clear error naming the
fix, not the end of ``longvid`` (or of a notebook, or of the MCP server). The file is
memory-mapped (a 135M model loads in a fraction of a second), generation runs on the physical
cores, and the context is sized to what longvid's prompts need rather than the model's full window
(the KV cache is allocated up front). A JSON schema becomes a llama.cpp grammar through the
binding's own ``response_format``, so every token obeys the schema.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

from longvid.errors import MissingDependencyError
from longvid.models.base import ChatModel, Message, ModelInfo
from longvid.models.hf_common import ModelUnavailableError
from longvid.models.specs import ModelSpec
from longvid.models.structured import with_schema
from longvid.models.worker import Worker

# Prompts are packed to fit the context; 8k tokens holds a question's evidence and the agent's
# steps, and keeps the up-front KV cache small on a laptop.
MAX_CONTEXT = 8192


def physical_cores() -> int:
    """Physical CPU cores (hyper-threads slow llama.cpp down), at least 1."""
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
    except ImportError:
        count = None
    return max(1, count or os.cpu_count() or 1)


class LlamaCppChat(ChatModel):
    """A chat model in a GGUF file, run by llama-cpp-python in a worker process."""

    def __init__(
        self, spec: ModelSpec, max_new_tokens: int = 512, threads: int | None = None
    ) -> None:
        if find_spec("llama_cpp") is None:
            raise MissingDependencyError("llama-cpp-python", "llamacpp")
        self.threads = threads or physical_cores()
        self.worker = Worker(
            "longvid.models.llamacpp:LlamaServer",
            {"path": spec.name, "threads": self.threads},
            backend="llama.cpp",
            during="answering",
        )
        context = int(self.worker.meta["context"])
        self.max_new_tokens = max_new_tokens
        self.context_tokens = max(1024, context - max_new_tokens)
        self.info = ModelInfo(str(spec), "llama.cpp", {"threads": self.threads, "context": context,
                              "parameters": int(self.worker.meta.get("parameters", 0))})  # fmt: skip

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        reply = self.worker.call(
            "chat",
            messages=with_schema(messages, json_schema),
            json_schema=json_schema,
            max_tokens=self.max_new_tokens,
        )
        self.last_usage = (int(reply["usage"][0]), int(reply["usage"][1]))
        return str(reply["text"])


def _parameters(model: Any) -> int:
    """The model's parameter count as llama.cpp reports it (0 where the binding cannot say)."""
    import llama_cpp

    try:
        return int(llama_cpp.llama_model_n_params(model.model))
    except (AttributeError, TypeError, ValueError):
        return 0


class LlamaServer:
    """The worker side: the loaded ``Llama`` (only ever built inside the worker process)."""

    def __init__(self, path: str, threads: int) -> None:
        from llama_cpp import Llama

        try:
            self.model: Any = Llama(
                model_path=path, n_ctx=MAX_CONTEXT, n_threads=threads, verbose=False
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(
                f"llama.cpp cannot load {path}: {' '.join(str(exc).split())[:160]}",
                "check that the file is a complete GGUF chat model",
            ) from None
        trained = [v for k, v in self.model.metadata.items() if k.endswith(".context_length")]
        self.meta = {"context": min(MAX_CONTEXT, int(trained[0]) if trained else MAX_CONTEXT),
                     "parameters": _parameters(self.model)}  # fmt: skip

    def chat(
        self, messages: list[Message], json_schema: dict[str, Any] | None, max_tokens: int
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if json_schema is not None:
            extra["response_format"] = {"type": "json_object", "schema": json_schema}
        reply = self.model.create_chat_completion(
            messages=messages, temperature=0.0, max_tokens=max_tokens, **extra
        )
        usage = reply.get("usage") or {}
        text = str(reply["choices"][0]["message"]["content"] or "").strip()
        return {
            "text": text,
            "usage": [int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))],
        }
