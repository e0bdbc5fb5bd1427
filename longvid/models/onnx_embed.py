"""Query-time sentence embeddings without torch: the same model exported once to ONNX.

Embedding one query with sentence-transformers costs seconds of imports (torch, transformers,
scikit-learn) before any arithmetic. So the first time a sentence-transformers embedder is
loaded in full (at index time), it is exported to ONNX with its tokenizer into a cache folder;
``search`` and ``ask`` then embed queries with onnxruntime and tokenizers (about 0.1 s of
imports). Vectors agree with the original to ~1e-6 (tested). Only the common layout is exported
(a transformer, then mean or CLS pooling, optionally normalised); anything else keeps the full path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from longvid.errors import LongvidError
from longvid.models.base import Embedder, ModelInfo

log = logging.getLogger("longvid")
_FORMAT = 1  # bump when the exported layout changes


def export_folder(cache: Path, spec: str) -> Path:
    """Where the ONNX copy of the embedder ``spec`` lives under a cache folder."""
    key = hashlib.sha1(f"{_FORMAT}:{spec}".encode()).hexdigest()[:16]
    return cache / "onnx-embedders" / key


def export_onnx(model: Any, spec: str, dimension: int, target: Path) -> bool:
    """Export a loaded SentenceTransformer to ``target`` (atomically). False if unsupported."""
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
        import torch
    except ImportError:
        return False
    modules = [type(m).__name__ for m in model]
    if modules[:2] != ["Transformer", "Pooling"] or modules[2:] not in ([], ["Normalize"]):
        return False
    transformer, mode = model[0], _pooling_mode(model[1])
    if mode not in ("mean", "cls"):
        return False
    if not getattr(transformer.tokenizer, "is_fast", False):
        return False

    class Hidden(torch.nn.Module):
        def __init__(self, network: Any) -> None:
            super().__init__()
            self.network = network

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.network(input_ids=ids, attention_mask=mask).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".export-"))
    try:
        sample = transformer.tokenizer(["a sample", "x"], padding=True, return_tensors="pt")
        network = transformer.auto_model.to("cpu").eval()
        axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                "hidden": {0: "batch", 1: "tokens"}}  # fmt: skip
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes; the test checks vectors
            torch.onnx.export(Hidden(network), (sample["input_ids"], sample["attention_mask"]),
                              str(work / "model.onnx"), input_names=["input_ids", "attention_mask"],
                              output_names=["hidden"], dynamic_axes=axes, dynamo=False,
                              opset_version=17)  # fmt: skip
        transformer.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
        meta = {"spec": spec, "dimension": dimension, "pooling": mode,
                "max_tokens": int(transformer.max_seq_length)}  # fmt: skip
        (work / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if target.exists():  # another process exported it meanwhile
            shutil.rmtree(work)
        else:
            os.replace(work, target)
    except Exception as exc:  # an export that fails only costs the fast path
        shutil.rmtree(work, ignore_errors=True)
        log.debug("ONNX export of %s failed: %s", spec, exc)
        return False
    return True


def _pooling_mode(pooling: Any) -> str | None:
    """mean, cls, or another mode (sentence-transformers 6 names it; older versions set flags)."""
    if isinstance(getattr(pooling, "pooling_mode", None), str):
        return str(pooling.pooling_mode)
    if getattr(pooling, "pooling_mode_cls_token", False):
        return "cls"
    return "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None


class OnnxQueryEmbedder(Embedder):
    """An exported sentence-transformers model run by onnxruntime (no torch).

    Its session is built in a thread from construction on (the model's load, a few tenths of a
    second), so an index decodes its first frames meanwhile; ``embed`` waits for it.
    """

    def __init__(self, folder: Path) -> None:
        # Imported here, not in the session's thread: two threads importing numpy (onnxruntime
        # imports it) at once can each get it half-initialized ("cannot import name
        # '__cpu_features__' from partially initialized module"), as the demo's `ask` once did.
        import onnxruntime  # noqa: F401
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        model = folder / "model.onnx"
        with model.open("rb") as file:
            if file.read(1) != b"\x08":  # an ONNX model opens with its IR version field
                raise ValueError(f"{model} is not an ONNX model")
        self.folder = folder
        self._session = _InThread(lambda: _session(model))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(meta["max_tokens"])
        self.tokenizer.enable_padding()
        self.pooling = meta["pooling"]
        self.dimension = int(meta["dimension"])
        self.info = ModelInfo(meta["spec"], "onnxruntime", {"dimension": self.dimension})

    @property
    def session(self) -> Any:
        """The onnxruntime session (waits for it). A copy that will not load is removed."""
        try:
            return self._session.result()
        except Exception as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise LongvidError(
                f"the ONNX copy of the embedder {self.info.spec} is damaged ({exc}); it was removed",
                "run the command again: the copy is made again from the model",
            ) from None

    def embed(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self.pooling == "cls":
            vectors = hidden[:, 0]
        else:
            vectors = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.asarray(vectors / norms, dtype=np.float32)  # unit rows, as every Embedder


def _session(model: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # Its threads sleep between calls instead of spinning: an index embeds a batch now and then
    # while decoding needs the cores (spinning cost 0.05 CPU s a call on 2 cores, and no speed).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class _InThread:
    """A value made in its own (non-daemon: native code is not cut off at exit) thread."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(make,), name="longvid-onnx")
        self._thread.start()

    def _run(self, make: Callable[[], Any]) -> None:
        try:
            self._value = make()
        except BaseException as exc:  # handed to whoever asks for the value
            self._error = exc

    def result(self) -> Any:
        """The value, once made; its error, re-raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
