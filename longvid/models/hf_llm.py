"""Chat with transformers: causal LMs (hub id, local directory or GGUF file) and video LLMs.

A video LLM already loaded as the captioner can answer too (one model, one download). JSON
replies are constrained token by token with xgrammar (the grammar engine vLLM and SGLang use),
so a reply asked for with a schema always parses and matches it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from longvid.models.base import ChatModel, Message, ModelInfo
from longvid.models.hf_common import load_or_explain, pick_device, pick_dtype
from longvid.models.specs import ModelSpec
from longvid.models.structured import with_schema

log = logging.getLogger("longvid")


class HFChat(ChatModel):
    """A causal LM from the hub, a local directory, or a GGUF file (dequantised by transformers)."""

    def __init__(
        self,
        spec: ModelSpec,
        device: str | None = None,
        max_new_tokens: int = 512,
        trust_remote_code: bool = False,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source, extra = spec.name, {}
        if spec.kind == "gguf":
            source, extra = str(Path(spec.name).parent), {"gguf_file": Path(spec.name).name}
        self.device = pick_device(device)
        common = {"trust_remote_code": trust_remote_code, **extra}
        self.tokenizer: Any = load_or_explain(
            "LLM", spec.name, lambda: AutoTokenizer.from_pretrained(source, **common)
        )
        with _quiet_gguf_conversion():
            self.model: Any = load_or_explain(
                "LLM",
                spec.name,
                lambda: AutoModelForCausalLM.from_pretrained(
                    source, dtype=pick_dtype(self.device), **common
                ),
            )
        self.model.to(self.device).eval()
        self.max_new_tokens = max_new_tokens
        self.context_tokens = context_length(self.model.config)
        self.grammars = JsonGrammars(self.tokenizer, self.model.config)
        self.info = ModelInfo(str(spec), "transformers", {"device": self.device})

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        inputs: Any = self.tokenizer.apply_chat_template(
            with_schema(messages, json_schema),
            add_generation_prompt=True,
            return_dict=True,
            return_tensors="pt",
        ).to(self.device)
        constraint = self.grammars.processor(json_schema)
        return _generate(self.model, self.tokenizer, inputs, self.max_new_tokens, constraint)


class VisionLMChat(ChatModel):
    """Text chat through a video LLM that is already loaded (shares its weights)."""

    def __init__(self, model: Any, processor: Any, spec: str, max_new_tokens: int = 512) -> None:
        self.model = model
        self.processor = processor
        self.max_new_tokens = max_new_tokens
        self.context_tokens = context_length(model.config)
        self.grammars = JsonGrammars(getattr(processor, "tokenizer", processor), model.config)
        self.info = ModelInfo(spec, "transformers", {"shared_with": "captioner"})

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        structured = [
            {"role": m["role"], "content": [{"type": "text", "text": str(m["content"])}]}
            for m in with_schema(messages, json_schema)
        ]
        inputs = self.processor.apply_chat_template(
            structured,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        ).to(self.model.device)
        constraint = self.grammars.processor(json_schema)
        return _generate(self.model, self.processor, inputs, self.max_new_tokens, constraint)


class JsonGrammars:
    """JSON-schema constraints for one tokenizer, compiled once per schema by xgrammar."""

    def __init__(self, tokenizer: Any, config: Any) -> None:
        self.tokenizer = tokenizer
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        self.vocab_size = int(getattr(text, "vocab_size", 0) or len(tokenizer))
        self._compiler: Any = None
        self._compiled: dict[str, Any] = {}

    def processor(self, schema: dict[str, Any] | None) -> Any:
        """A fresh logits processor for ``schema`` (one per generate call), or None."""
        if schema is None:
            return None
        try:
            import xgrammar as xgr
            import xgrammar.contrib.hf as xgr_hf
        except ImportError:
            log.warning("xgrammar is not installed; JSON replies are not constrained — "
                        "pip install xgrammar")  # fmt: skip
            return None
        key = json.dumps(schema, sort_keys=True)
        if key not in self._compiled:
            if self._compiler is None:
                size = max(self.vocab_size, len(self.tokenizer))
                info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=size)
                self._compiler = xgr.GrammarCompiler(info)
            self._compiled[key] = self._compiler.compile_json_schema(key, any_whitespace=False)
        return xgr_hf.LogitsProcessor(self._compiled[key])


@contextmanager
def _quiet_gguf_conversion() -> Iterator[None]:
    """Hide transformers' per-tensor GGUF progress bar (stderr is for longvid's own progress)."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:
        yield
        return
    gguf_utils.tqdm = partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def context_length(config: Any) -> int:
    """The text context of a (possibly multimodal) model config, leaving room for the reply."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    window = int(getattr(text, "max_position_embeddings", 4096) or 4096)
    return max(1024, min(window, 32768) - 1024)  # long contexts are slow on a laptop: pack to 32k


def _generate(
    model: Any, decoder: Any, inputs: Any, max_new_tokens: int, constraint: Any = None
) -> str:
    import torch

    extra = {"logits_processor": [constraint]} if constraint is not None else {}
    with torch.inference_mode():  # the KV cache on, whatever the config says (SmolVLM2's is off)
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                use_cache=True, **extra)  # fmt: skip
    new_tokens = output[0, inputs["input_ids"].shape[1] :]
    return str(decoder.decode(new_tokens, skip_special_tokens=True)).strip()
