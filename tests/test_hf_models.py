"""Real transformers / sentence-transformers backends on tiny random models of the real families.

The models are random, so their text is noise: these tests check what the backends promise —
one caption per chunk, in order; timestamps in the prompt; budgets; shapes and timing of output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from longvid.media.frames import Frame
from longvid.models.base import CaptionRequest, TimedText
from longvid.models.registry import LoadOptions, load
from longvid.models.structured import chat_json, first_json_object, parse_reply, with_schema

VIDEO_FAMILIES = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "smolvlm", "llava_onevision"]


def chunk(start: float, frames: int = 4, size: tuple[int, int] = (90, 160)) -> CaptionRequest:
    rng = np.random.default_rng(int(start))
    images = [
        Frame(start + 0.5 * i, rng.integers(0, 255, (*size, 3), dtype=np.uint8))
        for i in range(frames)
    ]
    return CaptionRequest(
        start=start,
        end=start + 0.5 * frames,
        frames=images,
        transcript=[TimedText(start + 0.2, start + 1.0, "the ferry leaves at seven")],
        screen_text=[TimedText(start, start + 0.5, "HARBOUR")],
    )


@pytest.fixture(scope="module", params=VIDEO_FAMILIES)
def captioner(request: pytest.FixtureRequest, tiny_model: Callable[[str], Path]):  # type: ignore[no-untyped-def]
    model = load("captioner", str(tiny_model(request.param)), LoadOptions(frame_cap=6))
    model.max_new_tokens = 4
    return model


def test_one_caption_per_chunk(captioner) -> None:  # type: ignore[no-untyped-def]
    requests = [chunk(10.0, 4), chunk(20.0, 2), chunk(30.0, 4), chunk(40.0, 3, (72, 128))]
    captions = captioner.caption(requests)
    assert len(captions) == 4
    assert all(isinstance(c, str) for c in captions)


def test_prompt_carries_timestamps_and_text(captioner) -> None:  # type: ignore[no-untyped-def]
    inputs = captioner._inputs([chunk(3725.0, 3)])
    prompt = captioner.processor.batch_decode(inputs["input_ids"])[0]
    for stamp in ("[01:02:05.0]", "[01:02:05.5]", "[01:02:06.0]"):  # frame times
        assert stamp in prompt
    assert "the ferry leaves at seven" in prompt
    assert "HARBOUR" in prompt


def test_frame_budget_comes_from_the_model_and_the_cap(captioner) -> None:  # type: ignore[no-untyped-def]
    assert captioner.tokens_per_frame > 0
    assert captioner.max_frames == 6  # the tiny models' 4k context allows more; the cap wins
    assert captioner.info.details["max_frames"] == 6
    # More frames than the budget are thinned, evenly, before they reach the model.
    seen: list[int] = []
    original = captioner._inputs
    captioner._inputs = lambda batch: (seen.extend(len(r.frames) for r in batch), original(batch))[
        1
    ]
    try:
        captioner.caption([chunk(0.0, 10)])
    finally:
        captioner._inputs = original
    assert seen == [6]


def test_budget_shrinks_with_a_small_context(
    tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    import shutil

    small = tmp_path / "small-context"
    shutil.copytree(tiny_model("qwen2_vl"), small)
    config = json.loads((small / "config.json").read_text())
    config["text_config"]["max_position_embeddings"] = 1024 + 100
    (small / "config.json").write_text(json.dumps(config))
    model = load("captioner", str(small), LoadOptions(frame_cap=64))
    assert model.max_frames == 100 // model.tokens_per_frame


def test_captions_keep_request_order_across_shape_groups(captioner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(captioner, "_generate", lambda batch: [f"at {r.start:g}" for r in batch])
    captioner.batch_size = 2
    requests = [chunk(0.0, 4), chunk(1.0, 2), chunk(2.0, 4), chunk(3.0, 2), chunk(4.0, 4)]
    assert captioner.caption(requests) == ["at 0", "at 1", "at 2", "at 3", "at 4"]


def test_video_llm_doubles_as_chat_model(tiny_model: Callable[[str], Path]) -> None:
    from longvid.models.registry import load_chat

    captioner = load("captioner", str(tiny_model("qwen2_vl")))
    chat = load_chat("captioner", captioner)
    assert chat is not None and chat.model is captioner.model  # one copy in memory
    chat.max_new_tokens = 4
    assert isinstance(chat.chat([{"role": "user", "content": "hello"}]), str)


def test_causal_lm_chat(tiny_model: Callable[[str], Path]) -> None:
    chat = load("llm", str(tiny_model("causal_lm")))
    chat.max_new_tokens = 6
    reply = chat.chat(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    )
    assert isinstance(reply, str)


CHOICE_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"enum": ["ferry", "bread"]}, "sure": {"type": "boolean"}},
    "required": ["answer", "sure"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("family", ["causal_lm", "qwen2_vl"])
def test_random_weights_still_reply_schema_valid_json(
    tiny_model: Callable[[str], Path], family: str
) -> None:
    """Gibberish weights, yet xgrammar's constraint makes every reply parse and validate."""
    from longvid.models.registry import load_chat

    if family == "causal_lm":
        chat = load("llm", str(tiny_model(family)))
    else:
        chat = load_chat("captioner", load("captioner", str(tiny_model(family))))
    chat.max_new_tokens = 40
    for question in ("What leaves at seven?", "What is sold at the market?"):
        text = chat.chat([{"role": "user", "content": question}], CHOICE_SCHEMA)
        assert parse_reply(text, CHOICE_SCHEMA)["answer"] in ("ferry", "bread"), text


def test_invalid_json_is_retried_once_then_a_clear_error() -> None:
    from longvid.models.structured import StructuredOutputError
    from tests.fakes import ScriptedChat

    fixed = ScriptedChat(['{"answer": "boat", "sure": true}', '{"answer": "ferry", "sure": true}'])
    assert chat_json(fixed, [{"role": "user", "content": "q"}], CHOICE_SCHEMA)["answer"] == "ferry"
    assert "answer: 'boat' is not one of" in fixed.calls[1][-1]["content"]
    hopeless = ScriptedChat(["I think it is the ferry."])
    with pytest.raises(StructuredOutputError, match="does not match the schema") as caught:
        chat_json(hopeless, [{"role": "user", "content": "q"}], CHOICE_SCHEMA)
    assert len(hopeless.calls) == 2 and "\n" not in str(caught.value)


def test_json_replies_from_local_models() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    messages = with_schema([{"role": "user", "content": "q"}], schema)
    assert messages[0]["role"] == "system" and json.dumps(schema) in messages[0]["content"]
    assert first_json_object('Sure! {"answer": "B", "why": {"t": 1}} hope that helps') == (
        '{"answer": "B", "why": {"t": 1}}'
    )
    assert first_json_object("no json {here") == "no json {here"


def test_whisper_transformers_segments_are_timed_within_the_audio(
    tiny_model: Callable[[str], Path],
) -> None:
    transcriber = load("asr", str(tiny_model("whisper")))
    transcriber.pipe.model.generation_config.max_new_tokens = 12
    audio = np.random.default_rng(0).normal(0, 0.1, 16_000 * 40).astype(np.float32)  # long-form
    segments = transcriber.transcribe(audio)
    assert all(0 <= s.start <= s.end <= 40.0 for s in segments)
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert transcriber.transcribe(np.zeros(0, np.float32)) == []


def test_sentence_embeddings_are_unit_vectors(tiny_model: Callable[[str], Path]) -> None:
    embedder = load("embedder", str(tiny_model("sentence_transformer")))
    vectors = embedder.embed(["the ferry leaves", "the ferry leaves", "bread at the market"])
    assert vectors.shape == (3, embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(1.0, abs=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimension)


def test_onnx_query_copy_matches_the_sentence_transformer(
    tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    """Queries embed through an ONNX copy (no torch import) with the same vectors."""
    from longvid.models.onnx_embed import OnnxQueryEmbedder, export_folder
    from longvid.models.registry import keep_query_copy, load_query_embedder

    spec = str(tiny_model("sentence_transformer"))
    full = load("embedder", spec)
    keep_query_copy(full, tmp_path)
    fast = load_query_embedder(spec, tmp_path)
    assert isinstance(fast, OnnxQueryEmbedder) and fast.info.spec == full.info.spec
    texts = [
        "When does the ferry leave?",
        "bread",
        "a longer sentence about the market square " * 3,
    ]
    assert np.abs(fast.embed(texts) - full.embed(texts)).max() < 1e-4
    assert fast.embed([]).shape == (0, full.dimension)
    (export_folder(tmp_path, spec) / "model.onnx").write_bytes(b"damaged")
    again = load_query_embedder(spec, tmp_path)  # a damaged copy is dropped and made again
    assert not isinstance(again, OnnxQueryEmbedder)
    assert isinstance(load_query_embedder(spec, tmp_path), OnnxQueryEmbedder)


def test_smolvlm_v1_is_refused_with_the_model_to_use_instead(tmp_path: Path) -> None:
    from longvid.models.hf_common import ModelUnavailableError

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "idefics3"}))
    with pytest.raises(ModelUnavailableError, match="SmolVLM v1 / Idefics3") as caught:
        load("captioner", str(tmp_path))
    assert (
        "SmolVLM2-500M-Video-Instruct" in caught.value.fix
        and "openai:MODEL@URL" in caught.value.fix
    )


def test_indexing_uses_the_onnx_copy_once_there_is_one(
    tiny_model: Callable[[str], Path], tmp_path: Path, cuts_video: Path
) -> None:
    from longvid_cli.app import app
    from typer.testing import CliRunner

    from longvid.models.embed import SentenceEmbedder
    from longvid.models.onnx_embed import OnnxQueryEmbedder
    from longvid.models.registry import load_embedder

    spec = str(tiny_model("sentence_transformer"))
    assert isinstance(load_embedder(spec, LoadOptions()), SentenceEmbedder)
    args = ["index", str(cuts_video), "--captioner", "none", "--asr", "none", "--ocr", "none",
            "--visual-embedder", "none", "--embedder", spec, "--store", str(tmp_path / "a")]  # fmt: skip
    assert CliRunner().invoke(app, args).exit_code == 0  # exports the copy, once per user
    fast = load_embedder(spec, LoadOptions())
    assert isinstance(fast, OnnxQueryEmbedder) and fast.info.spec == str(Path(spec).resolve())
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "up to date" in again.stdout  # the same memory: same settings
    assert not (tmp_path / "a" / "models").exists()  # not per store: a fresh store starts fast
