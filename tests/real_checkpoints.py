"""Tiny random-weight models built from real checkpoints' configuration files.

``tests/data/checkpoints/<name>/`` holds a real checkpoint's config, processor configs, chat
template and special tokens (see SOURCES.md there). ``build(name, directory)`` keeps all of them,
shrinks only the network (layers, widths, vocabulary) and writes a tiny tokenizer that holds every
real special token, with the config's token ids remapped to it. The result loads through the
same ``from_pretrained`` path a user's download does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.tiny_models import TINY_TEXT, tiny_tokenizer

CHECKPOINTS = Path(__file__).parent / "data" / "checkpoints"
REAL = {
    "qwen2_5_vl": "qwen2.5-vl-7b-instruct",
    "qwen3_vl": "qwen3-vl-instruct",
    "smolvlm": "smolvlm2-500m-video-instruct",
    "llava_onevision": "llava-onevision-qwen2-7b-ov-hf",
}
# Qwen3-VL's Instruct template was not found verbatim (SOURCES.md): ChatML, no system prompt.
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_PROCESSOR_FILES = (
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "processor_config.json",
    "chat_template.json",
    "generation_config.json",
)
_TINY_VISION = {"hidden_size": 32, "intermediate_size": 64}


def real_files(name: str) -> Path:
    return CHECKPOINTS / REAL[name]


def real_json(name: str, file: str) -> dict[str, Any]:
    return dict(json.loads((real_files(name) / file).read_text()))


def special_tokens(name: str) -> dict[int, str]:
    """Real token id -> token, from the checkpoint's added tokens."""
    source = real_files(name)
    if (source / "added_tokens.json").exists():
        return {int(i): t for t, i in real_json(name, "added_tokens.json").items()}
    decoder = real_json(name, "tokenizer_config.json")["added_tokens_decoder"]
    return {int(i): entry["content"] for i, entry in decoder.items()}


def build(name: str, directory: Path, preprocessor: str = "preprocessor_config.json") -> Path:
    """A tiny model of the real checkpoint ``REAL[name]`` in ``directory``."""
    from transformers import AutoConfig, AutoModelForImageTextToText

    source = real_files(name)
    directory.mkdir(parents=True, exist_ok=True)
    for file in _PROCESSOR_FILES:
        if (source / file).exists():
            shutil.copy(source / file, directory / file)
    shutil.copy(source / preprocessor, directory / "preprocessor_config.json")
    if not (source / "chat_template.json").exists():
        (directory / "chat_template.json").write_text(json.dumps({"chat_template": CHATML}))

    real_ids = special_tokens(name)
    named = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}  # LLaVA-OV's Qwen2 text model
    if (source / "tokenizer_config.json").exists():
        wiring = real_json(name, "tokenizer_config.json")
        named = {k: wiring[k] for k in ("eos_token", "pad_token", "bos_token") if wiring.get(k)}
    specials = list(dict.fromkeys(t for _, t in sorted(real_ids.items())))
    tok = tiny_tokenizer(specials, vocab_size=len(specials) + 300, **named)
    tok.save_pretrained(directory)

    ids = {i: tok.convert_tokens_to_ids(t) for i, t in real_ids.items()}
    if (directory / "generation_config.json").exists():
        generation = json.loads((directory / "generation_config.json").read_text())
        _remap_token_ids(generation, ids, tok)
        (directory / "generation_config.json").write_text(json.dumps(generation))
    config = real_json(name, "config.json")
    _remap_token_ids(config, ids, tok)
    _shrink(name, config, len(tok))
    (directory / "config.json").write_text(json.dumps(config))
    model = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(directory))
    model.save_pretrained(directory)
    return directory


def _remap_token_ids(config: dict[str, Any], ids: dict[int, int], tok: Any) -> None:
    """Point every ``*_token_id`` / ``*_token_index`` at the tiny tokenizer's id for that token."""
    for key, value in list(config.items()):
        if isinstance(value, dict):
            _remap_token_ids(value, ids, tok)
        elif key.endswith(("token_id", "token_index")) and value is not None:
            if isinstance(value, list):
                config[key] = [ids.get(v, tok.pad_token_id) for v in value]
            else:
                config[key] = ids.get(value, tok.pad_token_id)  # e.g. SmolVLM2's pad id 128002


def _shrink(name: str, config: dict[str, Any], vocab_size: int) -> None:
    """Keep every size the processor depends on (patches, merges, image size); shrink the rest."""
    text = config.setdefault("text_config", {})
    if name == "qwen2_5_vl":  # an old-style flat config: the text fields sit at the top level
        keep = ("max_position_embeddings", "rope_theta", "bos_token_id", "eos_token_id")
        text.update({k: config[k] for k in keep})
        for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "vocab_size", "rope_scaling"):  # fmt: skip
            config.pop(key, None)
    context = text.get("max_position_embeddings", config.get("max_position_embeddings"))
    text.update({**TINY_TEXT, "vocab_size": vocab_size, "max_position_embeddings": context})
    text.pop("head_dim", None)
    config.pop("vocab_size", None)
    vision = config["vision_config"]
    if name in ("qwen2_5_vl", "qwen3_vl"):
        rope = {"rope_type": "default", "mrope_section": [4, 2, 2]}  # head_dim 16
        if name == "qwen3_vl":
            rope["mrope_interleaved"] = True
        text.pop("rope_scaling", None)
        text["rope_parameters"] = {**rope, "rope_theta": text.pop("rope_theta", 1e6)}
        vision.update(_TINY_VISION, depth=2, num_heads=2, out_hidden_size=TINY_TEXT["hidden_size"])
        layers = "fullatt_block_indexes" if name == "qwen2_5_vl" else "deepstack_visual_indexes"
        vision[layers] = [1]
    else:  # SmolVLM2 (SigLIP-like tower) and LLaVA-OneVision (SigLIP)
        vision.update(_TINY_VISION, num_hidden_layers=1, num_attention_heads=2)
