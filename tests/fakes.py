"""Fake models for orchestration tests only (never shipped, never a default)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from longvid.models.base import Captioner, CaptionRequest, ChatModel, Message, ModelInfo


class ScriptedChat(ChatModel):
    """Replies from a script (a list consumed in order, or a function of the messages)."""

    def __init__(self, script: list[Any] | Callable[[Sequence[Message]], str]) -> None:
        self.script = script
        self.calls: list[list[Message]] = []
        self.schemas: list[dict[str, Any] | None] = []
        self.info = ModelInfo("scripted-chat", "test")

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        self.calls.append(list(messages))
        self.schemas.append(json_schema)
        if callable(self.script):
            return self.script(messages)
        reply = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return reply if isinstance(reply, str) else json.dumps(reply)


class RecordingCaptioner(Captioner):
    """Describes each request by its span and frame count, and records it."""

    def __init__(self, max_frames: int = 8) -> None:
        self.max_frames = max_frames
        self.requests: list[CaptionRequest] = []
        self.info = ModelInfo("recording-captioner", "test")

    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        self.requests += requests
        return [
            f"closer look {r.start:.0f}-{r.end:.0f} s with {len(r.frames)} frames" for r in requests
        ]
