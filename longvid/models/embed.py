"""Sentence embeddings with sentence-transformers (all-MiniLM-L6-v2 by default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longvid.models.base import Embedder, ModelInfo
from longvid.models.hf_common import load_or_explain, pick_device
from longvid.models.specs import ModelSpec


class SentenceEmbedder(Embedder):
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(self, spec: ModelSpec, device: str | None = None, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.device = pick_device(device)
        self.model: Any = load_or_explain(
            "embedder", spec.name, lambda: SentenceTransformer(spec.name, device=self.device)
        )
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.info = ModelInfo(str(spec), "sentence-transformers", {"dimension": self.dimension})

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
