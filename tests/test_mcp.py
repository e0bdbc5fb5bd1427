"""``longvid mcp`` driven by the official MCP SDK's client over stdio, as an assistant would."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.fake_openai import FakeServer, completion, serve
from tests.test_speakers import dialogue_video, dialogues, diarizer, voices_dir  # noqa: F401

pytest.importorskip("mcp", reason="pip install 'longvid[mcp]'")


def answer_reply(body: dict[str, Any]) -> tuple[int, Any]:
    system = body["messages"][0]["content"]
    if "summar" in system:
        return 200, completion("A harbour day [00:00:12].")
    return 200, completion(
        json.dumps({"answer": "At 07:15 [00:00:13].", "enough": True, "found": True})
    )


async def session_run(args: list[str], env: dict[str, str], work: Callable[[Any], Any]) -> Any:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "longvid", "mcp", *args], env=env
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def text_of(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


def test_an_assistant_indexes_asks_and_looks(
    facts_video: Path, tiny_model: Callable[[str], Path], tmp_path: Path
) -> None:
    allowed = tmp_path / "videos"
    allowed.mkdir()
    video = allowed / "harbour.mkv"
    shutil.copy(facts_video, video)
    outside = tmp_path / "elsewhere.mkv"
    shutil.copy(facts_video, outside)
    env = {**os.environ, "LONGVID_HOME": str(tmp_path / "store"), "HF_HUB_OFFLINE": "1"}
    progress: list[float] = []
    server = FakeServer(script=[answer_reply] * 20)

    async def work(session: Any) -> dict[str, Any]:
        names = sorted(t.name for t in (await session.list_tools()).tools)

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        indexed = await session.call_tool(
            "index_video", {"video": "harbour.mkv"}, progress_callback=on_progress
        )
        asked = await session.call_tool(
            "ask", {"video": str(video), "question": "When does the ferry leave?"}
        )
        chose = await session.call_tool(
            "ask", {"video": "harbour.mkv", "question": "When does the ferry leave?", "options": ["08:40", "07:15"]}
        )
        found = await session.call_tool(
            "search", {"query": "Okafor engine", "video": "harbour.mkv"}
        )
        listed = await session.call_tool("list_videos", {})
        frames = await session.call_tool(
            "get_frames", {"video": "harbour.mkv", "times": [1.0, 25.5]}
        )
        refused = await session.call_tool("video_info", {"video": str(outside)})
        missing = await session.call_tool("ask", {"video": "nope.mp4", "question": "?"})
        return {"names": names, "indexed": indexed, "asked": asked, "chose": chose, "found": found, "listed": listed,
                "frames": frames, "refused": refused, "missing": missing}  # fmt: skip

    with serve(server) as url:
        args = ["--root", str(allowed), "--embedder", str(tiny_model("sentence_transformer")),
                "--captioner", "none", "--asr", "none", "--ocr", "none", "--llm", f"openai:llm@{url}"]  # fmt: skip
        got = anyio.run(session_run, args, env, work)

    assert got["names"] == [
        "ask",
        "get_frames",
        "index_video",
        "list_videos",
        "search",
        "speakers",
        "summarize",
        "video_info",
    ]
    assert not got["indexed"].is_error, text_of(got["indexed"])
    assert json.loads(text_of(got["indexed"]))["status"] == "indexed" and progress
    answer = json.loads(text_of(got["asked"]))
    assert answer["answer"] == "At 07:15 [00:00:12–00:00:15]." and answer["found"] is True
    chose = json.loads(text_of(got["chose"]))  # options through MCP: the same engine, lettered
    assert chose["choice"] == "B" and chose["question"] == "When does the ferry leave?"
    assert any("(A) 08:40\n(B) 07:15" in str(m["content"]) for r in server.requests for m in r["messages"])
    assert json.loads(got["found"].content[0].text)["start"] <= 25.0  # one text part per moment
    assert "harbour.mkv" in text_of(got["listed"])
    images = [part for part in got["frames"].content if part.type == "image"]
    assert [i.mime_type for i in images] == ["image/jpeg", "image/jpeg"]
    from PIL import Image

    assert Image.open(io.BytesIO(base64.b64decode(images[0].data))).format == "JPEG"
    assert got["refused"].is_error and "outside the allowed roots" in text_of(got["refused"])
    assert got["missing"].is_error and "no such file" in text_of(got["missing"])


def test_speakers_through_mcp(
    dialogue_video: Path,  # noqa: F811
    diarizer: Any,  # noqa: F811
    tiny_model: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """The speakers tool lists and names voices; search narrows to one; index and ask say who."""
    allowed = tmp_path / "videos"
    allowed.mkdir()
    for suffix in (".mp4", ".srt"):
        shutil.copy(dialogue_video.with_suffix(suffix), allowed / f"meeting{suffix}")
    env = {**os.environ, "LONGVID_HOME": str(tmp_path / "store"), "HF_HUB_OFFLINE": "1"}
    server = FakeServer(script=[lambda body: (200, completion(json.dumps(
        {"answer": "S2 did [00:00:06].", "enough": True, "found": True})))] * 5)  # fmt: skip

    async def work(session: Any) -> dict[str, Any]:
        out = {"indexed": await session.call_tool("index_video", {"video": "meeting.mp4"})}
        out["named"] = await session.call_tool(
            "speakers", {"video": "meeting.mp4", "names": {"S2": "Dr. Ortiz"}}
        )
        out["found"] = await session.call_tool(
            "search", {"query": "architects drawings", "video": "meeting.mp4", "speaker": "Dr. Ortiz"}
        )
        out["asked"] = await session.call_tool(
            "ask", {"video": "meeting.mp4", "question": "Who mentioned the architects?"}
        )
        return out

    with serve(server) as url:
        args = ["--root", str(allowed), "--embedder", str(tiny_model("sentence_transformer")),
                "--captioner", "none", "--asr", "none", "--ocr", "none", "--llm", f"openai:llm@{url}"]  # fmt: skip
        got = anyio.run(session_run, args, env, work)
    for result in got.values():
        assert not result.is_error, text_of(result)
    indexed = json.loads(text_of(got["indexed"]))
    assert sorted(s["id"] for s in indexed["speakers"]) == ["S1", "S2", "S3"]
    named = {s["id"]: s["name"] for s in json.loads(text_of(got["named"]))["speakers"]}
    assert named == {"S1": None, "S2": "Dr. Ortiz", "S3": None}
    found = [json.loads(part.text) for part in got["found"].content]
    assert found and all("Dr. Ortiz" in m["speakers"] for m in found)
    asked = json.loads(text_of(got["asked"]))
    assert asked["speakers"] and asked["speakers"][0]["speakers"][0] == "Dr. Ortiz"
    assert any(e["text"].startswith("Dr. Ortiz: ") for e in asked["evidence"])
