"""The embedder's ONNX copy: built in a thread while the caller goes on, damage named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from longvid.errors import LongvidError


@pytest.fixture(scope="module")
def exported(tiny_model: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from longvid.models.registry import keep_query_copy, load

    cache = tmp_path_factory.mktemp("user-cache")
    keep_query_copy(load("embedder", str(tiny_model("sentence_transformer"))), cache)
    (folder,) = (cache / "onnx-embedders").iterdir()
    return folder


def test_the_session_loads_in_a_thread_and_embeds_the_same(exported: Path) -> None:
    from longvid.models.onnx_embed import OnnxQueryEmbedder

    embedder = OnnxQueryEmbedder(exported)
    first = embedder.embed(["When does the ferry leave?", "bread"])
    assert first.shape == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    again = OnnxQueryEmbedder(exported).embed(["When does the ferry leave?"])
    assert np.abs(again[0] - first[0]).max() < 1e-6


def test_a_copy_damaged_past_its_first_byte_is_named_and_removed(
    exported: Path, tmp_path: Path
) -> None:
    import shutil

    from longvid.models.onnx_embed import OnnxQueryEmbedder

    folder = tmp_path / "copy"
    shutil.copytree(exported, folder)
    model = folder / "model.onnx"
    model.write_bytes(model.read_bytes()[:200])  # truncated: opens like a model, does not load
    embedder = OnnxQueryEmbedder(folder)  # returns at once; the load fails in its thread
    with pytest.raises(LongvidError, match=r"ONNX copy of the embedder .* is damaged") as caught:
        embedder.embed(["bread"])
    assert "run the command again" in caught.value.fix
    assert not folder.exists()  # the registry makes a new copy from the model next time
