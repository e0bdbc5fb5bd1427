"""The OpenAI-compatible backend against a local fake server: success, retries, timeout, bad replies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from longvid.media.frames import Frame
from longvid.models.base import CaptionRequest, TimedText
from longvid.models.openai_compat import OpenAICaptioner, OpenAIChat, ServerError
from longvid.models.specs import SpecError, parse_spec
from longvid.timeline import hms
from tests.fake_openai import FakeServer, completion, serve


def request(start: float, frames: int = 2) -> CaptionRequest:
    images = [
        Frame(start + i, np.full((24, 32, 3), (40 * i) % 256, np.uint8)) for i in range(frames)
    ]
    return CaptionRequest(
        start=start,
        end=start + frames,
        frames=images,
        transcript=[TimedText(start + 0.5, start + 1.2, "the ferry leaves at seven")],
    )


def test_captions_come_back_in_order_with_frames_and_times() -> None:
    server = FakeServer(delay=0.05)
    with serve(server) as url:
        captioner = OpenAICaptioner(parse_spec(f"openai:vl@{url}"), concurrency=4)
        captions = captioner.caption([request(float(10 * i)) for i in range(8)])
    assert [c.split("Video segment ")[1][:12] for c in captions] == [
        f"[{hms(10 * i, 1)}]" for i in range(8)
    ]
    assert server.max_in_flight > 1  # several requests in flight
    [parts] = [
        r["messages"][0]["content"]
        for r in server.requests
        if r["messages"][0]["content"][0]["text"].startswith("Video segment [00:00:00.0]")
    ]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 2 and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    texts = [p["text"] for p in parts if p["type"] == "text"]
    # Frames and speech interleaved by time: frame 0.0, speech 0.5, frame 1.0.
    assert [t for t in texts if t.startswith(("Frame", "[00"))] == [
        "Frame at [00:00:00.0]:",
        "[00:00:00.5] speech: the ferry leaves at seven",
        "Frame at [00:00:01.0]:",
    ]


def test_retries_on_server_error_then_succeeds() -> None:
    server = FakeServer(script=[lambda _: (500, {"error": {"message": "busy"}})] * 2)
    with serve(server) as url:
        chat = OpenAIChat(parse_spec(f"openai:llm@{url}"), retries=3)
        assert chat.chat([{"role": "user", "content": "hi"}]).startswith("caption for: hi")
    assert len(server.requests) == 3


def test_gives_up_with_a_clear_error_after_retries() -> None:
    server = FakeServer(script=[lambda _: (503, {"error": {"message": "overloaded"}})] * 5)
    with serve(server) as url, pytest.raises(ServerError, match="HTTP 503") as caught:
        OpenAIChat(parse_spec(f"openai:llm@{url}"), retries=1).chat(
            [{"role": "user", "content": "x"}]
        )
    assert len(server.requests) == 2
    assert "\n" not in str(caught.value)


def test_timeout_is_reported() -> None:
    server = FakeServer(delay=1.0)
    with serve(server) as url, pytest.raises(ServerError, match="timed out"):
        OpenAIChat(parse_spec(f"openai:llm@{url}"), timeout=0.2, retries=0).chat(
            [{"role": "user", "content": "x"}]
        )


@pytest.mark.parametrize(
    "payload",
    [b"this is not json", {"choices": []}, {"unexpected": True}],
    ids=["not-json", "no-choices", "wrong-shape"],
)
def test_malformed_reply_is_a_clear_error(payload: object) -> None:
    server = FakeServer(script=[lambda _: (200, payload)])
    with serve(server) as url, pytest.raises(ServerError, match=r"malformed|no text"):
        OpenAIChat(parse_spec(f"openai:llm@{url}"), retries=0).chat(
            [{"role": "user", "content": "x"}]
        )


def test_unreachable_server() -> None:
    with pytest.raises(ServerError, match="cannot reach"):
        OpenAIChat(parse_spec("openai:llm@http://127.0.0.1:9/v1"), retries=0).chat(
            [{"role": "user", "content": "x"}]
        )


def test_json_schema_is_sent_as_response_format() -> None:
    server = FakeServer(script=[lambda _: (200, completion('{"answer": "B"}'))])
    schema = {"type": "object", "properties": {"answer": {"enum": ["A", "B"]}}}
    with serve(server) as url:
        reply = OpenAIChat(parse_spec(f"openai:llm@{url}")).chat(
            [{"role": "user", "content": "pick"}], json_schema=schema
        )
    assert reply == '{"answer": "B"}'
    assert server.requests[0]["response_format"]["json_schema"]["schema"] == schema


def refuses(kinds: set[str]):  # type: ignore[no-untyped-def]
    """A server that answers 500 to these response_format types (as llama.cpp's does to json_schema)."""

    def reply(body: dict) -> tuple[int, object]:  # type: ignore[type-arg]
        kind = (body.get("response_format") or {}).get("type", "none")
        if kind in kinds:
            return 500, {"error": {"message": f"{kind} is not supported"}}
        return 200, completion(
            'Here: {"answer": "B"} done' if kind == "none" else '{"answer": "B"}'
        )

    return reply


@pytest.mark.parametrize(
    ("refused", "mode"),
    [({"json_schema"}, "json_object"), ({"json_schema", "json_object"}, "prompt")],
)
def test_a_server_that_refuses_json_schema_is_detected_once(refused: set[str], mode: str) -> None:
    schema = {"type": "object", "properties": {"answer": {"enum": ["A", "B"]}}}
    server = FakeServer(script=[refuses(refused)] * 20)
    with serve(server) as url:
        chat = OpenAIChat(parse_spec(f"openai:llm@{url}"), retries=3)
        replies = [chat.chat([{"role": "user", "content": "pick"}], schema) for _ in range(3)]
    assert replies == ['{"answer": "B"}'] * 3  # prompt-only replies are cut to their JSON
    assert chat.json_mode == mode
    kinds = [(r.get("response_format") or {}).get("type", "none") for r in server.requests]
    fallback = {"json_object": "json_object", "prompt": "none"}[mode]
    assert kinds == [*sorted(refused, key=["json_schema", "json_object"].index), *[fallback] * 3]
    if mode == "json_object":  # llama.cpp's server builds its grammar from this schema
        assert server.requests[-1]["response_format"]["schema"] == schema
    assert json.dumps(schema) in server.requests[-1]["messages"][0]["content"]


def test_a_real_failure_is_not_taken_for_a_refusal() -> None:
    server = FakeServer(script=[lambda _: (404, {"error": {"message": "no such model"}})] * 5)
    with serve(server) as url, pytest.raises(ServerError, match="HTTP 404"):
        OpenAIChat(parse_spec(f"openai:llm@{url}"), retries=0).chat(
            [{"role": "user", "content": "x"}], {"type": "object"}
        )
    assert len(server.requests) == 1


def one_image_only(body: dict) -> tuple[int, object]:  # type: ignore[type-arg]
    parts = body["messages"][-1]["content"]
    if sum(p.get("type") == "image_url" for p in parts) > 1:
        return 400, {"error": {"message": "At most 1 image(s) may be provided in one request."}}
    return 200, completion("a harbour scene")


def image_size(part: dict) -> tuple[int, int]:  # type: ignore[type-arg]
    import base64
    import io

    from PIL import Image

    data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    return Image.open(io.BytesIO(data)).size


def test_a_one_image_server_gets_labelled_mosaics() -> None:
    server = FakeServer(script=[one_image_only] * 20)
    with serve(server) as url:
        captioner = OpenAICaptioner(parse_spec(f"openai:vl@{url}"), concurrency=1)
        assert (
            captioner.caption([request(0.0, frames=4), request(10.0, frames=4)])
            == ["a harbour scene"] * 2
        )
    assert captioner.max_images == 1  # learnt from the first refusal, once
    assert len(server.requests) == 3
    for body in server.requests[1:]:
        parts = body["messages"][0]["content"]
        [image] = [p for p in parts if p["type"] == "image_url"]
        assert image_size(image) == (1344, 1008)  # 2 x 2 tiles of 672 x 504 (frames are 32 x 24)
        [label] = [
            p["text"] for p in parts if p["type"] == "text" and p["text"].startswith("Frames at")
        ]
        assert label.count("[00:00:") == 4  # four tiles, each with its time


def test_too_many_frames_for_one_legible_mosaic_go_in_several_requests() -> None:
    from longvid.models.mosaic import tiles_per_mosaic

    assert tiles_per_mosaic(16, 1) == 16 and tiles_per_mosaic(49, 1) == 36
    server = FakeServer(script=[one_image_only] * 20)
    with serve(server) as url:
        captioner = OpenAICaptioner(parse_spec(f"openai:vl@{url}"), max_frames=49, max_images=1)
        [caption] = captioner.caption([request(0.0, frames=49)])
    assert len(server.requests) == 2  # 36 tiles, then 13
    assert caption.splitlines() == [
        "[00:00:00–00:00:35] a harbour scene",
        "[00:00:36–00:00:48] a harbour scene",
    ]


def test_index_completes_through_a_one_image_server(
    cuts_video,
    tiny_model,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from longvid.memory.library import memories
    from longvid.memory.store import VideoMemory
    from longvid.models.registry import load
    from longvid.pipeline.index import IndexModels, index_video

    server = FakeServer(script=[one_image_only] * 50)
    with serve(server) as url:
        captioner = OpenAICaptioner(parse_spec(f"openai:vl@{url}"), max_frames=4, concurrency=1)
        models = IndexModels(embedder=load("embedder", str(tiny_model("sentence_transformer"))),
                             captioner=captioner)  # fmt: skip
        result = index_video(cuts_video, models, tmp_path)
    assert result.status == "indexed" and result.chunks >= 2
    [summary] = memories(tmp_path)
    chunks = VideoMemory(Path(summary.folder)).chunks()
    assert all(c.caption == "a harbour scene" for c in chunks)
    assert sum(r.get("messages") is not None for r in server.requests) == len(chunks) + 1


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("At most 1 image(s) may be provided in one request.", 1),
        ("this model only supports one image", 1),
        ("maximum of 4 images per request", 4),
        ("model not found", None),
    ],
)
def test_image_limits_are_read_from_refusals(message: str, limit: int | None) -> None:
    from longvid.models.openai_compat import image_limit

    assert image_limit(ServerError(f"x answered HTTP 400: {message}", status=400)) == limit


def test_a_pool_spreads_requests_and_cools_a_failing_endpoint_down() -> None:
    """Two servers; the second is down (503) for its first requests, then healthy again."""
    from longvid.models.endpoints import EndpointPool

    healthy = FakeServer(delay=0.05)
    flaky = FakeServer(
        script=[lambda _: (503, {"error": {"message": "overloaded"}})] * 3, delay=0.05
    )
    with serve(healthy) as first, serve(flaky) as second:
        spec = parse_spec(f"openai:vl@{first},{second}")
        assert spec.base_url == f"{first},{second}"
        captioner = OpenAICaptioner(spec, concurrency=4)
        captioner.pool.endpoints[1].cool_until = 0.0
        captions = captioner.caption([request(float(10 * i)) for i in range(12)])
        assert len(captions) == 12 and all(
            c.startswith("caption for: Video segment") for c in captions
        )
        stats = {s["url"]: s for s in captioner.pool.stats()}
        assert stats[second]["failed"] >= 1  # it failed, was cooled down, and others took over
        assert stats[first]["requests"] + stats[second]["requests"] == 12
        assert stats[first]["requests_per_s"] > 0
        for endpoint in captioner.pool.endpoints:  # the cool-down is over: both serve again
            endpoint.cool_until = 0.0
        before = len(flaky.requests)
        captioner.caption([request(float(10 * i)) for i in range(8)])
        assert len(flaky.requests) - before >= 2  # least outstanding spreads over both
    assert isinstance(captioner.pool, EndpointPool)


def test_a_pool_in_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from longvid.models.registry import LoadOptions, resolve

    config = tmp_path / "config.toml"
    config.write_text('captioner = ["openai:vl@http://a:8000/v1", "openai:vl@http://b:8000/v1/"]\n')
    monkeypatch.setenv("LONGVID_CONFIG", str(config))
    assert resolve("captioner", None, LoadOptions()) == (
        "openai:vl@http://a:8000/v1,http://b:8000/v1",
        True,
    )
    config.write_text(
        'captioner = ["openai:vl@http://a:8000/v1", "openai:other@http://b:8000/v1"]\n'
    )
    from longvid.config import _file_values

    _file_values.cache_clear()
    with pytest.raises(SpecError, match="one model"):
        resolve("captioner", None, LoadOptions())
