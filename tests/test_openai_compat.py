"""The OpenAI-compatible backend against a local fake server: success, retries, timeout, bad replies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from longvid.media.frames import Frame
from longvid.models.base import CaptionRequest, TimedText
from longvid.models.openai_compat import OpenAICaptioner, OpenAIChat, ServerError
from longvid.models.specs import parse_spec
from longvid.timeline import hms
from tests.fake_openai import FakeServer, completion, serve


def request(start: float, frames: int = 2) -> CaptionRequest:
    images = [Frame(start + i, np.full((24, 32, 3), 40 * i, np.uint8)) for i in range(frames)]
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
