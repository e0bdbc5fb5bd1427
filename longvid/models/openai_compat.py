"""Any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp server) as captioner or chat model.

The official ``openai`` client does the HTTP work: timeouts, retries with exponential backoff on
429 / 5xx / connection errors (honouring Retry-After). Captioning keeps several requests in flight.
JSON replies use the strongest ``response_format`` the server accepts (``json_schema``, then
``json_object`` with the schema, as llama.cpp's server takes it, then the schema in the prompt
only), found on the first structured request and remembered for the run. The agent's steps go
as native ``tools`` (``call_tool``) until the server refuses them (HTTP 400/415/422/500/501, or a
reply with no tool call); from then on, for the run, ``call_tool`` says so at once (None) and the
agent uses the constrained action union through ``response_format`` instead.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from longvid.models.base import Captioner, CaptionRequest, ChatModel, Message, ModelInfo
from longvid.models.endpoints import Endpoint, EndpointPool
from longvid.models.mosaic import mosaic, tiles_per_mosaic
from longvid.models.prompts import CAPTION_INSTRUCTION, interleaved, span_line, stamp
from longvid.models.server import ServerError, client, complete, short
from longvid.models.specs import ModelSpec
from longvid.models.structured import first_json_object, with_schema
from longvid.timeline import hms

# Ways to ask a server for JSON, strongest first.
JSON_MODES = ("json_schema", "json_object", "prompt")
# Statuses with which servers refuse a response_format they do not support (llama-cpp-python's
# server answers 500 to json_schema).
_REFUSALS = {400, 415, 422, 500, 501}


def _pool(spec: ModelSpec, timeout: float, retries: int) -> EndpointPool:
    """The endpoints of ``spec``; with several, each retries once and the pool fails over."""
    per_endpoint = retries if "," not in spec.base_url else min(retries, 1)
    return EndpointPool(spec, lambda single: client(single, timeout, per_endpoint))


def jpeg_data_url(image: Any, quality: int = 85) -> str:
    """An RGB array as a ``data:image/jpeg;base64,...`` URL."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def served_parameters(client: Any, model: str) -> int | None:
    """The model's parameter count where the server says it: llama.cpp's server lists it as
    ``meta.n_params`` in ``/models``. None when it does not, or the listing cannot be read
    (the first chat call then says what is wrong)."""
    try:
        listing = client.with_options(max_retries=0, timeout=5.0).models.list()
        models = list(listing.data)
    except Exception:  # any server, any failure: the size is only a hint
        return None
    for entry in models:
        meta = (getattr(entry, "model_extra", None) or {}).get("meta") or {}
        if (entry.id == model or len(models) == 1) and isinstance(meta.get("n_params"), int):
            return int(meta["n_params"])
    return None


class OpenAIChat(ChatModel):
    """Chat through an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, spec: ModelSpec, timeout: float = 120.0, retries: int = 3) -> None:
        self.spec = spec
        self.pool = _pool(spec, timeout, retries)
        self.json_mode = JSON_MODES[0]
        self.json_mode_known = False  # becomes True once the server accepts a mode
        self.native_tools: bool | None = None  # None: not tried yet; False: refused, for the run
        size = served_parameters(self.pool.endpoints[0].client, spec.name)
        self.info = ModelInfo(str(spec), "openai", {"parameters": size} if size else {})

    def call_tool(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """One tool call as ``{"tool": name, **arguments}`` through the server's native ``tools``;
        None when the server refuses them (then for the rest of the run, without asking again).

        One tool is asked for by name (``tool_choice``); several with ``auto``, since servers
        differ on ``required`` (llama-cpp-python fails on it): the agent's answer is a tool too,
        so a reply without a tool call means the server or its chat template does not do tools.
        """
        if self.native_tools is False:
            return None
        names = [t["function"]["name"] for t in tools]
        choice: Any = ({"type": "function", "function": {"name": names[0]}} if len(names) == 1
                       else "auto")  # fmt: skip
        known = bool(self.native_tools)
        plain = [dict(m) for m in messages]

        def send(endpoint: Endpoint) -> Any:
            client = endpoint.client if known else endpoint.client.with_options(max_retries=0)
            return tool_reply(client, endpoint.spec, plain, tools=list(tools), tool_choice=choice,
                              temperature=0.0)  # fmt: skip

        try:
            message = self.pool.call(send)
        except ServerError as exc:
            if known or exc.status not in _REFUSALS:
                raise
            self.native_tools = False
            return None
        action = _tool_action(message, names)
        self.native_tools = action is not None
        return action

    def chat(self, messages: Sequence[Message], json_schema: dict[str, Any] | None = None) -> str:
        if json_schema is None:
            plain = [dict(m) for m in messages]
            return self.pool.call(lambda e: complete(e.client, e.spec, plain, temperature=0.0))
        while True:
            mode = self.json_mode
            # Until a mode is known to work, a refusal must not wait through retries.
            try:
                text = self._json_call(mode, messages, json_schema)
            except ServerError as exc:
                if self.json_mode_known or exc.status not in _REFUSALS or mode == JSON_MODES[-1]:
                    raise
                self.json_mode = JSON_MODES[JSON_MODES.index(mode) + 1]
                continue
            self.json_mode_known = True
            return first_json_object(text) if mode == "prompt" else text

    def _json_call(self, mode: str, messages: Sequence[Message], schema: dict[str, Any]) -> str:
        request, extra = _json_request(mode, messages, schema)
        known = self.json_mode_known  # until a mode works, a refusal must not wait through retries

        def send(endpoint: Endpoint) -> str:
            client = endpoint.client if known else endpoint.client.with_options(max_retries=0)
            return complete(client, endpoint.spec, request, **extra)

        return self.pool.call(send)


def tool_reply(client: Any, spec: ModelSpec, messages: list[dict[str, Any]], **extra: Any) -> Any:
    """One completion's message (tool calls and all); failures as ``complete`` reports them."""
    import openai

    where = f"{spec.base_url} (model {spec.name})"
    try:
        reply = client.chat.completions.create(model=spec.name, messages=messages, **extra)
        return reply.choices[0].message
    except openai.APIStatusError as exc:
        raise ServerError(f"{where} answered HTTP {exc.status_code}: {short(exc.message)}",
                          "check the model name and the server log", status=exc.status_code) from None  # fmt: skip
    except (openai.APITimeoutError, openai.APIConnectionError):
        raise ServerError(f"cannot reach {where} (or it timed out)", "start the server or fix the URL",
                          unavailable=True) from None  # fmt: skip
    except (openai.APIResponseValidationError, ValueError, AttributeError, IndexError, TypeError):
        raise ServerError(f"{where} sent a malformed reply", "check that it speaks the OpenAI API") from None


def _tool_action(message: Any, names: list[str]) -> dict[str, Any] | None:
    """The first tool call of a reply as an action, or None when it holds none that parses."""
    for call in getattr(message, "tool_calls", None) or []:
        function = getattr(call, "function", None)
        if function is None or function.name not in names:
            continue
        try:
            arguments = json.loads(function.arguments or "{}", strict=False)
        except json.JSONDecodeError:
            return None
        return {"tool": function.name, **arguments} if isinstance(arguments, dict) else None
    return None


def _json_request(
    mode: str, messages: Sequence[Message], schema: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages and extra arguments that ask for a JSON reply in one of JSON_MODES."""
    extra: dict[str, Any] = {"temperature": 0.0}
    if mode == "json_schema":
        extra["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": schema, "strict": True},
        }
        return [dict(m) for m in messages], extra
    if mode == "json_object":
        extra["response_format"] = {"type": "json_object", "schema": schema}
    return with_schema(messages, schema), extra


class OpenAICaptioner(Captioner):
    """Captions chunks on a server: frames go as base64 JPEG ``image_url`` parts with their times.

    A server that takes fewer images per request (``max_images``, given or learnt from its
    first refusal) gets the frames tiled into mosaics, each tile stamped with its time; when
    tiles would get too small to read, the chunk goes in several requests instead.
    """

    def __init__(
        self,
        spec: ModelSpec,
        max_frames: int = 16,
        timeout: float = 600.0,
        retries: int = 3,
        concurrency: int = 4,
        max_tokens: int = 400,
        max_images: int | None = None,
    ) -> None:
        self.spec = spec
        self.pool = _pool(spec, timeout, retries)
        self.max_frames = max_frames
        self.max_images = max_images
        self.concurrency = self.batch_size = max(1, concurrency)
        self.max_tokens = max_tokens
        self.info = ModelInfo(str(spec), "openai", {"max_frames": max_frames})

    def caption(self, requests: Sequence[CaptionRequest]) -> list[str]:
        if len(requests) <= 1 or self.concurrency == 1:
            return [self._caption_one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._caption_one, requests))

    def _caption_one(self, request: CaptionRequest) -> str:
        request = request.with_at_most(self.max_frames)
        while True:
            try:
                return self._send(request)
            except ServerError as exc:
                limit = image_limit(exc)
                sent = min(len(request.frames), self.max_images or len(request.frames))
                if limit is None or limit >= sent or exc.status not in _REFUSALS:
                    raise
                self.max_images = limit  # learnt once; later requests are shaped to it

    def _send(self, request: CaptionRequest) -> str:
        frames = list(request.frames)
        if self.max_images is None or len(frames) <= self.max_images:
            return self._ask(self.content_parts(request))
        per = tiles_per_mosaic(len(frames), self.max_images)
        groups = [frames[i : i + per] for i in range(0, len(frames), per)]
        if len(groups) <= self.max_images:
            return self._ask(self.content_parts(request, per))
        batches = [groups[i : i + self.max_images] for i in range(0, len(groups), self.max_images)]
        captions = []
        for batch in batches:  # too many frames for one request: consecutive parts
            part = [f for group in batch for f in group]
            piece = replace(request, start=part[0].time, end=batch[-1][-1].time, frames=part)
            captions.append(
                f"[{hms(piece.start)}–{hms(piece.end)}] {self._ask(self.content_parts(piece, per))}"
            )
        return "\n".join(captions)

    def _ask(self, parts: list[dict[str, Any]]) -> str:
        messages = [{"role": "user", "content": parts}]
        return self.pool.call(lambda e: complete(e.client, e.spec, messages, temperature=0.0,
                                                  max_tokens=self.max_tokens))  # fmt: skip

    def content_parts(self, request: CaptionRequest, per_image: int = 1) -> list[dict[str, Any]]:
        """The user message: span, then images and speech interleaved by time, then the task.

        With ``per_image`` > 1, frames go as mosaics of that many tiles.
        """
        parts: list[dict[str, Any]] = [{"type": "text", "text": span_line(request)}]
        frames = list(request.frames)
        groups = [frames[i : i + per_image] for i in range(0, len(frames), per_image)]
        leaders = {group[0].time: group for group in groups}
        for kind, item in interleaved(replace(request, frames=[g[0] for g in groups])):
            if kind != "frame":
                parts.append({"type": "text", "text": str(item)})
                continue
            group = leaders[item.time]  # type: ignore[attr-defined]
            if len(group) == 1:
                label, image = f"Frame at {stamp(group[0].time)}:", group[0].image
            else:
                times = ", ".join(stamp(f.time) for f in group)
                label = (
                    f"Frames at {times} (tiles left to right, top to bottom; each shows its time):"
                )
                image = mosaic(group)
            parts.append({"type": "text", "text": label})
            parts.append({"type": "image_url", "image_url": {"url": jpeg_data_url(image)}})
        parts.append({"type": "text", "text": request.instruction or CAPTION_INSTRUCTION})
        return parts


_LIMIT = re.compile(
    r"(?:at most|maximum(?: of)?|up to|only(?: supports?| accepts?| allows?)?|limit(?: of)?(?: is)?)"
    r"\s+(\d+|one|a single)\s+images?",
    re.IGNORECASE,
)


def image_limit(exc: ServerError) -> int | None:
    """The images-per-request limit a server's refusal states, if it is one."""
    text = exc.what.lower()
    if "image" not in text:
        return None
    match = _LIMIT.search(text)
    if match:
        return int(match.group(1)) if match.group(1).isdigit() else 1
    if any(word in text for word in ("too many image", "more than one image", "multiple images")):
        return 1
    return None
