"""Tiny random-weight models of the real families, saved with ``save_pretrained``.

Each builder writes a directory that loads through the same ``from_pretrained`` path users hit
(config, a tokenizer trained here on a few sentences, processor and chat template, weights).
The outputs are gibberish; the tests check plumbing: prompts, timestamps, batching, budgets.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The ferry leaves the harbour at seven fifteen every morning.",
    "A person walks across the market square holding fresh bread.",
    "Video segment frame times speech on-screen text describe who what where.",
    "user assistant system: 0123456789 [00:00:00.0] hh mm ss - , . ? !",
]
QWEN_SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TINY_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}


def tiny_tokenizer(specials: list[str], vocab_size: int = 400, **named: str):  # type: ignore[no-untyped-def]
    """A byte-level BPE tokenizer trained on CORPUS, with the family's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **named)


def _qwen_tokenizer():  # type: ignore[no-untyped-def]
    """The Qwen families' tokenizer and their special token ids."""
    tok = tiny_tokenizer(QWEN_SPECIALS, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    return tok, {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}


def _qwen_text(
    tok, ids: dict[str, int], rope: dict[str, object] | None = None, **extra: object
) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A tiny M-RoPE text config (head_dim 16, so mrope_section sums to 8)."""
    rope_parameters = {"rope_type": "default", "mrope_section": [4, 2, 2], **(rope or {})}
    return {**TINY_TEXT, "vocab_size": len(tok), "rope_parameters": rope_parameters,
            "eos_token_id": ids["<|im_end|>"], **extra}  # fmt: skip


def _qwen_tokens(ids: dict[str, int]) -> dict[str, int]:
    """The vision token ids every Qwen VL config takes."""
    return {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }


def _qwen2_processor(processor_class, tok):  # type: ignore[no-untyped-def]
    """Qwen2-VL / Qwen2.5-VL processor with small frames (4 to 16 merged patches)."""
    from transformers import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    pixels = {"min_pixels": 28 * 28 * 4, "max_pixels": 28 * 28 * 16}
    return processor_class(
        image_processor=Qwen2VLImageProcessor(**pixels),
        video_processor=Qwen2VLVideoProcessor(**pixels),
        tokenizer=tok,
        chat_template=QWEN_TEMPLATE,
    )


def build_qwen2_vl(directory: Path) -> Path:
    """Qwen2-VL: video input through Qwen2VLVideoProcessor, M-RoPE text model."""
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLProcessor,
    )

    tok, ids = _qwen_tokenizer()
    processor = _qwen2_processor(Qwen2VLProcessor, tok)
    config = Qwen2VLConfig(
        text_config=_qwen_text(tok, ids, bos_token_id=None),
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 64,
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        **_qwen_tokens(ids),
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    return _save(Qwen2VLForConditionalGeneration(config), processor, directory)


SMOLVLM_SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>",
    "<image>", "<global-img>", "<video>",
    *[f"<row_{r}_col_{c}>" for r in range(1, 5) for c in range(1, 5)],
]  # fmt: skip


def build_smolvlm(directory: Path) -> Path:
    """SmolVLM2 (Idefics3 family): frames as images with "Frame from mm:ss" prompts."""
    from transformers import (
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessor,
        SmolVLMProcessor,
        SmolVLMVideoProcessor,
    )
    from transformers.models.smolvlm.processing_smolvlm import DEFAULT_CHAT_TEMPLATE

    tok = tiny_tokenizer(
        SMOLVLM_SPECIALS, eos_token="<end_of_utterance>", pad_token="<|endoftext|>"
    )
    edge = {"longest_edge": 64}
    processor = SmolVLMProcessor(
        image_processor=SmolVLMImageProcessor(size={"longest_edge": 128}, max_image_size=edge),
        video_processor=SmolVLMVideoProcessor(size=edge, max_image_size=edge),
        tokenizer=tok,
        image_seq_len=4,  # (64 / 16)^2 / scale_factor^2
        chat_template=DEFAULT_CHAT_TEMPLATE,
    )
    config = SmolVLMConfig(
        text_config={"model_type": "llama", **TINY_TEXT, "vocab_size": len(tok)},
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
        },
        scale_factor=2,
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        eos_token_id=tok.convert_tokens_to_ids("<end_of_utterance>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    return _save(SmolVLMForConditionalGeneration(config), processor, directory)


LLAVA_SPECIALS = [*QWEN_SPECIALS, "<image>", "<video>"]
LLAVA_TEMPLATE = QWEN_TEMPLATE.replace(
    "<|vision_start|><|image_pad|><|vision_end|>", "<image>"
).replace("<|vision_start|><|video_pad|><|vision_end|>", "<video>")


def build_llava_onevision(directory: Path) -> Path:
    """LLaVA-OneVision: SigLIP vision tower, Qwen2 text model, pooled video tokens."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    tok = tiny_tokenizer(LLAVA_SPECIALS, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    size = {"height": 56, "width": 56}
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=[[56, 56]]),
        video_processor=LlavaOnevisionVideoProcessor(size=size),
        tokenizer=tok,
        num_image_tokens=16,  # (56 / 14)^2
        vision_feature_select_strategy="full",
        chat_template=LLAVA_TEMPLATE,
    )
    config = LlavaOnevisionConfig(
        text_config={"model_type": "qwen2", **TINY_TEXT, "vocab_size": len(tok)},
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 56,
            "patch_size": 14,
        },
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        image_grid_pinpoints=[[56, 56]],
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        video_token_index=tok.convert_tokens_to_ids("<video>"),
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    return _save(LlavaOnevisionForConditionalGeneration(config), processor, directory)


def build_causal_lm(directory: Path) -> Path:
    """A Llama-architecture chat model with a ChatML template (like SmolLM2)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer(QWEN_SPECIALS[:3], eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = QWEN_TEMPLATE
    config = LlamaConfig(
        **TINY_TEXT,
        vocab_size=len(tok),
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
    )
    _save(LlamaForCausalLM(config), tok, directory)
    return directory


def build_qwen2_5_vl(directory: Path) -> Path:
    """Qwen2.5-VL (the default captioner on CUDA): windowed vision attention, timed M-RoPE."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
    )

    tok, ids = _qwen_tokenizer()
    processor = _qwen2_processor(Qwen2_5_VLProcessor, tok)
    config = Qwen2_5_VLConfig(
        text_config=_qwen_text(tok, ids, bos_token_id=None),
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [1],
        },
        **_qwen_tokens(ids),
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    return _save(Qwen2_5_VLForConditionalGeneration(config), processor, directory)


def build_qwen3_vl(directory: Path) -> Path:
    """Qwen3-VL: DeepStack vision features; the processor writes each frame's time into the text."""
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tok, ids = _qwen_tokenizer()
    size = {"shortest_edge": 32 * 32 * 4, "longest_edge": 32 * 32 * 16}
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size, patch_size=16),
        video_processor=Qwen3VLVideoProcessor(size=size, patch_size=16),
        tokenizer=tok,
        chat_template=QWEN_TEMPLATE,
    )
    config = Qwen3VLConfig(
        text_config=_qwen_text(tok, ids, rope={"mrope_interleaved": True}, head_dim=16),
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
        },
        **_qwen_tokens(ids),
    )
    model = Qwen3VLForConditionalGeneration(config)
    model.config.eos_token_id = ids["<|im_end|>"]
    model.config.pad_token_id = ids["<|endoftext|>"]
    return _save(model, processor, directory)


def _save(model, processor, directory: Path) -> Path:  # type: ignore[no-untyped-def]
    model.generation_config.eos_token_id = model.config.eos_token_id
    model.generation_config.pad_token_id = model.config.pad_token_id
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


WHISPER_SPECIALS = [
    "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
    "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>",
]  # fmt: skip


def build_whisper(directory: Path) -> Path:
    """An English-only Whisper (like tiny.en): timestamp tokens follow <|notimestamps|>."""
    import json

    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    bpe = json.loads(tiny_tokenizer([], vocab_size=300)._tokenizer.to_str())["model"]
    tok = WhisperTokenizer(vocab=bpe["vocab"], merges=[tuple(m) for m in bpe["merges"]])
    tok.add_special_tokens({"additional_special_tokens": WHISPER_SPECIALS[1:]})
    ids = {t: tok.convert_tokens_to_ids(t) for t in WHISPER_SPECIALS}
    processor = WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tok
    )
    config = WhisperConfig(
        vocab_size=len(tok) + 1501,  # 1501 timestamp tokens <|0.00|> ... <|30.00|>
        num_mel_bins=80,
        d_model=64,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=448,
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        begin_suppress_tokens=None,
        suppress_tokens=[],
    )
    model = WhisperForConditionalGeneration(config)
    generation = model.generation_config
    generation.no_timestamps_token_id = ids["<|notimestamps|>"]
    generation.is_multilingual = False
    generation.decoder_start_token_id = ids["<|startoftranscript|>"]
    generation.max_initial_timestamp_index = 50
    generation.max_length = 448
    generation._from_model_config = False  # keep these fields when loaded
    return _save(model, processor, directory)


def build_sentence_transformer(directory: Path) -> Path:
    """A 2-layer BERT with mean pooling, saved in the sentence-transformers layout."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    raw = Tokenizer(WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw.train_from_iterator(
        CORPUS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials)
    )
    tok = BertTokenizerFast(
        tokenizer_object=raw,
        **{
            k: v
            for k, v in zip(
                ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"],
                specials,
                strict=True,
            )
        },
    )
    bert_dir = directory / "bert"
    BertModel(
        BertConfig(
            vocab_size=len(tok),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
        )
    ).save_pretrained(bert_dir)
    tok.save_pretrained(bert_dir)
    word = models.Transformer(str(bert_dir))
    pooling = models.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling]).save(str(directory / "st"))
    return directory / "st"


DUAL_TOWER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}


def build_siglip(directory: Path, vision: dict[str, int] | None = None) -> Path:
    """A SigLIP with its processor: tiny (32x32 images, patches of 8), or ``vision`` as given."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    tok = tiny_tokenizer(
        ["<pad>", "</s>", "<unk>"], pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    vision = vision or {**DUAL_TOWER, "image_size": 32, "patch_size": 8}
    config = SiglipConfig(
        text_config={
            **DUAL_TOWER,
            "vocab_size": len(tok),
            "max_position_embeddings": 64,
            "pad_token_id": tok.pad_token_id,
        },
        vision_config=vision,
    )
    SiglipModel(config).save_pretrained(directory)
    side = int(vision.get("image_size", 224))
    image = SiglipImageProcessor(size={"height": side, "width": side})
    SiglipProcessor(image_processor=image, tokenizer=tok).save_pretrained(directory)
    return directory


def build_clip(directory: Path) -> Path:
    """A tiny CLIP (projection to 16 dimensions) with its processor."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tok = tiny_tokenizer(["<pad>", "<|endoftext|>", "<|startoftext|>"], pad_token="<pad>",
                         eos_token="<|endoftext|>", bos_token="<|startoftext|>")  # fmt: skip
    config = CLIPConfig(
        text_config={
            **DUAL_TOWER,
            "vocab_size": len(tok),
            "max_position_embeddings": 64,
            "pad_token_id": tok.pad_token_id,
            "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id,
        },
        vision_config={**DUAL_TOWER, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(directory)
    image = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image, tokenizer=tok).save_pretrained(directory)
    return directory
