"""A FAISS index file beside a memory's SQLite database: derived data, rebuilt when damaged.

Written atomically (a temporary file renamed into place) through Python I/O, so a full disk is
reported as such; exact (flat) when small, HNSW when large; on the GPU when faiss-gpu sees one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from longvid.memory.failures import store_failures

log = logging.getLogger("longvid")
# Below this many vectors an exact (flat) index is best; above it, HNSW.
_FLAT_LIMIT = 20_000


class VectorFile:
    """One FAISS index file, read once and searched many times."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.path = folder / name
        self._index: Any = None

    def write(self, rows: Sequence[tuple[int, bytes]]) -> int:
        """Replace the file with the (id, float32 vector bytes) rows; returns how many."""
        import faiss
        import numpy as np

        self._index = None
        if not rows:
            self.path.unlink(missing_ok=True)
            return 0
        ids = np.asarray([i for i, _ in rows], dtype=np.int64)
        matrix = np.vstack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows])
        index = faiss.IndexIDMap2(_make_index(matrix.shape[1], len(ids)))
        index.add_with_ids(matrix, ids)
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with store_failures(self.folder):
            temporary.write_bytes(faiss.serialize_index(index).tobytes())
            os.replace(temporary, self.path)
        return len(ids)

    def search(
        self, vector: Any, limit: int, rebuild: Callable[[], int]
    ) -> list[tuple[int, float]]:
        """Nearest ids to a unit vector with cosine scores, best first.

        ``rebuild`` rewrites the file from the truth (SQLite) when it is missing or damaged.
        """
        if self._index is None:
            if not self.path.exists() and rebuild() == 0:
                return []
            self._index = _on_gpu_if_available(self._read(rebuild))
        if self._index is None or self._index.ntotal == 0:
            return []
        scores, ids = self._index.search(
            vector.reshape(1, -1).astype("float32"), min(limit, self._index.ntotal)
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _read(self, rebuild: Callable[[], int]) -> Any:
        import faiss

        try:
            return faiss.read_index(str(self.path))
        except RuntimeError as exc:  # derived data: rebuild it from the stored vectors
            log.warning("the vector index %s was damaged (%s); rebuilt it from the memory",
                        self.path, " ".join(str(exc).split())[-80:])  # fmt: skip
            if rebuild() == 0:
                return None
            return faiss.read_index(str(self.path))


def _on_gpu_if_available(index: Any) -> Any:
    """The index on the first GPU when faiss-gpu and a CUDA device are present (longvid[gpu])."""
    import faiss

    if index is None or not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return index
    return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)


def _make_index(dimension: int, count: int) -> Any:
    """Inner product on unit vectors (cosine): exact when small, HNSW when large."""
    import faiss

    if count <= _FLAT_LIMIT:
        return faiss.IndexFlatIP(dimension)
    return faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
