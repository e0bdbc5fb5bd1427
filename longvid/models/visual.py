"""Image–text dual encoders (SigLIP, SigLIP 2, CLIP) through transformers' Auto classes.

Frames and texts land in one space, so a query's words find frames that no caption described,
and a question can pick the frames worth a closer look. Vectors are L2-normalised float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longvid.models.base import ModelInfo, VisualEmbedder
from longvid.models.hf_common import load_or_explain, pick_device, pick_dtype
from longvid.models.specs import ModelSpec


class HFVisualEmbedder(VisualEmbedder):
    """A transformers dual encoder: ``get_image_features`` and ``get_text_features``."""

    def __init__(
        self, spec: ModelSpec, device: str | None = None, batch_size: int = 32,
        trust_remote_code: bool = False,
    ) -> None:  # fmt: skip
        from transformers import AutoModel, AutoProcessor

        self.device = pick_device(device)
        common: dict[str, Any] = {"trust_remote_code": trust_remote_code}
        self.processor: Any = load_or_explain(
            "visual embedder", spec.name, lambda: AutoProcessor.from_pretrained(spec.name, **common)
        )
        self.model: Any = load_or_explain(
            "visual embedder",
            spec.name,
            lambda: AutoModel.from_pretrained(spec.name, dtype=pick_dtype(self.device), **common),
        )
        if not hasattr(self.model, "get_image_features"):
            from longvid.models.hf_common import ModelUnavailableError

            raise ModelUnavailableError(
                f"{spec.name} is not an image–text dual encoder ({type(self.model).__name__})",
                "use a SigLIP, SigLIP 2 or CLIP checkpoint",
            )
        self.model.to(self.device).eval()
        self.batch_size = batch_size
        config = self.model.config
        self.text_length = int(getattr(getattr(config, "text_config", config), "max_position_embeddings", 64))
        self.dimension = int(self.embed_texts(["x"]).shape[1])
        self.info = ModelInfo(str(spec), "transformers", {"device": self.device, "dimension": self.dimension})

    def embed_images(self, images: Sequence[Any]) -> Any:
        import numpy as np

        out = [
            self._features("image", self.processor(images=list(images[i : i + self.batch_size]), return_tensors="pt"))
            for i in range(0, len(images), self.batch_size)
        ]
        return np.vstack(out) if out else np.zeros((0, self.dimension), np.float32)

    def embed_texts(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        # SigLIP was trained on texts padded to its full length; CLIP does not mind.
        inputs = self.processor(text=list(texts), padding="max_length", truncation=True,
                                max_length=min(self.text_length, 64), return_tensors="pt")  # fmt: skip
        return self._features("text", inputs)

    def _features(self, kind: str, inputs: Any) -> Any:
        import numpy as np
        import torch

        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        with torch.inference_mode():
            method = self.model.get_image_features if kind == "image" else self.model.get_text_features
            output = method(**inputs)
        vectors = getattr(output, "pooler_output", output).float().cpu().numpy()
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return (vectors / norms).astype(np.float32)
